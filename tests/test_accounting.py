"""Where a round's rows went (stages/accounting.py): each reject counted once, request failures
told apart from quality rejects, a shortfall explained."""

from __future__ import annotations

import polars as pl

from funcdex_assets.stages.accounting import request_losses, round_rejects, shortfall_reason, total_rejects


def frame(key: str, rows: list[tuple[str, str]], **extra) -> pl.DataFrame:
    return pl.DataFrame({key: [k for k, _ in rows], "status": [s for _, s in rows],
                         "reject_reason": [None if s == "ok" else f"{s} details" for _, s in rows], **extra})


def test_a_reject_carried_by_later_frames_is_counted_once_at_its_stage() -> None:
    scenarios = frame("scenario_id", [("s1", "ok"), ("s2", "invalid_json"), ("s3", "ok")])
    dedup = frame("scenario_id", [("s1", "ok"), ("s2", "invalid_json"), ("s3", "duplicate")])
    dml = frame("conversation_id", [("c1", "llm_server_error"), ("c2", "ok"), ("c3", "ok")])
    validated = frame("conversation_id", [("c1", "llm_server_error"), ("c2", "invalid_after_repair:x"), ("c3", "ok")])
    scores = frame("conversation_id", [("c3", "low_tool_use_quality")])
    stages = [("scenarios", scenarios, "scenario_id"), ("deduplicated_scenarios", dedup, "scenario_id"),
              ("dml_conversations", dml, "conversation_id"), ("validated_conversations", validated, "conversation_id"),
              ("conversation_scores", scores, "conversation_id")]
    rejects = round_rejects(stages)
    assert rejects == {"scenarios": {"invalid_json": 1}, "deduplicated_scenarios": {"duplicate": 1},
                       "dml_conversations": {"llm_server_error": 1},
                       "validated_conversations": {"invalid_after_repair:x": 1},
                       "conversation_scores": {"low_tool_use_quality": 1}}
    assert sum(total_rejects(rejects).values()) == 5
    losses = request_losses(stages)
    assert losses.rows == 1 and losses.rows_by_stage == {"dml_conversations": {"llm_server_error": 1}}
    assert "1 dml_conversations (llm_server_error)" in losses.describe()
    assert "Rerun the same command" in losses.describe()


def test_a_bad_request_is_not_a_transient_loss_and_a_failed_system_prompt_is() -> None:
    dml = frame("conversation_id", [("c1", "llm_bad_request"), ("c2", "ok"), ("c3", "ok")],
                system_prompt_error=[None, "llm_timeout: no answer within 600 s", None])
    losses = request_losses([("dml_conversations", dml, "conversation_id")], dml)
    assert losses.rows == 0 and losses.system_prompts == 1 and bool(losses)
    assert "1 system prompt(s)" in losses.describe() and "no answer within 600 s" in losses.describe()
    assert not request_losses([("dml_conversations", frame("conversation_id", [("c", "ok")]), "conversation_id")])


def test_a_shortfall_names_the_dominant_reject_with_its_fix() -> None:
    text = shortfall_reason({"scenarios": {"invalid_json": 9, "truncated": 1},
                             "conversation_scores": {"low_tool_use_quality": 3}})
    assert text.startswith("most rejects were scenarios invalid_json (9)")
    assert "structured_outputs" in text and "conversation_scores low_tool_use_quality 3" in text
    assert "oversample" in shortfall_reason({})
