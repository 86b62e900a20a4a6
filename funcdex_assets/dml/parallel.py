"""Parallel tool calls: several independent calls the assistant issues at once.

In DML a parallel call is 2..MAX_PARALLEL_CALLS consecutive `<tool>` blocks followed by exactly
as many consecutive `<tool_response>` blocks; the k-th response answers the k-th call. A single
call answered at once is the width-1 case. The model stays a flat list of turns (calls, then
responses); `call_groups` recovers the groups for the code that needs them, e.g. the OpenAI /
TRL export, where a group is one assistant message with several `tool_calls`.

    call_groups(turns) -> list[CallGroup]   # every run of calls and the responses right after it

The grammars (`grammars/dml*.gbnf`, whose `calls` rule is `calls_rule(MAX_PARALLEL_CALLS)`)
enforce the width and the count while generating; `validator.validate_conversation` reports
violations in parsed text (`too_many_parallel_calls`, `call_without_response`,
`response_without_call`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from funcdex_assets.dml.model import ToolCallTurn, ToolResponseTurn

__all__ = ["MAX_PARALLEL_CALLS", "CallGroup", "call_groups", "calls_rule"]

# The most calls one assistant message may issue at once. Wider groups are rare in real
# traces, and every extra width adds a nested alternative to the grammars' `calls` rule.
MAX_PARALLEL_CALLS = 4


@dataclass(frozen=True)
class CallGroup:
    """One run of consecutive tool calls and the run of tool responses right after it.

    `start` is the index of the first call in the turns. In a valid conversation
    `len(responses) == len(calls) <= MAX_PARALLEL_CALLS` and `responses[k]` answers `calls[k]`;
    otherwise `responses` holds whatever responses followed (possibly none, possibly more)."""

    start: int
    calls: tuple[ToolCallTurn, ...]
    responses: tuple[ToolResponseTurn, ...]

    @property
    def parallel(self) -> bool:
        return len(self.calls) > 1

    def pairs(self) -> list[tuple[ToolCallTurn, ToolResponseTurn | None]]:
        """Each call with the response at its position (None when it has none)."""
        return [(c, self.responses[k] if k < len(self.responses) else None) for k, c in enumerate(self.calls)]


def call_groups(turns: Sequence[Any]) -> list[CallGroup]:
    """Every maximal run of consecutive `ToolCallTurn`s with the maximal run of
    `ToolResponseTurn`s right after it, in turn order. Responses not right after a call (a
    response after a user turn, say) belong to no group. Turn order is not checked: that is
    the validator's job."""
    groups: list[CallGroup] = []
    i, n = 0, len(turns)
    while i < n:
        if not isinstance(turns[i], ToolCallTurn):
            i += 1
            continue
        start = i
        while i < n and isinstance(turns[i], ToolCallTurn):
            i += 1
        calls_end = i
        while i < n and isinstance(turns[i], ToolResponseTurn):
            i += 1
        groups.append(CallGroup(start, tuple(turns[start:calls_end]), tuple(turns[calls_end:i])))
    return groups


def calls_rule(width: int = MAX_PARALLEL_CALLS) -> str:
    """The grammars' `calls` rule (one GBNF line) for groups of 1..width calls, prefix-factored
    so that every position has one way to continue: after k calls comes either the k
    responses or (while k < width) another call.

    calls_rule(2) == 'calls ::= tool-call ( tool-response | tool-call tool-response tool-response )'

    Raises ValueError for width < 1."""
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")

    def after(k: int) -> str:  # what may follow k calls
        responses = " ".join(["tool-response"] * k)
        if k == width:
            return responses
        more = after(k + 1)
        return f"( {responses} | tool-call {more} )"

    return f"calls ::= tool-call {after(1)}"
