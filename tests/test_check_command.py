"""`funcdex check`: the linter on files this project did not write. Twenty hand-written conversations,
each with one planted defect of a different kind, are each named; twenty clean ones report
nothing (tests/fixtures/check/, written by hand independently of the detectors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conversation_builder import assistant, call, conversation, user

from funcdex_assets.cli import main
from funcdex_assets.quality.lint import lint_files, lint_row

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
PLANTED = FIXTURES / "planted.jsonl"
CLEAN = FIXTURES / "clean.jsonl"
# 140 more clean conversations (OpenAI / TRL and ShareGPT / Hermes rows), written by hand as held-out
# sets; each was first run once to measure false positives, then kept here as a regression set.
CLEAN_MORE = FIXTURES / "clean_more.jsonl"


def _check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def _planted_rows():
    return [json.loads(line) for line in PLANTED.read_text().splitlines()]


@pytest.mark.parametrize("row", _planted_rows(), ids=lambda r: r["metadata"]["planted"])
def test_each_planted_defect_is_found_where_it_was_planted_and_nothing_else(row):
    findings = lint_row(row)
    assert {f.code for f in findings} == {row["metadata"]["planted"]}
    at = {f.message_index for f in findings}
    assert row["metadata"]["planted_at"] in at or at == {-1}  # -1: about the whole conversation


def test_check_names_every_planted_kind_and_fails():
    result = _check(str(PLANTED), "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    planted = sorted(r["metadata"]["planted"] for r in _planted_rows())
    assert len(set(planted)) == 20
    assert sorted(entry["code"] for entry in report["codes"]) == planted
    assert all(entry["conversations"] == 1 for entry in report["codes"])
    assert report["rows"] == 20 and report["defective"] == 20 and report["passed"] is False


def test_check_reports_nothing_on_clean_conversations():
    result = _check(str(CLEAN))
    assert result.exit_code == 0, result.output
    assert "0 of 20 conversations (0.0%) have at least one defect (0 kinds); maximum 1.0%: PASS" in result.output


def test_check_reports_nothing_on_more_clean_conversations_in_both_formats():
    result = _check(str(CLEAN_MORE), "--json")
    report = json.loads(result.output)
    assert report["rows"] == 140 and report["codes"] == [], report["codes"]
    assert result.exit_code == 0


def test_the_table_shows_each_code_with_an_example_and_a_summary_line():
    result = _check(str(PLANTED))
    assert "false_success" in result.output and "planted.jsonl:1 message 8" in result.output
    assert "20 of 20 conversations (100.0%) have at least one defect (20 kinds); maximum 1.0%: FAIL" in result.output


def test_threshold_ignore_folders_and_unreadable_rows(tmp_path):
    assert _check(str(PLANTED), "--max-defect-rate", "1").exit_code == 0
    ignored = json.loads(_check(str(PLANTED), "--json", "--ignore", "false_success,no_tool_call").output)
    assert {"false_success", "no_tool_call"}.isdisjoint(e["code"] for e in ignored["codes"])
    assert ignored["defective"] == 18
    bad = _check(str(PLANTED), "--ignore", "made_up_code")
    assert bad.exit_code == 2 and "unknown code(s) made_up_code" in bad.output

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text(CLEAN.read_text().splitlines()[0] + "\n{not json\n\n[1, 2]\n")
    report = json.loads(_check(str(folder), "--json").output)
    assert report["rows"] == 3  # the blank line is not a row
    [unreadable] = report["codes"]
    assert unreadable["code"] == "unreadable_row" and unreadable["conversations"] == 2


def test_a_json_array_file_and_sharegpt_rows_are_read(tmp_path):
    clean = json.loads(CLEAN.read_text().splitlines()[0])
    hermes = {"conversations": [
        {"from": "system", "value": "Tools: <tools> [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
                                    "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": "
                                    "\"string\"}}, \"required\": [\"city\"]}}}] </tools>"},
        {"from": "human", "value": "How warm is it in Lisbon?"},
        {"from": "gpt", "value": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lisbon\"}}\n</tool_call>"},
        {"from": "tool", "value": "<tool_response>\n{\"ok\": false, \"error\": \"service unavailable\"}\n</tool_response>"},
        {"from": "gpt", "value": "Done! It's 19°C and sunny in Lisbon."},
    ]}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([clean, hermes]))
    report = lint_files([path])
    assert report.rows == 2 and dict(report.conversations_by_code) == {"false_success": 1}
    assert report.examples["false_success"].startswith(f"{path}[1] message 4")


def test_errors_name_the_input(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = _check(str(empty))
    assert result.exit_code == 2 and "no rows in" in result.output
    assert _check(str(tmp_path / "missing.jsonl")).exit_code == 2
    binary = tmp_path / "data.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    result = _check(str(binary))
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_report_shows_the_detector_counts(tmp_path):
    bundle = tmp_path / "out" / "gmail"
    bundle.mkdir(parents=True)
    row = conversation(user("Delete the design review."),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": False})),
                       assistant("Done, it's deleted."))
    (bundle / "conversations.jsonl").write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "out")])
    assert "false_success" in result.output and "1 of 1 conversations (100.0%) have at least one defect" in result.output


def test_a_folder_with_only_bookkeeping_files_is_not_read_as_rows(tmp_path):
    from click.testing import CliRunner

    from funcdex_assets.cli import main

    (tmp_path / ".funcdex-run.json").write_text('{"run_id": "abc"}')
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "nothing published there yet" in result.output
