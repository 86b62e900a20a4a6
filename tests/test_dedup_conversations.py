"""Near-duplicate conversations: identical call sequences and near-identical text."""

from __future__ import annotations

import json
import random

import pytest

from funcdex_assets.dedup.conversations import (
    ConversationItem,
    call_signature,
    conversation_text,
    dedup_conversations,
    turns_from_messages,
)
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.export.trl import to_messages

USER = ("Please find the newest message from Dana about the third quarter budget review and "
        "forward it to the finance team with a short note saying we will discuss it on Monday")
ASSISTANT = ("I found the message from Dana titled budget review and forwarded it to the finance "
             "team together with your note about the Monday discussion")


def conv(user: str = USER, assistant: str = ASSISTANT, calls=(("GMAIL_FETCH_EMAILS", {"query": "from:dana"}),),
         thought: str | None = None, response=None) -> list:
    turns: list = [UserTurn(text=user)]
    if thought:
        turns.append(ThoughtTurn(text=thought))
    for name, arguments in calls:
        turns.append(ToolCallTurn(name=name, arguments=arguments))
        turns.append(ToolResponseTurn(content=response if response is not None else {"successful": True}))
    turns.append(AssistantTurn(text=assistant))
    return turns


def items(*convs) -> list[ConversationItem]:
    return [ConversationItem(f"c{i}", turns) for i, turns in enumerate(convs)]


def test_exact_copy_is_a_duplicate_of_the_first():
    dups = dedup_conversations(items(conv(), conv()))
    assert dups[0] is None
    assert dups[1] is not None
    assert (dups[1].duplicate_of, dups[1].reason, dups[1].similarity) == ("c0", "same_calls", 1.0)


def test_exact_copy_without_calls_is_a_text_duplicate():
    dups = dedup_conversations(items(conv(calls=()), conv(calls=())))
    assert dups[0] is None
    assert (dups[1].duplicate_of, dups[1].reason, dups[1].similarity) == ("c0", "near_text", 1.0)


def test_same_calls_with_other_wording_is_a_duplicate_by_signature():
    other = conv(user="Grab the latest note Dana sent on budgets and pass it along to finance, thanks",
                 assistant="Done, it went to finance.", thought="Search first.", response={"other": 1})
    dups = dedup_conversations(items(conv(), other))
    assert dups[1] is not None
    assert (dups[1].duplicate_of, dups[1].reason) == ("c0", "same_calls")
    # The text alone would not have flagged it: the call signature did.
    assert dups[1].similarity < 0.8


def test_argument_key_order_does_not_matter_but_values_do():
    a = conv(user="alpha one", calls=[("T", {"x": 1, "y": "b"})])
    b = conv(user="beta two", assistant="something else entirely", calls=[("T", {"y": "b", "x": 1})])
    c = conv(user="gamma three", assistant="and another reply", calls=[("T", {"y": "b", "x": 2})])
    dups = dedup_conversations(items(a, b, c))
    assert dups[1] is not None and dups[1].reason == "same_calls"
    assert dups[2] is None
    assert call_signature(a) == call_signature(b) != call_signature(c)


def test_call_order_matters_for_the_signature():
    a = conv(user="first request", assistant="ok", calls=[("A", {"x": 1}), ("B", {"y": 2})])
    b = conv(user="second request", assistant="fine", calls=[("B", {"y": 2}), ("A", {"x": 1})])
    assert dedup_conversations(items(a, b)) == [None, None]


def parallel(user: str, *groups: list) -> list:
    """A conversation of call groups: each a list of (name, arguments), issued at once."""
    turns: list = [UserTurn(text=user)]
    for group in groups:
        turns.extend(ToolCallTurn(name=name, arguments=arguments) for name, arguments in group)
        turns.extend(ToolResponseTurn(content={"successful": True}) for _ in group)
    turns.append(AssistantTurn(text="done " + user))
    return turns


def test_the_calls_of_a_parallel_call_have_no_order():
    a = parallel("first request here", [("A", {"x": 1}), ("B", {"y": 2})])
    b = parallel("second request there", [("B", {"y": 2}), ("A", {"x": 1})])
    dups = dedup_conversations(items(a, b))
    assert dups[1] is not None and dups[1].reason == "same_calls"
    # The same calls one after another are another sequence; so are other groupings.
    sequential = parallel("third request", [("A", {"x": 1})], [("B", {"y": 2})])
    assert len({call_signature(a), call_signature(sequential)}) == 2
    three = parallel("x", [("A", {"x": 1}), ("B", {"y": 2})], [("C", {"z": 3})])
    regrouped = parallel("y", [("A", {"x": 1})], [("B", {"y": 2}), ("C", {"z": 3})])
    assert call_signature(three) != call_signature(regrouped)


def test_signature_without_parallel_calls_is_the_flat_call_list():
    # Unchanged by parallel calls: signatures from earlier rounds still match.
    a = conv(calls=[("A", {"x": 1}), ("B", {"y": 2})])
    assert call_signature(a) == '[["A",{"x":1}],["B",{"y":2}]]'
    assert call_signature(parallel("u", [("B", {"y": 2}), ("A", {"x": 1})])) == '[[["A",{"x":1}],["B",{"y":2}]]]'


def test_messages_keep_the_calls_of_one_assistant_message_apart_from_the_next():
    for turns in (parallel("p", [("A", {"x": 1}), ("B", {"y": 2})]),
                  parallel("s", [("A", {"x": 1})], [("B", {"y": 2})])):
        messages = to_messages(turns, "c")
        for m in messages:
            for call in m.get("tool_calls", []):  # arguments as a JSON string, as some datasets have them
                call["function"]["arguments"] = json.dumps(call["function"]["arguments"])
        assert call_signature(turns_from_messages(messages)) == call_signature(turns)


def test_near_text_copy_with_other_ids_is_a_duplicate():
    a = conv(calls=[("GOOGLECALENDAR_FIND_EVENT", {"event_id": "evt_1"})])
    b = conv(user=USER.replace("Monday", "Tuesday"),
             calls=[("GOOGLECALENDAR_FIND_EVENT", {"event_id": "evt_2"})])
    assert call_signature(a) != call_signature(b)
    dups = dedup_conversations(items(a, b))
    assert dups[0] is None
    assert dups[1] is not None
    assert dups[1].reason == "near_text" and dups[1].duplicate_of == "c0"
    assert 0.8 <= dups[1].similarity < 1.0


def test_threshold_is_respected():
    a = conv(calls=[("T", {"id": 1})])
    b = conv(user=USER.replace("Monday", "Tuesday"), calls=[("T", {"id": 2})])
    sim = dedup_conversations(items(a, b))[1].similarity
    assert dedup_conversations(items(a, b), threshold=min(1.0, sim + 0.05)) == [None, None]


def test_distinct_conversations_are_kept():
    rng = random.Random(3)
    vocab = [f"word{i}" for i in range(500)]
    convs = [conv(user=" ".join(rng.choices(vocab, k=25)), assistant=" ".join(rng.choices(vocab, k=25)),
                  calls=[("T", {"id": i})]) for i in range(200)]
    assert dedup_conversations(items(*convs)) == [None] * 200


def test_zero_call_and_argument_less_conversations_are_not_flagged_by_signature():
    a = conv(user="what is on my calendar today", assistant="two meetings", calls=())
    b = conv(user="send a thank you email to the whole team", assistant="sent", calls=())
    c = conv(user="who am I logged in as right now", assistant="you are Zoe", calls=[("GET_CURRENT_USER", {})])
    d = conv(user="what is my email address on file", assistant="zoe at example", calls=[("GET_CURRENT_USER", {})])
    assert call_signature(a) is None and call_signature(c) is None
    assert dedup_conversations(items(a, b, c, d)) == [None, None, None, None]


def test_conversations_without_words_are_not_text_duplicates():
    a = conv(user="", assistant="", calls=())
    b = conv(user="!!", assistant="?", calls=())
    assert dedup_conversations(items(a, b)) == [None, None]


def test_accepted_before_is_respected_and_not_reported():
    earlier = [ConversationItem("old0", conv(user="something unrelated from another round", assistant="ok",
                                             calls=[("X", {"v": 1})])),
               ConversationItem("old1", conv())]
    dups = dedup_conversations(items(conv(), conv(user="a genuinely new request", assistant="fine",
                                                  calls=[("X", {"v": 2})])),
                               accepted_before=earlier)
    assert len(dups) == 2
    assert dups[0] is not None and dups[0].duplicate_of == "old1"
    assert dups[1] is None


def test_duplicate_of_names_the_kept_conversation_not_a_dropped_copy():
    base = conv()
    dups = dedup_conversations(items(base, base, base, conv(calls=[("OTHER", {"a": 1})])))
    assert [d.duplicate_of if d else None for d in dups] == [None, "c0", "c0", "c0"]
    assert dups[3].reason == "near_text"


def test_a_duplicate_is_never_kept_so_never_matched_later():
    # c1 repeats c0's calls (dropped); c2 repeats c1's text but not c0's calls or text: kept.
    c0 = conv(user="book the room for the offsite", assistant="booked", calls=[("BOOK", {"room": 1})])
    c1 = conv(calls=[("BOOK", {"room": 1})])
    c2 = conv(calls=[("BOOK", {"room": 2})])
    dups = dedup_conversations(items(c0, c1, c2))
    assert dups[1] is not None and dups[1].reason == "same_calls"
    assert dups[2] is None


def test_text_is_user_and_assistant_only():
    turns = conv(user="hello there", assistant="hi", thought="private", response={"secret": "x"})
    assert conversation_text(turns) == "hello there\nhi"


def test_repeated_keys_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        dedup_conversations([ConversationItem("k", conv()), ConversationItem("k", conv(calls=()))])
    with pytest.raises(ValueError, match="twice"):
        dedup_conversations([ConversationItem("k", conv())], accepted_before=[ConversationItem("k", conv())])


def test_deterministic_and_order_sensitive():
    a = conv(calls=[("T", {"id": 1})])
    b = conv(user=USER.replace("Monday", "Tuesday"), calls=[("T", {"id": 2})])
    first = dedup_conversations(items(a, b))
    assert first == dedup_conversations(items(a, b))
    reverse = dedup_conversations([ConversationItem("c1", b), ConversationItem("c0", a)])
    assert reverse[0] is None and reverse[1].duplicate_of == "c1"
