"""Per-token mask cost of the DML grammars with a serving-size vocabulary (xgrammar).

    python benchmarks/grammar_mask_cost.py [--tokenizer ../shared/tokenizers/bpe200k.json.gz] [--runs 3]
                                           [--only generic|bundles] [--tokens 2000]

Two parts, each feeding a valid DML conversation token by token through a GrammarMatcher and
timing fill_next_token_bitmask for every token. Each token's time is its median over --runs
runs (robust to a run being preempted on a shared machine); mean / p50 / p99 are over tokens.

1. Generic grammar vs the same language spelled with shared rules (one `string`, `value` and
   `text` rule used wherever a string, a value or free text stands: the previous spelling) and
   spelled the slow way (shared rules plus per-character string recursion and free
   whitespace), over the golden conversations: why the grammar is spelled as it is.
2. Per-bundle specialised grammars (`funcdex_assets.dml.specialize.bundle_grammar`, with
   thoughts) for bundles of 5, 50 and 500 tools, against the generic grammar:
   - 5 tools: a subset of the shipped gmail_googlecalendar bundle; the conversation is made by
     the embedded offline backend for exactly those tools;
   - 50 / 500 tools: the shipped catalog's tools cloned under new names (`GMAIL_SEND_EMAIL` ->
     `GMAIL2_SEND_EMAIL`, ...; realistic schemas, distinct names), the gmail_googlecalendar
     tools first; the conversation is offline gmail_googlecalendar conversations with every
     tool name mapped to its first clone;
   - "generic, shared" and "500, shared": the generic grammar and the 500-tool bundle with
     shared rules (one `string`, `value` and `text` rule, as in part 1), to show what writing
     them out buys.
   Conversations are whole offline conversations (arguments put in schema order with
   `schema_order`) concatenated to about --tokens tokens. Mask means are also given per region
   (call arguments, tool responses, free text and tags). Compile time is given cold (a
   compiler with the cache disabled) and cached (the same text compiled again by a compiler
   with the cache enabled, which is what vLLM does for each request of a bundle).

Targets (per token, 2 cores): mean <= 0.3 ms, p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import tempfile
import time
from pathlib import Path

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


# GBNF spellings the fast grammars write out wherever a string, a value or free text stands.
_RUN = '[^"\\\\\\x00-\\x1F]*'
_ESCAPES = f'( "\\\\" escape {_RUN} )*'
# A JSON string in a literal's context: `"\""` + body + `"\""`, the quotes possibly merged
# into neighbouring literals (`"{\""`, `"\": "`); the body ends with the generic grammar's
# written-out escapes or a bundle grammar's `string-escapes`.
_STRING_IN_LITERALS = re.compile(
    re.escape(f'\\"" {_RUN} ') + f"(?:{re.escape(_ESCAPES)}|string-escapes)" + re.escape(' "\\"')
)
_NUMBER = '"-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9] [0-9]* )? ( [eE] [-+]? [0-9] [0-9]* )?'
_SHARED = {
    "string": f'"\\"" {_RUN} {_ESCAPES} "\\""',
    "value": f'object | array | string | {_NUMBER} | "true" | "false" | "null"',
    "text": "[^<]*",
}


def shared_rules(grammar: str) -> str:
    """The same language spelled with shared rules: every written-out JSON string replaced by
    a `string` rule, every written-out JSON value by a `value` rule and every free-text run by
    a `text` rule (the spelling of the generic grammar before its strings, values and texts
    were written out where they are used)."""
    lines = []
    for line in grammar.splitlines():
        name, sep, body = line.partition(" ::= ")
        if not sep or line.startswith("#"):
            continue  # comments go: they describe the written-out spelling
        body = _STRING_IN_LITERALS.sub('" string "', body)
        # Drop the empty literals left where the quotes were literals of their own.
        body = re.sub(r'(?<![^ (|])"" ', "", body)
        body = re.sub(r' ""(?![^ )|])', "", body)
        body = body.replace(f"( {_SHARED['value']} )", "value").replace(" [^<]*", " text")
        lines.append(f"{name} ::= {body}")
    source = "\n".join(lines) + "\n"
    used = {name for name in _SHARED if re.search(rf"(?<![\w-]){name}(?![\w-])", source)}
    if used != set(_SHARED):
        raise SystemExit(f"shared_rules found no written-out {sorted(set(_SHARED) - used)} to share")
    if not re.search(r"(?<![\w-])string-escapes(?![\w-])", source.replace("string-escapes ::=", "")):
        source = re.sub(r"^string-escapes ::= .*\n", "", source, flags=re.MULTILINE)
    return source + "".join(f"{name} ::= {body}\n" for name, body in _SHARED.items())


def slow_spelling(grammar: str) -> str:
    """The same DML language (give or take whitespace after strings) with shared rules and
    llama.cpp json.gbnf-style strings and free whitespace."""
    source = shared_rules(grammar)
    slow_string = 'string ::= "\\"" ( [^"\\\\\\x00-\\x1F] | "\\\\" escape )* "\\"" ws'
    source = re.sub(r"^string ::= .*$", lambda m: slow_string, source, flags=re.MULTILINE)
    return source + "ws ::= [ \\t\\n]*\n"


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


def run_case(info, grammar: str, ids: list[int], runs: int, regions: list[str] | None = None) -> dict[str, float]:
    """Mean / p50 / p99 mask time (ms) over the tokens, each token's time being its median
    over the runs (so a run preempted by another process on a shared machine does not count);
    with `regions` (one label per token) also the mean per region. Compile times (s): cold is
    the median over the runs of a compile with the cache disabled; cached is the median of a
    second compile of the same text by one compiler with the cache enabled."""
    per_run, colds, cached = [], [], []
    caching = xgr.GrammarCompiler(info, max_threads=2, cache_enabled=True)
    caching.compile_grammar(grammar)
    for _ in range(runs):
        start = time.perf_counter()
        compiled = xgr.GrammarCompiler(info, max_threads=2, cache_enabled=False).compile_grammar(grammar)
        colds.append(time.perf_counter() - start)
        start = time.perf_counter()
        caching.compile_grammar(grammar)
        cached.append(time.perf_counter() - start)
        per_run.append(measure(compiled, info, ids))
    per_token = [statistics.median(t) for t in zip(*per_run)]
    times = sorted(per_token)
    result = {
        "mean": statistics.mean(times) * 1e3,
        "p50": times[len(times) // 2] * 1e3,
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1e3,
        "max": times[-1] * 1e3,
        "cold": statistics.median(colds),
        "cached": statistics.median(cached),
    }
    for region in sorted(set(regions or ())):
        selected = [t for t, r in zip(per_token, regions) if r == region]
        result[region] = statistics.mean(selected) * 1e3
    return result


def token_regions(tok, text: str, ids: list[int]) -> list[str]:
    """For each token: "args" (inside a <tool> block), "response" (inside <tool_response>)
    or "text" (free text and tags)."""
    import re

    where = [""] * len(text)
    for tag, label in (("tool", "args"), ("tool_response", "response")):
        for m in re.finditer(rf"<{tag}>\n(.*?)\n</{tag}>", text, flags=re.DOTALL):
            where[m.start(1):m.end(1)] = [label] * (m.end(1) - m.start(1))
    encoded = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    assert encoded["input_ids"] == ids
    return [where[start] or "text" if start < len(text) else "text" for start, _ in encoded["offset_mapping"]]


# ---------------------------------------------------------------------------------------------
# Part 1: generic vs slow spelling


def generic_vs_slow(tok, info, runs: int) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in GOLDEN)
    ids = tok.encode(text, add_special_tokens=False)
    print(f"vocabulary {info.vocab_size:,}; {len(ids)} tokens of golden DML")
    results = {}
    generic = load_grammar(True)
    cases = (("dml_with_thoughts.gbnf", generic), ("shared rules", shared_rules(generic)),
             ("slow spelling", slow_spelling(generic)))
    for label, grammar in cases:
        r = run_case(info, grammar, ids, runs)
        results[label] = r["mean"]
        met = r["mean"] <= TARGET_MEAN_MS and r["p99"] <= TARGET_P99_MS
        print(f"{label:24s} mean {r['mean']:7.3f} ms  p50 {r['p50']:7.3f} ms  "
              f"p99 {r['p99']:7.3f} ms  compile {r['cold']:.2f} s  {'met' if met else 'MISSED'}", flush=True)
    fast = results["dml_with_thoughts.gbnf"]
    print(f"mean ratio to dml_with_thoughts.gbnf: shared rules {results['shared rules'] / fast:.1f}x, "
          f"slow spelling {results['slow spelling'] / fast:.0f}x")


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
    """Whole conversations concatenated (still one valid DML document) to about `budget`
    tokens: each is taken, in order, if it keeps the total within budget + 10%, until the
    total reaches budget - 10%."""
    text, total = "", 0
    for dml in conversations:
        n = len(tok.encode(dml, add_special_tokens=False))
        if total + n <= budget * 1.1:
            text, total = text + dml, total + n
        if total >= budget * 0.9:
            break
    return text, tok.encode(text, add_special_tokens=False)


def rename_calls(dml: str, mapping: dict[str, str]) -> str:
    from funcdex_assets.dml.model import ToolCallTurn
    from funcdex_assets.dml.parser import parse_dml
    from funcdex_assets.dml.renderer import render_dml

    turns = [
        ToolCallTurn(name=mapping[t.name], arguments=t.arguments) if isinstance(t, ToolCallTurn) else t
        for t in parse_dml(dml).turns
    ]
    return render_dml(turns)


def specialised_cases(tok, budget: int) -> list[tuple[str, str, str, str, list[int]]]:
    """(label, grammar, conversation label, text, token ids) for each measured case."""
    from funcdex_assets.catalog.loader import load_catalog
    from funcdex_assets.dml.specialize import bundle_grammar

    catalog = load_catalog(REPO / "tool_catalog")
    bundle_tools = list(catalog.bundle_tools(CONVERSATION_BUNDLE))
    five = [t for t in bundle_tools if t.name in FIVE_TOOLS]
    text5, ids5 = up_to_tokens(tok, offline_conversations(five, "bench5", 40, 11, True), budget)
    convs = offline_conversations(bundle_tools, CONVERSATION_BUNDLE, 40, 12, True)
    generic = load_grammar(True)
    cases = [
        ("generic", generic, "5 tools", text5, ids5),
        ("generic, shared", shared_rules(generic), "5 tools", text5, ids5),
        ("bundle of 5", bundle_grammar(five, True), "5 tools", text5, ids5),
    ]
    for n in (50, 500):
        tools, mapping = cloned_bundle(catalog, bundle_tools, n)
        if n == 50:
            text, ids = up_to_tokens(tok, [rename_calls(c, mapping) for c in convs], budget)
            cases.append(("generic", generic, "clones", text, ids))
        grammar = bundle_grammar(tools, True)
        cases.append((f"bundle of {n}", grammar, "clones", text, ids))
        if n == 500:
            cases.append(("500, shared", shared_rules(grammar), "clones", text, ids))
    return cases


def specialised(tok, info, runs: int, budget: int) -> None:
    cases = specialised_cases(tok, budget)
    print()
    print(f"Specialised bundle grammars (with thoughts), {runs} run(s); per-token medians over the runs; "
          f"targets: mean <= {TARGET_MEAN_MS} ms, p99 <= {TARGET_P99_MS} ms per token")
    print("conversation '5 tools': offline, for the 5 tools; 'clones': offline gmail_googlecalendar "
          "conversations calling the clones; ', shared': the grammar above with shared string, value "
          "and text rules (the previous spelling)")
    header = (f"{'grammar':15s} {'conv':7s} {'tokens':>6s} {'rules':>5s} {'KiB':>6s} {'mean':>6s} {'p50':>6s} "
              f"{'p99':>6s} {'args':>6s} {'resp':>6s} {'text':>6s} {'cold s':>7s} {'cached s':>8s}  target")
    print(header + "\n" + " " * 42 + "(mask times in ms per token; args/resp/text: mean per region)")
    print("-" * len(header))
    for label, grammar, conv, text, ids in cases:
        r = run_case(info, grammar, ids, runs, token_regions(tok, text, ids))
        rules = sum(1 for line in grammar.splitlines() if " ::= " in line and not line.startswith("#"))
        met = r["mean"] <= TARGET_MEAN_MS and r["p99"] <= TARGET_P99_MS
        print(f"{label:15s} {conv:7s} {len(ids):6d} {rules:5d} {len(grammar.encode()) / 1024:6.1f} {r['mean']:6.3f} "
              f"{r['p50']:6.3f} {r['p99']:6.3f} {r['args']:6.3f} {r['response']:6.3f} {r['text']:6.3f} "
              f"{r['cold']:7.2f} {r['cached']:8.4f}  {'met' if met else 'MISSED'}", flush=True)


def load_tokenizer(path: str):
    with tempfile.NamedTemporaryFile(suffix=".json") as fh, gzip.open(path) as packed:
        fh.write(packed.read())
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
