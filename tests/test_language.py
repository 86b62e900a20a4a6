"""Request phrases the offline backend builds from tool names and descriptions."""

from __future__ import annotations

import pytest

from funcdex_assets.catalog.models import Tool
from funcdex_assets.offline.language import request_phrase, summary_phrase, tool_verb


def tool(name: str, description: str = "") -> Tool:
    return Tool(toolkit="kit", name=name, original_name=name, description=description,
                input_schema={"type": "object", "properties": {}}, output_schema={"type": "object"})


@pytest.mark.parametrize("name, description, phrase", [
    ("CREATE_EVENT", "Creates an event.", "create an event"),
    ("LIST_THREADS", "", "list the threads"),
    # The verb last (Composio's EVENTS_LIST, Google's service.resource.method).
    ("EVENTS_LIST", "", "list the events"),
    ("tasks_tasklists_list", "", "list the tasklists"),
    # Generated or verb-last names take a short summary when there is one.
    ("EVENTS_LIST", "Lists events on a calendar, optionally within a time range.", "list events on a calendar"),
    ("get_crm_v3_extensions_cards_appId_getAll", "Get all cards\nReturns a list of cards for a given app.",
     "get all cards"),
    ("tasks_tasks_list", "Returns all tasks in the specified task list.", "get all tasks in the specified task list"),
    ("QUICK_ADD", "Creates an event from a sentence such as 'Lunch at 12:30'.", "create an event from a sentence"),
    # A verb-first name keeps its own phrase; a summary that is no verb phrase is not used.
    ("SEND_EMAIL", "Sends an email to one or more recipients.", "send an email"),
    # How the API finds it is no part of a request; an add-to tool's target is said with it;
    # a move takes its object ("move it to the trash": the request names the thing for "it").
    ("FETCH_MESSAGE_BY_THREAD_ID", "", "fetch the message"),
    ("ADD_LABEL_TO_EMAIL", "", "add a label"),
    # API names of things in the words people use.
    ("CREATE_PARAGRAPH_BULLETS", "", "create a bulleted list"),
    ("ADD_FILE_SHARING_PREFERENCE", "", "share the file"),
    ("GET_FILE_METADATA", "", "get the details"),
    ("LIST_EVENT_TYPE_AVAILABLE_TIMES", "", "list the open times"),
    ("MARK_INVITEE_NO_SHOW", "", "mark the invitee as a no-show"),
    ("SEND_INTERACTIVE_BUTTONS", "", "send a message with reply buttons"),
    ("MOVE_TO_TRASH", "", "move it to the trash"),
    ("REPLY_TO_THREAD", "", "reply to the thread"),
    ("get_crm_v3_extensions_cards_appId_getAll", "Cards of an app, 2024 edition (v3).",
     "get the crm v3 extensions cards app id get all"),
])
def test_request_phrase(name, description, phrase):
    assert request_phrase(tool(name, description)) == phrase
    assert tool_verb(tool(name, description)) == phrase.split()[0]


@pytest.mark.parametrize("description, phrase", [
    ("Retrieves the card.", "get the card"),
    ("Deletes the specified task from the task list.", "delete the specified task from the task list"),
    ("Clears all completed tasks from the specified task list. The affected tasks are hidden.",
     "clear all completed tasks from the specified task list"),
    ("[Deprecated] Removes a member.", "remove a member"),
    ("The card object", None),
    ("Get " + "many " * 12 + "cards", None),
    ("", None),
])
def test_summary_phrase(description, phrase):
    assert summary_phrase(description) == phrase
