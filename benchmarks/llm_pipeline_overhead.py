"""Orchestration overhead of the model-backed graph, outside the model.

    python benchmarks/llm_pipeline_overhead.py [--runs 3] [--conversations 20] [--delay 0]

Runs the whole asset graph for gmail + jira_gmail against the local scripted OpenAI-protocol
server (tests/fake_openai_server.py, answers from tests/scripted_model.py) with a fixed model
delay (default 0: all time measured is ours), a fresh Dagster instance and cache per run.
Prints calls, wall time, per-conversation overhead and requests/s; medians of the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fake_openai_server import FakeOpenAIServer  # noqa: E402
from scripted_model import pipeline_responder  # noqa: E402

from funcdex_assets.defs.resources import OpenAICompatibleLLM  # noqa: E402
from funcdex_assets.runner import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    bundles = ["gmail", "jira_gmail"]

    def responder(body):
        if args.delay:
            time.sleep(args.delay)
        return pipeline_responder(body)

    walls, calls = [], []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(responder) as server:
            os.environ["DAGSTER_HOME"] = str(Path(tmp) / "home")
            llm = OpenAICompatibleLLM(base_urls=server.url, model="fake-model")
            start = time.perf_counter()
            summary = generate(bundles, args.conversations, 7, Path(tmp) / "out", llm=llm)
            wall = time.perf_counter() - start
            if not summary.ok:
                raise SystemExit(f"run failed: {summary.failures}")
            walls.append(wall)
            calls.append(server.calls)
            print(f"run {i + 1}: {wall:.2f} s, {server.calls} model calls")
    wall, n_calls = statistics.median(walls), statistics.median(calls)
    conversations = args.conversations * len(bundles)
    print(f"median: {wall:.2f} s for {conversations} conversations, {n_calls:.0f} calls "
          f"({n_calls / conversations:.1f} per conversation)")
    print(f"orchestration overhead: {wall / conversations * 1e3:.0f} ms per conversation, "
          f"{wall / n_calls * 1e3:.1f} ms per model call (model delay {args.delay * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
