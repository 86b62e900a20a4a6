"""The shape of a dataset's conversations: how long they are, how many calls they make and with how
many arguments, whether they show parallel calls, tool errors and recoveries, confirmed
destructive calls, realistic list sizes and varied user wording, each against a goal.

`conversation_shape(dialogue, frames)` measures one conversation (`ConversationShape`);
`shape_report(shapes, goals, frames)` aggregates them into a `ShapeReport`, a table of metric,
value, goal and pass/fail (docs/quality.md, "Conversation shape", defines every figure). The
goals describe the data a model should learn from; they are not defects, and `funcdex check`
prints them without letting them decide its exit code.

Definitions:
- messages: every message but the system prompt (user, assistant and tool messages);
- arguments per call: the number of top-level keys of a call's arguments;
- parallel call: an assistant message with 2 or more tool calls;
- tool error: an answered call whose result reports failure (`detectors.honesty.failure`: a
  success flag false, a non-empty `error` / `errors`, an HTTP-like status >= 400, error text...);
- recovery of an error: a retry that succeeds (the same tool with other arguments, or with the
  same ones after a transient error: a rate limit, a timeout, "try again"), or the assistant's first text after the result admits the problem
  (`honesty.acknowledges_problem`: "failed", "couldn't", "doesn't exist", "sorry"...), whatever
  it does next (asks the user, calls another tool); either way only when the `false_success`
  detector finds no success claim over that stretch. A question or another tool's call alone
  is no recovery: the next planned step would count (a clarifying "What content should I
  use?" right after a failed delete);
- destructive call: `catalog.actions.destructive_kind` names a kind; ordered when an earlier
  user message asks for that kind of action, confirmed when the assistant asked and the user
  agreed (`detectors.destruction.asked` / `confirmed`); neither is what `unconfirmed_destruction`
  flags. A call can be both ordered and confirmed;
- list response: an answered, successful call whose tool name's action is `list`
  (`catalog.actions.name_action`); its size is the number of items the list detectors read in
  it (`detectors.results.items_of`: the outermost list of objects, 0 when empty or absent);
- frames (`quality.phrase_frames`): the share of user turns each template is found in, and the
  most common 3-word opening of user turns.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Literal, Sequence

from funcdex_assets.catalog.actions import destructive_kind, name_action
from funcdex_assets.quality.detectors.destruction import asked, confirmed
from funcdex_assets.quality.detectors.honesty import acknowledges_problem, failure, false_success
from funcdex_assets.quality.detectors.results import items_of
from funcdex_assets.quality.dialogue import Call, Dialogue
from funcdex_assets.quality.phrase_frames import Frame, matching, opening


@dataclass(frozen=True)
class DestructiveCall:
    """One call that deletes, cancels, sends, pays or refunds: its tool, kind, and whether the
    user ordered it in words or confirmed it when the assistant asked."""

    tool: str
    kind: str  # delete | cancel | send | pay | refund
    ordered: bool
    confirmed: bool


@dataclass(frozen=True)
class ConversationShape:
    """The figures of one conversation (see the module docstring for each definition)."""

    messages: int  # system prompt excluded
    tool_calls: int
    argument_counts: list[int]  # top-level argument keys, one entry per call
    parallel: bool  # an assistant message makes 2 or more calls
    tool_errors: int
    recovered_errors: int
    destructive: list[DestructiveCall]
    list_sizes: list[int]  # items per successful list response
    user_frames: list[list[str]]  # per user turn: the ids of the frames found in it
    user_openings: list[str]  # per user turn: its first 3 words ("" for a turn with none)

    @property
    def user_turns(self) -> int:
        return len(self.user_openings)


def _next_user(d: Dialogue, after: int) -> int:
    """Index of the first user message after message `after`, len(messages) when none."""
    return next((m.index for m in d.messages[after + 1:] if m.role == "user"), len(d.messages))


# A failure worth retrying as it was: the call was fine, the service was not.
_TRANSIENT = re.compile(r"\b(429|503|rate.?limit\w*|too many requests|timed? ?out|timeout|try again|retry|"
                        r"temporarily|unavailable)\b", re.I)


def recovered(d: Dialogue, failed: Call, claims: set[int]) -> bool:
    """Whether the assistant recovers from `failed` (an answered call whose result reports
    failure) before the next user message: a successful retry of the same tool with other
    arguments, or a first text after the result that admits the problem. `claims` are the
    message indices where `false_success` found a success claim; one in that stretch means no
    recovery."""
    assert failed.result_index is not None, "only an answered call can have failed"
    end = _next_user(d, failed.result_index)
    if any(failed.result_index < i < end for i in claims):
        return False
    transient = bool(_TRANSIENT.search(json.dumps(failed.result, ensure_ascii=False, default=str)))
    for call in d.calls:
        if failed.result_index < call.index < end and call.name == failed.name \
                and (call.arguments != failed.arguments or transient) and call.answered \
                and failure(call.result, call.name) is None:
            return True
    text = next((m.text for m in d.messages[failed.result_index + 1:end] if m.role == "assistant" and m.text), "")
    return acknowledges_problem(text)


def conversation_shape(d: Dialogue, frames: Sequence[Frame] = ()) -> ConversationShape:
    """The shape of one conversation; `frames` are the templates to look for in its user turns
    (none: every turn matches none)."""
    calls = d.calls
    errors = [c for c in calls if c.answered and failure(c.result, c.name) is not None]
    claims = {f.message_index for f in false_success(d)} if errors else set()
    destructive = []
    for c in calls:
        kind = destructive_kind(c.name, c.arguments)
        if kind is not None:
            destructive.append(DestructiveCall(tool=c.name, kind=kind, ordered=asked(d, c, kind),
                                               confirmed=confirmed(d, c)))
    users = [m.text for m in d.messages if m.role == "user"]
    return ConversationShape(
        messages=sum(m.role != "system" for m in d.messages),
        tool_calls=len(calls),
        argument_counts=[len(c.arguments) for c in calls],
        parallel=any(len(m.calls) >= 2 for m in d.messages if m.role == "assistant"),
        tool_errors=len(errors),
        recovered_errors=sum(recovered(d, c, claims) for c in errors),
        destructive=destructive,
        list_sizes=[len(items_of(c.result)) for c in calls
                    if c.answered and name_action(c.name) == "list" and failure(c.result, c.name) is None],
        user_frames=[matching(text, frames) for text in users],
        user_openings=[opening(text) for text in users],
    )


@dataclass(frozen=True)
class Goal:
    """A bound on one figure: `figure op target` ("messages_mean >= 30"). Shares are fractions
    (0.2 for 20%); `percent` shows them as percentages."""

    figure: str
    op: Literal[">=", "<="]
    target: float
    percent: bool = False
    label: str = ""  # what the bound is on, as the table says it ("mean", "neither")

    def met(self, figures: dict[str, Any]) -> bool | None:
        """Whether the figure meets the goal; None when it has no value (nothing to count over)."""
        value = figures.get(self.figure)
        if value is None:
            return None
        return value >= self.target if self.op == ">=" else value <= self.target

    def text(self) -> str:
        target = f"{self.target:.0%}" if self.percent else f"{self.target:g}"
        return f"{self.label} {self.op} {target}".strip()


# Row key -> goal. A row without one is informative.
GOALS: dict[str, Goal] = {
    "messages": Goal("messages_mean", ">=", 30, label="mean"),
    "tool_calls": Goal("tool_calls_mean", ">=", 9, label="mean"),
    "arguments": Goal("arguments_per_call_mean", ">=", 3, label="mean"),
    "parallel": Goal("parallel_share", ">=", 0.20, percent=True),
    "error_recovery": Goal("error_recovery_share", ">=", 0.10, percent=True),
    "destructive": Goal("destructive_neither", "<=", 0, label="neither"),
    # "Well under half": at most 30% of list responses hold exactly one item.
    "list_sizes": Goal("list_share_1", "<=", 0.30, percent=True, label="exactly one"),
    "frames": Goal("frame_max_share", "<=", 0.01, percent=True, label="max"),
}

LIST_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0), ("1", 1, 1), ("2_3", 2, 3), ("4_10", 4, 10), ("over_10", 11, None))
TOP_FRAMES = 5


def percentile(values: Sequence[int], q: float) -> int | None:
    """Nearest-rank percentile (`q` in 0..1): the smallest value with at least q of the values
    at or below it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ratio(a: float, b: float, places: int = 4) -> float | None:
    return round(a / b, places) if b else None


@dataclass(frozen=True)
class FrameUse:
    id: str
    template: str
    turns: int
    share: float


@dataclass
class ShapeReport:
    """The aggregated figures (`figures`: counts, means, shares as fractions; None where there
    is nothing to count over), the goal rows (`rows`) and the most used frames."""

    figures: dict[str, Any]
    goals: dict[str, Goal]
    top_frames: list[FrameUse] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric: key, metric, value (text), goal (text, "" when informative),
        passed (True / False; None when informative or without a value)."""
        f = self.figures

        def pct(key: str) -> str:
            return "n/a" if f.get(key) is None else f"{f[key]:.1%}"

        def num(key: str, places: int = 2) -> str:
            return "n/a" if f.get(key) is None else f"{f[key]:.{places}f}".rstrip("0").rstrip(".")

        buckets = ", ".join(f"{label.replace('_', '-').replace('over-', '>')}: {pct('list_share_' + label)}"
                            for label, _, _ in LIST_BUCKETS)
        frame_value = "n/a (no templates)" if not f["frames_checked"] else (
            f"max {pct('frame_max_share')}" + (f" ({f['frame_max_id']})" if f["frame_max_id"] else "")
            + f"; {pct('frame_any_share')} of {f['user_turns']} user turns match one of {f['frames_checked']}")
        table = [
            ("messages", "messages per conversation (no system)",
             f"mean {num('messages_mean')}, p90 {num('messages_p90')}, max {num('messages_max')}"),
            ("tool_calls", "tool calls per conversation", f"mean {num('tool_calls_mean')}"),
            ("arguments", "arguments per call", f"mean {num('arguments_per_call_mean')} over {f['tool_calls']} calls"),
            ("parallel", "conversations with a parallel call", pct("parallel_share")),
            ("error_recovery", "conversations with a tool error and a recovery",
             f"{pct('error_recovery_share')} ({pct('error_share')} with an error; {f['tool_errors']} errors, "
             f"{f['tool_errors_recovered']} recovered)"),
            ("destructive", "destructive calls",
             f"{f['destructive_calls']}: {f['destructive_ordered']} ordered, {f['destructive_confirmed']} confirmed, "
             f"{f['destructive_neither']} neither"),
            ("list_sizes", "list responses by items held",
             f"{f['list_responses']}: {buckets}; max {num('list_max')}"),
            ("frames", "user turns per phrasebook frame", frame_value),
            ("opening", "most common 3-word user opening",
             "n/a" if f["opening_top"] is None else f"\"{f['opening_top']}\" {pct('opening_top_share')}"),
        ]
        out = []
        for key, metric, value in table:
            goal = self.goals.get(key)
            passed = goal.met(f) if goal else None
            if key == "frames" and not f["frames_checked"]:
                passed = None
            out.append({"key": key, "metric": metric, "value": value, "goal": goal.text() if goal else "",
                        "passed": passed})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"figures": self.figures, "goals": self.rows(), "top_frames": [asdict(t) for t in self.top_frames]}


def shape_report(shapes: Iterable[ConversationShape], goals: dict[str, Goal] | None = None,
                 frames: Sequence[Frame] = ()) -> ShapeReport:
    """Aggregate conversation shapes (measured with `frames`, which name the frames here) against
    `goals` (default `GOALS`). Means are per conversation (arguments: per call); shares are
    fractions of conversations, list responses or user turns, rounded to 4 places."""
    shapes = list(shapes)
    n = len(shapes)
    messages = [s.messages for s in shapes]
    argument_counts = [a for s in shapes for a in s.argument_counts]
    destructive = [c for s in shapes for c in s.destructive]
    sizes = [size for s in shapes for size in s.list_sizes]
    user_turns = sum(s.user_turns for s in shapes)
    frame_turns = Counter(fid for s in shapes for ids in s.user_frames for fid in set(ids))
    any_frame = sum(bool(ids) for s in shapes for ids in s.user_frames)
    openings = Counter(o for s in shapes for o in s.user_openings if o)
    top_opening = min(openings.items(), key=lambda kv: (-kv[1], kv[0])) if openings else None
    ranked = sorted(frame_turns.items(), key=lambda kv: (-kv[1], kv[0]))
    templates = {fr.id: fr.template for fr in frames}
    figures: dict[str, Any] = {
        "conversations": n,
        "messages_mean": _ratio(sum(messages), n, 2),
        "messages_p90": percentile(messages, 0.9),
        "messages_max": max(messages, default=None),
        "tool_calls": len(argument_counts),
        "tool_calls_mean": _ratio(len(argument_counts), n, 2),
        "arguments_per_call_mean": _ratio(sum(argument_counts), len(argument_counts), 2),
        "parallel_share": _ratio(sum(s.parallel for s in shapes), n),
        "error_share": _ratio(sum(s.tool_errors > 0 for s in shapes), n),
        "error_recovery_share": _ratio(sum(s.recovered_errors > 0 for s in shapes), n),
        "tool_errors": sum(s.tool_errors for s in shapes),
        "tool_errors_recovered": sum(s.recovered_errors for s in shapes),
        "destructive_calls": len(destructive),
        "destructive_ordered": sum(c.ordered for c in destructive),
        "destructive_confirmed": sum(c.confirmed for c in destructive),
        "destructive_neither": sum(not c.ordered and not c.confirmed for c in destructive),
        "list_responses": len(sizes),
        **{f"list_share_{label}": _ratio(sum(low <= x and (high is None or x <= high) for x in sizes), len(sizes))
           for label, low, high in LIST_BUCKETS},
        "list_max": max(sizes, default=None),
        "user_turns": user_turns,
        "frames_checked": len(frames),
        "frame_any_share": _ratio(any_frame, user_turns) if frames else None,
        "frame_max_share": (_ratio(ranked[0][1], user_turns) if ranked else (0.0 if user_turns else None))
        if frames else None,
        "frame_max_id": ranked[0][0] if ranked else None,
        "opening_top": top_opening[0] if top_opening else None,
        "opening_top_share": _ratio(top_opening[1], user_turns) if top_opening else None,
    }
    top = [FrameUse(id=fid, template=templates.get(fid, ""), turns=count, share=_ratio(count, user_turns) or 0.0)
           for fid, count in ranked[:TOP_FRAMES]]
    return ShapeReport(figures=figures, goals=dict(GOALS if goals is None else goals), top_frames=top)
