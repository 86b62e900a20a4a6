"""Diversity figures: hand-computed small cases, DML summaries, markdown and chart output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.quality import diversity
from funcdex_assets.quality.diversity import (
    ConversationSummary,
    distinct_n,
    diversity_report,
    length_stats,
    render_chart_png,
    render_markdown,
    shannon_entropy,
    summarize,
    tool_set_dissimilarity,
    tool_usage_counts,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dml"
TOOLS = ["A", "B", "C", "D"]


def summary(calls: list[str], users: list[str] = (), n_tokens: int = 10, bundle: str = "b") -> ConversationSummary:
    users = list(users) or ["hi"]
    return ConversationSummary(bundle=bundle, tool_calls=list(calls), user_texts=users, n_turns=len(users),
                               n_tool_calls=len(calls), n_tokens=n_tokens)


@pytest.fixture
def small():
    # Usage A=3, B=2, C=0, D=0; tool sets {A,B}, {A}, {A,B}, {}.
    convs = [summary(["A", "B"], ["the cat the dog"], 10), summary(["A"], ["The cat"], 20),
             summary(["A", "B"], ["a b c", "d"], 30), summary([], ["x"], 100)]
    return diversity_report(convs, TOOLS)


# ---- figures, one by one ---------------------------------------------------------------------

def test_entropy_of_uniform_and_skewed_distributions():
    assert shannon_entropy([5, 5, 5, 5]) == pytest.approx(2.0)
    assert shannon_entropy([3, 1]) == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    assert shannon_entropy([3, 1]) == pytest.approx(0.811278, abs=1e-6)
    assert shannon_entropy([7, 0, 0]) == 0.0
    assert shannon_entropy([]) == 0.0


def test_distinct_n_counts_ngrams_within_each_text():
    texts = ["the cat the dog", "The cat"]
    # unigrams the,cat,the,dog,the,cat: 3 of 6; bigrams the-cat,cat-the,the-dog,the-cat: 3 of 4;
    # trigrams the-cat-the,cat-the-dog: 2 of 2 (none across the two texts).
    assert distinct_n(texts, 1) == pytest.approx(0.5)
    assert distinct_n(texts, 2) == pytest.approx(0.75)
    assert distinct_n(texts, 3) == pytest.approx(1.0)
    assert distinct_n(["one"], 2) == 0.0


def test_tool_set_dissimilarity_exact():
    # Pairs: {A,B}-{A} .5, {A,B}-{A,B} 0, {A,B}-{} 1, {A}-{A,B} .5, {A}-{} 1, {A,B}-{} 1 -> 4/6.
    value, exact = tool_set_dissimilarity([{"A", "B"}, {"A"}, {"A", "B"}, set()])
    assert exact and value == pytest.approx(4 / 6)
    assert tool_set_dissimilarity([{"A"}, {"A"}]) == (0.0, True)
    assert tool_set_dissimilarity([{"A"}, {"B"}]) == (1.0, True)
    assert tool_set_dissimilarity([{"A"}]) == (0.0, True)


def test_tool_set_dissimilarity_samples_pairs_beyond_the_limit(monkeypatch):
    sets = [{"A", "B"}, {"A"}, {"A", "B"}, set(), {"C"}, {"B", "C"}] * 5
    exact_value, exact = tool_set_dissimilarity(sets)
    assert exact
    monkeypatch.setattr(diversity, "EXACT_PAIR_LIMIT", 2)
    monkeypatch.setattr(diversity, "SAMPLED_PAIRS", 20_000)
    sampled, flag = tool_set_dissimilarity(sets)
    assert not flag
    assert sampled == pytest.approx(exact_value, abs=0.02)
    assert tool_set_dissimilarity(sets) == (sampled, False)  # deterministic


def test_length_stats_interpolate_percentiles():
    s = length_stats([10, 1, 3, 2, 4])
    assert (s.min, s.p50, s.mean, s.p90, s.max) == (1, 3, 4, pytest.approx(7.6), 10)
    assert length_stats([]).max == 0


def test_tool_usage_counts_include_never_used_bundle_tools():
    convs = [summary(["A", "B", "A"]), summary(["Z"])]
    assert tool_usage_counts(convs) == {"A": 2, "B": 1, "Z": 1}
    assert tool_usage_counts(convs, TOOLS) == {"A": 2, "B": 1, "C": 0, "D": 0, "Z": 1}


# ---- the report --------------------------------------------------------------------------------

def test_report_coverage_and_usage(small):
    assert small.conversations == 4 and small.bundle_tools == 4 and small.bundles == ["b"]
    assert small.tool_usage == {"A": 3, "B": 2, "C": 0, "D": 0}
    assert small.coverage == 0.5
    assert small.never_used == ["C", "D"]
    assert small.least_used == [("B", 2), ("A", 3)]
    assert small.tools_outside_bundle == [] and small.tool_calls == 5


def test_report_sequences_entropy_and_dissimilarity(small):
    assert small.distinct_tool_sequences == 3  # (A, B), (A,), ()
    assert small.distinct_tool_sequence_ratio == 0.75
    h = -(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4))
    assert small.entropy_bits == pytest.approx(h, abs=1e-4)
    assert small.normalised_entropy == pytest.approx(h / 2, abs=1e-4)  # log2(4 tools) = 2
    assert small.tool_set_dissimilarity == pytest.approx(4 / 6, abs=1e-4)
    assert small.tool_set_dissimilarity_exact


def test_report_distinct_n_and_lengths(small):
    # User turns: "the cat the dog", "The cat", "a b c", "d", "x": 11 unigrams, 8 distinct;
    # bigrams 3+1+2 = 6, distinct 5 (the-cat twice); trigrams 2+1 = 3, all distinct.
    assert small.distinct_1 == pytest.approx(8 / 11, abs=1e-4)
    assert small.distinct_2 == pytest.approx(5 / 6, abs=1e-4)
    assert small.distinct_3 == 1.0
    assert small.lengths["turns"].max == 2 and small.lengths["turns"].mean == 1.25
    assert (small.lengths["tool_calls"].min, small.lengths["tool_calls"].p50) == (0, 1.5)
    assert (small.lengths["tokens"].p50, small.lengths["tokens"].mean) == (25, 40)
    assert small.histograms == {"turns": {1: 3, 2: 1}, "tool_calls": {0: 1, 1: 1, 2: 2}}


def test_uniform_usage_has_normalised_entropy_one():
    report = diversity_report([summary(["A", "B"]), summary(["C", "D"])], TOOLS)
    assert report.entropy_bits == 2.0 and report.normalised_entropy == 1.0 and report.coverage == 1.0
    assert report.never_used == []


def test_calls_outside_the_bundle_are_reported():
    report = diversity_report([summary(["A", "Z"])], ["A", "B"])
    assert report.tools_outside_bundle == ["Z"]
    assert report.coverage == 0.5 and report.tool_usage == {"A": 1, "B": 0, "Z": 1}


def test_report_over_many_bundles_and_empty_input():
    report = diversity_report([summary(["A"], bundle="x"), summary(["B"], bundle="y")], ["A", "B"])
    assert report.bundles == ["x", "y"]
    empty = diversity_report([], TOOLS)
    assert empty.conversations == 0 and empty.coverage == 0.0 and empty.never_used == TOOLS
    assert empty.distinct_tool_sequence_ratio == 0.0
    json.dumps(empty.to_dict())


def test_to_dict_is_json_able(small):
    d = json.loads(json.dumps(small.to_dict()))
    assert d["least_used"] == [["B", 2], ["A", 3]]
    assert d["lengths"]["tokens"]["max"] == 100
    assert d["histograms"]["tool_calls"] == {"0": 1, "1": 1, "2": 2}


# ---- summaries of DML --------------------------------------------------------------------------

def test_summarize_counts_tokens_of_text_and_json():
    turns = [UserTurn(text="Find Dana's email"), ToolCallTurn(name="SEARCH", arguments={"q": "dana"}),
             ToolResponseTurn(content={"ok": True}), AssistantTurn(text="Found it.")]
    s = summarize("b", turns)
    # 3 user words + '{"name": "SEARCH", "arguments": {"q": "dana"}}' (5) + '{"ok": true}' (2) + 2.
    assert s.n_tokens == 12
    assert (s.tool_calls, s.user_texts, s.n_turns, s.n_tool_calls) == (["SEARCH"], ["Find Dana's email"], 1, 1)


def test_summarize_golden_gmail():
    s = summarize("gmail", parse_dml((FIXTURES / "gmail_search.dml").read_text(encoding="utf-8")).turns)
    assert s.bundle == "gmail"
    assert s.tool_calls == ["GMAIL_FETCH_EMAILS"]
    assert s.user_texts == ["Hey, can you find the latest email from Dana about the Q3 budget?", "Thanks!"]
    assert (s.n_turns, s.n_tool_calls) == (2, 1)
    # Text 13 + 6 + 8 + 1 + 2 words, call JSON 9 pieces, response JSON 9 pieces.
    assert s.n_tokens == 48


def test_summarize_sorts_the_calls_of_a_parallel_call():
    s = summarize("p", parse_dml((FIXTURES / "parallel_calls_with_thoughts.dml").read_text(encoding="utf-8")).turns)
    # Issued at once as GET_CURRENT_USER, TICKETS_LIST, GMAIL_FETCH_EMAILS: no order, so sorted.
    assert s.tool_calls == ["GET_CURRENT_USER", "GMAIL_FETCH_EMAILS", "TICKETS_LIST"]
    assert s.n_tool_calls == 3
    s = summarize("p", parse_dml((FIXTURES / "parallel_calls.dml").read_text(encoding="utf-8")).turns)
    assert s.tool_calls == ["GMAIL_FETCH_EMAILS", "GOOGLECALENDAR_FIND_EVENT", "GOOGLECALENDAR_UPDATE_EVENT",
                            *["GMAIL_SEND_EMAIL"] * 4]


def test_summarize_golden_calendar_with_thoughts():
    s = summarize("cal", parse_dml((FIXTURES / "calendar_with_thoughts.dml").read_text(encoding="utf-8")).turns)
    assert s.tool_calls == ["GOOGLECALENDAR_FIND_EVENT", "GOOGLECALENDAR_UPDATE_EVENT", "GMAIL_SEND_EMAIL"]
    assert (s.n_turns, s.n_tool_calls) == (2, 3)
    assert s.user_texts[0].startswith("Can you move my 1:1 with Priya") and "&" in s.user_texts[0]
    without_thoughts = summarize("cal", [t for t in parse_dml(
        (FIXTURES / "calendar_with_thoughts.dml").read_text(encoding="utf-8")).turns if t.kind != "thought"])
    assert s.n_tokens > without_thoughts.n_tokens  # thoughts are text too


# ---- rendering ---------------------------------------------------------------------------------

def test_render_markdown(small):
    md = render_markdown(small)
    assert md.startswith("| figure | value |\n|---|---|\n")
    assert "| conversations | 4 |" in md
    assert "| tool coverage | 2/4 (0.5) |" in md
    assert "| distinct tool sequences | 3 (0.75) |" in md
    assert "| tokens | 10 | 25 | 40 | 79 | 100 |" in md
    assert "**Never used:** `C`, `D`" in md
    assert "**Least used:** `B` (2), `A` (3)" in md


def test_render_chart_png(small, tmp_path):
    path = render_chart_png(small, tmp_path / "charts" / "diversity.png")
    data = path.read_bytes()
    assert path == tmp_path / "charts" / "diversity.png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 1_000 < len(data) < 200_000
