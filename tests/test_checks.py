"""Asset checks: the functions on frames, and blocking behaviour in a real materialization."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl

from funcdex_assets.frames import frame
from funcdex_assets.quality import checks


def _validated(rows):
    return frame("validated_conversations", rows)


def test_parse_rate_and_argument_validity_count_only_what_applies():
    df = _validated([
        {"conversation_id": "a", "dml": "x", "status": "ok", "reject_reasons": [], "parsed": True},
        {"conversation_id": "b", "dml": "x", "status": "unparseable", "reject_reasons": ["unparseable"],
         "reject_reason": "line 3: unknown tag", "parsed": False,
         "issues": json.dumps([{"code": "unparseable", "message": "line 3: unknown tag", "line": 3}])},
        {"conversation_id": "c", "dml": "x", "status": "invalid_arguments", "reject_reasons": ["invalid_arguments"],
         "issues": json.dumps([{"code": "invalid_arguments", "message": "GET: 'id' is required", "line": 4}]),
         "parsed": True},
        {"conversation_id": "d", "dml": None, "status": "llm_timeout", "reject_reasons": ["llm_timeout"],
         "parsed": False},
    ])
    parse = checks.dml_parse_rate(df, 0.9)
    assert not parse.passed and "66.7% of 3" in parse.summary and parse.details["unparseable"] == ["line 3: unknown tag"]
    args = checks.argument_validity(df, 0.5)
    assert args.passed and "50.0% of 2" in args.summary and args.details["invalid_arguments"] == ["GET: 'id' is required"]


def test_unanswered_calls_are_named():
    call = {"id": "call_1", "type": "function", "function": {"name": "GET", "arguments": {}}}
    rows = [{"conversation_id": "ok", "messages": json.dumps([{"role": "assistant", "tool_calls": [call]},
                                                              {"role": "tool", "tool_call_id": "call_1"}])},
            {"conversation_id": "bad", "messages": json.dumps([{"role": "assistant", "tool_calls": [call]},
                                                               {"role": "assistant", "content": "done"}])}]
    outcome = checks.every_call_answered(pl.DataFrame(rows))
    assert not outcome.passed and outcome.details["unanswered"] == ["bad: GET (call_1)"]


def test_a_parallel_call_is_answered_by_the_run_of_tool_messages_after_it():
    calls = [{"id": f"call_{k}", "type": "function", "function": {"name": f"GET_{k}", "arguments": {}}} for k in (1, 2)]
    answered = [{"role": "assistant", "tool_calls": calls}, {"role": "tool", "tool_call_id": "call_2"},
                {"role": "tool", "tool_call_id": "call_1"}, {"role": "assistant", "content": "done"}]
    half = [{"role": "assistant", "tool_calls": calls}, {"role": "tool", "tool_call_id": "call_1"},
            {"role": "assistant", "content": "done"}, {"role": "tool", "tool_call_id": "call_2"}]
    rows = [{"conversation_id": "ok", "messages": json.dumps(answered)},
            {"conversation_id": "half", "messages": json.dumps(half)}]
    outcome = checks.every_call_answered(pl.DataFrame(rows))
    assert outcome.details["unanswered"] == ["half: GET_2 (call_2)"]


def test_duplicate_and_judge_rates():
    dedup = frame("deduplicated_conversations", [{"conversation_id": str(i), "status": "duplicate" if i < 3 else "ok",
                                                  "reject_reason": "near_text"} for i in range(4)])
    assert not checks.duplicate_rate(dedup, 0.5).passed and checks.duplicate_rate(dedup, 0.8).passed
    scores = frame("conversation_scores", [{"conversation_id": str(i), "tool_use_quality": 5 if i else 2,
                                            "passed": bool(i), "status": "ok"} for i in range(4)])
    assert checks.judge_pass_rate(scores, 0.75).passed and not checks.judge_pass_rate(scores, 0.8).passed


def test_a_failing_blocking_check_stops_the_assets_after_it(tmp_path):
    from funcdex_assets.definitions import build_definitions
    from funcdex_assets.defs.resources import DatasetOutputResource, GenerationSettings

    defs = build_definitions(settings=GenerationSettings(conversations_per_bundle=2, min_conversations_per_bundle=50),
                             output=DatasetOutputResource(directory=str(tmp_path / "out")))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("bundles", ["whatsapp"])
        result = defs.resolve_job_def("generate_bundle").execute_in_process(
            instance=instance, partition_key="whatsapp", raise_on_error=False)
        assert not result.success
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert evaluations["minimum_conversations"].passed is False
        assert "2 conversations exported (minimum 50)" in evaluations["minimum_conversations"].metadata["summary"].value
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert "parsed_dataset" in materialized and "conversation_diversity" not in materialized
