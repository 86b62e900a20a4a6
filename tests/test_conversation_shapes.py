"""Conversation shapes of the embedded generator: tool failures and their recovery, go-aheads
before destructive calls, requests no tool serves, and failure bodies exempt from output schemas."""

from __future__ import annotations

from typing import Any

import re

import pytest
from offline_frames import write_bundle

from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.dml.validator import reports_failure, validate_conversation
from funcdex_assets.offline import planner
from funcdex_assets.offline.planner import FAILURE_KINDS, ConversationPlan
from funcdex_assets.quality.detectors import detect
from funcdex_assets.quality.dialogue import dialogue_from_messages
from funcdex_assets.export.trl import to_messages

BUNDLES = ("gmail_googlecalendar", "jira_gmail", "asana")


@pytest.fixture(scope="module")
def written() -> list[tuple[ConversationPlan, list[Any], dict]]:
    with pytest.MonkeyPatch.context() as patch:
        # A failure in every conversation that can have one, so every kind the bundles allow
        # turns up (at the default rate, a rare kind may miss a small sample).
        patch.setattr(planner, "FAILURE_RATE", 1.0)
        return _written()


def _written() -> list[tuple[ConversationPlan, list[Any], dict]]:
    out = []
    for bundle in BUNDLES:
        written = write_bundle(bundle, 40, 5)
        tools, outlines, conversations = written.tools, written.outlines, written.conversations
        plans = {r["outline_id"]: ConversationPlan.model_validate_json(r["plan"]) for r in outlines.iter_rows(named=True)}
        by_name = {t.name: t for t in tools}
        for row in conversations.iter_rows(named=True):
            turns = list(parse_dml(row["dml"]).turns)
            assert validate_conversation(turns, by_name, check_responses=True) == [], row["dml"]
            out.append((plans[row["outline_id"]], turns, by_name))
    return out


def _step_calls(turns: list[Any], tool: str) -> list[int]:
    return [i for i, t in enumerate(turns) if isinstance(t, ToolCallTurn) and t.name == tool]


def test_every_failure_kind_is_followed_by_its_recovery(written) -> None:
    seen = set()
    for plan, turns, _ in written:
        for step in plan.steps:
            if not step.failure:
                continue
            seen.add(step.failure)
            failed = next((i for i in _step_calls(turns, step.tool)
                           if isinstance(turns[i + 1], ToolResponseTurn) and reports_failure(turns[i + 1].content)), None)
            if failed is None:
                # The step repeated what an earlier call just did: said, not called (repeated_call).
                assert any("so I didn't" in t.text for t in turns if isinstance(t, AssistantTurn)), step.tool
                continue
            after = turns[failed + 2:]
            kind = step.failure
            if kind == "permission_denied" and "429" in str(turns[failed + 1].content):
                # The writer found the refusal implausible (what the call acts on is the user's
                # own: implausible_denial) and the service asked them to wait instead.
                kind = "rate_limit"
            if kind == "permission_denied":
                # An honest report, no retry: the next assistant text says it could not.
                text = next(t.text for t in after if isinstance(t, AssistantTurn))
                assert "couldn't" in text or "wasn't able" in text, text
                continue
            retry = next(i for i, t in enumerate(after) if isinstance(t, ToolCallTurn))
            assert after[retry].name == step.tool
            assert not reports_failure(after[retry + 1].content)
            asked = any(isinstance(t, UserTurn) for t in after[:retry])
            # A rate limit is retried as it was; a wrong value is asked about and corrected.
            assert asked == (kind != "rate_limit"), (kind, after[:retry])
            if step.first_try:
                arg, wrong = next(iter(step.first_try.items()))
                assert turns[failed].arguments[arg] == wrong
                assert after[retry].arguments[arg] == step.user_args[arg] != wrong
    # not_found needs an id the user states (no tool returns it); these bundles have none.
    assert seen == set(FAILURE_KINDS) - {"not_found"}


def test_confirmations_come_before_the_call_and_a_no_is_respected(written) -> None:
    kinds = set()
    for plan, turns, _ in written:
        for i, step in enumerate(plan.steps):
            if step.confirm == "none":
                continue
            kinds.add((step.confirm, step.implicit))
            calls = _step_calls(turns, step.tool)
            if step.confirm == "decline":
                assert plan.steps.count(step) == 1
                # Nothing of this tool after the "no" for this step's target.
                continue
            assert calls, step.tool
    assert ("ask", True) in kinds and ("ask", False) in kinds and any(c == "decline" for c, _ in kinds)


def test_no_finding_on_shapes(written) -> None:
    """The shapes pass the meaning detectors: a confirmed deletion is not unconfirmed, nothing
    acts on what a call deleted, an out-of-scope answer needs no call, a read shows what was
    given, an object is looked for where it lives, a trash is not called final."""
    found = {}
    out_of_scope = 0
    for plan, turns, by_name in written:
        out_of_scope += sum(bool(r.out_of_scope) for r in plan.requests)
        messages = to_messages(turns, "c", system_prompt="Today is " + plan.today + ".")
        codes = {f.code for f in detect(dialogue_from_messages(messages))}
        for code in codes & {"unconfirmed_destruction", "used_after_delete", "entity_drift", "wrong_container",
                             "false_finality", "end_before_start", "doubled_word", "name_mismatch",
                             "amounts_disagree", "unseen_reference", "repeated_call", "implausible_denial", "self_addressed", "needless_state_change", "silent_pick"}:
            found.setdefault(code, 0)
            found[code] += 1
    assert out_of_scope >= 3
    assert not found


def test_failure_bodies_are_not_held_to_output_schemas() -> None:
    assert reports_failure({"successful": False, "error": "404: not found", "data": {}})
    assert reports_failure({"error": {"code": 404, "message": "not found"}})
    assert not reports_failure({"successful": True, "error": None, "data": {}})
    assert not reports_failure({"data": {"error": "a field named error"}})
    assert not reports_failure([{"error": "x"}])


def test_out_of_scope_answers_name_the_services_as_people_write_them(written) -> None:
    from funcdex_assets.catalog.names import toolkit_display_name

    assert [toolkit_display_name(t) for t in ("googlecalendar", "whatsapp", "github", "my_crm", "jira")] == [
        "Google Calendar", "WhatsApp", "GitHub", "My Crm", "Jira"]
    answers = [t.text for plan, turns, _ in written for r in plan.requests if r.out_of_scope
               for t in turns if isinstance(t, AssistantTurn) and r.out_of_scope in t.text]
    assert answers and all("Googlecalendar" not in a and "Gmail" in a for a in answers if "mail" in a.lower())


def test_a_created_thing_is_named_by_the_user(written) -> None:
    """A create whose tool takes a name, title, subject or email gets one the user states, so the
    world does not invent the new customer's name."""
    from funcdex_assets.catalog.actions import name_action
    from funcdex_assets.offline.planner import _names_it

    checked = 0
    for plan, _, by_name in written:
        for step in plan.steps:
            tool = by_name[step.tool]
            fields = [k for k in (tool.input_schema.get("properties") or {}) if _names_it(k)]
            if name_action(tool.original_name) != "create" or not fields:
                continue
            checked += 1
            assert any(_names_it(k) for k in [*step.user_args, *step.reuse]), (step.tool, step.user_args)
    assert checked >= 20


def test_window_bounds_the_user_states_are_in_order() -> None:
    from funcdex_assets.offline.planner import order_windows

    args = {"dueMin": "2026-07-06T14:30:00Z", "dueMax": "2026-07-05T11:00:00Z", "q": "report"}
    order_windows(args)
    assert args == {"dueMin": "2026-07-05T11:00:00Z", "dueMax": "2026-07-06T14:30:00Z", "q": "report"}
    dates = {"start_date": "2026-03-09", "end_date": "2026-03-02"}
    order_windows(dates)
    assert dates == {"start_date": "2026-03-02", "end_date": "2026-03-09"}
    span = {"document_id": "doc_1", "start_index": 10, "end_index": 7}  # seen: "delete 10 thru 7"
    order_windows(span)
    assert span == {"document_id": "doc_1", "start_index": 7, "end_index": 10}


def test_a_bound_moved_alone_brings_the_other_so_nothing_ends_before_it_starts() -> None:
    """PATCH_EVENT with only a new end could put the end before the event's start (seen:
    end May 28 on an event starting June 1); the other bound comes along, 30-90 minutes away."""
    import random
    from datetime import datetime

    from funcdex_assets.offline.planner import lasting

    props = {"start": {}, "end": {}, "summary": {}}
    only_end = {"end": {"dateTime": "2026-05-28T13:30:00Z"}}
    lasting(only_end, random.Random(1), props)
    only_start = {"start_time": "2026-05-28T09:00:00Z"}
    lasting(only_start, random.Random(1), {"start_time": {}, "end_time": {}})
    for low, high in ((only_end["start"]["dateTime"], only_end["end"]["dateTime"]),
                      (only_start["start_time"], only_start["end_time"])):
        minutes = (datetime.fromisoformat(high) - datetime.fromisoformat(low)).total_seconds() / 60
        assert 30 <= minutes <= 90, (low, high)
    date_only = {"end": {"date": "2026-08-19"}}
    lasting(date_only, random.Random(1), props)
    assert date_only["start"] == {"date": "2026-08-18"}  # not `start: {}` (seen in PATCH_EVENT)
    mixed = {"start": {"date": "2026-02-06"}, "end": {"dateTime": "2026-02-27T08:00:00Z"}}
    lasting(mixed, random.Random(1), props)  # seen: an all-day start ending three weeks later at 08:00
    assert mixed == {"start": {"date": "2026-02-06"}, "end": {"date": "2026-02-07"}}
    zones = {"start": {"date": "2026-08-10", "timeZone": "America/New_York"},
             "end": {"date": "2026-08-11", "timeZone": "Europe/Berlin"}}
    lasting(zones, random.Random(1), props)
    assert zones["end"]["timeZone"] == "America/New_York"
    no_end_field = {"start": {"dateTime": "2026-05-28T13:30:00Z"}}
    lasting(no_end_field, random.Random(1), {"start": {}})  # a tool without an end keeps none
    assert no_end_field == {"start": {"dateTime": "2026-05-28T13:30:00Z"}}


def test_a_summary_names_what_the_call_made_not_an_id_it_refers_to(written) -> None:
    # ADD_WATCHER answers with the watcher's accountId: what was added is a watcher, not "the
    # account (ID ...)"; a sent WhatsApp message is not "the wa".
    texts = [t.text for _, turns, _ in written for t in turns if isinstance(t, AssistantTurn)]
    watched = [t for t in texts if "the watcher" in t]
    assert watched, "no watcher was added in the sample"
    assert not any("I added the account" in t for t in texts)


def test_fields_people_seldom_set_are_seldom_asked_for(written) -> None:
    """A blind copy or a second cc is the exception in real mail: the planner asks for them at a
    fraction of the usual optional rate (planner.SELDOM_SET). Before, 74-80% of drafts, replies
    and sent mails had a bcc."""
    mails = [step for plan, _, _ in written for step in plan.steps
             if step.tool.endswith(("SEND_EMAIL", "REPLY_TO_THREAD", "CREATE_EMAIL_DRAFT"))]
    assert len(mails) >= 40
    share = {field: sum(field in s.user_args for s in mails) / len(mails) for field in ("bcc", "cc")}
    assert share["bcc"] <= 0.25 and share["cc"] <= 0.5, share
    new = [s for s in mails if not s.tool.endswith("REPLY_TO_THREAD")]
    assert sum("subject" in s.user_args for s in new) >= 0.5 * len(new)  # what people do set still is


def test_a_free_busy_answer_is_summarised_as_busy_and_free_times() -> None:
    """Not "I found 1 calendar": when the user is busy, and that the rest is free."""
    from funcdex_assets.offline.writer import _busy_ranges, _free_busy

    answer = {"data": {"calendars": [{"id": "primary", "busy": [
        {"start": "2026-07-27T15:30:00Z", "end": "2026-07-27T16:30:00Z"},
        {"start": "2026-07-15T15:15:00Z", "end": "2026-07-15T16:45:00Z"}]}]}}
    assert _free_busy(_busy_ranges(answer)) == (
        "You're busy 2 times in that range: July 15, 2026 at 15:15 UTC to 16:45 UTC and July 27, 2026 at "
        "15:30 UTC to 16:30 UTC; the rest of it is free.")
    assert _free_busy(_busy_ranges({"data": {"calendars": [{"id": "primary", "busy": []}]}})) == (
        "You're free for that whole range.")
    assert _busy_ranges({"data": {"events": []}}) is None


def test_a_refusal_nobody_planned_is_reported_not_summarised_as_done() -> None:
    from funcdex_assets.offline.writer import _refusal_message

    assert _refusal_message({"error": {"code": 404, "message": "Tasklist 'x1' was not found."}}) == (
        "Tasklist 'x1' was not found")
    assert _refusal_message({"successful": False, "error": "403 Forbidden", "data": {}}) == "403 Forbidden"
    assert _refusal_message({"successful": True, "data": {"id": "x1"}}) is None


def test_the_assistant_does_not_repeat_a_result_it_said_in_the_same_turn(written) -> None:
    """"I found 3 projects: ..." in the which-one question, again between the calls and again in
    the summary was half of all conversations; each result is said once per turn."""
    import re

    from funcdex_assets.dml.model import AssistantTurn, UserTurn

    repeats, checked = [], 0
    for _, turns, _ in written:
        said: set[str] = set()
        for turn in turns:
            if isinstance(turn, UserTurn):
                said = set()
            elif isinstance(turn, AssistantTurn) and turn.text:
                for sentence in re.findall(r"I (?:found|created|updated|retrieved|deleted|added) [^.]*\.", turn.text):
                    checked += 1
                    if sentence in said:
                        repeats.append(sentence)
                    said.add(sentence)
    assert checked > 100 and not repeats, repeats[:5]


def test_an_answer_without_ids_is_summarised_with_what_it_says() -> None:
    """"I retrieved the profile successfully." tells the user nothing they asked for."""
    from funcdex_assets.offline.writer import _salient

    assert _salient({"successful": True, "data": {"emailAddress": "ana@x.io", "messagesTotal": 1204,
                                                  "historyId": "99"}}) == "ana@x.io, 1,204 messages"
    assert _salient({"data": {"resource": {"booking_url": "https://calendly.com/d/abc", "owner_type": "EventType"}}}) \
        == "https://calendly.com/d/abc"
    assert _salient({"successful": True, "data": {"total": 0}}) == ""


def test_a_listing_without_names_says_what_its_items_hold() -> None:
    """"I found 4 threads." tells nothing; their first words, or their times, do."""
    from funcdex_assets.offline.writer import _gists

    threads = {"data": {"threads": [{"id": "t1", "snippet": "Sharing the latest on the Q3 plan: we are on track"},
                                    {"id": "t2", "snippet": "Thanks"}]}}
    assert _gists(threads) == ['"Sharing the latest on the Q3..."', '"Thanks"']
    times = {"collection": [{"start_time": "2026-02-09T15:00:00Z"}, {"start_time": "2026-02-09T15:00:00Z"},
                            {"start_time": "2026-02-10T09:30:00Z"}]}
    assert _gists(times) == ["February 9, 2026 at 15:00 UTC", "February 10, 2026 at 09:30 UTC"]
    assert _gists({"data": {"items": [{"id": "x"}]}}) == []


def test_a_question_before_trashing_names_what_it_moves(written) -> None:
    """"Should I move to the trash (that message)?" reads as a tool name; "move that message to
    the trash" as a person asks."""
    from funcdex_assets.dml.model import AssistantTurn

    texts = [t.text for _, turns, _ in written for t in turns if isinstance(t, AssistantTurn)]
    assert not [t for t in texts if "move to the trash (" in t], [t for t in texts if "move to the trash (" in t][:3]
    assert any(re.search(r"move (?:that|the) \w+.* to the trash", t) for t in texts)


def test_no_call_carries_an_empty_object(written) -> None:
    """`"start": {}` beside a new end was a call a person would not make."""
    empty = [(t.name, k) for _, turns, _ in written for t in turns if isinstance(t, ToolCallTurn)
             for k, v in t.arguments.items() if v == {}]
    assert not empty, empty[:5]


def test_the_assistant_asks_for_a_value_in_words_not_by_its_parameter_name() -> None:
    """"Which time min would you like?" reads out the parameter; "earliest time" does not."""
    from funcdex_assets.offline.writer import field_noun

    assert [field_noun(n) for n in ("timeMin", "timeMax", "dueMin", "rows", "maxResults", "due_on", "to")] == [
        "earliest time", "latest time", "earliest date", "number of rows", "number of results", "due date",
        "recipient"]
    assert field_noun("summary") == "title"  # Calendar and Jira call the title a summary; people do not


def test_a_question_before_a_trash_does_not_call_it_final(written) -> None:
    """"Move that message to the trash? This can't be undone." teaches a falsehood: a trash or a
    cancellation can be taken back, a permanent delete cannot."""
    from funcdex_assets.catalog.actions import deletion_kind
    from funcdex_assets.dml.model import AssistantTurn

    final = re.compile(r"can't be undone|no undoing|can't be reversed|it's done, it's done", re.I)
    asked = 0
    for _, turns, _ in written:
        question = None
        for t in turns:
            if isinstance(t, AssistantTurn):
                question = t.text
            elif isinstance(t, ToolCallTurn) and deletion_kind(t.name) == "soft" and question and "?" in question:
                asked += 1
                assert not final.search(question), (t.name, question)
    assert asked >= 3


def test_a_chain_does_not_repeat_a_call_on_the_same_thing() -> None:
    """A sampled chain that would read one message twice, or the profile twice with nothing
    changed, loses the repeat (repeated_call); a second read of one out of a new listing, a
    read after a change and a second create stay."""
    from funcdex_assets.catalog.loader import load_catalog
    from offline_frames import REPO

    tools = {t.original_name: t for t in load_catalog(REPO / "tool_catalog").bundle_tools("gmail")}

    def kept(*names: str) -> list[str]:
        return [t.original_name for t in planner._without_repeats([tools[n] for n in names])]

    assert kept("FETCH_EMAILS", "FETCH_MESSAGE_BY_MESSAGE_ID", "GET_PROFILE", "FETCH_MESSAGE_BY_MESSAGE_ID") == [
        "FETCH_EMAILS", "FETCH_MESSAGE_BY_MESSAGE_ID", "GET_PROFILE"]
    assert kept("GET_PROFILE", "LIST_LABELS", "GET_PROFILE") == ["GET_PROFILE", "LIST_LABELS"]
    for names in (("FETCH_EMAILS", "FETCH_MESSAGE_BY_MESSAGE_ID", "FETCH_EMAILS", "FETCH_MESSAGE_BY_MESSAGE_ID"),
                  ("FETCH_EMAILS", "FETCH_MESSAGE_BY_MESSAGE_ID", "ADD_LABEL_TO_EMAIL", "FETCH_MESSAGE_BY_MESSAGE_ID"),
                  ("GET_PROFILE", "SEND_EMAIL", "GET_PROFILE"),
                  ("CREATE_LABEL", "LIST_LABELS", "CREATE_LABEL")):
        assert kept(*names) == list(names)


def test_a_listing_is_known_by_the_head_of_its_noun_phrase() -> None:
    from funcdex_assets.catalog.actions import reads_many

    for name in ("TODOIST_GET_ACTIVE_TASKS", "GET_ALL_COMMENTS", "get_cards_in_list", "LIST_LABELS"):
        assert reads_many(name), name
    for name in ("GMAIL_FETCH_MESSAGE_BY_THREAD_ID", "GET_TASK", "WHATSAPP_GET_MEDIA_INFO", "GET_EVENT_TYPE"):
        assert not reads_many(name), name


def test_a_time_said_in_words_is_the_only_form_a_call_carries() -> None:
    """"tomorrow at 5pm" as the due string, and no due date beside it that says another day
    (relative_date_mismatch); a date the user stated stays."""
    from funcdex_assets.offline.writer import _one_form

    args = {"content": "Tough retro", "due_string": "tomorrow at 5pm", "due_date": "2026-04-10",
            "due_datetime": "2026-04-10T10:00:00Z", "duration_unit": "day"}
    _one_form(args, said={"due_string": "tomorrow at 5pm"})
    assert args == {"content": "Tough retro", "due_string": "tomorrow at 5pm", "duration_unit": "day"}
    stated = {"due_string": "every friday", "due_date": "2026-04-10"}
    _one_form(stated, said=dict(stated))
    assert stated == {"due_string": "every friday", "due_date": "2026-04-10"}


def test_a_chain_reopens_only_what_it_closed() -> None:
    """REOPEN_TASK after a CREATE_TASK or a listing of active tasks reopens an open task
    (needless_state_change): the chain drops it; after a CLOSE_TASK it stays."""
    from funcdex_assets.catalog.loader import load_catalog
    from offline_frames import REPO

    tools = {t.original_name: t for t in load_catalog(REPO / "tool_catalog").bundle_tools("todoist")}

    def kept(*names: str) -> list[str]:
        return [t.original_name for t in planner._without_needless_restores([tools[n] for n in names])]

    assert kept("CREATE_TASK", "REOPEN_TASK") == ["CREATE_TASK"]
    assert kept("GET_ACTIVE_TASKS", "REOPEN_TASK", "GET_TASK") == ["GET_ACTIVE_TASKS", "GET_TASK"]
    assert kept("CREATE_TASK", "CLOSE_TASK", "REOPEN_TASK") == ["CREATE_TASK", "CLOSE_TASK", "REOPEN_TASK"]
    assert kept("CREATE_TASK", "CLOSE_TASK", "REOPEN_TASK", "REOPEN_TASK") == ["CREATE_TASK", "CLOSE_TASK", "REOPEN_TASK"]
