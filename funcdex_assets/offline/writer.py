"""The conversation stage of the embedded backend: executes a plan into DML turns.

User turns only state what a user could know (values from the plan, or things the assistant
showed them); ids in calls come from earlier responses in the World; clarification turns
appear where the plan says the user left a required value out, or where a list gave several
candidates and the user has not said which; independent calls go out together as one parallel
call; a destructive step the user did not order outright is confirmed first; an injected tool
failure is followed by its recovery (a retry, a question to the user, or an honest report);
each request ends with an assistant summary built from what actually happened.
"""

from __future__ import annotations

import json
import re
from string import Formatter
from typing import Any

from funcdex_assets.backends.base import Persona
from funcdex_assets.catalog.actions import about_self, action_verb, changes_by_arguments, deletion_kind, destructive_kind, name_action, reads_many
from funcdex_assets.catalog.fields import input_slots, snake
from funcdex_assets.catalog.names import toolkit_display_name
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.specialize import schema_order
from funcdex_assets.dml.validator import reports_failure, schema_validator
from funcdex_assets.export.trl import to_messages, tools_list
from funcdex_assets.quality.detectors.calls import repeated_call
from funcdex_assets.quality.detectors.errors import implausible_denial
from funcdex_assets.quality.detectors.text import DOUBLED, MAY_DOUBLE
from funcdex_assets.quality.dialogue import dialogue_from_messages
from funcdex_assets.offline import lists
from funcdex_assets.offline.language import (
    entity_phrase,
    format_value,
    humanize,
    ing,
    past,
    phrasings,
    pick,
    plural,
    request_phrase,
    tool_verb,
)
from funcdex_assets.offline.planner import MAX_PARALLEL, ConversationPlan, PlannedRequest, PlannedStep, order_windows
from funcdex_assets.offline.speech import NamingBudget, bare, named_constants, plain, say, spoken_date
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.offline.world import Produced, World, retired_slot, tool_action
from funcdex_assets.sampling.graph import build_node

_LINK_KEYS = ("html_link", "web_view_link", "html_url", "url", "permalink", "link", "web_url", "hosted_invoice_url")
_PAST_OVERRIDES = {"get": "retrieved", "list": "found", "search": "found", "find": "found", "fetch": "fetched",
                   "reply": "replied to"}

# How a request of several steps is said (people vary it): as sentences ("First, ... Then ...")
# this often, as a numbered list (three steps) this often, else one sentence with joiners.
SENTENCES_RATE = 0.4
LIST_RATE = 0.3
# A request about something the user has seen by name starts with it this often ("About the
# "Q3 plan" event: update it ...").
CONTEXT_RATE = 0.15
# Request verbs whose "a/an <entity>" is the one the user points at ("send an invoice" + the
# invoice "INV-7" -> "send the invoice "INV-7""); after other verbs it is a new one.
_ACTS_ON_INDEFINITE = frozenset({"send", "submit", "open"})
# Entities other things live in: "list the tasks in the "Launch" project".
_CONTAINERS = frozenset({"project", "folder", "calendar", "document", "channel", "board", "list", "space", "drive",
                         "spreadsheet", "sheet", "workspace", "repository", "repo", "team", "thread", "chat",
                         "group", "section", "task list", "tasklist", "notebook", "conversation", "mailbox",
                         "playlist", "database", "table", "sprint", "site", "page"})
_IN_VERBS = frozenset({"list", "search", "find", "get", "fetch", "create", "add", "post", "send", "upload", "insert",
                       "count", "query", "write"})
# Nouns a request puts on something ("add a comment on the "OPS-2" issue").
_ON_NOUNS = frozenset({"comment", "comments", "note", "notes", "reaction", "label", "labels", "tag", "tags", "watcher",
                       "watchers", "attachment", "attachments", "attendee", "attendees", "reply", "vote", "star"})
_COUNT_WORDS = {2: "two", 3: "three", 4: "four"}
_ORDINALS = ("second", "third", "fourth", "fifth")


class ConversationWriter:
    def __init__(self, plan: ConversationPlan, tools: dict[str, Tool], persona: Persona, scenario: str,
                 values: ValueFactory):
        self.plan = plan
        self.tools = tools
        self.persona = persona
        self.scenario = scenario
        self.values = values
        self.rng = values.rng
        # The user's phrasings follow their tone (phrasebook entries split by tone).
        self.tone = persona.tone
        self.world = World(values, me={"name": persona.name, "email": persona.email}, integer_id_keys=frozenset(
            slot.key for tool in tools.values() for slot in input_slots(tool.input_schema, tool.original_name)
            if slot.kind == "id" and _wants_integer(slot.schema)))
        self.turns: list[Any] = []
        # step -> argument -> the value the user pointed at (by name, or by answering "which one?")
        self.chosen: dict[int, dict[str, Any]] = {}
        # step -> what became of it, for the request's summary (None: it ran and succeeded)
        self.outcome: dict[int, str] = {}
        # What the assistant still has to say at its next text (a refused call's report).
        self.carry = ""
        self.carry_step = -1
        self.reported: set[int] = set()  # steps whose result was said since the user's request
        # step -> its (last) response
        self.responses: dict[int, Any] = {}
        # step -> reused arguments the user stated instead (no result held a fitting value)
        self.said_reuse: dict[int, set[str]] = {}
        self._tools_list: list[dict[str, Any]] | None = None  # the offered tools as the detectors read them
        # Values of entities a call deleted, trashed or cancelled: nothing later acts on them.
        self.retired: set[str] = set()
        # (entity, label) the step just put into words named by its label (_step_phrase).
        self._named: tuple[str, str] | None = None

    def _say(self, text: str) -> None:
        """Assistant text, after anything still to be said (a refused call's report)."""
        if self.carry:
            text = f"{self.carry} {text}".strip()
            self.carry = ""
        self.turns.append(AssistantTurn(text=text))

    def write(self) -> list[Any]:
        for req_no, request in enumerate(self.plan.requests):
            if request.out_of_scope:
                self._out_of_scope(req_no, request)
                continue
            self._user_request(req_no, request)
            self.reported = set()
            for g, group in enumerate(request.groups):
                self._group(group, request, g)
            # What the assistant already said in this turn (a listing it asked "which one?"
            # about, a result between calls) is not said again in the summary.
            # Two steps with the same answer (the same listing twice) read as one sentence.
            results = " ".join(dict.fromkeys(self._result(i) for i in request.steps if i not in self.reported))
            mixed = any(i in self.outcome for i in request.steps)
            if self.plan.thoughts:
                done = [i for i in request.steps if i not in self.outcome]
                missed = _series([request_phrase(self.tools[self.plan.steps[i].tool]) for i in request.steps
                                  if i in self.outcome])
                calls = "the one call" if len(done) == 1 else f"{_count_word(len(done))} calls"
                text = (pick(self.rng, "thought_summary_mixed", missed=missed) if mixed else
                        pick(self.rng, "thought_summary", calls=calls))
                self.turns.append(ThoughtTurn(text=text[:1].upper() + text[1:]))
            summary = pick(self.rng, "segment_summary_mixed" if mixed else "segment_summary", results=results) \
                if results else pick(self.rng, "segment_summary_said")
            if req_no == len(self.plan.requests) - 1 and not self.plan.closing:
                summary += pick(self.rng, "anything_else")
            self._say(summary)
        if self.plan.closing:
            self.turns.append(UserTurn(text=self._pick("closing_user")))
            # The user's name only once they have said it (the system prompt may not give it).
            # As a word: "New Michaelport" does not give the name Michael.
            said = re.compile(rf"\b{re.escape(self.persona.first_name)}\b")
            named = any(said.search(t.text) for t in self.turns if isinstance(t, UserTurn))
            key = "closing_assistant_named" if named and self.rng.random() < 1 / 3 else "closing_assistant"
            self._say(pick(self.rng, key, first_name=self.persona.first_name))
        self.turns = [t.model_copy(update={"text": _once(t.text)}) if isinstance(t, (UserTurn, AssistantTurn))
                      and _once(t.text) != t.text else t for t in self.turns]
        return self.turns

    # ---- user requests -----------------------------------------------------------------
    def _pick(self, key: str, **fields: Any) -> str:
        """A phrasing of `key` for the user's tone, chosen by the conversation's rng (as
        `language.pick`), with a field that starts a sentence capitalised."""
        return _fill(self.rng.choice(phrasings(key, self.tone)), fields)

    def _phrase(self, key: str, **fields: Any) -> str:
        """A phrasing of `key` for the user's tone that goes inside a sentence (a reference, a
        joiner): filled in as it is."""
        return pick(self.rng, key, self.tone, **fields)

    def _greeted(self, text: str) -> str:
        """The first user turn: a greeting (or none), then `text`."""
        p = self.persona
        greeting = self._pick("greeting", name=p.name, first_name=p.first_name, role=p.role, company=p.company)
        return " ".join(x for x in (greeting, text) if x)

    def _opening(self, req_no: int, body: str, kind: str = "phrase", steps: int = 1, intro: str = "") -> str:
        """The user turn asking for `body`: a verb phrase (`kind` "phrase"), or whole sentences
        ("sentences", "list"), which only fit a phrasing that ends with them. A phrase of
        several `steps` takes no phrasing that adds to its last step ("{request} next.").
        `intro` ("I have three requests.") goes before sentences, unless a first request's
        phrasing introduces them already ("I need the following done. {request}")."""
        options = phrasings("followup_request" if req_no else "first_request", self.tone)
        last = next((t for t in reversed(self.turns) if isinstance(t, AssistantTurn) and t.text), None)
        if req_no and last is not None and _BAD_NEWS.search(last.text):
            # After "I couldn't ..." nobody says "Great, thanks!".
            options = [t for t in options if not _PRAISE.search(t)] or options
        if kind != "phrase":
            options = [t for t in options if _takes_sentences(t)]
        elif steps > 1:
            options = [t for t in options if not _adds_to_last_step(t)]
        template = self.rng.choice(options)
        if kind == "phrase" and _takes_sentences(template):
            body = _ended(body)
        if intro and (req_no or template == "{request}"):
            body = f"{intro} {body}"
        text = _fill(template, {"request": body})
        # The scenario stays out of the user's words: it is the generator's brief, written
        # about the user in the third person (the prompt_leak detector).
        return text if req_no else self._greeted(text)

    def _out_of_scope(self, req_no: int, request: PlannedRequest) -> None:
        self.turns.append(UserTurn(text=self._pick("out_of_scope_request", request=request.out_of_scope)))
        names = _series(sorted({toolkit_display_name(t.toolkit) for t in self.tools.values()}))
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_out_of_scope", request=request.out_of_scope,
                                                    toolkits=names)))
        self._say(pick(self.rng, "out_of_scope_answer", request=_addressed(request.out_of_scope),
                       toolkits=names))

    def _user_request(self, req_no: int, request: PlannedRequest) -> None:
        first = self.plan.steps[request.steps[0]]
        if first.implicit:
            thing = self._target_phrase(first, request.steps[0], spoken=True)
            kind = destructive_kind(self.tools[first.tool].original_name, first.user_args) or "delete"
            # Lowercase as written: the goal phrasing capitalises it where it starts a sentence.
            goal = self._phrase(f"implicit_{kind}", thing=thing)
            self.turns.append(UserTurn(text=self._greeted(self._pick("first_goal", request=goal)) if req_no == 0
                                       else self._pick("followup_goal", goal=goal)))
            return
        parts = []
        context: dict[str, str] | None = None
        # What the previous step named by its label: named again, it is "it".
        self._named = None
        budget = NamingBudget()  # one field named before its value in the whole message
        for pos, i in enumerate(request.steps):
            step = self.plan.steps[i]
            part, about = self._step_phrase(step, i, pos, request)
            context = context or about
            for placement in self._placements(step, i):
                part += " " + placement
            # A value to carry over from an earlier result is the user's to say when no result
            # shown so far holds one that fits (an address list, not a single address).
            said = {k for k in step.reuse if k not in step.clarify and not self._reusable(step, k, i)}
            self.said_reuse.setdefault(i, set()).update(said)
            stated = {k: step.first_try.get(k, v) for k, v in step.user_args.items()
                      if k not in step.clarify and (k not in step.reuse or k in said)}
            spoken = say(self.rng, stated, self.tone, budget) if stated else ""
            if spoken:
                part += " " + self._phrase("mention_values", values=spoken)
            for n, copy in enumerate(step.copies):
                # A reused value the user had to state is stated for each copy too.
                extra = {k: v for k, v in copy.items() if k not in step.reuse or k in said}
                part += self._phrase("another_copy", nth=_ORDINALS[min(n, len(_ORDINALS) - 1)]) + (
                    " " + say(self.rng, extra, self.tone, budget) if extra else "")
            parts.append(part)
        body, kind, intro = self._body(parts, context)
        self.turns.append(UserTurn(text=self._opening(req_no, body, kind, len(parts), intro)))

    def _body(self, parts: list[str], context: dict[str, str] | None) -> tuple[str, str, str]:
        """The steps of one request as the user says them: (text, kind, intro), kind "phrase"
        (one verb phrase, "create ..., then share it"), "sentences" ("First, create ... Then
        share it.", after `intro`, "I have two requests.", or none) or "list" (an intro, then
        "1. Create ..." lines)."""
        if context is not None:
            return self._pick("context_request", request=self._joined(parts), **context), "sentences", ""
        n = len(parts)
        if n < 2:
            return parts[0], "phrase", ""
        r = self.rng.random()
        if n >= 3 and r < LIST_RATE:
            items = "\n".join(f"{k}. {_capitalised(part)}" for k, part in enumerate(parts, 1))
            return f"{self._pick('list_intro')}\n{items}", "list", ""
        if r >= 1 - SENTENCES_RATE:
            sentences = [self._pick("step_first", request=parts[0])]
            for k, part in enumerate(parts[1:], 1):
                last = k == n - 1 and (n > 2 or self.rng.random() < 0.3)
                sentences.append(self._pick("step_last" if last else "step_next", request=part))
            intro = self._pick("steps_intro", n=_COUNT_WORDS.get(n, str(n)))
            return " ".join(sentences), "sentences", intro
        return self._joined(parts), "phrase", ""

    def _joined(self, parts: list[str]) -> str:
        """Steps joined in one sentence, no joiner twice in a row ("..., then ..., and after
        that ...")."""
        text, last = parts[0], None
        for part in parts[1:]:
            joiner = self.rng.choice([j for j in phrasings("then_join", self.tone) if j != last])
            text, last = text + joiner + part, joiner
        return text

    def _step_phrase(self, step: PlannedStep, i: int, pos: int,
                     request: PlannedRequest) -> tuple[str, dict[str, str] | None]:
        """The step's request ("delete the event") with what it acts on, as the user can name
        it: by its label when they have seen it, "the new event" / "it" / "each of them" for
        what the same request makes or lists first. Also, when the request is to open with the
        thing it is about ("About the "Q3 plan" event: update it"), {entity, label} of it."""
        phrase = request_phrase(self.tools[step.tool])
        named, self._named = self._named, None
        if not step.grounded:
            return phrase, None
        arg, key = self._primary(step)
        entity = entity_phrase(key[:-3])
        context = None
        if step.each:
            noun = self._phrase("each_reference", entities=plural(entity), entity=entity)
        else:
            choice = self._pointed(step, i)
            source = step.sources.get(arg)
            if choice is None:
                noun = self._pending(entity, source, pos, request)
            else:
                entity = entity_phrase(choice.entity)
                # A name only a tool result showed is no name the user knows (unseen_reference):
                # they say "that message", not "the message "Red plan"".
                label = choice.label if choice.label and self._said(choice.label) else None
                if label:
                    self._named = (entity, label)
                if label and pos == 0 and self.rng.random() < CONTEXT_RATE:
                    context, noun = {"entity": entity, "label": label}, "it"
                elif label and named == self._named:
                    noun = "it"
                elif label:
                    noun = self._phrase("label_reference", entity=entity, label=label)
                else:
                    noun = self._phrase("it_reference", entity=entity)
        return self._placed(phrase, entity, noun), context

    def _pending(self, entity: str, source: int | None, pos: int, request: PlannedRequest) -> str:
        """How the user names what an earlier step of the same request gives (not seen yet):
        "it" for the one thing the step just before made or got, "the new event" for what a
        step creates, "the event you find" for one out of a list, else "that event"."""
        producer = self.tools[self.plan.steps[source].tool] if source is not None else None
        if producer is None:
            return self._phrase("same_reference", entity=entity)
        made = self.plan.steps[source]
        if reads_many(producer.original_name) or made.each or made.copies:
            # One out of several: not "it".
            return self._phrase("found_reference", entity=entity)
        # What the producer is about, not another id in its result (an event's calendar).
        own = entity_phrase(_entity_of(producer)) == entity
        single = own and request_phrase(producer).endswith(f" {entity}")
        if pos and source == request.steps[pos - 1] and single:
            return "it"
        if own and tool_action(producer) == "create":
            return self._phrase("made_reference", entity=entity)
        return self._phrase("same_reference", entity=entity)

    def _placed(self, phrase: str, entity: str, noun: str) -> str:
        """`noun` in the request: in place of its own noun when that is the entity ("delete
        the event" -> "delete the "Q3 plan" event"), else after a preposition that fits ("add
        a comment on ...", "list the tasks in ...", "get the event instances for ...")."""
        verb = phrase.split(" ", 1)[0]
        for article in ("the", "a", "an"):
            tail = f" {article} {entity}"
            if phrase.endswith(tail) and (article == "the" or verb in _ACTS_ON_INDEFINITE):
                return phrase[: -len(tail)] + " " + noun
        rest = phrase.split(" ", 1)[1] if " " in phrase else ""
        inside = re.search(rf" the {re.escape(entity)} (?=(?:as|to|from|into|in|on) )", phrase)
        if inside:
            # "mark the invitee as a no-show" -> "mark that invitee as a no-show"
            return phrase[:inside.start()] + f" {noun} " + phrase[inside.end():]
        if rest.startswith(("it to the ", "it into the ", "it from the ")):
            return f"{verb} {noun} {rest[3:]}"  # "move that message to the trash", not "... to the trash for it"
        head = phrase.rsplit(" ", 1)[-1]
        options = ["for"]
        if verb in ("add", "attach", "invite"):
            options += ["to", "to"]
        if head in _ON_NOUNS:
            options.append("on")
        if verb == "insert":
            options = ["into", "in"]
        elif entity in _CONTAINERS and verb in _IN_VERBS and entity not in phrase:
            options += ["in", "in"]
        return f"{phrase} {self.rng.choice(options)} {noun}"

    def _pointed(self, step: PlannedStep, i: int) -> Produced | None:
        """The entity a grounded step acts on, when the user has seen it: they name it (results
        of earlier requests were shown to them). None when its producer has not run yet."""
        if not step.grounded:
            return None
        arg, key = self._primary(step)
        hits = self._latest(key, i)
        source = step.sources.get(arg)
        # What the same request asks for first has not run yet: the user cannot name it (and an
        # older result under the same key is not what they mean).
        if not hits or (source is not None and source >= self._request_start(i)):
            return None
        if arg in self.chosen.get(i, {}):
            return next((h for h in hits if h.value == self.chosen[i][arg]), None)
        # Not what the same tool already did, when there is another (repeated_call).
        hits = [h for h in hits if not self._done(step.tool, arg, h.value)] or hits
        # The user names what they were shown: a listing's summary names a few of its items
        # ("... and 13 more"), and those are the ones they can point at.
        shown = " ".join(t.text for t in self.turns if isinstance(t, AssistantTurn))
        visible = [h for h in hits if h.label and f'"{h.label}"' in shown]
        # A name two items share points at neither: the user names one only it has.
        counts: dict[str, int] = {}
        for h in hits:
            if h.label:
                counts[h.label] = counts.get(h.label, 0) + 1
        unique = [h for h in (visible or hits) if h.label and counts[h.label] == 1]
        used = self._last_used(hits)
        if used is not None and not self._done(step.tool, arg, used):
            # "That phone number" after one was used: the same one.
            choice = next(h for h in hits if repr(h.value) == repr(used))
        elif not (unique or visible) and len({repr(h.value) for h in hits}) > 1:
            # Several, none the user can name: the assistant asks which (_choose_target).
            return None
        else:
            choice = self.rng.choice(unique or visible or hits)
        self.chosen.setdefault(i, {})[arg] = choice.value
        return choice

    def _repeats(self, tool: Tool, args: dict[str, Any]) -> bool:
        """Whether calling `tool` with `args` now would do again what an earlier call did, with
        nothing changed since (the `repeated_call` detector's reading)."""
        if not any(isinstance(t, ToolCallTurn) and t.name == tool.name for t in self.turns):
            return False
        return self._flags_last_call(repeated_call, ToolCallTurn(name=tool.name, arguments=args))

    def _implausible_refusal(self, failure: Any) -> bool:
        """Whether a refusal as the answer to the call just appended is one the
        `implausible_denial` detector finds."""
        return self._flags_last_call(implausible_denial, ToolResponseTurn(content=failure))

    def _flags_last_call(self, detector: Any, turn: Any) -> bool:
        """Whether `detector` finds the last call of the conversation so far plus `turn` at
        fault: the writer asks the very detectors the gate runs, so the two cannot disagree."""
        messages = to_messages([*self.turns, turn], "draft")
        if self._tools_list is None:
            self._tools_list = tools_list(list(self.tools.values()))
        dialogue = dialogue_from_messages(messages, self._tools_list)
        last = dialogue.calls[-1].index if dialogue.calls else -1
        return any(f.message_index == last for f in detector(dialogue))

    def _last_used(self, hits: list[Produced]) -> Any:
        """The candidate an earlier call of the conversation used last, None if none was."""
        values = {repr(h.value): h.value for h in hits}
        for turn in reversed(self.turns):
            if isinstance(turn, ToolCallTurn):
                for value in turn.arguments.values():
                    if not isinstance(value, (dict, list)) and repr(value) in values:
                        return values[repr(value)]
        return None

    def _done(self, tool: str, arg: str, value: Any) -> bool:
        """Whether an earlier call of `tool` already acted on `value` (as `arg`) and no changing
        call since names it: doing it again repeats a call (the `repeated_call` detector)."""
        done = False
        for turn in self.turns:
            if not isinstance(turn, ToolCallTurn):
                continue
            if turn.name == tool and turn.arguments.get(arg) == value:
                done = True
            elif done and name_action(self.tools[turn.name].original_name) not in ("get", "list") \
                    and value in turn.arguments.values():
                done = False
        return done

    def _primary(self, step: PlannedStep) -> tuple[str, str]:
        """The grounded argument naming what the call acts on: the one of the tool's own
        entity (DELETE_EVENT's event id, not its calendar id), else the last one."""
        entity = _entity_of(self.tools[step.tool])
        items = list(step.grounded.items())
        return next(((a, k) for a, k in items if k == f"{entity}_id"), items[-1])

    def _home(self, step: PlannedStep, i: int, arg: str, args: dict[str, Any] | None = None) -> Any:
        """Where the object the step acts on lives, for container argument `arg` (the calendar
        of the event): what the world recorded when it made or listed the object; None when
        the object is not known yet or `arg` is the object itself."""
        primary, key = self._primary(step)
        if arg == primary or arg not in step.grounded:
            return None
        target = (args or {}).get(primary, self.chosen.get(i, {}).get(primary))
        if target is None and args is None:
            pointed = self._pointed(step, i)  # the user names what they were shown
            target = pointed.value if pointed is not None else None
        source = step.sources.get(primary)
        if target is None and source is not None and self.plan.steps[source].grounded:
            # "Get the event 'Firm good', then update it": it is what the earlier step names.
            earlier, earlier_key = self._primary(self.plan.steps[source])
            if earlier_key == key:
                target = self.chosen.get(source, {}).get(earlier)
        if target is None:
            return None
        record = self.world.records.get((key[:-3], str(target)))
        if not record:
            return None
        return record.get(step.grounded[arg], record.get(snake(arg)))

    def _said(self, label: str) -> bool:
        """Whether a message of the conversation so far (not a tool result) says `label`: what
        the user can name."""
        needle = label.strip().lower()
        return any(needle in t.text.lower() for t in self.turns if isinstance(t, (UserTurn, AssistantTurn)))

    def _acts_on_unseen(self, step: PlannedStep, i: int) -> bool:
        """The step reads, changes or deletes (not makes, moves or copies) an object an earlier
        step of the same request brings: the user has not seen it."""
        tool = self.tools[step.tool]
        if name_action(tool.original_name) == "create" or action_verb(tool.original_name) in ("move", "copy"):
            return False
        source = step.sources.get(self._primary(step)[0])
        return source is not None and source >= self._request_start(i)

    def _request_start(self, i: int) -> int:
        return next(r.steps[0] for r in self.plan.requests if i in r.steps)

    def _placements(self, step: PlannedStep, i: int) -> list[str]:
        """How the user says where the rest goes: an optional id taken from an earlier result
        besides the one the call acts on (a folder for a copy, a parent project) is the user's
        choice, so they say it ("in the folder "Q3""); the assistant adds nothing unasked."""
        if not step.grounded:
            return []
        primary, _ = self._primary(step)
        required = set(self.tools[step.tool].input_schema.get("required") or [])
        out = []
        said_there = False
        for arg, key in step.grounded.items():
            if arg != primary and arg in required and lists.is_person(key[:-3]):
                # Whom an issue is assigned to is the user's to say ("assign it to Ana Ruiz"),
                # once they have seen that person.
                people = [h for h in self._latest(key, i) if h.label]
                source = step.sources.get(arg)
                if people and source is not None and source < self._request_start(i):
                    choice = self.rng.choice(people)
                    self.chosen.setdefault(i, {})[arg] = choice.value
                    verb = action_verb(self.tools[step.tool].original_name)
                    out.append(f"{'to' if verb == 'assign' else 'for'} {choice.label}")
                continue
            if arg == primary or arg in required:
                continue
            hits = [h for h in self._latest(key, i) if repr(h.value) not in self.retired]
            home = self._home(step, i, arg)
            if home is not None:
                # The calendar the event is in, not another one the user has seen.
                hits = [h for h in hits if str(h.value) == str(home)]
            elif self._acts_on_unseen(step, i):
                # Which event is not known yet (the list comes first), so neither is its calendar:
                # the call takes the one the event was listed in, and the user names none.
                continue
            source = step.sources.get(arg)
            seen = source is not None and source < self._request_start(i)
            named = [h for h in hits if h.label and self._said(h.label)]
            if seen and named:
                choice = self.rng.choice(named)
                self.chosen.setdefault(i, {})[arg] = choice.value
                # Where a new thing goes ("into"); where a read looks ("within").
                key_word = "placement" if name_action(self.tools[step.tool].original_name) in (
                    "create", "update", "copy", "move") else "scope"
                out.append(pick(self.rng, f"{key_word}_reference", self.tone, entity=entity_phrase(choice.entity),
                                label=choice.label))
            elif hits and not said_there:
                # "there" once: a task's section and project are one place ("in there there too").
                out.append(pick(self.rng, "placement_it", self.tone, entity=entity_phrase(key[:-3])))
                said_there = True
        return out

    def _target_phrase(self, step: PlannedStep, i: int, spoken: bool = False) -> str:
        """What a destructive step acts on: `the event "Q3 plan"` / `that event` (the
        assistant's wording, which _confirm fits into its question), or as the user names it
        (`spoken`: phrasings of label_reference / it_reference)."""
        choice = self._pointed(step, i)
        key = self._primary(step)[1] if step.grounded else "item_id"
        entity = entity_phrase(choice.entity if choice else key[:-3])
        if choice is not None and choice.label and (not spoken or self._said(choice.label)):
            if spoken:
                return self._phrase("label_reference", entity=entity, label=choice.label)
            return f'the {entity} "{choice.label}"'
        if spoken and choice is not None:
            return self._phrase("it_reference", entity=entity)
        return f"that {entity}"

    # ---- one group of calls ------------------------------------------------------------
    def _group(self, group: list[int], request: PlannedRequest, g: int) -> None:
        calls: list[tuple[int, Tool, dict[str, Any]]] = []
        for i in group:
            step = self.plan.steps[i]
            tool = self.tools[step.tool]
            self._choose_target(step, i, request)
            # A required value the user left to an earlier result that did not show one (a
            # project whose lead has no address): asked for, not made up.
            unshown = [k for k in step.reuse if k in (tool.input_schema.get("required") or [])
                       and k not in self.said_reuse.get(i, ()) and k not in step.clarify
                       and not self._reuse_hits(step, k, i)]
            if unshown:
                step.clarify = [*step.clarify, *unshown]
                self.said_reuse.setdefault(i, set()).update(unshown)
            # A required value nothing gives (no result, no default, not said): asked for, never
            # left out with "the search came back empty" (there was no search).
            props = tool.input_schema.get("properties") or {}
            unsaid = [k for k in tool.input_schema.get("required") or []
                      if k not in step.user_args and k not in step.grounded and k not in step.defaults
                      and k not in step.assistant_args and k not in step.reuse and k not in step.clarify
                      and isinstance(props.get(k), dict)]
            for k in unsaid:
                step.user_args[k] = self.values.value(k, props[k], holder=_entity_of(tool))
            if unsaid:
                step.clarify = [*step.clarify, *unsaid]
            if step.clarify:
                self._clarify(step, tool)
            if step.confirm != "none" and not self._confirm(step, tool, i):
                continue
            required = tool.input_schema.get("required") or []
            for args in self._call_arguments(step, tool, i):
                if any(name not in args for name in required):
                    # An empty listing left nothing to act on: say so rather than call without it.
                    entity = entity_phrase(self._primary(step)[1][:-3]) if step.grounded else "item"
                    self.outcome[i] = pick(self.rng, "nothing_to_act_on", request=request_phrase(tool),
                                           entity=entity)
                    continue
                if not step.copies and self._repeats(tool, args):
                    # Asked again for what was just done, with nothing changed since: said, not
                    # called twice (repeated_call).
                    done = _PAST_OVERRIDES.get(tool_verb(tool), past(tool_verb(tool)))
                    entity = entity_phrase(_entity_of(tool))
                    self.outcome[i] = (f"The {entity} is unchanged since I {done} it above, so I didn't look again."
                                       if tool_action(tool) in ("get", "list") else
                                       f"I already {done} that {entity} above, so I didn't do it a second time.")
                    continue
                calls.append((i, tool, args))
        if not calls:
            return
        failing = next((i for i, _, _ in calls if self.plan.steps[i].failure), None)
        self._before_calls(calls, request, g)
        if failing is not None:
            self._failing_call(calls[0][0], calls[0][1], calls[0][2], last=g == len(request.groups) - 1)
            return
        for start in range(0, len(calls), MAX_PARALLEL):
            batch = calls[start:start + MAX_PARALLEL]
            if start and self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_next_batch", n=len(batch))))
            for _, tool, args in batch:
                self.turns.append(ToolCallTurn(name=tool.name, arguments=args))
            for i, tool, args in batch:
                self.turns.append(ToolResponseTurn(content=self._execute(i, tool, args)))

    def _before_calls(self, calls: list[tuple[int, Tool, dict[str, Any]]], request: PlannedRequest, g: int) -> None:
        i, tool, _ = calls[0]
        step = self.plan.steps[i]
        phrase = request_phrase(tool)
        if self.plan.thoughts:
            tools = sorted({t.name for _, t, _ in calls})
            if len(calls) > 1:
                text = pick(self.rng, "thought_parallel", n=len(calls), tools=" and ".join(tools))
            else:
                text = self._call_thought(step, tool, calls[0][2], i)
            self.turns.append(ThoughtTurn(text=text))
        asked = self.turns and isinstance(self.turns[-1], UserTurn) and (step.clarify or step.confirm != "none")
        phrases = list(dict.fromkeys(request_phrase(t) for _, t, _ in calls))
        if len(calls) > 1:
            if not asked and self.rng.random() < 0.7:
                if len(phrases) == 1:
                    entity = entity_phrase(_entity_of(tool))
                    self._say(pick(self.rng, "before_copies", n=_count_word(len(calls)), entities=plural(entity)))
                else:
                    self._say(pick(self.rng, "before_parallel", requests=_series(phrases)))
        elif g == 0 and not asked and self.rng.random() < 0.6:
            self._say(pick(self.rng, "before_call", request=phrase))
        elif g > 0 and not asked and self.rng.random() < 0.4:
            previous = request.groups[g - 1]
            # A refusal still to be reported is that step's result: not said twice.
            said = previous[-1] in self.reported or (self.carry and self.carry_step == previous[-1])
            result = "" if said else self._result(previous[-1])
            self.reported.add(previous[-1])
            self._say(pick(self.rng, "between_calls", result=result,
                           request=phrase, request_ing=ing(phrase)).strip())

        if self.carry:
            self._say("")

    def _call_thought(self, step: PlannedStep, tool: Tool, args: dict[str, Any], i: int) -> str:
        """Reasoning before one call, about this situation: what the user wants, which earlier
        result an id comes from and why that one (the item they named among several, the thing
        just created), what they said themselves, and what the assistant sets on its own."""
        parts = [pick(self.rng, "thought_intent", request=request_phrase(tool), tool=tool.name)]
        for name, key in step.grounded.items():
            if name not in args:
                continue
            value = args[name][0] if isinstance(args[name], list) and args[name] else args[name]
            hits = self._latest(key, i)
            hit = next((h for h in hits if h.value == value), None)
            fields = dict(param=humanize(name), value=format_value(value), tool=tool.name,
                          entity=entity_phrase(hit.entity if hit else key[:-3]), n=len(hits),
                          entities=plural(entity_phrase(hit.entity if hit else key[:-3])),
                          label=hit.label if hit and hit.label else "")
            if hit is None:
                parts.append(pick(self.rng, "thought_grounding", **fields))
            elif len(hits) > 1 and hit.label:
                parts.append(pick(self.rng, "thought_pick_named", **fields))
            elif name_action(self.tools[self.plan.steps[hit.step].tool].original_name) == "create":
                parts.append(pick(self.rng, "thought_pick_created", **fields))
            else:
                parts.append(pick(self.rng, "thought_grounding", **fields))
            break
        said = self.said_reuse.get(i, set())
        stated = [field_noun(k) for k in step.user_args if k in args and k not in step.grounded
                  and (k not in step.reuse or k in said)]
        if stated:
            parts.append(pick(self.rng, "thought_stated", fields=_series(stated)))
        own = [k for k in step.assistant_args if k in args]
        if own:
            parts.append(pick(self.rng, "thought_own", fields=_series([f"{field_noun(k)} {format_value(args[k])}"
                                                                        for k in own])))
        return " ".join(parts)

    # ---- before a call: clarifications, a choice among candidates, a go-ahead ------------
    def _clarify(self, step: PlannedStep, tool: Tool) -> None:
        phrase = request_phrase(tool)
        fields = " and ".join(field_noun(c) for c in step.clarify)
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_clarify", request=phrase, fields=fields)))
        self._say(pick(self.rng, "clarify_question", request=phrase, fields=fields))
        asked = {k: step.user_args[k] for k in step.clarify}
        # One value alone ("Q3 plan"); several as the user states values ("to +1..., saying
        # "..."), never "<value> for the <field>" read back like a form.
        answer = _bare(asked) if len(asked) == 1 else say(self.rng, asked, self.tone)
        self.turns.append(UserTurn(text=self._pick("clarify_answer", values=answer)))

    def _choose_person(self, step: PlannedStep, i: int) -> None:
        """What the call needs besides its target (JIRA_ASSIGN_ISSUE's accountId, the number a
        WhatsApp message goes out from, the section a new task goes in) that the user did not
        name: with several shown, the assistant asks which (a pick nobody made is the
        `silent_pick` detector's)."""
        primary = self._primary(step)[0] if step.grounded else None
        required = set(self.tools[step.tool].input_schema.get("required") or [])
        for arg, key in step.grounded.items():
            if arg == primary or arg in self.chosen.get(i, {}) or arg not in required:
                continue
            moving = "move" in snake(self.tools[step.tool].original_name).split("_")
            if not lists.is_person(key[:-3]) and (primary is None or primary not in self.chosen.get(i, {})
                                                  or (self._home(step, i, arg) is not None and not moving)):
                # Anything but a person is asked about only beside a target the user chose, and
                # not where that target lives (a permission's file, an event's calendar: taken
                # from the world); a move's destination is asked.
                continue
            options = self._named_options(key, i)
            if len(options) < 2:
                continue
            options = options[:4]
            names = [name for name, _ in options]
            joined = ", ".join(f'"{n}"' for n in names[:-1]) + f' or "{names[-1]}"'
            if lists.is_person(key[:-3]):
                self._say(pick(self.rng, "which_person", request=request_phrase(self.tools[step.tool]),
                               options=", ".join(names[:-1]) + " or " + names[-1]))
            else:
                self._say(pick(self.rng, "which_thing", entity=entity_phrase(key[:-3]),
                               request=request_phrase(self.tools[step.tool]), options=joined))
            name, value = self.rng.choice(options)
            self.turns.append(UserTurn(text=pick(self.rng, "which_answer", self.tone, label=name)))
            self.chosen.setdefault(i, {})[arg] = value

    def _named_options(self, key: str, i: int) -> list[tuple[str, Any]]:
        """(how the user can name it, value) of each candidate for `key` at step `i`: its label,
        else the first words of its text ("hospital friend: Can we move..."); one per name."""
        hits = self._latest(key, i)
        for size in (6, 12, 40):  # longer gists where the first words are shared
            out: dict[str, Any] = {}
            for h in hits:
                name = h.label or self._gist_of(h, size)
                if name and name not in out:
                    out[name] = h.value
            if len(out) >= len({repr(h.value) for h in hits}):
                return list(out.items())
        # Two with one name ("Weekly sync" twice): told apart by a short field where they differ
        # ("Weekly sync (15 min)" / "(30 min)", a kind, a status).
        records = [(h, self.world.records.get((h.entity, str(h.value))) or {}) for h in hits]
        fields = sorted({k for _, r in records for k in r},
                        key=lambda k: (_TELLING.index(k) if k in _TELLING else len(_TELLING), k))
        for field in fields:
            if field in ("slug", "uri", "url", "id", "gid", "uuid") or field.endswith(("_url", "_uri", "_id")):
                continue  # API handles, not what a person tells things apart by
            values = [r.get(field) for _, r in records]
            if all(isinstance(v, (str, int)) and not isinstance(v, bool) and 0 < len(str(v)) <= 24
                   and not str(v).startswith("http") for v in values) and len(set(map(str, values))) == len(values):
                return [(f"{h.label or self._gist_of(h) or entity_phrase(h.entity)} "
                         f"({spoken_date(str(r[field])) or r[field]}{' min' if field == 'duration' else ''})", h.value)
                        for h, r in records]
        if len(out) == 1 and 1 < len(hits) <= len(_ORDINALS):
            # Nothing tells them apart but their place in the list the user was shown.
            name = next(iter(out))
            return [(f"{name}, the {_ORDINALS[k]} one", h.value) for k, h in enumerate(hits)]
        return list(out.items())

    def _gist_of(self, hit: Produced, size: int = 6) -> str | None:
        """The first words of what a candidate without a name says (a thread's snippet)."""
        record = self.world.records.get((hit.entity, str(hit.value))) or {}
        text = next((str(record[k]) for k in _GIST_TEXT if isinstance(record.get(k), str) and record[k].strip()), None)
        if not text:
            return None
        words = text.split()
        return " ".join(words[:size]) + ("..." if len(words) > size else "")

    def _choose_target(self, step: PlannedStep, i: int, request: PlannedRequest) -> None:
        """A grounded step on something the same request listed: with several candidates and
        nothing the user said to pick by, the assistant lists them and asks which one."""
        self._choose_person(step, i)
        if not step.grounded or step.each:
            return
        arg, key = self._primary(step)
        if arg in self.chosen.get(i, {}):
            return
        hits = self._latest(key, i)
        if len(hits) < 2:
            return
        # Each name once (a near miss can share it), at most five, and how many more: "which
        # one?" about 16 tasks names five and says 11 more, it does not call them the 16. Items
        # without names (threads) go by the first words of what they say.
        named = self._named_options(key, i)
        if len(named) < 2:
            return
        options = named[:5]
        entity = entity_phrase(hits[0].entity)
        listed = _series([f'"{name}"' for name, _ in options] + (
            [f"{len(hits) - len(options)} more"] if len(hits) > len(options) else []))
        phrase = request_phrase(self.tools[step.tool])
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_which", n=len(hits), entities=plural(entity),
                                                    request=phrase)))
        if hits[0].step in self.reported:
            # The listing was just said: ask without saying it again.
            names = [f'"{name}"' for name, _ in options]
            self._say(pick(self.rng, "which_again", entities=plural(entity),
                           options=", ".join(names[:-1]) + " or " + names[-1]))
        else:
            self._say(pick(self.rng, "which_question", n=len(hits), entities=plural(entity),
                           options=listed, request=phrase))
        self.reported.add(hits[0].step)
        name, value = self.rng.choice(options)
        self.turns.append(UserTurn(text=pick(self.rng, "which_answer", self.tone, label=name)))
        self.chosen.setdefault(i, {})[arg] = value

    def _confirm(self, step: PlannedStep, tool: Tool, i: int) -> bool:
        """Ask before a destructive call; True when the user agrees."""
        action = request_phrase(tool)
        target = self._target_phrase(step, i) if step.grounded else ""
        if target:
            # The whole entity phrase ("the scheduled event", not "the scheduled": no "that
            # scheduled event event").
            entity_words = target.split(" ", 1)[1].split(' "')[0] if target.startswith(("the ", "that ")) else ""
            noun = f"the {entity_words}" if entity_words else ""
            verb, _, rest = action.partition(" ")
            if noun and noun in action:
                action = action.replace(noun, target, 1)
            elif rest.startswith(("it to the ", "it from the ", "it into the ")):
                action = f"{verb} {target} {rest[3:]}"  # "move that message to the trash"
            else:
                action = f"{action} ({target})"
        reversible = deletion_kind(tool.original_name) == "soft"  # a trash or a cancellation can be taken back
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_confirm_soft" if reversible else "thought_confirm",
                                                    action=action)))
        self._say(pick(self.rng, "confirm_question" if reversible or self.rng.random() < 0.5 else "confirm_question_final",
                       action=action))
        if step.confirm == "decline":
            self.turns.append(UserTurn(text=pick(self.rng, "confirm_no", self.tone)))
            self.outcome[i] = pick(self.rng, "declined_result", action=action, action_ing=ing(action))
            return False
        self.turns.append(UserTurn(text=pick(self.rng, "confirm_yes", self.tone)))
        return True

    # ---- arguments ---------------------------------------------------------------------
    def _call_arguments(self, step: PlannedStep, tool: Tool, i: int) -> list[dict[str, Any]]:
        """The arguments of every call the step makes: one, one per stated copy, or one per item
        of the list it works through."""
        if step.each:
            arg, key = self._primary(step)
            hits = _unique_by_value(self._latest(key, i))
            out = []
            for hit in hits:
                self.chosen.setdefault(i, {})[arg] = hit.value
                out.append(self._arguments(step, tool, i, step.user_args))
            return out or [self._arguments(step, tool, i, step.user_args)]
        calls = [self._arguments(step, tool, i, step.user_args)]
        calls.extend(self._arguments(step, tool, i, copy) for copy in step.copies)
        return calls

    def _arguments(self, step: PlannedStep, tool: Tool, i: int, user_args: dict[str, Any],
                   first_try: bool = False) -> dict[str, Any]:
        props = (tool.input_schema.get("properties") or {})
        args: dict[str, Any] = {}
        for name, schema in props.items():
            if first_try and name in step.first_try:
                args[name] = step.first_try[name]
            elif name in step.grounded:
                value = self._grounded_value(name, step.grounded[name], schema, i)
                if value is None:
                    continue
                args[name] = value
            elif name in step.defaults:
                args[name] = step.defaults[name]
            elif name in step.reuse and name not in self.said_reuse.get(i, ()):
                hits = self._reuse_hits(step, name, i)
                if hits:
                    args[name] = hits[0].value
                elif name in (tool.input_schema.get("required") or []):
                    args[name] = user_args[name]
                # An optional value nothing showed and nobody said is left out.
            elif name in user_args:
                args[name] = self._nested_grounded(step, name, user_args[name], schema, i)
            elif name in step.assistant_args:
                args[name] = step.assistant_args[name]
        # The object is looked for where it is: a container id the user did not name is the one
        # the object was made or listed in (wrong_container).
        for name in step.grounded:
            home = self._home(step, i, name, args)
            if name in args and home is not None and name not in self.chosen.get(i, {}) \
                    and schema_validator(props.get(name) or {}).is_valid(home):
                args[name] = home
        # A bound carried over from a result (an event's start) may land after the one the user
        # stated: the window stays in order (not in a first try the service is about to reject).
        if not first_try:
            order_windows(args)
        _one_form(args, said=step.user_args)
        # Keys in schema order at every level: the plan's JSON went through sorted keys, and a
        # bundle grammar (what a model is held to) fixes property order.
        return schema_order(args, tool.input_schema)

    def _nested_grounded(self, step: PlannedStep, name: str, value: Any, schema: dict[str, Any], i: int) -> Any:
        """`value` with the ids the plan grounds inside its objects (`items[].price`) taken from
        the latest response that has one; items left without one are dropped."""
        fields = step.nested.get(name)
        if not fields or not isinstance(value, list):
            return value
        props = (schema.get("items") or {}).get("properties") or {}
        out = []
        for k, item in enumerate(value):
            item = dict(item)
            for field, key in fields.items():
                hits = _unique_by_value(self._latest(key, i))
                if not hits:
                    break
                item[field] = _as_type(hits[k % len(hits)].value, props.get(field, {}))
            else:
                out.append(item)
        return out

    def _reuse_hits(self, step: PlannedStep, name: str, i: int) -> list[Produced]:
        """Values an earlier result shows that fit argument `name`; never the user's own (what
        a call about them showed: their profile's address is no recipient for their reply)."""
        schema = (self.tools[step.tool].input_schema.get("properties") or {}).get(name, {})
        return [h for h in self.world.find(step.reuse[name], before_step=i) if schema_validator(schema).is_valid(h.value)
                and not about_self(self.tools[self.plan.steps[h.step].tool].original_name)]

    def _reusable(self, step: PlannedStep, name: str, i: int) -> bool:
        """Whether the value can come from a result: one shown already fits, or a step of the
        same request (not run yet) may show one."""
        if self._reuse_hits(step, name, i):
            return True
        key = step.reuse[name]
        # Only a field of the argument's own type: a message's `to` list gives no single address
        # for a reply's `recipient_email`, and the user has to say one.
        wanted = ((self.tools[step.tool].input_schema.get("properties") or {}).get(name) or {}).get("type")
        return any(key in slot.keys and (wanted is None or slot.schema.get("type") in (None, wanted))
                   for j in range(self._request_start(i), i)
                   for slot in build_node(self.tools[self.plan.steps[j].tool]).outputs)

    def _latest(self, key: str, i: int) -> list[Produced]:
        """Values under `key` from the latest step before `i` that exposed any, except entities
        an earlier call deleted (a deleted message is not labelled afterwards)."""
        found = self.world.find(key, before_step=i)
        # With nothing else to act on, the deleted one (the used_after_delete detector counts it).
        hits = [h for h in found if repr(h.value) not in self.retired] or found
        return [h for h in hits if h.step == hits[0].step] if hits else []

    def _execute(self, i: int, tool: Tool, args: dict[str, Any]) -> Any:
        # A list may come back empty only where no later call needs one of its items.
        needed = any(i in s.sources.values() for s in self.plan.steps)
        response = self.world.execute(tool, args, step=i, min_items=1 if needed else 0)
        self.responses[i] = response
        slot = retired_slot(tool) if destructive_kind(tool.original_name, args) in ("delete", "cancel") else None
        if slot is not None:
            value = args.get(slot.name)
            for item in value if isinstance(value, list) else [value]:
                self.retired.add(repr(item))
                self.retired.add(repr(str(item)))
        return response

    def _grounded_value(self, name: str, key: str, schema: dict[str, Any], i: int) -> Any:
        if name in self.chosen.get(i, {}):
            value = self.chosen[i][name]
        else:
            hits = self._latest(key, i)
            if not hits:
                return None
            tool = self.plan.steps[i].tool
            used = self._last_used(hits)
            optional = name not in (self.tools[tool].input_schema.get("required") or [])
            if used is not None and not self._done(tool, name, used):
                # "That phone number again": the one the conversation used last, not a new pick.
                value = used
            elif optional and len({repr(h.value) for h in hits}) > 1 and name != self._primary(self.plan.steps[i])[0]:
                # One section out of fourteen nobody named: left out, not picked (silent_pick).
                return None
            else:
                value = self.rng.choice([h for h in hits if not self._done(tool, name, h.value)] or hits).value
        if schema.get("type") == "array":
            return [value]
        return _as_type(value, schema)

    # ---- a call that fails first -------------------------------------------------------
    def _failing_call(self, i: int, tool: Tool, args: dict[str, Any], last: bool) -> None:
        step = self.plan.steps[i]
        kind = step.failure
        first = self._arguments(step, tool, i, step.user_args, first_try=True) if step.first_try else args
        self.turns.append(ToolCallTurn(name=tool.name, arguments=first))
        failure = self.world.failure(tool, first, kind, argument=next(iter(step.first_try), None))
        if kind == "permission_denied" and self._implausible_refusal(failure):
            # What the call acts on turned out to be the user's (made here, their `primary`):
            # nobody refuses them that, but a busy service may ask them to wait.
            kind = "rate_limit"
            failure = self.world.failure(tool, first, kind)
        self.turns.append(ToolResponseTurn(content=failure))
        message = self.world.last_failure.message.strip()
        phrase = request_phrase(tool)
        entity = entity_phrase(_entity_of(tool))
        if kind == "permission_denied":
            # Said at once; when more of the request follows, the summary only recalls it.
            report = pick(self.rng, "denied_result", request=phrase, message=message)
            if last:
                self.outcome[i] = report
            else:
                self.carry = report + pick(self.rng, "denied_go_on")
                self.carry_step = i
                self.outcome[i] = pick(self.rng, "denied_recalled", request=phrase)
            return
        if kind == "rate_limit":
            if self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_rate_limit")))
            self._say(pick(self.rng, "rate_limit_retry", request=phrase))
        else:
            arg = next(iter(step.first_try))
            wrong, right = step.first_try[arg], step.user_args[arg]
            said_wrong, said_right = _spoken(wrong), _spoken(right)
            if self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, f"thought_{kind}", field=humanize(arg),
                                                        value=said_wrong, entity=entity)))
            a_entity = ("an " if entity[:1] in "aeiou" else "a ") + entity
            self._say(pick(self.rng, f"{kind}_question", field=humanize(arg),
                           value=said_wrong, entity=entity, a_entity=a_entity,
                           message=message))
            self.turns.append(UserTurn(text=pick(self.rng, f"{kind}_answer", self.tone, value=said_right)))
        self.turns.append(ToolCallTurn(name=tool.name, arguments=args))
        self.turns.append(ToolResponseTurn(content=self._execute(i, tool, args)))

    # ---- result descriptions -----------------------------------------------------------
    def _result(self, i: int) -> str:
        if i in self.outcome:
            return self.outcome[i]
        return self._describe(i)

    def _describe(self, i: int) -> str:
        tool = self.tools[self.plan.steps[i].tool]
        refused = _refusal_message(self.responses.get(i))
        if refused is not None:
            # A refusal no plan foresaw (a list deleted earlier in the conversation): reported,
            # never summarised as done; one that says it is done already, in the user's words.
            already = re.search(r"\b(?:is|was) (already [a-z ]+?)\.?$", refused)
            if already:
                entity = entity_phrase(_entity_of(tool))
                return f"The {entity} is {already.group(1)}, so I didn't {request_phrase(tool)} again."
            return f'I couldn\'t {request_phrase(tool)}: the service said "{refused}".'
        produced = [p for p in self.world.produced if p.step == i]
        verb = tool_verb(tool)
        done = _PAST_OVERRIDES.get(verb, past(verb))
        # Objects the response is about (their own ids), not ids they refer to: ADD_WATCHER's
        # answer names an account, but what was added is a watcher.
        ids = [p for p in produced if p.key == f"{p.entity}_id" and p.own]
        busy = _busy_ranges(self.responses.get(i))
        if busy is not None:
            return _free_busy(busy)
        listed = _largest_list(self.responses.get(i))
        if not ids and tool_action(tool) == "list" and listed is not None:
            # An empty listing is news, not a success ("I found the permissions successfully");
            # items without ids (available times) are still counted.
            noun = entity_phrase(_entity_of(tool))
            if listed == 0:
                return f"I found no {plural(noun)}."
            gists = _gists(self.responses.get(i))
            shown = gists + ([f"{listed - len(gists)} more"] if gists and listed > len(gists) else [])
            return f"I found {listed} {noun if listed == 1 else plural(noun)}" + (
                f": {_series(shown)}." if shown else ".")
        if not ids:
            thing = humanize(request_phrase(tool).split(' ', 1)[-1]).removeprefix('the ').removeprefix('a ').removeprefix('an ')
            detail = _salient(self.responses.get(i))
            # "replaced all text", "inserted text": no "the" before what is no one thing.
            the = "" if thing.startswith(("all ", "every ", "my ")) or thing in ("text", "media", "data") else "the "
            # What the user asked to see is in the answer ("the profile: ana@acme.io"), not
            # only that the call worked.
            return f"I {done} {the}{thing}: {detail}." if detail else f"I {done} {the}{thing} successfully."
        # The outermost object is what the call was about (an issue, not its issuetype).
        # The tool's own entity where the response has one (SEND_MESSAGE's message, not the
        # contact's wa_id beside it).
        own = [p for p in ids if p.entity == _entity_of(tool)]
        outer = min(own or ids, key=_depth)
        entity = outer.entity
        main = _unique_by_value(sorted((p for p in ids if p.entity == entity), key=_depth))
        if verb == "share" and entity != _entity_of(tool) and tool_action(tool) != "list":
            return self._shared(i, tool, len(main))
        # A read that returns several (GET_ALL_PROJECTS, GET_COMMENTS) is a listing too: "I
        # retrieved the comment" about the first of five misreports it.
        many = len(main) > 1 and not (self.plan.steps[i].copies or self.plan.steps[i].each)
        if tool_action(tool) == "list" or (tool_action(tool) == "get" and (many or reads_many(tool.original_name))):
            # Each name once (two items can share one); "and K more" counts every item not named.
            labels = list(dict.fromkeys(p.label for p in main if p.label))
            named = [f'"{label}"' for label in labels[:3]]
            if named and len(main) > len(named):
                named.append(f"{len(main) - len(named)} more")  # "a, b, c and 2 more"
            if not named:
                # Items without names (threads, comments): what each says, briefly.
                gists = _gists(self.responses.get(i))
                named = gists + ([f"{len(main) - len(gists)} more"] if gists and len(main) > len(gists) else [])
            listed = (": " + _series(named)) if named else ""
            noun = entity_phrase(entity) if len(main) == 1 else plural(entity_phrase(entity))
            return f"I found {len(main)} {noun}{listed}."
        if len(main) > 1 and (self.plan.steps[i].copies or self.plan.steps[i].each):
            labels = [f'"{p.label}"' for p in main if p.label]
            named = (": " + _series(labels)) if labels else ""
            return f"I {done} {len(main)} {plural(entity_phrase(entity))}{named}."
        first = main[0]
        label = f' "{first.label}"' if first.label else ""
        if not label and self._unnamed(produced, entity):
            label = f" {self._unnamed(produced, entity)}"
        # A name is what the user goes by; an id only where there is none to say.
        ident = "" if label else f" (ID {first.value})"
        if verb in ("add", "remove") and changes_by_arguments(tool.original_name):
            return self._attached(i, tool, f"the {entity_phrase(entity)}{label}{ident}")
        part = _entity_of(tool)
        if part != entity and part in _PARTS and (verb in ("insert", "replace", "delete") or part == "subtask"):
            # DELETE_CONTENT_RANGE on a document deleted a range, not the document.
            text = f"I {done} the {entity_phrase(part)} in the {entity_phrase(entity)}{label}{ident}"
        elif verb == "send" and part != entity:
            # SEND_LOCATION answers with a message id: what was sent is the location.
            sent = request_phrase(tool).split(" ", 1)[-1].removeprefix("the ").removeprefix("a ").removeprefix("an ")
            text = f"I {done} the {sent}{label}{ident}"
        else:
            text = f"I {done} the {entity_phrase(entity)}{label}{ident}"
        if not first.label and not label and tool_action(tool) == "get":
            # A thread, a conversation: what it holds is what the user asked to see (and may
            # name next): "I fetched the thread (ID ...): 2 messages, "Red plan" and "Q3 notes"."
            held = [p for p in produced if p.entity != entity and p.own and p.label and p.key == f"{p.entity}_id"]
            held = _unique_by_value(held)
            if held:
                names = [f'"{p.label}"' for p in held[:3]] + ([f"{len(held) - 3} more"] if len(held) > 3 else [])
                noun = entity_phrase(held[0].entity)
                text += f": {len(held)} {noun if len(held) == 1 else plural(noun)}, {_series(names)}"
        link = next((p.value for p in produced if snake(p.path.rsplit('.', 1)[-1]) in _LINK_KEYS and p.entity == entity), None)
        if link:
            text += f"; you can open it at {link}"
        extra = self._detail(produced, entity, first)
        return text + (f", {extra}" if extra else "") + "."

    def _shared(self, i: int, tool: Tool, n: int) -> str:
        """A share, said about what was shared and with whom ("I shared the calendar "Q3" with
        ana@x.io as a writer"), not about the access rule the service made for it (`n` rules:
        one per copy, or per item of `each`)."""
        step = self.plan.steps[i]
        noun = entity_phrase(_entity_of(tool))
        if step.each and n > 1:
            return f"I shared {n} {plural(noun)}."
        target = self._target_phrase(step, i) if step.grounded else f"the {noun}"
        if target.startswith("that "):
            target = "the " + target.removeprefix("that ")
        grantees = [v for args in (step.user_args, *step.copies) for v in args.values()
                    if isinstance(v, str) and "@" in v and " " not in v]
        role = next((v for k, v in step.user_args.items() if "role" in snake(k).split("_") and isinstance(v, str)), None)
        text = f"I shared {target}" + (f" with {_series(list(dict.fromkeys(grantees)))}" if grantees else "")
        if role and not step.copies:
            spoken = plain(role).lower()
            text += f" as {'an' if spoken[:1] in 'aeiou' else 'a'} {spoken}"
        return text + "."

    def _attached(self, i: int, tool: Tool, target: str) -> str:
        """What an add-to / remove-from call did, said about what it put on or took off its
        target ("I added the starred label to the message "Q3" (ID ...)"), not as if it made
        the target ("I added the message")."""
        step = self.plan.steps[i]
        thing = request_phrase(tool).rsplit(" ", 1)[-1]
        added, removed = [], []
        for name, value in step.user_args.items():
            names = named_constants(value)
            if names:
                (removed if "remove" in snake(name).split("_") else added).append(_series(names))
        if not added and not removed:
            return f"I {past(tool_verb(tool))} the {thing} {'from' if tool_verb(tool) == 'remove' else 'to'} {target}."
        said = [f"added the {_series(added)} {thing} to" if added else "", f"removed the {_series(removed)} {thing} from"
                if removed else ""]
        if added and removed:
            return f"I {said[0]} {target} and {said[1].removesuffix(' from')}."
        return f"I {said[0] or said[1]} {target}."

    @staticmethod
    def _detail(produced: list[Produced], entity: str, first: Produced) -> str:
        for p in produced:
            leaf = snake(p.path.rsplit(".", 1)[-1])
            if p.entity == entity and leaf in ("status", "state") and isinstance(p.value, str):
                return f"status {p.value}"
        return ""

    @staticmethod
    def _unnamed(produced: list[Produced], entity: str) -> str:
        """What an object nothing names is ("I retrieved the phone number (ID 2268...)" says
        nothing; "the phone number +1 622 ..." does): its number or address, "" if neither."""
        for p in produced:
            leaf = snake(p.path.rsplit(".", 1)[-1])
            if p.entity == entity and isinstance(p.value, str) and p.value \
                    and leaf in ("display_phone_number", "phone_number", "phone", "email", "email_address"):
                return p.value
        return ""


# Parts of a thing a call inserts, replaces or deletes inside it (a document's text, a range).
_PARTS = frozenset({"range", "table", "image", "bullet", "bullets", "paragraph", "row", "column", "text", "subtask",
                    "content range", "inline image", "paragraph bullets"})


_BAD_NEWS = re.compile(r"\b(?:couldn't|can't|cannot|wasn't able|weren't able|failed|refused|denied|not found|"
                       r"sorry|unfortunately|none of my tools)\b", re.I)
_PRAISE = re.compile(r"\b(?:great|perfect|awesome|thanks?|thank you|thx|ty|excellent|nice|helpful|amazing|lovely|"
                     r"cheers|good|cool|wonderful|brilliant|fantastic|appreciated?|splendid|satisfactory|sweet|yay|"
                     r"yes+|dope|lol|haha)\b", re.I)


# Fields worth saying back from an answer without ids, most telling first.
_SALIENT = (("url", "link", "uri"), ("email", "email_address"), ("display_name", "name", "title", "about"),
            ("status", "state"), ("total", "count"))


def _salient(response: Any) -> str:
    """Up to two telling values of an answer ("ana@acme.io, 1,204 messages"; a booking link),
    "" when it holds none: the first of each kind in `_SALIENT`, searched breadth first."""
    found: list[str] = []
    level = [response]
    seen_kinds: set[int] = set()
    for _ in range(4):
        nxt = []
        for obj in level:
            if not isinstance(obj, dict):
                continue
            for key, value in obj.items():
                if isinstance(value, (dict, list)):
                    nxt.extend(value if isinstance(value, list) else [value])
                    continue
                sn = snake(key)
                if sn in ("successful", "success", "ok", "error") or value in (None, "") or isinstance(value, bool):
                    continue
                for kind, names in enumerate(_SALIENT):
                    if kind in seen_kinds or not (sn in names or sn.split("_")[-1] in names):
                        continue
                    seen_kinds.add(kind)
                    if kind == 4:
                        noun = sn.removesuffix("_total").removesuffix("_count")
                        if not isinstance(value, int) or noun in ("total", "count") or value == 0:
                            seen_kinds.discard(kind)
                            continue
                        found.append(f"{value:,} {humanize(noun)}")
                    elif kind == 2:
                        found.append(f'"{value}"')
                    else:
                        found.append(str(value))
                    break
        level = nxt
        if len(found) >= 2:
            break
    return ", ".join(found[:2])


_ORDINALS = ("first", "second", "third", "fourth", "fifth")
# Fields that tell two things of one name apart, most telling first.
_TELLING = ("duration", "kind", "status", "type", "color", "currency", "start_time", "start", "due_on", "due_date",
            "created_at", "created", "updated_at")
_GIST_TEXT = ("snippet", "body", "text", "content", "message", "description", "display_phone_number", "phone_number",
              "verified_name", "nickname")


def _gists(response: Any, n: int = 3) -> list[str]:
    """How the first `n` items of an answer's longest list of objects read in a sentence, when
    they have no name: a time ("March 3, 2026 at 10:00 UTC"), a number, or the first words of
    their text in quotes; [] when they have none of those."""
    best: list[Any] = []

    def walk(v: Any) -> None:
        nonlocal best
        if isinstance(v, list):
            if len(v) > len(best) and v and all(isinstance(x, dict) for x in v):
                best = v
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(response)
    out: list[str] = []
    for item in best:
        if len(out) >= n:
            break
        flat = {snake(k): v for k, v in item.items() if isinstance(v, (str, int)) and not isinstance(v, bool)}
        text = next((str(flat[k]) for k in _GIST_TEXT if isinstance(flat.get(k), str) and flat[k].strip()), None)
        when = next((spoken_date(v) for k, v in flat.items() if isinstance(v, str) and ("time" in k or "date" in k)
                     and spoken_date(v)), None)
        if text is not None and ("phone" in " ".join(flat) or text.startswith("+")) and len(text.split()) <= 3:
            out.append(text)
        elif text is not None:
            words = text.split()
            out.append('"' + " ".join(words[:6]) + ('..."' if len(words) > 6 else '"'))
        elif when is not None:
            out.append(when)
        else:
            return []
        out = list(dict.fromkeys(out))  # two slots at 15:00 are one time to say
    return out


def _refusal_message(response: Any) -> str | None:
    """What a failed response says went wrong (its error text), None when it did not fail."""
    if not reports_failure(response):
        return None
    error = response.get("error") or response.get("errors") or response.get("message") or "the request failed"
    if isinstance(error, dict):
        error = error.get("message") or error.get("status") or json.dumps(error)
    elif isinstance(error, list):
        error = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in error[:2])
    return str(error).strip().rstrip(".")


def _busy_ranges(value: Any) -> list[tuple[str, str]] | None:
    """The busy (start, end) ranges of a free/busy answer, sorted; None when `value` is no
    such answer (no list under a `busy` key)."""
    found: list[tuple[str, str]] = []
    seen = False

    def walk(v: Any) -> None:
        nonlocal seen
        if isinstance(v, dict):
            for k, inner in v.items():
                if snake(k) == "busy" and isinstance(inner, list):
                    seen = True
                    found.extend((r["start"], r["end"]) for r in inner if isinstance(r, dict)
                                 and isinstance(r.get("start"), str) and isinstance(r.get("end"), str))
                else:
                    walk(inner)
        elif isinstance(v, list):
            for inner in v:
                walk(inner)

    walk(value)
    return sorted(set(found)) if seen else None


def _free_busy(busy: list[tuple[str, str]]) -> str:
    """A free/busy answer said as what it means for the user: when they are busy, the rest
    free ("You're busy 3 times in that range: ...; the rest of it is free.")."""
    if not busy:
        return "You're free for that whole range."
    said = []
    for start, end in busy[:3]:
        begin, finish = spoken_date(start) or start, spoken_date(end) or end
        # The same day once: "July 15, 2026 at 15:15 UTC to 16:45 UTC".
        day = begin.split(" at ")[0]
        said.append(f"{begin} to {finish.split(' at ', 1)[1] if finish.startswith(day + ' at ') else finish}")
    more = f" and {len(busy) - 3} more" if len(busy) > 3 else ""
    times = "once" if len(busy) == 1 else f"{len(busy)} times"
    return f"You're busy {times} in that range: {_series(said)}{more}; the rest of it is free."


def _largest_list(value: Any) -> int | None:
    """The length of the longest list in a response (None when it holds none)."""
    if isinstance(value, list):
        inner = [n for v in value if (n := _largest_list(v)) is not None]
        return max([len(value), *inner])
    if isinstance(value, dict):
        inner = [n for v in value.values() if (n := _largest_list(v)) is not None]
        return max(inner) if inner else None
    return None


def _fill(template: str, fields: dict[str, Any]) -> str:
    """`template.format(**fields)`, with a field that starts a sentence (first in the template,
    or after ". ", "! ", "? " or a line break) capitalised: "{request}." -> "Create ..."."""
    out: list[str] = []
    for literal, name, spec, _ in Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = format(fields[name], spec or "")
        before = "".join(out).rstrip(" ")
        out.append(_capitalised(value) if not before or before[-1] in ".!?\n" else value)
    return "".join(out)


def _capitalised(text: str) -> str:
    """`text` with a capital first letter, unless it starts with a value that is written as it
    is (an address, a link, an id: "ana@acme.io" stays lowercase)."""
    first = text.split(" ", 1)[0] if text else ""
    if not re.fullmatch(r"[a-z][a-z']*[,.:;!?]?", first):
        return text
    return text[:1].upper() + text[1:]


def _takes_sentences(template: str) -> bool:
    """Whether `template` ends with "{request}" at a sentence start, where whole sentences fit
    ("Great! {request}"; not "Could you {request}?")."""
    if not template.endswith("{request}"):
        return False
    before = template[: -len("{request}")].rstrip(" ")
    return not before or before[-1] in ".!?"


# Words after "{request}" that would read as part of its last step when it has several
# ("create X, then list Y next").
_LAST_STEP_WORDS = frozenset({"next", "too", "also", "as", "well", "now", "first", "while", "again"})


def _adds_to_last_step(template: str) -> bool:
    tail = template.rsplit("{request}", 1)[-1] if "{request}" in template else ""
    return any(w.strip(".,?!").lower() in _LAST_STEP_WORDS for w in tail.split())


def _ended(text: str) -> str:
    """`text` as a sentence: a full stop unless it ends with one already (or ! or ?)."""
    return text if text.rstrip().endswith((".", "!", "?")) else text + "."


def _as_type(value: Any, schema: dict[str, Any]) -> Any:
    """An id from a response in the type the argument takes ("42" for a string, 42 for an integer)."""
    stype = schema.get("type")
    if stype == "integer" and isinstance(value, str) and value.isdigit():
        return int(value)
    if stype == "string" and isinstance(value, int):
        return str(value)
    return value


def _spoken(value: Any) -> str:
    if isinstance(value, str):
        return spoken_date(value) or f'"{value}"'
    return str(value)


def _entity_of(tool: Tool) -> str:
    from funcdex_assets.catalog.fields import entity_of_object

    return entity_of_object((), tool.original_name) or "item"


def _count_word(n: int) -> str:
    return {2: "both", 3: "all three", 4: "all four"}.get(n, f"all {n}")


_FIELD_NOUNS = {"to": "recipient", "recipient": "recipient", "recipient_email": "recipient",
                "body": "text", "body_text": "text", "message_body": "text", "text": "text", "content": "text",
                "text_content": "text", "markdown_text": "text", "q": "search terms", "query": "search terms",
                "replace_text": "new text", "replacement_text": "new text", "find_text": "text to find",
                "search_text": "text to find", "jql": "JQL query", "start_index": "start position",
                "end_index": "end position", "index": "position", "mime_type": "file type", "summary": "title"}


_TO_YOU = {"me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i": "you", "i'm": "you're",
           "i've": "you've", "us": "you", "our": "your", "ours": "yours", "we": "you"}


def _once(text: str) -> str:
    """A word a phrase ends with and the next one starts with, once ("send the interactive
    buttons buttons "Yes"" -> "... buttons "Yes""), outside quoted values (what the
    doubled_word detector reads)."""
    parts = re.split(r'("[^"]*")', text)
    return "".join(p if p.startswith('"') else DOUBLED.sub(lambda m: m.group(1) if m.group(1).lower() not in MAY_DOUBLE
                                                           else m.group(0), p) for p in parts)


def _addressed(request: str) -> str:
    """The user's request as the assistant says it back ("get me a coffee" -> "get you a
    coffee"; "renew my passport" -> "renew your passport")."""
    return re.sub(r"\b(me|my|mine|myself|i|i'm|i've|us|our|ours|we)\b",
                  lambda m: _TO_YOU[m.group(0).lower()], request, flags=re.I)


def field_noun(name: str) -> str:
    """What an assistant asking for the value calls the field ("recipient", not "to"; "earliest
    time", not "time min"; "number of rows", not "rows")."""
    sn = snake(name)
    if sn in _FIELD_NOUNS:
        return _FIELD_NOUNS[sn]
    words = sn.split("_")
    if words[-1] in ("min", "max") and set(words) & {"time", "date", "due", "updated", "completed", "created"}:
        # A window's bound: what it bounds, said as a person would.
        what = "date" if "date" in words or "due" in words else "time"
        return f"{'earliest' if words[-1] == 'min' else 'latest'} {what}"
    if words[0] in ("max", "page") and words[-1] in ("results", "size", "count"):
        return "number of results"
    if sn in ("rows", "columns", "count", "quantity"):
        return f"number of {sn}" if sn in ("rows", "columns") else sn
    if words[-1] == "on" and len(words) == 2:
        return f"{words[0]} date"  # Asana's due_on: the due date
    return humanize(name)


def _bare(args: dict[str, Any]) -> str:
    """Values as an answer to "which X?" (`speech.bare`)."""
    return bare(args)


def _series(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _wants_integer(schema: dict[str, Any]) -> bool:
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    return schema.get("type") == "integer" or (schema.get("type") == "array" and items.get("type") == "integer")


def _depth(p: Produced) -> int:
    return p.path.count(".") - p.path.count("[]")


def _unique_by_value(items: list[Produced]) -> list[Produced]:
    seen, out = set(), []
    for p in items:
        marker = repr(p.value)
        if marker not in seen:
            seen.add(marker)
            out.append(p)
    return out


def _one_form(args: dict[str, Any], said: dict[str, Any]) -> None:
    """A time said in words (`due_string: "tomorrow at 5pm"`) is the only form of it a call
    carries: the service reads the words, and a `due_date` beside them would say another day
    (the relative_date_mismatch detector; Todoist takes one of due_string / due_date /
    due_datetime). A form the user stated (`said`) stays."""
    for key in [k for k in args if snake(k).endswith("_string") and isinstance(args[k], str)]:
        stem = snake(key)[: -len("string")]
        for other in [k for k in args if k != key and snake(k).startswith(stem)
                      and snake(k)[len(stem):] in ("date", "datetime", "date_time", "at", "on") and k not in said]:
            del args[other]
