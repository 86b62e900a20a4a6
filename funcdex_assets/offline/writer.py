"""The conversation stage of the embedded backend: executes a plan into DML turns.

User turns only state what a user could know (values from the plan, or things the assistant
showed them); ids in calls come from earlier responses in the World; clarification turns
appear where the plan says the user left a required value out; each request ends with an
assistant summary built from the actual results.
"""

from __future__ import annotations

import re
from typing import Any

from funcdex_assets.backends.base import Persona
from funcdex_assets.catalog.fields import input_slots, snake
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
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
from funcdex_assets.offline.planner import ConversationPlan, PlannedStep
from funcdex_assets.offline.speech import say
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.dml.specialize import schema_order
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline.world import Produced, World, tool_action

_LINK_KEYS = ("html_link", "web_view_link", "html_url", "url", "permalink", "link", "web_url", "hosted_invoice_url")
_PAST_OVERRIDES = {"get": "retrieved", "list": "found", "search": "found", "find": "found", "fetch": "fetched"}


class ConversationWriter:
    def __init__(self, plan: ConversationPlan, tools: dict[str, Tool], persona: Persona, scenario: str,
                 values: ValueFactory):
        self.plan = plan
        self.tools = tools
        self.persona = persona
        self.scenario = scenario
        self.values = values
        self.rng = values.rng
        self.world = World(values, me={"name": persona.name, "email": persona.email}, integer_id_keys=frozenset(
            slot.key for tool in tools.values() for slot in input_slots(tool.input_schema, tool.original_name)
            if slot.kind == "id" and _wants_integer(slot.schema)))
        self.turns: list[Any] = []
        self.chosen: dict[int, dict[str, Any]] = {}

    def write(self) -> list[Any]:
        for seg_no, segment in enumerate(self.plan.segments):
            self._user_request(seg_no, segment)
            for pos, i in enumerate(segment):
                self._step(pos, i, segment)
            if self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_summary")))
            results = " ".join(self._describe(i) for i in segment)
            summary = pick(self.rng, "segment_summary", results=results)
            if seg_no == len(self.plan.segments) - 1 and not self.plan.closing:
                summary += pick(self.rng, "anything_else")
            self.turns.append(AssistantTurn(text=summary))
        if self.plan.closing:
            self.turns.append(UserTurn(text=pick(self.rng, "closing_user")))
            # The user's name only once they have said it (the system prompt may not give it).
            # As a word: "New Michaelport" does not give the name Michael.
            said = re.compile(rf"\b{re.escape(self.persona.first_name)}\b")
            named = any(said.search(t.text) for t in self.turns if isinstance(t, UserTurn))
            key = "closing_assistant_named" if named and self.rng.random() < 1 / 3 else "closing_assistant"
            self.turns.append(AssistantTurn(text=pick(self.rng, key, first_name=self.persona.first_name)))
        return self.turns

    # ---- user requests -----------------------------------------------------------------
    def _user_request(self, seg_no: int, segment: list[int]) -> None:
        parts = []
        for i in segment:
            step = self.plan.steps[i]
            tool = self.tools[step.tool]
            part = request_phrase(tool)
            reference = self._reference(step, i)
            if reference:
                part += " " + reference
            stated = {k: v for k, v in step.user_args.items() if k not in step.clarify and k not in step.reuse}
            if stated:
                part += " " + pick(self.rng, "mention_values", values=say(self.rng, stated))
            parts.append(part)
        request = parts[0]
        for part in parts[1:]:
            request += pick(self.rng, "then_join") + part
        if seg_no == 0:
            p = self.persona
            # The scenario stays out of the user's words: it is the generator's brief, written
            # about the user in the third person (the prompt_leak detector).
            pieces = [
                pick(self.rng, "greeting", name=p.name, role=p.role, company=p.company),
                pick(self.rng, "first_request", request=request),
            ]
            text = " ".join(x for x in pieces if x)
        else:
            text = pick(self.rng, "followup_request", request=request)
        self.turns.append(UserTurn(text=text))

    def _reference(self, step: PlannedStep, i: int) -> str:
        """How the user points at the entity a grounded step acts on, without knowing its id.

        Results of earlier requests were shown to the user, so they name the entity by its
        label; a producer in the same request has not run yet, so they say "that one".
        """
        if not step.grounded:
            return ""
        arg, key = next(iter(step.grounded.items()))
        hits = self.world.find(key, before_step=i)
        if not hits:
            return pick(self.rng, "it_reference", entity=entity_phrase(key[:-3]))
        latest = [h for h in hits if h.step == hits[0].step]
        choice = self.rng.choice(latest)
        self.chosen.setdefault(i, {})[arg] = choice.value
        if choice.label:
            return pick(self.rng, "label_reference", entity=entity_phrase(choice.entity), label=choice.label)
        return pick(self.rng, "it_reference", entity=entity_phrase(choice.entity))

    # ---- one tool step -----------------------------------------------------------------
    def _step(self, pos: int, i: int, segment: list[int]) -> None:
        step = self.plan.steps[i]
        tool = self.tools[step.tool]
        phrase = request_phrase(tool)
        if step.clarify:
            fields = " and ".join(humanize(c) for c in step.clarify)
            if self.plan.thoughts:
                self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_clarify", request=phrase, fields=fields)))
            self.turns.append(AssistantTurn(text=pick(self.rng, "clarify_question", request=phrase, fields=fields)))
            answer = say(self.rng, {k: step.user_args[k] for k in step.clarify})
            self.turns.append(UserTurn(text=pick(self.rng, "clarify_answer", values=answer)))
        args, grounding_note = self._arguments(step, tool, i)
        if self.plan.thoughts:
            self.turns.append(ThoughtTurn(text=pick(self.rng, "thought_call", request=phrase, tool=tool.name,
                                                    grounding=grounding_note)))
        if pos == 0 and not step.clarify and self.rng.random() < 0.6:
            self.turns.append(AssistantTurn(text=pick(self.rng, "before_call", request=phrase)))
        elif pos > 0 and self.rng.random() < 0.4:
            self.turns.append(AssistantTurn(text=pick(self.rng, "between_calls", result=self._describe(segment[pos - 1]),
                                                      request=phrase, request_ing=ing(phrase))))
        self.turns.append(ToolCallTurn(name=tool.name, arguments=args))
        self.turns.append(ToolResponseTurn(content=self.world.execute(tool, args, step=i)))

    def _arguments(self, step: PlannedStep, tool: Tool, i: int) -> tuple[dict[str, Any], str]:
        props = (tool.input_schema.get("properties") or {})
        args: dict[str, Any] = {}
        note = ""
        for name, schema in props.items():
            if name in step.grounded:
                value = self._grounded_value(name, step.grounded[name], schema, i)
                if value is None:
                    continue
                args[name] = value
                if not note:
                    note = pick(self.rng, "thought_grounding", param=humanize(name), value=format_value(value))
            elif name in step.defaults:
                args[name] = step.defaults[name]
            elif name in step.reuse:
                hits = [h for h in self.world.find(step.reuse[name], before_step=i)
                        if schema_validator(schema).is_valid(h.value)]
                args[name] = hits[0].value if hits else step.user_args[name]
            elif name in step.user_args:
                args[name] = step.user_args[name]
        # Keys in schema order at every level: the plan's JSON went through sorted keys, and a
        # bundle grammar (what a model is held to) fixes property order.
        return schema_order(args, tool.input_schema), note

    def _grounded_value(self, name: str, key: str, schema: dict[str, Any], i: int) -> Any:
        if name in self.chosen.get(i, {}):
            value = self.chosen[i][name]
        else:
            hits = self.world.find(key, before_step=i)
            if not hits:
                return None
            latest = [h for h in hits if h.step == hits[0].step]
            value = self.rng.choice(latest).value
        stype = schema.get("type")
        if stype == "array":
            return [value]
        if stype == "integer" and isinstance(value, str) and value.isdigit():
            return int(value)
        if stype == "string" and isinstance(value, int):
            return str(value)
        return value

    # ---- result descriptions -----------------------------------------------------------
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
            labels = [p.label for p in main if p.label][:3]
            listed = (": " + ", ".join(f'"{label}"' for label in labels)) if labels else ""
            noun = entity_phrase(entity) if len(main) == 1 else plural(entity_phrase(entity))
            return f"I found {len(main)} {noun}{listed}."
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
