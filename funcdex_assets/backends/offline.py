"""The embedded offline backend: a schema-driven, seed-deterministic generator.

It implements the same batch interface as a model backend, with no model, GPU or network:
scenarios and personas from the sampled chain and Faker, outlines as executable plans,
conversations executed against a simulated world (see offline/world.py), and a mechanical
judge. Each request carries its own seed, so a row's output does not depend on the batch.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Sequence

from faker import Faker

from funcdex_assets.backends.base import (
    ConversationRequest,
    JudgeRequest,
    JudgeScore,
    Outline,
    OutlineRequest,
    Persona,
    PersonaRequest,
    Result,
    ScenarioRequest,
    StageError,
    SystemPromptRequest,
)
from funcdex_assets.dml.parser import DMLParseError, parse_dml
from funcdex_assets.dml.renderer import render_dml
from funcdex_assets.offline.authoring import write_persona, write_scenario, write_system_prompt
from funcdex_assets.offline.judge import judge_conversation
from funcdex_assets.offline.planner import ConversationPlan, offered_tools, outline_text, plan_conversation
from funcdex_assets.offline.values import ValueFactory, make_today
from funcdex_assets.offline.writer import ConversationWriter

MAX_SCENARIO_REROLLS = 5


class EmbeddedOfflineBackend:
    name = "embedded-offline"

    def __init__(self, locale: str = "en_US"):
        # One Faker, reseeded per request: building one costs milliseconds, seeding nothing.
        self._fake = Faker(locale)

    def usage(self) -> dict:
        return {}  # no model, no tokens

    def _seeded(self, seed: int) -> tuple[random.Random, Faker]:
        self._fake.seed_instance(seed)
        return random.Random(seed), self._fake

    def _values(self, seed: int, today=None) -> ValueFactory:
        rng, fake = self._seeded(seed)
        return ValueFactory(rng, fake, today or make_today(random.Random(seed ^ 0x5EED)))

    # ---------------------------------------------------------------------------------
    def scenarios(self, requests: Sequence[ScenarioRequest]) -> list[Result[str]]:
        out: list[Result[str]] = []
        for req in requests:
            earlier = set(req.earlier_scenarios)
            text = ""
            for attempt in range(MAX_SCENARIO_REROLLS):
                rng, fake = self._seeded(req.seed + attempt)
                text = write_scenario(req.tools, rng, fake)
                if text not in earlier:
                    break
            out.append(text)
        return out

    def personas(self, requests: Sequence[PersonaRequest]) -> list[Result[Persona]]:
        out: list[Result[Persona]] = []
        for req in requests:
            values = self._values(req.seed)
            out.append(write_persona(values.rng, values.fake, values))
        return out

    def outlines(self, requests: Sequence[OutlineRequest]) -> list[Result[Outline]]:
        out: list[Result[Outline]] = []
        for req in requests:
            values = self._values(req.seed)
            today = values.today.strftime("%Y-%m-%d")
            plan = plan_conversation(req.tools, req.persona, values, today, req.include_thoughts)
            offered = offered_tools(req.tools, req.bundle_tools, values.rng)
            out.append(Outline(text=outline_text(plan, req.tools, req.persona), plan=plan.model_dump(),
                               offered_tools=offered))
        return out

    def conversations(self, requests: Sequence[ConversationRequest]) -> list[Result[str]]:
        out: list[Result[str]] = []
        for req in requests:
            if req.outline.plan is None:
                out.append(StageError(reason="no_plan", message=(
                    "the embedded backend writes conversations only from its own outlines; "
                    "re-materialize `outlines` with the same LLM resource")))
                continue
            plan = ConversationPlan.model_validate(req.outline.plan)
            tools = {t.name: t for t in req.tools}
            missing = [s.tool for s in plan.steps if s.tool not in tools]
            if missing:
                out.append(StageError(reason="plan_tool_missing", message=(
                    f"the outline calls {', '.join(sorted(set(missing)))}, which the bundle no longer has; "
                    "re-materialize `tool_combinations` and downstream")))
                continue
            today = datetime.strptime(plan.today, "%Y-%m-%d").replace(hour=9, tzinfo=timezone.utc)
            values = self._values(req.seed, today)
            turns = ConversationWriter(plan, tools, req.persona, req.scenario, values).write()
            out.append(render_dml(turns))
        return out

    def system_prompts(self, requests: Sequence[SystemPromptRequest]) -> list[Result[str]]:
        out: list[Result[str]] = []
        for req in requests:
            rng, _ = self._seeded(req.seed)
            out.append(write_system_prompt(req.persona, req.toolkits, req.today, rng))
        return out

    def judge(self, requests: Sequence[JudgeRequest]) -> list[Result[JudgeScore]]:
        out: list[Result[JudgeScore]] = []
        for req in requests:
            try:
                turns = parse_dml(req.dml).turns
            except DMLParseError as exc:
                out.append(StageError(reason="unparseable", message=str(exc)))
                continue
            out.append(judge_conversation(turns, {t.name: t for t in req.tools}, req.persona))
        return out
