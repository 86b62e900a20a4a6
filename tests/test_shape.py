"""Conversation shape (quality/shape.py) and phrase frames (quality/phrase_frames.py) on small
hand-built rows: every figure, the tool-error / recovery and ordered / confirmed definitions with
positive and negative cases, the frame matcher, and `funcdex check`'s shape table and JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conversation_builder import assistant, call, conversation, user

from funcdex_assets.cli import main
from funcdex_assets.offline.language import phrasebook
from funcdex_assets.quality.dialogue import dialogue_from_row
from funcdex_assets.quality.phrase_frames import (
    USER_KEYS,
    frame,
    frames_from_phrasebook,
    frames_of,
    matching,
    opening,
    user_templates,
)
from funcdex_assets.quality.shape import (
    GOALS,
    Goal,
    ConversationShape,
    DestructiveCall,
    conversation_shape,
    percentile,
    shape_report,
)

EVENT = {"id": "evt_8842", "summary": "Design review", "start": "2026-03-03T15:00:00Z", "end": "2026-03-03T16:00:00Z"}


def shape_of(row, frames=()) -> ConversationShape:
    return conversation_shape(dialogue_from_row(row), frames)


def report_of(*rows, frames=()):
    return shape_report([shape_of(r, frames) for r in rows], frames=frames)


# ---------------------------------------------------------------------------------------------
# messages, calls, arguments, parallel calls


def test_counts_messages_without_the_system_prompt_calls_arguments_and_parallel_calls():
    row = conversation(
        user("What's on my calendar tomorrow, and what's the weather in Lisbon?"),
        assistant("", call("list_events", {"time_min": "2026-03-03T00:00:00Z", "time_max": "2026-03-04T00:00:00Z",
                                           "max_results": 5}, {"items": [EVENT]}),
                  call("get_weather", {"city": "Lisbon"}, {"temp_c": 19})),
        assistant("You have the design review at 15:00, and it's 19°C in Lisbon."),
        user("Thanks!"),
        assistant("Anytime."),
    )
    shape = shape_of(row)
    # user, assistant (2 calls), 2 tool messages, assistant, user, assistant; the system prompt not counted
    assert shape.messages == 7 and shape.tool_calls == 2
    assert shape.argument_counts == [3, 1] and shape.parallel is True
    assert shape.user_turns == 2

    sequential = conversation(user("What's the weather in Lisbon and Porto?"),
                              assistant("", call("get_weather", {"city": "Lisbon"}, {"temp_c": 19})),
                              assistant("", call("get_weather", {"city": "Porto"}, {"temp_c": 17})),
                              assistant("Lisbon 19°C, Porto 17°C."))
    assert shape_of(sequential).parallel is False


def test_the_report_averages_per_conversation_and_per_call_with_p90_and_max():
    def talk(turns: int):
        parts = []
        for i in range(turns):
            parts += [user(f"Weather in city {i}?"),
                      assistant("", call("get_weather", {"city": f"C{i}", "units": "metric"}, {"temp_c": i})),
                      assistant(f"It's {i}°C.")]
        return conversation(*parts)

    rows = [talk(n) for n in (1, 2, 3, 4, 10)]  # 4, 8, 12, 16, 40 messages; 1, 2, 3, 4, 10 calls
    figures = report_of(*rows).figures
    assert figures["conversations"] == 5
    assert figures["messages_mean"] == 16.0 and figures["messages_p90"] == 40 and figures["messages_max"] == 40
    assert figures["tool_calls"] == 20 and figures["tool_calls_mean"] == 4.0
    assert figures["arguments_per_call_mean"] == 2.0
    assert figures["parallel_share"] == 0.0


def test_percentile_is_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 12)), 0.9) == 10
    assert percentile([3, 1, 2], 0.5) == 2


def test_goals_pass_and_fail_and_a_figure_without_values_is_neither():
    short = conversation(user("Weather in Lisbon?"), assistant("", call("get_weather", {"city": "Lisbon"}, {"t": 1})),
                         assistant("19°C."))
    rows = {r["key"]: r for r in report_of(short).rows()}
    assert rows["messages"]["passed"] is False and rows["messages"]["goal"] == "mean >= 30"
    assert rows["tool_calls"]["passed"] is False and rows["parallel"]["passed"] is False
    assert rows["destructive"]["passed"] is True  # no destructive call: none unconfirmed
    assert rows["list_sizes"]["passed"] is None and "n/a" in rows["list_sizes"]["value"]  # no list response
    assert rows["frames"]["passed"] is None and rows["frames"]["value"] == "n/a (no templates)"
    assert rows["opening"]["goal"] == "" and rows["opening"]["passed"] is None

    lenient = {**GOALS, "messages": Goal("messages_mean", ">=", 3, label="mean")}
    rows = {r["key"]: r for r in shape_report([shape_of(short)], lenient).rows()}
    assert rows["messages"]["passed"] is True and rows["messages"]["goal"] == "mean >= 3"


# ---------------------------------------------------------------------------------------------
# tool errors and recoveries


@pytest.mark.parametrize("result", [
    {"successful": False, "data": {}},
    {"ok": False},
    {"error": {"message": "Event not found"}},
    {"errors": ["rate limited"]},
    {"status": 404, "message": "Not Found"},
    {"status_code": 503},
    {"code": 500, "message": "Internal error"},
    "Error: the event does not exist",
])
def test_a_result_that_reports_failure_is_a_tool_error(result):
    row = conversation(user("Show me the design review."),
                       assistant("", call("get_event", {"event_id": "evt_8842"}, result)),
                       assistant("Sorry, I couldn't open that event."))
    assert shape_of(row).tool_errors == 1


@pytest.mark.parametrize("result", [
    EVENT, {"status": "confirmed", "id": "evt_8842"}, {"error": None, "id": "evt_8842"}, {"errors": []},
    {"ok": True}, {"code": 200, "message": "OK"}, {"code": 404},  # a bare `code` is not an HTTP status
])
def test_a_result_that_does_not_report_failure_is_no_tool_error(result):
    row = conversation(user("Show me the design review."),
                       assistant("", call("get_event", {"event_id": "evt_8842"}, result)),
                       assistant("Here it is."))
    assert shape_of(row).tool_errors == 0


NOT_FOUND = {"error": {"code": 404, "message": "Event not found"}}


def test_recovery_by_a_retry_with_other_arguments():
    retried = conversation(user("Show me the design review."),
                           assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                           assistant("", call("get_event", {"event_id": "evt_8842"}, EVENT)),
                           assistant("The design review is on March 3 at 15:00."))
    shape = shape_of(retried)
    assert (shape.tool_errors, shape.recovered_errors) == (1, 1)


def test_recovery_by_the_same_call_after_a_transient_error():
    for failure in ({"status": 503}, {"successful": False, "error": "429: rate limit exceeded, retry after 5 seconds"}):
        again = conversation(user("Show me the design review."),
                             assistant("", call("get_event", {"event_id": "evt_8842"}, failure)),
                             assistant("", call("get_event", {"event_id": "evt_8842"}, EVENT)),
                             assistant("Here it is: March 3 at 15:00."))
        assert (shape_of(again).tool_errors, shape_of(again).recovered_errors) == (1, 1), failure


def test_recovery_by_admitting_the_problem_then_asking_or_trying_another_tool():
    said = conversation(user("Delete the design review."),
                        assistant("", call("delete_event", {"event_id": "evt_8842"}, NOT_FOUND)),
                        assistant("I couldn't delete it: the calendar says that event doesn't exist."))
    asked = conversation(user("Open the design review."),
                         assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                         assistant("I couldn't find that event. Which day is the design review on?"),
                         user("March 3."),
                         assistant("", call("list_events", {"q": "design review"}, {"items": [EVENT]})),
                         assistant("Found it: March 3 at 15:00."))
    other_tool = conversation(user("Show me the design review."),
                              assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                              assistant("That id was not found; let me search for the event instead.",
                                        call("list_events", {"q": "design review"}, {"items": [EVENT]})),
                              assistant("The design review is on March 3 at 15:00."))
    for row in (said, asked, other_tool):
        assert shape_of(row).recovered_errors == 1


def test_no_recovery_when_the_assistant_claims_success_repeats_the_call_or_moves_on():
    claimed = conversation(user("Delete the design review."),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": False,
                                                                                          "error": "forbidden"})),
                           assistant("Done, the design review is deleted."))
    # An admission later in the stretch does not undo the false claim before it.
    claimed_then_admitted = conversation(user("Delete the design review, then check the weather in Lisbon."),
                                         assistant("", call("delete_event", {"event_id": "evt_8842"},
                                                            {"successful": False})),
                                         assistant("Deleted. Now the weather.",
                                                   call("get_weather", {"city": "Lisbon"}, {"temp_c": 19})),
                                         assistant("It's 19°C in Lisbon. Sorry, the delete actually failed."))
    # The same call again after a 404 only repeats the mistake.
    same_again = conversation(user("Show me the design review."),
                              assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                              assistant("", call("get_event", {"event_id": "evt_8841"}, EVENT)),
                              assistant("Here it is: March 3 at 15:00."))
    # The next planned step (another tool, a clarifying question) is not a recovery.
    moved_on = conversation(user("Show me the design review, then the weather in Lisbon."),
                            assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                            assistant("", call("get_weather", {"city": "Lisbon"}, {"temp_c": 19})),
                            assistant("Here's the design review, and it's 19°C in Lisbon."))
    next_question = conversation(user("Delete the design review, then email Bob."),
                                 assistant("", call("delete_event", {"event_id": "evt_8842"}, NOT_FOUND)),
                                 assistant("Sure, I can send an email. What should it say?"),
                                 user("That I'm late."),
                                 assistant("", call("send_email", {"to": "bob@acme.io", "body": "I'm late."},
                                                    {"id": "m_1"})),
                                 assistant("Sent."))
    silent = conversation(user("Show me the design review."),
                          assistant("", call("get_event", {"event_id": "evt_8841"}, NOT_FOUND)),
                          assistant("Here are your plans for this week."),
                          user("And the weather in Lisbon?"),
                          assistant("", call("get_weather", {"city": "Lisbon"}, {"temp_c": 19})),
                          assistant("19°C."))
    for row in (claimed, claimed_then_admitted, same_again, moved_on, next_question, silent):
        shape = shape_of(row)
        assert (shape.tool_errors, shape.recovered_errors) == (1, 0), row


def test_the_report_counts_conversations_with_an_error_and_with_a_recovery():
    recovered = conversation(user("Delete the design review."),
                             assistant("", call("delete_event", {"event_id": "evt_8842"}, NOT_FOUND)),
                             assistant("That failed: the event doesn't exist."))
    unrecovered = conversation(user("Delete the design review."),
                               assistant("", call("delete_event", {"event_id": "evt_8842"}, NOT_FOUND)),
                               assistant("Done, deleted."))
    clean = conversation(user("Weather in Lisbon?"), assistant("", call("get_weather", {"city": "Lisbon"}, {"t": 1})),
                         assistant("19°C."))
    figures = report_of(recovered, unrecovered, clean, clean).figures
    assert figures["error_share"] == 0.5 and figures["error_recovery_share"] == 0.25
    assert (figures["tool_errors"], figures["tool_errors_recovered"]) == (2, 1)


# ---------------------------------------------------------------------------------------------
# destructive calls: ordered, confirmed, neither


def _destructive(row) -> list[DestructiveCall]:
    return shape_of(row).destructive


def test_a_destructive_call_the_user_ordered_is_ordered():
    row = conversation(user("Please cancel the design review."),
                       assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                       assistant("Cancelled."))
    assert _destructive(row) == [DestructiveCall("cancel_event", "cancel", ordered=True, confirmed=False)]


def test_a_destructive_call_the_user_agreed_to_is_confirmed():
    row = conversation(user("The design review is pointless now."),
                       assistant("Shall I delete the design review on March 3?"), user("Yes please."),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                       assistant("Deleted."))
    assert _destructive(row) == [DestructiveCall("delete_event", "delete", ordered=False, confirmed=True)]


def test_a_destructive_call_without_order_or_agreement_is_neither():
    unasked = conversation(user("Show me the design review."),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                           assistant("I removed it."))
    refused = conversation(user("The design review is pointless now."),
                           assistant("Shall I delete the design review on March 3?"), user("No, keep it for now."),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                           assistant("Deleted."))
    other_kind = conversation(user("Delete the design review and tell Bob."),  # asks to delete, and "tell" is send
                              assistant("", call("create_refund", {"charge_id": "ch_1"}, {"id": "re_1"})),
                              assistant("Refunded."))
    for row in (unasked, refused, other_kind):
        [found] = _destructive(row)
        assert not found.ordered and not found.confirmed
    not_destructive = conversation(user("Take the urgent label off."),
                                   assistant("", call("remove_label", {"message_id": "m_1", "label": "urgent"},
                                                      {"id": "m_1"})),
                                   assistant("Done."))
    assert _destructive(not_destructive) == []


def test_the_report_counts_destructive_calls_and_fails_on_neither():
    ordered = conversation(user("Please cancel the design review."),
                           assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                           assistant("Cancelled."))
    unasked = conversation(user("Show me the design review."),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                           assistant("I removed it."))
    report = report_of(ordered, unasked)
    f = report.figures
    assert (f["destructive_calls"], f["destructive_ordered"], f["destructive_confirmed"],
            f["destructive_neither"]) == (2, 1, 0, 1)
    assert {r["key"]: r for r in report.rows()}["destructive"]["passed"] is False
    assert {r["key"]: r for r in report_of(ordered).rows()}["destructive"]["passed"] is True


# ---------------------------------------------------------------------------------------------
# list response sizes


def _listed(n: int, name: str = "list_events"):
    return assistant("", call(name, {"max_results": 50}, {"items": [{**EVENT, "id": f"evt_{i}"} for i in range(n)]}))


def test_list_sizes_are_the_items_of_successful_list_calls():
    row = conversation(user("What's on my calendar?"), _listed(0), _listed(1), _listed(3),
                       assistant("", call("list_events", {}, {"data": {"events": [EVENT] * 12, "total": 12}})),
                       # not counted: a failed list, and a read of one object
                       assistant("", call("list_events", {}, {"error": "rate limited"})),
                       assistant("", call("get_event", {"event_id": "evt_8842"}, {"attendees": [{"a": 1}] * 4})),
                       assistant("Here you go."))
    assert shape_of(row).list_sizes == [0, 1, 3, 12]


def test_the_report_buckets_list_sizes_and_holds_exactly_one_to_the_goal():
    rows = [conversation(user("My calendar?"), _listed(n), assistant("Here.")) for n in (0, 1, 1, 2, 4, 11, 3, 10)]
    report = report_of(*rows)
    f = report.figures
    assert f["list_responses"] == 8 and f["list_max"] == 11
    assert (f["list_share_0"], f["list_share_1"], f["list_share_2_3"], f["list_share_4_10"],
            f["list_share_over_10"]) == (0.125, 0.25, 0.25, 0.25, 0.125)
    assert {r["key"]: r for r in report.rows()}["list_sizes"]["passed"] is True  # 25% <= 30%
    mostly_one = report_of(*[conversation(user("My calendar?"), _listed(n), assistant("Here.")) for n in (1, 1, 2)])
    assert {r["key"]: r for r in mostly_one.rows()}["list_sizes"]["passed"] is False


# ---------------------------------------------------------------------------------------------
# phrase frames


def test_a_frame_is_its_fixed_text_with_fields_as_wildcards():
    f = frame("followup_request[0]", "Great. Now {request}.")
    assert f.matches("Great. Now list the events for March 3.")
    assert f.matches("great.   now\nlist them.")  # case and whitespace do not matter
    assert f.matches("Hi again! Great. Now list the events.")  # anywhere in the turn
    assert not f.matches("Great, now list the events.")  # different punctuation
    assert not f.matches("Great. Now.")  # a field stands for at least one character
    joined = frame("then_join[1]", ", and after that ")
    assert joined.matches("List the events, and after that send the notes.")
    assert not joined.matches("List the events and after that send the notes.")


def test_a_frame_is_not_found_inside_a_word():
    f = frame("it_reference[2]", "for that {entity}")
    assert f.matches("Update it for that event.") and not f.matches("Therefore that event is gone.")
    got = frame("it_reference[0]", "for the {entity} you just got")
    assert got.matches("Share it for the file you just got") and not got.matches("for the file you just gotten")


@pytest.mark.parametrize("template", ["Please {request}.", "to {value}", "{values}", "({values})", "", ", then ",
                                      "called \"{value}\"", "{values}, please."])
def test_a_template_with_fewer_than_two_fixed_words_is_no_frame(template):
    assert frame("x", template) is None


def test_frames_of_and_matching_name_each_template():
    frames = frames_of({"first_request": ["Can you {request}?", "Please {request}."],
                        "closing_user": ["Perfect, thank you!"]})
    assert [f.id for f in frames] == ["first_request[0]", "closing_user[0]"]
    assert matching("Can you list the events? Perfect, thank you!", frames) == ["first_request[0]", "closing_user[0]"]
    assert matching("List the events.", frames) == []
    with pytest.raises(ValueError):
        frame("broken", "Can you {request?")


def test_the_phrasebook_user_keys_exist_and_only_user_templates_become_frames():
    book = phrasebook()
    assert set(USER_KEYS) <= set(book), set(USER_KEYS) - set(book)
    keys = set(user_templates(book))
    # An entry split by tone gives keys `say_value.friendly`, ...
    assert {"greeting", "followup_request", "closing_user", "say_title", "say_value"} <= {k.split(".")[0] for k in keys}
    assert keys.isdisjoint({"before_call", "segment_summary", "clarify_question", "system_prompt", "scenario",
                            "thought_call", "free_text", "actors", "tones"})
    ids = {f.id for f in frames_from_phrasebook(book)}
    assert "followup_request[0]" in ids and "first_request[0]" in ids
    assert "first_request[3]" not in ids  # "Please {request}." has one fixed word
    assert "greeting[4]" not in ids  # the empty greeting


def test_an_entry_split_by_tone_gives_a_frame_list_per_tone():
    book = {"followup_request": {"any": ["Great. Now {request}."], "formal": ["Would you also {request}, please?"]},
            "before_call": {"any": ["Let me {request}."]}}
    assert user_templates(book) == {"followup_request.any": ["Great. Now {request}."],
                                    "followup_request.formal": ["Would you also {request}, please?"]}
    ids = [f.id for f in frames_from_phrasebook(book)]
    assert ids == ["followup_request.any[0]", "followup_request.formal[0]"]


def test_opening_is_the_first_three_words():
    assert opening("Great. Now list the events.") == "great now list"
    assert opening("I'd like to list the events") == "i'd like to"
    assert opening("Thanks!") == "thanks"
    assert opening("  ...  ") == ""


def test_the_report_gives_each_frames_share_of_user_turns_and_the_top_opening():
    frames = frames_of({"followup_request": ["Great. Now {request}.", "Thanks. Next, could you {request}?"]})
    row = conversation(user("Can you list the events?"), assistant("Sure: none."),
                       user("Great. Now list the emails."), assistant("None either."),
                       user("Great. Now list the calendars."), assistant("One."),
                       user("Thanks. Next, could you list the tasks?"), assistant("None."))
    report = report_of(row, frames=frames)
    f = report.figures
    assert f["user_turns"] == 4 and f["frames_checked"] == 2
    assert f["frame_max_share"] == 0.5 and f["frame_max_id"] == "followup_request[0]"
    assert f["frame_any_share"] == 0.75
    assert (f["opening_top"], f["opening_top_share"]) == ("great now list", 0.5)
    assert [(t.id, t.turns, t.share) for t in report.top_frames] == [("followup_request[0]", 2, 0.5),
                                                                      ("followup_request[1]", 1, 0.25)]
    assert report.top_frames[0].template == "Great. Now {request}."
    assert {r["key"]: r for r in report.rows()}["frames"]["passed"] is False

    varied = conversation(user("Can you list the events?"), assistant("None."))
    rows = {r["key"]: r for r in report_of(varied, frames=frames).rows()}
    assert rows["frames"]["passed"] is True and report_of(varied, frames=frames).figures["frame_max_share"] == 0.0


# ---------------------------------------------------------------------------------------------
# funcdex check


def _check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def _write(tmp_path, *rows):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_check_prints_the_shape_table_after_the_defects_and_keeps_its_exit_code(tmp_path):
    row = conversation(user("Can you list my events?"), _listed(1), assistant("You have the design review."),
                       user("Great. Now cancel it."),
                       assistant("", call("cancel_event", {"event_id": "evt_0"}, {"status": "cancelled"})),
                       assistant("Cancelled."))
    path = _write(tmp_path, row, row)
    result = _check(str(path))
    assert result.exit_code == 0, result.output  # no defect; the failing shape goals do not count
    out = result.output
    assert out.index("have at least one defect") < out.index("conversation shape (2 conversations")
    assert "messages per conversation" in out and "mean 8, p90 8, max 8" in out and "FAIL" in out
    assert "2: 2 ordered, 0 confirmed, 0 neither" in out
    assert "Great. Now {request}." in out  # the most used frames, with their templates

    report = json.loads(_check(str(path), "--json").output)
    shape = report["shape"]
    assert shape["figures"]["conversations"] == 2 and shape["figures"]["list_share_1"] == 1.0
    assert shape["figures"]["frame_max_share"] == 0.5  # "Can you {request}?" and "Great. Now {request}."
    rows = {r["key"]: r for r in shape["goals"]}
    assert rows["list_sizes"]["passed"] is False and rows["destructive"]["passed"] is True
    assert report["passed"] is True


def test_check_exit_code_is_still_the_defect_gate(tmp_path):
    unasked = conversation(user("Show me the design review."),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                           assistant("I removed it."))
    result = _check(str(_write(tmp_path, unasked)), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["passed"] is False
    assert report["shape"]["figures"]["destructive_neither"] == 1
    assert _check(str(_write(tmp_path, unasked)), "--max-defect-rate", "1").exit_code == 0
