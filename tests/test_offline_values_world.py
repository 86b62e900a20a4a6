"""The offline value factory and the simulated world that answers tool calls."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline.values import ValueFactory, make_today
from funcdex_assets.offline.world import World, tool_action

TODAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
STR = {"type": "string"}


def factory(seed: int = 0) -> ValueFactory:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return ValueFactory(random.Random(seed), fake, TODAY)


def errors(schema: dict, instance: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in schema_validator(schema).iter_errors(instance)]


def shape(text: str) -> str:
    return "".join("9" if c.isdigit() else "a" if c.islower() else "A" if c.isupper() else c for c in text)


# ---- ValueFactory: ids -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("example", "kept"),
    [
        ("cus_NffrFeUfNV2Hib", "cus_"),
        ("C024BE91L", "C"),
        ("PROJ-123", "PROJ-"),
        ("https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2", "https://api.calendly.com/scheduled_events/"),
        ("a1b2c3d4e5", ""),
        ("18c2f9ab31d4e7a0", ""),
    ],
)
def test_make_id_copies_the_shape_of_the_example(example: str, kept: str) -> None:
    values = factory(1)
    ids = [values.make_id({"type": "string", "examples": [example, "ignored"]}) for _ in range(5)]
    for value in ids:
        assert isinstance(value, str)
        assert value.startswith(kept)
        assert len(value) == len(example)
        assert shape(value) == shape(example), (value, example)
    assert example not in ids
    assert len(set(ids)) == len(ids)


def test_make_id_integers() -> None:
    values = factory(2)
    from_example = [values.make_id({"type": "integer", "examples": [12345]}) for _ in range(10)]
    assert all(isinstance(v, int) and 10_000 <= v <= 99_999 for v in from_example)
    untyped_example = values.make_id({"examples": [987]})
    assert isinstance(untyped_example, int) and 100 <= untyped_example <= 999
    plain = values.make_id({"type": "integer"})
    assert isinstance(plain, int) and 100_000 <= plain <= 999_999


def test_make_id_formats_and_default() -> None:
    values = factory(3)
    uuid = values.make_id({"type": "string", "format": "uuid"})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}", uuid)
    uri = values.make_id({"type": "string", "format": "uri"}, "event")
    assert re.fullmatch(r"https://api\.example\.com/events/[A-Z0-9]{16}", uri)
    assert not errors({"type": "string", "format": "uri"}, uri)
    plain = [values.make_id({"type": "string"}) for _ in range(50)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in plain)
    assert len(set(plain)) == 50


def test_values_are_deterministic_per_seed() -> None:
    schema = {"type": "object", "properties": {
        "id": STR, "name": STR, "start": {"type": "string", "format": "date-time"},
        "email": {"type": "string", "format": "email"}, "tags": {"type": "array", "items": STR}}}

    def draw(seed: int) -> list[Any]:
        values = factory(seed)
        return [values.make_id({"type": "string", "examples": ["cus_Abc123"]}),
                values.object_value(schema, optional_p=1.0), values.value("summary", STR)]

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)


# ---- ValueFactory: schema-driven values ----------------------------------------------------

def test_enum_and_const() -> None:
    values = factory(4)
    enum = ["low", "medium", "high"]
    drawn = [values.value("priority", {"type": "string", "enum": enum}) for _ in range(40)]
    assert set(drawn) <= set(enum) and len(set(drawn)) > 1
    assert values.value("kind", {"const": "fixed"}) == "fixed"
    assert values.value("n", {"type": "integer", "enum": [3, 7]}) in (3, 7)


@pytest.mark.parametrize("fmt", ["email", "date-time", "date", "uri"])
def test_formats_are_valid(fmt: str) -> None:
    values = factory(5)
    schema = {"type": "string", "format": fmt}
    for name in ("value", "start", "link", "contact"):
        value = values.value(name, schema)
        assert isinstance(value, str)
        assert not errors(schema, value), (fmt, value)


def test_times_lie_where_their_names_put_them() -> None:
    """Starts in the next two weeks, ends and due dates after them, creation long ago, later
    changes recently: so end >= start and created <= updated <= today for any two draws."""
    values = factory(6)
    today = TODAY.replace(tzinfo=None)

    def at(name: str, fmt: str = "date-time") -> datetime:
        text = values.value(name, {"type": "string", "format": fmt})
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ" if fmt == "date-time" else "%Y-%m-%d")

    for _ in range(20):
        start, end, due = at("start"), at("end_time"), at("due", "date")
        created, updated = at("created_at"), at("updated_at")
        assert today < start < today + timedelta(days=15) < end < today + timedelta(days=29)
        assert start < due.replace(hour=23) and due <= today + timedelta(days=29)
        assert today - timedelta(days=91) < created < today - timedelta(days=29) < updated < today
        timestamps = [values.value(k, {"type": "integer"}) for k in ("created", "start_time", "expires_at")]
        assert timestamps[0] < TODAY.timestamp() < timestamps[1] < timestamps[2]
        window = [values.value(k, {"type": "string", "format": "date-time"}) for k in ("timeMin", "timeMax")]
        assert window[0] < window[1]


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("limit", {"type": "integer", "minimum": 100, "maximum": 200}),
        ("amount", {"type": "integer", "maximum": 10}),
        ("count", {"type": "integer", "minimum": 0, "maximum": 0}),
        ("priority", {"type": "integer", "minimum": 5, "maximum": 6}),
        ("created_at", {"type": "integer", "minimum": 1, "maximum": 9}),
        ("anything", {"type": "integer", "minimum": -5, "maximum": -1}),
        ("ratio", {"type": "number", "minimum": 0.25, "maximum": 0.75}),
        ("score", {"type": "number", "minimum": 900}),
    ],
)
def test_numeric_bounds(name: str, schema: dict) -> None:
    values = factory(7)
    for _ in range(25):
        value = values.value(name, schema)
        assert not errors(schema, value), (name, value)


def test_string_lengths() -> None:
    values = factory(8)
    for _ in range(10):
        long_enough = values.value("code", {"type": "string", "minLength": 30})
        assert len(long_enough) >= 30
        short = values.value("summary", {"type": "string", "maxLength": 5})
        assert 1 <= len(short) <= 5


def test_string_min_and_max_length_together() -> None:
    schema = {"type": "string", "minLength": 2, "maxLength": 2}
    bad = []
    for seed in range(120):
        values = factory(seed)
        bad.extend((seed, v) for v in (values.value("country", schema) for _ in range(20)) if len(v) != 2)
    assert not bad


def test_field_names_shape_values() -> None:
    values = factory(9)
    assert "@" in values.value("recipient_email", STR)
    assert values.value("timeZone", STR) in ("America/New_York", "Europe/Berlin", "Europe/London", "Asia/Kolkata",
                                              "America/Los_Angeles", "Asia/Singapore", "Australia/Sydney",
                                              "America/Sao_Paulo")
    assert re.fullmatch(r"\+1\d{10}", values.value("phone_number", STR))
    assert values.value("html_link", STR).startswith("https://")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", values.value("due_date", STR))


@pytest.mark.parametrize(
    ("field", "holder", "kind"),
    [
        ("name", "user", "person"),
        ("name", "assignee", "person"),
        ("name", "", "person"),
        ("display_name", "organizer", "person"),
        ("name", "project", "title"),
        ("name", "calendar", "title"),
        ("display_name", "channel", "title"),
    ],
)
def test_names_of_people_and_of_things(field: str, holder: str, kind: str) -> None:
    for seed in range(3):
        value = factory(seed).value(field, STR, holder=holder)
        # A twin factory on the same seed says what a person's name and a title would be here.
        twin = factory(seed)
        expected = twin.fake.name() if kind == "person" else twin.title()
        assert value == expected, (field, holder, value)
        other = factory(seed).value(field, STR, holder="project" if kind == "person" else "user")
        assert other != value


def test_object_value_keeps_required_keys() -> None:
    values = factory(10)
    schema = {"type": "object", "properties": {"a": STR, "b": {"type": "integer"}, "c": {"type": "boolean"}},
              "required": ["a", "b"]}
    seen_optional = False
    for _ in range(20):
        obj = values.object_value(schema)
        assert {"a", "b"} <= set(obj)
        assert not errors(schema, obj)
        seen_optional |= "c" in obj
    assert seen_optional


def test_array_item_counts_within_bounds() -> None:
    values = factory(11)
    schema = {"type": "array", "items": {"type": "object", "properties": {"x": STR}}, "minItems": 2, "maxItems": 4}
    for _ in range(20):
        value = values.value("things", schema)
        assert 2 <= len(value) <= 4


def test_array_of_enum_strings_respects_min_items() -> None:
    schema = {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "minItems": 2}
    short = [seed for seed in range(50) if len(factory(seed).value("labels", schema)) < 2]
    assert not short, f"seeds giving fewer than minItems items: {short}"


def test_catalog_inputs_are_schema_valid(repo_root: Path) -> None:
    catalog = load_catalog(repo_root / "tool_catalog")
    values = factory(12)
    bad = {}
    for tool in catalog.tools:
        args = {k: values.value(k, s) for k, s in (tool.input_schema.get("properties") or {}).items()}
        found = errors(tool.input_schema, args)
        if found:
            bad[tool.name] = found[:3]
    assert not bad


def test_make_today_is_seeded_not_wall_clock() -> None:
    days = {make_today(random.Random(s)) for s in range(20)}
    assert all(datetime(2026, 1, 5, tzinfo=timezone.utc) <= d <= datetime(2026, 12, 31, tzinfo=timezone.utc)
               for d in days)
    assert make_today(random.Random(3)) == make_today(random.Random(3))
    assert len(days) > 1


# ---- World ---------------------------------------------------------------------------------

def make_tool(name: str, inputs: dict, output: dict, required: tuple[str, ...] = ()) -> Tool:
    return Tool(toolkit="cal", name=name, original_name=name, description=name,
                input_schema={"type": "object", "properties": inputs, "required": list(required)},
                output_schema=output)


WHEN = {"type": "object", "properties": {"dateTime": {"type": "string", "format": "date-time"}}, "required": ["dateTime"]}
EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "examples": ["7cbh8rpc10lrc0ckih9tafss99"]},
        "summary": STR,
        "location": STR,
        "description": STR,
        "status": {"type": "string", "enum": ["cancelled", "tentative", "confirmed"]},
        "start": WHEN,
        "htmlLink": {"type": "string", "format": "uri"},
        "colorId": STR,
        "organizer": {"type": "object", "properties": {"id": STR, "email": {"type": "string", "format": "email"},
                                                      "displayName": STR}, "required": ["email"]},
    },
    "required": ["summary", "start", "organizer"],
}


def envelope(data: dict) -> dict:
    return {"type": "object", "properties": {"successful": {"type": "boolean"}, "error": STR, "data": data},
            "required": ["successful", "data"]}


CREATE = make_tool("CREATE_EVENT", {"calendarId": STR, "summary": STR, "location": STR, "start": WHEN,
                                    "organizerEmail": {"type": "string", "format": "email"}},
                   envelope(EVENT), required=("summary", "start"))
GET = make_tool("GET_EVENT", {"eventId": STR, "timeZone": STR}, envelope(EVENT), required=("eventId",))
PATCH = make_tool("PATCH_EVENT", {"eventId": STR, "summary": STR}, envelope(EVENT), required=("eventId",))
LIST = make_tool("LIST_EVENTS", {"q": STR}, envelope({"type": "object", "properties": {
    "items": {"type": "array", "items": EVENT}, "nextPageToken": STR}, "required": ["items"]}))
DELETE = make_tool("DELETE_EVENT", {"eventId": STR}, envelope({"type": "object", "properties": {
    "eventId": STR, "deleted": {"type": "boolean"}}}), required=("eventId",))
CREATE_ARGS = {"calendarId": "primary", "summary": "Q3 planning", "location": "Berlin, Germany",
               "start": {"dateTime": "2026-03-10T10:00:00Z"}, "organizerEmail": "ana.ruiz@example.com"}


def world(seed: int = 0) -> World:
    return World(factory(seed))


@pytest.mark.parametrize(
    ("name", "action"),
    [("CREATE_EVENT", "create"), ("SEND_EMAIL", "create"), ("PATCH_EVENT", "update"), ("MOVE_FILE", "update"),
     ("LIST_EVENTS", "list"), ("SEARCH_ISSUES", "list"), ("FETCH_EMAILS", "list"),
     ("FETCH_MESSAGE_BY_MESSAGE_ID", "get"), ("GET_EVENT", "get"), ("DELETE_EVENT", "delete"),
     ("TRASH_MESSAGE", "delete")],
)
def test_tool_action(name: str, action: str) -> None:
    assert tool_action(make_tool(name, {}, {"type": "object"})) == action


def test_tool_action_trailing_list_verb() -> None:
    tool = make_tool("EVENTS_LIST", {}, {"type": "object"})
    assert tool_action(tool) == "list"


def test_responses_validate_against_output_schema() -> None:
    for seed in range(15):
        w = world(seed)
        created = w.execute(CREATE, CREATE_ARGS, 0)
        event_id = created["data"]["id"]
        for step, (tool, args) in enumerate([(GET, {"eventId": event_id}), (PATCH, {"eventId": event_id, "summary": "X"}),
                                             (LIST, {"q": "planning"}), (DELETE, {"eventId": event_id})], start=1):
            response = w.execute(tool, args, step)
            assert not errors(tool.output_schema, response), (seed, tool.name, response)
        assert not errors(CREATE.output_schema, created)
        assert created["successful"] is True and "error" not in created


def test_catalog_responses_validate(repo_root: Path) -> None:
    catalog = load_catalog(repo_root / "tool_catalog")
    bad = {}
    for seed in (0, 1):
        values = factory(seed)
        for step, tool in enumerate(catalog.tools):
            # A world per tool: random words drawn as ids can repeat, and an id an earlier tool
            # cancelled is rightly refused (a failure, not the output schema's success shape).
            w = World(values)
            args = {k: values.value(k, s) for k, s in (tool.input_schema.get("properties") or {}).items()}
            found = errors(tool.output_schema, w.execute(tool, args, step))
            if found:
                bad[(seed, tool.name)] = found[:3]
    assert not bad


def test_created_entity_comes_back_identical_when_fetched() -> None:
    for seed in range(10):
        w = world(seed)
        created = w.execute(CREATE, CREATE_ARGS, 0)["data"]
        fetched = w.execute(GET, {"eventId": created["id"]}, 1)["data"]
        assert fetched["id"] == created["id"]
        for key, value in created.items():
            if key in fetched and not isinstance(value, (dict, list)):
                assert fetched[key] == value, (seed, key)
        assert fetched["summary"] == "Q3 planning"


def test_created_entity_nested_fields_come_back_identical() -> None:
    w = world(0)
    created = w.execute(CREATE, CREATE_ARGS, 0)["data"]
    fetched = w.execute(GET, {"eventId": created["id"]}, 1)["data"]
    assert created["start"] == {"dateTime": "2026-03-10T10:00:00Z"}
    assert fetched["start"] == created["start"]
    assert fetched["organizer"]["email"] == created["organizer"]["email"]


def test_update_changes_what_later_calls_see() -> None:
    w = world(1)
    event_id = w.execute(CREATE, CREATE_ARGS, 0)["data"]["id"]
    patched = w.execute(PATCH, {"eventId": event_id, "summary": "Q4 planning"}, 1)["data"]
    assert patched["id"] == event_id and patched["summary"] == "Q4 planning"
    assert w.execute(GET, {"eventId": event_id}, 2)["data"]["summary"] == "Q4 planning"


def test_arguments_echo_into_same_named_fields() -> None:
    for seed in range(10):
        data = world(seed).execute(CREATE, CREATE_ARGS, 0)["data"]
        assert data["summary"] == "Q3 planning"
        if "location" in data:
            assert data["location"] == "Berlin, Germany"
        # start.dateTime answers the start.dateTime argument; an address sent lands in the email field.
        assert data["start"]["dateTime"] == "2026-03-10T10:00:00Z"
        assert data["organizer"]["email"] == "ana.ruiz@example.com"
        # A freshly created thing is in its live state.
        if "status" in data:
            assert data["status"] == "confirmed"
    weather = make_tool("GET_WEATHER", {"city": STR, "units": {"type": "string", "enum": ["metric", "imperial"]}},
                        {"type": "object", "properties": {"city": STR, "units": {"type": "string"},
                                                          "temperature": {"type": "number"}},
                         "required": ["city", "units", "temperature"]})
    out = world(0).execute(weather, {"city": "Lisbon", "units": "imperial"}, 0)
    assert out["city"] == "Lisbon" and out["units"] == "imperial"


def test_given_id_of_wrong_type_is_not_echoed() -> None:
    tool = make_tool("GET_ORDER", {"orderId": STR}, {"type": "object", "properties": {"id": {"type": "integer"}},
                                                    "required": ["id"]}, required=("orderId",))
    out = world(0).execute(tool, {"orderId": "abc"}, 0)
    assert isinstance(out["id"], int)


def test_ids_are_never_omitted_but_other_optional_fields_sometimes_are() -> None:
    omitted: set[str] = set()
    for seed in range(40):
        w = world(seed)
        data = w.execute(CREATE, CREATE_ARGS, 0)["data"]
        assert "id" in data and "id" in data["organizer"], seed
        listed = w.execute(LIST, {"q": "x"}, 1)["data"]
        assert listed["items"] and all("id" in item for item in listed["items"])
        omitted |= {k for k in EVENT["properties"] if k not in data}
    assert {"description", "colorId"} & omitted


def test_list_returns_distinct_entities() -> None:
    for seed in range(10):
        items = world(seed).execute(LIST, {"q": "x"}, 0)["data"]["items"]
        assert 1 <= len(items) <= 20
        ids = [item["id"] for item in items]
        assert len(set(ids)) == len(ids)


def test_produced_index() -> None:
    w = world(2)
    created = w.execute(CREATE, CREATE_ARGS, 0)["data"]
    (hit,) = w.find("event_id")
    assert (hit.value, hit.step, hit.entity, hit.label, hit.path) == (created["id"], 0, "event", "Q3 planning", "data.id")
    assert w.find("event_id", before_step=0) == []
    assert [p.value for p in w.find("event_summary")] == ["Q3 planning"]
    assert [p.value for p in w.find("email")] == ["ana.ruiz@example.com"]
    assert "organizer_id" in {p.key for p in w.produced}
    listed = w.execute(LIST, {"q": "x"}, 1)["data"]["items"]
    hits = w.find("event_id")
    assert [h.step for h in hits] == sorted((h.step for h in hits), reverse=True)
    assert {h.value for h in hits if h.step == 1} == {item["id"] for item in listed}
    assert [h.value for h in w.find("event_id", before_step=1)] == [created["id"]]
    # Every scalar of every response is indexed under some key.
    values = {repr(p.value) for p in w.produced}
    assert repr(created["start"]["dateTime"]) in values
    assert all(repr(item["summary"]) in values for item in listed)


# ---- schemas imported from OpenAPI specs ---------------------------------------------------

ACTION = {"oneOf": [
    {"type": "object", "required": ["type", "url"], "properties": {
        "type": {"type": "string", "enum": ["ACTION_HOOK"]}, "url": STR}},
    {"type": "object", "required": ["type", "width"], "properties": {
        "type": {"type": "string", "enum": ["IFRAME"]}, "width": {"type": "integer"}}},
]}


def test_values_for_combinators_and_nullable_types_are_valid() -> None:
    schemas = [
        ACTION,
        {"type": "array", "items": ACTION},
        {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
        {"allOf": [{"type": "object", "properties": {"a": STR}, "required": ["a"]},
                   {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
        {"type": ["string", "null"], "enum": ["s", "m", None]},
        {"type": "integer", "const": 204},
    ]
    for seed in range(10):
        values = factory(seed)
        for schema in schemas:
            value = values.value("thing", schema)
            assert not errors(schema, value), (seed, schema, value)


def test_responses_with_alternatives_and_acknowledgements_validate() -> None:
    card = make_tool("GET_CARD", {"cardId": STR}, {"type": "object", "properties": {
        "id": STR, "primary": ACTION, "actions": {"type": "array", "items": ACTION}}, "required": ["id"]})
    ack = make_tool("DELETE_CARD", {"cardId": STR, "status": STR}, {"type": "object", "properties": {
        "status": {"type": "integer", "const": 204}}, "required": ["status"]})
    for seed in range(10):
        w = world(seed)
        for tool, args in ((card, {"cardId": "c1"}), (ack, {"cardId": "c1", "status": "gone"})):
            response = w.execute(tool, args, 0)
            assert not errors(tool.output_schema, response), (seed, tool.name, response)


def test_ids_a_tool_takes_as_integers_are_digits_even_where_a_response_types_them_as_strings() -> None:
    listing = make_tool("LIST_MEETINGS", {}, {"type": "object", "properties": {"result": {
        "type": "array", "items": {"type": "object", "properties": {"meetingId": STR}}}}})
    w = World(factory(0), integer_id_keys=frozenset({"meeting_id"}))
    ids = [m["meetingId"] for m in w.execute(listing, {}, 0)["result"]]
    assert ids and all(isinstance(i, str) and i.isdigit() for i in ids)
    plain = [m["meetingId"] for m in world(0).execute(listing, {}, 0)["result"]]
    assert not all(i.isdigit() for i in plain)


def test_put_is_an_update() -> None:
    assert tool_action(make_tool("put_meetings_meetingId", {}, {"type": "object"})) == "update"


def test_a_string_described_as_a_timestamp_gets_an_iso_datetime() -> None:
    import random
    from datetime import datetime, timezone

    from faker import Faker

    from funcdex_assets.offline.values import ValueFactory

    values = ValueFactory(random.Random(1), Faker(), datetime(2026, 5, 4, tzinfo=timezone.utc))
    rfc = values.value("completedMax", {"type": "string", "description": "Upper bound (as a RFC 3339 timestamp)."})
    assert datetime.fromisoformat(rfc.replace("Z", "+00:00")).year >= 2026
    unix = values.value("oldest", {"type": "string", "description": "Only messages after this Unix timestamp."})
    assert "T" not in unix or not unix[:4].isdigit()


def test_a_tool_about_the_caller_answers_with_the_users_own_profile(repo_root: Path) -> None:
    tools = {t.name: t for t in load_catalog(repo_root / "tool_catalog").tools}
    me = {"name": "Dana Ruiz", "email": "dana.ruiz@acme.io"}
    for seed in range(5):
        result = World(factory(seed), me=me).execute(tools["ASANA_GET_CURRENT_USER"], {}, step=0)
        user = result["data"]["user"]
        assert user["name"] == "Dana Ruiz" and user.get("email", "dana.ruiz@acme.io") == "dana.ruiz@acme.io"
        # Without a user given, the profile is someone the values make up.
        assert World(factory(seed)).execute(tools["ASANA_GET_CURRENT_USER"], {}, step=0)["data"]["user"].get(
            "name") != "Dana Ruiz"


def test_a_recipient_described_as_a_phone_number_is_one() -> None:
    values = factory(3)
    described = {"type": "string", "description": "Recipient's phone number with country code, digits only."}
    for _ in range(10):
        number = values.value("to", described)
        assert number.isdigit() and len(number) == 11
        assert "@" in values.value("to", {"type": "string", "description": "Recipient email."})


def test_a_list_holds_no_more_items_than_the_call_asked_for(repo_root: Path) -> None:
    from funcdex_assets.catalog.fields import result_limit
    from funcdex_assets.quality.dialogue import iter_objects

    tools = {t.name: t for t in load_catalog(repo_root / "tool_catalog").tools}
    tool = tools["GMAIL_LIST_THREADS"]
    limit_arg = next(k for k in tool.input_schema["properties"] if result_limit({k: 1}) == 1)
    sizes = set()
    for seed in range(12):
        for limit in (1, 2):
            result = World(factory(seed)).execute(tool, {limit_arg: limit}, step=0)
            lists = [v for _, obj in iter_objects(result) for v in obj.values()
                     if isinstance(v, list) and v and isinstance(v[0], dict)]
            assert lists and all(len(v) <= limit for v in lists), (seed, limit, [len(v) for v in lists])
            sizes.add(len(lists[0]))
    assert sizes == {1, 2}  # the cap is the call's, not a fixed size


# ---- a world that remembers: ids, lists, deletion, failures -------------------------------

def catalog_tools(repo_root: Path) -> dict[str, Tool]:
    return {t.name: t for t in load_catalog(repo_root / "tool_catalog").tools}


def calls_row(tools: dict[str, Tool], calls: list[tuple[str, dict, Any]]) -> dict:
    """An OpenAI-format row of these (tool, arguments, result) calls, for the detectors."""
    messages: list[dict] = [{"role": "system", "content": "Today is 2026-03-02."},
                            {"role": "user", "content": "Please take care of it."}]
    for i, (name, args, result) in enumerate(calls):
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": args}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(result)})
    messages.append({"role": "assistant", "content": "Here is what I found."})
    return {"messages": messages, "tools": [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}
        for t in tools.values()]}


def result_codes(tools: dict[str, Tool], calls: list[tuple[str, dict, Any]]) -> list[str]:
    from funcdex_assets.quality.detectors.results import list_consistency, result_mismatch
    from funcdex_assets.quality.dialogue import dialogue_from_row

    d = dialogue_from_row(calls_row(tools, calls))
    return [f.code for f in list_consistency(d) + result_mismatch(d)]


def run(w: World, tools: dict[str, Tool], calls: list[tuple[str, dict]], **kw) -> list[tuple[str, dict, Any]]:
    return [(name, args, w.execute(tools[name], args, step, **kw)) for step, (name, args) in enumerate(calls)]


def test_an_id_argument_comes_back_in_its_entitys_object_also_on_creates(repo_root: Path) -> None:
    """result_mismatch: the message a label is added to is that message; the project a section
    is made in is that project; a subtask is a new task whose parent is the one named."""
    tools = catalog_tools(repo_root)
    for seed in range(8):
        w = World(factory(seed))
        calls = run(w, tools, [
            ("GMAIL_ADD_LABEL_TO_EMAIL", {"message_id": "18c2f9ab31d4e7a0", "label_ids": ["Label_7"]}),
            ("ASANA_CREATE_SECTION", {"project_gid": "1203999", "name": "Backlog"}),
            ("ASANA_CREATE_PROJECT", {"workspace_gid": "1100042", "name": "Launch"}),
            ("ASANA_ADD_TASK_TO_SECTION", {"section_gid": "1204555", "task_gid": "1204777"}),
            ("ASANA_CREATE_SUBTASK", {"task_gid": "1204777", "name": "Draft the brief"}),
            ("STRIPE_SEND_INVOICE", {"invoice": "in_1NffrFeUfNV2Hib"}),
            ("GOOGLEDRIVE_COPY_FILE", {"fileId": "1AbCdEfGh", "name": "Budget copy"}),
        ])
        (_, _, label), (_, _, section), (_, _, project), (_, _, added), (_, _, sub), (_, _, sent), (_, _, copy) = calls
        assert label["data"]["message"]["id"] == "18c2f9ab31d4e7a0"
        assert section["data"]["section"]["project"]["gid"] == "1203999"
        assert section["data"]["section"]["project"]["name"] != "Backlog"  # the section's name, not the project's
        assert project["data"]["project"].get("workspace", {"gid": "1100042"})["gid"] == "1100042"
        assert added["data"] == {"section_gid": "1204555", "task_gid": "1204777"}
        task = sub["data"]["task"]
        assert task["gid"] != "1204777" and task["name"] == "Draft the brief"
        assert task.get("parent", {"gid": "1204777"})["gid"] == "1204777"
        assert task["completed"] is False and "completed_at" not in task  # just made
        assert sent["data"]["invoice"]["id"] == "in_1NffrFeUfNV2Hib"
        assert copy["data"]["file"]["id"] != "1AbCdEfGh"
        assert result_codes(tools, calls) == [], seed


def _list_tools(tools: dict[str, Tool]) -> list[Tool]:
    from funcdex_assets.catalog.actions import reads_many
    from funcdex_assets.catalog.fields import LIMIT_KEYS, snake

    return [t for t in tools.values() if tool_action(t) == "list" or reads_many(t.original_name)
            or any(snake(k) in LIMIT_KEYS for k in t.input_schema.get("properties") or {})]


def test_every_catalog_list_honours_its_filters_windows_and_limits(repo_root: Path) -> None:
    """list_ignores_filter, list_outside_window, list_over_limit: every list tool of the
    catalog, with every argument drawn (enum filters, windows, limits, queries), answers with
    items the detectors find nothing wrong with."""
    tools = catalog_tools(repo_root)
    bad = {}
    for seed in range(6):
        values = factory(seed)
        w = World(values)
        for step, tool in enumerate(_list_tools(tools)):
            args = {k: values.value(k, s) for k, s in (tool.input_schema.get("properties") or {}).items()}
            response = w.execute(tool, args, step)
            found = result_codes(tools, [(tool.name, args, response)]) + errors(tool.output_schema, response)
            if found:
                bad[(seed, tool.name)] = (found, args)
    assert not bad


def test_a_filtered_list_holds_what_was_asked_for(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    seen = set()
    for seed in range(10):
        w = World(factory(seed))
        for status in ("canceled", "active"):
            events = w.execute(tools["CALENDLY_LIST_SCHEDULED_EVENTS"], {"status": status}, 0)["data"]["scheduled_events"]
            assert events and {e["status"] for e in events} == {status}
        prices = w.execute(tools["STRIPE_LIST_PRICES"], {"type": "one_time", "currency": "eur", "active": True},
                           1)["data"]["prices"]
        assert all(p["type"] == "one_time" and p["currency"] == "eur" and p["active"] is True for p in prices)
        invoices = w.execute(tools["STRIPE_LIST_INVOICES"], {"customer": "cus_Q1", "status": "void"}, 2)["data"]["invoices"]
        assert all(i["customer"] == "cus_Q1" and i["status"] == "void" for i in invoices)
        issues = w.execute(tools["JIRA_SEARCH_ISSUES"], {"jql": 'project = OPS AND status = "In Progress" AND text ~ "cache"'},
                           3)["data"]["issues"]
        for issue in issues:
            assert issue["fields"]["project"]["key"] == "OPS" and issue["fields"]["status"]["name"] == "In Progress"
            assert "cache" in issue["fields"]["summary"].lower()
        mail = w.execute(tools["GMAIL_FETCH_EMAILS"], {"query": "from:ana@acme.io quarterly budget"}, 4)["data"]["messages"]
        for message in mail:
            text = (message.get("subject", "") + " " + message["snippet"]).lower()
            assert "quarterly" in text and "budget" in text
            assert message.get("sender", "ana@acme.io") == "ana@acme.io"
        seen |= {len(events)}
    assert len(seen) > 1


def test_every_item_of_a_windowed_list_lies_inside_the_window(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    now = TODAY
    for seed in range(10):
        w = World(factory(seed))
        lo, hi = "2026-03-05T00:00:00Z", "2026-03-12T00:00:00Z"
        events = w.execute(tools["GOOGLECALENDAR_EVENTS_LIST"], {"timeMin": lo, "timeMax": hi}, 0)["data"]["events"]
        assert events
        for event in events:
            assert event["start"]["dateTime"] <= hi and event["end"]["dateTime"] >= lo
            assert event["start"]["dateTime"] < event["end"]["dateTime"]  # an event keeps its length
            assert event["start"].get("date", event["start"]["dateTime"][:10]) == event["start"]["dateTime"][:10]
        slots = w.execute(tools["CALENDLY_LIST_SCHEDULED_EVENTS"],
                          {"min_start_time": lo, "max_start_time": hi}, 1)["data"]["scheduled_events"]
        assert all(lo <= s["start_time"] <= hi for s in slots)
        docs = w.execute(tools["GOOGLEDOCS_SEARCH_DOCUMENTS"], {"modified_after": "2026-02-20T00:00:00Z"},
                         2)["data"]["documents"]
        for doc in docs:
            if "modifiedTime" in doc:
                assert "2026-02-20T00:00:00Z" <= doc["modifiedTime"] <= ValueFactory.iso(now)
                assert doc.get("createdTime", doc["modifiedTime"]) <= doc["modifiedTime"]
        customers = w.execute(tools["STRIPE_LIST_CUSTOMERS"], {"created_gte": int(TODAY.timestamp()) - 86400 * 10},
                              3)["data"]["customers"]
        assert all(int(TODAY.timestamp()) - 86400 * 10 <= c["created"] <= TODAY.timestamp() for c in customers)
        # Documents changed after next week do not exist yet.
        future = w.execute(tools["GOOGLEDOCS_SEARCH_DOCUMENTS"], {"modified_after": "2026-03-20T00:00:00Z"}, 4)
        assert future["data"]["documents"] == []


def test_a_list_holds_what_the_conversation_made_and_not_what_it_deleted(repo_root: Path) -> None:
    """list_omits_created: a created label is among the labels; a task made in a project is
    listed with that project's tasks, not with another's; a deleted task is listed nowhere."""
    tools = catalog_tools(repo_root)
    for seed in range(10):
        w = World(factory(seed))
        calls = run(w, tools, [
            ("GMAIL_CREATE_LABEL", {"label_name": "Receipts", "user_id": "me"}),
            ("GMAIL_LIST_LABELS", {"user_id": "me"}),
            ("TODOIST_CREATE_TASK", {"content": "File taxes", "project_id": "2203306141"}),
            ("TODOIST_GET_ACTIVE_TASKS", {"project_id": "2203306141"}),
            ("TODOIST_GET_ACTIVE_TASKS", {"project_id": "2203306142"}),
        ])
        label = calls[0][2]["data"]["label"]["id"]
        assert label in [item["id"] for item in calls[1][2]["data"]["labels"]]
        task = calls[2][2]["data"]["task"]["id"]
        assert task in [t["id"] for t in calls[3][2]["data"]["tasks"]]
        assert all(t["project_id"] == "2203306141" for t in calls[3][2]["data"]["tasks"])
        assert task not in [t["id"] for t in calls[4][2]["data"]["tasks"]]
        assert w.list_matches(3).items[w.list_matches(3).match].id == task  # what was just made is what is meant
        w.execute(tools["TODOIST_DELETE_TASK"], {"task_id": task}, 5)
        again = w.execute(tools["TODOIST_GET_ACTIVE_TASKS"], {"project_id": "2203306141"}, 6)["data"]["tasks"]
        assert task not in [t["id"] for t in again]
        assert result_codes(tools, calls) == []


def test_list_sizes_spread_from_none_to_many_within_the_limit(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    listing = tools["GOOGLECALENDAR_EVENTS_LIST"]
    sizes, capped, empties = [], [], 0
    for seed in range(300):
        w = World(factory(seed))
        sizes.append(len(w.execute(listing, {}, 0)["data"]["events"]))
        empties += not w.execute(listing, {"q": "standup"}, 1, min_items=0)["data"]["events"]
        page = w.execute(listing, {"maxResults": 3}, 2)["data"]
        capped.append(len(page["events"]))
        assert ("nextPageToken" in page) == (w.list_matches(2).total > 3)
    share_one = sizes.count(1) / len(sizes)
    assert 0 not in sizes and max(sizes) <= 20 and 0.15 <= share_one <= 0.32
    assert sum(2 <= n <= 5 for n in sizes) > sum(n > 10 for n in sizes) > 0
    assert 0.03 <= empties / 300 <= 0.14
    assert max(capped) == 3 and min(capped) >= 1


def test_a_page_token_continues_the_same_listing(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    tool = tools["GOOGLECALENDAR_EVENTS_LIST"]
    for seed in range(40):
        w = World(factory(seed))
        first = w.execute(tool, {"maxResults": 2}, 0)["data"]
        total = w.list_matches(0).total
        seen = [e["id"] for e in first["events"]]
        token, step = first.get("nextPageToken"), 1
        while token:
            page = w.execute(tool, {"maxResults": 2, "pageToken": token}, step)["data"]
            seen += [e["id"] for e in page["events"]]
            token, step = page.get("nextPageToken"), step + 1
        assert len(seen) == len(set(seen)) == total
        assert [e["id"] for e in w.execute(tool, {"maxResults": 2}, step)["data"]["events"]] == seen[:2]


def test_near_misses_look_like_the_match_but_differ_in_what_the_user_says(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    positions, with_near = set(), 0
    for seed in range(60):
        w = World(factory(seed))
        w.execute(tools["GOOGLECALENDAR_EVENTS_LIST"], {"q": "budget review", "timeMin": "2026-03-03T00:00:00Z",
                                                        "timeMax": "2026-03-20T00:00:00Z"}, 0)
        listing = w.list_matches(0)
        assert listing is not None and listing.match is not None
        match = listing.items[listing.match]
        assert "budget review" in match.label.lower()
        positions.add(listing.match)
        for i in listing.near_misses:
            near = listing.items[i]
            assert "budget review" in near.label.lower()
            assert near.differs and any(near.fields.get(p) != match.fields.get(p) for p in near.differs)
        if listing.near_misses:
            with_near += 1
            assert listing.distinguishing
            assert set(listing.distinguishing) <= set(match.fields)
    assert len(positions) > 3 and with_near > 20
    assert World(factory(0)).list_matches(0) is None


def test_deletion_retires_an_entity(repo_root: Path) -> None:
    from funcdex_assets.quality.detectors.honesty import failure

    tools = catalog_tools(repo_root)
    w = World(factory(3))
    event = w.execute(tools["GOOGLECALENDAR_CREATE_EVENT"], {
        "summary": "Design review", "start": {"dateTime": "2026-03-05T10:00:00Z"},
        "end": {"dateTime": "2026-03-05T11:00:00Z"}}, 0)["data"]["event"]["id"]
    assert w.execute(tools["GOOGLECALENDAR_DELETE_EVENT"], {"eventId": event}, 1)["successful"] is True
    before = (len(w.produced), len(w.records))
    for step, (name, args) in enumerate([("GOOGLECALENDAR_GET_EVENT", {"eventId": event}),
                                         ("GOOGLECALENDAR_PATCH_EVENT", {"eventId": event, "summary": "X"}),
                                         ("GOOGLECALENDAR_DELETE_EVENT", {"eventId": event})], start=2):
        response = w.execute(tools[name], args, step)
        assert response["successful"] is False and event in response["error"] and "404" in response["error"]
        assert failure(response, name) is not None and w.last_failure.kind == "not_found"
        assert not errors({"type": "object", "required": ["successful", "error"]}, response)
    assert (len(w.produced), len(w.records)) == before  # a failed call changes nothing, exposes nothing
    assert event not in json.dumps(w.execute(tools["GOOGLECALENDAR_EVENTS_LIST"], {}, 5))
    # A cancelled event can still be read, as cancelled; changing it fails.
    uri = w.execute(tools["CALENDLY_LIST_SCHEDULED_EVENTS"], {"status": "active"}, 6)["data"]["scheduled_events"][0]["uri"]
    w.execute(tools["CALENDLY_CANCEL_SCHEDULED_EVENT"], {"scheduled_event": uri}, 7)
    read = w.execute(tools["CALENDLY_GET_SCHEDULED_EVENT"], {"scheduled_event": uri}, 8)
    assert read["successful"] is True and read["data"]["scheduled_event"]["status"] == "canceled"
    again = w.execute(tools["CALENDLY_CANCEL_SCHEDULED_EVENT"], {"scheduled_event": uri}, 9)
    assert again["successful"] is False and "cancelled" in again["error"] and w.last_failure.kind == "conflict"
    assert uri not in json.dumps(w.execute(tools["CALENDLY_LIST_SCHEDULED_EVENTS"], {"status": "active"}, 10))
    assert uri in json.dumps(w.execute(tools["CALENDLY_LIST_SCHEDULED_EVENTS"], {"status": "canceled"}, 11))
    # A trashed message reads back in the trash.
    message = w.execute(tools["GMAIL_FETCH_EMAILS"], {}, 12)["data"]["messages"][0]["id"]
    w.execute(tools["GMAIL_MOVE_TO_TRASH"], {"message_id": message}, 13)
    read = w.execute(tools["GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID"], {"message_id": message}, 14)
    assert "TRASH" in read["data"]["message"].get("labelIds", ["TRASH"])


@pytest.mark.parametrize("kind", ["not_found", "permission_denied", "validation_error", "rate_limit", "conflict"])
def test_failures_name_the_problem_in_the_toolkits_shape_and_change_nothing(repo_root: Path, kind: str) -> None:
    from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
    from funcdex_assets.dml.validator import validate_conversation
    from funcdex_assets.quality.detectors.honesty import failure

    tools = catalog_tools(repo_root)
    cases = [("TODOIST_CLOSE_TASK", {"task_id": "2995104339"}),
             ("GOOGLECALENDAR_CREATE_EVENT", {"summary": "Design review", "start": {"dateTime": "2026-03-05T10:00:00Z"},
                                              "end": {"dateTime": "2026-03-05T09:00:00Z"}}),
             ("STRIPE_CREATE_CUSTOMER", {"email": "ana@acme.io", "name": "Ana Ruiz"})]
    for name, args in cases:
        w = World(factory(1))
        w.execute(tools["GMAIL_LIST_LABELS"], {}, 0)
        state = (len(w.produced), dict(w.records), dict(w.retired))
        response = w.failure(tools[name], args, kind)
        assert (len(w.produced), dict(w.records), dict(w.retired)) == state
        assert response["successful"] is False and failure(response, name) is not None
        message = response["error"]
        assert message.startswith(("404", "403", "400", "429", "409")) and w.last_failure.kind == kind
        if kind == "not_found" and name == "TODOIST_CLOSE_TASK":
            assert "2995104339" in message and "not found" in message
        if kind == "validation_error":
            assert w.last_failure.argument and f"'{w.last_failure.argument}'" in message
        if kind == "rate_limit":
            assert w.last_failure.retry_after and f"{w.last_failure.retry_after} seconds" in message
        turns = [UserTurn(text="Please do it."), ToolCallTurn(name=name, arguments=args),
                 ToolResponseTurn(content=response), AssistantTurn(text="That did not work: " + message)]
        assert not [i for i in validate_conversation(turns, {name: tools[name]}) if i.code == "invalid_response"]
    create = w.failure(tools["GOOGLECALENDAR_CREATE_EVENT"], cases[1][1], "validation_error")
    assert "end.dateTime" in create["error"] and "after" in create["error"]  # the real defect of these arguments
    plain = make_tool("GET_ORDER", {"orderId": STR}, {"type": "object", "properties": {"id": STR}}, ("orderId",))
    out = World(factory(0)).failure(plain, {"orderId": "o_1"}, kind)
    assert set(out) == {"error"} and out["error"]["code"] in (404, 403, 400, 429, 409) and out["error"]["message"]
    with pytest.raises(ValueError):
        World(factory(0)).failure(plain, {}, "teapot")


def test_the_same_seed_gives_the_same_world(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    script = [("GOOGLECALENDAR_EVENTS_LIST", {"q": "budget", "maxResults": 4}),
              ("GMAIL_CREATE_LABEL", {"label_name": "Receipts"}), ("GMAIL_LIST_LABELS", {}),
              ("TODOIST_GET_ACTIVE_TASKS", {}), ("CALENDLY_LIST_SCHEDULED_EVENTS", {"status": "canceled", "count": 3})]

    def play(seed: int) -> str:
        w = World(factory(seed))
        out = [w.execute(tools[name], args, step) for step, (name, args) in enumerate(script)]
        out.append(w.failure(tools["TODOIST_CLOSE_TASK"], {"task_id": "1"}, "rate_limit"))
        return json.dumps(out, sort_keys=True) + repr(w.list_matches(0))

    assert play(4) == play(4)
    assert play(4) != play(5)


def test_moving_a_start_moves_the_end_and_an_object_filter_names_its_object(repo_root: Path) -> None:
    tools = catalog_tools(repo_root)
    for seed in range(5):
        w = World(factory(seed))
        made = w.execute(tools["GOOGLECALENDAR_CREATE_EVENT"], {
            "summary": "Design review", "start": {"dateTime": "2026-03-05T10:00:00Z"},
            "end": {"dateTime": "2026-03-05T11:00:00Z"}}, 0)["data"]["event"]
        moved = w.execute(tools["GOOGLECALENDAR_PATCH_EVENT"], {"eventId": made["id"],
                                                                "start": {"dateTime": "2026-03-09T15:00:00Z"}}, 1)
        assert moved["data"]["event"]["end"]["dateTime"] == "2026-03-09T16:00:00Z"  # it still lasts an hour
        day = w.execute(tools["GOOGLECALENDAR_PATCH_EVENT"], {"eventId": made["id"], "start": {"date": "2026-03-12"}},
                        2)["data"]["event"]
        assert day["start"]["dateTime"] == "2026-03-12T15:00:00Z" and day["end"]["dateTime"] == "2026-03-12T16:00:00Z"
        tasks = w.execute(tools["ASANA_GET_TASKS"], {"assignee": "Dana Ruiz"}, 2)["data"]["tasks"]
        assert all(t.get("assignee", {"name": "Dana Ruiz"}).get("name") == "Dana Ruiz" for t in tasks)
        people = [w.execute(tools["JIRA_FIND_USERS"], {"query": "dana"}, 3 + i)["data"]["users"] for i in range(3)]
        for users in people:
            assert all(u["displayName"].lower().startswith("dana") for u in users)


def test_what_a_call_does_to_an_entity_wins_over_what_it_was(repo_root):
    """A task the conversation saw open reads completed after a close, open again after a reopen
    (the false_success detector flags `is_completed: false` after a close)."""
    import random as _random

    from faker import Faker as _Faker

    from funcdex_assets.catalog.loader import load_catalog
    from funcdex_assets.offline.values import ValueFactory as _VF, make_today as _today
    from funcdex_assets.offline.world import World as _World

    tools = {t.name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("todoist")}
    opened = 0
    for seed in range(8):
        rng = _random.Random(seed)
        world = _World(_VF(rng, _Faker(), _today(rng)))
        listed = world.execute(tools["TODOIST_GET_ALL_TASKS"], {}, step=0) if "TODOIST_GET_ALL_TASKS" in tools else None
        task_id = next((p.value for p in world.produced if p.key == "task_id"), "123456")
        seen = world.execute(tools["TODOIST_GET_TASK"], {"task_id": task_id}, step=1)
        closed = world.execute(tools["TODOIST_CLOSE_TASK"], {"task_id": task_id}, step=2)
        if seen["data"]["task"]["is_completed"]:
            # Closing what the conversation saw done is refused as done already
            # (needless_state_change); the rest of the check needs an open one.
            assert "already completed" in closed["error"], closed
            continue
        opened += 1
        reopened = world.execute(tools["TODOIST_REOPEN_TASK"], {"task_id": task_id}, step=3)
        assert closed["data"]["is_completed"] is True, (listed, closed)
        assert reopened["data"]["is_completed"] is False, reopened
    assert opened >= 2


def test_a_verb_leaves_its_object_in_its_state_whatever_it_was(repo_root: Path) -> None:
    """false_success: closing a task the world knew as open answers is_completed true, reopening
    it false, finalizing a draft invoice leaves it open, cancelling a subscription cancels it."""
    tools = catalog_tools(repo_root)
    for seed in range(5):
        w = World(factory(seed))
        task = w.execute(tools["TODOIST_CREATE_TASK"], {"content": "File taxes"}, 0)["data"]["task"]
        assert task["is_completed"] is False
        assert w.execute(tools["TODOIST_CLOSE_TASK"], {"task_id": task["id"]}, 1)["data"]["is_completed"] is True
        reopened = w.execute(tools["TODOIST_REOPEN_TASK"], {"task_id": task["id"]}, 2)["data"]
        assert reopened.get("is_completed", reopened.get("task", {}).get("is_completed", False)) is False
        invoice = w.execute(tools["STRIPE_CREATE_INVOICE"], {"customer": "cus_Q1"}, 3)["data"]["invoice"]["id"]
        assert w.execute(tools["STRIPE_FINALIZE_INVOICE"], {"invoice": invoice}, 4)["data"]["invoice"]["status"] == "open"
        sub = w.execute(tools["STRIPE_CANCEL_SUBSCRIPTION"], {"subscription": "sub_1"}, 5)["data"]["subscription"]
        assert sub["status"] == "canceled"


def test_an_answer_given_does_not_change_when_the_world_does(repo_root: Path) -> None:
    """A response is what the tool said then: moving the event later does not rewrite it."""
    tools = catalog_tools(repo_root)
    w = World(factory(2))
    made = w.execute(tools["GOOGLECALENDAR_QUICK_ADD"], {"text": "Lunch with Ana on Friday"}, 0)
    said = json.dumps(made, sort_keys=True)
    event = made["data"]["event"]["id"]
    w.execute(tools["GOOGLECALENDAR_PATCH_EVENT"], {"eventId": event, "start": {"date": "2026-04-20"}}, 1)
    w.execute(tools["GOOGLECALENDAR_EVENTS_LIST"], {"timeMin": "2026-04-01T00:00:00Z"}, 2)
    assert json.dumps(made, sort_keys=True) == said


def test_values_follow_the_examples_a_description_lists():
    import random
    from datetime import datetime, timezone

    from faker import Faker

    from funcdex_assets.offline.values import ValueFactory, described_examples

    assert described_examples({"description": "Issue type name, e.g. Task, Bug, Story, Epic."}) == [
        "Task", "Bug", "Story", "Epic"]
    assert described_examples({"description": "Natural-language due date, e.g. 'tomorrow at 5pm' or 'every friday'."}) == [
        "tomorrow at 5pm", "every friday"]
    # Prose and a lone id shape are not a vocabulary.
    assert described_examples({"description": "Free-form location, e.g. an address or room name."}) == []
    assert described_examples({"description": "ID of the customer, e.g. cus_NffrFeUfNV2Hib."}) == []
    values = ValueFactory(random.Random(3), Faker(), datetime(2026, 3, 9, tzinfo=timezone.utc))
    for _ in range(10):
        assert values.value("issue_type", {"type": "string", "description": "Issue type name, e.g. Task, Bug."}) in (
            "Task", "Bug")
        assert values.value("due_string", {"type": "string", "description": "e.g. 'tomorrow at 5pm' or 'every friday'"}) in (
            "tomorrow at 5pm", "every friday")
        rule = values.value("recurrence", {"type": "array", "items": {"type": "string"},
                                           "description": "RRULE lines for a recurring event."})
        assert all(r.startswith("RRULE:FREQ=") for r in rule), rule
        labels = values.value("labels", {"type": "array", "items": {"type": "string"}})
        assert all(" " not in label and label == label.lower() for label in labels), labels
        # A person's name for a field of a person (invitee_name), a title for a thing's.
        assert len(values.value("invitee_name", {"type": "string"}).split()) >= 2


def test_another_entitys_id_in_a_response_keeps_that_entitys_label(repo_root: Path):
    # A permission's response holds its file's id: later references to the file use the file's
    # name, never the permission's ("the permissions of "Unleash 24/7 deliverables"").
    tools = {t.name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("googledrive")}
    w = World(factory(4))
    made = w.execute(tools["GOOGLEDRIVE_CREATE_FILE_FROM_TEXT"], {"file_name": "Budget.xlsx", "text_content": "Q3"},
                     step=0)
    file_id = made["data"]["file"]["id"]
    listed = w.execute(tools["GOOGLEDRIVE_LIST_PERMISSIONS"], {"fileId": file_id}, step=1)
    permission = listed["data"]["permissions"][0]["id"]
    w.execute(tools["GOOGLEDRIVE_DELETE_PERMISSION"], {"fileId": file_id, "permissionId": permission}, step=2)
    files = [p for p in w.find("file_id") if p.value == file_id]
    assert files and all(p.entity == "file" for p in files), files
    assert {p.label for p in files} <= {"Budget.xlsx", None}, files


def test_a_thing_just_created_holds_nothing_and_is_the_users(repo_root: Path):
    tools = {t.name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("gmail")}
    for seed in range(5):
        made = World(factory(seed)).execute(tools["GMAIL_CREATE_LABEL"], {"label_name": "Clients"}, step=0)
        label = made["data"]["label"]
        assert all(v == 0 for k, v in label.items() if k.startswith(("messages", "threads"))), label
        assert label.get("type", "user") == "user", label


def test_a_label_is_a_short_name_or_a_payments_amount():
    from funcdex_assets.offline.world import record_label

    assert record_label({"name": "Q3 plan", "description": "x"}) == "Q3 plan"
    body = "Notes from Q4 education review: agreed on next steps, Kelsey owns the follow-up."
    assert record_label({"content": body}) is None
    assert record_label({"description": body, "amount": 87000, "currency": "inr"}) == "870.00 INR"


def test_a_text_field_the_docs_call_a_title_gets_a_title():
    import random
    from datetime import datetime, timezone

    from faker import Faker

    from funcdex_assets.offline.values import ValueFactory

    values = ValueFactory(random.Random(5), Faker(), datetime(2026, 3, 9, tzinfo=timezone.utc))
    for _ in range(10):
        title = values.value("content", {"type": "string", "description": "Task title; supports Markdown."})
        assert len(title.split()) <= 8 and not title.endswith((".", "!", "?")), title


def test_counts_offsets_and_nested_fields_mean_what_their_names_say():
    import random
    from datetime import datetime, timezone

    from faker import Faker

    from funcdex_assets.offline.values import ValueFactory

    values = ValueFactory(random.Random(2), Faker(), datetime(2026, 3, 9, tzinfo=timezone.utc))
    for _ in range(5):
        # days_until_due is a number of days and startAt an offset, not Unix timestamps.
        assert values.value("days_until_due", {"type": "integer"}) <= 90
        assert values.value("startAt", {"type": "integer", "description": "Index of the first item to return."}) == 0
        # One id-shaped example in the prose gives the shape.
        key = values.value("parent_key", {"type": "string", "description": "Key of the parent issue, e.g. PROJ-120."})
        assert key.startswith("PROJ-") and key[5:].isdigit(), key
        # An address's parts are address parts.
        address = values.object_value({"type": "object", "required": ["postal_code", "line1"], "properties": {
            "line1": {"type": "string"}, "postal_code": {"type": "string"}}}, parent="address")
        assert any(ch.isdigit() for ch in address["line1"]) and any(ch.isdigit() for ch in address["postal_code"]), address


def test_filler_words_never_say_when():
    import random
    from datetime import datetime, timezone

    from faker import Faker

    from funcdex_assets.offline.values import ValueFactory

    fake = Faker()
    fake.seed_instance(0)
    values = ValueFactory(random.Random(0), fake, datetime(2026, 3, 9, tzinfo=timezone.utc))
    words = {w.lower() for _ in range(400) for w in values.title().replace(":", " ").split()}
    assert not words & {"today", "tonight", "tomorrow", "now", "week", "yesterday"}, words & {"today", "tonight"}


def test_deleting_a_part_retires_nothing_and_trash_retires_the_message(repo_root: Path):
    from funcdex_assets.offline.world import retired_slot

    tools = catalog_tools(repo_root)
    assert retired_slot(tools["GOOGLEDOCS_DELETE_CONTENT_RANGE"]) is None
    assert retired_slot(tools["GMAIL_MOVE_TO_TRASH"]).name == "message_id"  # not user_id "me"
    assert retired_slot(tools["GOOGLEDRIVE_DELETE_PERMISSION"]).name == "permissionId"


def test_the_same_item_keeps_its_title_across_list_and_get(repo_root: Path):
    tools = catalog_tools(repo_root)
    for seed in range(4):
        w = World(factory(seed))
        found = w.execute(tools["GOOGLEDOCS_SEARCH_DOCUMENTS"], {"query": "budget"}, step=0)
        doc = found["data"]["documents"][0]
        got = w.execute(tools["GOOGLEDOCS_GET_DOCUMENT_BY_ID"], {"document_id": doc["id"]}, step=1)
        assert got["data"]["document"]["title"] == doc["name"], (doc, got)


def test_a_refusal_names_what_the_call_would_do(repo_root: Path):
    import random
    from datetime import datetime, timezone

    from funcdex_assets.offline.failures import problem

    tools = catalog_tools(repo_root)
    now = datetime(2026, 3, 9, tzinfo=timezone.utc)
    made = problem(tools["STRIPE_CREATE_PAYMENT_INTENT"], {"customer": "cus_1", "amount": 100}, "permission_denied",
                   random.Random(1), now).message
    # Creating a payment intent for a customer is not "creating customer cus_1".
    assert "create a payment" in made and "customer 'cus_1'" in made, made
    gone = problem(tools["GOOGLECALENDAR_DELETE_EVENT"], {"eventId": "e1"}, "permission_denied",
                   random.Random(1), now).message
    assert gone.endswith("permission to delete event 'e1'."), gone


def test_a_persons_name_and_address_agree(repo_root: Path) -> None:
    """A project lead shown as "Randy Potts" is randy.potts@..., not john.hernandez@... (a
    person nothing identifies still gets one name and address that match)."""
    tool = next(t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("jira")
                if t.original_name == "GET_ALL_PROJECTS")
    checked = 0
    for seed in range(6):
        for project in World(factory(seed)).execute(tool, {}, 0)["data"]["projects"]:
            lead = project.get("lead") or {}
            if "displayName" in lead and "emailAddress" in lead:
                checked += 1
                first, *_, last = [w for w in re.findall(r"[a-z]+", lead["displayName"].lower())
                                   if w not in {"mr", "mrs", "ms", "miss", "dr", "md", "dds", "dvm", "phd", "jr", "sr", "ii", "iii", "iv", "v"}]
                assert lead["emailAddress"].startswith(f"{first}.{last}@"), lead
    assert checked >= 3


def test_a_free_busy_query_answers_for_the_calendars_asked_inside_the_window(repo_root: Path) -> None:
    """One entry per queried calendar ('primary' by default, not 20 random calendars), and
    every busy range starting inside timeMin..timeMax (they were shifted as one block, some fell
    out)."""
    tool = next(t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("googlecalendar")
                if t.original_name == "FIND_FREE_SLOTS")
    window = {"timeMin": "2026-07-13T10:15:00Z", "timeMax": "2026-07-30T13:45:00Z"}
    for seed in range(5):
        w = World(factory(seed))
        default = w.execute(tool, dict(window), 0)["data"]["calendars"]
        asked = w.execute(tool, {**window, "items": ["primary", "ana.ruiz@example.com"]}, 1)["data"]["calendars"]
        assert [c["id"] for c in default] == ["primary"]
        assert [c["id"] for c in asked] == ["primary", "ana.ruiz@example.com"]
        for calendar in default + asked:
            for busy in calendar["busy"]:
                # A range may run past the window's end, as the service reports one that overlaps.
                assert window["timeMin"] <= busy["start"] < window["timeMax"] and busy["start"] < busy["end"], busy


def test_system_label_ids_come_from_the_schemas_examples(repo_root: Path) -> None:
    """A message's labelIds are INBOX / UNREAD / CATEGORY_PERSONAL as the schema shows, not
    random hex ("ae56c5698abccd07")."""
    tool = next(t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("gmail")
                if t.original_name == "FETCH_EMAILS")
    seen = set()
    for seed in range(4):
        for message in World(factory(seed)).execute(tool, {}, 0)["data"]["messages"]:
            seen.update(message.get("labelIds") or [])
    assert seen and all(re.fullmatch(r"[A-Z_]+|Label_\d+", label) for label in seen), seen


def test_a_field_its_description_calls_output_only_is_the_servers() -> None:
    from funcdex_assets.offline.values import server_set

    assert server_set("links", {"type": "array", "description": "Collection of links. This collection is read-only."})
    assert server_set("selfLink", {"type": "string", "description": "Output only. URL pointing to this task."})
    assert server_set("etag", {"type": "string"}) and server_set("x", {"readOnly": True})
    assert not server_set("notes", {"type": "string", "description": "Notes describing the task."})


def test_times_under_windows_on_several_kinds_of_time_all_stay_inside() -> None:
    """completedMax and updatedMin on one listing: moving the past times as a group for one
    window pushed the completion out of the other (Google Tasks)."""
    from funcdex_assets.offline import lists

    spec = lists.list_spec({"completedMax": "2026-02-20T11:15:00Z", "updatedMin": "2026-02-21T14:00:00Z"},
                           "task", frozenset())
    for seed in range(20):
        item = {"completed": "2026-01-02T09:00:00Z", "updated": "2026-01-03T09:00:00Z"}
        lists.place_in_windows(item, spec.windows, factory(seed))
        assert item["completed"] <= "2026-02-20T11:15:00Z" and item["updated"] >= "2026-02-21T14:00:00Z", item


def test_what_a_call_makes_is_made_now_and_later_changes_are_not_before_it(repo_root: Path) -> None:
    """A folder created in the conversation was created at its moment (not three months ago);
    a file's size is bytes and a folder's type is a folder; a later read of what was made
    shows no change before the making."""
    drive = {t.original_name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("googledrive")}
    for seed in range(4):
        w = World(factory(seed))
        now = w.values.iso(w.values.today)
        made = w.execute(drive["CREATE_FOLDER"], {"name": "Q3 plans"}, 0)["data"]
        folder = made.get("folder") or made
        assert folder.get("createdTime", now) == now and folder.get("mimeType") == "application/vnd.google-apps.folder"
        assert str(folder.get("size", "0")).isdigit()
        read = w.execute(drive["GET_FILE_METADATA"], {"fileId": folder["id"]}, 1)["data"]
        read = read.get("file") or read
        assert read.get("modifiedTime", now) >= read.get("createdTime", now)
        # A folder is a file to Drive's metadata call: the same record, made now, named as made.
        assert read.get("createdTime", now) == now and read.get("name", "Q3 plans") == "Q3 plans"


def test_labels_added_and_removed_show_in_the_answer(repo_root: Path) -> None:
    gmail = {t.original_name: t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("gmail")}
    w = World(factory(1))
    message = w.execute(gmail["FETCH_EMAILS"], {}, 0)["data"]["messages"][0]
    changed = w.execute(gmail["ADD_LABEL_TO_EMAIL"], {"message_id": message["id"], "label_ids": ["STARRED"],
                                                       "remove_label_ids": ["INBOX"]}, 1)["data"]["message"]
    assert "STARRED" in changed["labelIds"] and "INBOX" not in changed["labelIds"]


def test_answers_echo_what_the_request_decides(repo_root: Path) -> None:
    """An issue made in FIN is FIN-n; WhatsApp resolves the number it was given; an active-tasks
    listing holds no completed task; an invitee's address is theirs."""
    catalog = load_catalog(repo_root / "tool_catalog")
    tools = {t.original_name: t for b in ("jira", "whatsapp", "todoist") for t in catalog.bundle_tools(b)}
    for seed in range(4):
        w = World(factory(seed))
        issue = w.execute(tools["CREATE_ISSUE"], {"project_key": "FIN", "summary": "Fix login", "issue_type": "Bug"},
                          0)["data"]["issue"]
        assert issue["key"].startswith("FIN-")
        sent = w.execute(tools["SEND_MESSAGE"], {"to": "+14155550100", "text": "hi"}, 1)["data"]
        assert all(c["input"] == "+14155550100" for c in sent["contacts"])
        active = w.execute(tools["GET_ACTIVE_TASKS"], {}, 2)["data"]
        assert not any(t.get("is_completed") for t in (active.get("tasks") if isinstance(active, dict) else active))
    invitee = factory(1).value("invitee", {"type": "object", "required": ["name", "email"], "properties": {
        "name": {"type": "string"}, "email": {"type": "string", "format": "email"}}})
    from funcdex_assets.offline.values import HONORIFICS

    first, *_, last = [w for w in re.findall(r"[a-z]+", invitee["name"].lower()) if w not in HONORIFICS]
    assert invitee["email"].startswith(f"{first}.{last}@"), invitee


def test_a_members_name_and_address_agree_in_prefixed_fields(repo_root: Path) -> None:
    """Calendly's event_memberships carry user_name / user_email: one person each."""
    tool = next(t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("calendly")
                if t.original_name == "LIST_SCHEDULED_EVENTS")
    checked = 0
    for seed in range(4):
        for event in World(factory(seed)).execute(tool, {}, 0)["data"]["scheduled_events"]:
            for member in event.get("event_memberships") or []:
                if "user_name" in member and "user_email" in member:
                    checked += 1
                    first, *_, last = [w for w in re.findall(r"[a-z]+", member["user_name"].lower())
                                       if w not in {"mr", "mrs", "ms", "miss", "dr", "md", "dds", "dvm", "phd", "jr",
                                                    "sr", "ii", "iii", "iv", "v"}]
                    assert member["user_email"].startswith(f"{first}.{last}@"), member
    assert checked >= 3


def test_a_listing_honours_a_lower_bound_on_a_choice_and_has_one_primary(repo_root: Path) -> None:
    """LIST_CALENDARS(minAccessRole=writer) holds writers and owners only, and at most one
    primary calendar."""
    tool = next(t for t in load_catalog(repo_root / "tool_catalog").bundle_tools("googlecalendar")
                if t.original_name == "LIST_CALENDARS")
    for seed in range(6):
        calendars = World(factory(seed)).execute(tool, {"minAccessRole": "writer"}, 0)["data"]["calendars"]
        assert all(c.get("accessRole", "owner") in ("writer", "owner") for c in calendars), calendars
        assert sum(bool(c.get("primary")) for c in calendars) <= 1


def test_a_message_is_read_back_with_the_body_and_recipient_it_was_sent_with(repo_root: Path) -> None:
    """entity_drift: a reply's snippet is the start of the body it was sent with, its text that
    body, its `to` the address; a document's drawn paragraphs run forwards (startIndex <=
    endIndex: end_before_start on numbers)."""
    from funcdex_assets.quality.detectors import entity_drift, temporal
    from funcdex_assets.quality.dialogue import dialogue_from_row

    tools = catalog_tools(repo_root)
    body = ("Sharing the latest on the Q3 plan: we're on track, but I need sign-off on the budget by Thursday "
            "August 13, and the vendor quote has to be in before then.")
    for seed in range(6):
        w = World(factory(seed))
        reply = w.execute(tools["GMAIL_REPLY_TO_THREAD"], {"thread_id": "34w5a5f7q2x2m1r5", "message_body": body,
                                                           "recipient_email": "ana.ruiz@acme.io"}, step=0)
        made = reply["data"]["message"]["id"]
        calls = [("GMAIL_REPLY_TO_THREAD", {"thread_id": "34w5a5f7q2x2m1r5", "message_body": body,
                                            "recipient_email": "ana.ruiz@acme.io"}, reply)]
        calls += run(w, tools, [("GMAIL_FETCH_MESSAGE_BY_MESSAGE_ID", {"message_id": made}),
                                ("GOOGLEDOCS_GET_DOCUMENT_BY_ID", {"document_id": "1AbCdEfGhIjKlMnOp"})])
        message = calls[1][2]["data"]["message"]
        assert body.startswith(message.get("snippet", "").removesuffix("...")), message
        assert message.get("messageText", body) == body and message.get("to", "ana.ruiz@acme.io") == "ana.ruiz@acme.io"
        d = dialogue_from_row(calls_row(tools, calls))
        assert entity_drift(d) == [] and temporal(d) == [], seed


def test_a_quick_add_makes_what_its_sentence_says(repo_root: Path) -> None:
    """Calendar's QUICK_ADD takes an event in words: the user's sentence names a gathering, a
    person and a time; the event made is that title at that time, for an hour, in one day."""
    from funcdex_assets.offline.values import scheduled

    tools = catalog_tools(repo_root)
    tool = tools["GOOGLECALENDAR_QUICK_ADD"]
    for seed in range(8):
        values = factory(seed)
        text = values.value("text", tool.input_schema["properties"]["text"])
        what, when = scheduled(text, values.today)
        assert when.date() > values.today.date() and " with " in what, text
        event = World(values).execute(tool, {"calendarId": "primary", "text": text}, step=0)["data"]["event"]
        assert event.get("summary", what) == what  # (optional fields are sometimes left out)
        assert event["start"]["dateTime"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert event["end"]["dateTime"] > event["start"]["dateTime"]
        assert {event["start"].get("date", text), event["end"].get("date", text)} <= {when.strftime("%Y-%m-%d"), text}


def test_the_instances_of_an_event_are_that_event(repo_root: Path) -> None:
    """LIST_EVENT_INSTANCES(eventId) lists occurrences of the event (its title and place, each
    at its own time), not unrelated events (seen: instances of "Study share update" named
    "Inside proposal" and "Soldier plan")."""
    tools = catalog_tools(repo_root)
    dated: set[str] = set()
    for seed in range(6):
        w = World(factory(seed))
        made = w.execute(tools["GOOGLECALENDAR_CREATE_EVENT"], {
            "calendarId": "primary", "summary": "Study share update", "location": "Room 4",
            "start": {"dateTime": "2026-03-10T10:00:00Z"}, "end": {"dateTime": "2026-03-10T11:00:00Z"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU"]}, step=0)["data"]["event"]
        listed = w.execute(tools["GOOGLECALENDAR_LIST_EVENT_INSTANCES"],
                           {"calendarId": "primary", "eventId": made["id"], "maxResults": 5}, step=1)
        events = listed["data"]["events"]
        assert events, seed
        for event in events:
            assert event.get("summary", "Study share update") == "Study share update", event
            assert event.get("location", "Room 4") == "Room 4", event
            assert event.get("recurringEventId", made["id"]) == made["id"], event
        # ... and each is called by its day, so "the event "Study share update"" is the event.
        labels = {p.label for p in w.produced if p.step == 1 and p.own and p.entity == "event"}
        assert all(label is None or label.startswith("Study share update") for label in labels), labels
        dated.update(label for label in labels if label and label.startswith("Study share update ("))
    assert dated  # (an occurrence that leaves out its start or title cannot be called by its day)


def test_a_nested_object_keeps_its_id_with_its_name(repo_root: Path) -> None:
    """A task read again shows the workspace it had, id and name together (seen: the name of
    workspace 7060... under a new gid, and the list of workspaces then naming that gid
    otherwise: entity_drift)."""
    from funcdex_assets.quality.detectors import entity_drift
    from funcdex_assets.quality.dialogue import dialogue_from_row

    tools = catalog_tools(repo_root)
    checked = 0
    for seed in range(8):
        w = World(factory(seed))
        calls = run(w, tools, [("ASANA_CREATE_TASK", {"workspace_gid": "1100042", "name": "Draft the brief"})])
        gid = calls[0][2]["data"]["task"]["gid"]
        calls += run(w, tools, [("ASANA_GET_TASK", {"task_gid": gid}), ("ASANA_GET_TASK", {"task_gid": gid}),
                                ("ASANA_GET_WORKSPACES", {"limit": 20})])
        shown = [c[2]["data"]["task"].get("workspace") for c in calls[:3]]
        shown = [s for s in shown if s and "name" in s]
        if len(shown) >= 2:
            checked += 1
            assert {(s["gid"], s["name"]) for s in shown} == {("1100042", shown[0]["name"])}, shown
        assert entity_drift(dialogue_from_row(calls_row(tools, calls))) == [], seed
    assert checked >= 3


def test_an_edited_issue_reads_back_edited_and_named_by_a_trackers_words(repo_root: Path) -> None:
    """Jira boxes an issue's facts in `fields`: an edit's summary and priority are what a later
    get shows (seen: the edit said 'Benchmark plan', the get 'Worker plan'); the edit's answer
    names the issue's own key and the fields it set; statuses and types are a tracker's words
    ("In Progress", "Epic"), not titles."""
    from funcdex_assets.offline.values import _KIND_NAMES

    tools = catalog_tools(repo_root)
    for seed in range(6):
        w = World(factory(seed))
        made = w.execute(tools["JIRA_CREATE_ISSUE"], {"project_key": "WEB", "summary": "Decision sync",
                                                      "issue_type": "Epic", "priority": "Medium"}, step=0)["data"]["issue"]
        edited = w.execute(tools["JIRA_EDIT_ISSUE"], {"issueIdOrKey": made["id"], "summary": "Benchmark plan",
                                                      "priority": "High", "notifyUsers": True}, step=1)["data"]["issue"]
        assert edited["key"] == made.get("key", edited["key"]) and edited["updated_fields"] == ["summary", "priority"]
        fields = w.execute(tools["JIRA_GET_ISSUE"], {"issueIdOrKey": made["id"]}, step=2)["data"]["issue"]["fields"]
        assert fields.get("summary", "Benchmark plan") == "Benchmark plan"
        assert fields.get("priority", {}).get("name", "High") == "High"
        assert fields.get("issuetype", {}).get("name", "Epic") == "Epic"
        assert fields.get("status", {}).get("name", "To Do") in _KIND_NAMES["status"]


def test_an_invoices_sums_add_up_and_a_sent_invoice_is_open(repo_root: Path) -> None:
    """amounts_disagree: amount_paid + amount_remaining = amount_due (seen: 186,800 paid of
    127,100 due); a line's amount is quantity x unit amount; SEND_INVOICE leaves it open, not draft."""
    from funcdex_assets.quality.detectors import amounts_disagree
    from funcdex_assets.quality.dialogue import dialogue_from_row

    tools = catalog_tools(repo_root)
    for seed in range(8):
        w = World(factory(seed))
        calls = run(w, tools, [("STRIPE_SEND_INVOICE", {"invoice": "in_1CvZfNLioPwJk5jvz0FejMCs"}),
                               ("STRIPE_CREATE_INVOICE_ITEM", {"customer": "cus_HkdiLpMcGX6Ukq", "quantity": 3,
                                                               "currency": "usd", "description": "Setup"}),
                               ("STRIPE_LIST_INVOICES", {"limit": 10})])
        assert calls[0][2]["data"]["invoice"].get("status", "open") == "open"
        assert amounts_disagree(dialogue_from_row(calls_row(tools, calls))) == [], seed


def test_the_caller_is_one_user_in_every_answer(repo_root: Path) -> None:
    """GET_CURRENT_USER twice answers with one uri (seen: two, identity_mismatch); and a
    conflict is about a thing's name, never a person's (planner: 'an invitee called "Aaron
    Ramirez" exists already' is no error any service gives)."""
    from funcdex_assets.offline.planner import _is_title

    tools = catalog_tools(repo_root)
    for seed in range(4):
        w = World(factory(seed), me={"name": "Kenneth Adkins", "email": "kenneth.adkins@curryarias.com"})
        first, second = (w.execute(tools["CALENDLY_GET_CURRENT_USER"], {}, step)["data"]["user"] for step in (0, 1))
        assert first["uri"] == second["uri"] and first.get("name", "Kenneth Adkins") == "Kenneth Adkins"
    assert _is_title("summary") and _is_title("label_name") and _is_title("name", "project")
    assert not _is_title("invitee_name") and not _is_title("name", "customer") and not _is_title("first_name")


def test_fields_hold_what_their_names_and_descriptions_mean(repo_root: Path) -> None:
    """Seen in one Drive and one Todoist conversation: an `emailMessage` holding an address, a
    grantee's displayName that was a title, parents that were random words, a 45-minute
    duration read back as 129,000, and Todoist's natural-language `due_string` taking a
    calendar sentence ("Dinner with Mary ... at 19:00") that then named the task."""
    from funcdex_assets.offline.values import SCHEDULED_SENTENCE

    tools = catalog_tools(repo_root)
    for seed in range(6):
        values = factory(seed)
        share = tools["GOOGLEDRIVE_ADD_FILE_SHARING_PREFERENCE"].input_schema["properties"]
        assert "@" not in values.value("emailMessage", share["emailMessage"]).split()[0]
        due = values.value("due_string", tools["TODOIST_CREATE_TASK"].input_schema["properties"]["due_string"])
        assert not SCHEDULED_SENTENCE.match(due), due
        w = World(values)
        listed = w.execute(tools["GOOGLEDRIVE_FIND_FILE"], {"q": "career", "folderId": "1Z4g9T1u5U0x9V6u7Q0q"}, 0)
        assert all(f.get("parents", ["1Z4g9T1u5U0x9V6u7Q0q"]) == ["1Z4g9T1u5U0x9V6u7Q0q"] for f in listed["data"]["files"])
        permission = w.execute(tools["GOOGLEDRIVE_ADD_FILE_SHARING_PREFERENCE"], {
            "fileId": "1AbCdEfGh", "role": "writer", "type": "user", "emailAddress": "kayla.thompson@sharp.biz"}, 1)
        assert permission["data"]["permission"].get("displayName", "Kayla Thompson") == "Kayla Thompson"
        task = w.execute(tools["TODOIST_CREATE_TASK"], {"content": "Citizen kickoff", "duration": 45,
                                                        "duration_unit": "minute"}, 2)["data"]["task"]
        assert task.get("duration", {"amount": 45})["amount"] == 45 and task.get("content") == "Citizen kickoff"


def test_nothing_changes_before_it_was_made() -> None:
    """A near miss dated a day before the comment it resembles kept an `updated` drawn for
    another answer, a week before its own `created` (updated_before_created)."""
    from funcdex_assets.offline.world import _changed_after_made

    comment = {"id": "89466", "created": "2026-04-15T09:00:00Z", "updated": "2026-04-06T08:00:00Z",
               "author": {"created": "2020-01-01T00:00:00Z"}}
    _changed_after_made(comment)
    assert comment["updated"] == "2026-04-15T09:00:00Z" and comment["author"]["created"] == "2020-01-01T00:00:00Z"
    stripe = {"created": 1786527900, "canceled_at": 1786000000}
    _changed_after_made(stripe)
    assert stripe["canceled_at"] == 1786527900


def test_a_document_reads_back_with_its_text_as_edited(repo_root: Path) -> None:
    """A document made with a text shows that text (seen: made with "Please take a look at
    ...", read back as "Hi April, following up ..."); an insertion and a replacement show in
    the next read, and entity_drift sees no contradiction in either."""
    from funcdex_assets.quality.detectors import entity_drift
    from funcdex_assets.quality.dialogue import dialogue_from_row

    tools = catalog_tools(repo_root)
    for seed in range(4):
        w = World(factory(seed))
        calls = run(w, tools, [("GOOGLEDOCS_CREATE_DOCUMENT", {"title": "Q1 range", "text": "Please take a look at the plan."})])
        doc = calls[0][2]["data"]["document"]["documentId"]
        calls += run(w, tools, [
            ("GOOGLEDOCS_GET_DOCUMENT_BY_ID", {"document_id": doc}),
            ("GOOGLEDOCS_INSERT_TEXT", {"document_id": doc, "text": "Budget is due Friday."}),
            ("GOOGLEDOCS_REPLACE_ALL_TEXT", {"document_id": doc, "find_text": "plan", "replace_text": "roadmap",
                                             "match_case": False}),
            ("GOOGLEDOCS_GET_DOCUMENT_BY_ID", {"document_id": doc})])
        first, last = (calls[k][2]["data"]["document"] for k in (1, 4))
        assert first.get("plainText", "Please take a look at the plan.") == "Please take a look at the plan."
        assert last.get("plainText", "Please take a look at the roadmap. Budget is due Friday.") == \
            "Please take a look at the roadmap. Budget is due Friday."
        assert entity_drift(dialogue_from_row(calls_row(tools, calls))) == [], seed


def test_a_persons_name_and_its_parts_agree(repo_root: Path) -> None:
    """name_mismatch: an invitee booked as "Tammy Ortiz" came back as first name Ashley, last
    name Cardenas; listed invitees and their near misses too. Suffixes are no last name."""
    from funcdex_assets.offline.world import _name_parts
    from funcdex_assets.quality.detectors import name_mismatch
    from funcdex_assets.quality.dialogue import dialogue_from_row

    assert _name_parts("Dr. Robert Reeves MD") == ("Robert", "Reeves")
    tools = catalog_tools(repo_root)
    for seed in range(6):
        w = World(factory(seed))
        calls = run(w, tools, [
            ("CALENDLY_CREATE_EVENT_INVITEE", {"event_type": "https://api.calendly.com/event_types/BJWPCEVHEVPPLTRI",
                                               "invitee_name": "Tammy Ortiz", "invitee_email": "tammy.ortiz@thompson.com",
                                               "start_time": "2026-07-15T11:15:00Z"}),
            ("CALENDLY_LIST_EVENT_INVITEES", {"scheduled_event": "https://api.calendly.com/scheduled_events/TINSAGHEXDRWUNS1",
                                              "count": 10})])
        invitee = calls[0][2]["data"]["invitee"]
        assert (invitee.get("first_name", "Tammy"), invitee.get("last_name", "Ortiz")) == ("Tammy", "Ortiz")
        assert name_mismatch(dialogue_from_row(calls_row(tools, calls))) == [], seed


def test_a_query_for_one_project_lists_that_projects_issues(repo_root: Path) -> None:
    """`project = GOVE` answered with OPS-2 and PROJ-639 (list_ignores_filter)."""
    tools = catalog_tools(repo_root)
    for seed in range(6):
        found = World(factory(seed)).execute(tools["JIRA_SEARCH_ISSUES"], {
            "jql": "project = GOVE AND status != Done ORDER BY updated DESC", "maxResults": 10}, 0)
        assert all(i.get("key", "GOVE-1").startswith("GOVE-") for i in found["data"]["issues"]), seed


def test_a_known_item_keeps_its_name_in_a_filtered_listing(repo_root: Path) -> None:
    """A template named "Personal sync with Wilson v2" listed under the filter name="Personal
    sync with Wilson" was renamed to fit it (entity_drift)."""
    from funcdex_assets.quality.detectors import entity_drift
    from funcdex_assets.quality.dialogue import dialogue_from_row

    tools = catalog_tools(repo_root)
    for seed in range(6):
        w = World(factory(seed))
        # The first listing's near misses ("... (copy)", "... v2") are known afterwards.
        calls = run(w, tools, [("WHATSAPP_GET_MESSAGE_TEMPLATES", {"name": "Personal sync with Wilson", "limit": 10}),
                               ("WHATSAPP_GET_MESSAGE_TEMPLATES", {"name": "Personal sync with Wilson", "limit": 10})])
        first, second = ({t["id"]: t.get("name") for t in c[2]["data"]["templates"]} for c in calls)
        assert all(second[k] == name for k, name in first.items() if k in second and name and second[k]), seed
        assert entity_drift(dialogue_from_row(calls_row(tools, calls))) == [], seed
