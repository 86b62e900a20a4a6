"""The offline tool executor: responses built from response schemas, consistent with the calls.

A `World` is the state of the simulated services during one conversation. Every entity a
response shows is remembered by (entity, id): a later call that names that id gets the same
object back (a created event's id is the one later fetched, with the same summary), fields named
like arguments echo them, and everything else is drawn from the schema with the conversation's
seeded rng (same seed, same bytes). Every value a response exposes is indexed in `produced`,
which is what later arguments are grounded on.

Contract (what a writer may rely on):

- `execute(tool, args, step, *, min_items=1) -> response`: the tool's response, recorded.
  - Ids: an id argument comes back in the result's object of that entity (`message_id` ->
    `data.message.id`), also on creates (`project_gid` -> `data.section.project.gid`), except the
    object a create makes: it gets a new id (a subtask made under `task_gid` X is a new task
    whose `parent` is X; a copy is a new file).
  - Lists (a list verb, a read of a plural noun, or a call taking a limit): the items are the
    entities the world holds that fit the call (what the conversation created or was shown
    earlier, most recent first), then new ones up to a drawn total: 1 (about 23%), 2-5, 6-10,
    11-20, more than a page (5%); with `min_items=0` none in 8% of listings (pass it where no
    later call needs one of the items); a window nothing can lie in (documents modified after
    next week) holds none whatever `min_items` says. Every item is in `produced` under the
    call's step, its id under `<entity>_id`. A page holds at most the call's limit (20 without one);
    next-page tokens, `has_more` and totals say what is left, and a page token / `starting_after`
    / `page` argument continues the same listing. Every item honours the call's filters
    (`status: "canceled"` lists cancelled items only), windows (`timeMin`, `modified_after`,
    `created_gte`, `min_start_time`: every item inside) and query (`q`, `query`, `jql`: items
    hold the query's words; `from:`, `status = Done` hold those values).
  - `list_matches(step) -> Listing | None`: for a listing at `step`, its items (id, label, flat
    fields), `match`: the index of the item the user means (an item the conversation already
    knew if one is listed, else one drawn), and `near_misses`: items made to look like it (the
    same words in their label) that differ in a date or a status (`Listing.distinguishing`
    gives the match's values that tell it apart). A writer states those values in the user's
    request, so the assistant has to pick by what the user said: it may execute the call before
    it writes that request (the world only sees calls, the order of turns is the writer's).
  - Deletion retires: after a successful delete / remove (permanent) of X, any later call naming
    X returns the toolkit's not-found failure; after a trash / cancel / void / archive (soft),
    reads show X in that state (`status: "canceled"`) and writes fail with a conflict. Lists
    leave retired entities out (soft ones come back when asked for: `status: "canceled"`,
    `showDeleted`).
  - A failed call changes nothing and exposes no values: `last_failure` says what went wrong.
- `failure(tool, args, kind, *, argument=None) -> response`: a failure of `kind` (not_found,
  permission_denied, validation_error, rate_limit, conflict) in the toolkit's failure shape
  (offline/failures.py), with a message naming the problem (`last_failure`: the argument at
  fault, a rate limit's `retry_after` seconds); the world does not change. The DML validator
  does not hold such a response to the output schema (dml.validator.reports_failure).
- `find(key, before_step)`: produced values under a join key, most recent first.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from funcdex_assets.catalog.actions import ALL_VERBS, about_self, deletion_kind, name_action, reads_many, state_set_by, words
from funcdex_assets.catalog.fields import (
    LIMIT_KEYS,
    NAME_NOISE,
    classify,
    entity_of_object,
    id_entity,
    input_slots,
    result_limit,
    singular,
    snake,
)
from funcdex_assets.catalog.listing import NEXT_PAGE_KEYS, TOTAL_KEYS
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline import lists
from funcdex_assets.offline.failures import Problem, failure_response, problem
from funcdex_assets.quality.detectors.state import state_of
from funcdex_assets.offline.speech import spoken_date
from funcdex_assets.offline.values import GENERIC_TIME_KEYS, HONORIFICS, PERSON_ENTITIES, ValueFactory, _schema_type, concrete, scheduled

_LIVE_STATES = ("confirmed", "active", "open", "sent", "scheduled", "pending", "created", "draft", "todo",
                "to do", "accepted", "succeeded", "published", "incomplete", "new")
LABEL_FIELDS = ("summary", "title", "subject", "name", "display_name", "number", "content", "text",
                "email", "key", "filename", "login")
# A verb that leaves its object in a state: the states it may be in after it (in enum order).
_TARGET_STATES = {
    "cancel": ("canceled", "cancelled"), "void": ("void", "voided"), "archive": ("archived",),
    "close": ("closed", "done", "completed", "resolved"), "complete": ("completed", "done", "closed"),
    "finalize": ("open", "finalized"), "publish": ("published", "live"), "trash": ("trashed", "deleted"),
    "reopen": ("open", "reopened", "active", "todo", "to do"), "delete": ("deleted",), "remove": ("removed",),
}
_TARGET_FLAGS = {
    "close": ({"completed", "is_completed", "closed", "done", "is_closed"}, True),
    "complete": ({"completed", "is_completed", "done"}, True),
    "reopen": ({"completed", "is_completed", "closed", "done", "is_closed"}, False),
    "archive": ({"archived", "is_archived"}, True),
    "trash": ({"trashed", "is_trashed"}, True),
    "cancel": ({"canceled", "cancelled", "is_canceled", "is_cancelled"}, True),
    "delete": ({"deleted", "is_deleted"}, True),
}
_GONE_FLAGS = frozenset({"deleted", "is_deleted", "trashed", "is_trashed", "canceled", "cancelled", "archived",
                         "is_archived"})
_UNDONE_FLAGS = _GONE_FLAGS | {"completed", "is_completed", "done", "closed", "is_closed", "merged"}
_UNDONE_WORDS = frozenset({"completed", "canceled", "cancelled", "deleted", "archived", "closed", "resolved", "merged",
                           "trashed", "voided"})
_COPY_VERBS = frozenset({"copy", "duplicate", "clone", "fork"})
_KEYWORD_IDS = frozenset({"me", "self", "primary", "default", "current", "~", "@me", "root"})
DEFAULT_PAGE = 20
_OMIT = object()


def tool_action(tool: Tool) -> str:
    """`create`, `update`, `list`, `delete` or `get`, from the tool's verb (catalog/actions.py)."""
    return name_action(tool.original_name)


# Words of an integer field counting what an object holds (messagesTotal, threads_unread,
# comment_count): zero on a thing just created.
_CONTENT_COUNTS = frozenset({"total", "unread", "count"})


@dataclass(frozen=True)
class Produced:
    """A value a tool response exposed: what later calls and user turns may refer to."""

    key: str
    value: Any
    step: int
    entity: str
    label: str | None
    path: str
    # The id of the object at `path` itself (its `id` / `gid`), not a reference to another one
    # (a watcher's accountId, a contact's wa_id).
    own: bool = False


@dataclass(frozen=True)
class ListedItem:
    """One item of a listing: its position, id, label and scalar fields by dotted path."""

    index: int
    id: Any
    label: str | None
    fields: dict[str, Any]
    near_miss: bool
    differs: tuple[str, ...] = ()  # a near miss's fields (dotted paths) made to differ from the match


@dataclass(frozen=True)
class Listing:
    """What a list call at `step` showed (see the module docstring): the items of its page,
    `match` (index of the item the user means, None when the page is empty), `total` (items in
    the whole listing) and the token of the next page (None on the last)."""

    step: int
    tool: str
    entity: str
    items: tuple[ListedItem, ...]
    match: int | None
    total: int
    next_page_token: str | None

    @property
    def near_misses(self) -> list[int]:
        return [item.index for item in self.items if item.near_miss]

    @property
    def distinguishing(self) -> dict[str, Any]:
        """The match's values (by dotted path) of the fields its near misses were made to differ
        in: a date, a status, the label's exact words. What the user says to name the match."""
        if self.match is None:
            return {}
        mine = self.items[self.match].fields
        out = {}
        for item in self.items:
            for path in item.differs:
                if path in mine and item.fields.get(path) != mine[path]:
                    out[path] = mine[path]
        return out


def _compatible(value: Any, schema: dict[str, Any]) -> bool:
    if schema.get("enum") and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    stype = _schema_type(schema)
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    ok = checks.get(stype or "", lambda v: True)(value)
    if ok and stype == "string" and schema.get("format") and isinstance(value, str):
        fmt = schema["format"]
        if fmt == "email" and "@" not in value:
            return False
        if fmt in ("date-time", "date") and not value[:4].isdigit():
            return False
        if fmt == "uri" and "://" not in value:
            return False
    return ok


def _valid(schema: dict[str, Any] | None, value: Any) -> bool:
    """Whether `value` fits `schema` (anything fits no schema)."""
    return not schema or schema_validator(schema).is_valid(value)


# A label is what a person calls a thing: a message body or a comment is no name for it.
MAX_LABEL_WORDS = 10


def record_label(record: dict[str, Any]) -> str | None:
    """What a person calls the record (keys in snake case): its first short name-like field;
    for a payment without one, its amount ("870.00 INR"); None when it has neither. An
    occurrence of a recurring event is called by its title and day ("Study share (July 2)"), so
    "the event "Study share"" still means the event itself."""
    if isinstance(record.get(_OCCURRENCE_LABEL), str):
        return record[_OCCURRENCE_LABEL]
    for name in LABEL_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value and len(value.split()) <= MAX_LABEL_WORDS:
            return value
    amount, currency = record.get("amount"), record.get("currency")
    if isinstance(amount, int) and not isinstance(amount, bool) and isinstance(currency, str) and len(currency) == 3:
        return f"{amount / 100:,.2f} {currency.upper()}"
    return None


class World:
    """The state of the simulated services during one conversation (see the module docstring)."""

    def __init__(self, values: ValueFactory, integer_id_keys: frozenset[str] = frozenset(),
                 me: dict[str, str] | None = None):
        self.values = values
        # The user's own name and email: what a tool about the caller (`GET_CURRENT_USER`)
        # answers with, so their profile is theirs.
        self.me = me or {}
        # Id keys some tool of the conversation takes as integers: where a response types
        # such an id as a string (specs disagree, e.g. GoToMeeting's meetingId), it is made
        # of digits so it can be passed on.
        self.integer_id_keys = integer_id_keys
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self._made_now: set[int] = set()  # id() of the records of things made in this conversation
        self.produced: list[Produced] = []
        # id value -> (permanent | soft, the state it was left in: "cancelled", "in the trash")
        self.retired: dict[str, tuple[str, str]] = {}
        self.listings: dict[int, Listing] = {}
        self._long_ids: dict[str, tuple[str, str]] = {}  # an id unique enough to name one thing -> its record key
        self._my_id: Any = None  # the id a tool about the caller gave them: theirs in every answer
        self.last_failure: Problem | None = None
        self._ids: dict[tuple[str, str], Any] = {}  # (entity, str(id)) -> the id as responses write it
        self._populations: dict[str, lists.Population] = {}
        self._page_tokens: dict[str, tuple[str, int]] = {}  # next-page token -> (listing key, offset)

    # ------------------------------------------------------------------------------------
    def execute(self, tool: Tool, args: dict[str, Any], step: int, *, min_items: int = 1) -> Any:
        """The response of `tool` to `args`, recorded in the world (see the module docstring;
        `min_items`: the fewest items a listing may hold, where the drawn total and the call's
        windows allow)."""
        action = tool_action(tool)
        slots = [s for s in input_slots(tool.input_schema, tool.original_name)
                 if s.kind == "id" and s.name in args and not isinstance(args[s.name], (list, dict))]
        ctx = _Ctx(
            tool=tool,
            action=action,
            step=step,
            flat_args={snake(k): v for k, v in _flatten_args(args)},
            arg_ids={s.key: args[s.name] for s in slots},
            emails=[v for _, v in _flatten_args(args) if isinstance(v, str) and "@" in v and " " not in v]
            + [e for _, v in _flatten_args(args) if isinstance(v, list) for e in v
               if isinstance(e, str) and "@" in e and " " not in e],
            made=_made_noun(tool.original_name) if action == "create" else "",
            verbs=[w for w in words(tool.original_name) if w in _TARGET_STATES or w in _TARGET_FLAGS],
            given=[k for k in args if k not in {s.name for s in slots}],
        )
        if action == "create":
            self._read_sentence(ctx)
        self._edit_text(ctx)
        self.last_failure = None
        refused = self._refusal(tool, args, action, {s.name: args[s.name] for s in slots}) or self._already(tool, args, slots)
        if refused is not None:
            self.last_failure = refused
            return failure_response(tool.output_schema, refused)
        deletion = deletion_kind(tool.original_name)
        if deletion:
            ctx.retiring = {str(v): deletion for v in _deleted_ids(tool, args, slots)}
        if _lists(tool, action):
            ctx.page = self._plan_page(tool, args, ctx, [s.name for s in slots], min_items)
        out = self._build(tool.output_schema, (), "", ctx, None, in_list=False)
        for obj, props, path, entity, record, id_prop in ctx.pending:
            label = record_label(record or {}) or record_label({snake(k): v for k, v in obj.items()})
            self._index(obj, props, path, entity, label, step, id_prop)
        for value, how in ctx.retiring.items():
            self.retired[value] = (how, _gone_words(tool.original_name))
        # The records keep the objects they were built from and later calls change them (an
        # update moves the end of an event): the answer given now must not change with them.
        return copy.deepcopy(out)

    def _read_sentence(self, ctx: "_Ctx") -> None:
        """A create from a sentence ("Lunch with Ana on Friday November 13 at 12:30", Calendar's
        QUICK_ADD) makes what the sentence says: its title, starting then, for an hour."""
        for value in list(ctx.flat_args.values()):
            read = scheduled(value, self.values.today) if isinstance(value, str) else None
            if read is None:
                continue
            what, when = read
            for key in ("summary", "title", "name"):
                ctx.flat_args.setdefault(key, what)
            ctx.flat_args.setdefault("start_date_time", self.values.iso(when))
            ctx.flat_args.setdefault("end_date_time", self.values.iso(when + timedelta(hours=1)))
            return

    def _edit_text(self, ctx: "_Ctx") -> None:
        """INSERT_TEXT and REPLACE_ALL_TEXT change the text of the document they name: a later
        read shows the text with the insertion, or with the replacement made."""
        verbs = set(words(ctx.tool.original_name))
        if not verbs & {"insert", "replace", "append"}:
            return
        for key, value in ctx.arg_ids.items():
            record = self.records.get((key[:-3], str(value)))
            if not record or not isinstance(record.get("text"), str):
                continue
            find, put = ctx.flat_args.get("find_text"), ctx.flat_args.get("replace_text")
            if isinstance(find, str) and isinstance(put, str):
                record["text"] = record["text"].replace(find, put)
            elif isinstance(ctx.flat_args.get("text"), str):
                record["text"] = f"{record['text']} {ctx.flat_args['text']}"
            for alias in _BODY_ALIASES:
                if alias != "text" and alias in record:
                    del record[alias]  # the old plainText / snippet no longer says it

    def failure(self, tool: Tool, args: dict[str, Any], kind: str, *, argument: str | None = None) -> Any:
        """A failed response of `tool` to `args`: `kind` one of not_found, permission_denied,
        validation_error, rate_limit, conflict (offline/failures.py; `argument` names the
        argument at fault where the caller chose it). Nothing in the world changes; the problem
        is kept in `last_failure`. Raises ValueError for another kind."""
        self.last_failure = problem(tool, args, kind, self.values.rng, self.values.today, argument=argument)
        return failure_response(tool.output_schema, self.last_failure)

    def list_matches(self, step: int) -> Listing | None:
        """The listing the call at `step` showed, None when that call listed nothing."""
        return self.listings.get(step)

    def find(self, key: str, before_step: int | None = None) -> list[Produced]:
        """Values exposed under `key`, most recent first."""
        hits = [p for p in self.produced if p.key == key and (before_step is None or p.step < before_step)]
        return list(reversed(hits))

    # ---- retired entities ----------------------------------------------------------------
    def _refusal(self, tool: Tool, args: dict[str, Any], action: str, ids: dict[str, Any]) -> Problem | None:
        """Why the call fails because it names a retired entity, None when it does not."""
        for name, value in ids.items():
            retired = self.retired.get(str(value))
            if retired is None:
                continue
            how, state = retired
            if how == "permanent":
                return problem(tool, args, "not_found", self.values.rng, self.values.today, argument=name)
            if action not in ("get", "list"):
                return problem(tool, args, "conflict", self.values.rng, self.values.today, argument=name,
                               state=state)
        return None

    def _already(self, tool: Tool, args: dict[str, Any], slots: list[Any]) -> Problem | None:
        """A conflict when the call would put its object into the state it is in (cancel an
        event already cancelled, reopen an open task): services refuse, and the assistant says
        so (the `needless_state_change` detector counts the ones that succeed)."""
        wanted = state_set_by(tool.original_name)
        if wanted is None:
            return None
        for slot in slots:
            record = self.records.get((slot.key[:-3], str(args[slot.name])))
            if record and state_of(record) == wanted:
                said = {"open": "already open", "done": "already completed", "canceled": "already cancelled"}[wanted]
                return problem(tool, args, "conflict", self.values.rng, self.values.today, argument=slot.name, state=said)
        return None

    # ---- lists ---------------------------------------------------------------------------
    def _plan_page(self, tool: Tool, args: dict[str, Any], ctx: "_Ctx", id_args: list[str],
                   min_items: int) -> "_Page | None":
        items_path = _items_path(tool.output_schema)
        if items_path is None:
            return None
        entity = entity_of_object(items_path + ("[]",), tool.original_name)
        spec = lists.list_spec(args, entity, frozenset(id_args))
        key = spec.key()
        queried = _queried(tool, args)
        if queried:
            # A query about given calendars or people answers one entry for each of them.
            population = lists.Population(f"{key}#queried", list(queried))
            return _Page(items_path, entity, spec, population, 0, 0, list(queried), False, None, None, [])
        size = spec.limit or DEFAULT_PAGE
        population, offset, explicit = None, 0, False
        if spec.page is not None:
            population, offset, explicit = self._continued(spec, key, size)
        population = population or self._populations.get(key)
        rng, now = self.values.rng, self.values.today
        feasible = lists.window_feasible(spec, now)
        if population is None:
            known = self._known(spec) if feasible else []
            total = lists.draw_total(rng, min_items) if feasible else 0
            total = max(total, len(known))
            if spec.limit is None and not _has_paging(tool.output_schema):
                total = min(total, max(DEFAULT_PAGE, len(known)))  # no pages: everything in one
            population = lists.Population(key, known + [None] * (total - len(known)))
            self._populations[key] = population
        elif offset == 0:
            # Listed again from the top: what the conversation retired since is gone, what it
            # created since is there.
            population.slots = [s for s in population.slots if s is None or self._listable(s, spec)]
            fresh = [k for k in self._known(spec) if k not in population.slots]
            population.slots = fresh + population.slots
        if explicit and feasible and min_items and offset - population.base >= len(population.slots):
            # A page far into a listing this world has not shown (`startAt: 500`): the listing is
            # that long, and this page is drawn where it starts.
            deep = f"{key}@{offset}"
            population = self._populations.get(deep) or lists.Population(
                deep, [None] * lists.draw_total(rng, min_items), base=offset)
            self._populations[deep] = population
        start = offset - population.base
        slots = population.slots[start:start + size]
        more = start + size < len(population.slots)
        token = None
        if more:
            token = self.values.token()
            self._page_tokens[token] = (population.spec_key, offset + size)
        target, near = None, []
        if slots:
            known_at = [i for i, s in enumerate(slots) if s is not None]
            target = known_at[0] if known_at else rng.randrange(len(slots))
            candidates = [i for i, s in enumerate(slots) if s is None and i != target]
            k = min(len(candidates), rng.choice((0, 1, 1, 2, 2, 3)))
            near = sorted(rng.sample(candidates, k))
        return _Page(items_path, entity, spec, population, offset, start, slots, more, token, target, near)

    def _continued(self, spec: lists.ListSpec, key: str, size: int) -> tuple[lists.Population | None, int, bool]:
        """The listing and offset a page argument continues (a token this world issued, an
        item id after which to start, a page number or an offset), and whether the offset is
        the caller's own number."""
        name, value = spec.page
        if isinstance(value, str) and value in self._page_tokens:
            listing, offset = self._page_tokens[value]
            return self._populations.get(listing), offset, False
        population = self._populations.get(key)
        if population is not None and name in ("starting_after", "cursor") and value in population.slots:
            return population, population.base + population.slots.index(value) + 1, False
        if isinstance(value, int) and not isinstance(value, bool):
            return population, max(0, (value - 1) * size if name == "page" else value), True
        return population, 0, False

    def _listable(self, entity_id: Any, spec: lists.ListSpec) -> bool:
        retired = self.retired.get(str(entity_id))
        return retired is None or (retired[0] == "soft" and spec.wants_gone)

    def _known(self, spec: lists.ListSpec) -> list[Any]:
        """Ids of the entities the world holds that belong in a listing, most recent first."""
        out = []
        for (entity, key), record in reversed(list(self.records.items())):
            if entity != spec.entity or not self._listable(key, spec):
                continue
            if lists.record_matches(record, spec, self.values.today):
                out.append(self._ids.get((entity, key), key))
        return out

    def _list_items(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx") -> list:
        page = ctx.page
        items_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "object"}
        n = len(page.slots)
        order = ([page.target] if page.target is not None else []) + [i for i in range(n) if i != page.target]
        built: dict[int, _Built] = {}
        differs: dict[int, tuple[str, ...]] = {}
        person = lists.is_person(page.entity)
        # A listing of an event's own kind under that event (LIST_EVENT_INSTANCES(eventId)) lists
        # its occurrences: each is that event again, at its own time.
        parent_id = page.spec.containers.get(f"{page.entity}_id")
        parent = self.records.setdefault((page.entity, str(parent_id)), {}) if parent_id is not None else None
        for i in order:
            # What the world already held about a known item, before this listing draws the rest.
            held = dict(self.records.get((page.entity, str(page.slots[i])), {})) if page.slots[i] is not None else {}
            sink: list[_Built] = []
            item = self._build(items_schema, path + ("[]",), name, ctx, None, in_list=True, known_id=page.slots[i],
                               sink=sink)
            b = sink[0] if sink else _Built(item, {}, None, page.entity, None)
            if isinstance(item, dict):
                # A thing the world knew keeps what it was shown with (a template listed by a
                # name filter is not renamed to fit it): conform decides only what it never said.
                known = {k: v for k, v in item.items() if not isinstance(v, (dict, list)) and held.get(snake(k)) == v}
                lists.conform(item, b.props, page.spec, self.values, _valid, person)
                item.update(known)
                if parent is not None:
                    _occurrence(item, b.props, parent, parent_id)  # the same event: no near misses
                    title = record_label({snake(k): v for k, v in item.items()})
                    day = next((spoken_date(leaf.holder[leaf.key]) for leaf in lists.time_leaves(item)
                                if leaf.starts and isinstance(leaf.holder[leaf.key], str)), None)
                    if b.record is not None and title and day:
                        b.record[_OCCURRENCE_LABEL] = f"{title} ({day.split(' at ')[0]})"
                elif i in page.near and page.target in built:
                    differs[i] = self._near_miss(item, built[page.target].out, b.props, page.spec, page.entity)
                # A near miss renamed "Tamara Vasquez" is first name Tamara too.
                _coherent_name(item, set(item), b.record)
                if b.record is not None:
                    # What the listing shows (a near miss's other status, in `fields` too) is what
                    # the item is from now on.
                    b.record.update({snake(k): v for k, v in item.items() if snake(k) not in _ENTITY_PARTS})
                    for k, v in item.items():
                        if snake(k) in _ENTITY_PARTS and isinstance(v, dict):
                            b.record.update({snake(kk): vv for kk, vv in v.items()})
                    for key, value in page.spec.containers.items():
                        b.record.setdefault(key, value)
            built[i] = b
        # One primary calendar, one default address: a flag only one item can hold.
        for flag in ("primary", "is_primary", "is_default"):
            holders = [built[i].out for i in range(n) if isinstance(built[i].out, dict)
                       and any(snake(k) == flag and v is True for k, v in built[i].out.items())]
            for extra in holders[1:]:
                for k in extra:
                    if snake(k) == flag:
                        extra[k] = False
        positions = lists.sort_items([built[i].out for i in range(n)], page.spec.sort)
        items = [built[i].out for i in positions]
        ids = [built[i].out.get(built[i].id_prop) if built[i].id_prop and isinstance(built[i].out, dict) else None
               for i in positions]
        for j, i in enumerate(positions):
            if ids[j] is not None:
                page.population.slots[page.start + i] = ids[j]
        listed = tuple(_listed_item(j, ids[j], built[i].out, differs.get(i)) for j, i in enumerate(positions))
        ctx.listing = Listing(ctx.step, ctx.tool.name, page.entity, listed,
                              positions.index(page.target) if page.target is not None else None,
                              page.population.base + len(page.population.slots), page.token)
        self.listings[ctx.step] = ctx.listing
        return items

    def _near_miss(self, item: dict[str, Any], target: dict[str, Any], props: dict[str, Any],
                   spec: lists.ListSpec, ctx_entity: str) -> tuple[str, ...]:
        """Make `item` look like the target (its label's words) but differ in a date or a status;
        the dotted paths of the fields that tell them apart."""
        rng, values = self.values.rng, self.values
        theirs = lists.label_field(target)
        label = theirs[0][theirs[1]] if theirs else None
        reply = theirs is not None and snake(theirs[1]) in ("subject", "snippet")
        person = theirs is not None and (lists.is_person(ctx_entity) or snake(theirs[1]) in _PERSON_NAME_KEYS - {"name"})
        # Someone else with the same first name; a thing with the same words in its title.
        like = (lambda: f"{(label.split() or [label])[0]} {values.fake.last_name()}") if person else \
            (lambda: values.variant(label, reply))
        label_path = lists.relabel(item, like(), props, _valid) if label is not None else None
        days = rng.choice((1, 2, 3, 7))
        if rng.random() < 0.5:
            moved = lists.shift_date(item, target, spec.windows, values, days) \
                or lists.other_status(item, target, props, spec, rng)
        else:
            moved = lists.other_status(item, target, props, spec, rng) \
                or lists.shift_date(item, target, spec.windows, values, days)
        _changed_after_made(item)  # a near miss made a day earlier was not changed before that
        if not moved and label_path is not None:
            for _ in range(6):  # nothing else can differ: the label has to
                mine = lists.label_field(item)
                if mine is None or mine[0][mine[1]] != label:
                    break
                lists.relabel(item, like(), props, _valid)
        mine = lists.label_field(item)
        differs = [moved] if moved else []
        if mine is not None and label is not None and mine[0][mine[1]] != label:
            differs.append(mine[2])
        return tuple(differs)

    def _paging(self, prop: str, schema: dict[str, Any], path: tuple[str, ...], ctx: "_Ctx") -> Any:
        """The value of a result field that says how much of the listing is left, `_OMIT` to
        leave it out, None for fields that are no such thing."""
        page = ctx.page
        sn = snake(prop)
        stype = _schema_type(schema)
        if sn in NEXT_PAGE_KEYS or sn == "next_page_token":
            if not page.more:
                return _OMIT
            if stype == "object":
                props = schema.get("properties") or {}
                out = {}
                for key in props:
                    if snake(key) in ("offset", "cursor", "token", "next_page_token"):
                        out[key] = page.token
                    elif snake(key) in ("uri", "url", "link"):
                        out[key] = f"https://api.example.com/{page.entity}s?offset={page.token}"
                return out
            if schema.get("format") in ("uri", "url") or sn in ("next", "next_page", "next_link", "next_url"):
                return f"https://api.example.com/{page.entity}s?page_token={page.token}"
            return page.token if stype in ("string", None) else _OMIT
        if sn == "has_more" and stype == "boolean":
            return page.more
        if sn in ("is_last", "last_page") and stype == "boolean":
            return not page.more
        if sn in ("incomplete_results", "incomplete_search") and stype == "boolean":
            return False
        if stype == "integer":
            if sn == "count" and path and snake(path[-1]) == "pagination":
                return len(page.slots)
            if sn in TOTAL_KEYS:
                return page.population.base + len(page.population.slots)
            if sn in ("start_at", "offset", "start_index"):
                return page.offset
            if sn in LIMIT_KEYS:
                return result_limit(ctx.flat_args) or DEFAULT_PAGE
        return None

    # ------------------------------------------------------------------------------------
    def _new_id(self, schema: dict[str, Any], entity: str) -> Any:
        if f"{entity}_id" in self.integer_id_keys and _schema_type(schema) == "string" and not schema.get("examples"):
            return str(self.values.make_id({"type": "integer", "examples": [10**9]}, entity))
        return self.values.make_id(schema, entity)

    def _build(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
               record: dict[str, Any] | None, in_list: bool, known_id: Any = None,
               sink: list | None = None) -> Any:
        schema = concrete(schema, self.values.rng)
        stype = _schema_type(schema)
        if stype == "object" or "properties" in schema:
            sn = snake(name)
            prior = record.get(sn) if record is not None and isinstance(record.get(sn), dict) \
                and sn not in _ENTITY_PARTS else {}  # a part's facts live in the record itself
            given = ctx.flat_args.get(sn) if ctx.action in ("create", "update") and not in_list else None
            # What the entity already had, updated by what this call sets.
            echo = {**prior, **(given if isinstance(given, dict) else {})}
            # Jira's issue.fields holds the issue's own summary and description: the record.
            part_of = record if sn in _ENTITY_PARTS else None
            said = _said_as(record, sn, schema) if record is not None else None
            if said is not None:
                # priority: "High" set on the issue reads back as {"priority": {"name": "High"}}.
                echo = {**echo, **said}
            built = self._object(schema, path, ctx, in_list, echo=echo or None, known_id=known_id, part_of=part_of)
            if sink is not None:
                sink.append(built)
            if record is not None and name and sn not in _ENTITY_PARTS:
                # Nested parts (start, organizer, address) belong to the entity that holds them.
                record[sn] = built.out
            return built.out
        if stype == "array":
            return self._build_array(schema, path, name, ctx, record, in_list)
        return self._build_leaf(schema, path, name, ctx, record, in_list)

    def _object_id(self, props: dict[str, Any], id_prop: str, entity: str, ctx: "_Ctx", in_list: bool,
                   known_id: Any) -> Any:
        """The id of an object built now: a listed entity's own, the one the call names for
        that entity, else a new one (what a create makes; a child made under its parent)."""
        schema = props[id_prop]
        if known_id is not None:
            if _compatible(known_id, schema):
                return known_id
            if isinstance(known_id, str) and known_id.isdigit() and _compatible(int(known_id), schema):
                return int(known_id)
        if in_list:
            return self._new_id(schema, entity)
        given = ctx.arg_ids.get(f"{entity}_id")
        if given is None and entity == "parent" and ctx.parent_id is not None:
            given = ctx.parent_id
        if given is None or not _compatible(given, schema):
            return self._new_id(schema, entity)
        if ctx.action == "create" and not ctx.primary_done:
            verb = [w for w in words(ctx.tool.original_name) if w in ALL_VERBS]
            if verb and verb[0] in _COPY_VERBS:
                return self._new_id(schema, entity)
            if ctx.made != entity and ctx.made.endswith(entity):
                ctx.parent_id = given  # a subtask made under task X is a new task whose parent is X
                return self._new_id(schema, entity)
        return given

    def _object(self, schema: dict[str, Any], path: tuple[str, ...], ctx: "_Ctx", in_list: bool,
                echo: dict[str, Any] | None = None, known_id: Any = None,
                part_of: dict[str, Any] | None = None) -> "_Built":
        props: dict[str, Any] = {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
        required = set(schema.get("required", []))
        entity = entity_of_object(path, ctx.tool.original_name)
        id_prop = next(
            (p for p, s in props.items()
             if id_entity(p) in ("", entity) and _schema_type(s) in ("string", "integer")), None)
        record: dict[str, Any] | None = None
        id_value: Any = None
        primary = False
        if id_prop is not None:
            mine = about_self(ctx.tool.original_name) and not in_list and not ctx.primary_done
            if mine and known_id is None and self._my_id is not None:
                known_id = self._my_id  # GET_CURRENT_USER twice: one user, one uri
            if known_id is None and echo and echo.get(id_prop) is not None:
                # The task's workspace is the one it had: the name echoed below goes with that id.
                known_id = echo[id_prop]
            id_value = self._object_id(props, id_prop, entity, ctx, in_list, known_id)
            if mine and self._my_id is None:
                self._my_id = id_value
            key = (entity, str(id_value))
            if key not in self.records and len(str(id_value)) >= 8:
                # A Drive folder read as a file: the same thing under another name, one record.
                key = self._long_ids.get(str(id_value), key)
            record = self.records.setdefault(key, {})
            if len(str(id_value)) >= 8:
                self._long_ids.setdefault(str(id_value), key)
            self._ids.setdefault(key, id_value)
            primary = not in_list and not ctx.primary_done
            if not in_list:
                ctx.primary_done = True
            if primary and ctx.action == "create" and not ctx.verbs:
                self._made_now.add(id(record))
            if primary and ctx.action in ("create", "update"):
                # The call's arguments are about the object it makes or changes, not about the
                # project or workspace that object names.
                before = {leaf.path: leaf.at for leaf in lists.time_leaves(record)}
                for arg, value in ctx.flat_args.items():
                    if ctx.action == "create":
                        record.setdefault(arg, value)
                    elif isinstance(value, dict) and isinstance(record.get(arg), dict):
                        record[arg] = {**record[arg], **value}  # `start: {date}` changes the start's date only
                    else:
                        record[arg] = value
                if ctx.action == "update":
                    _keep_length(record, before)
                folder = _folder(ctx.flat_args)
                if folder is not None:
                    record["parents"] = [folder]  # moved or made there, whether this answer shows it or not
        if record is None and id_prop is None and not in_list and not ctx.primary_done and path \
                and snake(path[-1]) == entity and ctx.arg_ids.get(f"{entity}_id") is not None:
            # The issue an edit names, answered without its id ({"key", "updated_fields"}): still
            # that issue, and what the edit sets is what it now says.
            ctx.primary_done = True
            record = self.records.setdefault((entity, str(ctx.arg_ids[f"{entity}_id"])), {})
            if ctx.action == "update":
                before = {leaf.path: leaf.at for leaf in lists.time_leaves(record)}
                for arg, value in ctx.flat_args.items():
                    record[arg] = value
                _keep_length(record, before)
        if record is None and part_of is not None:
            record = part_of  # a part of the entity holding it (`fields`): its facts are the entity's
        if record is None:
            # An object nothing identifies (a project's `lead`, an event membership): still one
            # thing, whose person's name and address agree (a scratch record, kept nowhere).
            record = {}
        out: dict[str, Any] = {}
        mark = len(ctx.fresh)
        # Another entity than the one the call is about (the project a section belongs to).
        foreign = id_prop is not None and not in_list and not primary
        ctx.foreign += foreign
        for prop, sub in props.items():
            sn = snake(prop)
            if echo is not None and prop in echo and prop != id_prop and schema_validator(sub).is_valid(echo[prop]) \
                    and not (not in_list and classify(prop, sub, "")[1] in ctx.arg_ids):
                # (What it had, unless this call names it anew: ASSIGN_ISSUE(accountId) makes the
                # assignee that account, whoever it was.)
                out[prop] = echo[prop]
                continue
            if ctx.page is not None and not in_list:
                paging = self._paging(prop, sub, path, ctx)
                if paging is _OMIT and prop not in required:
                    continue
                if paging is not None and paging is not _OMIT:
                    out[prop] = paging
                    continue
                if paging is _OMIT:
                    out[prop] = "" if _schema_type(sub) == "string" else None
                    continue
            if sn in ("successful", "success", "ok") and _schema_type(sub) == "boolean":
                out[prop] = True
                continue
            if sn in ("error", "errors", "error_message") and prop not in required:
                continue
            # Optional fields are sometimes left out, as real APIs do, but never ids or what
            # holds them: later calls are grounded on those.
            if prop not in required and not _holds_id(prop, sub) and self.values.rng.random() < 0.15:
                continue
            if primary and ctx.action == "create" and prop not in required and _undone_time(sn):
                continue  # a thing just made was not completed or cancelled yet
            if prop == id_prop:
                out[prop] = id_value
            else:
                out[prop] = self._build(sub, path + (prop,), prop, ctx, record, in_list)
        ctx.foreign -= foreign
        fresh = {".".join(p[len(path):]) for p in ctx.fresh[mark:] if p[:len(path)] == path and "[]" not in p[len(path):]}
        _coherent_money(out, fresh)  # (also where nothing was drawn: an older answer's sums may not fit)
        _coherent_name(out, fresh, record)
        if fresh:
            self._coherent_times(out, fresh)
            if record is not None:
                record.update({snake(k): v for k, v in out.items() if not isinstance(v, (dict, list))})
        if id_value is not None and str(id_value) in self.retired:
            self._show_gone(out, props, record, self.retired[str(id_value)][1])
        elif id_value is not None and ctx.retiring.get(str(id_value)) == "soft":
            self._show_gone(out, props, record, _gone_words(ctx.tool.original_name))
        ctx.pending.append((out, props, path, entity, record, id_prop))
        return _Built(out, props, record, entity, id_prop)

    def _coherent_times(self, out: dict[str, Any], fresh: set[str]) -> None:
        """Drawn times of one object that belong together agree: an end drawn for a start lies a
        meeting's length after it (a billing period's, for periods), and a `date` beside a
        `dateTime` is its day. Times the call or the record gave stay as they are."""
        leaves = lists.time_leaves(out)
        for end in leaves:
            if not end.ends or end.path not in fresh or "[" in end.path:
                continue
            start = next((s for s in leaves if s.starts and "[" not in s.path and
                          s.path.replace("start", "end").replace("Start", "End").replace("begin", "end") == end.path),
                         None)
            if start is None:
                continue
            rng = self.values.rng
            if end.kind == "date" or start.kind == "date":
                length = timedelta(days=rng.choice((1, 1, 2, 3)))
            elif end.words & {"period", "subscription"}:
                length = timedelta(days=30)
            elif end.words & {"trial"}:
                length = timedelta(days=14)
            else:
                length = timedelta(minutes=rng.choice((30, 45, 60, 90)))
            end.set(start.at + length)
        _changed_after_made(out)
        for low, high in _numeric_ranges(out):
            if high in fresh and out[high] < out[low]:
                # A span of positions (a paragraph's startIndex / endIndex) runs forwards.
                out[high] = out[low] + self.values.rng.randint(1, 80)
        # A drawn `date` beside a `dateTime` is that time's day, however deep ({event: {end:
        # {dateTime, date}}}): the pairing above may have moved it a day or three.
        stack: list[tuple[str, dict[str, Any]]] = [(name, value) for name, value in out.items() if isinstance(value, dict)]
        while stack:
            name, value = stack.pop()
            stack.extend((f"{name}.{k}", v) for k, v in value.items() if isinstance(v, dict))
            moment = next((v for k, v in value.items() if snake(k) in ("date_time", "datetime") and isinstance(v, str)
                           and v[:4].isdigit()), None)
            for key in value:
                if snake(key) == "date" and moment and f"{name}.{key}" in fresh and isinstance(value[key], str):
                    value[key] = moment[:10]

    def _show_gone(self, out: dict[str, Any], props: dict[str, Any], record: dict[str, Any] | None,
                   state: str) -> None:
        """A trashed, cancelled or deleted object read back says so (`state` as _gone_words
        says it)."""
        for prop, value in list(out.items()):
            sn = snake(prop)
            schema = props.get(prop) or {}
            if sn == "label_ids" and state == "in the trash" and isinstance(value, list) and "TRASH" not in value \
                    and _valid(schema, value + ["TRASH"]):
                out[prop] = [v for v in value if v != "INBOX"] + ["TRASH"]  # Gmail's trash is a label
            if sn in ("status", "state") and schema.get("enum"):
                gone = next((v for v in schema["enum"] if str(v).lower() in lists.GONE_STATES), None)
                if gone is not None:
                    out[prop] = gone
            elif sn in _GONE_FLAGS and isinstance(value, bool):
                out[prop] = True
        if record is not None:
            record.update({snake(k): v for k, v in out.items()})

    def _build_array(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
                     record: dict[str, Any] | None, in_list: bool) -> list:
        if ctx.page is not None and not in_list and path == ctx.page.items_path:
            return self._list_items(schema, path, name, ctx)
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        sn = snake(name)
        if any(key in items for key in ("oneOf", "anyOf", "allOf")):
            # Alternatives (imported OpenAPI schemas): each item picks its own.
            lo = int(schema.get("minItems", 1))
            n = self.values.rng.randint(max(lo, 1), max(lo, 3)) if ctx.action == "list" else max(lo, 1)
            limit = result_limit(ctx.flat_args)
            if limit is not None and not in_list:
                n = max(min(n, limit), lo)
            return [self._build(items, path + ("[]",), name, ctx, None, in_list=True) for _ in range(n)]
        if _schema_type(items) == "string" and sn in _PARENT_LISTS and not ctx.foreign:
            # A file listed in, made in or moved to a folder has that folder as its parent; one
            # read back keeps the parents it had (ids, never words).
            folder = _folder(ctx.flat_args)
            if folder is not None and (in_list or ctx.action in ("create", "update", "list")):
                value = [folder]
            elif record is not None and isinstance(record.get(sn), list) and record[sn]:
                value = record[sn]
            else:
                value = [self._new_id({"type": "string"}, "folder")]
            if record is not None:
                record[sn] = value
            return value
        if _schema_type(items) != "object":
            if sn in _CHANGED_FIELDS and not in_list and ctx.action == "update" and _schema_type(items) == "string":
                # "Names of the fields that were changed": the ones this call set.
                return [name for name in ctx.given if snake(name) not in ("notify_users", "send_updates", "user_id")]
            removed = ctx.flat_args.get(f"remove_{sn}") if not in_list and not ctx.foreign else None
            if not in_list and not ctx.foreign and ctx.action in ("create", "update") and (
                    isinstance(removed, list) or (isinstance(ctx.flat_args.get(sn), list) and record is not None
                                                  and isinstance(record.get(sn), list))):
                # ADD_LABEL_TO_EMAIL(label_ids=[STARRED], remove_label_ids=[UNREAD]): the labels it
                # had, plus the ones added, less the ones removed.
                had = record.get(sn) if record is not None and isinstance(record.get(sn), list) else None
                if had is None:
                    had = list(_example_constants(schema)[:2]) if _example_constants(schema) else []
                added = ctx.flat_args.get(sn) if isinstance(ctx.flat_args.get(sn), list) else []
                value = [v for v in dict.fromkeys([*had, *added]) if v not in (removed or [])]
                if record is not None:
                    record[sn] = value
                return value
            if record is not None and sn in record and isinstance(record[sn], list):
                return record[sn]
            echoed = ctx.flat_args.get(sn)
            kind, key = classify(name, schema, "")
            if isinstance(echoed, list) and all(_compatible(v, items) for v in echoed):
                value = echoed
            elif kind == "email" and ctx.emails:
                value = list(ctx.emails)
            elif kind == "id" and (shown := _example_constants(schema)):
                # Ids the schema shows as system constants (a message's INBOX, UNREAD): drawn from
                # those, not made up as hex.
                value = sorted(self.values.rng.sample(shown, self.values.rng.randint(1, min(3, len(shown)))),
                               key=shown.index)
            elif kind == "id":
                value = [self.values.make_id(items, key[:-3]) for _ in range(self.values.rng.randint(1, 2))]
            else:
                value = self.values.array_value(name, schema)
            if record is not None:
                record[sn] = value
            return value
        if record is not None and isinstance(record.get(sn), list) and schema_validator(schema).is_valid(record[sn]):
            return record[sn]
        echoed = ctx.flat_args.get(sn)
        if isinstance(echoed, list) and echoed and all(isinstance(v, dict) for v in echoed) and not in_list:
            # Objects given in the call (attendees, line items) come back as sent, plus
            # whatever the service adds.
            built = []
            for given in echoed:
                item = self._object(items, path + ("[]",), ctx, in_list=True).out
                item.update({k: v for k, v in given.items() if k in (items.get("properties") or {})})
                built.append(item)
            return built
        lo = int(schema.get("minItems", 1))
        n = self.values.rng.randint(max(lo, 1), max(lo, 3)) if ctx.action == "list" else max(lo, 1)
        limit = result_limit(ctx.flat_args)
        if limit is not None and not in_list:
            n = max(min(n, limit), lo)  # a page holds at most what the call asked for (minItems wins)
        built = [self._object(items, path + ("[]",), ctx, in_list=True).out for _ in range(n)]
        if record is not None:
            record[sn] = built
        return built

    def _build_leaf(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
                    record: dict[str, Any] | None, in_list: bool) -> Any:
        sn = snake(name)
        # start.dateTime in a response echoes the start.dateTime argument (flattened start_date_time).
        qualified = f"{snake(path[-2])}_{sn}" if len(path) >= 2 else None
        if qualified in ctx.flat_args and not in_list and _compatible(ctx.flat_args[qualified], schema):
            value = ctx.flat_args[qualified]
            if record is not None:
                record[sn] = value
            return value
        kind, key = classify(name, schema, "")
        if kind == "id" and key in ctx.arg_ids and not in_list and _compatible(ctx.arg_ids[key], schema):
            # The call names the file; what the world recorded about the permission before does not
            # change which file this answer is about.
            value = ctx.arg_ids[key]
            if record is not None:
                record[sn] = value
            return value
        if not in_list and not ctx.foreign and ctx.verbs and ctx.action in ("update", "delete"):
            # Closing a task makes it completed whatever it was before.
            value, found = self._target_state(sn, schema, ctx)
            if found:
                if record is not None:
                    record[sn] = value
                return value
        if record is not None and sn in record and _compatible(record[sn], schema):
            return record[sn]
        if record is not None and sn in _LABEL_ALIASES:
            # A list calls it `name`, the get `title`: one document, one title.
            known = next((record[a] for a in _LABEL_ALIASES if a in record and _compatible(record[a], schema)), None)
            if known is not None:
                record[sn] = known
                return known
        if record is not None and (sn in _BODY_ALIASES or sn in _RECIPIENT_ALIASES):
            # A reply sent with `message_body` is read back with that body as its `messageText`
            # and the start of it as its `snippet`; it went `to` its `recipient_email`.
            aliases = _BODY_ALIASES if sn in _BODY_ALIASES else _RECIPIENT_ALIASES
            known = next((record[a] for a in aliases if isinstance(record.get(a), str) and record[a]), None)
            if known is not None and sn in _SHORTENED and len(known) > 100:
                known = known[:100].rsplit(" ", 1)[0] + "..."
            if known is not None and _compatible(known, schema):
                record[sn] = known
                return known
        full = _full_name(record, ctx.flat_args if not in_list and not ctx.foreign else {}) \
            if record is not None and sn in ("first_name", "last_name") else None
        if full is not None:
            # An invitee called "Patrick Lawson" is Patrick, not Anthony Thomas (whether the
            # answer says `name` before or after, or only the call's `invitee_name` does).
            first, last = _name_parts(full)
            record[sn] = first if sn == "first_name" else last
            return record[sn]
        if about_self(ctx.tool.original_name) and not in_list and len(path) <= 3 and self.me:
            mine = self.me.get("email") if "email" in sn else self.me.get("name") if sn in _PERSON_NAME_KEYS else None
            if isinstance(mine, str) and _compatible(mine, schema):
                if record is not None:
                    record[sn] = mine
                return mine
        value: Any = None
        found = False
        if kind == "id" and key in ctx.arg_ids and _compatible(ctx.arg_ids[key], schema):
            value, found = ctx.arg_ids[key], True
        elif sn in ctx.flat_args and _compatible(ctx.flat_args[sn], schema) and not in_list and not ctx.foreign:
            # The call's `name` is the task's, not its project's or assignee's.
            value, found = ctx.flat_args[sn], True
        elif kind == "email" and ctx.emails and not in_list and not ctx.foreign and ctx.action in ("create", "update"):
            # The recipient of a sent message is the address it was sent to, whatever the
            # argument was called (to, recipient_email, attendees...).
            value, found = ctx.emails[0], True
        if not found and _schema_type(schema) == "string" and _AS_GIVEN.search(str(schema.get("description", ""))):
            # "The number as given in the request" (WhatsApp's contacts[].input): the recipient.
            given = next((ctx.flat_args[k] for k in ("to", "recipient", "phone", "phone_number", "email")
                          if isinstance(ctx.flat_args.get(k), str)), None)
            if given is not None:
                value, found = given, True
        if not found and sn == "key" and not in_list and not ctx.foreign and ctx.action == "create" \
                and isinstance(ctx.flat_args.get("project_key"), str) \
                and re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", ctx.flat_args["project_key"]):
            # An issue made in project FIN is FIN-n, not OPS-4.
            value, found = f"{ctx.flat_args['project_key']}-{self.values.rng.randint(1, 400)}", True
        if not found and in_list and _schema_type(schema) == "boolean" and sn in ("is_completed", "completed", "checked") \
                and "active" in words(ctx.tool.original_name):
            value, found = False, True  # GET_ACTIVE_TASKS lists what is not done
        if not found and _schema_type(schema) in ("string", "integer", "number") and (
                (not in_list and not ctx.foreign and _stamped_now(sn, ctx.action, ctx.verbs))
                or (record is not None and id(record) in self._made_now
                    and (_changed_stamp(sn) or _stamped_now(sn, "create", ())))):
            # What this call makes was made now (not three months ago), what it changes was
            # changed now; and whatever later happened to a thing made in this conversation
            # (its update, its cancellation) happened now too, never before it was made.
            value, found = self.values.just_now(schema), True
            if record is not None and ctx.action == "create":
                self._made_now.add(id(record))
        if not found and not in_list and not ctx.foreign and ctx.action == "create":
            value, found = self._target_state(sn, schema, ctx)
        if not found and not in_list and not ctx.foreign and schema.get("enum") and sn in ("status", "state") \
                and "send" in words(ctx.tool.original_name) and ctx.arg_ids:
            # SEND_INVOICE(invoice): the draft it was is out now, "open" (or "sent").
            sent = [v for v in schema["enum"] if str(v).lower() in ("sent", "open")]
            if sent:
                value, found = sent[0], True
        if not found and schema.get("enum") and sn in ("status", "state") and ctx.action in ("create", "update"):
            # A thing just created or changed is in its live state, not a random one.
            live = [v for v in schema["enum"] if str(v).lower() in _LIVE_STATES]
            if live:
                value, found = live[0], True
        if not found and record is not None and (lists.is_person(entity_of_object(path[:-1], ctx.tool.original_name))
                                                 or sn.split("_")[0] in PERSON_ENTITIES):
            value, found = _person_match(sn, kind, record, schema, self.values)
        if not found:
            if kind == "id":
                value = self._new_id(schema, key[:-3])
            else:
                # A bare time key ("dateTime") takes its meaning from its parent (start / end).
                timed = qualified if qualified and sn in GENERIC_TIME_KEYS else name
                value = self.values.value(timed, schema, holder=entity_of_object(path[:-1], ctx.tool.original_name))
                ctx.fresh.append(path)
        if record is not None:
            record[sn] = value
        return value

    @staticmethod
    def _target_state(sn: str, schema: dict[str, Any], ctx: "_Ctx") -> tuple[Any, bool]:
        """The state a verb leaves its object in (`cancel` -> status canceled, `close` ->
        is_completed true), where the field can hold it."""
        if ctx.action == "create" and not ctx.verbs and sn in _UNDONE_FLAGS and _schema_type(schema) == "boolean":
            return False, True  # a thing just made is not completed, cancelled or deleted
        if ctx.action == "create" and not ctx.verbs:
            words = set(sn.split("_"))
            # A new label, folder or project holds nothing yet (not 154,100 messages) ...
            # (messagesTotal, comment_count; a bare `total` is an invoice's sum, not a count).
            if _schema_type(schema) == "integer" and len(words) > 1 and words & _CONTENT_COUNTS \
                    and not words & {"max", "limit", "amount", "interval"} and schema.get("minimum", 0) <= 0:
                return 0, True
            # ... and is the user's, not the system's.
            if sn == "type" and {"user", "system"} <= set(map(str, schema.get("enum") or ())):
                return "user", True
        for verb in ctx.verbs:
            if sn in ("status", "state") and schema.get("enum"):
                states = _TARGET_STATES.get(verb, ())
                hit = next((v for s in states for v in schema["enum"] if str(v).lower() == s), None)
                if hit is not None:
                    return hit, True
            flags = _TARGET_FLAGS.get(verb)
            if flags and sn in flags[0] and _schema_type(schema) == "boolean":
                return flags[1], True
        return None, False

    def _index(self, obj: dict[str, Any], props: dict[str, Any], path: tuple[str, ...], entity: str,
               label: str | None, step: int, id_prop: str | None) -> None:
        where = ".".join(path) or "$"
        for prop, value in obj.items():
            if isinstance(value, (dict, list)) or value is None:
                continue
            sn = snake(prop)
            if prop == id_prop:
                keys = [f"{entity}_id"]
            else:
                kind, key = classify(prop, props.get(prop, {}), entity)
                keys = [key] if kind in ("id", "email") else [sn, f"{entity}_{sn}"]
            for key in keys:
                owner, named = entity, label
                if key.endswith("_id") and key != f"{entity}_id":
                    # Another entity's id (a permission's fileId): that entity's, under its own
                    # label where it was seen, never under this one's ("list the permissions
                    # of the file <the permission's name>").
                    owner = key[:-3]
                    named = next((p.label for p in reversed(self.produced)
                                  if p.key == key and p.value == value and p.entity == owner and p.label), None)
                self.produced.append(Produced(key, value, step, owner, named, f"{where}.{prop}",
                                              own=prop == id_prop))


def _listed_item(index: int, item_id: Any, item: Any, differs: tuple[str, ...] | None) -> ListedItem:
    """`differs`: None for an item that is no near miss."""
    if not isinstance(item, dict):
        return ListedItem(index, item_id, None, {}, differs is not None, differs or ())
    label = record_label({snake(k): v for k, v in item.items()})
    if label is None:
        hit = lists.label_field(item)
        label = hit[0][hit[1]] if hit else None
    return ListedItem(index, item_id, label, lists.flat_fields(item), differs is not None, differs or ())


_PERSON_NAME_KEYS = frozenset({"name", "display_name", "full_name", "real_name"})


_AS_GIVEN = re.compile(r"\bas (?:given|sent|passed) in the request\b", re.I)
_MADE_STAMPS = frozenset({"created", "creation", "inserted", "added"})
_CHANGED_STAMPS = frozenset({"updated", "modified", "edited"})


def _coherent_name(out: dict[str, Any], fresh: set[str], record: dict[str, Any] | None) -> None:
    """A person's `first_name` / `last_name` drawn beside their `name` are its parts (in place,
    and in the record): a listed invitee "Tamara Vasquez" is not first name Jason."""
    keys = {snake(k): k for k, v in out.items() if isinstance(v, str)}
    full_key = next((keys[k] for k in ("name", "full_name", "display_name") if k in keys), None)
    if full_key is None or "first_name" not in keys or "last_name" not in keys:
        return
    if len(out[full_key].split()) < 2:
        return
    if keys["first_name"] in fresh or keys["last_name"] in fresh or full_key not in fresh:
        out[keys["first_name"]], out[keys["last_name"]] = _name_parts(out[full_key])
    else:
        out[full_key] = f"{out[keys['first_name']]} {out[keys['last_name']]}"
    if record is not None:
        record.update({snake(k): out[k] for k in (full_key, keys["first_name"], keys["last_name"])})


def _name_parts(full: str) -> tuple[str, str]:
    """("Robert", "Reeves") of "Dr. Robert Reeves MD": titles and suffixes are no name."""
    words = [w for w in full.split() if w.lower().strip(".") not in HONORIFICS] or full.split()
    return words[0], words[-1]


def _full_name(record: dict[str, Any], args: dict[str, Any]) -> str | None:
    """A person's full name the record or the call (`invitee_name`) states, None if neither."""
    for source in (record, args):
        for key, value in source.items():
            ws = key.split("_")
            if isinstance(value, str) and len(value.split()) >= 2 and ws[-1] == "name" and (
                    len(ws) == 1 or ws[0] in PERSON_ENTITIES or ws[0] in ("full", "display")):
                return value
    return None


def _said_as(record: dict[str, Any], sn: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """{name-field: value} for an object `sn` (`priority`, `issuetype`, `duration`) whose
    holder's record has it as a plain value (`priority: "High"`, `issue_type: "Epic"`,
    `duration: 45` -> {"amount": 45}); None otherwise."""
    flat = sn.replace("_", "")
    value = next((v for k, v in record.items() if k.replace("_", "") == flat
                  and isinstance(v, (str, int, float)) and not isinstance(v, bool)), None)
    if value is None:
        return None
    props = schema.get("properties") or {}
    # duration: 45 reads back as {"duration": {"amount": 45, "unit": ...}}.
    names = ("name", "value", "display_name") if isinstance(value, str) else ("amount", "value", "count")
    key = next((k for k in props if snake(k) in names), None)
    return {key: value} if key is not None and _valid(props[key], value) else None


def _folder(flat_args: dict[str, Any]) -> str | None:
    """The folder a call names (to list in, make in or move to), None if none."""
    return next((flat_args[k] for k in _FOLDER_ARGS if isinstance(flat_args.get(k), str)), None)


_PARENT_LISTS = frozenset({"parents", "parent_ids", "parent_folder_ids"})
_FOLDER_ARGS = ("folder_id", "parent_id", "parent_folder_id", "destination_folder_id", "add_parents")
_CHANGED_FIELDS = frozenset({"updated_fields", "changed_fields", "fields_updated", "modified_fields"})


# Objects that are no thing of their own but the holder's facts in a box (Jira's `fields`).
_ENTITY_PARTS = frozenset({"fields", "properties", "attributes", "details"})
_MADE_WORDS = frozenset({"created", "creation", "inserted", "added"})
_LATER_WORDS = frozenset({"updated", "modified", "edited", "completed", "closed", "resolved", "canceled", "cancelled",
                          "archived", "deleted"})


def _changed_after_made(obj: dict[str, Any]) -> None:
    """Nothing about an object changed before it was made (in place, this object's own times):
    a change time before the creation time moves to it (a near miss dated a day earlier, or
    a time drawn for an older answer that left it out)."""
    leaves = [leaf for leaf in lists.time_leaves(obj) if "." not in leaf.path and "[" not in leaf.path]
    made = next((leaf for leaf in leaves if leaf.words & _MADE_WORDS and not leaf.words & {"by", "id"}), None)
    if made is None:
        return
    for leaf in leaves:
        if leaf.words & _LATER_WORDS and not leaf.words & (_MADE_WORDS | {"by", "id"}) and leaf.at < made.at:
            leaf.set(made.at)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coherent_money(out: dict[str, Any], fresh: set[str]) -> None:
    """Drawn sums of one object add up (in place): an invoice's amount_paid and
    amount_remaining make its amount_due (nothing paid while it is a draft or open, all once
    paid), and a line's amount is its quantity times its unit amount."""
    due, paid = out.get("amount_due"), out.get("amount_paid")
    if _whole(due) and _whole(paid):
        if "amount_paid" in fresh:
            state = str(out.get("status", "")).lower()
            out["amount_paid"] = due if state == "paid" else 0 if state in ("draft", "open", "") else min(paid, due)
        elif "amount_due" in fresh and due < paid:
            out["amount_due"] = paid  # what was paid already is part of what was due
        if _whole(out.get("amount_remaining")):
            # What is left is what was due less what was paid, whatever an older answer said.
            out["amount_remaining"] = max(out["amount_due"] - out["amount_paid"], 0)
            out["amount_due"] = out["amount_paid"] + out["amount_remaining"]
    price = out.get("price") if isinstance(out.get("price"), dict) else {}
    holder, unit_key = (out, "unit_amount") if "unit_amount" in out else (price, "unit_amount")
    unit = holder.get(unit_key)
    quantity = out.get("quantity")
    if _whole(unit) and _whole(quantity) and quantity > 0 and _whole(out.get("amount")):
        if "amount" in fresh:
            out["amount"] = unit * quantity
        elif {"unit_amount", "price.unit_amount"} & fresh:
            holder[unit_key] = out["amount"] // quantity  # the user's total for 10 units: a tenth each


_OCCURRENCE_LABEL = "_occurrence_label"  # a record key no response field can have
_OCCURRENCE_SAME = frozenset({"summary", "title", "name", "subject", "description", "location"})


def _occurrence(item: dict[str, Any], props: dict[str, Any], parent: dict[str, Any], parent_id: Any) -> None:
    """`item` made an occurrence of the object recorded as `parent` (in place): the parent's
    title, description and place (the first occurrence gives them where the parent's were
    never shown), and its id where the item names what it recurs from (`recurringEventId`)."""
    for key in list(item):
        sk = snake(key)
        if sk in _OCCURRENCE_SAME and isinstance(item[key], str):
            if isinstance(parent.get(sk), str) and _valid(props.get(key) or {}, parent[sk]):
                item[key] = parent[sk]
            else:
                parent[sk] = item[key]
        elif sk.startswith(("recurring", "parent")) and sk.endswith("id") and _valid(props.get(key) or {}, parent_id):
            item[key] = parent_id


_RANGE_WORDS = (("start", "end"), ("min", "max"), ("from", "to"), ("begin", "end"), ("first", "last"))


def _numeric_ranges(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(low key, high key) of the number pairs of one object that bound a range
    (`startIndex` / `endIndex`, `min_price` / `max_price`)."""
    keys = {tuple(snake(k).split("_")): k for k, v in obj.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 10 ** 9}  # not Unix times
    out = []
    for ws, key in keys.items():
        for low, high in _RANGE_WORDS:
            if low in ws:
                twin = tuple(high if w == low else w for w in ws)
                if twin in keys:
                    out.append((key, keys[twin]))
    return out


def _changed_stamp(sn: str) -> bool:
    words = set(sn.split("_"))
    return bool(words & (_CHANGED_STAMPS | {"completed", "canceled", "cancelled", "deleted", "archived", "closed",
                                             "finalized", "voided", "paid", "resolved"})) \
        and not words & ({"by", "id"} | _MONEY_WORDS)  # amount_paid is money, not when it was paid


_MONEY_WORDS = frozenset({"amount", "price", "total", "balance", "subtotal", "cost", "fee", "tax", "refunded_amount"})


def _stamped_now(sn: str, action: str, verbs: Any) -> bool:
    """A creation or change time of the object a create / update call is about: now. Not a
    completion or a due time, not who did it (`created_by`)."""
    words = set(sn.split("_"))
    if words & ({"by", "user", "id"} | _MONEY_WORDS):
        return False
    if action == "create" and not verbs:
        return bool(words & (_MADE_STAMPS | _CHANGED_STAMPS))
    return action == "update" and bool(words & _CHANGED_STAMPS)


def _example_constants(schema: dict[str, Any]) -> list[str]:
    """The system constants (INBOX, CATEGORY_PERSONAL) among an array schema's examples."""
    found = [v for example in schema.get("examples") or [] if isinstance(example, list)
             for v in example if isinstance(v, str) and re.fullmatch(r"[A-Z][A-Z_]{2,}", v)]
    return list(dict.fromkeys(found))


def _queried(tool: Tool, args: dict[str, Any]) -> list[str]:
    """The ids a query names, where its answer holds one entry per id: an input list of
    strings the description calls what to query (free/busy's `items`: "Calendars to query:
    'primary', calendar IDs or people's email addresses"), as given or by its default; [] when
    the tool has none."""
    for name, schema in (tool.input_schema.get("properties") or {}).items():
        if not isinstance(schema, dict) or _schema_type(schema) != "array" \
                or _schema_type(schema.get("items") or {}) != "string" \
                or not re.search(r"\bto (?:query|check|look up)\b", str(schema.get("description", "")), re.I):
            continue
        given = args.get(name, schema.get("default"))
        if isinstance(given, list) and given and all(isinstance(v, str) for v in given):
            return list(dict.fromkeys(given))
    return []


def _person_match(sn: str, kind: str, record: dict[str, Any], schema: dict[str, Any],
                  values: ValueFactory) -> tuple[Any, bool]:
    """A person's address and name agree: Randy Potts is randy.potts@..., not
    john.hernandez@... (the one known first decides the other); also for prefixed pairs
    (`user_name` / `user_email`). (value, found)."""
    prefix = sn.rsplit("_", 1)[0] if "_" in sn and sn.rsplit("_", 1)[0] in PERSON_ENTITIES else ""
    if kind == "email" and "email" in sn:
        who = sn.removesuffix("_email_address").removesuffix("_email")
        keys = (f"{who}_name",) if who in PERSON_ENTITIES else tuple(_PERSON_NAME_KEYS)
        name = next((record[k] for k in keys if isinstance(record.get(k), str)), None)
        parts = [w for w in re.findall(r"[a-z]+", name.lower()) if w not in HONORIFICS] if name else []
        if len(parts) >= 2:
            value = f"{parts[0]}.{parts[-1]}@{values.fake.domain_name()}"
            return (value, True) if _compatible(value, schema) else (None, False)
    elif sn in _PERSON_NAME_KEYS or (prefix and sn == f"{prefix}_name"):
        keys = (f"{prefix}_email", f"{prefix}_email_address") if prefix else None
        email = next((v for k, v in record.items() if (keys is None or k in keys) and isinstance(v, str)
                      and re.fullmatch(r"[a-z]+\.[a-z]+@[\w.-]+", v)), None)
        if email:
            value = " ".join(p.capitalize() for p in email.split("@")[0].split("."))
            return (value, True) if _compatible(value, schema) else (None, False)
    return None, False


# Fields that hold what a thing is called, whatever an API names them.
_LABEL_ALIASES = ("title", "name", "summary", "subject")
# One message body under the names toolkits give it; a snippet or preview is its start. (A
# Todoist task's `content` is its title, not a body.)
_BODY_ALIASES = ("message_body", "message_text", "body", "body_text", "text", "plain_text", "markdown_text", "snippet",
                 "preview")
_SHORTENED = frozenset({"snippet", "preview"})
_RECIPIENT_ALIASES = ("to", "recipient", "recipient_email", "to_email")


@dataclass
class _Built:
    out: Any
    props: dict[str, Any]
    record: dict[str, Any] | None
    entity: str
    id_prop: str | None


@dataclass
class _Page:
    items_path: tuple[str, ...]
    entity: str
    spec: lists.ListSpec
    population: lists.Population
    offset: int  # where the page starts in the listing, as the call and the result say it
    start: int  # where it starts in population.slots
    slots: list[Any]  # ids of known entities, None for new ones
    more: bool
    token: str | None
    target: int | None  # index in slots of the item the user means
    near: list[int]  # indices in slots of near misses


@dataclass
class _Ctx:
    tool: Tool
    action: str
    step: int
    flat_args: dict[str, Any]
    arg_ids: dict[str, Any]
    emails: list[str]
    made: str = ""  # the noun a create makes (`subtask`), "" for other calls
    verbs: list[str] = field(default_factory=list)  # verbs of the name that leave a state
    page: _Page | None = None
    listing: Listing | None = None
    retiring: dict[str, str] = field(default_factory=dict)  # ids this call deletes -> permanent | soft
    primary_done: bool = False  # the object the call is about has been built
    foreign: int = 0  # how many objects of other entities enclose what is built now
    parent_id: Any = None
    given: list[str] = field(default_factory=list)  # the call's own arguments that are no ids, as named
    pending: list[tuple] = field(default_factory=list)  # objects to index once the response is final
    fresh: list[tuple[str, ...]] = field(default_factory=list)  # paths of leaves drawn (not given) by this call


def _lists(tool: Tool, action: str) -> bool:
    """A call that answers with a listing: a list verb, a read of a plural noun (`GET_TASKS`,
    `GET_ACTIVE_TASKS`, `GET_ALL_COMMENTS`) or a call that takes a limit."""
    ws = words(tool.original_name)
    return action == "list" or reads_many(tool.original_name) or (action == "get" and bool(ws) and (
        singular(ws[-1]) != ws[-1])) or any(snake(k) in LIMIT_KEYS for k in tool.input_schema.get("properties") or {})


def _keep_length(record: dict[str, Any], before: dict[str, Any]) -> None:
    """An update that moves a start and says nothing of the end moves the end as far: the
    meeting keeps its length (`PATCH_EVENT(start=...)`). A `date` and a `dateTime` of one
    object first agree on the day the update gave (`start: {date: "2026-05-02"}` moves the
    start's date-time to that day)."""
    leaves = lists.time_leaves(record)
    for day in leaves:
        if snake(day.key) != "date" or day.kind != "date":
            continue
        moment = next((leaf for leaf in leaves if leaf.holder is day.holder
                       and snake(leaf.key) in ("date_time", "datetime")), None)
        if moment is None:
            continue
        day_moved, moment_moved = before.get(day.path) != day.at, before.get(moment.path) != moment.at
        if day_moved and not moment_moved:
            moment.set(moment.at.replace(year=day.at.year, month=day.at.month, day=day.at.day))
        elif moment_moved and not day_moved:
            day.set(moment.at)
    leaves = lists.time_leaves(record)
    for start in leaves:
        if not start.starts or start.path not in before or before[start.path] == start.at:
            continue
        end_path = start.path.replace("start", "end").replace("Start", "End")
        end = next((leaf for leaf in leaves if leaf.path == end_path and leaf.ends), None)
        if end is not None and before.get(end_path) == end.at:
            end.set(end.at + (start.at - before[start.path]))


def _undone_time(sn: str) -> bool:
    """`completed_at`, `canceled_at`: when something that has not happened to a new thing did."""
    ws = sn.split("_")
    return bool(set(ws) & _UNDONE_WORDS) and ws[-1] in ("at", "time", "date", "on")


def _made_noun(name: str) -> str:
    """The noun a create makes: the first noun after its verb (`CREATE_SUBTASK` -> subtask,
    `ADD_TASK_TO_SECTION` -> task); a `sub` / `child` word joins the noun after it."""
    ws = words(name)
    verbs = [i for i, w in enumerate(ws) if w in ALL_VERBS]
    rest = ws[verbs[0] + 1:] if verbs else ws
    nouns = [w for w in rest if w not in NAME_NOISE and w not in ALL_VERBS]
    if len(nouns) > 1 and nouns[0] in ("sub", "child"):
        return "sub" + singular(nouns[1])
    return singular(nouns[0]) if nouns else ""


def _deleted_ids(tool: Tool, args: dict[str, Any], slots) -> list[Any]:
    """The id a deleting call retires (see `retired_slot`)."""
    ids = [s for s in slots if str(args[s.name]).lower() not in _KEYWORD_IDS]
    slot = retired_slot(tool, ids)
    return [args[slot.name]] if slot is not None else []


def retired_slot(tool: Tool, slots=None):
    """The id input (a `catalog.fields.Slot`) whose entity a deleting call retires: the last one
    naming a noun of the tool's name (`DELETE_EVENT(calendarId, eventId)` -> eventId); with no
    such noun (`GMAIL_MOVE_TO_TRASH`), its last id; None when the name deletes a part of
    something else (`DELETE_CONTENT_RANGE(document_id)`: the document stays). `slots`: the id
    inputs to choose from (default: all of the tool's)."""
    if slots is None:
        # An id defaulting to a keyword ("me") names the account, not what is deleted.
        slots = [s for s in input_slots(tool.input_schema, tool.original_name) if s.kind == "id"
                 and str(s.schema.get("default", "")).lower() not in _KEYWORD_IDS - {""}]
    ws = words(tool.original_name)
    nouns = {singular(w) for w in ws if w not in NAME_NOISE and w not in ALL_VERBS}
    own = [s for s in slots if singular((id_entity(s.name) or snake(s.name)).split("_")[-1]) in nouns]
    if own:
        return own[-1]
    return slots[-1] if slots and nouns <= {singular(ws[0])} else None


def _gone_words(name: str) -> str:
    ws = words(name)
    if "trash" in ws:
        return "in the trash"
    for verb, state in (("cancel", "cancelled"), ("void", "void"), ("archive", "archived"), ("revoke", "revoked")):
        if verb in ws:
            return state
    return "deleted"


def _items_path(schema: dict[str, Any]) -> tuple[str, ...] | None:
    """Path (property names) of a response's outermost array of objects: a listing's items."""
    level: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    for _ in range(5):
        deeper = []
        for path, node in level:
            if not isinstance(node, dict):
                continue
            if _schema_type(node) == "array":
                items = node.get("items")
                if isinstance(items, dict) and (_schema_type(items) == "object" or "properties" in items
                                                or any(k in items for k in ("oneOf", "anyOf", "allOf"))):
                    return path
                continue
            deeper += [(path + (k,), v) for k, v in (node.get("properties") or {}).items()]
        level = deeper
    return None


def _has_paging(schema: dict[str, Any]) -> bool:
    """Whether a response can say there is another page (a next-page token, `has_more`)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        for key, sub in ((node.get("properties") or {}) if isinstance(node, dict) else {}).items():
            if snake(key) in NEXT_PAGE_KEYS or snake(key) in ("next_page_token", "has_more", "is_last"):
                return True
            if isinstance(sub, dict) and _schema_type(sub) == "object":
                stack.append(sub)
    return False


def _holds_id(name: str, schema: dict[str, Any]) -> bool:
    if classify(name, schema, "")[0] == "id":
        return True
    items = schema.get("items")
    if isinstance(items, dict):
        return _holds_id(name, items)
    return any(_holds_id(k, v) for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict))


def _flatten_args(args: dict[str, Any], prefix: str = ""):
    """Top-level arguments plus the leaves of object arguments (start.dateTime -> date_time)."""
    for key, value in args.items():
        yield key, value
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                if not isinstance(sub_value, (dict, list)):
                    yield f"{snake(key)}_{snake(sub_key)}", sub_value
