"""Export stage: the parsed (TRL-format) dataset per bundle (the split is export.splits')."""

from __future__ import annotations

import json
from typing import Sequence

import polars as pl

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.export.trl import to_messages, tools_list
from funcdex_assets.frames import frame, ok
from funcdex_assets.hashing import derive_seed


def parsed_frame(validated: pl.DataFrame, scores: pl.DataFrame, outlines: pl.DataFrame, tools: Sequence[Tool],
                 bundle: str, toolkits: list[str], cap: int, system_prompt_dropout: float,
                 seed: int, deduplicated: pl.DataFrame | None = None,
                 allow_incomplete: bool = False) -> pl.DataFrame:
    """Accepted conversations (valid, passed by the judge, not a near duplicate), at most `cap`,
    in TRL format. A conversation whose system prompt request failed is left out (the prompt
    is part of the row) unless the drop-out would have removed it anyway or `allow_incomplete`
    says to export it without one."""
    by_name = {t.name: t for t in tools}
    unique = set(ok(deduplicated)["conversation_id"].to_list()) if deduplicated is not None else None
    passed = {r["conversation_id"]: r for r in ok(scores).iter_rows(named=True)
              if unique is None or r["conversation_id"] in unique}
    offered = dict(zip(outlines["outline_id"], outlines["offered_tools"]))
    rows = []
    for row in ok(validated).iter_rows(named=True):
        score = passed.get(row["conversation_id"])
        if score is None:
            continue
        if len(rows) >= cap:
            break
        cid = row["conversation_id"]
        dropped = derive_seed(seed, "system_prompt_dropout", cid) % 10_000 < system_prompt_dropout * 10_000
        if not dropped and row.get("system_prompt_error") and not allow_incomplete:
            continue
        system_prompt = None if dropped else row["system_prompt"]
        turns = parse_dml(row["dml"]).turns
        metadata = {
            "combo_id": row["combo_id"], "scenario_id": row["scenario_id"], "persona_id": row["persona_id"],
            "outline_id": row["outline_id"], "user_query_clarity": score["user_query_clarity"],
            "tool_use_quality": score["tool_use_quality"], "user_turns": row["user_turns"],
            "tool_calls": row["tool_calls"],
        }
        rows.append({
            "conversation_id": cid, "bundle": bundle, "toolkits": toolkits,
            "messages": json.dumps(to_messages(turns, cid, system_prompt), ensure_ascii=False),
            "tools": json.dumps(tools_list([by_name[n] for n in offered[row["outline_id"]] if n in by_name]),
                                ensure_ascii=False),
            "system_prompt": system_prompt,
            "metadata": json.dumps(metadata, ensure_ascii=False),
        })
    return frame("parsed_dataset", rows)


def jsonl_rows(df: pl.DataFrame) -> list[dict]:
    """Frame rows as the JSON objects written to .jsonl (JSON columns decoded)."""
    out = []
    for row in df.iter_rows(named=True):
        out.append({
            "conversation_id": row["conversation_id"], "bundle": row["bundle"], "toolkits": row["toolkits"],
            "messages": json.loads(row["messages"]), "tools": json.loads(row["tools"]),
            "system_prompt": row["system_prompt"], "metadata": json.loads(row["metadata"]),
        })
    return out
