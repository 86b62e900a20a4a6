"""Field semantics: names normalised, ids recognised and attributed to the right entity."""

from __future__ import annotations

import pytest

from funcdex_assets.catalog.fields import (
    classify,
    entity_of_object,
    entity_word,
    id_entity,
    input_slots,
    is_id_like,
    output_slots,
    singular,
    snake,
    tool_entity,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("issueIdOrKey", "issue_id_or_key"),
        ("calendar-id", "calendar_id"),
        ("eventId", "event_id"),
        ("HTTPServerError", "http_server_error"),
        ("getHTTPResponse", "get_http_response"),
        ("already_snake", "already_snake"),
        ("GOOGLECALENDAR_EVENTS_LIST", "googlecalendar_events_list"),
        ("  spaced name. ", "spaced_name"),
        ("_id", "id"),
    ],
)
def test_snake(name: str, expected: str) -> None:
    assert snake(name) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("events", "event"),
        ("entries", "entry"),
        ("classes", "class"),
        ("boxes", "box"),
        ("matches", "match"),
        ("wishes", "wish"),
        # Words that only look plural stay as they are.
        ("status", "status"),
        ("analysis", "analysis"),
        ("address", "address"),
        ("bus", "bus"),
        ("ids", "ids"),  # too short to strip
        ("event", "event"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


def test_entity_word_singularises_only_the_last_word() -> None:
    assert entity_word("scheduled_events") == "scheduled_event"
    assert entity_word("ScheduledEvents") == "scheduled_event"
    assert entity_word("messages_threads") == "messages_thread"
    assert entity_word("calendar") == "calendar"


@pytest.mark.parametrize(
    ("original_name", "expected"),
    [
        ("CREATE_EVENT", "event"),
        ("createCalendarEvent", "event"),
        ("GOOGLECALENDAR_EVENTS_LIST", "event"),
        ("GMAIL_FETCH_EMAILS", "email"),
        ("TODOIST_GET_ALL_PROJECTS", "project"),
        ("STRIPE_LIST_CUSTOMERS", "customer"),
        ("GET_DETAILS", "detail"),  # nothing but noise: the last word is used
        ("list_all", "all"),
        ("get", "get"),
    ],
)
def test_tool_entity(original_name: str, expected: str) -> None:
    assert tool_entity(original_name) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("id", ""),
        ("_id", ""),
        ("gid", ""),
        ("uuid", ""),
        ("uri", ""),
        ("ids", ""),
        ("eventId", "event"),
        ("event_ids", "event"),
        ("issueIdOrKey", "issue"),
        ("task_gid", "task"),
        ("user_uuid", "user"),
        ("event_uri", "event"),
        ("scheduledEventsId", "scheduled_event"),
        ("calendar-id", "calendar"),
        # Not ids, though some contain the letters.
        ("name", None),
        ("idea", None),
        ("valid", None),
        ("paid", None),
        ("video", None),
        ("android", None),
    ],
)
def test_id_entity(field: str, expected: str | None) -> None:
    assert id_entity(field) == expected


@pytest.mark.parametrize(
    ("name", "schema", "default_entity", "expected"),
    [
        ("eventId", {"type": "string"}, "x", ("id", "event_id")),
        ("id", {"type": "string"}, "event", ("id", "event_id")),
        ("id", {"type": "integer"}, "task", ("id", "task_id")),
        ("id", {}, "task", ("id", "task_id")),
        # An object called id is no identifier.
        ("id", {"type": "object"}, "event", ("value", "id")),
        ("label_ids", {"type": "array", "items": {"type": "string"}}, "x", ("id", "label_id")),
        ("attendeeEmail", {"type": "string"}, "x", ("email", "email")),
        ("to", {"type": "string", "format": "email"}, "x", ("email", "email")),
        ("customer", {"type": "string", "description": "ID of the customer."}, "x", ("id", "customer_id")),
        ("customer", {"type": "string", "description": "The customer's name."}, "x", ("value", "customer")),
        # Google's discovery specs: the description names the field itself as an identifier.
        ("tasklist", {"type": "string", "description": "Task list identifier."}, "x", ("id", "tasklist_id")),
        ("task", {"type": "string", "description": "Task identifier."}, "x", ("id", "task_id")),
        ("parent", {"type": "string", "description": "Parent task identifier. Optional."}, "x", ("value", "parent")),
        ("start", {"type": "string", "format": "date-time"}, "x", ("datetime", "datetime")),
        ("due", {"type": "string", "format": "date"}, "x", ("date", "date")),
        ("dates", {"type": "array", "items": {"type": "string", "format": "date"}}, "x", ("date", "date")),
        ("summaryText", {"type": "string"}, "x", ("value", "summary_text")),
    ],
)
def test_classify(name: str, schema: dict, default_entity: str, expected: tuple[str, str]) -> None:
    assert classify(name, schema, default_entity) == expected


def test_input_slots_in_schema_order_with_required_and_keys() -> None:
    schema = {
        "type": "object",
        "properties": {
            "calendarId": {"type": "string", "default": "primary"},
            "eventId": {"type": "string"},
            "summary": {"type": "string"},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"}},
            "broken": "not a schema",
            "id": {"type": "string"},
        },
        "required": ["eventId", "summary"],
    }
    slots = input_slots(schema, "GOOGLECALENDAR_UPDATE_EVENT")
    assert [s.name for s in slots] == ["calendarId", "eventId", "summary", "attendees", "id"]
    by_name = {s.name: s for s in slots}
    assert by_name["calendarId"].kind == "id" and by_name["calendarId"].key == "calendar_id"
    assert not by_name["calendarId"].required
    assert by_name["eventId"].required and by_name["eventId"].key == "event_id"
    assert by_name["summary"].required and by_name["summary"].kind == "value"
    assert by_name["summary"].keys == ("summary",)
    assert by_name["attendees"].kind == "email" and by_name["attendees"].keys == ("email",)
    # A bare `id` input names the tool's own entity.
    assert by_name["id"].key == "event_id"
    assert all(s.path == (s.name,) for s in slots)


def test_input_slots_empty_schema() -> None:
    assert input_slots({"type": "object"}, "LIST_EVENTS") == []


LIST_EVENTS_OUTPUT = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "events": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "summary": {"type": "string"},
                            "organizer": {
                                "type": "object",
                                "properties": {"email": {"type": "string"}, "id": {"type": "string"}},
                            },
                        },
                    },
                },
                "nextPageToken": {"type": "string"},
            },
        },
        "successful": {"type": "boolean"},
    },
}


def test_output_slots_walk_nested_objects_and_arrays() -> None:
    slots = {s.path: s for s in output_slots(LIST_EVENTS_OUTPUT, "GOOGLECALENDAR_LIST_EVENTS")}
    assert set(slots) == {
        ("data", "events", "[]", "id"),
        ("data", "events", "[]", "summary"),
        ("data", "events", "[]", "organizer", "email"),
        ("data", "events", "[]", "organizer", "id"),
        ("data", "nextPageToken"),
        ("successful",),
    }
    event_id = slots[("data", "events", "[]", "id")]
    assert (event_id.kind, event_id.key, event_id.entity) == ("id", "event_id", "event")
    assert event_id.keys == ("event_id",)
    # An `id` inside a nested object belongs to that object, not to the tool's entity.
    organizer_id = slots[("data", "events", "[]", "organizer", "id")]
    assert (organizer_id.kind, organizer_id.key, organizer_id.entity) == ("id", "organizer_id", "organizer")
    summary = slots[("data", "events", "[]", "summary")]
    assert summary.kind == "value" and summary.keys == ("summary", "event_summary")
    email = slots[("data", "events", "[]", "organizer", "email")]
    assert email.kind == "email" and email.keys == ("email",)


def test_output_slots_top_level_id_takes_tool_entity() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}}}
    slots = output_slots(schema, "TODOIST_CREATE_TASK")
    assert [(s.path, s.key, s.entity) for s in slots] == [
        (("id",), "task_id", "task"),
        (("title",), "title", "task"),
    ]


def test_output_slots_top_level_array_of_objects() -> None:
    schema = {"type": "array", "items": {"type": "object", "properties": {"gid": {"type": "string"}}}}
    (slot,) = output_slots(schema, "ASANA_GET_PROJECTS")
    assert slot.path == ("[]", "gid") and slot.key == "project_id"


@pytest.mark.parametrize(
    ("path", "tool", "expected"),
    [
        (("data", "events", "[]"), "LIST_EVENTS", "event"),
        (("data", "[]"), "LIST_EVENTS", "event"),
        ((), "CREATE_TASK", "task"),
        (("data", "items", "[]", "organizer"), "LIST_EVENTS", "organizer"),
        (("response_data", "scheduled_events", "[]"), "CALENDLY_LIST_EVENTS", "scheduled_event"),
    ],
)
def test_entity_of_object(path: tuple[str, ...], tool: str, expected: str) -> None:
    assert entity_of_object(path, tool) == expected


@pytest.mark.parametrize(
    ("name", "schema", "expected"),
    [
        ("eventId", None, True),
        ("uri", None, True),
        ("task_gids", {"type": "array"}, True),
        ("customer", {"type": "string", "description": "ID of the customer to charge."}, True),
        ("customer", {"type": "string", "description": "The customer's display name."}, False),
        ("customer", None, False),
        ("summary", {"type": "string"}, False),
        ("email", {"type": "string", "format": "email"}, False),
    ],
)
def test_is_id_like(name: str, schema: dict | None, expected: bool) -> None:
    assert is_id_like(name, schema) is expected
