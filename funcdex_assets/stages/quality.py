"""Conversation dedup and diversity stages."""

from __future__ import annotations

import json
from typing import Sequence

import polars as pl

from funcdex_assets.dedup.conversations import ConversationItem, dedup_conversations
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.export.trl import turns_from_messages
from funcdex_assets.frames import frame, ok
from funcdex_assets.quality.diversity import ConversationSummary, summarize


def dedup_conversations_frame(validated: pl.DataFrame, scores: pl.DataFrame, threshold: float,
                              accepted_before: Sequence[tuple[str, str]] = ()) -> pl.DataFrame:
    """Valid, judge-passed conversations with near duplicates marked; each removed row names the
    kept row it duplicates. `accepted_before` is (id, DML) from earlier rounds."""
    passed = set(ok(scores)["conversation_id"].to_list())
    candidates = [r for r in ok(validated).iter_rows(named=True) if r["conversation_id"] in passed]
    items = [ConversationItem(r["conversation_id"], parse_dml(r["dml"]).turns) for r in candidates]
    before = [ConversationItem(key, parse_dml(dml).turns) for key, dml in accepted_before]
    rows = []
    for r, dup in zip(candidates, dedup_conversations(items, threshold=threshold, accepted_before=before)):
        row = {"conversation_id": r["conversation_id"], "bundle": r["bundle"], "status": "ok"}
        if dup is not None:
            row.update(status="duplicate", duplicate_of=dup.duplicate_of, similarity=dup.similarity,
                       reject_reason=f"{dup.reason} duplicate of {dup.duplicate_of} (text jaccard {dup.similarity})")
        rows.append(row)
    return frame("deduplicated_conversations", rows)


def summaries_frame(parsed: pl.DataFrame) -> pl.DataFrame:
    """One diversity summary per exported conversation (read back from its TRL messages, so
    rows kept from earlier rounds count too)."""
    rows = []
    for r in parsed.iter_rows(named=True):
        s = summarize(r["bundle"], turns_from_messages(json.loads(r["messages"])))
        rows.append({"conversation_id": r["conversation_id"], "bundle": s.bundle, "tool_calls": list(s.tool_calls),
                     "user_texts": list(s.user_texts), "n_turns": s.n_turns, "n_tool_calls": s.n_tool_calls,
                     "n_tokens": s.n_tokens})
    return frame("conversation_summaries", rows)


def summaries_from_frame(df: pl.DataFrame) -> list[ConversationSummary]:
    return [ConversationSummary(bundle=r["bundle"], tool_calls=r["tool_calls"], user_texts=r["user_texts"],
                                n_turns=r["n_turns"], n_tool_calls=r["n_tool_calls"], n_tokens=r["n_tokens"])
            for r in df.iter_rows(named=True)]
