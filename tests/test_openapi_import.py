"""OpenAPI 3.x / Swagger 2.0 import: every real spec in ../shared/openapi, the converter's rules
on small inline specs, the toolkit file round trip, and the `funcdex catalog` commands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from conftest import shared_path
from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import load_catalog, load_tool_file
from funcdex_assets.catalog.models import TOOL_NAME_PATTERN, Tool
from funcdex_assets.catalog.names import operation_tool_name
from funcdex_assets.catalog.openapi import ImportResult, convert_openapi, import_openapi, load_spec
from funcdex_assets.catalog.schema_check import SchemaChecker, iter_subschemas
from funcdex_assets.catalog.toolkit_file import core, write_toolkit
from funcdex_assets.cli import main
from funcdex_assets.dml.validator import reports_failure, schema_validator
from funcdex_assets.quality.report import report_files

# Ops per spec, as ../shared/openapi/SOURCES.md lists them ((path, method) pairs; callbacks and
# webhooks are extra). Cross-checked against the file below.
EXPECTED_OPS = {
    "petstore-expanded.yaml": 4,
    "uspto.json": 3,
    "callback-example.yaml": 1,
    "link-example.yaml": 6,
    "api-with-examples.yaml": 2,
    "petstore-v2.json": 3,
    "uber-v2.json": 5,
    "webhook-example.yaml": 1,
    "google-tasks.yaml": 14,
    "google-calendar.yaml": 37,
    "gotomeeting-swagger2.yaml": 26,
    "postmark-server-swagger2.yaml": 44,
    "hubspot-crm-cards.yaml": 6,
}


def sources_ops(text: str) -> dict[str, int]:
    """File -> Ops from the tables of SOURCES.md (`1 (+1 callback)` counts 1)."""
    ops: dict[str, int] = {}
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif set(cells[0]) <= {"-", ":"}:
            continue
        else:
            row = dict(zip(header, cells))
            ops[row["File"]] = int(re.match(r"\d+", row["Ops"]).group())
    return ops


_CACHE: dict[str, ImportResult] = {}


def convert_shared(name: str) -> ImportResult:
    """The import of one shared spec (converted once per session)."""
    path = shared_path("openapi", name)
    if name not in _CACHE:
        _CACHE[name] = import_openapi(path, toolkit=toolkit_of(name))
    return _CACHE[name]


def toolkit_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.rsplit(".", 1)[0].lower())


def by_name(result: ImportResult) -> dict[str, Tool]:
    return {tool.name: tool for tool in result.tools}


def notes(result: ImportResult, tool: str | None = None) -> list[str]:
    return [n.message for n in result.report.notes if tool is None or n.tool == tool]


def convert(spec: dict[str, Any], **kwargs: Any) -> ImportResult:
    return convert_openapi(spec, toolkit=kwargs.pop("toolkit", "kit"), source="spec.yaml", **kwargs)


def oas3(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}


def json_body(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def conversion_error(spec: Any, **kwargs: Any) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        convert(spec, **kwargs)
    return info.value


# --------------------------------------------------------------------------- the shared specs


def test_expected_ops_match_sources_md_and_every_spec_is_covered() -> None:
    folder = shared_path("openapi")
    assert sources_ops((folder / "SOURCES.md").read_text(encoding="utf-8")) == EXPECTED_OPS
    assert {p.name for p in folder.iterdir() if p.name != "SOURCES.md"} == set(EXPECTED_OPS)


@pytest.mark.parametrize("name", sorted(EXPECTED_OPS))
def test_every_operation_becomes_one_valid_tool(name: str) -> None:
    result = convert_shared(name)
    report = result.report
    assert len(result.tools) == EXPECTED_OPS[name] == report.operations == len(report.converted)
    assert not [item for item in report.skipped if item.what.startswith("operation")]
    names = [tool.name for tool in result.tools]
    assert len(set(names)) == len(names)
    assert all(TOOL_NAME_PATTERN.fullmatch(n) for n in names)
    checker = SchemaChecker()
    for tool in result.tools:
        assert tool.description.strip() and tool.toolkit == toolkit_of(name)
        assert tool.source.startswith(f"{name}#/paths/") and tool.source_format == "openapi"
        for schema in (tool.input_schema, tool.output_schema):
            Draft202012Validator.check_schema(schema)  # the meta-schema, independently of the checker
            assert checker.problem(schema, tool.name) is None
            assert schema["type"] == "object"
            assert not any("$ref" in sub for _, sub in iter_subschemas(schema)), tool.name  # refs inlined


@pytest.mark.parametrize("name", sorted(EXPECTED_OPS))
def test_the_written_toolkit_file_loads_back_as_the_same_tools(name: str, tmp_path: Path) -> None:
    result = convert_shared(name)
    path = write_toolkit(result.tools, tmp_path, toolkit_of(name))
    loaded = load_tool_file(path, toolkit=toolkit_of(name))
    assert [core(tool) for tool in loaded] == [core(tool) for tool in result.tools]
    assert {tool.source_format for tool in loaded} == {"openai"}


def test_petstore_expanded_allof_merged_names_sanitised_and_nesting_kept() -> None:
    result = convert_shared("petstore-expanded.yaml")
    tools = by_name(result)
    assert list(tools) == ["findPets", "addPet", "find_pet_by_id", "deletePet"]
    pet = {"type": "object", "required": ["name", "id"],
           "properties": {"name": {"type": "string"}, "tag": {"type": "string"},
                          "id": {"type": "integer", "format": "int64"}}}
    assert tools["addPet"].output_schema == {"type": "object", "description": "pet response", **pet}
    assert tools["addPet"].input_schema == {  # the required JSON body, merged at the top
        "type": "object", "properties": {"name": {"type": "string"}, "tag": {"type": "string"}}, "required": ["name"]}
    find = tools["findPets"]
    assert find.input_schema["properties"]["tags"] == {
        "type": "array", "items": {"type": "string"}, "description": "tags to filter by"}
    assert find.output_schema["properties"]["result"] == {"type": "array", "items": pet}
    assert find.output_schema["required"] == ["result"]
    assert tools["find_pet_by_id"].input_schema["required"] == ["id"]
    assert tools["deletePet"].output_schema["properties"]["status"]["const"] == 204
    assert tools["findPets"].description.startswith("Returns all pets from the system")


def test_google_tasks_shared_parameter_refs_resolved_credentials_dropped_nested_kept() -> None:
    result = convert_shared("google-tasks.yaml")
    tools = by_name(result)
    listing = tools["tasks_tasks_list"].input_schema
    assert listing["properties"]["$.xgafv"] == {"enum": ["1", "2"], "type": "string",
                                                "description": "V1 error format."}
    assert listing["properties"]["prettyPrint"]["type"] == "boolean"
    assert listing["required"] == ["tasklist"]
    for tool in result.tools:
        assert not {"access_token", "oauth_token", "key"} & set(tool.input_schema["properties"])
    dropped = notes(result, "tasks_tasks_list")
    assert "query parameter 'access_token' left out: a credential, supplied by the client, not the model" in dropped
    links = tools["tasks_tasks_get"].output_schema["properties"]["links"]
    assert links["type"] == "array" and set(links["items"]["properties"]) == {"description", "link", "type"}
    # Task has a `parent` field and tasks.insert a `parent` query parameter: the body is nested.
    insert = tools["tasks_tasks_insert"].input_schema["properties"]
    assert insert["body"]["properties"]["title"]["type"] == "string" and "parent" in insert
    assert tools["tasks_tasks_clear"].output_schema["properties"]["status"]["const"] == 200


def test_google_calendar_event_body_keeps_nested_objects() -> None:
    tools = by_name(convert_shared("google-calendar.yaml"))
    insert = tools["calendar_events_insert"].input_schema
    start = insert["properties"]["start"]
    assert start["type"] == "object"
    assert start["properties"]["dateTime"] == {
        "description": start["properties"]["dateTime"]["description"], "format": "date-time", "type": "string"}
    attendees = insert["properties"]["attendees"]
    assert attendees["type"] == "array" and attendees["items"]["properties"]["email"]["type"] == "string"
    assert insert["required"] == ["calendarId"]


def test_swagger2_auth_headers_dropped_and_global_refs_resolved() -> None:
    goto = convert_shared("gotomeeting-swagger2.yaml")
    for tool in goto.tools:
        assert "Authorization" not in tool.input_schema["properties"]
    assert len([n for n in goto.report.notes if "'Authorization' left out" in n.message]) == 26
    tools = by_name(goto)
    meeting = tools["get_meetings_meetingId"].input_schema  # global `#/parameters/meetingId`
    assert meeting["properties"]["meetingId"]["type"] == "integer" and meeting["required"] == ["meetingId"]
    assert tools["get_meetings"].description.startswith("[Deprecated] ")
    create = tools["post_meetings"].input_schema  # an `in: body` parameter, merged
    assert {"subject", "starttime", "meetingtype"} <= set(create["properties"])
    assert "<br>" not in create["properties"]["conferencecallinfo"]["description"]

    postmark = convert_shared("postmark-server-swagger2.yaml")
    for tool in postmark.tools:
        assert "X-Postmark-Server-Token" not in tool.input_schema["properties"]
    bounces = by_name(postmark)["getBounces"]
    assert bounces.input_schema["properties"]["count"] == {
        "type": "integer", "maximum": 500, "description": "Number of bounces to return per request. Max 500."}
    assert "HardBounce" in bounces.input_schema["properties"]["type"]["enum"]
    assert bounces.output_schema["properties"]["Bounces"]["type"] == "array"


def test_uspto_form_body_fields_become_arguments() -> None:
    result = convert_shared("uspto.json")
    search = by_name(result)["perform-search"]
    props = search.input_schema["properties"]
    assert props["criteria"]["default"] == "*:*" and props["rows"]["type"] == "integer"
    assert search.input_schema["required"] == ["version", "dataset"]
    assert "form body (application/x-www-form-urlencoded): its fields are arguments" in notes(result, "perform-search")
    fields = by_name(result)["list-searchable-fields"]
    assert fields.output_schema["properties"]["result"] == {"type": "string"}
    assert fields.input_schema["properties"]["dataset"]["examples"] == ["oa_citations"]


def test_uber_items_list_tolerated_and_names_from_method_and_path() -> None:
    result = convert_shared("uber-v2.json")
    tools = by_name(result)
    assert list(tools) == ["get_products", "get_estimates_price", "get_estimates_time", "get_me", "get_history"]
    history = tools["get_history"].output_schema["properties"]["history"]
    assert history["items"] == {"type": "object", "properties": {
        "uuid": {"type": "string", "description": "Unique identifier for the activity"}}}
    assert "'items' is a list (invalid); read as its single member" in notes(result, "get_history")
    assert tools["get_products"].input_schema["required"] == ["latitude", "longitude"]


def test_hubspot_oneof_kept_and_slashed_operation_ids_sanitised() -> None:
    result = convert_shared("hubspot-crm-cards.yaml")
    tools = by_name(result)
    assert "get_crm_v3_extensions_cards_appId_getAll" in tools
    sample = next(t for t in result.tools if t.name.startswith("get_crm_v3_extensions_cards_sample"))
    assert len(sample.name) == 64
    one_ofs = [sub["oneOf"] for tool in result.tools for _, sub in iter_subschemas(tool.output_schema)
               if "oneOf" in sub]
    assert one_ofs
    for branches in one_ofs:
        assert [b["properties"]["type"]["enum"] for b in branches] == [["ACTION_HOOK"], ["IFRAME"]]


def test_examples_only_responses_are_inferred_and_other_statuses_noted() -> None:
    result = convert_shared("api-with-examples.yaml")
    listing = by_name(result)["listVersionsv2"]
    versions = listing.output_schema["properties"]["versions"]
    assert versions["items"]["properties"]["status"] == {"type": "string"}
    assert versions["items"]["properties"]["links"]["items"]["properties"]["href"] == {"type": "string"}
    messages = notes(result, "listVersionsv2")
    assert "no schema, only an example: schema inferred from the example (types only)" in messages
    assert any(m.startswith("also answers HTTP 300 with a different body") for m in messages)


def test_path_parameter_without_required_and_body_less_201() -> None:
    result = convert_shared("petstore-v2.json")
    tools = by_name(result)
    assert tools["showPetById"].input_schema["required"] == ["petId"]
    assert "path parameter 'petId' not marked required; path parameters always are" in notes(result, "showPetById")
    assert tools["createPets"].output_schema["properties"]["status"]["const"] == 201


def test_callbacks_and_webhooks_are_skipped_with_the_reason() -> None:
    callback = convert_shared("callback-example.yaml").report
    assert [tool.tool for tool in callback.converted] == ["post_streams"]
    [item] = callback.skipped
    assert item.pointer == "#/paths/~1streams/post/callbacks/onData/{$request.query.callbackUrl}~1data/post"
    assert "request the API sends to you" in item.reason
    webhook = convert_shared("webhook-example.yaml").report
    assert [(s.pointer, s.what) for s in webhook.skipped] == [("#/webhooks/newPet/post", "webhook newPet (POST)")]
    assert "callbacks/webhooks skipped: 1" in "\n".join(webhook.lines())


def test_yaml_dates_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-date: 2016-08-04\n")
    assert load_spec(path)["x-date"] == "2016-08-04"


def test_every_converted_tool_is_plain_json() -> None:
    # HubSpot's examples hold `value: 2016-08-04`, which PyYAML's default loader makes a date.
    for name in EXPECTED_OPS:
        json.dumps([tool.model_dump() for tool in convert_shared(name).tools])


# --------------------------------------------------------------------------- rules, inline specs


def test_recursive_schemas_are_cut_at_the_bounded_depth_with_a_note() -> None:
    node = {"type": "object", "description": "A tree node. It has children.",
            "properties": {"name": {"type": "string"},
                           "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
    spec = oas3({"/tree": {"get": {"operationId": "getTree", "responses": json_body(
        {"$ref": "#/components/schemas/Node"})}}}, components={"schemas": {"Node": node}})
    result = convert(spec)
    schema = result.tools[0].output_schema
    depth = 0
    level = schema
    while "children" in level.get("properties", {}):
        level = level["properties"]["children"]["items"]
        depth += 1
    assert depth == 3
    assert level == {"type": "object", "description": "A tree node. (recursive Node, cut at depth 3)"}
    assert "recursive schema Node cut at depth 3" in notes(result, "getTree")
    shallow = convert(spec, max_depth=1).tools[0].output_schema
    assert shallow["properties"]["children"]["items"]["description"].endswith("(recursive Node, cut at depth 1)")


def test_mutual_recursion_is_cut_too() -> None:
    schemas = {
        "Folder": {"type": "object", "properties": {"files": {"type": "array", "items": {"$ref": "#/components/schemas/File"}}}},
        "File": {"type": "object", "properties": {"parent": {"$ref": "#/components/schemas/Folder"}}},
    }
    spec = oas3({"/f": {"get": {"operationId": "getFolder", "responses": json_body(
        {"$ref": "#/components/schemas/Folder"})}}}, components={"schemas": schemas})
    result = convert(spec, max_depth=2)
    assert "recursive schema Folder cut at depth 2" in notes(result)
    Draft202012Validator.check_schema(result.tools[0].output_schema)


def test_nullable_exclusive_bounds_and_31_type_lists() -> None:
    schemas = {"Owner": {"type": "object", "properties": {"name": {"type": "string"}}}}
    body = {"type": "object", "properties": {
        "nickname": {"type": "string", "nullable": True},
        "size": {"type": "string", "enum": ["s", "m"], "nullable": True},
        "owner": {"$ref": "#/components/schemas/Owner", "nullable": True},
        "either": {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
        "loose": {"nullable": True, "description": "anything"},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1, "exclusiveMaximum": False},
    }}
    spec = oas3({"/x": {"post": {"operationId": "make", "requestBody": {
        "content": {"application/json": {"schema": body}}}, "responses": json_body({"type": "object"})}}},
        components={"schemas": schemas})
    props = convert(spec).tools[0].input_schema["properties"]
    assert props["nickname"] == {"type": ["string", "null"]}
    assert props["size"] == {"type": ["string", "null"], "enum": ["s", "m", None]}
    assert props["owner"]["type"] == ["object", "null"]
    assert props["either"] == {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert props["loose"] == {"description": "anything", "anyOf": [{}, {"type": "null"}]}
    assert props["ratio"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1}

    swagger = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
        "operationId": "x", "responses": {"200": {"description": "ok", "schema": {
            "type": "object", "properties": {"when": {"type": "string", "format": "date-time", "x-nullable": True}}}}}}}}}
    assert convert(swagger).tools[0].output_schema["properties"]["when"] == {
        "type": ["string", "null"], "format": "date-time"}

    v31 = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
        "operationId": "x", "responses": json_body({"type": "object", "properties": {
            "tag": {"type": ["string", "null"], "examples": ["a"]}}})}}}}
    assert convert(v31).tools[0].output_schema["properties"]["tag"] == {"type": ["string", "null"], "examples": ["a"]}


def test_allof_that_cannot_be_merged_is_kept() -> None:
    schema = {"allOf": [{"type": "string"}, {"type": "integer"}]}
    spec = oas3({"/x": {"get": {"operationId": "x", "responses": json_body(
        {"type": "object", "properties": {"v": schema}})}}})
    result = convert(spec)
    assert result.tools[0].output_schema["properties"]["v"] == schema
    assert any(m.startswith("allOf kept as is") for m in notes(result))


def test_parameters_body_placement_and_credentials() -> None:
    spec = oas3({"/items/{itemId}": {
        "parameters": [{"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}}],
        "put": {
            "operationId": "replaceItem",
            "parameters": [
                {"name": "X-Api-Key", "in": "header", "schema": {"type": "string"}},
                {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
                {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                {"name": "sig", "in": "query", "schema": {"type": "string"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                {"name": "lang", "in": "cookie", "schema": {"type": "string"}},
                {"name": "dryRun", "in": "query", "schema": {"type": "boolean", "default": False}},
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["item"], "properties": {
                    "item": {"type": "object", "properties": {"title": {"type": "string"}}},
                    "id": {"type": "string", "readOnly": True}}}}}},
            "responses": json_body({"type": "object", "properties": {"id": {"type": "string", "readOnly": True},
                                                                    "secret": {"type": "string", "writeOnly": True}}}),
        }}}, components={"securitySchemes": {"sig": {"type": "apiKey", "in": "query", "name": "sig"}}})
    result = convert(spec)
    tool = result.tools[0]
    assert tool.input_schema == {"type": "object", "properties": {
        "itemId": {"type": "string"},
        "dryRun": {"type": "boolean", "default": False},
        "X-Request-Id": {"type": "string"},
        "Idempotency-Key": {"type": "string"},
        "lang": {"type": "string"},
        "item": {"type": "object", "properties": {"title": {"type": "string"}}},
    }, "required": ["itemId", "item"]}
    assert tool.output_schema["properties"] == {"id": {"type": "string", "readOnly": True}}
    messages = notes(result)
    assert "header parameter 'Accept' left out: set by the HTTP client" in messages
    assert "query parameter 'sig' left out: the credential of security scheme 'sig'" in messages
    assert "cookie parameter 'session' left out: a credential, supplied by the client, not the model" in messages
    assert "header parameter 'X-Api-Key' left out: a credential, supplied by the client, not the model" in messages
    assert "readOnly property 'id' left out of the request" in messages


def test_clashing_or_non_object_bodies_go_under_body() -> None:
    spec = oas3({
        "/a/{id}": {"post": {"operationId": "a", "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "integer"}}}}}},
            "responses": json_body({"type": "object"})}},
        "/b": {"post": {"operationId": "b", "requestBody": {"required": True, "description": "The rows.",
                                                            "content": {"application/json": {"schema": {
                                                                "type": "array", "items": {"type": "string"}}}}},
                        "responses": json_body({"type": "object"})}},
    })
    result = convert(spec)
    a, b = result.tools
    assert a.input_schema["properties"]["body"]["properties"]["id"] == {"type": "integer"}
    assert a.input_schema["required"] == ["id"]
    assert "request body kept under 'body': its fields ['id'] clash with parameters" in notes(result, "a")
    assert b.input_schema == {"type": "object", "required": ["body"], "properties": {
        "body": {"type": "array", "items": {"type": "string"}, "description": "The rows."}}}


def test_swagger2_form_data_file_body_and_global_definitions() -> None:
    spec = {
        "swagger": "2.0", "info": {"title": "t", "version": "1"},
        "parameters": {"Limit": {"name": "limit", "in": "query", "type": "integer", "minimum": 1}},
        "responses": {"Done": {"description": "done", "schema": {"$ref": "#/definitions/Result"}}},
        "definitions": {"Result": {"properties": {"ok": {"type": "boolean"}}}},
        "paths": {
            "/upload": {"post": {"operationId": "upload", "consumes": ["multipart/form-data"], "parameters": [
                {"name": "file", "in": "formData", "type": "file", "required": True},
                {"name": "note", "in": "formData", "type": "string"},
                {"$ref": "#/parameters/Limit"}],
                "responses": {"201": {"$ref": "#/responses/Done"}}}},
            "/json": {"post": {"operationId": "sendJson", "parameters": [
                {"name": "payload", "in": "body", "required": True,
                 "schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}}],
                "responses": {"200": {"description": "ok", "schema": {"type": "object"}}}}},
        },
    }
    result = convert(spec)
    upload, send = result.tools
    assert upload.input_schema == {"type": "object", "properties": {
        "limit": {"type": "integer", "minimum": 1},
        "file": {"type": "string", "format": "binary"},
        "note": {"type": "string"},
    }, "required": ["file"]}
    assert upload.output_schema == {"type": "object", "description": "done", "properties": {"ok": {"type": "boolean"}}}
    assert "form body (multipart/form-data): its fields are arguments" in notes(result, "upload")
    assert send.input_schema["properties"]["body"]["items"]["enum"] == ["a", "b"]
    assert send.input_schema["required"] == ["body"]


def test_output_status_choice() -> None:
    spec = oas3({
        "/a": {"post": {"operationId": "created", "responses": {
            **json_body({"type": "object", "properties": {"id": {"type": "string"}}}, "201"),
            **json_body({"type": "object", "properties": {"queued": {"type": "boolean"}}}, "202"),
            "400": {"description": "bad"}}}},
        "/b": {"get": {"operationId": "onlyDefault", "responses": {
            "default": {"description": "d", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"v": {"type": "string"}}}}}}}}},
        "/c": {"get": {"operationId": "text", "responses": {"200": {"description": "t", "content": {
            "text/plain": {"schema": {"type": "string"}}}}}}},
    })
    result = convert(spec)
    created, only_default, text = result.tools
    assert set(created.output_schema["properties"]) == {"id"}
    assert "also answers HTTP 202 with a different body; the output schema is HTTP 201's (not merged)" in \
        notes(result, "created")
    assert set(only_default.output_schema["properties"]) == {"v"}
    assert "no 2xx response documented; the 'default' response is used" in notes(result, "onlyDefault")
    assert text.output_schema["properties"]["result"] == {"type": "string"}


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "expected"),
    [
        ("find pet by id", "get", "/pets/{id}", "find_pet_by_id"),
        ("tasks.tasks.list", "get", "/x", "tasks_tasks_list"),
        ("get-/crm/v3/extensions/cards/{appId}_getAll", "get", "/x", "get_crm_v3_extensions_cards_appId_getAll"),
        ("list-data-sets", "get", "/", "list-data-sets"),
        (None, "get", "/estimates/price", "get_estimates_price"),
        (None, "delete", "/organizers/{organizerKey}", "delete_organizers_organizerKey"),
        (None, "get", "/", "get_root"),
        ("???", "post", "/a b", "post_a_b"),
    ],
)
def test_operation_names(operation_id: str | None, method: str, path: str, expected: str) -> None:
    assert operation_tool_name(operation_id, method, path) == expected


def test_names_are_unique_within_the_toolkit_and_prefixed_on_request() -> None:
    spec = oas3({
        "/a": {"get": {"operationId": "list items", "responses": json_body({"type": "object"})}},
        "/b": {"get": {"operationId": "list.items", "responses": json_body({"type": "object"})}},
        "/c": {"get": {"operationId": "x" * 80, "responses": json_body({"type": "object"})}},
    })
    result = convert(spec)
    assert [t.name for t in result.tools][:2] == ["list_items", "list_items_2"]
    assert len(result.tools[2].name) == 64
    assert "name 'list_items' already taken in the toolkit; this operation is 'list_items_2'" in notes(result)
    assert [t.name for t in convert(spec, prefix="Shop").tools][:2] == ["Shop_list_items", "Shop_list_items_2"]


@pytest.mark.parametrize(
    ("spec", "pointer", "text"),
    [
        ({"swagger": "1.2", "paths": {}}, "#/swagger", "Swagger 1.2 is not supported"),
        ({"info": {}, "paths": {}}, "#", "not an OpenAPI 3.x or Swagger 2.0 document"),
        (["not", "a", "spec"], "#", "an OpenAPI document is a JSON / YAML object"),
        (oas3({"/pets": "nope"}), "#/paths/~1pets", "a path item must be an object, got a string"),
        (oas3({"/pets": {"get": []}}), "#/paths/~1pets/get", "an operation must be an object"),
        (oas3({"/pets": {"get": {"responses": json_body({"$ref": "#/components/schemas/Pet"})}}}),
         "#/paths/~1pets/get/responses/200/content/application~1json/schema/$ref",
         "$ref '#/components/schemas/Pet' does not resolve: nothing named 'components' under #"),
        (oas3({"/pets": {"get": {"parameters": [{"name": "q", "in": "body"}], "responses": {}}}}),
         "#/paths/~1pets/get/parameters/0/in", "'in' is 'body'; expected one of path, query, header, cookie"),
        (oas3({"/pets": {"get": {"responses": json_body({"type": "object", "properties": {
            "n": {"type": "int"}}})}}}),
         "#/paths/~1pets/get/responses/200/content/application~1json/schema/properties/n/type",
         "'int' is not a schema type"),
        (oas3({}), "#/paths", "the spec has no operations under 'paths'"),
    ],
)
def test_a_spec_that_cannot_be_converted_fails_with_the_json_pointer(spec: Any, pointer: str, text: str) -> None:
    error = conversion_error(spec)
    assert error.reason.startswith(f"{pointer}: "), error.reason
    assert text in error.reason
    assert error.toolkit == "kit" and error.fix


def test_a_yaml_alias_loop_fails_instead_of_recursing_forever(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        "              schema: &node\n                type: object\n                properties:\n"
        "                  child: *node\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        import_openapi(path, toolkit="loop")
    assert info.value.reason.startswith(
        "#/paths/~1x/get/responses/200/content/application~1json/schema/properties/child: the schema contains itself")
    assert info.value.file == str(path)


def test_external_refs_are_refused_with_the_bundling_fix() -> None:
    error = conversion_error(oas3({"/p": {"get": {"responses": json_body({"$ref": "other.yaml#/Pet"})}}}))
    assert "external $ref 'other.yaml#/Pet' is not supported" in error.reason
    assert "bundle" in error.fix


def test_skip_broken_reports_the_operation_instead_of_failing() -> None:
    spec = oas3({
        "/ok": {"get": {"operationId": "ok", "responses": json_body({"type": "object"})}},
        "/bad": {"get": {"operationId": "bad", "responses": json_body({"$ref": "#/nope"})}},
    })
    result = convert(spec, skip_broken=True)
    assert [t.name for t in result.tools] == ["ok"]
    [skipped] = result.report.skipped
    assert skipped.what == "operation GET /bad" and skipped.pointer == "#/paths/~1bad/get"
    assert "does not resolve" in skipped.reason
    assert "operations: 2, converted: 1, skipped: 1" in result.report.lines()


# --------------------------------------------------------------------------- the commands


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


SMALL_SPEC = oas3({"/notes/{noteId}": {"get": {
    "operationId": "getNote", "summary": "Get a note",
    "parameters": [{"name": "noteId", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": json_body({"type": "object", "properties": {"id": {"type": "string"}, "text": {"type": "string"}}})}}})


def test_import_openapi_writes_the_file_prints_the_report_and_refuses_to_overwrite(tmp_path: Path) -> None:
    spec = _write(tmp_path / "notes.json", SMALL_SPEC)
    catalog = tmp_path / "catalog"
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "notes", "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "operations: 1, converted: 1, skipped: 0" in result.output
    assert "getNote  <- GET /notes/{noteId}  (operationId 'getNote')" in result.output
    assert f"Wrote {catalog / 'notes.json'}" in result.output
    assert "toolkits: [notes]" in result.output  # how to use it
    [tool] = load_tool_file(catalog / "notes.json", toolkit="notes")
    assert tool.name == "getNote" and tool.input_schema["required"] == ["noteId"]
    written = (catalog / "notes.json").read_bytes()

    again = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "notes", "--catalog", str(catalog)])
    assert again.exit_code == 2
    assert "already exists" in again.output and "--force" in again.output and "notes.json" in again.output
    assert (catalog / "notes.json").read_bytes() == written
    assert not [p for p in catalog.iterdir() if p.name != "notes.json"]  # no temporary file left

    forced = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "notes", "--catalog",
                                  str(catalog), "--force", "--prefix", "v2"])
    assert forced.exit_code == 0, forced.output
    assert [t.name for t in load_tool_file(catalog / "notes.json")] == ["v2_getNote"]


def test_import_openapi_into_a_catalog_with_bundles_and_dry_run(tmp_path: Path) -> None:
    spec = _write(tmp_path / "notes.json", SMALL_SPEC)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "bundles.yaml").write_text("toolkits: [notes]\n", encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "notes", "--catalog",
                               str(catalog), "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output and not (catalog / "notes.json").exists()
    done = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "notes", "--catalog", str(catalog)])
    assert done.exit_code == 0, done.output
    assert "Bundles naming notes" in done.output
    assert [b.name for b in load_catalog(catalog).bundles] == ["notes"]


def test_import_openapi_errors_exit_2_with_the_pointer(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.json", oas3({"/x": {"get": {"responses": json_body({"$ref": "#/definitions/X"})}}}))
    runner = CliRunner()
    result = runner.invoke(main, ["catalog", "import-openapi", str(broken), "--toolkit", "broken", "--catalog",
                                  str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "#/paths/~1x/get/responses/200/content/application~1json/schema/$ref" in result.output.replace("\n", "")
    assert not (tmp_path / "c" / "broken.json").exists()
    bad_name = runner.invoke(main, ["catalog", "import-openapi", str(broken), "--toolkit", "Bad Name"])
    assert bad_name.exit_code == 2 and "does not match" in bad_name.output


def test_import_openapi_of_a_shared_yaml_spec(tmp_path: Path) -> None:
    spec = shared_path("openapi", "petstore-expanded.yaml")
    result = CliRunner().invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", "petstore",
                                       "--catalog", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "operations: 4, converted: 4, skipped: 0" in result.output
    assert len(load_tool_file(tmp_path / "petstore.json")) == 4


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("spec_name, toolkit", [
    ("google-tasks.yaml", "google_tasks"),
    # HubSpot's appId and cardId come back only from tools that take them: the user states them.
    ("hubspot-crm-cards.yaml", "hubspot_crm_cards"),
])
def test_a_converted_toolkit_generates_valid_conversations_offline(spec_name: str, toolkit: str, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """Import the spec into a fresh catalog, name it in bundles.yaml, run `funcdex generate` on
    the embedded offline backend, check every row of the dataset."""
    spec = shared_path("openapi", spec_name)
    catalog, out = tmp_path / "catalog", tmp_path / "out"
    runner = CliRunner()
    imported = runner.invoke(main, ["catalog", "import-openapi", str(spec), "--toolkit", toolkit,
                                    "--catalog", str(catalog)])
    assert imported.exit_code == 0, imported.output
    (catalog / "bundles.yaml").write_text(f"toolkits: [{toolkit}]\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    # The default meaning check applies: an imported toolkit's conversations are held to the
    # same detectors as the built-in ones (Google Tasks had a third of its rows defective:
    # read-only links read out, windows on several times, refusals summarised as done).
    generated = runner.invoke(main, ["generate", "--bundles", toolkit, "--catalog", str(catalog),
                                     "--conversations", "6", "--seed", "3", "--out", str(out)])
    assert generated.exit_code == 0, generated.output

    path = out / toolkit / "conversations.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6
    report = report_files([path])
    figures = report.figures()
    assert not report.problems, report.problems[:5]
    assert figures["arguments_valid_pct"] == 100.0 and figures["calls_answered_pct"] == 100.0
    assert figures["id_arguments_after_first_call"] > 0 and figures["id_arguments_grounded_pct"] == 100.0
    tools = {tool.name: tool for tool in load_catalog(catalog).tools}
    responses = 0
    for row in rows:
        replies = {m["tool_call_id"]: m for m in row["messages"] if m["role"] == "tool"}
        for message in row["messages"]:
            for call in message.get("tool_calls") or []:
                tool = tools[call["function"]["name"]]
                content = json.loads(replies[call["id"]]["content"])
                if reports_failure(content):
                    continue  # a failed call's body is the API's error, not an instance of the schema
                schema_validator(tool.output_schema).validate(content)
                responses += 1
    assert responses >= 6
