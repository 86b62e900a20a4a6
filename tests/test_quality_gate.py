"""The quality gate: detector findings in validated_conversations, honest checks over every attempt,
stage reject messages that name the cause and the fix, judges bounded by the detectors, and the
whole graph on a model that writes grammar-valid noise."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from fake_openai_server import FakeOpenAIServer
from scripted_model import constraint_of, pipeline_responder

from funcdex_assets.backends.base import JudgeScore
from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.renderer import render_dml
from funcdex_assets.frames import frame
from funcdex_assets.quality import checks
from funcdex_assets.quality.findings import Finding
from funcdex_assets.quality.rubric import bound, caps
from funcdex_assets.runner import generate
from funcdex_assets.stages.validation import finding_counts, validate_frame

REPO = Path(__file__).resolve().parents[1]
GMAIL = load_catalog(REPO / "tool_catalog").bundle_tools("gmail")
PROMPT = "You are Dana's assistant. Today is 2026-03-02 (Monday)."


def _row(dml: str | None, status: str = "ok", reject_reason: str | None = None, n: int = 0) -> dict:
    return {"conversation_id": f"conv_{n}", "outline_id": "o", "persona_id": "p", "scenario_id": "s", "combo_id": "c",
            "bundle": "gmail", "dml": dml, "system_prompt": PROMPT, "seed": 1, "status": status,
            "reject_reason": reject_reason}


def _dml(claim: str, deleted: bool) -> str:
    return render_dml([
        UserTurn(text="Please move message 18c1f8e2a3b4c5d6 to the trash."),
        ToolCallTurn(name="GMAIL_MOVE_TO_TRASH", arguments={"message_id": "18c1f8e2a3b4c5d6"}),
        ToolResponseTurn(content={"successful": deleted, "data": {"message": {
            "id": "18c1f8e2a3b4c5d6", "threadId": "18c1f2aa0c9e7b31", "labelIds": ["TRASH"] if deleted else ["INBOX"]}}}),
        AssistantTurn(text=claim),
    ])


def _validated(rows: list[dict]) -> pl.DataFrame:
    return validate_frame(frame("dml_conversations", rows), GMAIL, min_user_turns=1, include_thoughts=False)


def test_validated_conversations_carry_findings_and_the_check_reads_them():
    df = _validated([_row(_dml("Done, it's in the trash.", deleted=False), n=1),
                     _row(_dml("I couldn't trash it: the server refused.", deleted=False), n=2),
                     _row(_dml("Done, it's in the trash.", deleted=True), n=3)])
    assert df["status"].to_list() == ["ok", "ok", "ok"]
    assert df["finding_codes"].to_list() == [["false_success"], [], []]
    finding = json.loads(df["findings"][0])[0]
    assert finding["code"] == "false_success" and finding["message_index"] == 4  # system prompt is message 0
    assert finding_counts(df) == {"false_success": 1}
    outcome = checks.semantic_defect_rate(df, 0.01)
    assert not outcome.passed
    assert outcome.summary.startswith("1 of 3 accepted conversations (33.3%) have a meaning defect")
    assert "conv_1 message 4" in outcome.summary and "read the tool result" in outcome.summary
    assert checks.semantic_defect_rate(df, 0.5).passed


def test_rejected_conversations_keep_their_text_and_the_checks_count_them():
    bad_args = render_dml([UserTurn(text="Trash it."), ToolCallTurn(name="GMAIL_MOVE_TO_TRASH", arguments={}),
                           ToolResponseTurn(content={"successful": False, "error": "message_id missing", "data": {}}),
                           AssistantTurn(text="I could not trash it.")])
    df = _validated([_row(_dml("Done.", True), n=1),
                     _row("not dml at all", "unparseable", "line 1: text before the first tag", n=2),
                     _row(bad_args, "invalid_after_repair:invalid_arguments", "missing message_id", n=3),
                     _row(None, "llm_timeout", "no answer", n=4)])
    assert df["status"].to_list() == ["ok", "unparseable", "invalid_after_repair:invalid_arguments", "llm_timeout"]
    assert df["parsed"].to_list() == [True, False, True, False]
    parse = checks.dml_parse_rate(df, 0.9)
    assert not parse.passed and parse.summary.startswith("66.7% of 3 written conversations parse")
    args = checks.argument_validity(df, 0.9)
    assert not args.passed and args.summary.startswith("50.0% of 2 parsed conversations")


def test_a_stage_that_rejects_most_rows_names_the_reason_and_the_fix():
    rows = [{"status": "invalid_json", "reject_reason": "scenario: the answer is not JSON: 'Sure! Here'"}] * 26
    outcome = checks.stage_rejects(pl.DataFrame(rows), "scenarios", 0.5)
    assert not outcome.passed
    assert outcome.summary.startswith("all 26 scenarios were rejected as invalid_json: the server returned text "
                                      "that is not JSON although the request carried a JSON Schema")
    assert "structured_outputs" in outcome.summary and "First: scenario: the answer is not JSON" in outcome.summary
    mixed = pl.DataFrame([{"status": "ok", "reject_reason": None}] * 3 + [{"status": "llm_timeout", "reject_reason": "t"}]
                         + [{"status": "duplicate", "reject_reason": "d"}] * 10)
    assert checks.stage_rejects(mixed, "scenarios", 0.5).passed  # duplicates are the pipeline working
    assert checks.stage_rejects(pl.DataFrame(schema={"status": pl.Utf8, "reject_reason": pl.Utf8}),
                                "scenarios", 0.5).passed


def test_the_rubric_bounds_any_judge():
    generous = JudgeScore(user_query_clarity=5, tool_use_quality=5, reasons={"tool_use_quality": "Perfect."})
    lie = Finding(code="false_success", message_index=4, message="GMAIL_MOVE_TO_TRASH failed")
    dictated = Finding(code="parameter_dictation", message_index=1, message="'max results 5'")
    world = [Finding(code="created_in_future", message_index=3, message="x"),
             Finding(code="list_over_limit", message_index=5, message="y")]
    assert caps([]) == (5, 5)
    assert caps([lie]) == (5, 2) and caps([dictated]) == (2, 5)
    assert caps(world[:1]) == (5, 4) and caps(world) == (5, 4)
    bounded = bound(generous, [lie, dictated])
    assert (bounded.user_query_clarity, bounded.tool_use_quality) == (2, 2)
    assert "Capped at 2 by the detectors: false_success at message 4" in bounded.reasons["tool_use_quality"]
    assert bound(generous, []) == generous


def test_a_meaning_defect_of_the_embedded_generator_blocks_its_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    # The embedded generator seldom writes a defect the detectors find, so one is made: a user
    # who never says the addresses they mail to leaves calls with addresses nobody gave
    # (unsourced_argument). The meaning check is an error on the embedded backend too: the
    # bundle stops there, says why, and nothing is published.
    from funcdex_assets.offline import writer

    real_say = writer.say
    monkeypatch.setattr(writer, "say", lambda rng, args, tone=None, budget=None: real_say(
        rng, {k: v for k, v in args.items() if "@" not in json.dumps(v)}, tone, budget))
    summary = generate(["jira_gmail"], 12, 11, tmp_path / "out")
    assert not summary.ok
    message = summary.failures["jira_gmail"]
    assert "semantic_defect_rate" in message and "unsourced_argument" in message, message
    validated = summary.metadata("jira_gmail", "validated_conversations")
    assert validated["conversations_with_defects"] > 0 and validated["meaning_defects"]
    assert not list((tmp_path / "out").glob("*/conversations.jsonl"))
    # Asked to (funcdex generate --meaning-check warn), the check only warns and the bundle goes
    # on to the judge, which (bounded by the same detectors) rejects most of these rows.
    warned = generate(["jira_gmail"], 12, 11, tmp_path / "out2", meaning_check="warn")
    [warning] = [c for c in warned.warnings if c.check == "semantic_defect_rate"]
    assert "unsourced_argument" in warning.summary
    assert "semantic_defect_rate" not in str(warned.failures), warned.failures
    scores = warned.metadata("jira_gmail", "conversation_scores")
    assert scores["rejected_by_reason"].get("low_tool_use_quality", 0) > 0


# ---------------------------------------------------------------------------------------------
# A served model that writes noise


def _use_server(monkeypatch, url: str, home: Path) -> None:
    monkeypatch.setenv("FUNCDEX_LLM_BASE_URLS", url)
    monkeypatch.setenv("FUNCDEX_LLM_MODEL", "fake-model")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


def _exported_rows(out: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in out.glob("*/conversations.jsonl"))


def test_grammar_valid_noise_is_never_exported_and_the_run_says_why(tmp_path, monkeypatch):
    pytest.importorskip("xgrammar")
    from random_model import random_responder

    with FakeOpenAIServer(random_responder(seed=5)) as server:
        _use_server(monkeypatch, server.url, tmp_path / "home")
        summary = generate(["gmail"], 3, 7, tmp_path / "out")
    assert not summary.ok
    assert _exported_rows(tmp_path / "out") == 0
    message = summary.failures["gmail"]
    assert "semantic_defect_rate" in message and "have a meaning defect (maximum 1%)" in message, message


def test_a_server_ignoring_structured_outputs_fails_at_the_first_stage_with_the_fix(tmp_path, monkeypatch):
    def chatty(body):
        kind, _ = constraint_of(body)
        if kind == "json":  # what a server that drops the schema field answers
            return {"content": "Sure! Here is a realistic scenario for your tools: a manager wants to ...",
                    "finish_reason": "stop"}
        return pipeline_responder(body)

    with FakeOpenAIServer(chatty) as server:
        _use_server(monkeypatch, server.url, tmp_path / "home")
        summary = generate(["gmail"], 3, 7, tmp_path / "out")
    assert not summary.ok
    message = summary.failures["gmail"]
    assert message.startswith("scenarios stage_rejects: all "), message
    assert "scenarios were rejected as invalid_json: the server returned text that is not JSON" in message
    assert "structured_outputs" in message
    assert _exported_rows(tmp_path / "out") == 0
