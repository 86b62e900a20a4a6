"""`funcdex report OUT` passes on nothing: an empty or unreadable folder fails naming its files, a
figure without a denominator is n/a (not 100), the files read are listed with their row
counts, and a malformed row is a named problem (file, line, what is wrong, the fix), never a
Python exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

from click.testing import CliRunner

from funcdex_assets.cli import main
from funcdex_assets.quality.report import report_files, structure_problems

TOOL = {"type": "function", "function": {"name": "get_event", "description": "Get an event.", "parameters": {
    "type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]}}}
GOOD = {"tools": [TOOL], "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is on evt_1?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_event", "arguments": {"event_id": "evt_1"}}}]},
    {"role": "tool", "tool_call_id": "call_1", "name": "get_event", "content": '{"id": "evt_1", "title": "Review"}'},
    {"role": "assistant", "content": "It is the review."},
]}


def _report(out: Path):
    return CliRunner().invoke(main, ["report", str(out)], catch_exceptions=False)


def _write(path: Path, rows: list[Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rows if isinstance(rows, str) else "".join(json.dumps(r) + "\n" for r in rows))
    return path


def _figure_lines(output: str) -> dict[str, str]:
    names = ("rows_parsed_pct", "arguments_valid_pct", "calls_answered_pct", "id_arguments_grounded_pct",
             "mean_tool_calls", "mean_user_turns")
    return {line.split()[0]: line.split()[1] for line in output.splitlines() if line.split()[:1]
            and line.split()[0] in names}


def test_an_empty_train_file_fails_naming_it(tmp_path):
    train = _write(tmp_path / "out" / "train.jsonl", "")
    result = _report(tmp_path / "out")
    assert result.exit_code != 0, result.output
    assert f"no rows in {train}" in result.output
    assert "100.0" not in result.output, result.output


def test_a_file_that_is_not_text_fails_naming_it(tmp_path):
    train = tmp_path / "out" / "train.jsonl"
    train.parent.mkdir()
    train.write_bytes(b"\xff\xfe\x00bad")
    result = _report(tmp_path / "out")
    assert result.exit_code == 2 and f"{train}: not UTF-8" in result.output, result.output


def test_no_readable_row_fails_and_no_figure_reads_100(tmp_path):
    train = _write(tmp_path / "out" / "train.jsonl", "{not json\n[1, 2]\n")
    result = _report(tmp_path / "out")
    assert result.exit_code != 0, result.output
    assert "100.0" not in result.output, result.output
    figures = _figure_lines(result.output)
    assert figures["arguments_valid_pct"] == "n/a" and figures["calls_answered_pct"] == "n/a", figures
    assert figures["rows_parsed_pct"] == "0.0", figures
    assert f"none of the 2 rows in {train} is readable" in result.output


def test_the_files_read_are_listed_with_their_row_counts(tmp_path):
    out = tmp_path / "out"
    train = _write(out / "train.jsonl", [GOOD, GOOD, "not a row"])
    test = _write(out / "test.jsonl", [GOOD])
    result = _report(out)
    assert f"{train}  3 rows (1 unreadable)" in result.output, result.output
    assert f"{test}  1 rows (0 unreadable)" in result.output, result.output
    assert result.exit_code == 1  # the unreadable row is a problem


def test_good_files_keep_passing_and_a_figure_without_a_denominator_is_na(tmp_path):
    no_calls = {"tools": [TOOL], "messages": [{"role": "user", "content": "hi"},
                                              {"role": "assistant", "content": "Hi!"}]}
    out = tmp_path / "out"
    _write(out / "gmail" / "conversations.jsonl", [GOOD, no_calls])
    result = _report(out)
    assert result.exit_code == 0, result.output
    figures = _figure_lines(result.output)
    assert figures["rows_parsed_pct"] == "100.0" and figures["arguments_valid_pct"] == "100.0", figures
    # The only call is the first: no id argument after it, so nothing to ground.
    assert figures["id_arguments_grounded_pct"] == "n/a", figures
    assert report_files([out / "gmail" / "conversations.jsonl"]).figures()["id_arguments_grounded_pct"] is None


def test_every_call_of_a_first_parallel_call_is_made_before_any_result(tmp_path):
    call = lambda i, event: {"id": f"call_{i}", "type": "function",  # noqa: E731
                             "function": {"name": "get_event", "arguments": {"event_id": event}}}
    result = lambda i, content: {"role": "tool", "tool_call_id": f"call_{i}", "content": content}  # noqa: E731
    row = {"tools": [TOOL], "messages": [
        {"role": "user", "content": "What are evt_1 and evt_2?"},
        {"role": "assistant", "content": "", "tool_calls": [call(1, "evt_1"), call(2, "evt_2")]},
        # Results in another order than the calls: matched by id.
        result(2, '{"id": "evt_2", "next": "evt_3"}'), result(1, '{"id": "evt_1"}'),
        {"role": "assistant", "content": "", "tool_calls": [call(3, "evt_3"), call(4, "evt_9")]},
        result(3, "{}"), result(4, "{}"),
        {"role": "assistant", "content": "Done."},
    ]}
    path = _write(tmp_path / "out" / "train.jsonl", [row])
    report = report_files([path])
    assert report.problems == []
    assert (report.tool_calls, report.calls_answered) == (4, 4)
    # Only the second message's calls count: evt_3 came from a result, evt_9 from nowhere.
    assert (report.id_arguments, report.id_arguments_grounded) == (2, 1)


MALFORMED = [
    ("not an object", ["a", "list"], "not an object"),
    ("no messages", {"tools": [TOOL]}, "no `messages`"),
    ("messages a string", {"tools": [TOOL], "messages": "hi"}, "`messages` is a JSON string"),
    ("no tools", {"messages": GOOD["messages"]}, "no `tools`"),
    ("tools an object", {**GOOD, "tools": {"x": 1}}, "`tools` is a JSON object"),
    ("tool without function", {**GOOD, "tools": [{"type": "function", "name": "get_event"}]},
     "tool 0 has no `function`"),
    ("message without role", {**GOOD, "messages": [{"content": "hi"}]}, "message 0 has no `role`"),
    ("message a string", {**GOOD, "messages": ["hi"]}, "message 0 is a JSON string"),
    ("call without function", {**GOOD, "messages": [GOOD["messages"][1], {
        "role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]}]},
     "message 1's tool call 0 has no `function`"),
    ("call without name", {**GOOD, "messages": [GOOD["messages"][1], {
        "role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": {"arguments": {}}}]}]},
     "message 1's tool call 0 has no function `name`"),
    ("arguments not JSON", {**GOOD, "messages": [GOOD["messages"][1], {
        "role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": {
            "name": "get_event", "arguments": "{event_id: evt_1"}}]}]},
     "message 1's tool call 0 (get_event) has arguments that are not JSON"),
]


def test_malformed_rows_are_named_problems_not_exceptions(tmp_path):
    out = tmp_path / "out"
    path = _write(out / "train.jsonl", [GOOD, *(row for _, row, _ in MALFORMED)])
    result = _report(out)
    assert result.exit_code == 1, result.output
    assert "Error(" not in result.output and "Traceback" not in result.output, result.output
    problems = report_files([path]).problems
    for line, (what, _, expected) in enumerate(MALFORMED, start=2):
        named = [p for p in problems if p.startswith(f"{path}:{line}: ")]
        assert any(expected in p for p in named), (what, named)
        # Each problem says what to do about it, after what is wrong.
        assert all("; " in p for p in named), named
    assert not [p for p in problems if p.startswith(f"{path}:1: ")]


def _variants(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, replacement) for every place in `value`: dropped (None marks a deletion of a key)
    or replaced by each JSON kind."""
    for wrong in ("x", "{", 7, None, [], {}, [1], True):
        yield path, wrong
    if isinstance(value, dict):
        for key, sub in value.items():
            yield path + (key,), _DROP
            yield from _variants(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _variants(sub, path + (i,))


_DROP = object()


def _replaced(row: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    row = copy.deepcopy(row)
    parent = row
    for key in path[:-1]:
        parent = parent[key]
    if new is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return row


def test_no_damage_to_a_good_row_raises_or_shows_an_exception(tmp_path):
    """Every key of a good row dropped, every value replaced by every JSON kind: the report
    never raises, and a row it cannot read is a problem naming its line, in words."""
    rows = [_replaced(GOOD, path, new) for path, new in _variants(GOOD)]
    path = _write(tmp_path / "train.jsonl", rows)
    report = report_files([path])
    assert report.rows == len(rows)
    assert not [p for p in report.problems if "Error(" in p or "Error:" in p], report.problems[:5]
    assert all("; " in p for p in report.problems), [p for p in report.problems if "; " not in p][:5]
    malformed = {n for n, row in enumerate(rows, start=1) if structure_problems(row)}
    assert report.rows_unreadable == len(malformed) > 0
    named = {int(p.split(": ", 1)[0].rsplit(":", 1)[1]) for p in report.problems}
    assert malformed <= named, sorted(malformed - named)
    assert structure_problems(GOOD) == []


def test_a_published_folder_is_verified_against_its_manifest(tmp_path):
    from funcdex_assets.export.folder import BundleUpdate, DatasetFolder

    row = {**GOOD, "conversation_id": "conv_1", "bundle": "cal"}
    DatasetFolder(tmp_path).publish({"cal": BundleUpdate(rows=[row, {**row, "conversation_id": "conv_2"}])},
                                    test_fraction=0.5, seed=1, code_version="test")
    good = _report(tmp_path)
    assert good.exit_code == 0, good.output
    assert "files match (rows and sha256)" in good.output
    rows = (tmp_path / "cal" / "conversations.jsonl").resolve()
    rows.write_text(rows.read_text().replace("the review", "the Review"))
    changed = _report(tmp_path)
    assert changed.exit_code == 1 and "sha256 differs from the manifest" in changed.output
