"""Data checks on stage frames: plain functions returning a verdict and what failed.

The Dagster asset checks in `defs/checks.py` wrap these; the ones guarding data that must not
flow on are blocking there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

UPSTREAM_FAILURES = ("pending",)


@dataclass
class CheckOutcome:
    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _rate(n: int, d: int) -> float:
    return n / d if d else 1.0


def dml_parse_rate(validated: pl.DataFrame, minimum: float) -> CheckOutcome:
    """Share of written conversations (a DML text came back) that parse."""
    written = validated.filter(pl.col("dml").is_not_null())
    bad = written.filter(pl.col("status") == "unparseable")
    rate = _rate(written.height - bad.height, written.height)
    return CheckOutcome(rate >= minimum, f"{rate:.1%} of {written.height} conversations parse (minimum {minimum:.0%})",
                        {"unparseable": bad["reject_reason"].head(5).to_list()})


def argument_validity(validated: pl.DataFrame, minimum: float) -> CheckOutcome:
    """Share of parsed conversations whose every tool call's arguments match the tool schema."""
    parsed = validated.filter(pl.col("dml").is_not_null() & (pl.col("status") != "unparseable"))
    bad = parsed.filter(pl.col("reject_reasons").list.contains("invalid_arguments"))
    rate = _rate(parsed.height - bad.height, parsed.height)
    examples = [issue["message"] for raw in bad["issues"].head(5).to_list() for issue in json.loads(raw or "[]")
                if issue["code"] == "invalid_arguments"][:5]
    return CheckOutcome(rate >= minimum, f"{rate:.1%} of {parsed.height} conversations have schema-valid arguments "
                                         f"(minimum {minimum:.0%})", {"invalid_arguments": examples})


def every_call_answered(parsed_dataset: pl.DataFrame) -> CheckOutcome:
    """In the exported rows, every tool call is followed by the tool message answering it."""
    unanswered = []
    for row in parsed_dataset.iter_rows(named=True):
        messages = json.loads(row["messages"])
        for i, msg in enumerate(messages):
            for call in msg.get("tool_calls") or []:
                reply = messages[i + 1] if i + 1 < len(messages) else {}
                if reply.get("role") != "tool" or reply.get("tool_call_id") != call["id"]:
                    unanswered.append(f"{row['conversation_id']}: {call['function']['name']} ({call['id']})")
    return CheckOutcome(not unanswered, f"{len(unanswered)} unanswered tool calls in {parsed_dataset.height} rows",
                        {"unanswered": unanswered[:10]})


def duplicate_rate(deduplicated: pl.DataFrame, maximum: float) -> CheckOutcome:
    dupes = deduplicated.filter(pl.col("status") == "duplicate")
    rate = _rate(dupes.height, deduplicated.height) if deduplicated.height else 0.0
    return CheckOutcome(rate <= maximum, f"{rate:.1%} of {deduplicated.height} rows are duplicates "
                                         f"(maximum {maximum:.0%})",
                        {"examples": dupes["reject_reason"].head(5).to_list()})


def judge_pass_rate(scores: pl.DataFrame, minimum: float) -> CheckOutcome:
    scored = scores.filter(pl.col("tool_use_quality").is_not_null())
    passed = scored.filter(pl.col("passed"))
    rate = _rate(passed.height, scored.height)
    return CheckOutcome(rate >= minimum, f"{rate:.1%} of {scored.height} judged conversations pass "
                                         f"(minimum {minimum:.0%})",
                        {"failed_reasons": scored.filter(~pl.col("passed"))["reject_reason"].head(5).to_list()})


def minimum_conversations(parsed_dataset: pl.DataFrame, minimum: int) -> CheckOutcome:
    return CheckOutcome(parsed_dataset.height >= minimum,
                        f"{parsed_dataset.height} conversations exported (minimum {minimum})")
