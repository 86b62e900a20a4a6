"""The DML GBNF grammars: they compile with xgrammar, accept what the renderer writes for valid
conversations, reject malformed ones, stay in the GBNF subset llama.cpp also accepts, and keep
the fast spelling (character-class runs, no per-character recursion, strings, values and free
text written out where they are used)."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import pytest
import random_turns

xgr = pytest.importorskip("xgrammar")

from conftest import shared_path  # noqa: E402
from funcdex_assets.dml import grammar as grammar_module  # noqa: E402
from funcdex_assets.dml.grammar import GRAMMAR_DIR, load_grammar  # noqa: E402
from funcdex_assets.dml.parallel import MAX_PARALLEL_CALLS, calls_rule  # noqa: E402
from funcdex_assets.dml.parser import parse_dml  # noqa: E402
from funcdex_assets.dml.renderer import render_dml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "dml"
GOLDEN = sorted(FIXTURES.glob("*.dml"))
BOTH = pytest.mark.parametrize("thoughts", [False, True], ids=["dml", "dml_with_thoughts"])



rt = random_turns


@pytest.fixture(scope="module")
def compiled():
    """Both grammars compiled for string matching (no vocabulary needed)."""
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo([]), cache_enabled=False)
    return {thoughts: compiler.compile_grammar(load_grammar(thoughts)) for thoughts in (False, True)}


def accepts(compiled, thoughts: bool, text: str) -> bool:
    """The whole text is in the grammar's language (a complete conversation, not a prefix)."""
    matcher = xgr.GrammarMatcher(compiled[thoughts], terminate_without_stop_token=True)
    return matcher.accept_string(text) and matcher.is_completed()


def accepts_prefix(compiled, thoughts: bool, text: str) -> bool:
    matcher = xgr.GrammarMatcher(compiled[thoughts], terminate_without_stop_token=True)
    return matcher.accept_string(text)


# ---------------------------------------------------------------------------------------------
# Files and loading


def test_grammar_dir_is_the_repository_folder():
    assert GRAMMAR_DIR == REPO / "grammars"
    assert (GRAMMAR_DIR / "dml.gbnf").is_file()
    assert (GRAMMAR_DIR / "dml_with_thoughts.gbnf").is_file()


@BOTH
def test_load_grammar_returns_the_file(thoughts):
    name = "dml_with_thoughts.gbnf" if thoughts else "dml.gbnf"
    assert load_grammar(thoughts) == (GRAMMAR_DIR / name).read_text(encoding="utf-8")
    assert ('"</think> "' in load_grammar(thoughts)) == thoughts


def test_load_grammar_missing_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(grammar_module, "GRAMMAR_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"DML grammar not found: .*dml\.gbnf"):
        grammar_module.load_grammar(False)


@BOTH
def test_grammar_compiles_with_xgrammar(thoughts):
    grammar = xgr.Grammar.from_ebnf(load_grammar(thoughts))
    assert "root ::=" in str(grammar)


# ---------------------------------------------------------------------------------------------
# Acceptance


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_conversations_are_accepted(compiled, path: Path):
    text = path.read_text(encoding="utf-8")
    has_thoughts = "</think> " in text
    assert accepts(compiled, True, text)
    assert accepts(compiled, False, text) == (not has_thoughts)


def test_golden_conversations_concatenated_are_accepted(compiled):
    # (user agent)+ : conversations one after another are one longer conversation.
    text = "".join(p.read_text(encoding="utf-8") for p in GOLDEN)
    assert accepts(compiled, True, text)


@BOTH
@pytest.mark.parametrize("seed", range(3))
def test_everything_the_renderer_writes_for_valid_conversations_is_accepted(compiled, thoughts, seed):
    rng = random.Random(seed * 2 + thoughts)
    for _ in range(150):
        turns = rt.random_conversation(rng, thoughts=thoughts)
        text = render_dml(turns)
        assert accepts(compiled, thoughts, text), text
        assert len(parse_dml(text).turns) == len(turns)


CALL = '<tool>\n{"name": "GMAIL_FETCH_EMAILS", "arguments": {"query": "q", "max_results": 5}}\n</tool>\n'
RESPONSE = '<tool_response>\n{"successful": true, "data": {}}\n</tool_response>\n'
U = "</user> hi\n"
A = "</assistant> ok\n"
T = "</think> hmm\n"


def test_minimal_shapes_are_accepted(compiled):
    for thoughts in (False, True):
        assert accepts(compiled, thoughts, U + A)
        assert accepts(compiled, thoughts, U + CALL + RESPONSE + A)
        assert accepts(compiled, thoughts, U + A + CALL + RESPONSE + CALL + RESPONSE + A + U + A)
        assert accepts(compiled, thoughts, "</user> \n</assistant> \n")  # empty texts
        assert accepts(compiled, thoughts, "</user> a\n</assistant> b")  # no final newline
        # Blank lines after free text are part of that text.
        assert accepts(compiled, thoughts, "</user> a\n\n\n</assistant> b\n\n")
    assert accepts(compiled, True, U + T + CALL + RESPONSE + T + A + CALL + RESPONSE + T + A)


def calls(i: int) -> str:
    """A distinct tool call (the i-th of a group)."""
    return f'<tool>\n{{"name": "T{i}", "arguments": {{"n": {i}}}}}\n</tool>\n'


def responses(n: int) -> str:
    return "".join(f'<tool_response>\n{{"n": {i}}}\n</tool_response>\n' for i in range(n))


def group(width: int, answered: int | None = None) -> str:
    """`width` calls then `answered` (default: as many) responses."""
    return "".join(calls(i) for i in range(width)) + responses(width if answered is None else answered)


@pytest.mark.parametrize("width", range(1, MAX_PARALLEL_CALLS + 1))
def test_parallel_calls_up_to_the_maximum_are_accepted(compiled, width):
    for thoughts in (False, True):
        assert accepts(compiled, thoughts, U + group(width) + A)
        assert accepts(compiled, thoughts, U + A + group(width) + group(1) + group(width) + A + U + A)
    assert accepts(compiled, True, U + T + group(width) + T + A)
    assert accepts(compiled, True, U + T + A + group(width) + A)


@BOTH
@pytest.mark.parametrize(
    ("width", "answered"),
    [(w, r) for w in range(1, MAX_PARALLEL_CALLS + 3) for r in range(MAX_PARALLEL_CALLS + 3)
     if w != r or w > MAX_PARALLEL_CALLS],
)
def test_parallel_calls_need_exactly_as_many_responses_and_at_most_the_maximum(compiled, thoughts, width, answered):
    assert not accepts(compiled, thoughts, U + group(width, answered) + A)


def test_nothing_stands_between_the_calls_of_a_group(compiled):
    for between in (A, T, U):
        text = U + calls(0) + between + calls(1) + responses(2) + A
        assert not accepts(compiled, True, text)
    # Nor between its responses.
    assert not accepts(compiled, True, U + calls(0) + calls(1) + responses(1) + A + responses(1) + A)
    assert not accepts(compiled, True, U + calls(0) + calls(1) + responses(1) + T + responses(1) + A)


REJECTED = [
    pytest.param(U + CALL + A, id="call-without-response"),
    pytest.param(U + CALL + U + A, id="user-right-after-call"),
    pytest.param(U + CALL + CALL + RESPONSE + A, id="parallel-call-one-response"),
    pytest.param(U + CALL + RESPONSE + RESPONSE + A, id="two-responses-to-one-call"),
    pytest.param(U + group(MAX_PARALLEL_CALLS + 1) + A, id="too-many-parallel-calls"),
    pytest.param(U + CALL + A + CALL + RESPONSE + RESPONSE + A, id="text-between-grouped-calls"),
    pytest.param(U + RESPONSE + A, id="response-without-call"),
    pytest.param(U + CALL + RESPONSE + U + A, id="user-after-response"),
    pytest.param(U + U + A, id="user-after-user"),
    pytest.param(A + U + A, id="starts-with-assistant"),
    pytest.param(CALL + RESPONSE + A, id="starts-with-call"),
    pytest.param(U + "<tool_result>\n{}\n</tool_result>\n" + A, id="unknown-tag"),
    pytest.param(U + '<tool_response>\n{"a":1}\n</tool_response>\n' + A, id="missing-space-after-colon"),
    pytest.param(U + CALL + '<tool_response>\n{"a": 1,"b": 2}\n</tool_response>\n' + A, id="missing-space-after-comma"),
    pytest.param(U + CALL + '<tool_response>\n{ "a": 1}\n</tool_response>\n' + A, id="space-inside-brace"),
    pytest.param(U + CALL + '<tool_response>\n{"a": 1}\n\n</tool_response>\n' + A, id="blank-line-in-block"),
    pytest.param(U + '<tool>\n{\n  "name": "X",\n  "arguments": {}\n}\n</tool>\n' + RESPONSE + A, id="pretty-printed-json"),
    pytest.param(U + '<tool>\n{"arguments": {}, "name": "X"}\n</tool>\n' + RESPONSE + A, id="call-keys-swapped"),
    pytest.param(U + '<tool>\n{"name": "X", "arguments": {}, "id": 1}\n</tool>\n' + RESPONSE + A, id="call-extra-key"),
    pytest.param(U + '<tool>\n{"name": 1, "arguments": {}}\n</tool>\n' + RESPONSE + A, id="call-name-not-string"),
    pytest.param(U + '<tool>\n{"name": "X", "arguments": []}\n</tool>\n' + RESPONSE + A, id="arguments-not-object"),
    pytest.param(U + CALL + "<tool_response>\nNaN\n</tool_response>\n" + A, id="nan"),
    pytest.param(U + CALL + "<tool_response>\n01\n</tool_response>\n" + A, id="leading-zero"),
    pytest.param(U + CALL + "<tool_response>\n[1, 2, ]\n</tool_response>\n" + A, id="trailing-comma"),
    pytest.param(U + CALL + "<tool_response>\n{'a': 1}\n</tool_response>\n" + A, id="single-quotes"),
    pytest.param(U + CALL + '<tool_response>\n"a\tb"\n</tool_response>\n' + A, id="raw-control-char-in-string"),
    pytest.param(U + CALL + '<tool_response>\n"\\x41"\n</tool_response>\n' + A, id="bad-string-escape"),
    pytest.param("</user> is x < 5?\n" + A, id="raw-less-than-in-text"),
    pytest.param("</user>hi\n" + A, id="no-space-after-tag"),
    pytest.param("\n" + U + A, id="leading-newline"),
    pytest.param("", id="empty"),
    pytest.param(U, id="ends-with-user"),
    pytest.param(U + CALL + RESPONSE, id="ends-with-response"),
    pytest.param(U + CALL, id="ends-with-call"),
]


@BOTH
@pytest.mark.parametrize("text", REJECTED)
def test_malformed_conversations_are_rejected(compiled, thoughts, text):
    assert not accepts(compiled, thoughts, text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(U + T + U + A, id="thought-then-user"),
        pytest.param(U + T + RESPONSE + A, id="thought-then-response"),
        pytest.param(U + A + T + A, id="thought-after-assistant-text"),
        pytest.param(U + T + T + A, id="two-thoughts"),
        pytest.param(U + A + T, id="ends-with-thought"),
        pytest.param(T + U + A, id="starts-with-thought"),
    ],
)
def test_thought_order_is_enforced(compiled, text):
    assert not accepts(compiled, True, text)


def test_without_thoughts_grammar_rejects_think_tag(compiled):
    assert not accepts_prefix(compiled, False, U + T)
    assert accepts_prefix(compiled, True, U + T)


def test_truncated_conversations_are_prefixes_but_not_complete(compiled):
    text = (FIXTURES / "gmail_search.dml").read_text(encoding="utf-8")
    end_of_call = text.index("</tool>\n") + len("</tool>\n")
    for cut in (10, end_of_call - 3, end_of_call, len(text) - len("</assistant> You're welcome.\n")):
        assert accepts_prefix(compiled, False, text[:cut])
        assert not accepts(compiled, False, text[:cut])


# ---------------------------------------------------------------------------------------------
# Token-level matching (the path a serving engine takes): single-byte vocabulary plus EOS


@pytest.fixture(scope="module")
def byte_tokenizer():
    vocab = [bytes([i]) for i in range(256)] + [b"</s>"]
    info = xgr.TokenizerInfo(vocab, xgr.VocabType.RAW, stop_token_ids=[256])
    return info


def _allowed(bitmask, vocab_size: int) -> set[int]:
    words = bitmask[0].tolist()
    return {i for i in range(vocab_size) if (words[i // 32] >> (i % 32)) & 1}


@BOTH
def test_token_masks_allow_every_byte_of_golden_conversations(byte_tokenizer, thoughts):
    compiled = xgr.GrammarCompiler(byte_tokenizer).compile_grammar(load_grammar(thoughts))
    eos = 256
    for path in GOLDEN:
        text = path.read_text(encoding="utf-8")
        if "</think> " in text and not thoughts:
            continue
        matcher = xgr.GrammarMatcher(compiled)
        bitmask = xgr.allocate_token_bitmask(1, byte_tokenizer.vocab_size)
        for index, byte in enumerate(text.encode("utf-8")):
            matcher.fill_next_token_bitmask(bitmask)
            assert byte in _allowed(bitmask, byte_tokenizer.vocab_size), (path.name, index)
            assert matcher.accept_token(byte)
        matcher.fill_next_token_bitmask(bitmask)
        allowed = _allowed(bitmask, byte_tokenizer.vocab_size)
        assert eos in allowed and ord("<") in allowed
        assert matcher.accept_token(eos)
        assert matcher.is_terminated()


def test_token_mask_after_a_call_allows_only_another_call_or_the_response(byte_tokenizer):
    compiled = xgr.GrammarCompiler(byte_tokenizer).compile_grammar(load_grammar(True))
    bitmask = xgr.allocate_token_bitmask(1, byte_tokenizer.vocab_size)
    for width in range(1, MAX_PARALLEL_CALLS + 1):
        matcher = xgr.GrammarMatcher(compiled)
        assert matcher.accept_string(U + "".join(calls(i) for i in range(width)))
        matcher.fill_next_token_bitmask(bitmask)
        assert _allowed(bitmask, byte_tokenizer.vocab_size) == {ord("<")}
        assert matcher.accept_string("<")
        matcher.fill_next_token_bitmask(bitmask)
        assert _allowed(bitmask, byte_tokenizer.vocab_size) == {ord("t")}  # <tool> or <tool_response>, not </
        assert matcher.accept_string("tool")
        matcher.fill_next_token_bitmask(bitmask)
        # After the maximum, only the responses: `_` of <tool_response>, never `>` of <tool>.
        more = {ord(">")} if width < MAX_PARALLEL_CALLS else set()
        assert _allowed(bitmask, byte_tokenizer.vocab_size) == {ord("_")} | more
        # Once the responses start, only responses until all are given, then no response more.
        assert matcher.accept_string("_response>\n{}\n</tool_response>\n")
        for _ in range(width - 1):
            matcher.fill_next_token_bitmask(bitmask)
            assert _allowed(bitmask, byte_tokenizer.vocab_size) == {ord("<")}
            assert matcher.accept_string("<")
            matcher.fill_next_token_bitmask(bitmask)
            assert _allowed(bitmask, byte_tokenizer.vocab_size) == {ord("t")}
            assert matcher.accept_string("tool_response>\n{}\n</tool_response>\n")
        assert not matcher.accept_string("<tool_response>")


# ---------------------------------------------------------------------------------------------
# Spelling lints

# GBNF lexemes: string literals, character classes, comments.
_LEXEME_RE = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|#[^\n]*')


def _skeleton(source: str) -> str:
    """The grammar with comments removed and string literals replaced by "" (classes kept)."""

    def sub(m: re.Match) -> str:
        lexeme = m.group(0)
        if lexeme.startswith("#"):
            return ""
        if lexeme.startswith('"'):
            return '""'
        return lexeme

    return _LEXEME_RE.sub(sub, source)


_CLASS = r"\[(?:\\.|[^\]\\])*\]"


def per_character_patterns(source: str) -> list[str]:
    """Spellings that make the matcher expand one rule per character (slow masks)."""
    skeleton = _skeleton(source)
    problems = []
    # ( [^"\\] | escape )* and ( escape | [^"\\] )*: a class as one alternative of a group.
    for m in re.finditer(rf"\(\s*{_CLASS}\s*\||\|\s*{_CLASS}\s*\)", skeleton):
        problems.append(f"class alternated in a group: {m.group(0)!r}")
    # [0-9]+ (xgrammar expands '+' on a class into per-character recursion; write [0-9] [0-9]*).
    for m in re.finditer(rf"{_CLASS}\s*\+", skeleton):
        problems.append(f"'+' on a class: {m.group(0)!r}")
    # ( [^<] )* : a class alone in a repeated group.
    for m in re.finditer(rf"\(\s*{_CLASS}\s*\)\s*[*+]", skeleton):
        problems.append(f"class in a repeated group: {m.group(0)!r}")
    # char ::= [^"\\] | ...  used as char* : a rule with a bare-class alternative, repeated.
    rules = dict(re.findall(r"^([A-Za-z0-9_-]+)\s*::=\s*(.*)$", skeleton, flags=re.M))
    for name, body in rules.items():
        alternatives = [alt.strip() for alt in body.split("|")]
        if any(re.fullmatch(_CLASS, alt) for alt in alternatives) and re.search(
            rf"(?<![A-Za-z0-9_-]){re.escape(name)}\s*[*+]", skeleton
        ):
            problems.append(f"rule {name!r} matches one character and is repeated")
    # Optional whitespace: a ws rule or a repeated whitespace-only class.
    for m in re.finditer(r"\[(?:\s|\\[tnr])+\]\s*[*+?]", skeleton):
        problems.append(f"optional whitespace: {m.group(0)!r}")
    if re.search(r"^ws\s*::=", skeleton, flags=re.M):
        problems.append("a ws rule")
    return problems


def normalized_recursion(source: str) -> list[str]:
    """Rules in xgrammar's normalised form that consume one character per recursion step:
    `r ::= ... ([class] r)` or `r ::= ... (c r)` where c is a one-character rule."""
    rules = {}
    for line in str(xgr.Grammar.from_ebnf(source)).splitlines():
        if " ::= " in line:
            name, body = line.split(" ::= ", 1)
            rules[name] = body
    one_char = {
        name for name, body in rules.items() if re.search(rf"(?:^\(|\| )\({_CLASS}\)", body)
    }
    problems = []
    for name, body in rules.items():
        step = "|".join([_CLASS] + [re.escape(n) for n in one_char])
        if re.search(rf"\((?:{step}) {re.escape(name)}\)", body):
            problems.append(f"{name} ::= {body}")
    return problems


SLOW_SPELLINGS = [
    'root ::= "\\"" ( [^"\\\\] | "\\\\" esc )* "\\""\nesc ::= ["\\\\nt]\n',
    'root ::= "\\"" ( esc | [^"\\\\] )* "\\""\nesc ::= "\\\\" ["nt]\n',
    'root ::= "\\"" char* "\\""\nchar ::= [^"\\\\] | "\\\\" ["nt]\n',
    'root ::= "-"? [0-9]+\n',
    'root ::= ( [^<] )*\n',
    'root ::= "{" ws "}"\nws ::= [ \\t\\n]*\n',
]


@pytest.mark.parametrize("source", SLOW_SPELLINGS)
def test_lints_catch_slow_spellings(source):
    assert per_character_patterns(source), source
    if "ws" not in source:
        assert normalized_recursion(source), source


@BOTH
def test_grammar_has_no_per_character_recursion(thoughts):
    source = load_grammar(thoughts)
    assert per_character_patterns(source) == []
    assert normalized_recursion(source) == []


# The fast spellings, as GBNF text: a JSON string body (runs between escapes) and any JSON
# value, written out wherever a string or a value stands.
RUN = r'[^"\\\x00-\x1F]*'
STRING_BODY = RUN + r' ( "\\" escape ' + RUN + " )*"
NUMBER = r'"-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9] [0-9]* )? ( [eE] [-+]? [0-9] [0-9]* )?'
VALUE = rf'( object | array | "\"" {STRING_BODY} "\"" | {NUMBER} | "true" | "false" | "null" )'


@BOTH
def test_grammar_uses_the_fast_spellings(thoughts):
    source = load_grammar(thoughts)
    rules = dict(re.findall(r"^([A-Za-z0-9-]+) ::= (.*)$", source, flags=re.MULTILINE))
    # Free text: one run, written out in each text turn's rule.
    assert rules["user"] == '"</user> " [^<]*'
    assert rules["say"] == '"</assistant> " [^<]*'
    assert rules.get("thought") == ('"</think> " [^<]*' if thoughts else None)
    # Strings and values written out where they stand; objects and arrays right-recursive.
    assert rules["tool-call"] == (
        rf'"<tool>\n{{\"name\": \"" {STRING_BODY} "\", \"arguments\": " object "}}\n</tool>\n"'
    )
    assert rules["tool-response"] == rf'"<tool_response>\n" {VALUE} "\n</tool_response>\n"'
    assert rules["object"] == rf'"{{}}" | "{{\"" {STRING_BODY} "\": " {VALUE} object-rest'
    assert rules["object-rest"] == rf'"}}" | ", \"" {STRING_BODY} "\": " {VALUE} object-rest'
    assert rules["array"] == rf'"[]" | "[" {VALUE} array-rest'
    assert rules["array-rest"] == rf'"]" | ", " {VALUE} array-rest'
    # Every string run is a whole string body (runs between escapes).
    assert source.count(RUN) == 2 * source.count(STRING_BODY) == 2 * 8
    # No rule for a string, a value or free text shared between places: the only rules
    # referenced more than once are whole turns (`agent` names say / thought twice, `calls`
    # tool-call / tool-response once per width), the JSON containers (which end in their own
    # literal bracket) and the fixed-length escape.
    skeleton = _skeleton(_strip_comments(source))
    uses = {name: len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", skeleton)) - 1 for name in rules}
    # `calls` names tool-call and tool-response once per width, but both end in their own
    # literal closing tag, so no run inside them needs what follows.
    shared = {"say", "tool-call", "tool-response", "object", "object-rest", "array", "array-rest", "escape"} | (
        {"thought"} if thoughts else set())
    assert {name for name, n in uses.items() if n > 1} == shared
    assert not {"text", "string", "value", "number"} & set(rules)
    assert '", "' in source and '": "' in source


@BOTH
def test_grammar_is_in_the_llama_cpp_subset(thoughts):
    """Rule names of letters, digits and '-'; one rule per line (llama.cpp ends a top-level
    rule at a newline); no {m,n}; only the escapes llama.cpp parses; every rule defined."""
    source = load_grammar(thoughts)
    defined = []
    for raw_line in source.splitlines():
        line = _skeleton(raw_line).strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_-]+) ::= (.+)", line)
        assert m, f"not a one-line rule: {raw_line!r}"
        assert re.fullmatch(r"[a-zA-Z0-9-]+", m.group(1)), f"rule name {m.group(1)!r}"
        defined.append(m.group(1))
        body = m.group(2)
        assert "{" not in body and "}" not in body, f"{{m,n}} repetition in {raw_line!r}"
        referenced = re.findall(r"[A-Za-z][A-Za-z0-9_-]*", re.sub(_CLASS, "", body))
        for name in referenced:
            assert name in re.findall(r"^([a-zA-Z0-9-]+) ::=", source, flags=re.M), name
    assert "root" in defined and len(defined) == len(set(defined))
    for lexeme in re.findall(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]', _strip_comments(source)):
        for escape in re.findall(r"\\(x..|.)", lexeme):
            assert escape in {"n", "t", "r", "\\", '"', "[", "]"} or re.fullmatch(
                r"x[0-9A-Fa-f]{2}", escape
            ), f"escape \\{escape} in {lexeme}"


def _strip_comments(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def test_grammars_differ_only_in_thoughts():
    plain = {l for l in _strip_comments(load_grammar(False)).splitlines() if l.strip()}
    with_thoughts = {l for l in _strip_comments(load_grammar(True)).splitlines() if l.strip()}
    assert plain - with_thoughts == {"agent ::= ( say? calls )* say"}
    assert with_thoughts - plain == {
        "agent ::= ( thought? say? calls )* thought? say",
        'thought ::= "</think> " [^<]*',
    }


@BOTH
def test_calls_rule_is_generated_from_the_maximum(thoughts):
    """The files' `calls` rule is `calls_rule(MAX_PARALLEL_CALLS)`, prefix-factored: no
    alternative starts like another, so each position has one way to continue."""
    lines = [l for l in load_grammar(thoughts).splitlines() if l.startswith("calls ::= ")]
    assert lines == [calls_rule(MAX_PARALLEL_CALLS)]
    assert calls_rule(1) == "calls ::= tool-call tool-response"
    assert calls_rule(3) == (
        "calls ::= tool-call ( tool-response | tool-call ( tool-response tool-response"
        " | tool-call tool-response tool-response tool-response ) )"
    )
    with pytest.raises(ValueError):
        calls_rule(0)


# ---------------------------------------------------------------------------------------------
# A serving-size vocabulary (needs ../shared/tokenizers). Mask *cost* is measured by
# benchmarks/grammar_mask_cost.py, never asserted here.


def test_golden_conversations_are_accepted_token_by_token_with_a_200k_vocabulary(tmp_path):
    source = shared_path("tokenizers", "bpe200k.json.gz")
    transformers = pytest.importorskip("transformers")
    tokenizer_file = tmp_path / "bpe200k.json"
    tokenizer_file.write_bytes(gzip.open(source).read())
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file), eos_token="<|endoftext|>"
    )
    info = xgr.TokenizerInfo.from_huggingface(tokenizer)
    compiled = xgr.GrammarCompiler(info, max_threads=2).compile_grammar(load_grammar(True))
    bitmask = xgr.allocate_token_bitmask(1, info.vocab_size)
    for path in GOLDEN:
        matcher = xgr.GrammarMatcher(compiled)
        for token in tokenizer.encode(path.read_text(encoding="utf-8"), add_special_tokens=False):
            matcher.fill_next_token_bitmask(bitmask)
            assert matcher.accept_token(token), f"{path.name}: token {token!r} rejected"
