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

import re
from typing import Any

from funcdex_assets.backends.base import Persona
from funcdex_assets.catalog.actions import destructive_kind
from funcdex_assets.catalog.fields import input_slots, snake
from funcdex_assets.catalog.names import toolkit_display_name
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.specialize import schema_order
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline.language import (
    entity_phrase,
    format_value,
    humanize,
    ing,
    past,
    pick,
    plural,
    request_phrase,
    tool_verb,
)
from funcdex_assets.offline.planner import MAX_PARALLEL, ConversationPlan, PlannedRequest, PlannedStep, order_windows
from funcdex_assets.offline.speech import bare, say, spoken_date
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.offline.world import Produced, World, tool_action
from funcdex_assets.sampling.graph import build_node

_LINK_KEYS = ("html_link", "web_view_link", "html_url", "url", "permalink", "link", "web_url", "hosted_invoice_url")
_PAST_OVERRIDES = {"get": "retrieved", "list": "found", "search": "found", "find": "found", "fetch": "fetched",
                   "reply": "replied to"}


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
        # step -> reused arguments the user stated instead (no result held a fitting value)
        self.said_reuse: dict[int, set[str]] = {}
        # Values of entities a call deleted, trashed or cancelled: nothing later acts on them.
        self.retired: set[str] = set()

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
            for g, group in enumerate(request.groups):
                self._group(group, request, g)
            if self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_summary")))
            results = " ".join(self._result(i) for i in request.steps)
            mixed = any(i in self.outcome for i in request.steps)
            summary = pick(self.rng, "segment_summary_mixed" if mixed else "segment_summary", results=results)
            if req_no == len(self.plan.requests) - 1 and not self.plan.closing:
                summary += pick(self.rng, "anything_else")
            self._say(summary)
        if self.plan.closing:
            self.turns.append(UserTurn(text=pick(self.rng, "closing_user", self.tone)))
            # The user's name only once they have said it (the system prompt may not give it).
            # As a word: "New Michaelport" does not give the name Michael.
            said = re.compile(rf"\b{re.escape(self.persona.first_name)}\b")
            named = any(said.search(t.text) for t in self.turns if isinstance(t, UserTurn))
            key = "closing_assistant_named" if named and self.rng.random() < 1 / 3 else "closing_assistant"
            self._say(pick(self.rng, key, first_name=self.persona.first_name))
        return self.turns

    # ---- user requests -----------------------------------------------------------------
    def _opening(self, req_no: int, request_text: str, key: str = "first_request") -> str:
        if req_no:
            return pick(self.rng, "followup_request", self.tone, request=request_text)
        p = self.persona
        # The scenario stays out of the user's words: it is the generator's brief, written
        # about the user in the third person (the prompt_leak detector).
        pieces = [pick(self.rng, "greeting", self.tone, name=p.name, role=p.role, company=p.company),
                  pick(self.rng, key, self.tone, request=request_text)]
        return " ".join(x for x in pieces if x)

    def _out_of_scope(self, req_no: int, request: PlannedRequest) -> None:
        self.turns.append(UserTurn(text=pick(self.rng, "out_of_scope_request", self.tone, request=request.out_of_scope)))
        names = _series(sorted({toolkit_display_name(t.toolkit) for t in self.tools.values()}))
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_out_of_scope", request=request.out_of_scope,
                                                    toolkits=names)))
        self._say(pick(self.rng, "out_of_scope_answer", request=request.out_of_scope,
                       toolkits=names))

    def _user_request(self, req_no: int, request: PlannedRequest) -> None:
        first = self.plan.steps[request.steps[0]]
        if first.implicit:
            thing = self._target_phrase(first, request.steps[0])
            kind = destructive_kind(self.tools[first.tool].original_name, first.user_args) or "delete"
            text = pick(self.rng, f"implicit_{kind}", self.tone, thing=thing)
            self.turns.append(UserTurn(text=self._opening(req_no, text, "first_goal") if req_no == 0
                                       else pick(self.rng, "followup_goal", self.tone, goal=text)))
            return
        parts = []
        for i in request.steps:
            step = self.plan.steps[i]
            tool = self.tools[step.tool]
            part = request_phrase(tool)
            reference = self._reference(step, i)
            if reference:
                part += " " + reference
            # A value to carry over from an earlier result is the user's to say when no result
            # shown so far holds one that fits (an address list, not a single address).
            said = {k for k in step.reuse if k not in step.clarify and not self._reusable(step, k, i)}
            self.said_reuse.setdefault(i, set()).update(said)
            stated = {k: step.first_try.get(k, v) for k, v in step.user_args.items()
                      if k not in step.clarify and (k not in step.reuse or k in said)}
            spoken = say(self.rng, stated, self.tone) if stated else ""
            if spoken:
                part += " " + pick(self.rng, "mention_values", self.tone, values=spoken)
            for copy in step.copies:
                # A reused value the user had to state is stated for each copy too.
                extra = {k: v for k, v in copy.items() if k not in step.reuse or k in said}
                part += pick(self.rng, "another_copy", self.tone) + (" " + say(self.rng, extra, self.tone) if extra else "")
            parts.append(part)
        text = parts[0]
        for part in parts[1:]:
            text += pick(self.rng, "then_join", self.tone) + part
        self.turns.append(UserTurn(text=self._opening(req_no, text)))

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
        choice = self.rng.choice(hits)
        self.chosen.setdefault(i, {})[arg] = choice.value
        return choice

    def _primary(self, step: PlannedStep) -> tuple[str, str]:
        """The grounded argument naming what the call acts on: the one of the tool's own
        entity (DELETE_EVENT's event id, not its calendar id), else the last one."""
        entity = _entity_of(self.tools[step.tool])
        items = list(step.grounded.items())
        return next(((a, k) for a, k in items if k == f"{entity}_id"), items[-1])

    def _request_start(self, i: int) -> int:
        return next(r.steps[0] for r in self.plan.requests if i in r.steps)

    def _reference(self, step: PlannedStep, i: int) -> str:
        """How the user points at the entity a grounded step acts on, without knowing its id:
        by its label when they have seen it; "that one" / "each of them" for something the
        same request asks for first."""
        if not step.grounded:
            return ""
        _, key = self._primary(step)
        if step.each:
            return pick(self.rng, "each_reference", self.tone, entities=plural(entity_phrase(key[:-3])))
        choice = self._pointed(step, i)
        if choice is None:
            return pick(self.rng, "it_reference", self.tone, entity=entity_phrase(key[:-3]))
        if choice.label:
            return pick(self.rng, "label_reference", self.tone, entity=entity_phrase(choice.entity), label=choice.label)
        return pick(self.rng, "it_reference", self.tone, entity=entity_phrase(choice.entity))

    def _target_phrase(self, step: PlannedStep, i: int) -> str:
        choice = self._pointed(step, i)
        key = self._primary(step)[1] if step.grounded else "item_id"
        entity = entity_phrase(choice.entity if choice else key[:-3])
        if choice is not None and choice.label:
            return f'the {entity} "{choice.label}"'
        return f"that {entity}"

    # ---- one group of calls ------------------------------------------------------------
    def _group(self, group: list[int], request: PlannedRequest, g: int) -> None:
        calls: list[tuple[int, Tool, dict[str, Any]]] = []
        for i in group:
            step = self.plan.steps[i]
            tool = self.tools[step.tool]
            self._choose_target(step, i, request)
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
                grounding = self._grounding_note(step, tool, calls[0][2])
                text = pick(self.rng, "thought_call", request=phrase, tool=tool.name, grounding=grounding)
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
            self._say(pick(self.rng, "between_calls", result=self._result(previous[-1]),
                           request=phrase, request_ing=ing(phrase)))

        if self.carry:
            self._say("")

    def _grounding_note(self, step: PlannedStep, tool: Tool, args: dict[str, Any]) -> str:
        for name in step.grounded:
            if name in args:
                value = args[name][0] if isinstance(args[name], list) and args[name] else args[name]
                return pick(self.rng, "thought_grounding", param=humanize(name), value=format_value(value))
        return ""

    # ---- before a call: clarifications, a choice among candidates, a go-ahead ------------
    def _clarify(self, step: PlannedStep, tool: Tool) -> None:
        phrase = request_phrase(tool)
        fields = " and ".join(humanize(c) for c in step.clarify)
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_clarify", request=phrase, fields=fields)))
        self._say(pick(self.rng, "clarify_question", request=phrase, fields=fields))
        answer = _bare({k: step.user_args[k] for k in step.clarify})
        self.turns.append(UserTurn(text=pick(self.rng, "clarify_answer", self.tone, values=answer)))

    def _choose_target(self, step: PlannedStep, i: int, request: PlannedRequest) -> None:
        """A grounded step on something the same request listed: with several candidates and
        nothing the user said to pick by, the assistant lists them and asks which one."""
        if not step.grounded or step.each:
            return
        arg, key = self._primary(step)
        if arg in self.chosen.get(i, {}):
            return
        hits = self._latest(key, i)
        labelled = [h for h in hits if h.label]
        if len(hits) < 2 or len(labelled) < 2:
            return
        options = labelled[:5]
        entity = entity_phrase(options[0].entity)
        listed = _series([f'"{h.label}"' for h in options])
        phrase = request_phrase(self.tools[step.tool])
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_which", n=len(hits), entities=plural(entity),
                                                    request=phrase)))
        self._say(pick(self.rng, "which_question", n=len(hits), entities=plural(entity),
                       options=listed, request=phrase))
        choice = self.rng.choice(options)
        self.turns.append(UserTurn(text=pick(self.rng, "which_answer", self.tone, label=choice.label)))
        self.chosen.setdefault(i, {})[arg] = choice.value

    def _confirm(self, step: PlannedStep, tool: Tool, i: int) -> bool:
        """Ask before a destructive call; True when the user agrees."""
        action = request_phrase(tool)
        target = self._target_phrase(step, i) if step.grounded else ""
        if target:
            noun = f"the {target.split(' ', 2)[1]}" if target.startswith(("the ", "that ")) else ""
            action = action.replace(noun, target, 1) if noun and noun in action else f"{action} ({target})"
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_confirm", action=action)))
        self._say(pick(self.rng, "confirm_question", action=action))
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
        # A bound carried over from a result (an event's start) may land after the one the user
        # stated: the window stays in order (not in a first try the service is about to reject).
        if not first_try:
            order_windows(args)
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
        schema = (self.tools[step.tool].input_schema.get("properties") or {}).get(name, {})
        return [h for h in self.world.find(step.reuse[name], before_step=i) if schema_validator(schema).is_valid(h.value)]

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
        step = self.plan.steps[i]
        if step.grounded and destructive_kind(tool.original_name, args) in ("delete", "cancel"):
            arg, _ = self._primary(step)
            value = args.get(arg)
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
            value = self.rng.choice(hits).value
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
        produced = [p for p in self.world.produced if p.step == i]
        verb = tool_verb(tool)
        done = _PAST_OVERRIDES.get(verb, past(verb))
        ids = [p for p in produced if p.key == f"{p.entity}_id"]
        if not ids:
            return f"I {done} the {humanize(request_phrase(tool).split(' ', 1)[-1]).removeprefix('the ').removeprefix('a ').removeprefix('an ')} successfully."
        # The outermost object is what the call was about (an issue, not its issuetype).
        outer = min(ids, key=_depth)
        entity = outer.entity
        main = _unique_by_value(sorted((p for p in ids if p.entity == entity), key=_depth))
        if tool_action(tool) == "list":
            labels = [p.label for p in main if p.label]
            listed = (": " + _series([f'"{label}"' for label in labels[:3]])) if labels else ""
            if len(labels) > 3:
                listed += f" and {len(labels) - 3} more"
            noun = entity_phrase(entity) if len(main) == 1 else plural(entity_phrase(entity))
            return f"I found {len(main)} {noun}{listed}."
        if len(main) > 1 and (self.plan.steps[i].copies or self.plan.steps[i].each):
            labels = [f'"{p.label}"' for p in main if p.label]
            named = (": " + _series(labels)) if labels else ""
            return f"I {done} {len(main)} {plural(entity_phrase(entity))}{named}."
        first = main[0]
        label = f' "{first.label}"' if first.label else ""
        text = f"I {done} the {entity_phrase(entity)}{label} (ID {first.value})"
        link = next((p.value for p in produced if snake(p.path.rsplit('.', 1)[-1]) in _LINK_KEYS and p.entity == entity), None)
        if link:
            text += f"; you can open it at {link}"
        extra = self._detail(produced, entity, first)
        return text + (f", {extra}" if extra else "") + "."

    @staticmethod
    def _detail(produced: list[Produced], entity: str, first: Produced) -> str:
        for p in produced:
            leaf = snake(p.path.rsplit(".", 1)[-1])
            if p.entity == entity and leaf in ("status", "state") and isinstance(p.value, str):
                return f"status {p.value}"
        return ""


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
