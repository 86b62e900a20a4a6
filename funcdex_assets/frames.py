"""The Polars schemas of the frames that flow between assets (the data contract).

Every stage frame carries its own content-hash id and the ids of all its ancestors, so any
row's lineage (combo -> scenario -> persona -> outline -> conversation) is one filter away.
Rows a stage could not use stay in its frame with `status != "ok"` and a `reject_reason`, so
rejects are visible in the UI and never silently lost; downstream stages read `status == "ok"`.
JSON-valued columns are UTF-8 strings of canonical JSON (nested, heterogeneous shapes).
"""

from __future__ import annotations

from typing import Any, Iterable

import polars as pl

Utf8, Int64, Bool = pl.Utf8, pl.Int64, pl.Boolean
Strings = pl.List(pl.Utf8)

_STATUS = {"status": Utf8, "reject_reason": Utf8}
_TOOL = {
    "tool_uid": Utf8, "toolkit": Utf8, "name": Utf8, "original_name": Utf8, "description": Utf8,
    "input_schema": Utf8, "output_schema": Utf8, "source": Utf8, "source_format": Utf8,
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    # One row per tool of the whole catalog (unpartitioned).
    "tool_catalog": dict(_TOOL),
    # The tools of one bundle, sorted by name.
    "bundle_tools": {"bundle": Utf8, **_TOOL},
    # Sampled chains: `tools` in call order, `links` JSON [[consumer, id key, producer], ...].
    "tool_combinations": {"combo_id": Utf8, "bundle": Utf8, "tools": Strings, "links": Utf8, "seed": Int64},
    "scenarios": {"scenario_id": Utf8, "combo_id": Utf8, "bundle": Utf8, "scenario": Utf8, "seed": Int64, **_STATUS},
    # status: ok | duplicate (duplicate_of names the kept scenario) | any upstream reject.
    "deduplicated_scenarios": {"scenario_id": Utf8, "combo_id": Utf8, "bundle": Utf8, "scenario": Utf8,
                               "duplicate_of": Utf8, "similarity": pl.Float64, **_STATUS},
    # persona: JSON of backends.base.Persona.
    "personas": {"persona_id": Utf8, "scenario_id": Utf8, "combo_id": Utf8, "bundle": Utf8, "persona": Utf8,
                 "seed": Int64, **_STATUS},
    # plan: JSON of offline.planner.ConversationPlan, null for model-written outlines.
    "outlines": {"outline_id": Utf8, "persona_id": Utf8, "scenario_id": Utf8, "combo_id": Utf8, "bundle": Utf8,
                 "outline": Utf8, "plan": Utf8, "offered_tools": Strings, "include_thoughts": Bool, "seed": Int64,
                 **_STATUS},
    "dml_conversations": {"conversation_id": Utf8, "outline_id": Utf8, "persona_id": Utf8, "scenario_id": Utf8,
                          "combo_id": Utf8, "bundle": Utf8, "dml": Utf8, "system_prompt": Utf8,
                          # why the system prompt request failed (null when it did not): such a row is
                          # not exported without its prompt unless allowed (stages/accounting.py)
                          "system_prompt_error": Utf8, "seed": Int64, **_STATUS},
    # Every written conversation, rejected ones too (status keeps the generator's reject reason).
    # issues: JSON list of {code, message, line} (validator); reject_reasons: the distinct issue
    # codes plus an upstream reject reason; parsed: the DML text parsed; findings: JSON list of
    # quality.findings.Finding {code, message_index, message} of the meaning detectors, with
    # message_index counting the system prompt; finding_codes: their distinct codes.
    "validated_conversations": {"conversation_id": Utf8, "outline_id": Utf8, "persona_id": Utf8,
                                "scenario_id": Utf8, "combo_id": Utf8, "bundle": Utf8, "dml": Utf8,
                                "system_prompt": Utf8, "system_prompt_error": Utf8, "reject_reasons": Strings, "issues": Utf8, "parsed": Bool,
                                "findings": Utf8, "finding_codes": Strings, "user_turns": Int64,
                                "tool_calls": Int64, "id_arguments": Int64, "id_arguments_grounded": Int64,
                                **_STATUS},
    "conversation_scores": {"conversation_id": Utf8, "bundle": Utf8, "user_query_clarity": Int64,
                            "tool_use_quality": Int64, "reasons": Utf8, "passed": Bool, **_STATUS},
    # Valid, judge-passed conversations; near duplicates marked `duplicate` with the kept row's id.
    "deduplicated_conversations": {"conversation_id": Utf8, "bundle": Utf8, "duplicate_of": Utf8,
                                   "similarity": pl.Float64, **_STATUS},
    # Per exported conversation: what diversity is measured on.
    "conversation_summaries": {"conversation_id": Utf8, "bundle": Utf8, "tool_calls": Strings,
                               "user_texts": Strings, "n_turns": Int64, "n_tool_calls": Int64, "n_tokens": Int64},
    # One row: all bundles' diversity report (JSON of quality.diversity.DiversityReport).
    "dataset_diversity": {"bundles": Strings, "report": Utf8},
    # messages / tools: TRL tool-calling format (JSON); metadata: lineage and scores (JSON).
    "parsed_dataset": {"conversation_id": Utf8, "bundle": Utf8, "toolkits": Strings, "messages": Utf8,
                       "tools": Utf8, "system_prompt": Utf8, "metadata": Utf8},
    "training_dataset": {"conversation_id": Utf8, "bundle": Utf8, "toolkits": Strings, "messages": Utf8,
                         "tools": Utf8, "system_prompt": Utf8, "metadata": Utf8, "split": Utf8},
}


def frame(name: str, rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a frame with exactly the documented schema of `name` (missing keys are null)."""
    schema = SCHEMAS[name]
    rows = list(rows)
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema, orient="row") if rows \
        else pl.DataFrame(schema=schema)


def ok(df: pl.DataFrame) -> pl.DataFrame:
    """The rows a stage accepted."""
    return df.filter(pl.col("status") == "ok")


def reject_counts(df: pl.DataFrame) -> dict[str, int]:
    """Rows per non-ok status, for materialization metadata."""
    if "status" not in df.columns or df.is_empty():
        return {}
    counts = df.filter(pl.col("status") != "ok").group_by("status").len().sort("status")
    return {row["status"]: int(row["len"]) for row in counts.iter_rows(named=True)}
