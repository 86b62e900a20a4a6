"""Data checks on stage frames: plain functions returning a verdict and what failed.

The Dagster asset checks in `defs/checks.py` wrap these; the ones guarding data that must not
flow on are blocking there.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from funcdex_assets.frames import ok
from funcdex_assets.quality.findings import CODES
from funcdex_assets.quality.reasons import explain

UPSTREAM_FAILURES = ("pending",)


@dataclass
class CheckOutcome:
    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _rate(n: int, d: int) -> float:
    return n / d if d else 1.0


def dml_parse_rate(validated: pl.DataFrame, minimum: float) -> CheckOutcome:
    """Share of written conversations (every attempt that came back with text, rejected ones
    included) that parse as DML."""
    written = validated.filter(pl.col("dml").is_not_null())
    bad = written.filter(~pl.col("parsed").fill_null(False))
    rate = _rate(written.height - bad.height, written.height)
    examples = [issue["message"] for raw in bad["issues"].head(5).to_list() for issue in json.loads(raw or "[]")][:5]
    return CheckOutcome(rate >= minimum, f"{rate:.1%} of {written.height} written conversations parse "
                                         f"(minimum {minimum:.0%})", {"unparseable": examples})


def argument_validity(validated: pl.DataFrame, minimum: float) -> CheckOutcome:
    """Share of parsed conversations (rejected ones included) whose every tool call's arguments
    match the tool schema."""
    parsed = validated.filter(pl.col("parsed").fill_null(False))
    bad = parsed.filter(pl.col("reject_reasons").list.contains("invalid_arguments"))
    rate = _rate(parsed.height - bad.height, parsed.height)
    examples = [issue["message"] for raw in bad["issues"].head(5).to_list() for issue in json.loads(raw or "[]")
                if issue["code"] == "invalid_arguments"][:5]
    return CheckOutcome(rate >= minimum, f"{rate:.1%} of {parsed.height} parsed conversations have schema-valid "
                                         f"arguments (minimum {minimum:.0%})", {"invalid_arguments": examples})


def semantic_defect_rate(validated: pl.DataFrame, maximum: float, examples_per_code: int = 2) -> CheckOutcome:
    """Share of accepted conversations (valid by the conversation rules) with at least one meaning
    defect (`quality.detectors`), with the codes found most and examples of each."""
    accepted = ok(validated)
    if accepted.is_empty():
        return CheckOutcome(True, "no accepted conversations to read (the other checks say why)")
    defective = accepted.filter(pl.col("finding_codes").list.len() > 0)
    rate = defective.height / accepted.height
    by_code: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for row in defective.iter_rows(named=True):
        by_code.update(row["finding_codes"])
        for f in json.loads(row["findings"] or "[]"):
            found = examples.setdefault(f["code"], [])
            if len(found) < examples_per_code and not any(row["conversation_id"] in e for e in found):
                found.append(f"{row['conversation_id']} message {f['message_index']}: {f['message']}")
    top = by_code.most_common()
    summary = (f"{defective.height} of {accepted.height} accepted conversations ({rate:.1%}) have a meaning defect "
               f"(maximum {maximum:.0%})")
    if top:
        code, n = top[0]
        summary += "; " + ", ".join(f"{c} {k}" for c, k in top[:5])
        summary += f". Most: {code} ({CODES[code].meaning}): {CODES[code].fix}. E.g. {examples[code][0]}"
    return CheckOutcome(rate <= maximum, summary, {"by_code": dict(top), "examples": examples})


# Rejects that are the pipeline working, not a stage failing.
_NOT_FAILURES = ("duplicate",)


def stage_rejects(df: pl.DataFrame, what: str, maximum: float) -> CheckOutcome:
    """A stage that rejects more than `maximum` of its rows fails with the dominant reason, what
    it means and its fix (`quality.reasons`). Duplicates are not failures."""
    rows = df.filter(~pl.col("status").is_in(_NOT_FAILURES))
    if rows.is_empty():
        return CheckOutcome(True, f"no {what} to check")
    rejected = rows.filter(pl.col("status") != "ok")
    counts = Counter(rejected["status"].to_list())
    rate = rejected.height / rows.height
    if not counts:
        return CheckOutcome(True, f"all {rows.height} {what} accepted")
    dominant, n = counts.most_common(1)[0]
    share = "all" if rejected.height == rows.height else f"{rejected.height} of"
    summary = f"{share} {rows.height} {what} were rejected"
    summary += f" as {dominant}" if n == rejected.height else f" ({', '.join(f'{k} {v}' for k, v in counts.most_common())})"
    summary += f": {explain(dominant)}"
    example = rejected.filter(pl.col("status") == dominant)["reject_reason"].head(1).to_list()
    if example and example[0]:
        summary += f". First: {example[0][:300]}"
    return CheckOutcome(rate <= maximum, summary, {"rejected_by_reason": dict(counts.most_common()),
                                                   "maximum_reject_rate": maximum})


def every_call_answered(parsed_dataset: pl.DataFrame) -> CheckOutcome:
    """In the exported rows, every tool call is answered by one of the tool messages right after
    its assistant message (a parallel call's results follow it as a run of tool messages)."""
    unanswered = []
    for row in parsed_dataset.iter_rows(named=True):
        messages = json.loads(row["messages"])
        for i, msg in enumerate(messages):
            replies = set()
            for reply in messages[i + 1:]:
                if reply.get("role") != "tool":
                    break
                replies.add(reply.get("tool_call_id"))
            for call in msg.get("tool_calls") or []:
                if call["id"] not in replies:
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
