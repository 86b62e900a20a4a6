"""Progress lines of a model batch that is still waiting: through Python logging, every
`progress_interval_s` (set small here), into Dagster's run log with the project's dagster.yaml.

No timing assertions: the slow answer below is held until the test has seen the line it wants.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import dagster as dg
import pytest
import yaml
from fake_openai_server import FakeOpenAIServer, delayed

from funcdex_assets.llm.cache import ResponseCache
from funcdex_assets.llm.client import PROGRESS_LOGGER, BatchProgress, OpenAICompatibleClient, progress_line
from funcdex_assets.llm.types import ChatRequest

REPO_ROOT = Path(__file__).resolve().parents[1]


def req(i: int) -> ChatRequest:
    return ChatRequest(stage="conversation", messages=({"role": "user", "content": f"question {i}"},))


class Lines(logging.Handler):
    """Collects progress lines; `wanted` is set once one matches every needle."""

    def __init__(self, *needles: str) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.needles = needles
        self.wanted = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        if all(n in line for n in self.needles):
            self.wanted.set()


@pytest.fixture
def progress_lines():
    logger = logging.getLogger(PROGRESS_LOGGER)
    level = logger.level
    logger.setLevel(logging.INFO)
    handlers: list[Lines] = []

    def attach(*needles: str) -> Lines:
        handler = Lines(*needles)
        logger.addHandler(handler)
        handlers.append(handler)
        return handler

    yield attach
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_stalled_batch_reports_rows_in_flight_retries_and_tokens(progress_lines) -> None:
    # Request 0 answers at once (40 completion tokens); request 1 first gets a 500, then its retry
    # hangs until a progress line has shown that state (or 30 s, so a bug cannot hang the suite).
    seen = progress_lines("conversation: 1/2 rows done", "1 in flight", "1 retry")
    attempts: dict[str, int] = {}
    lock = threading.Lock()

    def responder(body):
        question = body["messages"][-1]["content"]
        with lock:
            attempts[question] = attempts.get(question, 0) + 1
        if question == "question 0":
            return {"content": "fast", "completion_tokens": 40}
        if attempts[question] == 1:
            return {"status": 500}
        seen.wanted.wait(30)
        return {"content": "slow", "completion_tokens": 5}

    with FakeOpenAIServer(responder) as server:
        client = OpenAICompatibleClient([server.url], "fake-model", backoff_s=0.01, progress_interval_s=0.2)
        results = client.complete_many([req(0), req(1)])
    assert [r.text for r in results] == ["fast", "slow"]
    assert seen.wanted.is_set(), seen.lines
    line = next(line for line in seen.lines if "1 retry" in line and "1/2" in line)
    rate = float(re.search(r", ([\d.]+) completion tokens/s", line).group(1))
    assert rate > 0  # 40 tokens already answered


def test_a_batch_answered_from_the_cache_reports_nothing(progress_lines, tmp_path) -> None:
    lines = progress_lines()
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with FakeOpenAIServer() as server:
        client = OpenAICompatibleClient([server.url], "fake-model", cache=cache, progress_interval_s=0.01)
        client.complete_many([req(0)])
        before = len(lines.lines)
        client.complete_many([req(0)])  # no request outstanding: nothing to wait for, no reporter
    assert len(lines.lines) == before
    cache.close()


def test_progress_line_wording() -> None:
    progress = BatchProgress("persona+judge", total=64, done=12, in_flight=8, retries=3, completion_tokens=4125)
    assert progress_line(progress, 10.0) == (
        "persona+judge: 12/64 rows done, 8 in flight, 3 retries, 412.5 completion tokens/s (after 10 s)")
    assert "0.0 completion tokens/s" in progress_line(BatchProgress("judge", total=1), 0.0)


def test_dagster_run_logs_capture_the_lines_with_the_project_instance_settings(tmp_path) -> None:
    python_logs = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())["python_logs"]
    assert PROGRESS_LOGGER in python_logs["managed_python_loggers"]

    with FakeOpenAIServer(delayed(1.0)) as server:

        @dg.asset
        def slow_model_stage() -> None:
            client = OpenAICompatibleClient([server.url], "fake-model", progress_interval_s=0.1)
            client.complete_many([req(0)])

        with dg.instance_for_test(overrides={"python_logs": python_logs}) as instance:
            result = dg.materialize([slow_model_stage], instance=instance)
            assert result.success
            messages = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
    assert any("conversation: 0/1 rows done, 1 in flight" in m for m in messages), messages
