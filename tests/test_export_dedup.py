"""TRL export, id grounding and lexical dedup (splits: tests/test_dataset_folder.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dedup.lexical import LexicalDeduplicator, normalise, shingles
from funcdex_assets.dedup.scenarios import dedup_scenarios
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.export.trl import to_messages, tools_list, turns_from_messages
from funcdex_assets.frames import frame
from funcdex_assets.quality.grounding import GroundingStats, id_grounding

STR = {"type": "string"}
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dml"


def make_tool(name: str, inputs: dict, required: tuple[str, ...] = ()) -> Tool:
    return Tool(toolkit="cal", name=name, original_name=name, description=f"{name} for tests",
                input_schema={"type": "object", "properties": inputs, "required": list(required)},
                output_schema={"type": "object"})


# ---- id grounding ------------------------------------------------------------------------------

TOOLS = {t.name: t for t in (
    make_tool("LIST_CALENDARS", {}),
    make_tool("GET_EVENT", {"calendarId": {"type": "string", "default": "primary"}, "eventId": STR,
                            "customer": {"type": "string", "description": "ID of the customer."},
                            "summary": STR}),
    make_tool("ADD_LABELS", {"label_ids": {"type": "array", "items": STR},
                             "options": {"type": "object", "properties": {"thread_id": STR}}}),
)}


def test_id_grounding_counts_ids_seen_in_earlier_responses() -> None:
    turns = [
        UserTurn(text="hi"),
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_first_call_is_free"}),
        ToolResponseTurn(content={"data": {"items": [{"id": "evt_123", "n": 42}], "label": "lbl_9", "ok": True}}),
        # eventId seen, calendarId is its documented default, summary is no id, customer (described as an
        # id) was never shown.
        ToolCallTurn(name="GET_EVENT", arguments={"calendarId": "primary", "eventId": "evt_123",
                                                  "customer": "cus_unknown", "summary": "evt_999"}),
        ToolResponseTurn(content={}),
        # Integers match their string form; list items and ids nested in objects count one by one.
        ToolCallTurn(name="ADD_LABELS", arguments={"label_ids": ["lbl_9", "lbl_nope"], "options": {"thread_id": 42}}),
        ToolResponseTurn(content={}),
        AssistantTurn(text="done"),
    ]
    stats = id_grounding(turns, TOOLS)
    assert stats.id_arguments == 5
    assert stats.grounded == 3
    assert sorted(stats.ungrounded) == [("ADD_LABELS", "label_ids", "lbl_nope"), ("GET_EVENT", "customer", "cus_unknown")]
    assert stats.rate == pytest.approx(3 / 5)


def test_id_grounding_response_must_come_before_the_call() -> None:
    turns = [
        UserTurn(text="hi"),
        ToolCallTurn(name="LIST_CALENDARS", arguments={}),
        ToolResponseTurn(content={"id": "a"}),
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_later"}),
        ToolResponseTurn(content={"id": "evt_later"}),
    ]
    stats = id_grounding(turns, TOOLS)
    assert (stats.id_arguments, stats.grounded) == (1, 0)


def test_id_grounding_counts_ids_the_user_stated_as_whole_words() -> None:
    turns = [
        UserTurn(text="List my calendars, then open event 77123 in app 2012."),
        ToolCallTurn(name="LIST_CALENDARS", arguments={}),
        ToolResponseTurn(content={"id": "a"}),
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "77123"}),
        ToolResponseTurn(content={}),
        # "12" appears only inside "2012" and "77123": not stated.
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": 12}),
        ToolResponseTurn(content={}),
    ]
    stats = id_grounding(turns, TOOLS)
    assert (stats.id_arguments, stats.grounded) == (2, 1)
    assert stats.ungrounded == [("GET_EVENT", "eventId", 12)]


def test_id_grounding_skips_every_call_of_a_first_parallel_call() -> None:
    turns = [
        UserTurn(text="hi"),
        # Issued together before any response: like a single first call, not counted.
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_a"}),
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_b"}),
        ToolResponseTurn(content={"id": "evt_a", "next": "evt_c"}),
        ToolResponseTurn(content={"id": "evt_b"}),
        # A later parallel call: each call may use any response before the group.
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_c"}),
        ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_d"}),
        ToolResponseTurn(content={"id": "evt_d"}),
        ToolResponseTurn(content={}),
        AssistantTurn(text="done"),
    ]
    stats = id_grounding(turns, TOOLS)
    assert (stats.id_arguments, stats.grounded) == (2, 1)
    # evt_d is only in a response of its own group, which comes after the call.
    assert stats.ungrounded == [("GET_EVENT", "eventId", "evt_d")]


def test_grounding_stats_add_and_empty_rate() -> None:
    total = GroundingStats()
    assert total.rate is None
    total.add(GroundingStats(2, 1, [("T", "a", 1)]))
    total.add(GroundingStats(2, 2))
    assert (total.id_arguments, total.grounded, total.ungrounded) == (4, 3, [("T", "a", 1)])
    assert total.rate == 0.75


# ---- TRL export --------------------------------------------------------------------------------

CONVERSATION = [
    UserTurn(text="Find my calendars and the planning event."),
    ThoughtTurn(text="First list calendars."),
    AssistantTurn(text="Let me look."),
    ToolCallTurn(name="LIST_CALENDARS", arguments={}),
    ToolResponseTurn(content={"items": [{"id": "cal_1", "summary": "Work ü"}]}),
    ToolCallTurn(name="GET_EVENT", arguments={"calendarId": "cal_1", "eventId": "evt_1"}),
    ToolResponseTurn(content={"id": "evt_1"}),
    ThoughtTurn(text="Both done."),
    ThoughtTurn(text="Summarise."),
    AssistantTurn(text="Found calendar Work and event evt_1."),
    UserTurn(text="Thanks!"),
    AssistantTurn(text="You're welcome."),
]


def test_to_messages_shape() -> None:
    messages = to_messages(CONVERSATION, "conv_1", system_prompt="You are helpful.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                             "assistant", "user", "assistant"]
    assert messages[0] == {"role": "system", "content": "You are helpful."}
    first_call = messages[2]
    # Text before a call is the content of the message carrying it; the thought is its reasoning.
    assert first_call["content"] == "Let me look."
    assert first_call["reasoning_content"] == "First list calendars."
    (call,) = first_call["tool_calls"]
    assert call["type"] == "function"
    assert call["function"] == {"name": "LIST_CALENDARS", "arguments": {}}
    assert call["id"].startswith("call_")
    second_call = messages[4]
    assert second_call["content"] == "" and "reasoning_content" not in second_call
    assert second_call["tool_calls"][0]["function"]["arguments"] == {"calendarId": "cal_1", "eventId": "evt_1"}
    # Tool messages answer the call right before them, by id and name.
    for call_msg, tool_msg in ((messages[2], messages[3]), (messages[4], messages[5])):
        assert tool_msg["tool_call_id"] == call_msg["tool_calls"][0]["id"]
        assert tool_msg["name"] == call_msg["tool_calls"][0]["function"]["name"]
    assert messages[2]["tool_calls"][0]["id"] != messages[4]["tool_calls"][0]["id"]
    assert json.loads(messages[3]["content"]) == {"items": [{"id": "cal_1", "summary": "Work ü"}]}
    assert "ü" in messages[3]["content"]
    final = messages[6]
    assert final == {"role": "assistant", "content": "Found calendar Work and event evt_1.",
                     "reasoning_content": "Both done.\nSummarise."}
    assert messages[8] == {"role": "assistant", "content": "You're welcome."}


def test_to_messages_without_system_prompt_and_stable_ids() -> None:
    for prompt in (None, ""):
        messages = to_messages(CONVERSATION, "conv_1", system_prompt=prompt)
        assert messages[0]["role"] == "user"
    ids = [m["tool_calls"][0]["id"] for m in to_messages(CONVERSATION, "conv_1") if "tool_calls" in m]
    assert ids == [m["tool_calls"][0]["id"] for m in to_messages(CONVERSATION, "conv_1") if "tool_calls" in m]
    other = [m["tool_calls"][0]["id"] for m in to_messages(CONVERSATION, "conv_2") if "tool_calls" in m]
    assert set(ids).isdisjoint(other)


def test_to_messages_text_without_call_stays_its_own_message() -> None:
    messages = to_messages([UserTurn(text="hi"), AssistantTurn(text="What date?"), UserTurn(text="Monday"),
                            ToolCallTurn(name="LIST_CALENDARS", arguments={"d": "Monday"}),
                            ToolResponseTurn(content=[1, 2]), AssistantTurn(text="ok")], "c")
    assert messages[1] == {"role": "assistant", "content": "What date?"}
    assert messages[3]["content"] == "" and messages[3]["tool_calls"][0]["function"]["arguments"] == {"d": "Monday"}
    assert messages[4]["content"] == "[1, 2]"
    assert messages[5] == {"role": "assistant", "content": "ok"}


PARALLEL = [
    UserTurn(text="My calendars, the planning event and the review?"),
    ThoughtTurn(text="Three independent lookups."),
    AssistantTurn(text="Looking all three up."),
    ToolCallTurn(name="LIST_CALENDARS", arguments={}),
    ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_1"}),
    ToolCallTurn(name="GET_EVENT", arguments={"eventId": "evt_2"}),
    ToolResponseTurn(content={"items": [{"id": "cal_1"}]}),
    ToolResponseTurn(content={"id": "evt_1", "summary": "Planning"}),
    ToolResponseTurn(content={"id": "evt_2", "summary": "Review"}),
    ToolCallTurn(name="ADD_LABELS", arguments={"label_ids": ["x"]}),
    ToolResponseTurn(content={"ok": True}),
    AssistantTurn(text="Calendar cal_1; Planning and Review."),
]


def test_to_messages_parallel_call_is_one_assistant_message_with_an_id_per_call() -> None:
    messages = to_messages(PARALLEL, "conv_p")
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool", "tool", "assistant", "tool",
                                             "assistant"]
    group = messages[1]
    assert group["content"] == "Looking all three up."
    assert group["reasoning_content"] == "Three independent lookups."
    assert [c["function"] for c in group["tool_calls"]] == [
        {"name": "LIST_CALENDARS", "arguments": {}},
        {"name": "GET_EVENT", "arguments": {"eventId": "evt_1"}},
        {"name": "GET_EVENT", "arguments": {"eventId": "evt_2"}},
    ]
    ids = [c["id"] for c in group["tool_calls"]] + [messages[5]["tool_calls"][0]["id"]]
    assert len(set(ids)) == 4 and all(i.startswith("call_") for i in ids)
    # The k-th tool message answers the k-th call: its id and name.
    for call, tool_msg in zip(group["tool_calls"], messages[2:5]):
        assert (tool_msg["tool_call_id"], tool_msg["name"]) == (call["id"], call["function"]["name"])
    assert json.loads(messages[3]["content"]) == {"id": "evt_1", "summary": "Planning"}
    assert messages[6]["tool_call_id"] == ids[3]
    # Ids number the calls through the conversation, whatever the grouping: the single-call
    # spelling of the same calls gets the same ids.
    sequential = [PARALLEL[0], PARALLEL[3], PARALLEL[6], PARALLEL[4], PARALLEL[7], PARALLEL[5], PARALLEL[8],
                  *PARALLEL[9:]]
    assert [c["id"] for m in to_messages(sequential, "conv_p") for c in m.get("tool_calls", [])] == ids


def test_trl_round_trip_keeps_parallel_calls_and_their_responses() -> None:
    assert turns_from_messages(to_messages(PARALLEL, "conv_p", "sys")) == PARALLEL
    for name in ("parallel_calls.dml", "parallel_calls_with_thoughts.dml"):
        turns = list(parse_dml((FIXTURES / name).read_text(encoding="utf-8")).turns)
        assert turns_from_messages(to_messages(turns, name)) == turns, name


def test_turns_from_messages_puts_results_listed_out_of_order_in_call_order() -> None:
    messages = to_messages(PARALLEL, "conv_p")
    messages[2:5] = [messages[4], messages[2], messages[3]]
    assert turns_from_messages(messages) == PARALLEL
    # Ids that do not name the calls one to one: message order is kept.
    messages[2] = {**messages[2], "tool_call_id": "call_unknown"}
    turns = turns_from_messages(messages)
    assert turns[6] == ToolResponseTurn(content={"id": "evt_2", "summary": "Review"})


def test_to_messages_of_miscounted_responses_does_not_fail() -> None:
    call = ToolCallTurn(name="LIST_CALENDARS", arguments={})
    messages = to_messages([UserTurn(text="hi"), call, call, ToolResponseTurn(content=1), ToolResponseTurn(content=2),
                            ToolResponseTurn(content=3), AssistantTurn(text="ok")], "c")
    assert len(messages[1]["tool_calls"]) == 2
    assert [m["tool_call_id"] for m in messages[2:5]] == [c["id"] for c in messages[1]["tool_calls"]] + [""]


def test_tools_list() -> None:
    tool = TOOLS["GET_EVENT"]
    (entry,) = tools_list([tool])
    assert entry == {"type": "function", "function": {"name": "GET_EVENT", "description": tool.description,
                                                      "parameters": tool.input_schema}}


# ---- lexical dedup -----------------------------------------------------------------------------

BASE = ("A project coordinator is handling the quarterly budget review and needs to create a document, share it "
        "with the finance team, and finally schedule a meeting to discuss the numbers with everyone next week")


def test_normalise_and_shingles() -> None:
    assert normalise("Hello,   WORLD! It's 2026.") == "hello world it s 2026"
    assert shingles("a b c d") == {"a b c", "b c d"}
    assert shingles("two words") == {"two words"}
    assert shingles("!!!") == set()


def test_exact_duplicates_ignore_case_and_punctuation() -> None:
    dedup = LexicalDeduplicator(threshold=0.85)
    assert dedup.check("scn_a", BASE) is None
    dup = dedup.check("scn_b", "  " + BASE.upper().replace(",", " ;") + "!!")
    assert dup is not None
    assert (dup.duplicate_of, dup.similarity, dup.reason) == ("scn_a", 1.0, "exact")


def test_near_duplicates_and_distinct_texts() -> None:
    dedup = LexicalDeduplicator(threshold=0.85)
    assert dedup.check("scn_a", BASE) is None
    near = dedup.check("scn_b", BASE.replace("next week", "on Friday"))
    assert near is not None and near.reason == "near" and near.duplicate_of == "scn_a"
    assert 0.85 <= near.similarity < 1.0
    distinct = [
        "A recruiter needs to list open candidates and send each one an email about the onsite interview schedule",
        "An accountant wants to create an invoice for a new customer, finalize it and send a payment reminder",
        "A support lead must search the open issues, assign the urgent ones and post a summary to the team channel",
    ]
    assert [dedup.check(f"scn_{i}", text) for i, text in enumerate(distinct)] == [None, None, None]
    # Only accepted texts are compared against: a copy of a duplicate names the text that was kept.
    again = dedup.check("scn_c", BASE.replace("next week", "on Friday"))
    assert again is not None and again.duplicate_of == "scn_a"
    copy_of_distinct = dedup.check("scn_d", distinct[1])
    assert copy_of_distinct is not None and copy_of_distinct.duplicate_of == "scn_1"


def test_threshold_and_accept_all() -> None:
    strict = LexicalDeduplicator(threshold=0.95)
    strict.check("a", BASE)
    assert strict.check("b", BASE.replace("next week", "on Friday")) is None
    seeded = LexicalDeduplicator(threshold=0.85)
    seeded.accept_all([("old_1", BASE), ("old_2", "Something else entirely about sending invoices to customers")])
    dup = seeded.check("new", BASE)
    assert dup is not None and dup.duplicate_of == "old_1"


@pytest.mark.parametrize("threshold", [0.99, 1.0])
def test_high_thresholds_the_settings_allow(threshold: float) -> None:
    dedup = LexicalDeduplicator(threshold=threshold)
    assert dedup.check("a", BASE) is None
    assert dedup.check("b", BASE.replace("next week", "on Friday")) is None
    exact = dedup.check("c", BASE.upper())
    assert exact is not None and exact.reason == "exact"


def test_dedup_scenarios_frame() -> None:
    rows = [
        {"scenario_id": "s1", "combo_id": "c1", "bundle": "b", "scenario": BASE, "seed": 1, "status": "ok",
         "reject_reason": None},
        {"scenario_id": "s2", "combo_id": "c2", "bundle": "b", "scenario": BASE + ".", "seed": 1, "status": "ok",
         "reject_reason": None},
        {"scenario_id": "s3", "combo_id": "c3", "bundle": "b", "scenario": "", "seed": 1, "status": "no_text",
         "reject_reason": "empty"},
        {"scenario_id": "s4", "combo_id": "c4", "bundle": "b",
         "scenario": "A recruiter lists candidates and emails them", "seed": 1, "status": "ok", "reject_reason": None},
    ]
    out = dedup_scenarios(frame("scenarios", rows), threshold=0.85)
    by_id = {r["scenario_id"]: r for r in out.iter_rows(named=True)}
    assert by_id["s1"]["status"] == "ok" and by_id["s1"]["duplicate_of"] is None
    assert by_id["s2"]["status"] == "duplicate" and by_id["s2"]["duplicate_of"] == "s1"
    assert by_id["s3"]["status"] == "no_text" and by_id["s3"]["reject_reason"] == "empty"
    assert by_id["s4"]["status"] == "ok"


def test_id_grounding_leaves_out_system_constants_the_description_names() -> None:
    """Gmail's STARRED / UNREAD label ids are API keywords the description lists, like a
    documented default; a constant it does not name still has to be shown first."""
    tools = {"MODIFY": make_tool("MODIFY", {"label_ids": {"type": "array", "items": STR,
                                                         "description": "Labels to add, e.g. Label_45 or STARRED."}})}
    turns = [
        UserTurn(text="hi"),
        ToolCallTurn(name="MODIFY", arguments={}),
        ToolResponseTurn(content={}),
        ToolCallTurn(name="MODIFY", arguments={"label_ids": ["STARRED", "IMPORTANT", "Label_45"]}),
        ToolResponseTurn(content={}),
    ]
    stats = id_grounding(turns, tools)
    assert (stats.id_arguments, stats.grounded) == (2, 0)
    assert [v for _, _, v in stats.ungrounded] == ["IMPORTANT", "Label_45"]
