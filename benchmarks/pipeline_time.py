"""Pipeline time of the main job on the embedded backend, and per-conversation cost.

    python benchmarks/pipeline_time.py [--runs 3] [--bundles gmail,jira_gmail] [--conversations 20]

Each run uses a fresh Dagster instance and output folder (what a newcomer's first run pays);
prints every run, the median, and conversations per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from funcdex_assets.runner import generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundles", default="gmail,jira_gmail")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bundles = args.bundles.split(",")
    times = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DAGSTER_HOME"] = str(Path(tmp) / "home")
            summary = generate(bundles, args.conversations, args.seed, Path(tmp) / "out")
            if not summary.ok:
                raise SystemExit(f"run failed: {summary.failures}")
            times.append(summary.seconds)
            print(f"run {i + 1}: {summary.seconds:.2f} s")
    median = statistics.median(times)
    total = args.conversations * len(bundles)
    print(f"median pipeline time: {median:.2f} s for {total} conversations ({len(bundles)} bundles)")
    print(f"throughput: {total / median:.1f} conversations/s; target < 60 s -> {60 / median:.0f}x headroom")


if __name__ == "__main__":
    main()
