"""Scenario dedup: each scenario against everything accepted before it in the bundle (and,
through `accepted_before`, earlier rounds): lexical first, then semantic when an embedder is
configured."""

from __future__ import annotations

from typing import Sequence

import polars as pl

from funcdex_assets.dedup.lexical import LexicalDeduplicator
from funcdex_assets.dedup.semantic import CombinedDeduplicator, SemanticDeduplicator
from funcdex_assets.frames import frame


def dedup_scenarios(scenarios: pl.DataFrame, threshold: float,
                    accepted_before: Sequence[tuple[str, str]] | None = None,
                    semantic: SemanticDeduplicator | None = None) -> pl.DataFrame:
    dedup = CombinedDeduplicator(LexicalDeduplicator(threshold=threshold), semantic)
    earlier = list(accepted_before or [])
    own = {row["scenario_id"] for row in scenarios.iter_rows(named=True)}
    # An id seen before is the same scenario (same combo, same text), not a copy of itself.
    dedup.accept_all([(k, t) for k, t in earlier if k not in own])
    rows = list(scenarios.iter_rows(named=True))
    candidates = [r for r in rows if r["status"] == "ok"]
    found = dict(zip((r["scenario_id"] for r in candidates),
                     dedup.check_many([(r["scenario_id"], r["scenario"]) for r in candidates])))
    out = []
    for row in rows:
        base = {k: row[k] for k in ("scenario_id", "combo_id", "bundle", "scenario")}
        if row["status"] != "ok":
            out.append({**base, "status": row["status"], "reject_reason": row["reject_reason"]})
            continue
        dup = found[row["scenario_id"]]
        if dup is None:
            out.append({**base, "status": "ok"})
        else:
            measure = "(cos+1)/2" if dup.reason == "semantic" else "jaccard"
            out.append({**base, "status": "duplicate", "duplicate_of": dup.duplicate_of,
                        "similarity": dup.similarity,
                        "reject_reason": f"{dup.reason} duplicate of {dup.duplicate_of} ({measure} {dup.similarity})"})
    return frame("deduplicated_scenarios", out)
