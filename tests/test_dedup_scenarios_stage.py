"""The scenario dedup stage: lexical + semantic, against the batch and earlier rounds."""

from __future__ import annotations

import polars as pl

from funcdex_assets.dedup.embedder import Embedder
from funcdex_assets.dedup.scenarios import dedup_scenarios
from funcdex_assets.dedup.semantic import SemanticDeduplicator
from funcdex_assets.frames import frame


def _scenarios(texts):
    return frame("scenarios", [{"scenario_id": f"scn_{i}", "combo_id": f"combo_{i}", "bundle": "gmail",
                                "scenario": t, "seed": 1, "status": "ok"} for i, t in enumerate(texts)])


TEXTS = [
    "Schedule a meeting with Dana next Tuesday to review the Q3 budget.",
    "Set up a Tuesday meeting with Dana about the Q3 budget review.",  # paraphrase of 0
    "Schedule a meeting with Dana next Tuesday to review the Q3 budget!",  # near copy of 0
    "Refund the duplicate charge on invoice 4471 for the Berlin customer.",
]


def test_paraphrases_and_near_copies_are_marked_with_the_kept_row():
    df = dedup_scenarios(_scenarios(TEXTS), 0.85, semantic=SemanticDeduplicator(Embedder(), threshold=0.95))
    status = dict(zip(df["scenario_id"], df["status"]))
    assert status == {"scn_0": "ok", "scn_1": "duplicate", "scn_2": "duplicate", "scn_3": "ok"}
    dup = df.filter(pl.col("scenario_id") == "scn_1").row(0, named=True)
    assert dup["duplicate_of"] == "scn_0" and "semantic" in dup["reject_reason"] and dup["similarity"] >= 0.95


def test_earlier_rounds_count_but_a_scenario_is_not_a_copy_of_itself():
    earlier = [("scn_0", TEXTS[0]), ("scn_old", TEXTS[3])]
    df = dedup_scenarios(_scenarios(TEXTS[:1] + TEXTS[3:]), 0.85, accepted_before=earlier)
    status = dict(zip(df["scenario_id"], df["status"]))
    assert status == {"scn_0": "ok", "scn_1": "duplicate"}
    assert df.filter(pl.col("scenario_id") == "scn_1")["duplicate_of"][0] == "scn_old"
