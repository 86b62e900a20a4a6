"""The offline value factory and the simulated world that answers tool calls."""

from __future__ import annotations

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
        w = World(values)
        for step, tool in enumerate(catalog.tools):
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
        assert 1 <= len(items) <= 3
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
