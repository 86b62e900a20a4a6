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
from funcdex_assets.catalog.fields import Slot, entity_of_object, snake
from funcdex_assets.catalog.models import Tool
from funcdex_assets.offline.language import humanize, mention, request_phrase
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.sampling.graph import build_node

# Optional inputs a person would not mention: paging, field masks, output switches.
_PLUMBING = ("token", "cursor", "fields", "verbose", "pretty", "alt", "offset", "page",
             "include", "expand", "format", "starting_after", "ending_before", "since_id",
             "user_id", "supports", "quota", "callback", "upload_type", "media",
             # Google discovery specs' transport knobs on every operation (`$.xgafv`, `upload_protocol`).
             "xgafv", "upload_protocol")
MAX_DISTRACTORS = 3
MAX_OFFERED_TOOLS = 20


class PlannedStep(BaseModel):
    tool: str
    user_args: dict[str, Any]  # values the user knows: stated up front or when asked
    clarify: list[str]  # user_args the user leaves out until the assistant asks
    defaults: dict[str, Any]  # documented defaults used as-is ('primary', 'me')
    grounded: dict[str, str]  # argument -> key of an earlier response value (ids)
    reuse: dict[str, str]  # value arguments taken from an earlier response when present


class ConversationPlan(BaseModel):
    today: str
    clarity: str
    segments: list[list[int]]
    steps: list[PlannedStep]
    closing: bool
    thoughts: bool


def _is_plumbing(slot: Slot) -> bool:
    s = snake(slot.name)
    return any(p == s or p in s.split("_") or s.startswith(p) for p in _PLUMBING)


def plan_conversation(
    chain: list[Tool], persona: Persona, values: ValueFactory, today: str, thoughts: bool
) -> ConversationPlan:
    rng = values.rng
    produced_keys: set[str] = set()
    # Ids the user states because no tool returns them (see ToolGraph.context_keys); one value
    # per key for the whole conversation.
    context: dict[str, Any] = {}
    steps: list[PlannedStep] = []
    for tool in chain:
        node = build_node(tool)
        user_args: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        grounded: dict[str, str] = {}
        reuse: dict[str, str] = {}
        for slot in node.inputs:
            if slot.kind == "id":
                if slot.key in produced_keys and (slot.required or rng.random() < 0.5):
                    grounded[slot.name] = slot.key
                elif slot.required and "default" in slot.schema:
                    defaults[slot.name] = slot.schema["default"]
                elif slot.required:
                    if slot.key not in context:
                        context[slot.key] = values.make_id(slot.schema)
                    user_args[slot.name] = context[slot.key]
                # An optional id nothing produced is left out: the user could not know it.
                continue
            # An optional switch is the assistant's business, not something a user says.
            if not slot.required and (_is_plumbing(slot) or slot.schema.get("type") == "boolean"
                                      or rng.random() > 0.35):
                continue
            shared = [k for k in slot.keys if k in produced_keys]
            if shared and slot.kind in ("email", "value", "datetime", "date") and rng.random() < 0.7:
                reuse[slot.name] = shared[-1]
            # The entity the call is about decides what a `name` is (a product's is a title).
            user_args[slot.name] = values.value(slot.name, slot.schema,
                                                holder=entity_of_object((), tool.original_name))
        clarify = _choose_clarifications(node.inputs, user_args, reuse, persona.clarity, rng)
        steps.append(PlannedStep(tool=tool.name, user_args=user_args, clarify=clarify, defaults=defaults,
                                 grounded=grounded, reuse=reuse))
        produced_keys |= node.produces
    return ConversationPlan(
        today=today,
        clarity=persona.clarity,
        segments=_segments(len(chain), rng),
        steps=steps,
        closing=rng.random() < 0.6,
        thoughts=thoughts,
    )


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
        if rng.random() < 0.55:
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


def outline_text(plan: ConversationPlan, chain: list[Tool], persona: Persona) -> str:
    """The plan as the numbered outline a person reads in the UI."""
    tools = {t.name: t for t in chain}
    lines = [f"Persona: {persona.name}, {persona.role} at {persona.company} (clarity: {plan.clarity})."]
    n = 1
    for seg_no, segment in enumerate(plan.segments):
        who = "The user opens the conversation" if seg_no == 0 else "The user follows up"
        asks = ", then ".join(request_phrase(tools[plan.steps[i].tool]) for i in segment)
        lines.append(f"{n}. {who} asking to {asks}.")
        n += 1
        for i in segment:
            step = plan.steps[i]
            if step.clarify:
                lines.append(f"{n}. The assistant asks for the {', '.join(humanize(c) for c in step.clarify)}; the user answers.")
                n += 1
            detail = []
            if step.grounded:
                detail.append("taking " + ", ".join(humanize(a) for a in step.grounded) + " from earlier results")
            stated = {k: v for k, v in step.user_args.items() if k not in step.reuse}
            if stated:
                detail.append("with " + mention(stated))
            lines.append(f"{n}. The assistant calls {step.tool}" + (f" ({'; '.join(detail)})" if detail else "") + ".")
            n += 1
        lines.append(f"{n}. The assistant reports the results.")
        n += 1
    if plan.closing:
        lines.append(f"{n}. The user thanks the assistant, who closes the conversation.")
    return "\n".join(lines)
