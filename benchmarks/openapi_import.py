"""How long converting each real spec takes, and how big the result is.

    python benchmarks/openapi_import.py [--runs 5] [--specs ../shared/openapi]

Per spec: parse (JSON / YAML) and convert (refs, merge, meta-schema checks) separately, median
of `--runs`; tools, notes and the size of the written toolkit file. Ends with the totals.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from funcdex_assets.catalog.openapi import convert_openapi, load_spec
from funcdex_assets.catalog.toolkit_file import toolkit_document

REPO = Path(__file__).resolve().parents[1]


def _median_s(fn, runs: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--specs", type=Path, default=REPO.parent / "shared" / "openapi")
    args = parser.parse_args()
    specs = sorted(p for p in args.specs.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
    if not specs:
        raise SystemExit(f"no specs under {args.specs}")
    print(f"{'spec':<30} {'KiB':>6} {'tools':>5} {'notes':>5} {'parse ms':>9} {'convert ms':>10} {'out KiB':>8}")
    total_parse = total_convert = 0.0
    total_tools = 0
    for spec in specs:
        parse_s, data = _median_s(lambda: load_spec(spec), args.runs)
        convert_s, result = _median_s(lambda: convert_openapi(data, toolkit="bench", source=spec.name), args.runs)
        out = len(json.dumps(toolkit_document(result.tools), indent=2))
        total_parse += parse_s
        total_convert += convert_s
        total_tools += len(result.tools)
        print(f"{spec.name:<30} {spec.stat().st_size / 1024:>6.1f} {len(result.tools):>5} "
              f"{len(result.report.notes):>5} {parse_s * 1e3:>9.1f} {convert_s * 1e3:>10.1f} {out / 1024:>8.1f}")
    print(f"all {len(specs)} specs: {total_tools} tools, parse {total_parse * 1e3:.0f} ms + convert "
          f"{total_convert * 1e3:.0f} ms (medians of {args.runs}); "
          f"{total_convert * 1e3 / total_tools:.2f} ms per tool converted")


if __name__ == "__main__":
    main()
