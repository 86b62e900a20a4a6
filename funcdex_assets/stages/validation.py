"""Validation and scoring stages."""

from __future__ import annotations

import json
from collections import Counter
from typing import Sequence

import polars as pl

from funcdex_assets.backends.base import GenerationBackend, JudgeRequest, JudgeScore, Persona
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import ToolCallTurn, UserTurn
from funcdex_assets.dml.parser import DMLParseError, parse_dml
from funcdex_assets.dml.validator import validate_conversation
from funcdex_assets.frames import frame, ok
from funcdex_assets.hashing import derive_seed
from funcdex_assets.export.trl import to_messages, tools_list
from funcdex_assets.quality.detectors import AFTER_VALIDATION, detect
from funcdex_assets.quality.dialogue import dialogue_from_messages
from funcdex_assets.quality.findings import Finding, findings_json
from funcdex_assets.quality.grounding import id_grounding
from funcdex_assets.quality.rubric import bound

LINEAGE = ("conversation_id", "outline_id", "persona_id", "scenario_id", "combo_id", "bundle", "dml", "system_prompt",
           "system_prompt_error")


def validate_frame(conversations: pl.DataFrame, tools: Sequence[Tool], *, min_user_turns: int,
                   include_thoughts: bool) -> pl.DataFrame:
    """Every written conversation parsed, validated (`dml.validator`) and read by the meaning
    detectors (`quality.detectors`). A row keeps the status the generator gave it when that was a
    reject, but its text is still parsed and checked, so the checks see every attempt."""
    by_name = {t.name: t for t in tools}
    functions = tools_list(tools)
    out = []
    for row in conversations.iter_rows(named=True):
        base = {k: row.get(k) for k in LINEAGE}
        upstream = [row["status"]] if row["status"] != "ok" else []
        if row["dml"] is None:
            out.append({**base, "status": row["status"], "reject_reason": row["reject_reason"],
                        "reject_reasons": upstream or ["no_text"], "parsed": False})
            continue
        try:
            turns = parse_dml(row["dml"]).turns
        except DMLParseError as exc:
            out.append({**base, "status": row["status"] if upstream else "unparseable",
                        "reject_reason": row["reject_reason"] if upstream else str(exc),
                        "reject_reasons": sorted(set(upstream + ["unparseable"])), "parsed": False,
                        "issues": json.dumps([{"code": "unparseable", "message": str(exc), "line": exc.line}])})
            continue
        issues = validate_conversation(turns, by_name, min_user_turns=min_user_turns,
                                       allow_thoughts=include_thoughts)
        grounding = id_grounding(turns, by_name)
        messages = to_messages(turns, row["conversation_id"], row["system_prompt"])
        # The shape checks too (the validator accepts empty turns, an empty final answer), but not
        # the schemas again: the validator has held every call to its tool.
        findings = detect(dialogue_from_messages(messages, functions), detectors=AFTER_VALIDATION)
        codes = sorted({i.code for i in issues})
        out.append({
            **base,
            "status": row["status"] if upstream else ("ok" if not issues else codes[0]),
            "reject_reason": row["reject_reason"] if upstream else ("; ".join(i.message for i in issues[:5]) or None),
            "reject_reasons": sorted(set(upstream + codes)),
            "issues": json.dumps([{"code": i.code, "message": i.message, "line": i.line} for i in issues]),
            "parsed": True,
            "findings": json.dumps(findings_json(findings), ensure_ascii=False),
            "finding_codes": sorted({f.code for f in findings}),
            "user_turns": sum(isinstance(t, UserTurn) for t in turns),
            "tool_calls": sum(isinstance(t, ToolCallTurn) for t in turns),
            "id_arguments": grounding.id_arguments,
            "id_arguments_grounded": grounding.grounded,
        })
    return frame("validated_conversations", out)


def finding_counts(validated: pl.DataFrame) -> dict[str, int]:
    """Accepted conversations per meaning-detector code (a conversation counts under each of its codes)."""
    counts: Counter[str] = Counter()
    for codes in ok(validated)["finding_codes"].to_list():
        counts.update(codes or [])
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def issue_counts(validated: pl.DataFrame) -> dict[str, int]:
    """Conversations rejected per issue code (a conversation can count under several)."""
    counts: Counter[str] = Counter()
    for row in validated.filter(pl.col("status") != "ok").iter_rows(named=True):
        counts.update(row["reject_reasons"] or [row["status"]])
    return dict(sorted(counts.items()))


def scores_frame(validated: pl.DataFrame, personas: pl.DataFrame, scenarios: pl.DataFrame, tools: Sequence[Tool],
                 backend: GenerationBackend, seed: int, bundle: str, min_tool_use_quality: int) -> pl.DataFrame:
    persona_json = dict(zip(personas["persona_id"], personas["persona"]))
    scenario_text = dict(zip(scenarios["scenario_id"], scenarios["scenario"]))
    rows = list(ok(validated).iter_rows(named=True))
    findings = [[Finding(**f) for f in json.loads(r["findings"] or "[]")] for r in rows]
    requests = [JudgeRequest(dml=r["dml"], persona=Persona.model_validate_json(persona_json[r["persona_id"]]),
                             scenario=scenario_text[r["scenario_id"]], tools=list(tools),
                             seed=derive_seed(seed, bundle, "judge", r["conversation_id"]),
                             findings=[f.line() for f in found]) for r, found in zip(rows, findings)]
    results = backend.judge(requests)
    out = []
    for row, result, found in zip(rows, results, findings):
        if not isinstance(result, JudgeScore):
            out.append({"conversation_id": row["conversation_id"], "bundle": bundle, "passed": False,
                        "status": result.reason, "reject_reason": result.message})
            continue
        # The detectors' evidence bounds every judge's scores (quality/rubric.py).
        result = bound(result, found)
        passed = result.tool_use_quality >= min_tool_use_quality
        out.append({
            "conversation_id": row["conversation_id"], "bundle": bundle,
            "user_query_clarity": result.user_query_clarity, "tool_use_quality": result.tool_use_quality,
            "reasons": json.dumps(result.reasons, ensure_ascii=False), "passed": passed,
            "status": "ok" if passed else "low_tool_use_quality",
            "reject_reason": None if passed else (
                f"tool_use_quality {result.tool_use_quality} < {min_tool_use_quality}: "
                f"{result.reasons.get('tool_use_quality', '')}"),
        })
    return frame("conversation_scores", out)
