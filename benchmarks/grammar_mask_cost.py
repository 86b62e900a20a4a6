"""Per-token mask cost of the DML grammars with a serving-size vocabulary (xgrammar).

    python benchmarks/grammar_mask_cost.py [--tokenizer ../shared/tokenizers/bpe200k.json.gz] [--runs 3]
                                           [--only generic|bundles] [--tokens 2000]

Two parts, each feeding a valid DML conversation token by token through a GrammarMatcher and
timing fill_next_token_bitmask for every token; mean / p50 / p99 per token and compile times
are medians over --runs runs.

1. Generic grammar vs the same language spelled the slow way (per-character string recursion,
   free whitespace), over the golden conversations: why the grammar is spelled as it is.
2. Per-bundle specialised grammars (`funcdex_assets.dml.specialize.bundle_grammar`, with
   thoughts) for bundles of 5, 50 and 500 tools, against the generic grammar:
   - 5 tools: a subset of the shipped gmail_googlecalendar bundle; the conversation is made by
     the embedded offline backend for exactly those tools;
   - 50 / 500 tools: the shipped catalog's tools cloned under new names (`GMAIL_SEND_EMAIL` ->
     `GMAIL2_SEND_EMAIL`, ...; realistic schemas, distinct names), the gmail_googlecalendar
     tools first; the conversation is offline conversations for gmail_googlecalendar with every
     tool name mapped to its first clone.
   Conversations are whole offline conversations (arguments put in schema order with
   `schema_order`) concatenated up to --tokens tokens. Compile time is given cold (a compiler
   with the cache disabled) and cached (the same text compiled a second time by a compiler
   with the cache enabled, which is what vLLM does for each request of a bundle).

Targets (per token, 2 cores): mean <= 0.3 ms, p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import xgrammar as xgr
from transformers import PreTrainedTokenizerFast

from funcdex_assets.dml.grammar import load_grammar

REPO = Path(__file__).resolve().parents[1]
GOLDEN = sorted((REPO / "tests" / "fixtures" / "dml").glob("*.dml"))

TARGET_MEAN_MS = 0.3
TARGET_P99_MS = 1.0

CONVERSATION_BUNDLE = "gmail_googlecalendar"
FIVE_TOOLS = (
    "GMAIL_FETCH_EMAILS",
    "GMAIL_REPLY_TO_THREAD",
    "GMAIL_SEND_EMAIL",
    "GOOGLECALENDAR_CREATE_EVENT",
    "GOOGLECALENDAR_FIND_FREE_SLOTS",
)


def slow_spelling(grammar: str) -> str:
    """The same DML language with llama.cpp json.gbnf-style strings and free whitespace."""
    lines = []
    for line in grammar.splitlines():
        if line.startswith("string ::="):
            line = 'string ::= "\\"" ( [^"\\\\\\x00-\\x1F] | "\\\\" escape )* "\\"" ws'
        lines.append(line)
    lines.append('ws ::= [ \\t\\n]*')
    return "\n".join(lines)


def measure(compiled, info, ids) -> list[float]:
    matcher = xgr.GrammarMatcher(compiled)
    bitmask = xgr.allocate_token_bitmask(1, info.vocab_size)
    times = []
    for token in ids:
        start = time.perf_counter()
        matcher.fill_next_token_bitmask(bitmask)
        times.append(time.perf_counter() - start)
        if not matcher.accept_token(token):
            raise SystemExit(f"grammar rejected token {token}")
    return times


def run_case(info, grammar: str, ids: list[int], runs: int) -> dict[str, float]:
    """Medians over runs of mean / p50 / p99 mask time (ms) and cold / cached compile (s)."""
    means, p50s, p99s, colds, cached = [], [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        compiled = xgr.GrammarCompiler(info, max_threads=2, cache_enabled=False).compile_grammar(grammar)
        colds.append(time.perf_counter() - start)
        caching = xgr.GrammarCompiler(info, max_threads=2, cache_enabled=True)
        caching.compile_grammar(grammar)
        start = time.perf_counter()
        caching.compile_grammar(grammar)
        cached.append(time.perf_counter() - start)
        times = sorted(measure(compiled, info, ids))
        means.append(statistics.mean(times))
        p50s.append(times[len(times) // 2])
        p99s.append(times[int(len(times) * 0.99)])
    return {
        "mean": statistics.median(means) * 1e3,
        "p50": statistics.median(p50s) * 1e3,
        "p99": statistics.median(p99s) * 1e3,
        "cold": statistics.median(colds),
        "cached": statistics.median(cached),
    }


# ---------------------------------------------------------------------------------------------
# Part 1: generic vs slow spelling


def generic_vs_slow(tok, info, runs: int) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in GOLDEN)
    ids = tok.encode(text, add_special_tokens=False)
    print(f"vocabulary {info.vocab_size:,}; {len(ids)} tokens of golden DML")
    results = {}
    for label, grammar in (("dml_with_thoughts.gbnf", load_grammar(True)), ("slow spelling", slow_spelling(load_grammar(True)))):
        r = run_case(info, grammar, ids, runs)
        results[label] = r["mean"]
        print(f"{label:24s} mean {r['mean']:7.3f} ms  p50 {r['p50']:7.3f} ms  "
              f"p99 {r['p99']:7.3f} ms  compile {r['cold']:.2f} s")
    print(f"slow / fast mean ratio: {results['slow spelling'] / results['dml_with_thoughts.gbnf']:.0f}x")


# ---------------------------------------------------------------------------------------------
# Part 2: specialised bundle grammars


def offline_conversations(tools, bundle: str, n: int, seed: int, include_thoughts: bool) -> list[str]:
    """DML of n offline conversations for the tools, arguments in schema order."""
    from funcdex_assets.backends.offline import EmbeddedOfflineBackend
    from funcdex_assets.dml.model import ToolCallTurn
    from funcdex_assets.dml.parser import parse_dml
    from funcdex_assets.dml.renderer import render_dml
    from funcdex_assets.dml.specialize import schema_order
    from funcdex_assets.frames import ok
    from funcdex_assets.stages.generation import (
        combinations_frame,
        conversations_frame,
        outlines_frame,
        personas_frame,
        scenarios_frame,
    )

    tools = list(tools)
    by_name = {t.name: t for t in tools}
    toolkits = sorted({t.toolkit for t in tools})
    backend = EmbeddedOfflineBackend()
    combos = combinations_frame(tools, bundle, n, seed)
    scenarios = scenarios_frame(combos, tools, backend, seed, bundle)
    personas = personas_frame(scenarios, backend, seed, bundle, toolkits)
    outlines = outlines_frame(personas, scenarios, combos, tools, backend, seed, bundle, include_thoughts)
    conversations = conversations_frame(outlines, personas, scenarios, tools, backend, seed, bundle, toolkits)
    out = []
    for row in ok(conversations).iter_rows(named=True):
        turns = [
            ToolCallTurn(name=t.name, arguments=schema_order(t.arguments, by_name[t.name].input_schema))
            if isinstance(t, ToolCallTurn) else t
            for t in parse_dml(row["dml"]).turns
        ]
        out.append(render_dml(turns))
    return out


def clone_name(tool, k: int) -> str:
    """`GMAIL_SEND_EMAIL` -> `GMAIL<k>_SEND_EMAIL` (the toolkit prefix numbered)."""
    prefix = tool.toolkit.upper() + "_"
    if tool.name.startswith(prefix):
        return f"{tool.toolkit.upper()}{k}_{tool.name[len(prefix):]}"
    return f"C{k}_{tool.name}"


def cloned_bundle(catalog, first: list, n: int) -> tuple[list, dict[str, str]]:
    """n tools cloned from the catalog (the `first` tools first), and the map from each
    original name to its first clone's name."""
    firsts = {t.name for t in first}
    base = list(first) + [t for t in catalog.tools if t.name not in firsts]
    tools = []
    for i in range(n):
        tool = base[i % len(base)]
        k = i // len(base) + 2
        tools.append(tool.model_copy(update={"name": clone_name(tool, k)}))
    return tools, {t.name: clone_name(t, 2) for t in base}


def up_to_tokens(tok, conversations: list[str], budget: int) -> tuple[str, list[int]]:
    """Whole conversations concatenated (still one valid DML document) until `budget` tokens."""
    text = ""
    for dml in conversations:
        text += dml
        ids = tok.encode(text, add_special_tokens=False)
        if len(ids) >= budget:
            break
    return text, ids


def rename_calls(dml: str, mapping: dict[str, str]) -> str:
    from funcdex_assets.dml.model import ToolCallTurn
    from funcdex_assets.dml.parser import parse_dml
    from funcdex_assets.dml.renderer import render_dml

    turns = [
        ToolCallTurn(name=mapping[t.name], arguments=t.arguments) if isinstance(t, ToolCallTurn) else t
        for t in parse_dml(dml).turns
    ]
    return render_dml(turns)


def specialised_cases(tok, budget: int) -> list[tuple[str, str, str, list[int], int]]:
    """(label, grammar, conversation label, token ids, tools) for each measured case."""
    from funcdex_assets.catalog.loader import load_catalog
    from funcdex_assets.dml.specialize import bundle_grammar

    catalog = load_catalog(REPO / "tool_catalog")
    bundle_tools = list(catalog.bundle_tools(CONVERSATION_BUNDLE))
    five = [t for t in bundle_tools if t.name in FIVE_TOOLS]
    text5, ids5 = up_to_tokens(tok, offline_conversations(five, "bench5", 40, 11, True), budget)
    convs = offline_conversations(bundle_tools, CONVERSATION_BUNDLE, 40, 12, True)
    cases = [
        ("generic", load_grammar(True), "5-tool conv", ids5, 0),
        ("bundle of 5", bundle_grammar(five, True), "5-tool conv", ids5, 5),
    ]
    text_clones = None
    for n in (50, 500):
        tools, mapping = cloned_bundle(catalog, bundle_tools, n)
        if text_clones is None:
            text_clones, ids_clones = up_to_tokens(tok, [rename_calls(c, mapping) for c in convs], budget)
            cases.append(("generic", load_grammar(True), "cloned conv", ids_clones, 0))
        cases.append((f"bundle of {n}", bundle_grammar(tools, True), "cloned conv", ids_clones, n))
    return cases


def specialised(tok, info, runs: int, budget: int) -> None:
    cases = specialised_cases(tok, budget)
    print()
    print(f"Specialised bundle grammars (with thoughts), {runs} run(s), medians; "
          f"targets: mean <= {TARGET_MEAN_MS} ms, p99 <= {TARGET_P99_MS} ms per token")
    header = (f"{'grammar':14s} {'conversation':13s} {'tokens':>6s} {'rules':>6s} {'KiB':>6s} "
              f"{'mean ms':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'cold s':>7s} {'cached s':>9s}  target")
    print(header)
    print("-" * len(header))
    for label, grammar, conv, ids, _ in cases:
        r = run_case(info, grammar, ids, runs)
        rules = sum(1 for line in grammar.splitlines() if " ::= " in line and not line.startswith("#"))
        met = r["mean"] <= TARGET_MEAN_MS and r["p99"] <= TARGET_P99_MS
        print(f"{label:14s} {conv:13s} {len(ids):6d} {rules:6d} {len(grammar.encode()) / 1024:6.1f} "
              f"{r['mean']:8.3f} {r['p50']:7.3f} {r['p99']:7.3f} {r['cold']:7.2f} {r['cached']:9.4f}  "
              f"{'met' if met else 'MISSED'}")


def load_tokenizer(path: str):
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        fh.write(gzip.open(path).read())
        fh.flush()
        tok = PreTrainedTokenizerFast(tokenizer_file=fh.name, eos_token="<|endoftext|>")
    return tok, xgr.TokenizerInfo.from_huggingface(tok)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", default=str(REPO.parent / "shared" / "tokenizers" / "bpe200k.json.gz"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("generic", "bundles"), default=None)
    parser.add_argument("--tokens", type=int, default=2000, help="conversation length for the bundle cases")
    args = parser.parse_args()
    tok, info = load_tokenizer(args.tokenizer)
    if args.only != "bundles":
        generic_vs_slow(tok, info, args.runs)
    if args.only != "generic":
        specialised(tok, info, args.runs, args.tokens)


if __name__ == "__main__":
    main()
