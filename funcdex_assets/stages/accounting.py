"""Where every row of a round went: one count of rejects per stage, and what model request
failures cost.

Stage frames carry the rejects of earlier stages (deduplicated_scenarios keeps the scenario
rejects, validated_conversations the generator's), so summing each frame's rejects counts some
twice. Here a reject is counted once, at the first stage whose frame shows it, keyed by the
row id that stage uses. This is the single source the run summary, the shortfall message and
the request-failure gate read.

A row lost to a model request that failed after its retries (HTTP 5xx, timeouts, rate limits,
cut connections: reasons `llm_*` except `llm_bad_request`, which a rerun would not fix) is not
a quality reject: the same seed would have produced it. So is a conversation whose system
prompt request failed. `request_losses` counts both; the export refuses to publish a round
with losses unless the user allows incomplete rows, and a rerun fills them (answers already
received come from the response cache).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import polars as pl

from funcdex_assets.quality.reasons import explain

# (stage name, frame, the id column that stage's rows are keyed by), in pipeline order.
StageFrame = tuple[str, pl.DataFrame, str]

NOT_REQUEST_FAILURES = ("llm_bad_request",)
NOT_REJECTS = ("ok", "pending")  # pending: an earlier step of the same request failed (counted there)


def is_request_failure(reason: str | None) -> bool:
    return bool(reason) and reason.startswith("llm_") and reason not in NOT_REQUEST_FAILURES


def round_rejects(stages: Sequence[StageFrame]) -> dict[str, dict[str, int]]:
    """stage -> {reason: rows}, each rejected row counted once, at the first stage showing it."""
    seen: set[tuple[str, str]] = set()
    out: dict[str, dict[str, int]] = {}
    for stage, df, key in stages:
        if df.is_empty() or "status" not in df.columns:
            continue
        counts: Counter[str] = Counter()
        for row_key, status in zip(df[key].to_list(), df["status"].to_list()):
            if status in NOT_REJECTS or (key, row_key) in seen:
                continue
            seen.add((key, row_key))
            counts[status] += 1
        if counts:
            out[stage] = dict(sorted(counts.items()))
    return out


def total_rejects(rejects: dict[str, dict[str, int]]) -> dict[str, int]:
    """reason -> rows over every stage."""
    total: Counter[str] = Counter()
    for counts in rejects.values():
        total.update(counts)
    return dict(sorted(total.items()))


@dataclass
class RequestLosses:
    """Rows a round lost to model requests that failed after their retries."""

    rows_by_stage: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> reason -> rows
    system_prompts: int = 0  # conversations whose system prompt request failed
    examples: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(sum(c.values()) for c in self.rows_by_stage.values())

    def __bool__(self) -> bool:
        return bool(self.rows or self.system_prompts)

    def describe(self) -> str:
        parts = [f"{n} {stage} ({reason})" for stage, counts in self.rows_by_stage.items()
                 for reason, n in counts.items()]
        if self.system_prompts:
            parts.append(f"{self.system_prompts} system prompt(s)")
        text = ("model requests failed after their retries and lost " + ", ".join(parts) +
                ". Rerun the same command to fill them: answers already received come from the response cache "
                "and only the failed requests are sent again (or allow_incomplete_rows / --allow-incomplete to "
                "export without them)")
        if self.examples:
            text += f". First error: {self.examples[0][:300]}"
        return text


def request_losses(stages: Sequence[StageFrame], conversations: pl.DataFrame | None = None) -> RequestLosses:
    """What model request failures cost a round: rejected rows per stage and reason, plus
    accepted conversations whose system prompt failed (`system_prompt_error` of the
    dml_conversations frame)."""
    out = RequestLosses()
    for stage, counts in round_rejects(stages).items():
        failed = {r: n for r, n in counts.items() if is_request_failure(r)}
        if failed:
            out.rows_by_stage[stage] = failed
    for _, df, _ in stages:
        if "reject_reason" in df.columns and not df.is_empty():
            failed_rows = df.filter(pl.col("status").map_elements(is_request_failure, return_dtype=pl.Boolean))
            out.examples += [m for m in failed_rows["reject_reason"].head(2).to_list() if m]
    if conversations is not None and "system_prompt_error" in conversations.columns:
        errors = conversations.filter((pl.col("status") == "ok") & pl.col("system_prompt_error").is_not_null())
        out.system_prompts = errors.height
        out.examples += errors["system_prompt_error"].head(2).to_list()
    return out


def shortfall_reason(rejects: dict[str, dict[str, int]]) -> str:
    """Why a round made fewer rows than wanted, in words: the most frequent reject, its stage,
    cause and fix; duplicates and the judge included."""
    ranked = sorted(((n, stage, reason) for stage, counts in rejects.items() for reason, n in counts.items()),
                    key=lambda t: (-t[0], t[1], t[2]))
    if not ranked:
        return ("no stage rejected anything: the tool graph yields too few distinct chains or oversample is too low "
                "(raise `oversample`)")
    n, stage, reason = ranked[0]
    others = ", ".join(f"{s} {r} {k}" for k, s, r in ranked[1:4])
    return (f"most rejects were {stage} {reason} ({n}): {explain(reason)}" + (f"; then {others}" if others else ""))
