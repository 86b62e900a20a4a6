"""Per-token mask cost of the DML grammars with a serving-size vocabulary (xgrammar).

    python benchmarks/grammar_mask_cost.py [--tokenizer ../shared/tokenizers/bpe200k.json.gz] [--runs 3]

Feeds the golden DML conversations token by token through a GrammarMatcher, timing
fill_next_token_bitmask for every token, and compares with the same language spelled the slow
way (per-character string recursion, free whitespace) to show why the grammar is spelled as it is.
Prints mean / p50 / p99 per token and the compile time; medians over --runs runs.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

import xgrammar as xgr
from transformers import PreTrainedTokenizerFast

from funcdex_assets.dml.grammar import load_grammar

REPO = Path(__file__).resolve().parents[1]
GOLDEN = sorted((REPO / "tests" / "fixtures" / "dml").glob("*.dml"))


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", default=str(REPO.parent / "shared" / "tokenizers" / "bpe200k.json.gz"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        fh.write(gzip.open(args.tokenizer).read())
        fh.flush()
        tok = PreTrainedTokenizerFast(tokenizer_file=fh.name, eos_token="<|endoftext|>")
    info = xgr.TokenizerInfo.from_huggingface(tok)
    text = "".join(p.read_text(encoding="utf-8") for p in GOLDEN)
    ids = tok.encode(text, add_special_tokens=False)
    print(f"vocabulary {info.vocab_size:,}; {len(ids)} tokens of golden DML")
    results = {}
    for label, grammar in (("dml_with_thoughts.gbnf", load_grammar(True)), ("slow spelling", slow_spelling(load_grammar(True)))):
        means, p50s, p99s, compiles = [], [], [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            compiled = xgr.GrammarCompiler(info, max_threads=2, cache_enabled=False).compile_grammar(grammar)
            compiles.append(time.perf_counter() - start)
            times = sorted(measure(compiled, info, ids))
            means.append(statistics.mean(times))
            p50s.append(times[len(times) // 2])
            p99s.append(times[int(len(times) * 0.99)])
        results[label] = statistics.median(means)
        print(f"{label:24s} mean {statistics.median(means) * 1e3:7.3f} ms  p50 {statistics.median(p50s) * 1e3:7.3f} ms  "
              f"p99 {statistics.median(p99s) * 1e3:7.3f} ms  compile {statistics.median(compiles):.2f} s")
    print(f"slow / fast mean ratio: {results['slow spelling'] / results['dml_with_thoughts.gbnf']:.0f}x")


if __name__ == "__main__":
    main()
