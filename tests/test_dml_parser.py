"""DML parser and renderer: golden round trips, random round trips, error reporting."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
import random_turns

from funcdex_assets.dml.model import (
    AssistantTurn,
    Conversation,
    ThoughtTurn,
    ToolCallTurn,
    ToolResponseTurn,
    UserTurn,
)
from funcdex_assets.dml.parallel import call_groups
from funcdex_assets.dml.parser import DMLParseError, parse_dml, unescape_text
from funcdex_assets.dml.renderer import escape_text, render_dml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dml"
GOLDEN = sorted(FIXTURES.glob("*.dml"))



rt = random_turns


def plain(turns) -> list[dict]:
    """Turns without their `line` (model_dump excludes it), for comparing parsed turns with
    turns built in code. (Pydantic 2 ignores Field(compare=False), so `==` on turns also
    compares `line`.)"""
    return [t.model_dump() for t in turns]


# ---------------------------------------------------------------------------------------------
# Golden files


def test_golden_files_present():
    names = {p.name for p in GOLDEN}
    assert {"gmail_search.dml", "calendar_with_thoughts.dml", "escaping_unicode.dml", "parallel_calls.dml",
            "parallel_calls_with_thoughts.dml"} <= names


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_round_trip_is_byte_identical(path: Path):
    text = path.read_text(encoding="utf-8")
    conversation = parse_dml(text)
    assert conversation.turns
    assert render_dml(conversation.turns) == text
    # And the turns survive a second trip.
    assert plain(parse_dml(render_dml(conversation.turns)).turns) == plain(conversation.turns)


def test_golden_gmail_turns_and_lines():
    conversation = parse_dml((FIXTURES / "gmail_search.dml").read_text(encoding="utf-8"))
    assert isinstance(conversation, Conversation)
    turns = conversation.turns
    assert [t.kind for t in turns] == [
        "user", "assistant", "tool_call", "tool_response", "assistant", "user", "assistant",
    ]
    assert [t.line for t in turns] == [1, 2, 3, 6, 9, 10, 11]
    assert turns[0].text == "Hey, can you find the latest email from Dana about the Q3 budget?"
    assert plain([turns[2]]) == plain([ToolCallTurn(
        name="GMAIL_FETCH_EMAILS",
        arguments={"query": "from:dana@acme.io Q3 budget", "max_results": 5},
    )])
    assert turns[3].content["data"]["messages"][0]["subject"] == "Q3 budget"
    assert turns[4].text == 'I found one message from Dana: "Q3 budget".'


def test_golden_parallel_calls_are_flat_turns_grouped_by_position():
    text = (FIXTURES / "parallel_calls.dml").read_text(encoding="utf-8")
    turns = parse_dml(text).turns
    assert [t.kind for t in turns] == [
        "user", "assistant", "tool_call", "tool_call", "tool_response", "tool_response", "assistant",
        "user", "tool_call", "tool_response", "assistant",
        *["tool_call"] * 4, *["tool_response"] * 4, "assistant",
    ]
    assert [t.line for t in turns[2:7]] == [3, 6, 9, 12, 15]
    groups = call_groups(turns)
    assert [(g.start, len(g.calls), len(g.responses)) for g in groups] == [(2, 2, 2), (8, 1, 1), (11, 4, 4)]
    assert [c.arguments["recipient_email"] for c in groups[2].calls] == [
        "dana@acme.io", "lee@acme.io", "priya@acme.io", "mo@acme.io"]
    # The k-th response answers the k-th call.
    assert [r.content["data"]["id"] for _, r in groups[2].pairs()] == ["msg_81", "msg_82", "msg_83", "msg_84"]
    assert groups[0].parallel and not groups[1].parallel


def test_call_groups_of_malformed_orders():
    c, r, a = ToolCallTurn(name="X", arguments={}), ToolResponseTurn(content=1), AssistantTurn(text="")
    groups = call_groups([UserTurn(text=""), r, c, c, c, r, a, c, a, r, r, c])
    assert [(g.start, len(g.calls), len(g.responses)) for g in groups] == [(2, 3, 1), (7, 1, 0), (11, 1, 0)]
    assert groups[0].pairs()[1:] == [(c, None), (c, None)]
    assert call_groups([]) == []


def test_golden_thoughts_are_parsed():
    turns = parse_dml((FIXTURES / "calendar_with_thoughts.dml").read_text(encoding="utf-8")).turns
    thoughts = [t for t in turns if isinstance(t, ThoughtTurn)]
    assert len(thoughts) == 3
    assert turns[0].text.endswith("3pm & send her a note?")  # &amp; unescaped


def test_golden_escaping_file_values():
    turns = parse_dml((FIXTURES / "escaping_unicode.dml").read_text(encoding="utf-8")).turns
    assert turns[0].text.startswith("Is <b>bold</b> HTML ok in the AT&T ticket? Write the literal text &lt; too.\n")
    assert "東京" in turns[0].text and "🚀" in turns[0].text
    assert plain(turns[1:3]) == plain(
        [AssistantTurn(text=""), ToolCallTurn(name="GET_CURRENT_USER", arguments={})]
    )
    create = turns[5]
    assert create.arguments["body"] == "line 1\nline 2\twith tab\\backslash\x01 and </tool> inside"
    assert create.arguments["labels"][1][1]["deep"] == [1, 2.5, -0.0, True, False, None]
    assert turns[6].content[0]["id"] == 12345678901234567890
    assert turns[8].content == 'plain string response with "quotes" and \\ and \n'
    assert turns[-1].text.endswith("literal &amp; stays as typed")


# ---------------------------------------------------------------------------------------------
# Renderer details


def test_render_canonical_form():
    turns = [
        UserTurn(text="  hi <there> & you  \n"),
        ThoughtTurn(text="think"),
        AssistantTurn(text=""),
        ToolCallTurn(name="T", arguments={"a": [1, "é"], "b": {}}),
        ToolResponseTurn(content=None),
        AssistantTurn(text="done"),
    ]
    assert render_dml(turns) == (
        "</user> hi &lt;there> &amp; you\n"
        "</think> think\n"
        "</assistant> \n"
        "<tool>\n"
        '{"name": "T", "arguments": {"a": [1, "é"], "b": {}}}\n'
        "</tool>\n"
        "<tool_response>\n"
        "null\n"
        "</tool_response>\n"
        "</assistant> done\n"
    )


def test_render_empty_and_trailing_newline():
    assert render_dml([]) == ""
    assert render_dml([AssistantTurn(text="x\n\n")]) == "</assistant> x\n"
    assert parse_dml("").turns == ()
    assert parse_dml("  \n\n").turns == ()


def test_render_rejects_non_json_values():
    with pytest.raises(ValueError):
        render_dml([ToolResponseTurn(content=float("nan"))])
    with pytest.raises(TypeError):
        render_dml(["not a turn"])


def test_escape_and_unescape_are_inverse():
    for text in ["", "a", "&", "<", "&lt;", "&amp;", "&amp;lt;", "<&>", "a&&<<b", "&lt&gt;"]:
        assert unescape_text(escape_text(text)) == text
    # A bare '&' (not one of our two escapes) is read as itself.
    assert unescape_text("AT&T &gt; &quot;") == "AT&T &gt; &quot;"
    assert parse_dml("</user> AT&T\n").turns[0].text == "AT&T"


# ---------------------------------------------------------------------------------------------
# Property-style round trips


@pytest.mark.parametrize("seed", range(5))
def test_random_turns_round_trip(seed: int):
    rng = random.Random(seed)
    for _ in range(200):
        turns = rt.random_turns(rng)
        text = render_dml(turns)
        assert text == "" or (text.endswith("\n") and not text.endswith("\n\n"))
        parsed = parse_dml(text)
        assert plain(parsed.turns) == plain(turns), text
        assert render_dml(parsed.turns) == text


@pytest.mark.parametrize("seed", range(3))
def test_random_conversation_lines_point_at_tags(seed: int):
    rng = random.Random(1000 + seed)
    for _ in range(50):
        text = render_dml(rt.random_conversation(rng, thoughts=True))
        lines = text.split("\n")
        for turn in parse_dml(text).turns:
            tag = {
                "user": "</user> ", "thought": "</think> ", "assistant": "</assistant> ",
                "tool_call": "<tool>", "tool_response": "<tool_response>",
            }[turn.kind]
            assert lines[turn.line - 1].startswith(tag)


def test_render_normalises_and_is_idempotent():
    rng = random.Random(7)
    for _ in range(100):
        # Unstripped text: rendering strips it, and the result is then a fixed point.
        turns = [UserTurn(text="  " + rt.random_text(rng) + " \n"), AssistantTurn(text="\t x ")]
        text = render_dml(turns)
        assert render_dml(parse_dml(text).turns) == text
        assert parse_dml(text).turns[1].text == "x"


# ---------------------------------------------------------------------------------------------
# Leniency (output from backends without grammar support)


def test_parser_accepts_loose_whitespace_and_multiline_json():
    text = (
        "\n\n</user>Hi there   \r\n"
        "</assistant>    checking\n"
        "<tool>\n"
        "{\n"
        '  "name": "A",\n'
        '  "arguments": {"x": [1,2]}\n'
        "}\n"
        "  </tool>  \n"
        "<tool_response>  [1,\n 2]  \n</tool_response>\n\n"
        "</assistant> ok"
    )
    turns = parse_dml(text).turns
    assert plain(turns) == plain([
        UserTurn(text="Hi there"),
        AssistantTurn(text="checking"),
        ToolCallTurn(name="A", arguments={"x": [1, 2]}),
        ToolResponseTurn(content=[1, 2]),
        AssistantTurn(text="ok"),
    ])
    assert [t.line for t in turns] == [3, 4, 5, 11, 15]


def test_parser_does_not_enforce_order():
    text = "<tool_response>\n1\n</tool_response>\n</assistant> a\n</assistant> b\n<tool>\n" \
           '{"name": "x", "arguments": {}}\n</tool>\n</user> u\n'
    kinds = [t.kind for t in parse_dml(text).turns]
    assert kinds == ["tool_response", "assistant", "assistant", "tool_call", "user"]


def test_json_may_contain_angle_brackets_and_tags():
    text = (
        "</user> q\n<tool_response>\n"
        '{"html": "<p>a</p>\\n</tool_response>\\n<tool>", "x": "</user> "}\n'
        "</tool_response>\n</assistant> ok\n"
    )
    turns = parse_dml(text).turns
    assert turns[1].content == {"html": "<p>a</p>\n</tool_response>\n<tool>", "x": "</user> "}
    assert render_dml(turns) == text


# ---------------------------------------------------------------------------------------------
# Errors

CALL = '{"name": "x", "arguments": {}}'

ERROR_CASES = [
    pytest.param(
        "\nhello\n</user> x\n", 2, ["text before the first tag", "'hello'"], id="text-before-first-tag"
    ),
    pytest.param(
        "</user> a\n</assistant> b\n<tool>\n" + CALL + "\n</tool>\n<tool_response>\n1\n</tool_response>\n"
        "</assistant> c\n<tool_result>\n{}\n</tool_result>\n",
        10,
        ["unknown tag '<tool_result>'", "expected one of </user>, </think>, </assistant>, <tool>, <tool_response>",
         "'<tool_result>'"],
        id="unknown-tag",
    ),
    pytest.param(
        "</user> is x < 5?\n", 1, ["unknown tag '<'", "&lt;", "'</user> is x < 5?'"], id="raw-less-than"
    ),
    pytest.param(
        "</user> a\n</Assistant> b\n", 2, ["unknown tag '</Assistant>'"], id="tag-case-matters"
    ),
    pytest.param(
        "</user> a\n<tool>\n" + CALL + "\n", 2,
        ["unterminated <tool> block", "'</tool>'", "truncated"], id="truncated-call",
    ),
    pytest.param(
        "</user> a\n<tool>\n" + CALL + "\n</tool>\n<tool_response>\n{\"ok\": tr", 5,
        ["unterminated <tool_response> block", "'</tool_response>'"], id="truncated-response",
    ),
    pytest.param(
        "</user> a\n<tool>\n" + CALL + "\n<tool_response>\n1\n</tool_response>\n", 4,
        ["unterminated <tool> block opened at line 2", "expected '</tool>' before '<tool_response>'"],
        id="missing-closer",
    ),
    pytest.param(
        "</user> a\n<tool>\n" + CALL + "</tool>\n</assistant> b\n", 4,
        ["expected '</tool>'", "must start its own line"], id="closer-not-on-own-line",
    ),
    pytest.param(
        "</user> a\n</tool>\n", 2, ["unexpected '</tool>' with no open <tool> block"], id="stray-closer",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"name\": \"x\", \"arguments\": {\"a\": 1,}}\n</tool>\n", 3,
        ["invalid JSON in <tool> block", "column 36"], id="bad-json-call",
    ),
    pytest.param(
        "</user> a\n<tool_response>\n{\n  \"a\": 1,\n  \"b\": oops\n}\n</tool_response>\n", 5,
        ["invalid JSON in <tool_response> block", "'  \"b\": oops'"], id="bad-json-multiline",
    ),
    pytest.param(
        "</user> a\n<tool_response>\nNaN\n</tool_response>\n", 3, ["NaN is not valid JSON"], id="nan",
    ),
    pytest.param(
        "</user> a\n<tool>\n\n</tool>\n", 2, ["empty <tool> block"], id="empty-block",
    ),
    pytest.param(
        "</user> a\n<tool>\n[1, 2]\n</tool>\n", 3, ["must be a JSON object, got an array"], id="call-not-object",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"arguments\": {}}\n</tool>\n", 3, ["missing 'name'"], id="call-no-name",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"name\": 3, \"arguments\": {}}\n</tool>\n", 3, ["'name' is not a string"],
        id="call-name-not-string",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"name\": \"x\"}\n</tool>\n", 3, ["tool call 'x': missing 'arguments'"],
        id="call-no-arguments",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"name\": \"x\", \"arguments\": [1]}\n</tool>\n", 3,
        ["'arguments' is not an object"], id="call-arguments-not-object",
    ),
    pytest.param(
        "</user> a\n<tool>\n{\"name\": \"x\", \"arguments\": {}, \"id\": 1}\n</tool>\n", 3,
        ["unexpected key(s) 'id'"], id="call-extra-key",
    ),
    pytest.param(
        "</user> a\n<tool>\n" + CALL + "\n</tool>\nstray text\n</assistant> b\n", 5,
        ["text outside any turn after '</tool>'", "'stray text'"], id="text-between-blocks",
    ),
]


@pytest.mark.parametrize(("text", "line", "fragments"), ERROR_CASES)
def test_parse_errors(text: str, line: int, fragments: list[str]):
    with pytest.raises(DMLParseError) as info:
        parse_dml(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.line == line, str(err)
    message = str(err)
    assert message.startswith(f"line {line}: ")
    for fragment in fragments:
        assert fragment in message, message


def test_error_line_counts_lines_inside_long_conversations():
    good = (FIXTURES / "gmail_search.dml").read_text(encoding="utf-8")
    text = good * 30 + "<tool>\n{\"name\": \"x\", \"arguments\": {\"a\": }}\n</tool>\n"
    n = good.count("\n") * 30
    with pytest.raises(DMLParseError) as info:
        parse_dml(text)
    assert info.value.line == n + 2
    assert info.value.source_line == '{"name": "x", "arguments": {"a": }}'


def test_every_truncation_of_a_call_block_is_reported_not_crashing():
    text = (FIXTURES / "escaping_unicode.dml").read_text(encoding="utf-8")
    for cut in range(len(text)):
        prefix = text[:cut]
        try:
            parse_dml(prefix)
        except DMLParseError as err:
            assert 1 <= err.line <= prefix.count("\n") + 1


def test_parse_is_fast_on_long_conversations():
    rng = random.Random(3)
    turns = []
    while len(turns) < 4000:
        turns.extend(rt.random_conversation(rng, thoughts=True))
    text = render_dml(turns)
    assert len(text) > 200_000
    start = time.perf_counter()
    parsed = parse_dml(text)
    elapsed = time.perf_counter() - start
    assert len(parsed.turns) == len(turns)
    # ~0.05 s on a laptop; generous bound for slow CI machines.
    assert elapsed < 2.0, elapsed


def test_json_payload_matches_json_dumps_exactly():
    value = {"a": [1, 2.5, "x\ny", {"é": None}], "b": True}
    text = render_dml([ToolResponseTurn(content=value)])
    assert text.split("\n")[1] == json.dumps(value, ensure_ascii=False)
