"""The meaning and structure detectors on small hand-written conversations: each must fire on the
defect it names and stay quiet on the look-alikes a careful writer produces (user-stated values,
enum values, "me" / "primary", composed text, honest failure reports, confirmed deletions)."""

from __future__ import annotations

import pytest
from conversation_builder import assistant, call, conversation, system, user

from funcdex_assets.quality.detectors import detect
from funcdex_assets.quality.dialogue import dialogue_from_row


def codes(row, structural: bool = False) -> list[str]:
    return sorted({f.code for f in detect(dialogue_from_row(row), structural=structural)})


def findings(row, code: str):
    return [f for f in detect(dialogue_from_row(row), structural=True) if f.code == code]


EVENT = {"id": "evt_8842", "summary": "Design review", "start": "2026-03-03T15:00:00Z", "end": "2026-03-03T16:00:00Z",
         "created": "2026-02-20T09:00:00Z", "updated": "2026-02-21T09:00:00Z", "status": "confirmed"}


def listed_events():
    return assistant("", call("list_events", {"time_min": "2026-03-02T00:00:00Z", "max_results": 5}, {"items": [EVENT]}))


# ---------------------------------------------------------------------------------------------
# no_tool_call


def test_no_tool_call_fires_when_tools_are_offered_and_nothing_is_called():
    row = conversation(user("What's on my calendar tomorrow?"), assistant("You have a design review at 3pm."))
    assert codes(row) == ["no_tool_call"]


@pytest.mark.parametrize("row", [
    conversation(user("Book me a flight to Lisbon."),
                 assistant("I'm sorry, I can't book flights: I can only work with your calendar and email.")),
    conversation(user("Tell me a joke."), assistant("Why did the calendar break up? Too many dates."),
                 metadata={"no_tool_call_expected": True}),
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]},
])
def test_no_tool_call_leaves_labelled_and_declined_requests_alone(row):
    assert "no_tool_call" not in codes(row)


# ---------------------------------------------------------------------------------------------
# empty_change


@pytest.mark.parametrize("name,arguments", [
    ("update_event", {"event_id": "evt_8842"}),
    ("add_label_to_email", {"message_id": "msg_1", "user_id": "me"}),
])
def test_empty_change_fires_on_a_change_that_carries_nothing(name, arguments):
    row = conversation(user("Tidy up mail msg_1 and event evt_8842."),
                       assistant("", call(name, arguments, {"id": next(iter(arguments.values()))})), assistant("Done."))
    assert codes(row) == ["empty_change"]


@pytest.mark.parametrize("name,arguments", [
    ("update_event", {"event_id": "evt_8842", "summary": "Design review (moved)"}),
    ("add_label_to_email", {"message_id": "msg_1", "label_ids": ["STARRED"]}),
    ("add_label_to_email", {"message_id": "msg_1", "remove_label_ids": ["UNREAD"], "user_id": "me"}),
    ("trash_message", {"message_id": "msg_1"}),  # the verb is the change
    ("get_event", {"event_id": "evt_8842"}),
])
def test_empty_change_leaves_calls_that_change_something_alone(name, arguments):
    row = conversation(user("Tidy up the design review mail and event."),
                       assistant("", call(name, arguments, {"id": next(iter(arguments.values()))})), assistant("Done."))
    assert "empty_change" not in codes(row)


# ---------------------------------------------------------------------------------------------
# repeated_call

MESSAGE = {"id": "msg_1", "subject": "Design review", "snippet": "See you at 3"}


@pytest.mark.parametrize("first,second", [
    # "fetch that message, get the profile, and fetch that message": one read twice (format aside)
    (("fetch_message", {"message_id": "msg_1", "format": "full"}), ("fetch_message", {"message_id": "msg_1"})),
    # an invoice finalized twice
    (("finalize_invoice", {"invoice": "in_7"}), ("finalize_invoice", {"invoice": "in_7"})),
    (("get_profile", {}), ("get_profile", {})),
])
def test_repeated_call_fires_on_a_call_that_does_again_what_was_done(first, second):
    row = conversation(user("Fetch my mail msg_1 and finalize invoice in_7, then again."),
                       assistant("", call(*first, {"message": MESSAGE, "id": "in_7"})),
                       assistant("", call("get_labels", {}, {"labels": []})),
                       assistant("", call(*second, {"message": MESSAGE, "id": "in_7"})), assistant("Done."))
    assert codes(row) == ["repeated_call"]
    assert findings(row, "repeated_call")[0].message_index == 6


@pytest.mark.parametrize("between,first_result", [
    # a retry after a failure
    (("get_labels", {}, {"labels": []}), {"successful": False, "error": "rate limit exceeded"}),
    # a read after the same object changed
    (("add_label_to_email", {"message_id": "msg_1", "label_ids": ["STARRED"]}, {"id": "msg_1"}), {"message": MESSAGE}),
])
def test_repeated_call_leaves_retries_and_reads_after_a_change_alone(between, first_result):
    row = conversation(user("Fetch my design review mail msg_1, star it, fetch it again."),
                       assistant("", call("fetch_message", {"message_id": "msg_1"}, first_result)),
                       assistant("", call(*between)),
                       assistant("", call("fetch_message", {"message_id": "msg_1"}, {"message": MESSAGE})),
                       assistant("Done: it is starred."))
    assert "repeated_call" not in codes(row)


def test_repeated_call_does_not_take_a_time_window_for_an_object():
    # Free slots again after an event was deleted: the window names no object the delete missed.
    window = {"time_min": "2026-03-02T00:00:00Z", "time_max": "2026-03-09T00:00:00Z"}
    row = conversation(user("Free slots this week? Delete the design review, then check again."),
                       assistant("", call("find_free_slots", window, {"busy": []})),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                       assistant("", call("find_free_slots", window, {"busy": []})), assistant("Done."))
    assert "repeated_call" not in codes(row)


# ---------------------------------------------------------------------------------------------
# implausible_denial

DENIED = {"successful": False, "error": "403 Forbidden: The authenticated user does not have permission to delete "
          "event 'evt_9001'.", "data": {}}
NEW_EVENT = {"id": "evt_9001", "summary": "Q3 planning", "start": "2026-03-04T10:00:00Z", "end": "2026-03-04T11:00:00Z"}


def test_implausible_denial_fires_on_a_refusal_over_what_the_user_just_made():
    row = conversation(user("Create a Q3 planning event on March 4 at 10:00, then delete it."),
                       assistant("", call("create_event", {"summary": "Q3 planning", "start": "2026-03-04T10:00:00Z"},
                                          {"event": NEW_EVENT})),
                       assistant("", call("delete_event", {"event_id": "evt_9001"}, DENIED)),
                       assistant("I couldn't delete it: you don't have permission. You may want to ask the owner."))
    assert codes(row) == ["implausible_denial"]
    assert "made by the call at message 2" in findings(row, "implausible_denial")[0].message


@pytest.mark.parametrize("arguments", [{"calendar_id": "primary", "role": "writer", "email": "dana@acme.io"},
                                       {"user_id": "me", "email": "dana@acme.io"}])
def test_implausible_denial_fires_on_a_refusal_over_the_users_own_default(arguments):
    row = conversation(user("Share my calendar with dana@acme.io as a writer."),
                       assistant("", call("share_calendar", arguments, DENIED)),
                       assistant("I couldn't share it: you don't have permission."))
    assert codes(row) == ["implausible_denial"]


def test_implausible_denial_leaves_a_refusal_over_someone_elses_object_alone():
    # The event came from a listing (someone else's), and a 404 is no refusal at all.
    listed = assistant("", call("list_events", {"time_min": "2026-03-02T00:00:00Z", "max_results": 5},
                                {"items": [EVENT, NEW_EVENT]}))
    row = conversation(user("Delete the Q3 planning event this week."), listed,
                       assistant("", call("delete_event", {"event_id": "evt_9001"}, DENIED)),
                       assistant("I couldn't delete it: you don't have permission. You may want to ask the owner."))
    assert "implausible_denial" not in codes(row)
    missing = conversation(user("Create a Q3 planning event on March 4 at 10:00, then delete it."),
                           assistant("", call("create_event", {"summary": "Q3 planning", "start": "2026-03-04T10:00:00Z"},
                                              {"event": NEW_EVENT})),
                           assistant("", call("get_permissions", {"event_id": "evt_9001"},
                                              {"successful": False, "error": "429 Too Many Requests: permissions"})),
                           assistant("The service is busy; let me try again in a bit."))
    assert "implausible_denial" not in codes(missing)


# ---------------------------------------------------------------------------------------------
# self_addressed

PROFILE = {"emailAddress": "bruce@acme.io", "messagesTotal": 1380}


def test_self_addressed_fires_on_a_reply_to_the_users_own_address():
    row = conversation(user("Reply to thread t_1 saying I'll be there."),
                       assistant("", call("get_profile", {"user_id": "me"}, {"profile": PROFILE})),
                       assistant("", call("reply_to_thread", {"thread_id": "t_1", "recipient_email": "bruce@acme.io",
                                                              "message_body": "I'll be there."}, {"id": "m_2"})),
                       assistant("Replied."))
    assert codes(row) == ["self_addressed"]


@pytest.mark.parametrize("request_text", ["Email me a copy of the agenda.", "Send the agenda to bruce@acme.io."])
def test_self_addressed_leaves_a_copy_the_user_asked_for_alone(request_text):
    row = conversation(user(request_text),
                       assistant("", call("get_profile", {"user_id": "me"}, {"profile": PROFILE})),
                       assistant("", call("send_email", {"recipient_email": "bruce@acme.io", "subject": "Agenda",
                                                         "body": "Agenda attached."}, {"id": "m_2"})),
                       assistant("Sent."))
    assert "self_addressed" not in codes(row)


def test_self_addressed_leaves_a_listing_by_the_users_address_alone():
    row = conversation(user("What meetings do I have booked?"),
                       assistant("", call("get_profile", {"user_id": "me"}, {"profile": PROFILE})),
                       assistant("", call("list_scheduled_events", {"invitee_email": "bruce@acme.io"}, {"events": []})),
                       assistant("None booked."))
    assert "self_addressed" not in codes(row)


# ---------------------------------------------------------------------------------------------
# needless_state_change

OPEN_TASK = {"id": "7200311455", "content": "File taxes", "is_completed": False}


def test_needless_state_change_fires_on_reopening_an_open_task():
    row = conversation(user("Add a task to file taxes, then reopen it."),
                       assistant("", call("create_task", {"content": "File taxes"}, {"task": OPEN_TASK})),
                       assistant("", call("reopen_task", {"task_id": "7200311455"}, {"task_id": "7200311455"})),
                       assistant("Reopened."))
    assert codes(row) == ["needless_state_change"]


def test_needless_state_change_fires_on_cancelling_a_cancelled_event():
    cancelled = {"uri": "https://api.example.com/scheduled_events/QCLQVMXG", "name": "Sync", "status": "canceled"}
    row = conversation(user("Show my cancelled meetings, then cancel the Sync."),
                       assistant("", call("list_scheduled_events", {"status": "canceled"}, {"collection": [cancelled]})),
                       assistant("", call("cancel_scheduled_event", {"uuid": cancelled["uri"]}, {"resource": cancelled})),
                       assistant("Cancelled."))
    assert "needless_state_change" in codes(row)


def test_needless_state_change_leaves_a_reopen_after_a_close_and_an_honest_refusal_alone():
    closed_then_reopened = conversation(
        user("Close the taxes task, then reopen it."),
        assistant("", call("create_task", {"content": "File taxes"}, {"task": OPEN_TASK})),
        assistant("", call("close_task", {"task_id": "7200311455"}, {"task_id": "7200311455", "is_completed": True})),
        assistant("", call("reopen_task", {"task_id": "7200311455"}, {"task_id": "7200311455", "is_completed": False})),
        assistant("Closed, then reopened."))
    refused = conversation(
        user("Add a task to file taxes, then reopen it."),
        assistant("", call("create_task", {"content": "File taxes"}, {"task": OPEN_TASK})),
        assistant("", call("reopen_task", {"task_id": "7200311455"},
                           {"successful": False, "error": "409 Conflict: Task '7200311455' is already open."})),
        assistant("Nothing to do there: the task is already open, so I didn't reopen it."))
    assert "needless_state_change" not in codes(closed_then_reopened)
    assert "needless_state_change" not in codes(refused)


# ---------------------------------------------------------------------------------------------
# silent_pick

THREADS = {"threads": [{"id": "t_81a9c2", "snippet": "Can we move the retro to Monday?"},
                       {"id": "t_77b1d0", "snippet": "Agenda for the Q3 planning session"},
                       {"id": "t_90c3e4", "snippet": "Invoice 4471 is overdue"}]}


def _threads_then_reply(*between):
    return conversation(user("List my threads about planning, then reply to that thread saying I'm in."),
                        assistant("", call("list_threads", {"query": "planning"}, THREADS)), *between,
                        assistant("", call("reply_to_thread", {"thread_id": "t_77b1d0", "message_body": "I'm in."},
                                           {"id": "m_1"})),
                        assistant("Replied."))


def test_silent_pick_fires_when_one_of_several_listed_items_is_used_unnamed():
    assert codes(_threads_then_reply()) == ["silent_pick"]


@pytest.mark.parametrize("between", [
    # the assistant asks and the user names it by what it says
    (assistant("I found 3 threads: \"Can we move the retro...\", \"Agenda for the Q3 planning...\" and 1 more. "
               "Which one?"), user("The \"Agenda for the Q3 planning\" one.")),
    # the user asks for a position
    (user("The first one that mentions the agenda, I mean."),),
])
def test_silent_pick_leaves_a_named_or_positioned_choice_alone(between):
    assert "silent_pick" not in codes(_threads_then_reply(*between))


# ---------------------------------------------------------------------------------------------
# false_success


@pytest.mark.parametrize("result,claim", [
    ({"deleted": False, "event_id": "evt_8842"}, "Done! I deleted the design review."),
    ({"ok": False, "error": "event is locked"}, "The design review has been deleted."),
    ({"status": 404, "message": "Not Found"}, "All set, it's gone."),
    ("Error: event evt_8842 not found", "I deleted it successfully."),
    ({"successful": False, "data": {}}, "Done."),
])
def test_false_success_fires_when_the_assistant_claims_a_failed_call_worked(result, claim):
    row = conversation(user("Delete the design review."), listed_events(),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, result)), assistant(claim))
    assert "false_success" in codes(row)
    assert findings(row, "false_success")[0].message_index == 6


def test_false_success_accepts_an_honest_report_and_a_successful_retry():
    honest = conversation(user("Delete the design review."), listed_events(),
                          assistant("", call("delete_event", {"event_id": "evt_8842"}, {"ok": False, "error": "locked"})),
                          assistant("I couldn't delete it: the calendar says the event is locked."))
    retried = conversation(user("Delete the design review."), listed_events(),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"ok": False, "error": "timeout"})),
                           assistant("That timed out, trying again.",
                                     call("delete_event", {"event_id": "evt_8842"}, {"ok": True, "deleted": True})),
                           assistant("Done, the design review is deleted."))
    assert "false_success" not in codes(honest)
    assert "false_success" not in codes(retried)


def test_after_another_call_succeeds_only_the_failed_calls_own_verbs_claim_it():
    def row(text):
        return conversation(user("Delete the design review, then get my profile."), listed_events(),
                            assistant("", call("delete_event", {"event_id": "evt_8842"},
                                               {"successful": False, "error": "403 Forbidden"})),
                            assistant("I couldn't delete it (permission denied). Now the profile.",
                                      call("get_profile", {}, {"successful": True, "data": {"email": "a@b.io"}})),
                            assistant(text))
    # "successfully" is about the profile read that just worked ...
    assert "false_success" not in codes(row("I retrieved the profile successfully."))
    # ... but "deleted" is still a claim about the failed call.
    assert "false_success" in codes(row("I retrieved the profile and deleted the review."))


def test_a_verb_another_call_made_true_claims_the_failed_call_only_with_its_object():
    def row(text):
        return conversation(user("Create a 3pm design review event, and draft a note to dana@x.io about it."),
                            assistant("", call("create_event", {"summary": "Design review", "start": "2026-03-03T15:00:00Z",
                                                                "end": "2026-03-03T16:00:00Z"},
                                               {"successful": False, "error": "403 Forbidden"})),
                            assistant("I couldn't create the event: permission denied. On to the draft.",
                                      call("create_draft", {"to": "dana@x.io", "body": "Design review at 3pm"},
                                           {"successful": True, "data": {"id": "d_1"}})),
                            assistant(text))
    # "created" is the draft's own verb: that draft was created ...
    assert "false_success" not in codes(row("I created the draft to dana@x.io."))
    # ... but a "created" that names the event claims the failed call.
    assert "false_success" in codes(row("I created the draft and the event."))


def test_a_claim_in_words_both_calls_share_is_about_the_one_that_worked():
    """SEND_TEMPLATE_MESSAGE failed, SEND_MESSAGE worked: "I sent the message" is about the
    message; "I sent the template" claims the failed one."""
    tools = {"send_template_message": {"type": "object", "properties": {"to": {"type": "string"}}},
             "send_message": {"type": "object", "properties": {"to": {"type": "string"}, "text": {"type": "string"}}}}

    def row(text):
        messages = [{"role": "system", "content": "Today is 2026-03-02."},
                    {"role": "user", "content": "Send +14155550100 the welcome template, then text them hi."},
                    {"role": "assistant", "content": "", "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "send_template_message",
                                                                      "arguments": {"to": "+14155550100"}}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": '{"successful": false, "error": "403 Forbidden"}'},
                    {"role": "assistant", "content": "I couldn't send the template: permission denied.", "tool_calls": [
                        {"id": "c2", "type": "function", "function": {"name": "send_message",
                                                                      "arguments": {"to": "+14155550100", "text": "hi"}}}]},
                    {"role": "tool", "tool_call_id": "c2", "content": '{"successful": true, "data": {"id": "m1"}}'},
                    {"role": "assistant", "content": text}]
        return {"messages": messages, "tools": [{"type": "function", "function": {"name": n, "parameters": p}}
                                                for n, p in tools.items()]}
    assert "false_success" not in codes(row("I sent the message to +14155550100."))
    assert "false_success" in codes(row("I sent the template and the message."))


def test_a_false_property_or_a_failed_payment_is_not_a_failed_call():
    row = conversation(user("What happened to charge ch_991?"),
                       assistant("", call("get_charge", {"charge_id": "ch_991"},
                                          {"data": {"id": "ch_991", "status": "failed", "refunded": False,
                                                    "captured": False}})),
                       assistant("I found the charge: it is marked as failed and has not been refunded."))
    assert "false_success" not in codes(row)


# ---------------------------------------------------------------------------------------------
# used_after_delete


def test_used_after_delete_fires_on_a_deleted_event_fetched_later():
    row = conversation(user("Delete the design review, then show it to me again."), listed_events(),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                       assistant("", call("get_event", {"event_id": "evt_8842"}, {"data": EVENT})),
                       assistant("Deleted; here it is: Design review at 3pm."))
    assert "used_after_delete" in codes(row)


def test_used_after_delete_fires_on_a_write_to_a_trashed_message():
    row = conversation(user("Trash the Dana email and label it 'done'."),
                       assistant("", call("list_emails", {"from": "dana@acme.io"}, {"messages": [{"id": "m_77001"}]})),
                       assistant("", call("trash_message", {"message_id": "m_77001"}, {"id": "m_77001"})),
                       assistant("", call("add_label", {"message_id": "m_77001", "label": "done"}, {"id": "m_77001"})),
                       assistant("Trashed it and added the label."))
    assert "used_after_delete" in codes(row)


@pytest.mark.parametrize("after", [
    call("get_event", {"event_id": "evt_8842"}, {"error": {"code": 404, "message": "Not found"}}),
    call("get_event", {"event_id": "evt_8842"}, {"data": {**EVENT, "status": "cancelled"}}),
])
def test_used_after_delete_accepts_not_found_and_a_cancelled_read(after):
    row = conversation(user("Cancel the design review and check it's gone."), listed_events(),
                       assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                       assistant("", after), assistant("It's cancelled."))
    assert "used_after_delete" not in codes(row)


def test_restore_brings_an_id_back_and_a_failed_delete_deletes_nothing():
    restored = conversation(user("Trash the Dana email... actually no, restore it and label it 'keep'."),
                            assistant("", call("list_emails", {"from": "dana@acme.io"}, {"messages": [{"id": "m_77001"}]})),
                            assistant("", call("trash_message", {"message_id": "m_77001"}, {"id": "m_77001"})),
                            assistant("", call("untrash_message", {"message_id": "m_77001"}, {"id": "m_77001"})),
                            assistant("", call("add_label", {"message_id": "m_77001", "label": "keep"}, {"id": "m_77001"})),
                            assistant("Restored and labelled."))
    failed = conversation(user("Delete the design review, or rename it if you can't."), listed_events(),
                          assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": False})),
                          assistant("", call("update_event", {"event_id": "evt_8842", "summary": "Old review"},
                                             {"data": {**EVENT, "summary": "Old review"}})),
                          assistant("I couldn't delete it, so I renamed it to 'Old review'."))
    assert "used_after_delete" not in codes(restored)
    assert "used_after_delete" not in codes(failed)


# ---------------------------------------------------------------------------------------------
# entity_drift

REPLY = {"thread_id": "thr_40021", "recipient_email": "ana.ruiz@acme.io",
         "message_body": "Sharing the latest on the Q3 plan: we're on track, but I need sign-off by Thursday."}


def _reply_then_fetch(shown: dict, between=()):
    return conversation(user("Reply to Ana on thread thr_40021 with the Q3 update, then show me the reply."),
                        assistant("", call("reply_to_thread", REPLY, {"message": {"id": "msg_88120", "threadId": "thr_40021"}})),
                        *between,
                        assistant("", call("fetch_message_by_id", {"message_id": "msg_88120"},
                                           {"message": {"id": "msg_88120", **shown}})),
                        assistant("Here is your reply."))


@pytest.mark.parametrize("shown", [
    {"snippet": "Customer reported an issue related to the Million proposal."},  # another body
    {"to": "willie.rogers@acme.io"},  # sent to someone else
    {"messageText": "Draft for the budget attached."},
])
def test_entity_drift_fires_when_a_read_shows_other_content_than_was_given(shown):
    assert "entity_drift" in codes(_reply_then_fetch(shown))


@pytest.mark.parametrize("shown", [
    {"snippet": "Sharing the latest on the Q3 plan: we're on track..."},  # a snippet is the body's start
    {"messageText": REPLY["message_body"], "to": "ana.ruiz@acme.io"},
    {"labelIds": ["INBOX"]},
])
def test_entity_drift_accepts_the_same_content(shown):
    assert "entity_drift" not in codes(_reply_then_fetch(shown))


def test_entity_drift_follows_updates_and_compares_reads_with_each_other():
    renamed = conversation(user("Rename doc_77120 to 'Q3 plan v2' and show it."),
                           assistant("", call("get_document", {"document_id": "doc_77120"}, {"id": "doc_77120", "title": "Q3 plan"})),
                           assistant("", call("update_document", {"document_id": "doc_77120", "title": "Q3 plan v2"},
                                              {"id": "doc_77120"})),
                           assistant("", call("get_document", {"document_id": "doc_77120"}, {"id": "doc_77120", "title": "Q3 plan v2"})),
                           assistant("It's now called 'Q3 plan v2'."))
    assert "entity_drift" not in codes(renamed)
    forgot = conversation(user("Show doc_77120 twice."),
                          assistant("", call("get_document", {"document_id": "doc_77120"}, {"id": "doc_77120", "title": "Q3 plan"})),
                          assistant("", call("get_document", {"document_id": "doc_77120"}, {"id": "doc_77120", "name": "Morph ROI"})),
                          assistant("It's the Q3 plan."))
    assert "entity_drift" in codes(forgot)


def test_entity_drift_reads_boxed_fields_and_short_ids_with_their_kind():
    edited = conversation(user("Rename issue 23558 to 'Benchmark plan' and show it."),
                          assistant("", call("edit_issue", {"issueIdOrKey": "23558", "summary": "Benchmark plan"},
                                             {"issue": {"key": "WEB-120"}})),
                          assistant("", call("get_issue", {"issueIdOrKey": "23558"},
                                             {"issue": {"id": "23558", "fields": {"summary": "Worker plan"}}})),
                          assistant("It's now 'Benchmark plan'."))
    assert "entity_drift" in codes(edited)
    kinds = conversation(user("Show issue 23558 and its transitions."),
                         assistant("", call("get_issue", {"issueIdOrKey": "23558"},
                                            {"issue": {"id": "23558", "fields": {"summary": "Q3 plan"}}})),
                         assistant("", call("get_transitions", {"issueIdOrKey": "23558"},
                                            {"transitions": [{"id": "23558", "name": "Start Progress"}]})),
                         assistant("Q3 plan can be started."))
    assert "entity_drift" not in codes(kinds)  # a transition may share the number


def test_entity_drift_fires_when_a_quick_add_ignores_its_sentence():
    def row(summary):
        return conversation(user('Put "Lunch with Ana on Friday March 6 at 12:30" on my calendar.'),
                            assistant("", call("quick_add", {"calendarId": "primary",
                                                             "text": "Lunch with Ana on Friday March 6 at 12:30"},
                                               {"event": {"id": "evt_55120", "summary": summary}})),
                            assistant(f"Added '{summary}'."))
    assert "entity_drift" in codes(row("Morph leading-edge ROI"))
    assert "entity_drift" not in codes(row("Lunch with Ana"))


def test_wrong_container_fires_when_an_object_is_looked_for_elsewhere():
    def row(calendar):
        return conversation(user("Add 'Sync' to the team calendar c_team01, then show it."),
                            assistant("", call("create_event", {"calendar_id": "c_team01", "summary": "Sync"},
                                               {"event": {"id": "evt_88421", "summary": "Sync"}})),
                            assistant("", call("get_event", {"calendar_id": calendar, "event_id": "evt_88421"},
                                               {"event": {"id": "evt_88421", "summary": "Sync"}})),
                            assistant("Here it is: Sync."))
    assert "wrong_container" in codes(row("c_other02"))
    assert "wrong_container" not in codes(row("c_team01"))
    assert "wrong_container" not in codes(row("primary"))
    moved = conversation(user("Move card crd_55120 from Doing (lst_00012) to Done (lst_00013), then show it."),
                         assistant("", call("get_cards_in_list", {"list_id": "lst_00012"},
                                            {"cards": [{"id": "crd_55120", "name": "Pricing copy"}]})),
                         assistant("", call("update_card", {"card_id": "crd_55120", "list_id": "lst_00013"},
                                            {"id": "crd_55120"})),
                         assistant("", call("get_card", {"card_id": "crd_55120", "list_id": "lst_00013"},
                                            {"id": "crd_55120", "name": "Pricing copy"})),
                         assistant("Moved it to Done."))
    assert "wrong_container" not in codes(moved)  # an update's optional container moves the card there


def test_amounts_disagree_fires_on_sums_that_do_not_add_up():
    def row(result):
        return conversation(user("Send invoice in_58120 and show me the line."),
                            assistant("", call("send_invoice", {"invoice": "in_58120"}, result)), assistant("Sent."))
    assert "amounts_disagree" in codes(row({"invoice": {"amount_due": 127100, "amount_paid": 186800,
                                                        "amount_remaining": 144900}}))
    assert "amounts_disagree" in codes(row({"line": {"amount": 173000, "quantity": 3,
                                                     "price": {"unit_amount": 100100}}}))
    assert "amounts_disagree" not in codes(row({"invoice": {"amount_due": 127100, "amount_paid": 0,
                                                            "amount_remaining": 127100},
                                                "line": {"amount": 300300, "quantity": 3, "unit_amount": 100100}}))


def test_identity_mismatch_fires_when_the_caller_changes_id():
    def row(second):
        me = {"user": {"uri": "https://api.calendly.com/users/PXUMDVRD", "name": "Kenneth Adkins"}}
        return conversation(user("Who am I signed in as? Check twice."),
                            assistant("", call("get_current_user", {}, me)),
                            assistant("", call("get_current_user", {}, {"user": {**me["user"], "uri": second}})),
                            assistant("You're Kenneth Adkins."))
    assert "identity_mismatch" in codes(row("https://api.calendly.com/users/FXYVKRUB"))
    assert "identity_mismatch" not in codes(row("https://api.calendly.com/users/PXUMDVRD"))


def test_name_mismatch_fires_when_a_persons_name_parts_disagree():
    def row(first, last):
        return conversation(user("Book Tammy Ortiz (tammy@acme.io) for Friday."),
                            assistant("", call("create_invitee", {"name": "Tammy Ortiz", "email": "tammy@acme.io"},
                                               {"invitee": {"name": "Tammy Ortiz", "first_name": first,
                                                            "last_name": last, "email": "tammy@acme.io"}})),
                            assistant("Booked Tammy Ortiz."))
    assert "name_mismatch" in codes(row("Ashley", "Cardenas"))
    assert "name_mismatch" not in codes(row("Tammy", "Ortiz"))


def test_a_jira_query_for_one_project_answered_with_another_ignores_the_filter():
    def row(key):
        return conversation(user("Open issues in GOVE?"),
                            assistant("", call("search_issues", {"jql": "project = GOVE AND status != Done"},
                                               {"issues": [{"id": "10042", "key": key}]})),
                            assistant(f"One: {key}."))
    assert "list_ignores_filter" in codes(row("OPS-2"))
    assert "list_ignores_filter" not in codes(row("GOVE-170"))


def test_unseen_reference_fires_on_a_name_only_a_result_showed():
    def row(summary):
        return conversation(user("Show me thread thr_40021."),
                            assistant("", call("fetch_thread", {"thread_id": "thr_40021"},
                                               {"thread": {"id": "thr_40021", "messages": [
                                                   {"id": "msg_88120", "subject": "Red plan"}]}})),
                            assistant(summary), user('Move "Red plan" to the trash.'),
                            assistant("", call("move_to_trash", {"message_id": "msg_88120"}, {"id": "msg_88120"})),
                            assistant("Moved it."))
    assert "unseen_reference" in codes(row("I fetched the thread (ID thr_40021)."))
    assert "unseen_reference" not in codes(row('The thread has one message: "Red plan".'))
    labelled = conversation(user("Show my issues."),
                            assistant("", call("search_issues", {"jql": "assignee = me"},
                                               {"issues": [{"id": "10042", "labels": ["hiring"]}]})),
                            assistant("You have one issue."), user('Create an issue labelled "hiring".'),
                            assistant("", call("create_issue", {"summary": "Onboarding", "labels": ["hiring"]},
                                               {"id": "10043"})),
                            assistant("Created it."))
    assert "unseen_reference" not in codes(labelled)  # the user's own value, which a result also holds


def test_doubled_word_fires_outside_quotes_only():
    def row(text):
        return conversation(user("Cancel the sync."), assistant(text))
    assert "doubled_word" in codes(row("Should I cancel that scheduled event event?"))
    assert "doubled_word" not in codes(row('I created "Sync sync" for you.'))
    assert "doubled_word" not in codes(row("No no, that that was fine."))


def test_false_finality_fires_only_where_the_action_can_be_taken_back():
    def row(name, question):
        return conversation(user("I don't need message m_77001 anymore."), assistant(question), user("Yes, go ahead."),
                            assistant("", call(name, {"message_id": "m_77001"}, {"id": "m_77001"})), assistant("Done."))
    assert "false_finality" in codes(row("move_to_trash", "Move it to the trash? This can't be undone."))
    assert "false_finality" not in codes(row("move_to_trash", "Should I move it to the trash?"))
    assert "false_finality" not in codes(row("delete_message", "Delete it? This can't be undone."))


# ---------------------------------------------------------------------------------------------
# time


def test_end_before_start_in_arguments_and_in_results():
    in_args = conversation(user("Add 'Sync' on 2026-03-03 from 10:00 to 09:00 UTC."),
                           assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-03T10:00:00Z",
                                                               "end": "2026-03-03T09:00:00Z"}, {"id": "evt_1"})),
                           assistant("Added."))
    in_result = conversation(user("Show my next event."),
                             assistant("", call("list_events", {"max_results": 1},
                                                {"items": [{**EVENT, "end": "2026-03-03T14:00:00Z"}]})),
                             assistant("Design review at 3pm."))
    nested = conversation(user("Show my next event."),
                          assistant("", call("list_events", {"max_results": 1}, {"items": [
                              {**EVENT, "start": {"dateTime": "2026-03-03T15:00:00Z"}, "end": {"date": "2026-03-02"}}]})),
                          assistant("Design review at 3pm."))
    assert "end_before_start" in codes(in_args)
    assert "end_before_start" in codes(in_result)
    assert "end_before_start" in codes(nested)
    # The service refused those dates: the mistake is the conversation's subject, not its defect.
    rejected = conversation(user("Add 'Sync' on 2026-03-03 from 10:00 to 09:00 UTC."),
                            assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-03T10:00:00Z",
                                                                "end": "2026-03-03T09:00:00Z"},
                                               {"error": {"code": 400, "message": "end is before start"}})),
                            assistant("The calendar rejected it: the end is before the start. When should it end?"))
    assert "end_before_start" not in codes(rejected)


def test_end_before_start_covers_number_ranges_but_not_unrelated_numbers():
    def row(arguments):
        return conversation(user("Delete characters 7 to 10 of the plan doc (doc_58120)."),
                            assistant("", call("delete_content_range", arguments, {"ok": True})), assistant("Deleted them."))
    assert "end_before_start" in codes(row({"document_id": "doc_58120", "start_index": 10, "end_index": 7}))
    assert "end_before_start" not in codes(row({"document_id": "doc_58120", "start_index": 7, "end_index": 10}))
    assert "end_before_start" not in codes(row({"document_id": "doc_58120", "start_index": 7, "max_results": 3}))
    prices = conversation(user("How did ACME trade yesterday?"),
                          assistant("", call("get_price_history", {"symbol": "ACME"}, {"open": 178.1, "close": 176.29})),
                          assistant("It opened at 178.10 and closed at 176.29."))
    assert "end_before_start" not in codes(prices)  # a falling day, not a backwards range


def test_an_all_day_event_and_a_window_in_order_are_fine():
    row = conversation(user("Block 2026-03-03 all day, and list what's on between March 2 and March 9."),
                       assistant("", call("create_event", {"summary": "Offsite", "start": "2026-03-03T00:00:00Z",
                                                           "end": "2026-03-04T00:00:00Z"}, {"id": "evt_1"}),
                                 call("list_events", {"time_min": "2026-03-02T00:00:00Z", "time_max": "2026-03-09T00:00:00Z"},
                                      {"items": [{**EVENT, "start": {"date": "2026-03-03"}, "end": {"date": "2026-03-04"}}]})),
                       assistant("Blocked, and you have the design review that week."))
    assert not {"end_before_start", "updated_before_created"} & set(codes(row))


def test_updated_before_created_and_created_in_future():
    stale = conversation(user("Show my next event."),
                         assistant("", call("list_events", {"max_results": 1},
                                            {"items": [{**EVENT, "updated": "2026-02-19T09:00:00Z"}]})),
                         assistant("Design review at 3pm."))
    future = conversation(user("Show my next event."),
                          assistant("", call("list_events", {"max_results": 1},
                                             {"items": [{**EVENT, "created": "2026-03-10T09:00:00Z",
                                                         "updated": "2026-03-11T09:00:00Z"}]})),
                          assistant("Design review at 3pm."))
    assert "updated_before_created" in codes(stale)
    assert "created_in_future" in codes(future)
    # Without a date in the system prompt nobody knows when "today" is.
    assert "created_in_future" not in codes({**future, "messages": future["messages"][1:]})


def test_a_due_date_or_a_late_creation_on_the_same_day_is_not_in_the_future():
    row = conversation(user("Create the task."),
                       assistant("", call("create_event", {"summary": "Plan", "start": "2026-03-09T10:00:00Z",
                                                           "end": "2026-03-09T11:00:00Z"},
                                          {"id": "evt_1", "created": "2026-03-02T23:30:00-05:00",
                                           "due_date": "2026-04-01", "start": "2026-03-09T10:00:00Z"})),
                       assistant("Created 'Plan' for March 9 at 10:00."))
    assert "created_in_future" not in codes(row)


def test_relative_date_mismatch():
    wrong_day = conversation(user("Put 'Sync' on my calendar tomorrow at 10."),
                             assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-05T10:00:00Z",
                                                                 "end": "2026-03-05T10:30:00Z"}, {"id": "evt_1"})),
                             assistant("Added Sync at 10:00."))
    right_day = conversation(user("Put 'Sync' on my calendar tomorrow at 10."),
                             assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-03T10:00:00Z",
                                                                 "end": "2026-03-03T10:30:00Z"}, {"id": "evt_1"})),
                             assistant("Added Sync tomorrow (March 3) at 10:00."))
    next_friday = conversation(user("Move it to next Friday at 9."),
                               assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-13T09:00:00Z",
                                                                   "end": "2026-03-13T09:30:00Z"}, {"id": "evt_1"})),
                               assistant("Done, it's on Friday March 13 at 9:00."))
    weekday = conversation(user("Is Friday March 4 free?"),
                           assistant("", call("list_events", {"time_min": "2026-03-04T00:00:00Z",
                                                              "time_max": "2026-03-05T00:00:00Z"}, {"items": []})),
                           assistant("Yes, nothing is booked that day."))
    said_wrong = conversation(user("What's on tomorrow?"),
                              assistant("", call("list_events", {"time_min": "2026-03-03T00:00:00Z",
                                                                 "time_max": "2026-03-04T00:00:00Z"}, {"items": []})),
                              assistant("Nothing is booked tomorrow (2026-03-04)."))
    assert "relative_date_mismatch" in codes(wrong_day)
    assert "relative_date_mismatch" not in codes(right_day)
    assert "relative_date_mismatch" not in codes(next_friday)
    assert "relative_date_mismatch" in codes(weekday)
    assert "relative_date_mismatch" in codes(said_wrong)

    def listing(text):  # the system prompt's today is 2026-03-02
        return conversation(user(text), assistant("", call("list_events", {"time_max": "2026-03-20T00:00:00Z"},
                                                           {"items": []})), assistant("Nothing is booked."))
    assert "relative_date_mismatch" in codes(listing("What's on today?"))
    for chat in ("Thanks for helping out today! What's on my calendar?", "I could use your help today! List my events.",
                 "Wait, no, not today. Just list my events."):
        assert "relative_date_mismatch" not in codes(listing(chat)), chat


# ---------------------------------------------------------------------------------------------
# unsourced_argument


def test_an_email_nobody_mentioned_is_unsourced():
    row = conversation(user("Email Dana that the review moved to 4pm."),
                       assistant("", call("send_email", {"to": "dana.ruiz@acme.io", "subject": "Review moved",
                                                         "body": "Hi Dana, the review is now at 4pm."}, {"id": "m_1"})),
                       assistant("Sent."))
    found = findings(row, "unsourced_argument")
    assert found and "dana.ruiz@acme.io" in found[0].message


def test_values_from_the_user_results_schema_and_composition_are_sourced():
    row = conversation(
        user("Email dana.ruiz@acme.io that the design review is moved, and invite her to a follow-up tomorrow at 10."),
        listed_events(),
        assistant("", call("send_email", {"to": "dana.ruiz@acme.io", "subject": "Design review moved",
                                          "body": "Hi Dana, evt_8842 moved to 4pm. See you there."}, {"id": "m_1"}),
                  call("create_event", {"summary": "Follow-up", "start": "2026-03-03T10:00:00Z",
                                        "end": "2026-03-03T10:30:00Z", "attendees": ["dana.ruiz@acme.io"],
                                        "calendar_id": "primary"}, {"id": "evt_9"})),
        assistant("", call("update_event", {"event_id": "evt_8842", "summary": "Design review (moved)"},
                            {"data": EVENT})),
        assistant("Emailed Dana, added the follow-up tomorrow at 10:00, and renamed the review."),
    )
    assert "unsourced_argument" not in codes(row)


def test_an_invented_id_and_an_invented_amount_are_unsourced_but_cents_are_not():
    invented_id = conversation(user("Refund Dana's last charge."),
                               assistant("", call("create_refund", {"charge_id": "ch_3PqL0000"}, {"id": "re_1"})),
                               assistant("Refunded."))
    cents = conversation(user("Refund $25 of charge ch_3PqL0000."),
                         assistant("", call("create_refund", {"charge_id": "ch_3PqL0000", "amount": 2500}, {"id": "re_1"})),
                         assistant("Refunded $25.00."))
    invented_amount = conversation(user("Refund charge ch_3PqL0000."),
                                   assistant("", call("create_refund", {"charge_id": "ch_3PqL0000", "amount": 9900},
                                                      {"id": "re_1"})),
                                   assistant("Refunded $99.00."))
    assert "unsourced_argument" in codes(invented_id)
    assert "unsourced_argument" not in codes(cents)
    assert "unsourced_argument" in codes(invented_amount)


def test_the_parts_a_create_names_need_no_source_but_references_in_them_do():
    buttons = conversation(user("Ask +1 415 555 0100 on WhatsApp whether they can make it, with Yes and No buttons."),
                           assistant("", call("send_interactive_buttons", {"to": "+14155550100", "buttons": [
                               {"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]}, {"id": "wamid.1"})),
                           assistant("Sent with Yes / No buttons."))
    price = conversation(user("Subscribe cus_Q9xw1 to the monthly plan."),
                         assistant("", call("create_subscription", {"customer": "cus_Q9xw1", "items": [
                             {"price_id": "price_1PqL0000"}]}, {"id": "sub_1"})),
                         assistant("Subscribed."))
    update = conversation(user("Change the quantity on that subscription."),
                          assistant("", call("update_subscription", {"items": [{"id": "si_9Zx0000", "quantity": 2}]},
                                             {"id": "sub_1"})),
                          assistant("Updated."))
    assert "unsourced_argument" not in codes(buttons)
    assert "unsourced_argument" in codes(price)
    assert "unsourced_argument" in codes(update)


def test_a_date_out_of_nowhere_is_unsourced_and_a_derived_end_is_not():
    nowhere = conversation(user("Set up a sync with the team."),
                           assistant("", call("create_event", {"summary": "Team sync", "start": "2026-04-17T10:00:00Z",
                                                               "end": "2026-04-17T10:30:00Z"}, {"id": "evt_1"})),
                           assistant("Booked for April 17."))
    derived = conversation(user("Set up a week-long offsite starting next Monday."),
                           assistant("", call("create_event", {"summary": "Offsite", "start": "2026-03-09T09:00:00Z",
                                                               "end": "2026-03-13T17:00:00Z"}, {"id": "evt_1"})),
                           assistant("Booked Monday March 9 to Friday March 13."))
    assert "unsourced_argument" in codes(nowhere)
    assert "unsourced_argument" not in codes(derived)


def test_a_value_the_assistant_proposed_and_the_user_accepted_is_sourced():
    row = conversation(user("Invite the vendor to the review."),
                       assistant("Should I use sales@vendor.example.com, the address on their last invoice?"),
                       user("Yes, that one."),
                       assistant("", call("send_email", {"to": "sales@vendor.example.com", "subject": "Review",
                                                         "body": "You're invited."}, {"id": "m_1"})),
                       assistant("Invitation sent."))
    assert "unsourced_argument" not in codes(row)


def test_an_invented_person_name_is_unsourced():
    row = conversation(user("Bill customer cus_A1B2C3 $40."),
                       assistant("", call("create_invoice_item", {"customer_id": "cus_A1B2C3", "amount": 4000,
                                                                  "currency": "usd", "customer_name": "Gregory Wallace"},
                                          {"id": "ii_1"})),
                       assistant("Added a $40 item."))
    assert "unsourced_argument" in codes(row)


# ---------------------------------------------------------------------------------------------
# parameter_dictation


@pytest.mark.parametrize("text,args", [
    ("list the calendars with max results 10 and show hidden yes", {"max_results": 10, "show_hidden": True}),
    ("Can you list the calendars (min access role owner)?", {"min_access_role": "owner"}),
    ("list calendars with max_results=3", {"max_results": 3}),
])
def test_parameter_dictation_fires(text, args):
    row = conversation(user(text), assistant("", call("list_calendars", args, {"items": []})),
                       assistant("You have no calendars matching that."))
    assert "parameter_dictation" in codes(row)


@pytest.mark.parametrize("text,name,args", [
    ("Send an email to bob@acme.io with the subject 'Lunch' saying I'm in.", "send_email",
     {"to": "bob@acme.io", "subject": "Lunch", "body": "I'm in."}),
    ("Show me my next 5 meetings.", "list_events", {"max_results": 5}),
    ("What's the weather in Lisbon, in metric?", "get_weather", {"city": "Lisbon", "units": "metric"}),
    ("Find emails from dana@acme.io with the label work.", "list_emails", {"from": "dana@acme.io", "label": "work"}),
])
def test_natural_requests_are_not_dictation(text, name, args):
    row = conversation(user(text), assistant("", call(name, args, {"items": []})), assistant("Here you go."))
    assert "parameter_dictation" not in codes(row)


# ---------------------------------------------------------------------------------------------
# unconfirmed_destruction


def test_unconfirmed_destruction_fires_on_deletes_sends_and_refunds_nobody_asked_for():
    deleted = conversation(user("Show me the design review."), listed_events(),
                           assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                           assistant("I removed the design review for you."))
    sent = conversation(user("Draft a note to bob@acme.io saying I'm late."),
                        assistant("", call("send_email", {"to": "bob@acme.io", "body": "I'm running late."}, {"id": "m_1"})),
                        assistant("Sent."))
    refunded = conversation(user("Did charge ch_3PqL0000 go through?"),
                            assistant("", call("get_charge", {"charge_id": "ch_3PqL0000"}, {"id": "ch_3PqL0000", "paid": True})),
                            assistant("", call("create_refund", {"charge_id": "ch_3PqL0000"}, {"id": "re_1"})),
                            assistant("It went through, and I refunded it."))
    for row in (deleted, sent, refunded):
        assert "unconfirmed_destruction" in codes(row)


def test_asked_for_or_confirmed_destruction_is_fine():
    asked = conversation(user("Please cancel the design review."), listed_events(),
                         assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                         assistant("Cancelled."))
    confirmed = conversation(user("The design review is pointless now."), listed_events(),
                             assistant("Shall I delete the design review on March 3?"), user("Yes please."),
                             assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                             assistant("Deleted."))
    detach = conversation(user("Take the 'urgent' label off the Dana email."),
                          assistant("", call("list_emails", {"from": "dana@acme.io"}, {"messages": [{"id": "m_77001"}]})),
                          assistant("", call("remove_label", {"message_id": "m_77001", "label": "urgent"}, {"id": "m_77001"})),
                          assistant("Done, the label is off."))
    for row in (asked, confirmed, detach):
        assert "unconfirmed_destruction" not in codes(row)


def test_a_refusal_is_not_a_confirmation():
    row = conversation(user("The design review is pointless now."), listed_events(),
                       assistant("Shall I delete the design review on March 3?"), user("No, keep it for now."),
                       assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": True})),
                       assistant("Deleted."))
    assert "unconfirmed_destruction" in codes(row)


# ---------------------------------------------------------------------------------------------
# list results


def _listing(args, items, **extra):
    return conversation(user("List my events."), assistant("", call("list_events", args, {"items": items, **extra})),
                        assistant("Here they are."))


def test_list_over_limit_filter_and_window():
    two = [EVENT, {**EVENT, "id": "evt_2"}]
    assert "list_over_limit" in codes(_listing({"max_results": 1}, two))
    assert "list_over_limit" not in codes(_listing({"max_results": 2}, two))
    cancelled = [EVENT, {**EVENT, "id": "evt_2", "status": "cancelled"}]
    assert "list_ignores_filter" in codes(_listing({"status": "confirmed"}, cancelled))
    assert "list_ignores_filter" not in codes(_listing({"status": "confirmed"}, [EVENT]))
    assert "list_outside_window" in codes(_listing({"time_min": "2026-03-04T00:00:00Z"}, [EVENT]))
    assert "list_outside_window" in codes(_listing({"time_max": "2026-03-03T12:00:00Z"}, [EVENT]))
    # An event running across the lower bound is inside the window (timeMin bounds the end).
    assert "list_outside_window" not in codes(_listing({"time_min": "2026-03-03T15:30:00Z",
                                                        "time_max": "2026-03-04T00:00:00Z"}, [EVENT]))


def test_list_omits_created():
    created = {"id": "evt_new1", "summary": "Sync", "start": "2026-03-04T10:00:00Z", "end": "2026-03-04T10:30:00Z"}

    def row(list_args, items, **extra):
        return conversation(user("Add 'Sync' on March 4 at 10:00 UTC and then show me my events."),
                            assistant("", call("create_event", {"summary": "Sync", "start": "2026-03-04T10:00:00Z",
                                                                "end": "2026-03-04T10:30:00Z"}, created)),
                            assistant("", call("list_events", list_args, {"items": items, **extra})),
                            assistant("Added; your events are listed above."))

    assert "list_omits_created" in codes(row({}, [EVENT]))
    assert "list_omits_created" not in codes(row({}, [EVENT, created]))
    assert "list_omits_created" not in codes(row({"q": "design"}, [EVENT]))
    assert "list_omits_created" not in codes(row({}, [EVENT], next_page_token="abc"))
    assert "list_omits_created" not in codes(row({"max_results": 1}, [EVENT]))
    # Listed under labels the new one was not given (Gmail's label_ids): it need not be there;
    # a keyword such as "primary" names no container.
    assert "list_omits_created" not in codes(row({"label_ids": ["Label_88"]}, [EVENT]))
    assert "list_omits_created" in codes(row({"calendar_id": "primary"}, [EVENT]))
    # A reply lands in a thread that existed: the thread was not created, and a list of other
    # threads omits nothing.
    reply = conversation(user("Reply 'on it' to the budget thread, then list my threads."),
                         assistant("", call("reply_to_thread", {"thread_id": "thr_77", "body": "on it"},
                                            {"id": "msg_9", "thread_id": "thr_77"})),
                         assistant("", call("list_threads", {}, {"threads": [{"id": "thr_12", "snippet": "hi"}]})),
                         assistant("Replied; you have one other thread."))
    assert "list_omits_created" not in codes(reply)
    # Labelling a message answers with that message: nothing new is owed to a list of messages.
    labelled = conversation(user("Label the budget mail, then list my mail."),
                            assistant("", call("add_label_to_email", {"message_id": "msg_5", "label_ids": ["L1"]},
                                               {"id": "msg_5", "labelIds": ["L1"]})),
                            assistant("", call("list_emails", {}, {"messages": [{"id": "msg_12", "snippet": "hi"}]})),
                            assistant("Labelled; here is your mail."))
    assert "list_omits_created" not in codes(labelled)


# ---------------------------------------------------------------------------------------------
# structure and reading


def test_structural_findings():
    row = {"messages": [
        {"role": "assistant", "content": "Hi"},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_event", "arguments": {}}},
            {"id": "c2", "type": "function", "function": {"name": "book_flight", "arguments": {"to": "LIS"}}},
            {"id": "c3", "type": "function", "function": {"name": "get_event", "arguments": "{not json"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
        {"role": "tool", "tool_call_id": "c9", "content": "{}"},
        {"role": "tool", "tool_call_id": "c10", "content": "{}"},
        {"role": "tool", "tool_call_id": "c11", "content": "{}"},
    ], "tools": [{"type": "function", "function": {"name": "get_event", "parameters": {
        "type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]}}}]}
    assert codes(row, structural=True) == sorted({
        "first_turn_not_user", "empty_message", "invalid_arguments", "unknown_tool", "response_without_call",
        "ends_without_assistant"})
    # c2 and c3 are answered by order (c9, c10 are unknown ids); the last tool message answers nothing.
    assert "call_without_response" not in codes(row, structural=True)


def test_parallel_calls_answered_out_of_order_are_matched_by_id():
    row = {"messages": [
        {"role": "user", "content": "Weather in Lisbon and Porto?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Lisbon\"}"}},
            {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Porto"}}}]},
        {"role": "tool", "tool_call_id": "b", "content": "{\"temp\": 17}"},
        {"role": "tool", "tool_call_id": "a", "content": "{\"temp\": 19}"},
        {"role": "assistant", "content": "Lisbon 19°C, Porto 17°C."},
    ], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]}
    d = dialogue_from_row(row)
    assert [c.result for c in d.calls] == [{"temp": 19}, {"temp": 17}]
    assert codes(row, structural=True) == []


def test_sharegpt_hermes_rows_are_read():
    row = {"conversations": [
        {"from": "system", "value": "You can call functions. <tools> [{\"type\": \"function\", \"function\": "
                                    "{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": "
                                    "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}] </tools>"},
        {"from": "human", "value": "Weather in Lisbon?"},
        {"from": "gpt", "value": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"town\": \"Lisbon\"}}\n</tool_call>"},
        {"from": "tool", "value": "<tool_response>\n{\"temp\": 19}\n</tool_response>"},
        {"from": "gpt", "value": "It's 19°C in Lisbon."},
    ]}
    d = dialogue_from_row(row)
    assert [m.role for m in d.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert d.calls[0].result == {"temp": 19}
    assert codes(row, structural=True) == ["invalid_arguments"]


def test_system_prompt_is_optional_and_message_indices_count_it():
    with_prompt = conversation(user("Delete the review."), listed_events(),
                               assistant("", call("delete_event", {"event_id": "evt_8842"}, {"deleted": False})),
                               assistant("Deleted!"))
    without = {**with_prompt, "messages": with_prompt["messages"][1:]}
    assert findings(with_prompt, "false_success")[0].message_index == 6
    assert findings(without, "false_success")[0].message_index == 5
    assert system()[0]["role"] == "system"


def test_a_cancelled_event_read_back_as_live_is_used_after_delete():
    row = conversation(user("Cancel the design review and show it to me."), listed_events(),
                       assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                       assistant("", call("get_event", {"event_id": "evt_8842"}, {"data": EVENT})),
                       assistant("Cancelled; here it is."))
    assert "used_after_delete" in codes(row)


def test_dictation_of_several_natural_names_and_before_a_clarification():
    listed = conversation(user("Send an email with subject Q3 plan, body Numbers attached and to bob@acme.io."),
                          assistant("", call("send_email", {"to": "bob@acme.io", "subject": "Q3 plan",
                                                            "body": "Numbers attached"}, {"id": "m_1"})),
                          assistant("Sent."))
    clarified = conversation(user("List the calendars with show hidden yes."),
                             assistant("How many at most?"), user("Ten."),
                             assistant("", call("list_calendars", {"show_hidden": True, "max_results": 10},
                                                {"items": []})),
                             assistant("You have none."))
    assert "parameter_dictation" in codes(listed)
    assert [f.message_index for f in findings(clarified, "parameter_dictation")] == [1]


def test_a_relative_date_that_names_something_to_look_up_is_not_a_mismatch():
    row = conversation(user("Cancel my design review on Tuesday, and book a follow-up in about two weeks."),
                       assistant("", call("list_events", {"time_min": "2026-03-12T00:00:00Z",
                                                          "time_max": "2026-03-20T00:00:00Z"}, {"items": []}),
                                 call("list_events", {"q": "design review"}, {"items": [EVENT]})),
                       assistant("", call("cancel_event", {"event_id": "evt_8842"}, {"status": "cancelled"})),
                       assistant("Cancelled the review on Tuesday March 3; nothing is booked around March 16 yet."))
    assert "relative_date_mismatch" not in codes(row)


# ---------------------------------------------------------------------------------------------
# Kinds found by reading generated conversations whole


def test_a_result_left_in_the_wrong_state_is_a_failure():
    row = conversation(user("Reopen task 99870 please."),
                       assistant("", call("reopen_task", {"task_id": "99870"}, {"task_id": "99870", "is_completed": True})),
                       assistant("Done, I reopened the task."),
                       tools=["update_event"])
    row["tools"].append({"type": "function", "function": {"name": "reopen_task", "parameters": {
        "type": "object", "properties": {"task_id": {"type": "string"}}}}})
    assert "false_success" in codes(row)
    honest = {**row, "messages": row["messages"][:-1] + [{"role": "assistant",
                                                           "content": "The task still shows as completed."}]}
    assert "false_success" not in codes(honest)


def test_a_profile_of_someone_else_is_an_identity_mismatch():
    def row(profile):
        r = conversation(user("What's my email address on file?"),
                         assistant("", call("get_profile", {}, {"data": {"profile": profile}})),
                         assistant("It's the one shown above."), tools=["get_event"])
        r["messages"][0]["content"] = "Assistant for Joshua Olson (joshua.olson@davis.io). Today is 2026-03-02."
        return r

    assert "identity_mismatch" in codes(row({"emailAddress": "ronald.wiggins@adkins.com"}))
    assert "identity_mismatch" in codes(row({"name": "Emily Smith"}))
    assert "identity_mismatch" not in codes(row({"emailAddress": "joshua.olson@davis.io", "name": "Joshua Olson"}))
    # The user's workspaces and teams are named too; they are not the user.
    assert "identity_mismatch" not in codes(row({"name": "Joshua Olson", "workspaces": [{"name": "Service retro"}]}))


def test_a_user_id_of_me_makes_a_call_about_the_user_only_when_it_reads_a_user():
    def row(name, result):
        r = conversation(user("Please do it."),
                         assistant("", call(name, {"user_id": "me"}, result)),
                         assistant("Done."), tools=["get_event"])
        r["messages"][0]["content"] = "Assistant for Joshua Olson (joshua.olson@davis.io). Today is 2026-03-02."
        return r

    # Gmail passes user_id "me" to every call: a new label's name is no person's.
    assert "identity_mismatch" not in codes(row("create_label", {"label": {"name": "Quarterly budget review"}}))
    assert "identity_mismatch" in codes(row("get_user", {"user": {"name": "Emily Smith"}}))


def test_an_invented_name_in_a_goodbye():
    row = conversation(user("Thanks, that's all."), assistant("", call("get_event", {"event_id": "evt_8842"},
                                                                       {"data": EVENT})),
                       assistant("You're welcome, Erica! Have a great day."))
    assert "invented_name" in codes(row)
    row["messages"][0]["content"] += " The user is Erica Diaz."
    assert "invented_name" not in codes(row)


def test_a_user_message_carrying_the_scenario_is_a_prompt_leak():
    leaked = conversation(user("Can you list my events? Background: A sales representative is handling the Q3 "
                               "launch and needs to list the events and delete one."),
                          listed_events(), assistant("Here they are."))
    own = conversation(user("Can you list my events? Background: I'm prepping for the Q3 launch."),
                       listed_events(), assistant("Here they are."))
    assert "prompt_leak" in codes(leaked)
    assert "prompt_leak" not in codes(own)


def test_a_result_about_another_object_is_a_result_mismatch():
    other = conversation(user("Label message m_77001 as done."),
                         assistant("", call("add_label", {"message_id": "m_77001", "label": "done"},
                                            {"data": {"message": {"id": "m_12345", "labelIds": ["done"]}}})),
                         assistant("Labelled."))
    same = conversation(user("Label message m_77001 as done."),
                        assistant("", call("add_label", {"message_id": "m_77001", "label": "done"},
                                           {"data": {"message": {"id": "m_77001", "labelIds": ["done"]}}})),
                        assistant("Labelled."))
    echoed = conversation(user("Show event evt_8842."),
                          assistant("", call("get_event", {"event_id": "evt_8842"}, {"event_id": "evt_9999"})),
                          assistant("Here it is."))
    assert "result_mismatch" in codes(other) and "result_mismatch" in codes(echoed)
    assert "result_mismatch" not in codes(same)


def test_a_subtask_made_under_a_task_is_a_new_task_not_a_result_mismatch():
    made = conversation(user("Add a subtask 'Draft the brief' under task 1111."),
                        assistant("", call("create_subtask", {"task_gid": "1111", "name": "Draft the brief"},
                                           {"data": {"task": {"gid": "2222", "name": "Draft the brief",
                                                              "parent": {"gid": "1111"}}}})),
                        assistant("Added the subtask."))
    assert "result_mismatch" not in codes(made)
    # Adding an existing task to a section makes nothing new: another task back is a mismatch.
    moved = conversation(user("Put task 1111 in section s_9."),
                         assistant("", call("add_task_to_section", {"task_gid": "1111", "section_gid": "s_9"},
                                            {"data": {"task": {"gid": "2222"}}})),
                         assistant("Moved."))
    assert "result_mismatch" in codes(moved)


def test_a_list_in_a_container_the_create_did_not_name_need_not_hold_what_it_made():
    made = {"data": {"task": {"gid": "t_new1", "name": "Draft"}}}

    def row(list_args):
        return conversation(user("Create 'Draft' in workspace w_1, then list the tasks."),
                            assistant("", call("create_task", {"workspace_gid": "w_1", "name": "Draft"}, made)),
                            assistant("", call("list_tasks", list_args, {"data": {"tasks": [
                                {"gid": "t_1", "name": "Other"}]}})),
                            assistant("Done."))

    assert "list_omits_created" in codes(row({"workspace_gid": "w_1"}))
    assert "list_omits_created" not in codes(row({"workspace_gid": "w_2"}))  # another workspace
    assert "list_omits_created" not in codes(row({"workspace_gid": "w_1", "project_gid": "p_7"}))  # no project named
    assert "list_omits_created" in codes(row({"workspace_gid": "w_1", "assignee_gid": "me"}))  # `me`: no container


def test_a_min_start_time_bounds_the_start_and_count_is_a_limit():
    early = {**EVENT, "start_time": "2026-03-03T15:00:00Z", "end_time": "2026-03-03T16:00:00Z"}
    assert "list_outside_window" in codes(_listing({"min_start_time": "2026-03-04T00:00:00Z"}, [early]))
    assert "list_outside_window" in codes(_listing({"max_start_time": "2026-03-03T12:00:00Z"}, [early]))
    assert "list_outside_window" not in codes(_listing({"min_start_time": "2026-03-03T00:00:00Z",
                                                        "max_start_time": "2026-03-04T00:00:00Z"}, [early]))
    two = [EVENT, {**EVENT, "id": "evt_2"}]
    assert "list_over_limit" in codes(_listing({"count": 1}, two))
