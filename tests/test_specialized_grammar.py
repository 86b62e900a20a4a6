"""Per-bundle specialised DML grammars (funcdex_assets.dml.specialize): they compile for every
shipped bundle, are byte-identical whatever the tool order, accept what the offline backend
writes (arguments in schema order), are stricter than the generic grammar about tool names
and arguments, speak the generic language everywhere else, and keep the fast spelling.
Mask *cost* is measured by benchmarks/grammar_mask_cost.py, never asserted here."""

from __future__ import annotations

import gzip
import json
import random
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import random_turns

xgr = pytest.importorskip("xgrammar")

from conftest import shared_path  # noqa: E402
from test_grammars import REJECTED, normalized_recursion, per_character_patterns  # noqa: E402

from funcdex_assets.catalog.loader import load_catalog  # noqa: E402
from funcdex_assets.catalog.models import Tool  # noqa: E402
from funcdex_assets.dml.grammar import load_grammar  # noqa: E402
from funcdex_assets.dml.model import ToolCallTurn  # noqa: E402
from funcdex_assets.dml.parallel import MAX_PARALLEL_CALLS  # noqa: E402
from funcdex_assets.dml.parser import parse_dml  # noqa: E402
from funcdex_assets.dml.renderer import render_dml  # noqa: E402
from funcdex_assets.dml.specialize import bundle_grammar, gbnf_literal, schema_order  # noqa: E402
from funcdex_assets.dml.validator import validate_conversation  # noqa: E402
from funcdex_assets.frames import ok  # noqa: E402
from funcdex_assets.sampling.combos import DEFAULT_CHAIN_LENGTH  # noqa: E402
from offline_frames import write_bundle  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(REPO / "tool_catalog")
BUNDLES = [bundle.name for bundle in CATALOG.bundles]
BOTH = pytest.mark.parametrize("thoughts", [False, True], ids=["dml", "dml_with_thoughts"])
FIXTURES = REPO / "tests" / "fixtures" / "dml"



def tools_of(bundle: str) -> list[Tool]:
    return list(CATALOG.bundle_tools(bundle))


_COMPILER = xgr.GrammarCompiler(xgr.TokenizerInfo([]), cache_enabled=False)


@cache
def compiled(source: str):
    """A grammar compiled for string matching (no vocabulary needed)."""
    return _COMPILER.compile_grammar(source)


def accepts(source: str, text: str) -> bool:
    """The whole text is in the grammar's language (a complete conversation, not a prefix)."""
    matcher = xgr.GrammarMatcher(compiled(source), terminate_without_stop_token=True)
    return matcher.accept_string(text) and matcher.is_completed()


@cache
def grammar_of(bundle: str, thoughts: bool) -> str:
    return bundle_grammar(tools_of(bundle), thoughts)


# ---------------------------------------------------------------------------------------------
# Building: every shipped bundle, determinism


@BOTH
@pytest.mark.parametrize("bundle", BUNDLES)
def test_compiles_with_xgrammar_for_every_shipped_bundle(bundle, thoughts):
    source = grammar_of(bundle, thoughts)
    grammar = xgr.Grammar.from_ebnf(source)
    assert "root ::=" in str(grammar)
    compiled(source)
    names = [tool.name for tool in tools_of(bundle)]
    for i, name in enumerate(sorted(names)):
        assert f'\ncall-{i} ::= "\\"{name}\\", \\"arguments\\": " ' in source
    assert ('"</think> "' in source) == thoughts


@pytest.mark.parametrize("bundle", ["gmail_googlecalendar", "googledrive_calendly_googlecalendar", "stripe"])
def test_byte_identical_whatever_the_tool_order(bundle):
    tools = tools_of(bundle)
    expected = bundle_grammar(tools, True)
    for seed in range(5):
        shuffled = list(tools)
        random.Random(seed).shuffle(shuffled)
        assert bundle_grammar(shuffled, True) == expected
        assert bundle_grammar(tuple(reversed(shuffled)), True) == expected
    assert bundle_grammar(tools, False) != expected


def test_a_different_tool_set_is_a_different_grammar():
    tools = tools_of("gmail")
    assert bundle_grammar(tools[1:], False) != bundle_grammar(tools, False)


def test_empty_bundle_and_duplicate_names_are_errors():
    with pytest.raises(ValueError, match="at least one tool"):
        bundle_grammar([], False)
    tool = tools_of("gmail")[0]
    with pytest.raises(ValueError, match="named 'GMAIL_"):
        bundle_grammar([tool, tool.model_copy(update={"description": "other"})], False)


# ---------------------------------------------------------------------------------------------
# Acceptance: what the offline backend writes


def offline_dml(bundle: str, thoughts: bool, n: int = 12, seed: int = 7) -> list[str]:
    conversations = write_bundle(bundle, n, seed, mean_length=DEFAULT_CHAIN_LENGTH, thoughts=thoughts).conversations
    rows = list(ok(conversations).iter_rows(named=True))
    assert len(rows) == n
    return [row["dml"] for row in rows]


def in_schema_order(dml: str, tools: list[Tool]) -> str:
    """The conversation with every call's arguments in schema order (values unchanged)."""
    by_name = {t.name: t for t in tools}
    turns = []
    for turn in parse_dml(dml).turns:
        if isinstance(turn, ToolCallTurn):
            ordered = schema_order(turn.arguments, by_name[turn.name].input_schema)
            assert ordered == turn.arguments
            turn = ToolCallTurn(name=turn.name, arguments=ordered)
        turns.append(turn)
    return render_dml(turns)


OFFLINE_BUNDLES = ["gmail_googlecalendar", "whatsapp_todoist", "stripe"]


@BOTH
@pytest.mark.parametrize("bundle", OFFLINE_BUNDLES)
def test_offline_conversations_are_accepted(bundle, thoughts):
    tools = tools_of(bundle)
    source = grammar_of(bundle, thoughts)
    generic = load_grammar(thoughts)
    unchanged = 0
    for dml in offline_dml(bundle, thoughts):
        assert validate_conversation(parse_dml(dml), {t.name: t for t in tools}, allow_thoughts=thoughts) == []
        ordered = in_schema_order(dml, tools)
        assert accepts(source, ordered), ordered
        assert accepts(generic, ordered)
        # The offline writer puts top-level arguments in schema order, but object-valued
        # arguments come from the outline's plan, stored as JSON with sorted keys, so their
        # keys can be out of schema order: those conversations need `schema_order` first.
        if ordered == dml:
            unchanged += 1
            assert accepts(source, dml)
    assert unchanged > 0


@BOTH
def test_offline_conversations_are_accepted_byte_by_byte_with_token_masks(thoughts):
    """The path an engine takes: a mask before every token (here one byte per token)."""
    vocab = [bytes([i]) for i in range(256)] + [b"</s>"]
    info = xgr.TokenizerInfo(vocab, xgr.VocabType.RAW, stop_token_ids=[256])
    tools = tools_of("gmail_googlecalendar")
    matcher_grammar = xgr.GrammarCompiler(info, cache_enabled=False).compile_grammar(
        grammar_of("gmail_googlecalendar", thoughts)
    )
    bitmask = xgr.allocate_token_bitmask(1, info.vocab_size)
    for index, dml in enumerate(offline_dml("gmail_googlecalendar", thoughts, n=4, seed=3)):
        matcher = xgr.GrammarMatcher(matcher_grammar)
        for position, byte in enumerate(in_schema_order(dml, tools).encode("utf-8")):
            if index == 0:
                matcher.fill_next_token_bitmask(bitmask)
                assert (bitmask[0, byte // 32].item() >> (byte % 32)) & 1, position
            assert matcher.accept_token(byte), (index, position)
        assert matcher.accept_token(256)
        assert matcher.is_terminated()


def test_offline_conversation_token_by_token_with_a_200k_vocabulary(tmp_path):
    source = shared_path("tokenizers", "bpe200k.json.gz")
    transformers = pytest.importorskip("transformers")
    tokenizer_file = tmp_path / "bpe200k.json"
    with gzip.open(source) as fh:
        tokenizer_file.write_bytes(fh.read())
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file), eos_token="<|endoftext|>"
    )
    info = xgr.TokenizerInfo.from_huggingface(tokenizer)
    tools = tools_of("gmail")
    grammar = xgr.GrammarCompiler(info, max_threads=2).compile_grammar(grammar_of("gmail", True))
    bitmask = xgr.allocate_token_bitmask(1, info.vocab_size)
    for dml in offline_dml("gmail", True, n=3, seed=5):
        matcher = xgr.GrammarMatcher(grammar)
        for token in tokenizer.encode(in_schema_order(dml, tools), add_special_tokens=False):
            matcher.fill_next_token_bitmask(bitmask)
            assert matcher.accept_token(token), f"token {token!r} rejected"


# ---------------------------------------------------------------------------------------------
# Strictness: calls the generic grammar accepts and a bundle grammar rejects

U = "</user> hi\n"
A = "</assistant> ok\n"
RESPONSE = '<tool_response>\n{"successful": true, "data": {}}\n</tool_response>\n'


def call(name: str, arguments: Any) -> str:
    return "<tool>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool>\n"


def conversation(name: str, arguments: Any) -> str:
    return U + call(name, arguments) + RESPONSE + A


EVENT = {
    "summary": "Q3 review",
    "start": {"dateTime": "2026-03-14T15:00:00-07:00", "timeZone": "America/Los_Angeles"},
    "end": {"dateTime": "2026-03-14T16:00:00Z"},
    "attendees": [{"email": "dana@acme.io", "optional": True}, {"email": "lee@acme.io"}],
    "visibility": "private",
}
VALID_CALLS = [
    pytest.param("GMAIL_SEND_EMAIL", {"recipient_email": "dana@acme.io", "body": "Hi"}, id="required-only"),
    pytest.param("GMAIL_SEND_EMAIL", {"recipient_email": "d@acme.io", "subject": "Q3", "body": "Line 1\nLine \"2\"",
                                      "cc": ["a@b.co", "c@d.co"], "is_html": False}, id="optional-and-escapes"),
    pytest.param("GMAIL_FETCH_EMAILS", {}, id="all-optional-empty"),
    pytest.param("GMAIL_FETCH_EMAILS", {"max_results": 5}, id="all-optional-middle"),
    pytest.param("GMAIL_FETCH_EMAILS", {"query": "from:dana", "max_results": 10, "user_id": "me"}, id="all-optional-gaps"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", EVENT, id="nested-objects-dates-enum"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {"calendarId": "primary", **EVENT}, id="optional-before-required"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {**EVENT, "start": {"date": "2026-03-14"}, "end": {}}, id="date-and-empty-object"),
    pytest.param("GOOGLECALENDAR_EVENTS_LIST", {"timeMin": "2026-03-14T00:00:00.5Z", "orderBy": "updated"}, id="fraction-seconds"),
]


@pytest.mark.parametrize(("name", "arguments"), VALID_CALLS)
def test_valid_calls_are_accepted(name, arguments):
    tools = {t.name: t for t in tools_of("gmail_googlecalendar")}
    text = conversation(name, arguments)
    assert validate_conversation(parse_dml(text), tools, check_responses=False) == []
    assert accepts(grammar_of("gmail_googlecalendar", False), text)
    assert accepts(grammar_of("gmail_googlecalendar", True), text)


SEND = {"recipient_email": "dana@acme.io", "subject": "Q3", "body": "Hi"}
STRICTER = [
    # (name, arguments, the validator also rejects it)
    pytest.param("GMAIL_SEND_MAIL", SEND, True, id="unknown-tool"),
    pytest.param("SLACK_SEND_MESSAGE", {"channel": "x", "text": "y"}, True, id="tool-of-another-bundle"),
    pytest.param("GMAIL_SEND_EMAIL", {"recipient_email": "dana@acme.io", "subject": "Q3"}, True, id="missing-required"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {**EVENT, "visibility": "secret"}, True, id="wrong-enum"),
    pytest.param("GMAIL_FETCH_EMAILS", {"query": "q", "max_results": "5"}, True, id="string-for-integer"),
    pytest.param("GMAIL_FETCH_EMAILS", {"max_results": 5.5}, True, id="fraction-for-integer"),
    pytest.param("GMAIL_FETCH_EMAILS", {"max_results": -1}, True, id="negative-below-minimum"),
    pytest.param("GMAIL_SEND_EMAIL", {**SEND, "is_html": "yes"}, True, id="string-for-boolean"),
    pytest.param("GMAIL_SEND_EMAIL", {**SEND, "cc": "a@b.co"}, True, id="string-for-array"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {**EVENT, "start": {"dateTime": "tomorrow 3pm"}}, True, id="bad-date-time"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {**EVENT, "start": "2026-03-14"}, True, id="string-for-object"),
    pytest.param("GMAIL_SEND_EMAIL", {**SEND, "priority": "high"}, False, id="extra-property"),
    pytest.param("GOOGLECALENDAR_CREATE_EVENT", {**EVENT, "start": {"timeZone": "UTC", "dateTime": "2026-03-14T15:00:00Z"}},
                 False, id="nested-property-order"),
    pytest.param("GMAIL_SEND_EMAIL", {"body": "Hi", "recipient_email": "dana@acme.io"}, False, id="property-order"),
    pytest.param("GMAIL_SEND_EMAIL", [], True, id="array-arguments"),
]


@pytest.mark.parametrize(("name", "arguments", "invalid"), STRICTER)
def test_bundle_grammar_rejects_what_the_generic_grammar_accepts(name, arguments, invalid):
    text = conversation(name, arguments)
    tools = {t.name: t for t in tools_of("gmail_googlecalendar")}
    for thoughts in (False, True):
        assert not accepts(grammar_of("gmail_googlecalendar", thoughts), text)
    if isinstance(arguments, list):
        assert not accepts(load_grammar(True), text)  # not an object: both reject it
        return
    assert accepts(load_grammar(True), text)
    # Most of these the validator reports too; key order and undeclared keys are valid JSON
    # Schema instances that the bundle grammar rejects on purpose (documented).
    issues = validate_conversation(parse_dml(text), tools, check_responses=False)
    assert bool(issues) == invalid, issues


PARALLEL = [
    ("GMAIL_SEND_EMAIL", {"recipient_email": "dana@acme.io", "body": "Hi"}),
    ("GMAIL_FETCH_EMAILS", {"max_results": 5}),
    ("GOOGLECALENDAR_CREATE_EVENT", EVENT),
    ("GMAIL_SEND_EMAIL", {"recipient_email": "lee@acme.io", "subject": "Q3", "body": "Hi"}),
    ("GMAIL_FETCH_EMAILS", {"query": "from:lee"}),
]


def parallel(calls: list[tuple[str, Any]], answered: int | None = None) -> str:
    n = len(calls) if answered is None else answered
    return U + "".join(call(name, arguments) for name, arguments in calls) + RESPONSE * n + A


@BOTH
@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_parallel_calls_are_accepted_up_to_the_maximum(width, thoughts):
    assert width <= MAX_PARALLEL_CALLS
    tools = {t.name: t for t in tools_of("gmail_googlecalendar")}
    text = parallel(PARALLEL[:width])
    assert validate_conversation(parse_dml(text), tools, check_responses=False) == []
    assert accepts(grammar_of("gmail_googlecalendar", thoughts), text)


@BOTH
@pytest.mark.parametrize(
    ("width", "answered"),
    [pytest.param(5, 5, id="5-calls"), pytest.param(3, 2, id="3-calls-2-responses"),
     pytest.param(2, 3, id="2-calls-3-responses"), pytest.param(4, 1, id="4-calls-1-response")],
)
def test_parallel_calls_too_wide_or_miscounted_are_rejected(width, answered, thoughts):
    tools = {t.name: t for t in tools_of("gmail_googlecalendar")}
    text = parallel(PARALLEL[:width], answered)
    assert validate_conversation(parse_dml(text), tools, check_responses=False) != []
    assert not accepts(grammar_of("gmail_googlecalendar", thoughts), text)
    assert not accepts(load_grammar(thoughts), text)


def test_every_call_of_a_parallel_call_is_held_to_its_schema():
    # The second call breaks its schema (a string for an integer): the group is rejected.
    text = parallel([PARALLEL[0], ("GMAIL_FETCH_EMAILS", {"max_results": "5"}), PARALLEL[2]])
    assert not accepts(grammar_of("gmail_googlecalendar", False), text)
    assert accepts(load_grammar(False), text)


def test_responses_stay_any_json_value():
    source = grammar_of("gmail", False)
    head = U + call("GMAIL_GET_PROFILE", {})
    for value in ({}, [], "text", 0, -1.5e3, True, None, {"a": [1, {"b": "c\"\n"}], "": {}}, [[], [{}]]):
        body = "<tool_response>\n" + json.dumps(value, ensure_ascii=False) + "\n</tool_response>\n"
        assert accepts(source, head + body + A), value


# ---------------------------------------------------------------------------------------------
# JSON Schema coverage, on hand-made tools


def tool(schema: dict[str, Any], name: str = "T_X") -> Tool:
    return Tool(toolkit="t", name=name, original_name=name, description="x", input_schema=schema, output_schema={})


def accepts_args(schema: dict[str, Any], arguments: Any) -> bool:
    return accepts(bundle_grammar([tool(schema)], False), conversation("T_X", arguments))


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


S = {"type": "string"}
I = {"type": "integer"}
SCHEMA_CASES = [
    # (schema, accepted, rejected)
    (obj({"a": S, "b": I, "c": {"type": "boolean"}}),
     [{}, {"a": "x"}, {"b": 1}, {"c": True}, {"a": "x", "c": False}, {"b": -3, "c": True}, {"a": "", "b": 0, "c": True}],
     [{"c": True, "a": "x"}, {"b": 1.0}, {"b": "1"}, {"d": 1}, {"a": None}]),
    (obj({"a": S, "b": I, "c": S, "d": S}, ("c",)),
     [{"c": "x"}, {"a": "1", "c": "x"}, {"b": 2, "c": "x", "d": "y"}, {"a": "1", "b": 2, "c": "x", "d": "y"}],
     [{}, {"a": "1"}, {"a": "1", "b": 2, "d": "y"}, {"c": "x", "a": "1"}]),
    (obj({"kind": {"enum": ["a", 1, None, True, "with \"quote\"", "back\\slash", "ünï", "line\nbreak"]}}),
     [{"kind": v} for v in ("a", 1, None, True, "with \"quote\"", "back\\slash", "ünï", "line\nbreak")],
     [{"kind": "b"}, {"kind": 2}, {"kind": False}, {"kind": "A"}]),
    (obj({"v": {"const": {"x": [1, 2]}}}), [{"v": {"x": [1, 2]}}], [{"v": {"x": [1]}}, {"v": 1}]),
    (obj({"v": {"type": ["string", "null"]}}), [{"v": "s"}, {"v": None}], [{"v": 1}]),
    (obj({"v": {"type": "integer", "nullable": True}}), [{"v": 3}, {"v": None}], [{"v": "3"}]),
    (obj({"v": {"anyOf": [{"type": "integer"}, obj({"w": S}, ("w",))]}}),
     [{"v": 5}, {"v": {"w": "x"}}], [{"v": "5"}, {"v": {}}]),
    (obj({"v": {"oneOf": [{"type": "string", "format": "date"}, {"type": "boolean"}]}}),
     [{"v": "2026-01-31"}, {"v": False}], [{"v": "Jan 31"}, {"v": 1}]),
    (obj({"v": {"type": "number", "minimum": 0}}), [{"v": 0}, {"v": 1.5}, {"v": 2e-3}], [{"v": -1}]),
    (obj({"v": {"type": "number"}}), [{"v": -1.25}, {"v": 3}], [{"v": "1"}]),
    (obj({"v": {"type": "array", "items": I, "minItems": 1}}), [{"v": [1]}, {"v": [1, -2, 3]}], [{"v": []}, {"v": ["1"]}]),
    (obj({"v": {"type": "array", "items": obj({"k": S}, ("k",))}}),
     [{"v": []}, {"v": [{"k": "a"}, {"k": "b"}]}], [{"v": [{}]}, {"v": [{"k": "a"}, 1]}]),
    (obj({"v": {"type": "array"}}), [{"v": [1, "a", None, {"x": []}]}], [{"v": {}}]),
    (obj({"v": {"type": "object"}}), [{"v": {}}, {"v": {"any": [1, {"b": None}]}}], [{"v": []}]),
    (obj({"v": {"type": "object", "additionalProperties": I}}), [{"v": {}}, {"v": {"a": 1, "b": 2}}], [{"v": {"a": "1"}}]),
    (obj({"v": {"type": "object", "additionalProperties": False}}), [{"v": {}}], [{"v": {"a": 1}}]),
    (obj({"a": S}, additionalProperties=True), [{"a": "x", "b": 1}, {"b": 1, "a": "x"}], [[]]),
    (obj({"v": {}}), [{"v": 1}, {"v": {"x": "y"}}, {"v": None}], [{"w": 1}]),
    (obj({"a": S}, ("a", "b")), [{"a": "x", "b": [1]}], [{"a": "x"}]),
    (obj({"a": S, "gone": False}), [{"a": "x"}], [{"gone": 1}]),
    (obj({"v": {"type": "string", "format": "date-time"}}),
     [{"v": "2026-01-31T23:59:60Z"}, {"v": "2026-01-31t00:00:00.123+05:30"}, {"v": "2026-01-31T00:00:00z"}],
     [{"v": "2026-01-31"}, {"v": "2026-01-31T00:00:00"}, {"v": "2026-13-31T00:00:00Z"}]),
    (obj({"node": {"$ref": "#/$defs/node"}}, ("node",), **{"$defs": {"node": obj({"name": S, "kids": {
        "type": "array", "items": {"$ref": "#/$defs/node"}}}, ("name",))}}),
     [{"node": {"name": "a"}}, {"node": {"name": "a", "kids": [{"name": "b", "kids": [{"name": "c"}]}]}}],
     [{"node": {"kids": []}}, {"node": {"name": "a", "kids": [{}]}}]),
    (obj({"v": {"allOf": [obj({"a": S}, ("a",)), obj({"b": I})]}}),
     [{"v": {"a": "x"}}, {"v": {"a": "x", "b": 1}}], [{"v": {"b": 1}}]),
    ({"type": "object"}, [{}, {"anything": [1]}], [[]]),
    ({}, [{}, {"x": 1}], [[]]),
    (obj({"we\"ird \\ kéy\n": S, "-": I}), [{"we\"ird \\ kéy\n": "v", "-": 1}], [{"-": 1, "we\"ird \\ kéy\n": "v"}]),
]


@pytest.mark.parametrize(("schema", "accepted", "rejected"), SCHEMA_CASES)
def test_schema_features(schema, accepted, rejected):
    for arguments in accepted:
        assert accepts_args(schema, arguments), arguments
    for arguments in rejected:
        assert not accepts_args(schema, arguments), arguments


def test_all_optional_objects_stay_linear_in_size():
    props = {f"p{i}": S for i in range(60)}
    source = bundle_grammar([tool(obj(props))], False)
    assert len(source) < 60 * 400
    assert accepts(source, conversation("T_X", {"p3": "a", "p40": "b", "p59": "c"}))
    assert accepts(source, conversation("T_X", {f"p{i}": "x" for i in range(60)}))
    assert not accepts(source, conversation("T_X", {"p40": "b", "p3": "a"}))


def test_gbnf_literal_escapes():
    assert gbnf_literal('a"b\\c\nd\x01\x7fé') == '"a\\"b\\\\c\\nd\\x01\\x7Fé"'


def test_schema_order_reorders_nested_objects_and_keeps_values():
    schema = tools_of("gmail_googlecalendar")
    event = next(t for t in schema if t.name == "GOOGLECALENDAR_CREATE_EVENT").input_schema
    arguments = {"start": {"timeZone": "UTC", "dateTime": "2026-03-14T15:00:00Z"}, "summary": "s",
                 "attendees": [{"optional": True, "email": "a@b.co"}], "end": {}, "extra": 1}
    ordered = schema_order(arguments, event)
    assert ordered == arguments
    assert list(ordered) == ["summary", "start", "end", "attendees", "extra"]
    assert list(ordered["start"]) == ["dateTime", "timeZone"]
    assert list(ordered["attendees"][0]) == ["email", "optional"]


# ---------------------------------------------------------------------------------------------
# Same language as the generic grammar outside the tool call


def rules_of(source: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9-]+) ::= (.*)$", source, flags=re.MULTILINE))


def generic_call(source: str) -> str:
    """The bundle grammar with the generic tool-call rule put back (and any generic rule it
    uses that the bundle grammar lacks)."""
    generic = rules_of(load_grammar(True))
    source = re.sub(r"^tool-call ::= .*$", lambda m: "tool-call ::= " + generic["tool-call"], source,
                    flags=re.MULTILINE)
    present = rules_of(source)
    extra = [f"{name} ::= {body}" for name, body in generic.items() if name not in present]
    return source + "".join(line + "\n" for line in extra)


@BOTH
@pytest.mark.parametrize("bundle", ["gmail", "stripe"])
def test_generic_rules_are_taken_as_they_are(bundle, thoughts):
    """Every rule of the generic grammar but `tool-call` is in the bundle grammar, unchanged,
    in the same order, before the arguments rules."""
    generic = rules_of(load_grammar(thoughts))
    source = rules_of(grammar_of(bundle, thoughts))
    names = [name for name in generic if name != "tool-call"]
    assert {name: source.get(name) for name in names} == {name: generic[name] for name in names}
    assert list(source)[: len(generic)] == list(generic)


@BOTH
def test_outside_the_call_the_language_is_the_generic_one(thoughts):
    """Free text, tool responses and turn order are the generic grammar's: with the generic
    tool-call rule put back, the bundle grammar accepts and rejects what the generic grammar
    does."""
    rt = random_turns
    source = generic_call(grammar_of("gmail", thoughts))
    generic = load_grammar(thoughts)
    rng = random.Random(11 + thoughts)
    for _ in range(150):
        text = render_dml(rt.random_conversation(rng, thoughts=thoughts))
        assert accepts(source, text), text
    for path in sorted(FIXTURES.glob("*.dml")):
        text = path.read_text(encoding="utf-8")
        assert accepts(source, text) == accepts(generic, text), path.name
    for param in REJECTED:
        assert not accepts(source, param.values[0]), param.id
    assert accepts(source, U + "</think> hmm\n" + A) == thoughts


# ---------------------------------------------------------------------------------------------
# Spelling lints (fast masks; llama.cpp subset)

_CLASS = r"\[(?:\\.|[^\]\\])*\]"
_LEXEME = r'"(?:\\.|[^"\\])*"|' + _CLASS


@BOTH
@pytest.mark.parametrize("bundle", ["gmail_googlecalendar", "stripe"])
def test_no_per_character_recursion(bundle, thoughts):
    source = grammar_of(bundle, thoughts)
    assert per_character_patterns(source) == []
    assert normalized_recursion(source) == []


def test_lints_see_the_schema_spellings():
    """Every kind of value rule the converter writes is linted (all cases in one grammar)."""
    tools = [tool(schema, name=f"T_{i}") for i, (schema, _, _) in enumerate(SCHEMA_CASES)]
    source = bundle_grammar(tools, True)
    compiled(source)
    assert per_character_patterns(source) == []
    assert normalized_recursion(source) == []


@pytest.mark.parametrize("bundle", ["gmail_googlecalendar", "googledrive_calendly_googlecalendar"])
def test_in_the_llama_cpp_subset(bundle):
    """One rule per line, rule names of letters, digits and '-', every referenced rule
    defined, no {m,n} repetition, only the escapes llama.cpp parses, no `string` rule shared
    by argument values (they are written out, see the module docstring)."""
    source = grammar_of(bundle, True)
    defined = []
    for line in source.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_-]+) ::= (.+)", line)
        assert m, f"not a one-line rule: {line!r}"
        assert re.fullmatch(r"[a-zA-Z0-9-]+", m.group(1))
        defined.append(m.group(1))
    assert "root" in defined and len(defined) == len(set(defined))
    for line in source.splitlines():
        if line.startswith("#"):
            continue
        body = re.sub(_LEXEME, " ", line.split(" ::= ", 1)[1])
        assert "{" not in body and "}" not in body, line
        for name in re.findall(r"[A-Za-z][A-Za-z0-9-]*", body):
            assert name in defined, name
        for lexeme in re.findall(_LEXEME, line):
            for escape in re.findall(r"\\(x..|.)", lexeme):
                assert escape in {"n", "t", "r", "\\", '"', "[", "]"} or re.fullmatch(r"x[0-9A-Fa-f]{2}", escape)
    args = "\n".join(line for line in source.splitlines() if re.match(r"t\d+-", line))
    assert not re.search(r"(?<![\w-])string(?![\w-])", re.sub(_LEXEME, " ", args))
