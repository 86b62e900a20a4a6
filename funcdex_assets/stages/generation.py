"""Generation stages: combinations, scenarios, personas, outlines, DML conversations.

Each takes the upstream frame, builds one backend request per accepted row with a seed
derived from (run seed, bundle, stage, parent id) so a row's output never depends on which
other rows are in the batch, and returns a frame with rejects kept and labelled.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import polars as pl

from funcdex_assets.backends.base import (
    ConversationRequest,
    GenerationBackend,
    Outline,
    OutlineRequest,
    Persona,
    PersonaRequest,
    ScenarioRequest,
    StageError,
    SystemPromptRequest,
)
from funcdex_assets.catalog.models import Tool
from funcdex_assets.frames import frame, ok
from funcdex_assets.hashing import canonical_json, content_id, derive_seed
from funcdex_assets.sampling.combos import DEFAULT_CHAIN_LENGTH, sample_combinations
from funcdex_assets.sampling.graph import ToolGraph

# Earlier scenarios shown to a model for diversity (the reference pipeline uses 50).
MAX_EARLIER_SCENARIOS = 50


def _status(result: Any) -> dict[str, Any]:
    if isinstance(result, StageError):
        return {"status": result.reason, "reject_reason": result.message}
    return {"status": "ok", "reject_reason": None}


def combinations_wanted(target: int, exported_before: int, oversample: float) -> int:
    """Tool chains a round samples: enough for the rows the bundle still lacks, with headroom
    (`oversample`) for what validation, the judge and dedup reject. A full bundle samples none."""
    return math.ceil(max(0, target - exported_before) * oversample)


def combinations_frame(tools: Sequence[Tool], bundle: str, n: int, seed: int,
                       usage: dict[str, int] | None = None,
                       mean_length: int = DEFAULT_CHAIN_LENGTH) -> pl.DataFrame:
    graph = ToolGraph.build(tools)
    combos = sample_combinations(graph, bundle, n, seed, usage=usage, mean_length=mean_length)
    return frame("tool_combinations", (
        {"combo_id": c.combo_id, "bundle": bundle, "tools": list(c.tools),
         "links": json.dumps([list(link) for link in c.links]), "seed": seed}
        for c in combos
    ))


def scenarios_frame(combos: pl.DataFrame, tools: Sequence[Tool], backend: GenerationBackend, seed: int,
                    bundle: str, earlier: Sequence[str] = (), workflow: str | None = None,
                    wave_size: int = 16) -> pl.DataFrame:
    """One scenario per combination. Requests go in waves: each wave sees the scenarios of
    the waves before it (and `earlier`, from past materializations) so a model can steer away
    from them, while the requests inside a wave run concurrently."""
    by_name = {t.name: t for t in tools}
    rows = list(combos.iter_rows(named=True))
    accepted = list(earlier)
    out = []
    for start in range(0, len(rows), max(1, wave_size)):
        wave = rows[start:start + wave_size]
        requests = [ScenarioRequest(
            bundle=bundle,
            combo_id=row["combo_id"],
            tools=[by_name[name] for name in row["tools"]],
            links=[tuple(link) for link in json.loads(row["links"])],
            earlier_scenarios=accepted[-MAX_EARLIER_SCENARIOS:],
            workflow_description=workflow,
            seed=derive_seed(seed, bundle, "scenario", row["combo_id"]),
        ) for row in wave]
        for row, req, result in zip(wave, requests, backend.scenarios(requests)):
            text = result if isinstance(result, str) else ""
            if text:
                accepted.append(text)
            out.append({
                "scenario_id": content_id("scn", row["combo_id"], text),
                "combo_id": row["combo_id"], "bundle": bundle, "scenario": text, "seed": req.seed,
                **_status(result),
            })
    return frame("scenarios", out)


def personas_frame(scenarios: pl.DataFrame, backend: GenerationBackend, seed: int, bundle: str,
                   toolkits: list[str]) -> pl.DataFrame:
    rows = list(ok(scenarios).iter_rows(named=True))
    requests = [PersonaRequest(bundle=bundle, scenario=r["scenario"], toolkits=toolkits,
                               seed=derive_seed(seed, bundle, "persona", r["scenario_id"])) for r in rows]
    results = backend.personas(requests)
    out = []
    for row, req, result in zip(rows, requests, results):
        persona_json = canonical_json(result.model_dump()) if isinstance(result, Persona) else None
        out.append({
            "persona_id": content_id("per", row["scenario_id"], persona_json),
            "scenario_id": row["scenario_id"], "combo_id": row["combo_id"], "bundle": bundle,
            "persona": persona_json, "seed": req.seed, **_status(result),
        })
    return frame("personas", out)


def outlines_frame(personas: pl.DataFrame, scenarios: pl.DataFrame, combos: pl.DataFrame, tools: Sequence[Tool],
                   backend: GenerationBackend, seed: int, bundle: str, include_thoughts: bool) -> pl.DataFrame:
    by_name = {t.name: t for t in tools}
    scenario_text = dict(zip(scenarios["scenario_id"], scenarios["scenario"]))
    combo_rows = {r["combo_id"]: r for r in combos.iter_rows(named=True)}
    rows = list(ok(personas).iter_rows(named=True))
    requests = []
    for r in rows:
        combo = combo_rows[r["combo_id"]]
        requests.append(OutlineRequest(
            bundle=bundle,
            scenario=scenario_text[r["scenario_id"]],
            persona=Persona.model_validate_json(r["persona"]),
            tools=[by_name[n] for n in combo["tools"]],
            links=[tuple(link) for link in json.loads(combo["links"])],
            bundle_tools=list(tools),
            include_thoughts=include_thoughts,
            seed=derive_seed(seed, bundle, "outline", r["persona_id"]),
        ))
    results = backend.outlines(requests)
    out = []
    for row, req, result in zip(rows, requests, results):
        outline = result if isinstance(result, Outline) else None
        plan_json = canonical_json(outline.plan) if outline and outline.plan is not None else None
        out.append({
            "outline_id": content_id("out", row["persona_id"], outline.text if outline else None, plan_json),
            "persona_id": row["persona_id"], "scenario_id": row["scenario_id"], "combo_id": row["combo_id"],
            "bundle": bundle, "outline": outline.text if outline else None, "plan": plan_json,
            "offered_tools": outline.offered_tools if outline else None,
            "include_thoughts": include_thoughts, "seed": req.seed, **_status(result),
        })
    return frame("outlines", out)


def conversations_frame(outlines: pl.DataFrame, personas: pl.DataFrame, scenarios: pl.DataFrame,
                        tools: Sequence[Tool], backend: GenerationBackend, seed: int,
                        bundle: str, toolkits: list[str], min_user_turns: int = 1) -> pl.DataFrame:
    """DML conversations plus a system prompt for each (drop-out happens at export)."""
    by_name = {t.name: t for t in tools}
    scenario_text = dict(zip(scenarios["scenario_id"], scenarios["scenario"]))
    persona_json = dict(zip(personas["persona_id"], personas["persona"]))
    rows = list(ok(outlines).iter_rows(named=True))
    requests = []
    for r in rows:
        requests.append(ConversationRequest(
            bundle=bundle,
            scenario=scenario_text[r["scenario_id"]],
            persona=Persona.model_validate_json(persona_json[r["persona_id"]]),
            outline=Outline(text=r["outline"], plan=json.loads(r["plan"]) if r["plan"] else None,
                            offered_tools=r["offered_tools"]),
            tools=[by_name[n] for n in r["offered_tools"] if n in by_name],
            include_thoughts=bool(r["include_thoughts"]),
            seed=derive_seed(seed, bundle, "conversation", r["outline_id"]),
            bundle_tools=list(tools),
            min_user_turns=min_user_turns,
        ))
    results = backend.conversations(requests)
    # System prompts only for conversations that exist: no calls spent on rejects.
    wanted = [i for i, result in enumerate(results) if isinstance(result, str)]
    prompt_results = backend.system_prompts([SystemPromptRequest(
        persona=requests[i].persona, toolkits=toolkits, scenario=requests[i].scenario,
        today=(requests[i].outline.plan or {}).get("today", ""),
        seed=derive_seed(seed, bundle, "system_prompt", rows[i]["outline_id"]),
    ) for i in wanted])
    prompts: list = [None] * len(rows)
    for i, prompt in zip(wanted, prompt_results):
        prompts[i] = prompt
    out = []
    for row, req, result, prompt in zip(rows, requests, results, prompts):
        # A rejected conversation keeps the text the model wrote: the checks count every attempt.
        dml = result if isinstance(result, str) else result.text
        out.append({
            "system_prompt": prompt if isinstance(prompt, str) else None,
            "system_prompt_error": (f"{prompt.reason}: {prompt.message}" if isinstance(prompt, StageError) else None),
            "conversation_id": content_id("conv", row["outline_id"], dml),
            "outline_id": row["outline_id"], "persona_id": row["persona_id"], "scenario_id": row["scenario_id"],
            "combo_id": row["combo_id"], "bundle": bundle, "dml": dml, "seed": req.seed, **_status(result),
        })
    return frame("dml_conversations", out)
