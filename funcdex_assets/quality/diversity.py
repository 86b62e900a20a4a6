"""Diversity figures for the conversations of one bundle or many.

Plain functions on plain data: `summarize` reduces a conversation's DML turns to what the
figures need, `diversity_report` computes them, `render_markdown` / `render_chart_png` show
them. Definitions (every ratio is 0.0 when its denominator is 0):

- Tool-sequence signature: the called tool names in call order (arguments ignored), the calls
  of a parallel call (issued at once, `dml.parallel`) sorted by name since they have no order;
  a conversation without calls has the empty signature.
- Coverage: share of `bundle_tools` called at least once. `never_used` lists the bundle tools
  never called; `least_used` the 5 tools called at least once with the fewest calls (ties by
  name). `tool_usage` counts calls per tool, with a 0 for every never-used bundle tool; calls to
  tools outside `bundle_tools` are counted too and listed in `tools_outside_bundle`.
- Entropy: Shannon entropy (bits) of the distribution of calls over tools; normalised by
  log2(N), N = number of tools (bundle tools plus any called outside it), so a bundle whose calls
  spread evenly over all its tools scores 1.0 and never-used tools pull it down. N < 2: 0.0.
- distinct-n (n = 1, 2, 3): distinct n-grams / total n-grams over all user turns, n-grams taken
  within one turn, tokens = lowercased `\\w+` words.
- Tool-set dissimilarity: mean over all unordered pairs of conversations of
  1 - |A & B| / |A | B| of their sets of called tools (two empty sets: 0, identical). Computed
  exactly over the distinct tool sets weighted by their multiplicities whenever there are at most
  2,000 distinct sets (so always when there are at most 2,000 conversations); otherwise the mean
  over 200,000 pairs drawn with a fixed-seed RNG (same input order, same figure),
  `tool_set_dissimilarity_exact` says which.
- Lengths: `n_turns` = user turns (exchanges; thought and tool turns would make datasets with and
  without thoughts incomparable, and calls are measured separately), `n_tool_calls`, `n_tokens` =
  whitespace-separated pieces of all turn text (user, thought, assistant) plus the JSON of every
  call (`{"name", "arguments"}`) and tool response (`json.dumps`, default separators, no ASCII
  escaping): a tokenizer-free size, not a model's token count. Each reported as min, p50, mean,
  p90, max; percentiles interpolate linearly between order statistics (numpy's default).
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from funcdex_assets.dml.model import (
    AssistantTurn,
    ThoughtTurn,
    ToolCallTurn,
    ToolResponseTurn,
    Turn,
    UserTurn,
)
from funcdex_assets.dml.parallel import call_groups

__all__ = [
    "ConversationSummary", "DiversityReport", "LengthStats", "distinct_n", "diversity_report",
    "length_stats", "render_chart_png", "render_markdown", "shannon_entropy", "summarize",
    "tool_set_dissimilarity", "tool_usage_counts",
]

EXACT_PAIR_LIMIT = 2_000
SAMPLED_PAIRS = 200_000
_PAIR_SEED = 20_240_611
LEAST_USED = 5

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ConversationSummary:
    bundle: str
    tool_calls: list[str]  # called tool names in call order (a parallel call's sorted by name)
    user_texts: list[str]
    n_turns: int  # user turns
    n_tool_calls: int
    n_tokens: int  # whitespace pieces of all text + JSON (see the module docstring)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def summarize(bundle: str, turns: Sequence[Turn]) -> ConversationSummary:
    """What the diversity figures need from one conversation's DML turns."""
    calls: list[str] = []
    users: list[str] = []
    tokens = 0
    for t in turns:
        if isinstance(t, UserTurn):
            users.append(t.text)
            tokens += len(t.text.split())
        elif isinstance(t, (AssistantTurn, ThoughtTurn)):
            tokens += len(t.text.split())
        elif isinstance(t, ToolCallTurn):
            calls.append(t.name)
            tokens += len(_json({"name": t.name, "arguments": t.arguments}).split())
        elif isinstance(t, ToolResponseTurn):
            tokens += len(_json(t.content).split())
    if len(calls) > 1:
        # The calls of a parallel call have no order: [a, b] and [b, a] issued at once are one sequence.
        calls = [name for group in call_groups(turns) for name in sorted(c.name for c in group.calls)]
    return ConversationSummary(bundle=bundle, tool_calls=calls, user_texts=users, n_turns=len(users),
                               n_tool_calls=len(calls), n_tokens=tokens)


def tool_usage_counts(conversations: Iterable[ConversationSummary],
                      bundle_tools: Iterable[str] = ()) -> dict[str, int]:
    """Calls per tool name, sorted by name; every tool in `bundle_tools` is present (0 when never
    called), so a sampler can favour the rarely used ones."""
    counts = Counter({name: 0 for name in bundle_tools})
    for c in conversations:
        counts.update(c.tool_calls)
    return dict(sorted(counts.items()))


def shannon_entropy(counts: Iterable[int]) -> float:
    """Entropy in bits of the distribution proportional to `counts` (0.0 when all are 0)."""
    counts = [c for c in counts if c > 0]
    total = sum(counts)
    if not total:
        return 0.0
    return max(0.0, -sum(c / total * math.log2(c / total) for c in counts))


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct n-grams / total n-grams over `texts` (n-grams within one text, lowercased words)."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        words = _WORD.findall(text.lower())
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def _dissimilarity(a: int, b: int) -> float:
    union = (a | b).bit_count()
    return 1.0 - (a & b).bit_count() / union if union else 0.0


def tool_set_dissimilarity(tool_sets: Sequence[Iterable[str]]) -> tuple[float, bool]:
    """(mean pairwise Jaccard dissimilarity of the sets, whether it is exact); see the module
    docstring for when pairs are sampled."""
    bit: dict[str, int] = {}
    masks = []
    for tools in tool_sets:
        mask = 0
        for name in tools:
            mask |= 1 << bit.setdefault(name, len(bit))
        masks.append(mask)
    n = len(masks)
    if n < 2:
        return 0.0, True
    groups = sorted(Counter(masks).items())
    if len(groups) <= EXACT_PAIR_LIMIT:
        total = 0.0
        for i, (a, ca) in enumerate(groups):
            for b, cb in groups[i + 1:]:
                total += ca * cb * _dissimilarity(a, b)
        return total / (n * (n - 1) / 2), True
    rng = random.Random(_PAIR_SEED)
    total = 0.0
    for _ in range(SAMPLED_PAIRS):
        i, j = rng.sample(range(n), 2)
        total += _dissimilarity(masks[i], masks[j])
    return total / SAMPLED_PAIRS, False


@dataclass(frozen=True)
class LengthStats:
    min: float
    p50: float
    mean: float
    p90: float
    max: float


def _percentile(ordered: Sequence[int], q: float) -> float:
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def length_stats(values: Iterable[int]) -> LengthStats:
    ordered = sorted(values)
    if not ordered:
        return LengthStats(0, 0, 0.0, 0, 0)
    return LengthStats(min=ordered[0], p50=round(_percentile(ordered, 0.5), 4),
                       mean=round(sum(ordered) / len(ordered), 4), p90=round(_percentile(ordered, 0.9), 4),
                       max=ordered[-1])


@dataclass
class DiversityReport:
    bundles: list[str]
    conversations: int
    bundle_tools: int
    distinct_tool_sequences: int
    distinct_tool_sequence_ratio: float
    coverage: float
    never_used: list[str]
    least_used: list[tuple[str, int]]
    tool_usage: dict[str, int]
    tools_outside_bundle: list[str]
    tool_calls: int
    entropy_bits: float
    normalised_entropy: float
    distinct_1: float
    distinct_2: float
    distinct_3: float
    tool_set_dissimilarity: float
    tool_set_dissimilarity_exact: bool
    lengths: dict[str, LengthStats]
    # Conversations per value, for the chart: {"turns": {2: 5, ...}, "tool_calls": {...}}.
    histograms: dict[str, dict[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (histogram keys become strings, pairs become lists)."""
        d = asdict(self)
        d["least_used"] = [[name, count] for name, count in self.least_used]
        d["histograms"] = {k: {str(v): c for v, c in h.items()} for k, h in self.histograms.items()}
        return d


def diversity_report(conversations: Sequence[ConversationSummary], bundle_tools: Sequence[str]) -> DiversityReport:
    """The diversity figures of `conversations` against the tools they could have used."""
    n = len(conversations)
    usage = tool_usage_counts(conversations, bundle_tools)
    bundle_set = set(bundle_tools)
    used_in_bundle = [t for t in sorted(bundle_set) if usage[t] > 0]
    n_tools = len(usage)
    entropy = shannon_entropy(usage.values())
    sequences = {tuple(c.tool_calls) for c in conversations}
    users = [t for c in conversations for t in c.user_texts]
    dissimilarity, exact = tool_set_dissimilarity([set(c.tool_calls) for c in conversations])
    least = sorted(((t, k) for t, k in usage.items() if k > 0), key=lambda tk: (tk[1], tk[0]))[:LEAST_USED]
    return DiversityReport(
        bundles=sorted({c.bundle for c in conversations}),
        conversations=n,
        bundle_tools=len(bundle_set),
        distinct_tool_sequences=len(sequences),
        distinct_tool_sequence_ratio=round(len(sequences) / n, 4) if n else 0.0,
        coverage=round(len(used_in_bundle) / len(bundle_set), 4) if bundle_set else 0.0,
        never_used=[t for t in sorted(bundle_set) if usage[t] == 0],
        least_used=least,
        tool_usage=usage,
        tools_outside_bundle=sorted(set(usage) - bundle_set),
        tool_calls=sum(usage.values()),
        entropy_bits=round(entropy, 4),
        normalised_entropy=round(entropy / math.log2(n_tools), 4) if n_tools >= 2 else 0.0,
        distinct_1=round(distinct_n(users, 1), 4),
        distinct_2=round(distinct_n(users, 2), 4),
        distinct_3=round(distinct_n(users, 3), 4),
        tool_set_dissimilarity=round(dissimilarity, 4),
        tool_set_dissimilarity_exact=exact,
        lengths={"turns": length_stats(c.n_turns for c in conversations),
                 "tool_calls": length_stats(c.n_tool_calls for c in conversations),
                 "tokens": length_stats(c.n_tokens for c in conversations)},
        histograms={"turns": dict(sorted(Counter(c.n_turns for c in conversations).items())),
                    "tool_calls": dict(sorted(Counter(c.n_tool_calls for c in conversations).items()))},
    )


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _names(names: Sequence[str], limit: int = 20) -> str:
    if not names:
        return "-"
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def render_markdown(report: DiversityReport) -> str:
    """A compact markdown summary (figures table, lengths table, rarely used tools)."""
    r = report
    rows = [
        ("conversations", r.conversations),
        ("distinct tool sequences", f"{r.distinct_tool_sequences} ({_fmt(r.distinct_tool_sequence_ratio)})"),
        ("tool coverage", f"{r.bundle_tools - len(r.never_used)}/{r.bundle_tools} ({_fmt(r.coverage)})"),
        ("tool calls", r.tool_calls),
        ("usage entropy (bits)", f"{_fmt(r.entropy_bits)} (normalised {_fmt(r.normalised_entropy)})"),
        ("distinct-1/2/3 (user)", f"{_fmt(r.distinct_1)} / {_fmt(r.distinct_2)} / {_fmt(r.distinct_3)}"),
        ("tool-set dissimilarity", _fmt(r.tool_set_dissimilarity) + ("" if r.tool_set_dissimilarity_exact
                                                                      else " (sampled pairs)")),
    ]
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
             "| length | min | p50 | mean | p90 | max |", "|---|---|---|---|---|---|"]
    for name, s in r.lengths.items():
        lines.append(f"| {name} | {_fmt(s.min)} | {_fmt(s.p50)} | {_fmt(s.mean)} | {_fmt(s.p90)} | {_fmt(s.max)} |")
    lines += ["", f"**Never used:** {_names(r.never_used)}",
              "**Least used:** " + (", ".join(f"`{t}` ({k})" for t, k in r.least_used) or "-")]
    if r.tools_outside_bundle:
        lines.append(f"**Called outside the bundle:** {_names(r.tools_outside_bundle)}")
    return "\n".join(lines) + "\n"


def render_chart_png(report: DiversityReport, path: Path | str) -> Path:
    """A small PNG: calls per tool (never-used tools marked in red at 0) above histograms of
    user turns and tool calls per conversation."""
    # The Agg canvas directly, no pyplot: no global backend switch, no global figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    usage = sorted(report.tool_usage.items(), key=lambda tk: (-tk[1], tk[0]))
    names = [t for t, _ in usage]
    counts = [k for _, k in usage]
    never = set(report.never_used)
    width = min(16.0, max(6.0, 0.25 * len(names) + 2))
    fig = Figure(figsize=(width, 6.5), dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.4, 1])
    ax = fig.add_subplot(grid[0, :])
    x = range(len(names))
    ax.bar(x, counts, color=["#c0392b" if t in never else "#2e86c1" for t in names])
    zero = [i for i, t in enumerate(names) if t in never]
    if zero:
        ax.plot(zero, [0] * len(zero), "x", color="#c0392b", markersize=7, clip_on=False,
                label=f"never used ({len(zero)})")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xticks(list(x), names, rotation=90, fontsize=6 if len(names) > 40 else 8)
    for label, name in zip(ax.get_xticklabels(), names):
        if name in never:
            label.set_color("#c0392b")
    ax.set_ylabel("calls")
    ax.set_title(f"Tool usage: {report.tool_calls} calls, coverage {report.coverage:.0%}, "
                 f"normalised entropy {report.normalised_entropy:.2f}", fontsize=10)
    for col, (key, label) in enumerate((("turns", "user turns"), ("tool_calls", "tool calls"))):
        h = fig.add_subplot(grid[1, col])
        hist = report.histograms.get(key, {})
        h.bar(list(hist), list(hist.values()), color="#7d8c99")
        h.xaxis.set_major_locator(MaxNLocator(integer=True))
        h.set_xlabel(f"{label} per conversation", fontsize=9)
        h.set_ylabel("conversations", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
