"""Conversation rules: each issue code from a minimal case; golden conversations are clean."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import random_turns

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import (
    AssistantTurn,
    ThoughtTurn,
    ToolCallTurn,
    ToolResponseTurn,
    UserTurn,
)
from funcdex_assets.dml.parallel import MAX_PARALLEL_CALLS
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.dml.renderer import render_dml
from funcdex_assets.dml.validator import (
    ISSUE_CODES,
    ValidationIssue,
    schema_validator,
    validate_conversation,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dml"

OK_RESPONSE = {
    "type": "object",
    "properties": {"successful": {"type": "boolean"}, "data": {"type": "object"}},
    "required": ["successful"],
}


def make_tool(name: str, input_schema: dict, output_schema: dict | None = None) -> Tool:
    return Tool(
        toolkit="test",
        name=name,
        original_name=name,
        description=f"{name} for tests",
        input_schema=input_schema,
        output_schema=OK_RESPONSE if output_schema is None else output_schema,
    )


FETCH = make_tool(
    "GMAIL_FETCH_EMAILS",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 500},
        },
        "required": ["query"],
        "additionalProperties": False,
    },
)
SEND = make_tool(
    "GMAIL_SEND_EMAIL",
    {
        "type": "object",
        "properties": {
            "recipient_email": {"type": "string", "format": "email"},
            "subject": {"type": "string"},
            "body": {"type": "string"},
        },
        "required": ["recipient_email", "body"],
    },
)
FIND_EVENT = make_tool(
    "GOOGLECALENDAR_FIND_EVENT",
    {
        "type": "object",
        "properties": {"query": {"type": "string"}, "time_min": {"type": "string", "format": "date-time"}},
    },
)
UPDATE_EVENT = make_tool(
    "GOOGLECALENDAR_UPDATE_EVENT",
    {
        "type": "object",
        "properties": {
            "event_id": {"type": "string"},
            "start_datetime": {"type": "string", "format": "date-time"},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"}},
        },
        "required": ["event_id"],
    },
)
ME = make_tool("GET_CURRENT_USER", {"type": "object", "properties": {}}, {})
CREATE = make_tool(
    "TICKETS_CREATE",
    {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]},
    {"type": "array"},
)
LIST = make_tool("TICKETS_LIST", {"type": "object"}, {"type": "string"})
LINKS = make_tool(
    "LINKS_ADD",
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"url": {"type": "string", "format": "uri"}, "day": {"type": "string", "format": "date"}},
    },
)
TOOLS = {t.name: t for t in [FETCH, SEND, FIND_EVENT, UPDATE_EVENT, ME, CREATE, LIST, LINKS]}

U = UserTurn(text="hi")
A = AssistantTurn(text="ok")
T = ThoughtTurn(text="hmm")


def call(arguments=None, name="GMAIL_FETCH_EMAILS") -> ToolCallTurn:
    return ToolCallTurn(name=name, arguments={"query": "x"} if arguments is None else arguments)


def resp(content=None) -> ToolResponseTurn:
    return ToolResponseTurn(content={"successful": True} if content is None else content)


def codes(turns, **kwargs) -> list[str]:
    return [issue.code for issue in validate_conversation(turns, TOOLS, **kwargs)]


# ---------------------------------------------------------------------------------------------
# Valid conversations


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.dml")), ids=lambda p: p.name)
def test_golden_conversations_are_valid(path: Path):
    conversation = parse_dml(path.read_text(encoding="utf-8"))
    assert validate_conversation(conversation.turns, TOOLS) == []
    assert validate_conversation(conversation, TOOLS) == []  # a Conversation is accepted too


def test_valid_shapes():
    assert codes([U, A]) == []
    assert codes([U, T, A]) == []
    assert codes([U, call(), resp(), A]) == []
    assert codes([U, T, A, call(), resp(), T, call(), resp(), T, A, U, A]) == []
    assert codes([U, A, call(), resp(), A]) == []
    assert codes([U, A, U, A, U, A], min_user_turns=3) == []


def test_random_valid_conversations_have_only_tool_issues():
    rt = random_turns
    rng = random.Random(11)
    for _ in range(200):
        turns = rt.random_conversation(rng, thoughts=True)
        # With no catalogue every call is unknown: nothing else may be reported.
        issues = validate_conversation(turns, {})
        assert {i.code for i in issues} <= {"unknown_tool"}
        assert len(issues) == sum(t.kind == "tool_call" for t in turns)


# ---------------------------------------------------------------------------------------------
# Parallel calls


def group(width: int, answered: int | None = None) -> list:
    """`width` calls (each a different tool, valid arguments) then `answered` responses."""
    calls = [
        call({"query": "q"}),
        call({"recipient_email": "dana@acme.io", "body": "hi"}, name="GMAIL_SEND_EMAIL"),
        call({"query": "1:1"}, name="GOOGLECALENDAR_FIND_EVENT"),
        call({}, name="GET_CURRENT_USER"),
        call({"title": "t"}, name="TICKETS_CREATE"),
        call({"query": "r"}),
    ][:width]
    responses = [resp(), resp(), resp(), resp({}), resp([1]), resp()]
    return calls + responses[: width if answered is None else answered]


@pytest.mark.parametrize("width", range(1, MAX_PARALLEL_CALLS + 1))
def test_parallel_calls_up_to_the_maximum_are_valid(width):
    assert codes([U, *group(width), A]) == []
    assert codes([U, T, A, *group(width), T, *group(width), A, U, *group(1), A]) == []


def test_too_many_parallel_calls_is_reported_once_at_the_first_call_too_many():
    turns = [U, *group(MAX_PARALLEL_CALLS + 1), A]
    issues = validate_conversation(turns, TOOLS)
    assert [(i.code, i.turn_index) for i in issues] == [("too_many_parallel_calls", MAX_PARALLEL_CALLS + 1)]
    assert f"at most {MAX_PARALLEL_CALLS} calls at once" in issues[0].message
    six = [U, *group(6), A]
    assert codes(six) == ["too_many_parallel_calls"]
    # Too wide and not answered in full: both are reported.
    assert codes([U, *group(5, 4), A]) == ["too_many_parallel_calls", "call_without_response"]


def test_the_kth_response_is_checked_against_the_kth_call():
    # ME's output schema is {} and TICKETS_CREATE's an array: the responses in call order pass,
    # swapped they fail.
    me = call({}, name="GET_CURRENT_USER")
    create = call({"title": "t"}, name="TICKETS_CREATE")
    assert codes([U, me, create, resp({"any": 1}), resp([1]), A]) == []
    issues = validate_conversation([U, create, me, resp({"any": 1}), resp([1]), A], TOOLS)
    assert [(i.code, i.turn_index) for i in issues] == [("invalid_response", 3)]
    assert "TICKETS_CREATE" in issues[0].message


def test_missing_response_names_the_first_unanswered_call():
    turns = parse_dml(render_dml([U, *group(3, 2), A])).turns
    issues = validate_conversation(turns, TOOLS)
    assert [(i.code, i.turn_index, i.line) for i in issues] == [("call_without_response", 3, turns[3].line)]
    assert "GOOGLECALENDAR_FIND_EVENT" in issues[0].message
    assert "call 3 of a parallel call of 3" in issues[0].message
    end = validate_conversation([U, *group(3, 1)], TOOLS)
    assert [(i.code, i.turn_index) for i in end] == [("call_without_response", 2)]
    assert "ends after tool call 'GMAIL_SEND_EMAIL', call 2 of a parallel call of 3," in end[0].message


def test_text_between_the_calls_of_a_group_is_a_violation():
    # A group is one assistant message: text or a thought between its calls splits it, leaving
    # the first call unanswered and one response too many.
    for between in (A, T):
        turns = [U, call(), between, call(), resp(), resp(), A]
        issues = validate_conversation(turns, TOOLS)
        assert [(i.code, i.turn_index) for i in issues] == [
            ("call_without_response", 1), ("response_without_call", 5)]
        assert "parallel call is one assistant message" in issues[0].message
    assert codes([U, call(), U, call(), resp(), resp(), A]) == ["bad_turn_order", "response_without_call"]


def test_user_turn_while_calls_are_unanswered():
    issues = validate_conversation([U, *group(2, 1), U, A], TOOLS)
    assert [(i.code, i.turn_index) for i in issues] == [("bad_turn_order", 4)]
    assert "GMAIL_SEND_EMAIL" in issues[0].message


def test_response_after_a_complete_parallel_call_says_so():
    issues = validate_conversation([U, *group(2), resp(), A], TOOLS)
    assert [i.code for i in issues] == ["response_without_call"]
    assert "all 2 calls of the parallel call before it are already answered" in issues[0].message


# ---------------------------------------------------------------------------------------------
# Each code


def test_empty():
    issues = validate_conversation([], TOOLS)
    assert [i.code for i in issues] == ["empty"]
    assert issues[0].turn_index == -1


def test_first_turn_not_user():
    assert codes([A, U, A]) == ["first_turn_not_user"]
    assert codes([T, A]) == ["first_turn_not_user", "too_few_user_turns"]


@pytest.mark.parametrize(
    "turns",
    [
        pytest.param([U, U, A], id="user-after-user"),
        pytest.param([U, T, U, A], id="user-after-thought"),
        pytest.param([U, T, T, A], id="thought-after-thought"),
        pytest.param([U, A, T, A], id="thought-after-assistant"),
        pytest.param([U, A, A], id="assistant-after-assistant"),
        pytest.param([U, call(), resp(), U, A], id="user-after-response"),
        pytest.param([U, call(), U, A], id="user-right-after-call"),
    ],
)
def test_bad_turn_order(turns):
    assert codes(turns) == ["bad_turn_order"]


def test_user_right_after_call_message():
    issues = validate_conversation(
        parse_dml("</user> a\n<tool>\n{\"name\": \"GMAIL_FETCH_EMAILS\", \"arguments\": {\"query\": \"q\"}}\n"
                  "</tool>\n</user> b\n</assistant> c\n").turns,
        TOOLS,
    )
    assert [(i.code, i.line, i.turn_index) for i in issues] == [("bad_turn_order", 5, 2)]
    assert "GMAIL_FETCH_EMAILS" in issues[0].message and "line 2" in issues[0].message


@pytest.mark.parametrize(
    "turns",
    [
        pytest.param([U, call(), A], id="assistant-after-call"),
        pytest.param([U, call(), T, A], id="thought-after-call"),
        pytest.param([U, call(), call(), resp(), A], id="parallel-call-one-response"),
        pytest.param([U, call(), call(), call(), resp(), resp(), A], id="3-calls-2-responses"),
        pytest.param([U, call(), call(), resp(), T, A], id="thought-before-the-last-response"),
        pytest.param([U, call(), call(), resp(), call(), resp(), A], id="call-before-the-last-response"),
    ],
)
def test_call_without_response(turns):
    assert codes(turns) == ["call_without_response"]


def test_call_without_response_at_end():
    issues = validate_conversation([U, A, call()], TOOLS)
    assert [(i.code, i.turn_index) for i in issues] == [("call_without_response", 2)]
    assert "ends after tool call 'GMAIL_FETCH_EMAILS'" in issues[0].message


@pytest.mark.parametrize(
    "turns",
    [
        pytest.param([U, resp(), A], id="after-user"),
        pytest.param([U, call(), resp(), resp(), A], id="double-response"),
        pytest.param([U, call(), call(), resp(), resp(), resp(), A], id="2-calls-3-responses"),
        pytest.param([U, call(), call(), resp(), resp(), call(), resp(), resp(), A], id="next-group-answered-twice"),
        pytest.param([U, A, resp(), A], id="after-assistant"),
    ],
)
def test_response_without_call(turns):
    assert codes(turns) == ["response_without_call"]


@pytest.mark.parametrize(
    ("turns", "last"),
    [
        pytest.param([U], "user turn", id="ends-with-user"),
        pytest.param([U, T], "thought", id="ends-with-thought"),
        pytest.param([U, call(), resp()], "tool response", id="ends-with-response"),
    ],
)
def test_ends_without_assistant(turns, last):
    issues = validate_conversation(turns, TOOLS)
    assert [i.code for i in issues] == ["ends_without_assistant"]
    assert last in issues[0].message
    assert issues[0].turn_index == len(turns) - 1


def test_unknown_tool():
    issues = validate_conversation([U, call(name="GMAIL_FETCH_EMAIL"), resp(), A], TOOLS)
    assert [i.code for i in issues] == ["unknown_tool"]
    assert "'GMAIL_FETCH_EMAIL'" in issues[0].message
    assert "did you mean 'GMAIL_FETCH_EMAILS'" in issues[0].message
    assert issues[0].turn_index == 1


def test_invalid_arguments_names_tool_path_and_reason():
    issues = validate_conversation(
        [U, call({"query": 3, "max_results": "five", "extra": True}), resp(), A], TOOLS
    )
    assert {i.code for i in issues} == {"invalid_arguments"}
    messages = [i.message for i in issues]
    assert len(messages) == 3
    assert any("GMAIL_FETCH_EMAILS at $.query: 3 is not of type 'string'" in m for m in messages)
    assert any("at $.max_results: 'five' is not of type 'integer'" in m for m in messages)
    assert any("'extra' was unexpected" in m for m in messages)
    assert all(i.turn_index == 1 for i in issues)


def test_invalid_arguments_missing_required():
    issues = validate_conversation([U, call({}), resp(), A], TOOLS)
    assert [i.code for i in issues] == ["invalid_arguments"]
    assert "at $: 'query' is a required property" in issues[0].message


@pytest.mark.parametrize(
    ("name", "arguments", "ok"),
    [
        ("GMAIL_SEND_EMAIL", {"recipient_email": "dana@acme.io", "body": "x"}, True),
        ("GMAIL_SEND_EMAIL", {"recipient_email": "dana at acme", "body": "x"}, False),
        ("GOOGLECALENDAR_FIND_EVENT", {"time_min": "2024-10-07T09:30:00Z"}, True),
        ("GOOGLECALENDAR_FIND_EVENT", {"time_min": "2024-10-07T09:30:00.123+05:30"}, True),
        ("GOOGLECALENDAR_FIND_EVENT", {"time_min": "2024-10-07T09:30:00"}, False),  # no offset
        ("GOOGLECALENDAR_FIND_EVENT", {"time_min": "2024-02-30T09:30:00Z"}, False),
        ("GOOGLECALENDAR_FIND_EVENT", {"time_min": "next tuesday"}, False),
        ("LINKS_ADD", {"url": "https://example.com/a?b=c"}, True),
        ("LINKS_ADD", {"url": "mailto:dana@acme.io"}, True),
        ("LINKS_ADD", {"url": "www.example.com"}, False),
        ("LINKS_ADD", {"url": "https://exa mple.com"}, False),
        ("LINKS_ADD", {"day": "2024-10-11"}, True),
        ("LINKS_ADD", {"day": "2024-13-01"}, False),
        ("LINKS_ADD", {"day": "11/10/2024"}, False),
    ],
)
def test_formats_are_checked(name, arguments, ok):
    issues = codes([U, call(arguments, name=name), resp({"successful": True}), A])
    assert issues == ([] if ok else ["invalid_arguments"])


def test_invalid_response_only_when_checked():
    turns = [U, call(), resp({"data": "nope"}), A]
    issues = validate_conversation(turns, TOOLS)
    assert [i.code for i in issues] == ["invalid_response", "invalid_response"]
    messages = " ".join(i.message for i in issues)
    assert "invalid response for GMAIL_FETCH_EMAILS" in messages
    assert "'successful' is a required property" in messages
    assert "at $.data: 'nope' is not of type 'object'" in messages
    assert codes(turns, check_responses=False) == []


def test_response_to_unknown_tool_is_not_schema_checked():
    assert codes([U, call(name="NOPE"), resp(12), A]) == ["unknown_tool"]


def test_too_few_user_turns():
    issues = validate_conversation([U, A], TOOLS, min_user_turns=2)
    assert [(i.code, i.turn_index, i.line) for i in issues] == [("too_few_user_turns", -1, 0)]
    assert "1 user turn(s), at least 2" in issues[0].message


def test_unexpected_thought():
    turns = [U, T, A, U, T, call(), resp(), A]
    assert codes(turns) == []
    issues = validate_conversation(turns, TOOLS, allow_thoughts=False)
    assert [(i.code, i.turn_index) for i in issues] == [("unexpected_thought", 1), ("unexpected_thought", 4)]


def test_every_code_is_exercised_and_all_issues_are_reported():
    # One conversation with many problems: every one is reported, in turn order.
    turns = [
        A,                                    # first_turn_not_user
        call({"query": 1}),                   # invalid_arguments
        U,                                    # bad_turn_order (user right after a call)
        T,                                    # unexpected_thought
        resp(),                               # response_without_call
        call(name="MISSING"),                 # unknown_tool
        resp(),
        call(), resp({"successful": "yes"}),  # invalid_response
        U,                                    # bad_turn_order (user after a response)
    ]                                         # ends_without_assistant, too_few_user_turns
    issues = validate_conversation(turns, TOOLS, min_user_turns=3, allow_thoughts=False)
    assert [i.code for i in issues] == [
        "first_turn_not_user",
        "invalid_arguments",
        "bad_turn_order",
        "unexpected_thought",
        "response_without_call",
        "unknown_tool",
        "invalid_response",
        "bad_turn_order",
        "ends_without_assistant",
        "too_few_user_turns",
    ]
    assert all(isinstance(i, ValidationIssue) for i in issues)
    covered = {i.code for i in issues} | {"empty", "call_without_response", "too_many_parallel_calls"}
    assert covered == set(ISSUE_CODES)


def test_issue_lines_come_from_the_dml():
    text = (
        "</user> find it\n"
        "<tool>\n"
        '{"name": "GMAIL_FETCH_EMAILS", "arguments": {"max_results": 0}}\n'
        "</tool>\n"
        "<tool_response>\n"
        '{"successful": true}\n'
        "</tool_response>\n"
        "</assistant> done\n"
    )
    issues = validate_conversation(parse_dml(text).turns, TOOLS)
    assert {(i.code, i.line, i.turn_index) for i in issues} == {("invalid_arguments", 2, 1)}
    assert len(issues) == 2  # missing query, max_results below minimum


def test_many_schema_errors_are_capped_per_turn():
    tool = make_tool("BULK", {"type": "object"}, {"type": "array", "items": {"type": "string"}})
    turns = [U, call({}, name="BULK"), resp(list(range(50))), A]
    issues = validate_conversation(turns, {"BULK": tool})
    assert len(issues) == 20
    assert issues[-1].message.endswith("(and 30 more errors)")


def test_validators_are_cached():
    assert schema_validator(FETCH.input_schema) is schema_validator(FETCH.input_schema)
    # An equal schema in another object shares the compiled validator.
    copy = {**FETCH.input_schema}
    assert schema_validator(copy) is schema_validator(FETCH.input_schema)


def test_invalid_schema_is_a_clear_error():
    broken = make_tool("BROKEN", {"type": "object", "properties": {"a": {"type": "strin"}}})
    with pytest.raises(ValueError, match="tool 'BROKEN' has an invalid input schema"):
        validate_conversation([U, call({}, name="BROKEN"), resp(), A], {"BROKEN": broken})


def test_explicit_older_draft_is_honoured():
    draft4 = make_tool(
        "OLD",
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "properties": {"n": {"type": "number", "maximum": 5, "exclusiveMaximum": True}},
        },
    )
    assert codes([U, call({"n": 5}, name="OLD"), resp(), A]) == ["unknown_tool"]  # not in TOOLS
    issues = validate_conversation([U, call({"n": 5}, name="OLD"), resp(), A], {"OLD": draft4})
    assert [i.code for i in issues] == ["invalid_arguments"]
