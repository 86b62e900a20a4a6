"""Nothing lost, nothing leaked: what a data team trusts when runs fail, repeat, race or are
interrupted. Each test names the problem it guards against.

The runs use the embedded backend, or a local OpenAI-compatible server injecting faults
(tests/fake_openai_server.py). Waits are on observable progress (a line printed, a run in the
instance, a lock file written), never on a wall-clock budget for the run itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from fake_openai_server import FakeOpenAIServer
from scripted_model import constraint_of, pipeline_responder
from test_dataset_folder import snapshot

from funcdex_assets.dedup.conversations import ConversationItem, dedup_conversations, turns_from_messages
from funcdex_assets.defs.resources import OpenAICompatibleLLM
from funcdex_assets.export.folder import verify_folder
from funcdex_assets.runner import fail_dead_runs, generate, open_instance

REPO = Path(__file__).resolve().parents[1]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _model(server: FakeOpenAIServer, **settings) -> OpenAICompatibleLLM:
    # Few, fast retries: a failed request costs milliseconds, not the default backoff.
    return OpenAICompatibleLLM(base_urls=server.url, model="fake-model", max_retries=1, backoff_s=0.01, **settings)


def _is_system_prompt(body: dict) -> bool:
    kind, value = constraint_of(body)
    return kind == "json" and "system_prompt" in (value or {}).get("properties", {})


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory):
    """Round 1 (seed 7) and round 2 (seed 8) of two bundles into one folder and one instance."""
    tmp = tmp_path_factory.mktemp("rounds")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(tmp / "home"))
    try:
        first = generate(["gmail", "todoist"], 7, 7, tmp / "out")
        first_test = {r["conversation_id"] for r in _rows(tmp / "out" / "test.jsonl")}
        first_train = {r["conversation_id"] for r in _rows(tmp / "out" / "train.jsonl")}
        second = generate(["gmail", "todoist"], 14, 8, tmp / "out")
    finally:
        mp.undo()
    assert first.ok and second.ok, (first.failures, second.failures)
    return tmp, first_test, first_train, first, second


def test_problem_2_rounds_never_move_a_test_row_into_train(two_rounds):
    tmp, first_test, first_train, _, second = two_rounds
    train = {r["conversation_id"] for r in _rows(tmp / "out" / "train.jsonl")}
    test = {r["conversation_id"] for r in _rows(tmp / "out" / "test.jsonl")}
    assert first_test and first_test <= test and not first_test & train
    assert first_train <= train
    assert len(train | test) == 28 and second.manifest.rows() == 28
    # Train and test never share a near duplicate (the conversation dedup's own signals).
    items = lambda rows: [ConversationItem(r["conversation_id"], turns_from_messages(r["messages"]))  # noqa: E731
                          for r in rows]
    leaks = dedup_conversations(items(_rows(tmp / "out" / "test.jsonl")),
                                accepted_before=items(_rows(tmp / "out" / "train.jsonl")))
    assert leaks == [None] * len(test)


def test_problem_6_merged_files_hold_every_bundle_of_the_folder(two_rounds, tmp_path, monkeypatch):
    tmp, *_ = two_rounds
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "home"))
    before = {r["conversation_id"] for r in _rows(tmp / "out" / "train.jsonl") + _rows(tmp / "out" / "test.jsonl")}
    # One bundle alone, with a smaller target: the other bundle stays, and no row is deleted.
    summary = generate(["gmail"], 3, 8, tmp / "out")
    assert summary.ok, summary.failures
    after = _rows(tmp / "out" / "train.jsonl") + _rows(tmp / "out" / "test.jsonl")
    assert {r["conversation_id"] for r in after} == before
    assert {r["bundle"] for r in after} == {"gmail", "todoist"}
    assert any("kept" in note for note in summary.manifest.notes)
    assert verify_folder(tmp / "out").problems == []


def _garbage_for_json(body: dict) -> dict:
    kind, _ = constraint_of(body)
    if kind == "json":
        return {"content": "Sure! Here is what you asked for.", "finish_reason": "stop"}
    return pipeline_responder(body)


def test_problems_1_and_4_a_failed_round_leaves_the_folder_byte_identical_and_says_why(two_rounds, monkeypatch):
    tmp, *_ = two_rounds
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "home"))
    before = snapshot(tmp / "out")
    with FakeOpenAIServer(_garbage_for_json) as server:
        summary = generate(["gmail", "todoist"], 20, 9, tmp / "out", llm=_model(server))
    assert not summary.ok and summary.manifest is None
    assert "invalid_json" in " ".join(summary.failures.values())
    assert snapshot(tmp / "out") == before


def test_problem_3_a_failed_system_prompt_is_never_exported_silently_and_a_rerun_fills_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    failing = {"on": True}

    def responder(body: dict) -> dict:
        if failing["on"] and _is_system_prompt(body):
            return {"status": 500, "body": {"error": {"message": "CUDA out of memory"}}}
        return pipeline_responder(body)

    with FakeOpenAIServer(responder) as server:
        broken = generate(["gmail"], 3, 7, tmp_path / "out", llm=_model(server))
        assert not broken.ok and broken.manifest is None
        message = broken.failures["gmail"]
        assert "system prompt" in message and "Rerun the same command" in message and "CUDA out of memory" in message
        assert not (tmp_path / "out" / "train.jsonl").exists()
        calls = server.calls
        failing["on"] = False
        healed = generate(["gmail"], 3, 7, tmp_path / "out", llm=_model(server))
        assert healed.ok, healed.failures
        # The rerun sent only what had failed: the other answers came from the cache.
        prompts_requested = [b for b in server.requests[calls:] if _is_system_prompt(b)]
        assert 0 < server.calls - calls == len(prompts_requested)
    rows = _rows(tmp_path / "out" / "gmail" / "conversations.jsonl")
    assert len(rows) == 3 and healed.manifest.bundles["gmail"].rows == 3


def test_problem_3_a_lost_conversation_fails_the_round_naming_what_was_lost(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    doomed: list[int] = []

    def responder(body: dict) -> dict:
        kind, _ = constraint_of(body)
        if kind == "grammar":
            # Every attempt of one conversation request (the first to arrive, known by its seed) fails.
            if not doomed:
                doomed.append(body["seed"])
            if body["seed"] == doomed[0]:
                return {"status": 503, "headers": {"Retry-After": "0"}}
        return pipeline_responder(body)

    with FakeOpenAIServer(responder) as server:
        # No regeneration: with one, the backend would write that conversation again under another seed.
        llm = _model(server, max_regenerations=0)
        summary = generate(["gmail"], 3, 7, tmp_path / "out", llm=llm)
        assert not summary.ok
        assert "1 dml_conversations (llm_server_error)" in summary.failures["gmail"]
        assert summary.manifest is None


def test_problem_5_the_calls_of_a_step_that_failed_are_counted(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    def responder(body: dict) -> dict:
        # The conversations are written, then the system prompts meet a wrong key: the step fails.
        if _is_system_prompt(body):
            return {"status": 401, "body": {"error": {"message": "invalid api key"}}}
        return pipeline_responder(body)

    with FakeOpenAIServer(responder) as server:
        summary = generate(["gmail"], 3, 7, tmp_path / "out", llm=_model(server))
        refused = sum(1 for b in server.requests if _is_system_prompt(b))
        answered = server.calls - refused
    assert not summary.ok and "API key" in summary.failures["gmail"]
    failed = [s for s in summary.stages if s.failed]
    assert [s.asset for s in failed] == ["dml_conversations"] and failed[0].metadata["llm_calls"] > 0
    assert sum(int(s.metadata.get("llm_calls", 0)) for s in summary.stages) == answered


def test_problem_5_the_summary_counts_each_reject_once(two_rounds):
    _, _, _, first, _ = two_rounds
    for bundle in ("gmail", "todoist"):
        by_stage = first.metadata(bundle, "parsed_dataset")["rejects_by_stage"]
        total = first.metadata(bundle, "parsed_dataset")["rejected_by_reason"]
        assert sum(total.values()) == sum(sum(c.values()) for c in by_stage.values())
        # validated_conversations repeats the generator's rejects; they are counted at dml_conversations.
        generated = first.metadata(bundle, "dml_conversations")
        carried = generated.get("rejected_by_reason") or {}
        assert by_stage.get("dml_conversations", {}) == carried


# ---- the CLI as a process: locks, Ctrl-C, kill -9, a bad --out ------------------------------------

def _cli(tmp: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "DAGSTER_HOME": str(tmp / "home"), "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
                **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "funcdex_assets.cli", "generate", *args], cwd=REPO, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _read_until(proc: subprocess.Popen, needle: str) -> list[str]:
    """Lines the process printed up to and including the first holding `needle` (progress, not
    time: it fails only if the process ends first, showing what it printed)."""
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"the process ended (rc {proc.wait()}) before printing {needle!r}:\n{''.join(seen)[-3000:]}")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    proc = _cli(tmp, "--bundles", "todoist", "--conversations", "3", "--out", str(tmp / "out"))
    out, _ = proc.communicate()
    assert proc.returncode == 0, out
    return tmp


def test_problem_7_ctrl_c_stops_the_run_marks_it_canceled_and_publishes_nothing(published):
    tmp = published
    before = snapshot(tmp / "out")
    proc = _cli(tmp, "--bundles", "gmail,todoist", "--conversations", "4", "--seed", "11", "--out", str(tmp / "out"))
    _read_until(proc, "bundle_tools")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate()
    assert proc.returncode == 130, out
    assert "cancelled" in out and "unchanged" in out
    assert snapshot(tmp / "out") == before
    os.environ["DAGSTER_HOME"] = str(tmp / "home")
    with open_instance(tmp / "home") as instance:
        assert instance.get_runs(limit=1)[0].status.value == "CANCELED"
        # No later bundle was started: todoist has only the run of the fixture.
        todoist = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "todoist"}))
        assert len(todoist) == 1


def test_problem_8_a_second_run_on_the_same_folder_stops_with_a_clear_message(published):
    tmp = published
    first = _cli(tmp, "--bundles", "gmail", "--conversations", "3", "--seed", "12", "--out", str(tmp / "out"))
    try:
        _read_until(first, "bundle_tools")  # it holds the locks once it prints stages
        second = _cli(tmp, "--bundles", "todoist", "--conversations", "3", "--out", str(tmp / "out"))
        out, _ = second.communicate()
        assert second.returncode == 2, out
        assert "in use by another funcdex run" in out and f"pid {first.pid}" in out and "--wait" in out
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate()


def test_problem_5_a_run_killed_with_kill_9_is_marked_failed_by_the_next_run(published):
    tmp = published
    before = snapshot(tmp / "out")
    proc = _cli(tmp, "--bundles", "gmail", "--conversations", "3", "--seed", "13", "--out", str(tmp / "out"))
    _read_until(proc, "bundle_tools")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert snapshot(tmp / "out") == before
    os.environ["DAGSTER_HOME"] = str(tmp / "home")
    with open_instance(tmp / "home") as instance:
        run = instance.get_runs(limit=1)[0]
        assert run.status.value == "STARTED"  # what Dagster alone leaves behind
        assert fail_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status.value == "FAILURE"
        # Whatever `llm` pool slot it held is free again (else the next model step waits forever).
        claimed = instance.event_log_storage.get_concurrency_info("llm").claimed_slots
        assert not [slot for slot in claimed if slot.run_id == run.run_id]
    # The OS released the dead process's locks: the next run goes ahead.
    again = _cli(tmp, "--bundles", "todoist", "--conversations", "3", "--out", str(tmp / "out"))
    out, _ = again.communicate()
    assert again.returncode == 0, out


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_problem_9_a_bad_output_folder_is_refused_before_any_work(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me")
    out = blocker if where == "file" else blocker / "out"
    proc = _cli(tmp_path, "--bundles", "gmail", "--out", str(out))
    text, _ = proc.communicate()
    assert proc.returncode == 2, text
    assert "is a file" in text or "is under" in text
    assert "pass a folder path" in text and "Traceback" not in text
    assert blocker.read_text() == "keep me"
    assert not (tmp_path / "home" / "storage").exists()  # no run was started
