"""The outline stage of the embedded backend: a concrete, executable conversation plan.

The plan fixes what the user knows and says (argument values, which required values they
forget and are asked for), which arguments must come from earlier tool results, and how the
steps are split across user requests. The conversation stage executes it.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel

from funcdex_assets.backends.base import Persona
from funcdex_assets.catalog.actions import (action_verb, changes_nothing, deletion_kind, destructive_kind, name_action,
                                             reads_many, restores, state_set_by)
from funcdex_assets.catalog.relations import alternatives, companions, without_alternatives
from funcdex_assets.catalog.fields import LIMIT_KEYS, Slot, classify, entity_of_object, id_entity, snake
from funcdex_assets.dml.parallel import MAX_PARALLEL_CALLS
from funcdex_assets.catalog.models import Tool
from funcdex_assets.offline.language import humanize, mention, request_phrase
from funcdex_assets.offline.speech import named_constants, speakable
from funcdex_assets.offline import lists
from funcdex_assets.offline.values import PERSON_ENTITIES, ValueFactory, described_examples, described_format, matched_person, server_set
from funcdex_assets.offline.world import retired_slot
from funcdex_assets.quality.detectors.state import state_of
from funcdex_assets.sampling.graph import build_node

# Optional inputs a person would not mention: paging, field masks, output switches.
_PLUMBING = ("token", "cursor", "fields", "verbose", "pretty", "alt", "offset", "page", "start_at",
             "include", "expand", "format", "starting_after", "ending_before", "since_id",
             "user_id", "supports", "quota", "callback", "upload_type", "media",
             # Google discovery specs' transport knobs on every operation (`$.xgafv`, `upload_protocol`).
             "xgafv", "upload_protocol")
MAX_DISTRACTORS = 3
MAX_OFFERED_TOOLS = 20


# Tool failures a plan can inject (the first attempt of a step fails, then the conversation
# recovers): the kinds real APIs return. What each response looks like is the world's business.
FAILURE_KINDS = ("not_found", "permission_denied", "validation_error", "rate_limit", "conflict")
# A conversation holds at most one injected failure, in this share of conversations.
FAILURE_RATE = 0.3
# Independent steps of one request run as one parallel call this often; a create step the user
# asks for twice ("add two tasks: ...") this often.
PARALLEL_RATE = 0.7
COPY_RATE = 0.2
# A grounded step on a list the same request asks for runs once per listed item ("... and star
# each of them") this often.
EACH_RATE = 0.3
# Destructive steps: the user only states the goal ("I won't need X anymore") this often, where
# they can name the entity; the assistant asks before an explicit delete / pay / refund this often,
# and the user declines (when nothing depends on the step) this often of those asks.
IMPLICIT_RATE = 0.5
CONFIRM_RATE = 0.35
DECLINE_RATE = 0.2
# Share of conversations with one request no offered tool can serve (answered without a call).
OUT_OF_SCOPE_RATE = 0.15
MAX_PARALLEL = MAX_PARALLEL_CALLS
MAX_STEPS_PER_REQUEST = 3


class PlannedStep(BaseModel):
    tool: str
    user_args: dict[str, Any]  # values the user knows: stated up front or when asked
    clarify: list[str]  # user_args the user leaves out until the assistant asks
    defaults: dict[str, Any]  # documented defaults used as-is ('primary', 'me')
    grounded: dict[str, str]  # argument -> key of an earlier response value (ids)
    reuse: dict[str, str]  # value arguments taken from an earlier response when present
    # More calls of the same tool in the same parallel call, each with its own stated values.
    copies: list[dict[str, Any]] = []
    # One call per item the producing list returned (at most MAX_PARALLEL), as one parallel call.
    each: bool = False
    # The first attempt fails with this kind (FAILURE_KINDS); `first_try` holds the argument
    # values of that attempt where the user's first word was wrong (a mistyped id, a title
    # already taken, a date in the past); the retry uses `user_args`.
    failure: str | None = None
    first_try: dict[str, Any] = {}
    # Before the call the assistant asks for a go-ahead ("ask": the user agrees; "decline": the
    # user says no and the step is not run). `implicit`: the user stated the goal, not the action.
    confirm: str = "none"
    implicit: bool = False
    # Grounded argument -> the step whose response it comes from (an id inside a list of
    # objects as "items[].price").
    sources: dict[str, int] = {}
    # Ids inside a list of objects taken from an earlier response, as `grounded` is for top-level
    # ones: argument -> item field -> key (CREATE_SUBSCRIPTION's items[].price: the price the
    # conversation created). The planned items leave those fields out.
    nested: dict[str, dict[str, str]] = {}
    # Optional arguments the assistant sets itself: a page size for a list, the user's time
    # zone, a documented default spelled out. Nobody states them.
    assistant_args: dict[str, Any] = {}


class PlannedRequest(BaseModel):
    """One user message and what answers it: groups of step indices (a group of several is one
    parallel call), or a request no offered tool can serve."""

    groups: list[list[int]] = []
    out_of_scope: str | None = None

    @property
    def steps(self) -> list[int]:
        return [i for group in self.groups for i in group]


class ConversationPlan(BaseModel):
    today: str
    clarity: str
    requests: list[PlannedRequest]
    steps: list[PlannedStep]
    closing: bool
    thoughts: bool

    @property
    def segments(self) -> list[list[int]]:
        """Step indices per request that has steps."""
        return [r.steps for r in self.requests if r.groups]


_PAGE_SIZES = (10, 20, 25, 50)
_TIME_ZONE_KEYS = ("time_zone", "timezone", "tz")


def _assistant_choice(slot: Slot, tool: Tool, persona: Persona, rng: random.Random) -> Any:
    """A value the assistant would set on its own for an optional argument, or None."""
    s = snake(slot.name)
    schema = slot.schema
    stype = schema.get("type")
    # A page size on anything that reads many (FIND_FILE is a "get" by name, a search by nature).
    if s in LIMIT_KEYS and stype in ("integer", "number") and name_action(tool.original_name) in ("list", "get"):
        # Most callers bound a listing rather than take the API's page size.
        if rng.random() < 0.2:
            return None
        low, high = schema.get("minimum", 1), schema.get("maximum", 10**6)
        sizes = [n for n in _PAGE_SIZES if low <= n <= high]
        return rng.choice(sizes) if sizes else None
    if s in _TIME_ZONE_KEYS and stype == "string" and not schema.get("enum") and persona.timezone:
        return persona.timezone
    # (Not on a listing: there an enum narrows what comes back, a filter nobody asked for.)
    if schema.get("enum") and "default" in schema and schema["default"] in schema["enum"] \
            and not reads_many(tool.original_name) and rng.random() < SPELLED_DEFAULT_RATE:
        return schema["default"]
    # A documented default switch said out loud (`is_html: false` on a plain-text mail): what
    # the API would do anyway, so never a wrong call, and how careful callers write them.
    if stype == "boolean" and isinstance(schema.get("default"), bool) and rng.random() < SPELLED_DEFAULT_RATE:
        return schema["default"]
    return None


# Documented defaults that stand for the user or their main resource (Gmail's user_id "me",
# Calendar's calendarId "primary"): assistants often pass them explicitly.
_SELF_DEFAULTS = frozenset({"me", "primary", "self"})
# How often the assistant spells out such a default, or a boolean's documented default.
SPELLED_DEFAULT_RATE = 0.5
# How often an optional id is taken from an earlier result that holds one.
GROUNDED_OPTIONAL_RATE = 0.8
# How often the assistant passes a self default ("me", "primary") explicitly, as the tools'
# own examples do.
SELF_DEFAULT_RATE = 0.8
# How often a speakable optional value the user could give is part of their request, by how
# clearly the persona states what they want.
OPTIONAL_RATE = {"excellent": 0.85, "good": 0.75, "average": 0.55}
# Optional fields most real requests leave out, by a word of the field's name, as a factor on
# OPTIONAL_RATE: without it four mails in five went out with a blind copy and every WhatsApp
# template had a footer, which teaches a model that people ask for those by habit.
SELDOM_SET = {"bcc": 0.15, "cc": 0.45, "footer": 0.35, "header": 0.5}
# Optional fields that are the point of what they belong to (a draft's body, a message's text,
# an email's subject), by the field's whole name: nearly always said, whoever the speaker.
USUALLY_SET = frozenset({"body", "message_body", "content", "text", "subject", "title", "summary"})
USUALLY_SET_RATE = 0.95


def _optional_rate(slot: Slot, clarity: str, tool: Tool) -> float:
    name = snake(slot.name)
    if name in USUALLY_SET:
        return USUALLY_SET_RATE
    if action_verb(tool.original_name) in ("share", "invite") and (
            "email" in name.split("_") or (slot.schema.get("format") or described_format(slot.schema)) == "email"):
        return USUALLY_SET_RATE  # whom a calendar is shared with is the request, not a detail
    return OPTIONAL_RATE.get(clarity, 0.6) * min((SELDOM_SET.get(w, 1.0) for w in name.split("_")), default=1.0)




def _give_it_a_change(tool: Tool, inputs: list[Slot], user_args: dict[str, Any], set_by_assistant: dict[str, Any],
                      carried: list[str], values: ValueFactory, holder: str | None) -> None:
    """An update / add-to call that would carry only its target's id (ADD_LABEL_TO_EMAIL with
    no label: the `empty_change` detector) gets something to change from the user: a system
    constant the field's description names (STARRED, UNREAD), else one optional value a person
    says. Changes `user_args` in place; leaves a call it cannot fill as it is."""
    props = tool.input_schema.get("properties") or {}
    required = set(tool.input_schema.get("required") or [])
    # An optional id carried from an earlier result may find nothing to carry when the call is
    # written (a label id no result showed): only a required one surely makes the change.
    planned = {**user_args, **set_by_assistant, **{k: k for k in carried if k in required}}
    if not changes_nothing(tool.original_name, planned, props):
        return
    rng = values.rng
    open_slots = [slot for slot in inputs if slot.name not in planned and slot.name not in carried and not slot.required]
    constants = [(slot, [x for x in described_examples(slot.schema) if named_constants(x)]) for slot in open_slots
                 if slot.kind == "id"]
    constants = [(slot, found) for slot, found in constants if found]
    if constants:
        slot, found = rng.choice(constants)
        value = rng.choice(found)
        user_args[slot.name] = [value] if slot.schema.get("type") == "array" else value
        return
    for slot in rng.sample(open_slots, len(open_slots)):
        if slot.kind == "id" or server_set(slot.name, slot.schema) or _is_plumbing(slot):
            continue
        value = values.value(slot.name, slot.schema, holder=holder)
        if speakable(slot.name, value, slot.schema):
            user_args[slot.name] = value
            return


# Kinds of grantee an access rule names (Calendar ACL `scope.type`, Drive permission `type`).
_PERSONAL_GRANTEES = ("user", "group")


def _grantee_type(user_args: dict[str, Any], props: dict[str, Any], rng: random.Random) -> None:
    """A share to an email address is to a user (or a group), not to a domain or the public:
    the grantee-kind field (an enum holding "user") follows the address the user gives.
    Changes `user_args` in place."""
    if not any(isinstance(v, str) and "@" in v and " " not in v for v in user_args.values()):
        return
    for name, value in list(user_args.items()):
        enum = (props.get(name) or {}).get("enum") if isinstance(props.get(name), dict) else None
        if enum and "user" in enum and snake(name).split("_")[-1] == "type" and value not in _PERSONAL_GRANTEES:
            user_args[name] = "group" if "group" in enum and rng.random() < 0.2 else "user"


def _spelled_self_default(slot: Slot, rng: random.Random) -> Any:
    default = slot.schema.get("default")
    if isinstance(default, str) and default in _SELF_DEFAULTS and rng.random() < SELF_DEFAULT_RATE:
        return default
    return None


def _is_plumbing(slot: Slot) -> bool:
    s = snake(slot.name)
    return any(p == s or p in s.split("_") or s.startswith(p) for p in _PLUMBING)


def plan_conversation(
    chain: list[Tool], persona: Persona, values: ValueFactory, today: str, thoughts: bool
) -> ConversationPlan:
    rng = values.rng
    chain = _without_needless_restores(_without_repeats(_without_uses_after_delete(chain)))
    produced_keys: set[str] = set()
    # Ids the user states because no tool returns them (see ToolGraph.context_keys); one value
    # per key for the whole conversation.
    context: dict[str, Any] = {}
    steps: list[PlannedStep] = []
    nodes = [build_node(tool) for tool in chain]
    for at, (tool, node) in enumerate(zip(chain, nodes)):
        holder = entity_of_object((), tool.original_name)
        user_args: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        grounded: dict[str, str] = {}
        reuse: dict[str, str] = {}
        assistant_args: dict[str, Any] = {}
        for slot in node.inputs:
            if slot.kind == "id" and not slot.required and snake(slot.name) in ("id", "gid", "uuid") \
                    and any(other.kind == "id" and other.required for other in node.inputs):
                # A body's own `id` beside the path's (Google's tasklists.update takes both): the
                # path says which one; a second id could name another (result_mismatch).
                continue
            if slot.kind == "id":
                # An optional id an earlier step produced is usually why that step ran (create
                # a label, then label the mail with it).
                if slot.key in produced_keys and (slot.required or rng.random() < GROUNDED_OPTIONAL_RATE):
                    grounded[slot.name] = slot.key
                elif slot.required and "default" in slot.schema:
                    defaults[slot.name] = slot.schema["default"]
                elif slot.required:
                    if slot.key not in context:
                        context[slot.key] = values.make_id(slot.schema)
                    user_args[slot.name] = context[slot.key]
                elif (own := _spelled_self_default(slot, rng)) is not None:
                    assistant_args[slot.name] = own
                # Any other optional id nothing produced is left out: the user could not know it.
                continue
            if not slot.required:
                own = _assistant_choice(slot, tool, persona, rng)
                if own is not None:
                    assistant_args[slot.name] = own
                    continue
            # What the server sets (readOnly, an etag, `updated`) is nobody's to state.
            if not slot.required and server_set(slot.name, slot.schema):
                continue
            # An optional switch is the assistant's business, not something a user says.
            if not slot.required and (_is_plumbing(slot) or slot.schema.get("type") == "boolean"
                                      or rng.random() > _optional_rate(slot, persona.clarity, tool)):
                continue
            shared = [k for k in slot.keys if k in produced_keys]
            # A new thing gets its own name and text: only addresses and times carry over into a
            # create. An update sets what changes: another item's title or dates carried into it
            # would rename or move it to someone else's (only an address carries over).
            action = name_action(tool.original_name)
            kinds = ("email", "datetime", "date") if action == "create" else ("email",) if action == "update" else (
                "email", "value", "datetime", "date")
            if shared and slot.kind in kinds and rng.random() < 0.7:
                reuse[slot.name] = shared[-1]
            # The entity the call is about decides what a `name` is (a product's is a title).
            value = values.value(slot.name, slot.schema, holder=holder)
            if not slot.required and slot.name not in reuse and not speakable(slot.name, value, slot.schema):
                continue
            if slot.required and slot.name not in reuse and (slot.schema.get("enum") or isinstance(value, bool)) \
                    and not speakable(slot.name, value, slot.schema):
                # A required API switch ("type": "user" beside the grantee's address, "spaces":
                # "drive") is the assistant's to set, not words a user says.
                assistant_args[slot.name] = value
                continue
            user_args[slot.name] = value
        props = tool.input_schema.get("properties") or {}
        required = set(tool.input_schema.get("required") or [])
        # One of each set of alternatives (due_date or due_string, not both), and what a chosen
        # field needs beside it (a duration's unit).
        user_args = without_alternatives(user_args, props, required)
        # ... and not beside one taken from a result: a price picked from the list, so no
        # custom amount ("use instead of amount").
        others = alternatives(props)
        user_args = {k: v for k, v in user_args.items()
                     if k in required or not (others.get(k, frozenset()) & set(grounded))}
        assistant_args = {k: v for k, v in without_alternatives({**user_args, **assistant_args}, props,
                                                                 required).items() if k in assistant_args}
        for name in list(user_args):
            for other in sorted(companions(props).get(name, ())):
                if other not in user_args and other not in assistant_args and isinstance(props.get(other), dict):
                    value = values.value(other, props[other], holder=holder)
                    # A switch that goes with it ("sendNotificationEmail" beside the address) is the
                    # assistant's to set: "without send notification email" is a form read out.
                    said = speakable(other, value, props[other])
                    (user_args if said else assistant_args)[other] = value
        nested = _plan_nested(user_args, node, nodes[:at], produced_keys, values)
        if name_action(tool.original_name) == "create" and not any(_names_it(k) for k in user_args):
            # Something new gets a name from the user (the world would otherwise invent one:
            # "I created the customer Cynthia Bullock" when nobody said that name).
            naming = next((slot for slot in node.inputs if slot.kind != "id" and _names_it(slot.name)
                           and slot.name not in reuse), None)
            if naming is not None:
                user_args[naming.name] = values.value(naming.name, naming.schema, holder=holder)
        _give_it_a_change(tool, node.inputs, user_args, {**defaults, **assistant_args},
                          [*grounded, *reuse, *nested], values, holder)
        # An object with nothing in it (a `start` whose optional fields all stayed out) is
        # nothing the user said; lasting() below gives a lone bound its partner.
        user_args = {k: v for k, v in user_args.items() if v != {}}
        _grantee_type(user_args, props, rng)
        if lists.is_person(holder or ""):
            matched_person(user_args)  # an invitee's name and address are one person's
            if any(snake(k) == "name" or snake(k).endswith("_name") for k in user_args):
                # ... so the address is not carried over from someone else's record.
                reuse = {k: v for k, v in reuse.items() if "email" not in snake(k)}
        order_windows(user_args)
        if name_action(tool.original_name) in ("create", "update"):
            lasting(user_args, rng, props)
        clarify = _choose_clarifications(node.inputs, user_args, reuse, persona.clarity, rng)
        steps.append(PlannedStep(tool=tool.name, user_args=user_args, clarify=clarify, defaults=defaults,
                                 grounded=grounded, reuse=reuse, assistant_args=assistant_args, nested=nested))
        produced_keys |= node.produces
    producers = _producers(nodes, steps)
    for step, deps in zip(steps, producers):
        step.sources = deps
    needed = {j for deps in producers for j in deps.values()}
    _open_sources(steps, chain, producers)
    segments = _segments(len(chain), rng)
    for i, (tool, step) in enumerate(zip(chain, steps)):
        _plan_copies(step, tool, nodes, values, producers[i], segments, i)
        _plan_confirmation(step, tool, i, i in needed, producers[i], segments, rng)
    _plan_failure(steps, chain, nodes, needed, producers, context, values)
    requests = [PlannedRequest(groups=_groups(segment, steps, nodes, producers, rng)) for segment in _split_alone(segments, steps)]
    if len(requests) > 1 and rng.random() < OUT_OF_SCOPE_RATE:
        requests.insert(rng.randint(1, len(requests) - 1), PlannedRequest(out_of_scope=rng.choice(OUT_OF_SCOPE)))
    return ConversationPlan(
        today=today,
        clarity=persona.clarity,
        requests=requests,
        steps=steps,
        closing=rng.random() < 0.6,
        thoughts=thoughts,
    )


# Requests no workplace toolkit serves: the assistant says so instead of calling something.
OUT_OF_SCOPE = (
    "book me a flight to Denver for next Tuesday",
    "order lunch for the team, something vegetarian",
    "check what the weather will be like tomorrow",
    "print the agenda so I can hand it out",
    "call the venue and ask if they have parking",
    "reserve a table for four at an Italian place tonight",
    "get me a taxi to the airport at 6",
    "turn the thermostat in the meeting room down a bit",
    "renew my passport online",
    "buy two tickets for the conference",
    "find me a hotel near the office for Thursday night",
    "pick up my dry cleaning on the way in",
    "fix the printer on the third floor",
    "get me a coffee from the place downstairs",
    "look up the score of last night's game",
    "order new business cards with my updated title",
    "check if my package has been delivered yet",
    "find out when the next train to Boston leaves",
    "water the plants in the office while I'm away",
    "make a dinner reservation for six on Friday",
)


def _plan_nested(user_args: dict[str, Any], node, earlier, produced_keys: set[str],
                 values: ValueFactory) -> dict[str, dict[str, str]]:
    """Ids inside the planned lists of objects (`items[].price`): a value drawn for them is no id
    anyone knows. Where an earlier step made or fetched one entity of that kind (CREATE_PRICE),
    the call takes it from that response: the field leaves the planned items, which shrink to
    one (one price to subscribe to). Otherwise the user states ids of the right shape. A part's
    own id (a button's `id`) is the caller's to choose and stays. Returns argument -> item
    field -> key of what is grounded; `user_args` is changed in place."""
    out: dict[str, dict[str, str]] = {}
    for slot in node.inputs:
        value = user_args.get(slot.name)
        items = slot.schema.get("items") if isinstance(slot.schema.get("items"), dict) else {}
        if slot.kind == "id" or not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            continue
        for field, sub in (items.get("properties") or {}).items():
            if not isinstance(sub, dict) or snake(field) in ("id", "key", "uuid", "gid"):
                continue
            kind, key = classify(field, sub, entity_of_object((slot.name,), node.tool.original_name))
            if kind != "id" or not any(field in item for item in value):
                continue
            producer = next((n for n in reversed(earlier) if key in n.produces), None)
            if key in produced_keys and producer is not None and name_action(producer.tool.original_name) != "list":
                out.setdefault(slot.name, {})[field] = key
                del value[1:]
                value[0].pop(field, None)
            else:
                for item in value:
                    if field in item:
                        item[field] = values.make_id(sub, key[:-3])
    return out


def _without_uses_after_delete(chain: list[Tool]) -> list[Tool]:
    """The chain less the steps that would need an entity an earlier step deleted, trashed or
    cancelled, with nothing producing a new one in between (a sampled chain can list, delete,
    then label "the" message: there is none left to label)."""
    out: list[Tool] = []
    gone: set[str] = set()
    for tool in chain:
        node = build_node(tool)
        if node.needs & gone:
            continue
        gone -= node.produces
        if destructive_kind(tool.original_name) in ("delete", "cancel"):
            # What it retires (MOVE_TO_TRASH's message; DELETE_CONTENT_RANGE retires nothing).
            slot = retired_slot(tool)
            gone |= {slot.key} if slot is not None else set()
        out.append(tool)
    return out


# Inputs that shape a call but make nothing new (a position, a count of uses).
_NOT_CONTENT = frozenset({"insert", "before", "after", "position", "index", "order", "count", "max", "limit"})


def _without_repeats(chain: list[Tool]) -> list[Tool]:
    """The chain less the steps that would do again what an earlier step of the same tool did:
    nothing it acts on was made anew or changed in between, and what it acts on comes from one
    object, not a list the writer picks items from (the `repeated_call` detector: "fetch that
    message, get the profile, then fetch that message"; finalize an invoice twice). Creates
    with content always run (each makes a new object), and so do listings with filters (each
    may ask another question)."""
    out: list[Tool] = []
    nodes: list[Any] = []
    for tool in chain:
        node = build_node(tool)
        action = name_action(tool.original_name)
        # A create with content of its own makes a new object each time; one that takes only
        # ids (send that draft), or needs two ids or more (a task to a section, a watcher to an
        # issue), does the same thing twice.
        required = [slot for slot in node.inputs if slot.required]
        content = [slot for slot in node.inputs if slot.kind != "id" and not _is_plumbing(slot)
                   and not set(snake(slot.name).split("_")) & _NOT_CONTENT]
        makes = action == "create" and bool(content) and not (
            len(required) >= 2 and all(slot.kind == "id" for slot in required))
        # A listing with filters of its own may ask another question; one without asks the same.
        filtered = (action == "list" or reads_many(tool.original_name)) and any(
            slot.kind != "id" and not slot.required and not _is_plumbing(slot) and snake(slot.name) not in LIMIT_KEYS
            for slot in node.inputs)
        if not makes and not filtered and _repeats(tool, node, out, nodes):
            continue
        out.append(tool)
        nodes.append(node)
    return out


def _open_sources(steps: list[PlannedStep], chain: list[Tool], producers: list[dict[str, int]]) -> None:
    """A listing that feeds a cancel or a close does not filter for what is cancelled or closed
    already (cancelling an event from "the scheduled events that are canceled":
    `needless_state_change`): its status filter takes an open value of its enum, or goes."""
    for i, deps in enumerate(producers):
        wanted = state_set_by(chain[i].original_name)
        if wanted not in ("done", "canceled"):
            continue
        for j in set(deps.values()):
            props = chain[j].input_schema.get("properties") or {}
            for args in (steps[j].user_args, steps[j].assistant_args):
                for key, value in list(args.items()):
                    if snake(key) not in ("status", "state") or not isinstance(value, str) \
                            or state_of({key: value}) != wanted:
                        continue
                    options = [v for v in (props.get(key) or {}).get("enum") or []
                               if isinstance(v, str) and state_of({key: v}) == "open"]
                    if options:
                        args[key] = options[0]
                    else:
                        del args[key]


def _without_needless_restores(chain: list[Tool]) -> list[Tool]:
    """The chain less the restores (reopen, untrash, reactivate) of what no earlier step closed:
    a task just made or listed as active is open already (the `needless_state_change`
    detector)."""
    out: list[Tool] = []
    closed: set[str] = set()  # keys of what an earlier step closed and nothing reopened since
    for tool in chain:
        node = build_node(tool)
        if restores(tool.original_name):
            if not node.needs & closed:
                continue
            closed -= node.needs
        elif state_set_by(tool.original_name) in ("done", "canceled") or deletion_kind(tool.original_name) == "soft":
            closed |= node.needs
        out.append(tool)
    return out


def _repeats(tool: Tool, node, out: list[Tool], nodes: list[Any]) -> bool:
    for j in range(len(out) - 1, -1, -1):
        if out[j].name != tool.name:
            continue
        between = nodes[j + 1:]
        if any(n.produces & node.needs for n in between if _brings_new(n)):
            return False  # a new one to act on
        changing = [n for n in between if name_action(n.tool.original_name) not in ("get", "list")]
        if any(n.needs & node.needs for n in changing):
            return False  # what it reads (or does) may have changed
        if not node.needs and any(name_action(n.tool.original_name) in ("create", "delete") for n in changing):
            return False  # a collection read again after something was added or removed
        for key in node.needs:
            now, then = _source(nodes, len(nodes), key), _source(nodes, j, key)
            if j in (now, _producer(nodes, len(nodes), key)):
                continue  # what the earlier call returned is what this one would act on
            if now != then or (now is not None and reads_many(out[now].original_name)):
                return False  # another source, or one item out of a listing: the writer picks another
        return True
    return False


def _brings_new(node) -> bool:
    """Whether the ids a step's result holds may name something not seen before: a create's or
    a listing's may; a read's or an update's name what the call was given, or what that holds."""
    return name_action(node.tool.original_name) not in ("get", "update")


def _source(nodes, i: int, key: str) -> int | None:
    """The latest step before `i` that brings a `key` value (`_brings_new`), or the latest that
    shows one if none does."""
    return next((j for j in range(i - 1, -1, -1) if key in nodes[j].produces and _brings_new(nodes[j])),
                _producer(nodes, i, key))


def _producers(nodes, steps: list[PlannedStep]) -> list[dict[str, int]]:
    """For each step: grounded argument -> the step whose response it is taken from (the latest
    earlier step producing its key, as the writer grounds it)."""
    out: list[dict[str, int]] = []
    for i, step in enumerate(steps):
        deps = {}
        wanted = [*step.grounded.items(),
                  *((f"{arg}[].{field}", key) for arg, fields in step.nested.items() for field, key in fields.items())]
        for arg, key in wanted:
            j = _producer(nodes, i, key)
            if j is not None:
                deps[arg] = j
        out.append(deps)
    return out


def _producer(nodes, i: int, key: str) -> int | None:
    """The latest step before `i` whose response exposes `key`, None if none does."""
    return next((j for j in range(i - 1, -1, -1) if key in nodes[j].produces), None)


def _request_of(segments: list[list[int]], i: int) -> list[int]:
    return next(seg for seg in segments if i in seg)


def _plan_copies(step: PlannedStep, tool: Tool, nodes, values: ValueFactory, deps: dict[str, int],
                 segments: list[list[int]], i: int) -> None:
    rng = values.rng
    node = nodes[i]
    action = name_action(tool.original_name)
    # Copies each state their own values: none where a value comes from a result (three
    # customers with one reused address are one customer three times: repeated_call).
    if action == "create" and not step.grounded and not step.nested and step.user_args and not step.reuse \
            and destructive_kind(tool.original_name) is None \
            and rng.random() < COPY_RATE:
        holder = entity_of_object((), tool.original_name)
        schemas = {s.name: s.schema for s in node.inputs}
        for _ in range(rng.randint(1, 2)):
            copy = {k: (v if k not in schemas or _is_id_slot(node, k) else values.value(k, schemas[k], holder=holder))
                    for k, v in step.user_args.items()}
            _plan_nested(copy, node, [], set(), values)  # ids in its lists of objects: stated
            # Drawn again, so finished again like the first: no empty objects, bounds in order,
            # an end after its start.
            copy = {k: v for k, v in copy.items() if v != {}}
            order_windows(copy)
            lasting(copy, rng, tool.input_schema.get("properties") or {})
            step.copies.append(copy)
        step.clarify = []
    elif deps and action in ("get", "update") and len(deps) == 1 \
            and name_action(nodes[max(deps.values())].tool.original_name) == "list" and rng.random() < EACH_RATE:
        producer = max(deps.values())
        # Each listed item only where the same request asked for the list (the user has not
        # seen it yet, so "each of them" is how they would say it).
        if producer in _request_of(segments, i) and destructive_kind(tool.original_name) is None:
            step.each = True


def _is_id_slot(node, name: str) -> bool:
    return any(s.name == name and s.kind == "id" for s in node.inputs)


def _plan_confirmation(step: PlannedStep, tool: Tool, i: int, needed: bool, deps: dict[str, int],
                       segments: list[list[int]], rng: random.Random) -> None:
    kind = destructive_kind(tool.original_name, step.user_args)
    if kind is None or step.each or step.copies:
        return
    request = _request_of(segments, i)
    # The goal alone ("X is off") names the entity: only when the user has seen it (its
    # producer answered an earlier request).
    seen = bool(deps) and all(j < request[0] for j in deps.values())
    # "X is obsolete" asks for X gone: only a call that retires X itself answers it (deleting a
    # range of a document does not).
    whole = retired_slot(tool) is not None
    # ... and only when the call needs no id the user would have to say (HubSpot's cardId
    # beside the app they named: "the app is obsolete" says no card).
    unsaid = not any(id_entity(k) is not None for k in step.user_args)
    if kind in ("delete", "cancel") and seen and whole and unsaid and rng.random() < IMPLICIT_RATE:
        step.implicit = True
        step.confirm = "decline" if not needed and rng.random() < DECLINE_RATE else "ask"
    elif kind in ("delete", "cancel", "pay", "refund") and rng.random() < CONFIRM_RATE:
        step.confirm = "decline" if not needed and rng.random() < DECLINE_RATE else "ask"
    if step.confirm != "none":
        step.clarify = []


def _plan_failure(steps: list[PlannedStep], chain: list[Tool], nodes, needed: set[int],
                  producers: list[dict[str, int]], context: dict[str, Any], values: ValueFactory) -> None:
    """At most one step's first attempt fails; the kinds each step can have follow what it takes."""
    rng = values.rng
    if rng.random() >= FAILURE_RATE:
        return
    options: list[tuple[int, str]] = []
    for i, (step, tool, node) in enumerate(zip(steps, chain, nodes)):
        if step.copies or step.each or step.confirm != "none":
            continue
        options.append((i, "rate_limit"))
        action = name_action(tool.original_name)
        if _stated_ids(node, step):
            options.append((i, "not_found"))
        made = entity_of_object((), tool.original_name)
        titles = [k for k, v in step.user_args.items()
                  if isinstance(v, str) and _is_title(k, made) and k not in step.reuse]
        # A name already taken: only where something named is made (a location sent or a
        # message posted is named by nobody) and its kind allows one of a name.
        if action == "create" and titles and action_verb(tool.original_name) in _NAMING_VERBS \
                and made in _UNIQUE_NAMES:
            options.append((i, "conflict"))
        dates = [k for k, v in step.user_args.items()
                 if isinstance(v, str) and _is_future_date(v, values) and k not in step.reuse]
        if action in ("create", "update") and dates:
            options.append((i, "validation_error"))
        if i not in needed and action in ("update", "delete", "create") and _refusable(i, steps, chain, nodes):
            options.append((i, "permission_denied"))
    if not options:
        return
    # The kind first, then the step: rare kinds (a date to correct) come up as often as retries.
    kind = rng.choice(sorted({k for _, k in options}))
    i = rng.choice([j for j, k in options if k == kind])
    step, node = steps[i], nodes[i]
    step.failure = kind
    step.clarify = []
    holder = entity_of_object((), chain[i].original_name)
    if kind == "not_found":
        arg = _stated_ids(node, step)[0]
        step.first_try = {arg: _mistyped(step.user_args[arg], values)}
    elif kind == "conflict":
        arg = next(k for k, v in step.user_args.items()
                   if isinstance(v, str) and _is_title(k, holder) and k not in step.reuse)
        # The name the user first gives is taken; the one they give when asked is new.
        step.first_try = {arg: step.user_args[arg]}
        schema = next((s.schema for s in node.inputs if s.name == arg), {"type": "string"})
        step.user_args[arg] = values.value(arg, schema, holder=holder)
    elif kind == "validation_error":
        arg = next(k for k, v in step.user_args.items()
                   if isinstance(v, str) and _is_future_date(v, values) and k not in step.reuse)
        step.first_try = {arg: _in_the_past(step.user_args[arg], values)}


_OWN_DEFAULTS = frozenset({"primary", "me", "self"})


def _refusable(i: int, steps: list[PlannedStep], chain: list[Tool], nodes) -> bool:
    """Whether a service may refuse the user step `i` (the `implausible_denial` detector): it
    acts on something a listing or the user's words brought (someone else's issue), not on what
    the conversation made (their new document, through any reads and updates of it), not on
    what an earlier step already did the same to (a create in that project, an update of that
    task), not on the user's own default (`primary`, `me`), and it is no create with no
    container at all (the user's own account)."""
    step = steps[i]
    action = name_action(chain[i].original_name)
    stated = [*step.user_args.values(), *step.defaults.values(), *step.assistant_args.values()]
    if any(isinstance(v, str) and v.lower() in _OWN_DEFAULTS for v in stated):
        return False
    if not step.grounded:
        return False
    origins = set()
    for key in step.grounded.values():
        j = _producer(nodes, i, key)
        # Through reads and updates of it, back to where the thing came from.
        while j is not None and name_action(chain[j].original_name) in ("get", "update") and key in steps[j].grounded.values():
            j = _producer(nodes, j, key)
        if j is None or name_action(chain[j].original_name) == "create" or not reads_many(chain[j].original_name):
            return False
        origins.add((key, j))
    for k in range(i):
        if name_action(chain[k].original_name) == action and any(
                _producer(nodes, k, key) == j for key, j in origins if key in steps[k].grounded.values()):
            return False
    return True


_NAMING_VERBS = frozenset({"create", "add", "insert", "new", "make", "upload", "copy"})
# What services refuse a second of by name (a Gmail label, a Slack channel, a WhatsApp template);
# two documents, calendars, issues or products may share a title.
_UNIQUE_NAMES = frozenset({"label", "channel", "template", "message_template", "repository", "repo", "tag", "webhook",
                           "team", "username", "slug"})
_LOW_HIGH = (("min", "max"), ("start", "end"), ("from", "to"), ("after", "before"), ("since", "until"),
             ("gte", "lte"), ("gt", "lt"))


def order_windows(args: dict[str, Any]) -> None:
    """A window's bounds in order (dueMin before dueMax, start before end): values are drawn one
    by one, and a window nothing can lie in lists nothing a later step could act on."""
    words = {k: snake(k).split("_") for k in args}
    for low_word, high_word in _LOW_HIGH:
        for low in args:
            if low_word not in words[low]:
                continue
            twin = [high_word if w == low_word else w for w in words[low]]
            high = next((k for k in args if words[k] == twin), None)
            if high is None:
                continue
            if _number(args[low]) and _number(args[high]):
                # A range of positions or amounts (start_index 10, end_index 7 deletes nothing).
                if args[low] > args[high]:
                    args[low], args[high] = args[high], args[low]
                continue
            if not isinstance(args[low], str) or not isinstance(args[high], str):
                continue
            a, b = _parse_when(args[low]), _parse_when(args[high])
            if a is not None and b is not None and a > b:
                args[low], args[high] = args[high], args[low]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_MEETING_MINUTES = (30, 30, 45, 60, 60, 90)


def lasting(args: dict[str, Any], rng: random.Random, props: dict[str, Any] | None = None) -> None:
    """The end of something being scheduled follows its start: a meeting lasts 30 to 90
    minutes, an all-day one a day (values are drawn one by one: an event from May 8 to May 18
    is nobody's meeting). Only a `start` / `end` pair (`start_time` / `end_time`), whose values
    are times or {dateTime | date} objects; a window to search (timeMin / timeMax) is not
    scheduled and is left alone. A bound set alone, where the tool (its `props`) takes the
    other, gets it: moving only the end of an event can put it before a start nobody knew."""
    from datetime import timedelta
    for low, high in (("start", "end"), ("start_time", "end_time"), ("startTime", "endTime")):
        if props and (low in args) != (high in args) and low in props and high in props:
            # The missing bound takes the given one's shape; its value is set below.
            given = args[low] if low in args else args[high]
            twin = dict(given) if isinstance(given, dict) else given
            if high in args:
                args[low] = twin
                if isinstance(twin, dict):
                    for key in ("dateTime", "date_time", "date"):
                        if isinstance(twin.get(key), str) and (when := _parse_when(twin[key])) is not None:
                            twin[key] = (when - timedelta(days=1)).strftime("%Y-%m-%d") if key == "date" else \
                                _same_format(twin[key], when - timedelta(minutes=rng.choice(_MEETING_MINUTES)))
                elif isinstance(twin, str) and (when := _parse_when(twin)) is not None and len(twin) > 10:
                    args[low] = _same_format(twin, when - timedelta(minutes=rng.choice(_MEETING_MINUTES)))
                continue
            args[high] = twin
        if low not in args or high not in args:
            continue
        start, end = args[low], args[high]
        if isinstance(start, dict) and isinstance(end, dict):
            for key in ("timeZone", "time_zone", "timezone"):
                if isinstance(start.get(key), str) and isinstance(end.get(key), str):
                    end[key] = start[key]  # one meeting, one zone: not New York to Berlin
            timed = [k for k in ("dateTime", "date_time", "date") if isinstance(start.get(k), str)]
            if timed and not any(isinstance(end.get(k), str) for k in timed):
                # An all-day start ends on a day, a timed one at a time: not {date} to {dateTime}.
                for key in ("dateTime", "date_time", "date"):
                    end.pop(key, None)
                end[timed[0]] = start[timed[0]]
            for key in ("dateTime", "date_time", "date"):
                if isinstance(start.get(key), str) and isinstance(end.get(key), str):
                    begun = _parse_when(start[key])
                    if begun is None:
                        continue
                    if key == "date":
                        end[key] = (begun + timedelta(days=1)).strftime("%Y-%m-%d")
                    else:
                        end[key] = _same_format(start[key], begun + timedelta(minutes=rng.choice(_MEETING_MINUTES)))
        elif isinstance(start, str) and isinstance(end, str):
            begun = _parse_when(start)
            if begun is not None and len(start) > 10:
                args[high] = _same_format(start, begun + timedelta(minutes=rng.choice(_MEETING_MINUTES)))


def _same_format(like: str, when) -> str:
    """`when` written as `like` is: a trailing Z, an offset, or none."""
    if like.endswith(("Z", "z")):
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = when.isoformat()
    return text if when.utcoffset() is not None and ("+" in like[10:] or "-" in like[10:]) else text[:19]


def _names_it(key: str) -> bool:
    """A field that names or addresses the thing: its title, name, subject or email."""
    last = snake(key).split("_")[-1]
    return last in ("title", "name", "summary", "subject", "email")


def _is_title(key: str, holder: str = "") -> bool:
    """A field naming a thing (a title, a label): not a person's name (`invitee_name`, a
    customer's `name`), which no service refuses as taken."""
    words = snake(key).split("_")
    if words[-1] == "name" and (lists.is_person(holder) or set(words[:-1]) & (PERSON_ENTITIES | {"first", "last",
                                                                                                   "full", "display"})):
        return False
    return words[-1] in ("title", "name", "summary", "subject", "label")


def _is_future_date(value: str, values: ValueFactory) -> bool:
    parsed = _parse_when(value)
    return parsed is not None and parsed.date() > values.today.date()


def _parse_when(value: str):
    from datetime import datetime, timezone
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        if len(value) >= 16 and value[4] == "-" and value[10] in "Tt ":
            return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return None


def _in_the_past(value: str, values: ValueFactory) -> str:
    """The same date-time with the year before "today"'s (a slip people make: "March 3" when
    they meant next March), in the same format."""
    parsed = _parse_when(value)
    year = values.today.year - 1
    return f"{year:04d}{value[4:]}" if parsed is not None else value


def _stated_ids(node, step: PlannedStep) -> list[str]:
    """The ids the user states for a step that a typo could send to nothing: one id each, not a
    system constant (STARRED) or a list."""
    return [s.name for s in node.inputs if s.kind == "id" and s.name in step.user_args
            and isinstance(step.user_args[s.name], (str, int)) and not named_constants(step.user_args[s.name])]


def _mistyped(value: Any, values: ValueFactory) -> Any:
    """A plausible wrong version of a stated id: two characters swapped or one digit off."""
    rng = values.rng
    if isinstance(value, int):
        return value + rng.choice((1, -1, 10))
    text = str(value)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if digits:
        at = rng.choice(digits)
        return text[:at] + str((int(text[at]) + rng.randint(1, 8)) % 10) + text[at + 1:]
    if len(text) >= 2:
        at = rng.randrange(len(text) - 1)
        swapped = text[:at] + text[at + 1] + text[at] + text[at + 2:]
        if swapped != text:
            return swapped
    return text + "x"


def _split_alone(segments: list[list[int]], steps: list[PlannedStep]) -> list[list[int]]:
    """A step the user only hints at (implicit) is a request of its own: the goal, then the
    assistant's question, then the answer."""
    out: list[list[int]] = []
    for seg in segments:
        current: list[int] = []
        for i in seg:
            if steps[i].implicit:
                if current:
                    out.append(current)
                out.append([i])
                current = []
            else:
                current.append(i)
        if current:
            out.append(current)
    return out


def _groups(segment: list[int], steps: list[PlannedStep], nodes, producers: list[dict[str, int]],
            rng: random.Random) -> list[list[int]]:
    """Consecutive independent steps of one request as parallel calls: a step joins the group
    before it when nothing in that group feeds it and neither asks the user anything first."""
    groups: list[list[int]] = []
    for i in segment:
        step = steps[i]
        alone = bool(step.clarify or step.failure or step.confirm != "none" or step.copies or step.each)
        if groups and not alone and len(groups[-1]) < MAX_PARALLEL and rng.random() < PARALLEL_RATE:
            group = groups[-1]
            first = steps[group[0]]
            independent = not any(j in group for j in producers[i].values()) and not any(
                key in nodes[j].produces for j in group for key in step.reuse.values())
            joinable = not (first.failure or first.confirm != "none" or first.copies or first.each) and all(
                not steps[j].clarify for j in group[1:])
            if independent and joinable and not step.clarify:
                group.append(i)
                continue
        groups.append([i])
    return groups


def _choose_clarifications(inputs, user_args, reuse, clarity: str, rng: random.Random) -> list[str]:
    askable = [s.name for s in inputs if s.required and s.name in user_args and s.name not in reuse
               and s.schema.get("type") not in ("boolean", "object", "array")]
    if not askable:
        return []
    chance = {"excellent": 0.0, "good": 0.3, "average": 0.65}.get(clarity, 0.3)
    if rng.random() >= chance:
        return []
    k = 1 if clarity != "average" or len(askable) == 1 else rng.randint(1, min(2, len(askable)))
    return sorted(rng.sample(askable, k))


def _segments(n: int, rng: random.Random) -> list[list[int]]:
    """Split steps 0..n-1 into consecutive user requests."""
    segments: list[list[int]] = [[0]] if n else []
    for i in range(1, n):
        # Three things in one message is about as much as people ask for at once.
        if rng.random() < 0.55 or len(segments[-1]) >= MAX_STEPS_PER_REQUEST:
            segments.append([i])
        else:
            segments[-1].append(i)
    return segments


def offered_tools(chain: list[Tool], bundle_tools: list[Tool], rng: random.Random) -> list[str]:
    """The chain's tools plus a few distractors from the bundle, sorted by name."""
    chosen = {t.name for t in chain}
    others = [t.name for t in bundle_tools if t.name not in chosen]
    k = min(len(others), rng.randint(1, MAX_DISTRACTORS)) if others else 0
    picked = sorted(chosen | set(rng.sample(others, k)))
    return picked[:MAX_OFFERED_TOOLS]


_FAILURE_WORDS = {
    "not_found": "fails: nothing has the id the user gave; the assistant asks, the user corrects it and the call is retried",
    "permission_denied": "fails: the user may not do that; the assistant says so and what they can do instead",
    "validation_error": "fails: the date the user gave is in the past; the assistant asks, the user corrects it and the call is retried",
    "rate_limit": "fails: rate limited; the assistant retries it",
    "conflict": "fails: the name is taken; the assistant asks for another and retries",
}


def outline_text(plan: ConversationPlan, chain: list[Tool], persona: Persona) -> str:
    """The plan as the numbered outline a person reads in the UI."""
    tools = {t.name: t for t in chain}
    lines = [f"Persona: {persona.name}, {persona.role} at {persona.company} (clarity: {plan.clarity})."]
    n = 1

    def add(text: str) -> None:
        nonlocal n
        lines.append(f"{n}. {text}")
        n += 1

    for req_no, request in enumerate(plan.requests):
        who = "The user opens the conversation" if req_no == 0 else "The user follows up"
        if request.out_of_scope:
            add(f"{who} asking to {request.out_of_scope}; no tool can, and the assistant says so.")
            continue
        asks = ", then ".join(request_phrase(tools[plan.steps[i].tool]) for i in request.steps)
        hint = " (stating only the goal)" if any(plan.steps[i].implicit for i in request.steps) else ""
        add(f"{who} asking to {asks}{hint}.")
        for group in request.groups:
            for i in group:
                step = plan.steps[i]
                if step.clarify:
                    add(f"The assistant asks for the {', '.join(humanize(c) for c in step.clarify)}; the user answers.")
                if step.confirm != "none":
                    answer = "agrees" if step.confirm == "ask" else "declines, and the call is not made"
                    add(f"The assistant asks before it {request_phrase(tools[step.tool]).split(' ', 1)[0]}s; the user {answer}.")
            calls = []
            for i in group:
                step = plan.steps[i]
                if step.confirm == "decline":
                    continue
                detail = []
                taken = [humanize(a) for a in step.grounded] + [
                    f"the {humanize(f)} of the {humanize(a)}" for a, fields in step.nested.items() for f in fields]
                if taken:
                    detail.append("taking " + ", ".join(taken) + " from earlier results")
                stated = {k: v for k, v in step.user_args.items() if k not in step.reuse}
                if stated:
                    detail.append("with " + mention(stated))
                if step.copies:
                    detail.append(f"{len(step.copies) + 1} times, each with its own values")
                if step.each:
                    detail.append("once per listed item")
                text = step.tool + (f" ({'; '.join(detail)})" if detail else "")
                if step.failure:
                    text += "; the first attempt " + _FAILURE_WORDS[step.failure]
                calls.append(text)
            if calls:
                parallel = len(calls) > 1 or any(plan.steps[i].copies or plan.steps[i].each for i in group)
                add(("The assistant calls, in parallel, " if parallel else "The assistant calls ") + " and ".join(calls) + ".")
        add("The assistant reports the results.")
    if plan.closing:
        add("The user thanks the assistant, who closes the conversation.")
    return "\n".join(lines)
