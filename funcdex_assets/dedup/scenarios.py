"""Scenario dedup: each scenario against everything accepted before it in the bundle."""

from __future__ import annotations

import polars as pl

from funcdex_assets.dedup.lexical import LexicalDeduplicator
from funcdex_assets.frames import frame


def dedup_scenarios(scenarios: pl.DataFrame, threshold: float,
                    accepted_before: list[tuple[str, str]] | None = None) -> pl.DataFrame:
    dedup = LexicalDeduplicator(threshold=threshold)
    dedup.accept_all(accepted_before or [])
    out = []
    for row in scenarios.iter_rows(named=True):
        base = {k: row[k] for k in ("scenario_id", "combo_id", "bundle", "scenario")}
        if row["status"] != "ok":
            out.append({**base, "status": row["status"], "reject_reason": row["reject_reason"]})
            continue
        dup = dedup.check(row["scenario_id"], row["scenario"])
        if dup is None:
            out.append({**base, "status": "ok"})
        else:
            out.append({**base, "status": "duplicate", "duplicate_of": dup.duplicate_of,
                        "similarity": dup.similarity,
                        "reject_reason": f"{dup.reason} duplicate of {dup.duplicate_of} (jaccard {dup.similarity})"})
    return frame("deduplicated_scenarios", out)
