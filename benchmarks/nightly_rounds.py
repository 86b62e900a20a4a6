"""What a nightly round costs once a bundle is full, and when its target is raised.

    python benchmarks/nightly_rounds.py [--runs 3] [--bundle gmail] [--conversations 40] [--raise-by 10]

Per repetition, in a fresh Dagster instance: round 1 (seed 1) fills the bundle; round 2 (seed 2,
same target) finds it full; round 3 (seed 3) has the target raised by `--raise-by`. Prints the
chains sampled, rows added and seconds of each round, and medians over the repetitions.
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
    parser.add_argument("--bundle", default="gmail")
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--raise-by", type=int, default=10)
    args = parser.parse_args()
    rounds = [("first round", 1, args.conversations), ("full bundle", 2, args.conversations),
              (f"target +{args.raise_by}", 3, args.conversations + args.raise_by)]
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in rounds}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DAGSTER_HOME"] = str(Path(tmp) / "home")
            for name, seed, target in rounds:
                summary = generate([args.bundle], target, seed, Path(tmp) / "out")
                if not summary.ok:
                    raise SystemExit(f"{name} failed: {summary.failures}")
                combos = summary.metadata(args.bundle, "tool_combinations")
                exported = summary.metadata(args.bundle, "parsed_dataset")
                seconds[name].append(summary.seconds)
                print(f"run {run + 1} {name:>12}: sampled {combos['wanted_this_round']:>3} chains, "
                      f"added {exported['added_this_round']:>3} rows, kept {exported['kept_from_earlier_rounds']:>3}, "
                      f"{summary.seconds:.2f} s")
    first = statistics.median(seconds["first round"])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"median {name:>12}: {median:.2f} s ({median / first:.2f}x the first round)")


if __name__ == "__main__":
    main()
