"""The three tool-definition formats, normalised into `Tool`, and their errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from funcdex_assets.catalog.errors import TOOL_FIX, CatalogError
from funcdex_assets.catalog.loader import detect_format, load_tool_file
from funcdex_assets.catalog.models import TOOL_NAME_PATTERN
from funcdex_assets.catalog.names import (
    fit_length,
    funcdex_name,
    normalize_toolkit,
    openai_safe_name,
    toolbench_name,
)

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def funcdex_entry(tool_id: str = "SEND_EMAIL", toolkit: str = "gmail", **overrides: Any) -> dict:
    entry = {
        "toolkit_name": toolkit,
        "tool_id": tool_id,
        "tool_description": "Send an email.",
        "tool_input_parameters": {"to": {"type": "string", "required": True}},
        "tool_response_parameters": {"successful": {"type": "boolean", "required": True}},
    }
    entry.update(overrides)
    return entry


def load_error(path: Path, toolkit: str | None = None) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_tool_file(path, toolkit=toolkit)
    return info.value


def by_original(tools: list) -> dict:
    return {tool.original_name: tool for tool in tools}


# --------------------------------------------------------------------------- Funcdex


def test_funcdex_seed_example_with_json_encoded_strings() -> None:
    path = FIXTURES / "funcdex_seed_gmail_drive.json"
    assert detect_format(json.loads(path.read_text())) == "funcdex"

    tools = load_tool_file(path)

    assert [(t.toolkit, t.name, t.original_name) for t in tools] == [
        ("gmail", "GMAIL_FETCH_EMAILS", "FETCH_EMAILS"),
        ("gmail", "GMAIL_LIST_THREADS", "LIST_THREADS"),
        ("googledrive", "GOOGLEDRIVE_FIND_FILE", "FIND_FILE"),
    ]
    threads = tools[1]
    assert threads.description.startswith("Retrieves a list of email threads")
    assert threads.input_schema == {
        "type": "object",
        "properties": {
            "max_results": {"type": "integer"},
            "page_token": {"type": "string"},
            "query": {"type": "string"},
            "user_id": {"type": "string"},
            "verbose": {"type": "boolean"},
        },
    }  # every parameter optional: no "required" key
    assert threads.output_schema == {
        "type": "object",
        "properties": {
            "data": {"type": "object"},
            "error": {"type": "string"},
            "successful": {"type": "boolean"},
        },
        "required": ["data", "successful"],
    }
    assert all(t.source_format == "funcdex" for t in tools)
    assert all(t.source == path.name for t in tools)
    assert "includeItemsFromAllDrives" in tools[2].input_schema["properties"]
    assert tools[0].openai_function()["function"]["name"] == "GMAIL_FETCH_EMAILS"


def test_funcdex_objects_nested_required_lifted_and_prefixed_ids_kept() -> None:
    tools = by_original(load_tool_file(FIXTURES / "googlecalendar.json"))

    event = tools["CREATE_EVENT"]
    assert event.name == "GOOGLECALENDAR_CREATE_EVENT"
    assert event.input_schema == {
        "type": "object",
        "properties": {
            "calendar_id": {"type": "string", "description": "Calendar to add the event to."},
            "summary": {"type": "string"},
            "start": {
                "type": "object",
                "properties": {
                    "dateTime": {"type": "string", "format": "date-time"},
                    "timeZone": {"type": "string"},
                },
                "required": ["dateTime"],
            },
            "attendees": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"email": {"type": "string"}, "optional": {"type": "boolean"}},
                    "required": ["email"],
                },
            },
        },
        "required": ["summary", "start"],
    }
    assert event.output_schema["properties"]["data"]["required"] == ["id"]
    assert event.output_schema["required"] == ["data", "successful"]

    listing = tools["GOOGLECALENDAR_LIST_CALENDARS"]
    assert listing.name == "GOOGLECALENDAR_LIST_CALENDARS"  # already prefixed: kept
    assert listing.input_schema == {"type": "object", "properties": {}}


def test_funcdex_parameter_field_given_as_object_schema(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"to": {"type": "string"}, "cc": {"type": "string", "required": True}},
        "required": ["to"],
    }
    path = write_json(tmp_path / "gmail.json", [funcdex_entry(tool_input_parameters=schema)])
    (tool,) = load_tool_file(path)
    assert tool.input_schema == {
        "type": "object",
        "properties": {"to": {"type": "string"}, "cc": {"type": "string"}},
        "required": ["to", "cc"],
    }


def test_funcdex_type_typo_message_names_file_toolkit_tool_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = funcdex_entry(tool_input_parameters={"to": {"type": "strin", "required": True}})
    write_json(tmp_path / "tool_catalog" / "gmail.json", [entry])
    monkeypatch.chdir(tmp_path)

    error = load_error(Path("tool_catalog/gmail.json"))

    message = str(error)
    assert message.startswith(
        "tool_catalog/gmail.json: toolkit 'gmail', tool 'SEND_EMAIL': "
        "tool_input_parameters.to.type: 'strin' is not a JSON Schema type"
    )
    assert message.endswith("Fix the definition or remove the tool from the file.")
    assert error.file == "tool_catalog/gmail.json"
    assert error.toolkit == "gmail"
    assert error.tool == "SEND_EMAIL"
    assert "'strin' is not a JSON Schema type" in error.reason
    assert isinstance(error, ValueError)


def test_funcdex_nested_schema_error_path(tmp_path: Path) -> None:
    params = {
        "start": {
            "type": "object",
            "required": True,
            "properties": {"dateTime": {"type": "string", "minLength": -1}},
        }
    }
    path = write_json(tmp_path / "cal.json", [funcdex_entry(toolkit="cal", tool_input_parameters=params)])
    error = load_error(path)
    assert "tool_input_parameters.start.dateTime.minLength" in error.reason
    assert "invalid JSON Schema" in error.reason


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"tool_description": "   "}, "tool_description: the description is empty"),
        ({"tool_input_parameters": '{"to": {"type": "string",}}'}, "tool_input_parameters: the JSON-encoded string is not valid JSON (line 1, column"),
        ({"tool_input_parameters": ["to"]}, "tool_input_parameters: must be an object of parameters"),
        ({"tool_input_parameters": {"to": "string"}}, "tool_input_parameters.to: must be a JSON Schema object, got a string"),
        ({"tool_input_parameters": {"to": {"type": "string", "required": "yes"}}}, "tool_input_parameters.to.required: must be true or false"),
        ({"tool_response_parameters": {"data": {"type": "objekt"}}}, "tool_response_parameters.data.type: 'objekt' is not a JSON Schema type"),
        ({"toolkit_name": "Google Mail"}, "toolkit_name 'Google Mail' is not a toolkit name matching ^[a-z0-9][a-z0-9_-]*$; use 'google_mail'"),
    ],
)
def test_funcdex_entry_errors(tmp_path: Path, overrides: dict, expected: str) -> None:
    path = write_json(tmp_path / "gmail.json", [funcdex_entry(**overrides)])
    error = load_error(path)
    assert error.file == str(path)
    assert error.tool == "SEND_EMAIL"
    assert expected in error.reason
    assert str(error).startswith(f"{path}: ")
    assert "tool 'SEND_EMAIL'" in str(error)


def test_funcdex_missing_fields_and_missing_tool_id(tmp_path: Path) -> None:
    entry = funcdex_entry()
    del entry["tool_response_parameters"]
    error = load_error(write_json(tmp_path / "a.json", [entry]))
    assert "missing field(s) tool_response_parameters" in error.reason
    assert error.tool == "SEND_EMAIL"

    entry = funcdex_entry()
    entry["tool_id"] = ""
    error = load_error(write_json(tmp_path / "b.json", [entry]))
    assert "entry 0: 'tool_id' must be a non-empty string" in error.reason
    assert error.fix == TOOL_FIX


def test_funcdex_duplicates_and_prefix_collisions_are_errors(tmp_path: Path) -> None:
    path = write_json(tmp_path / "gmail.json", [funcdex_entry(), funcdex_entry()])
    error = load_error(path)
    assert error.tool == "SEND_EMAIL"
    assert "defined twice" in error.reason

    path = write_json(
        tmp_path / "gmail2.json", [funcdex_entry("SEND"), funcdex_entry("GMAIL_SEND")]
    )
    error = load_error(path)
    assert error.tool == "GMAIL_SEND"
    assert "'GMAIL_SEND' collides with tool 'SEND'" in error.reason


def test_funcdex_toolkit_argument_must_match_toolkit_name() -> None:
    path = FIXTURES / "funcdex_seed_gmail_drive.json"
    error = load_error(path, toolkit="gmail")
    assert error.toolkit == "gmail"
    assert error.tool == "FIND_FILE"
    assert "toolkit_name 'googledrive' differs from the file's toolkit 'gmail'" in error.reason
    assert "googledrive.json" in error.fix


# --------------------------------------------------------------------------- OpenAI


def test_openai_bfcl_spellings_dotted_names_and_defaults() -> None:
    path = FIXTURES / "bfcl_functions.json"
    assert detect_format(json.loads(path.read_text())) == "openai"
    tools = by_original(load_tool_file(path))

    assert {t.toolkit for t in tools.values()} == {"bfcl_functions"}  # file stem
    assert {name: t.name for name, t in tools.items()} == {
        "weather.get_forecast": "weather__get_forecast",
        "weather.get_current": "weather__get_current",
        "calculate_triangle_area": "calculate_triangle_area",
        "get_server_time": "get_server_time",
    }
    forecast = tools["weather.get_forecast"]
    assert forecast.source_format == "openai"
    assert forecast.input_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name."},
            "days": {"type": "integer", "description": "Number of days.", "default": 3},
            "metric": {"type": "boolean", "description": "Use metric units."},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "description": "Latitude and longitude.",
            },
            "filters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "threshold": {"type": "number"}},
                    "required": ["field"],
                },
            },
            "extra": {"description": "Anything else."},  # "any": no type constraint
        },
        "required": ["city"],
    }
    assert forecast.output_schema == {"type": "object"}
    assert tools["weather.get_current"].output_schema == {
        "type": "object",
        "properties": {"temperature": {"type": "number"}, "conditions": {"type": "string"}},
    }
    assert tools["get_server_time"].input_schema == {"type": "object", "properties": {}}


def test_openai_tools_wrapper_nested_functions_and_toolkit_argument() -> None:
    path = FIXTURES / "openai_tools.json"
    assert detect_format(json.loads(path.read_text())) == "openai"
    tools = by_original(load_tool_file(path, toolkit="shop"))

    assert {t.toolkit for t in tools.values()} == {"shop"}
    search = tools["search_products"]
    assert search.input_schema["properties"]["max_price"] == {"type": ["number", "null"]}
    assert search.input_schema["additionalProperties"] is False
    assert search.output_schema["properties"]["products"]["type"] == "array"
    assert tools["get order status"].name == "get_order_status"


def test_name_mapping_rules() -> None:
    assert openai_safe_name("weather.get_forecast") == "weather__get_forecast"
    assert openai_safe_name("math.stats.mean") == "math__stats__mean"
    assert openai_safe_name("get weather!") == "get_weather_"
    assert openai_safe_name("already-valid_Name1") == "already-valid_Name1"
    assert funcdex_name("gmail", "SEND_EMAIL") == "GMAIL_SEND_EMAIL"
    assert funcdex_name("gmail", "gmail_send_email") == "gmail_send_email"
    assert toolbench_name("Get Forecast", "Weather API") == "get_forecast_for_weather_api"
    assert toolbench_name("id", "Weather API") == "is_id_for_weather_api"
    assert toolbench_name("3-day history", "Weather API") == "get_3_day_history_for_weather_api"
    assert toolbench_name("!!!", "Weather API") == ""
    assert normalize_toolkit("BFCL Simple (v3)") == "bfcl_simple_v3"
    assert normalize_toolkit("***") == ""

    long_a = "namespace." + "a" * 80
    long_b = "namespace." + "a" * 79 + "b"
    mapped_a, mapped_b = openai_safe_name(long_a), openai_safe_name(long_b)
    assert len(mapped_a) == len(mapped_b) == 64
    assert mapped_a != mapped_b
    assert mapped_a == openai_safe_name(long_a)  # stable
    assert mapped_a.startswith("namespace__aaa")
    assert TOOL_NAME_PATTERN.match(mapped_a)
    assert fit_length("x" * 64) == "x" * 64


def test_openai_long_names_are_cut_with_hash(tmp_path: Path) -> None:
    original = "very.long." + "segment_" * 10
    path = write_json(
        tmp_path / "long.json", [{"name": original, "description": "d", "parameters": {}}]
    )
    (tool,) = load_tool_file(path)
    assert len(tool.name) == 64
    assert tool.name == openai_safe_name(original)
    assert tool.original_name == original


@pytest.mark.parametrize(
    ("names", "tool", "expected"),
    [
        (["a.b", "a__b"], "a__b", "model-facing name 'a__b' collides with tool 'a.b'"),
        (["get weather", "get_weather"], "get_weather", "'get_weather' collides with tool 'get weather'"),
        (["ping", "ping"], "ping", "defined twice"),
    ],
)
def test_openai_name_collisions_are_errors(
    tmp_path: Path, names: list[str], tool: str, expected: str
) -> None:
    items = [{"name": name, "description": "d", "parameters": {}} for name in names]
    error = load_error(write_json(tmp_path / "kit.json", items))
    assert error.toolkit == "kit"
    assert error.tool == tool
    assert expected in error.reason


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ({"name": "f", "parameters": {}}, "missing 'description'"),
        ({"name": "f", "description": " ", "parameters": {}}, "description: the description is empty"),
        (
            {"name": "f", "description": "d", "parameters": {"type": "dict", "properties": {"x": {"type": "strng"}}}},
            "parameters.x.type: 'strng' is not a JSON Schema type",
        ),
        (
            {"name": "f", "description": "d", "parameters": {"type": "array", "items": {"type": "string"}}},
            "parameters: the top level must be an object schema ('type': 'object'), got 'type': 'array'",
        ),
        (
            {"name": "f", "description": "d", "parameters": {"properties": {"x": {"type": "string"}}}},
            "parameters: the top level must be an object schema ('type': 'object'), got no 'type'",
        ),
        (
            {"name": "f", "description": "d", "returns": {"type": "string"}},
            "returns: the top level must be an object schema",
        ),
        (
            {"name": "f", "description": "d", "returns": {"type": "object"}, "response": {"type": "object"}},
            "both 'response' and 'returns' give an output schema",
        ),
        (
            {"name": "f", "description": "d", "parameters": {"type": "object", "required": "x"}},
            "parameters.required: 'x' is not of type 'array' (invalid JSON Schema)",
        ),
    ],
)
def test_openai_function_errors(tmp_path: Path, function: dict, expected: str) -> None:
    path = write_json(tmp_path / "kit.json", [{"type": "function", "function": function}])
    error = load_error(path)
    assert (error.file, error.toolkit, error.tool) == (str(path), "kit", "f")
    assert expected in error.reason
    assert str(error).startswith(f"{path}: toolkit 'kit', tool 'f': ")
    assert str(error).endswith(TOOL_FIX)


def test_openai_nameless_function_and_bad_stem(tmp_path: Path) -> None:
    error = load_error(write_json(tmp_path / "kit.json", [{"description": "d", "name": ""}]))
    assert "entry 0: 'name' must be a non-empty string" in error.reason

    error = load_error(write_json(tmp_path / "___.json", [{"name": "f", "description": "d"}]))
    assert "gives no toolkit name" in error.reason
    (tool,) = load_tool_file(tmp_path / "___.json", toolkit="ok")
    assert tool.toolkit == "ok"

    error = load_error(tmp_path / "kit.json", toolkit="Not Valid")
    assert "toolkit 'Not Valid' does not match" in error.reason


# --------------------------------------------------------------------------- ToolBench


def test_toolbench_required_optional_types_and_schema() -> None:
    path = FIXTURES / "toolbench_weather.json"
    assert detect_format(json.loads(path.read_text())) == "toolbench"
    tools = by_original(load_tool_file(path))

    assert {t.toolkit for t in tools.values()} == {"weather_api"}
    assert {name: t.name for name, t in tools.items()} == {
        "Get Forecast": "get_forecast_for_weather_api",
        "id": "is_id_for_weather_api",
        "3-day history": "get_3_day_history_for_weather_api",
    }
    forecast = tools["Get Forecast"]
    assert forecast.source_format == "toolbench"
    assert forecast.description == "Daily forecast for a location."
    assert forecast.input_schema == {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City name or lat,lon.", "examples": ["London"]},
            "date": {"type": "string", "format": "date", "description": "First day."},
            "days": {"type": "number", "description": "How many days.", "default": 3},
            "hourly": {"type": "boolean", "description": "Include hourly data.", "default": False},
            "units": {"type": "string", "description": "metric or imperial."},
            "at": {"type": "string", "description": "Time of day. Format: 24-hour HH:MM.", "default": "12:00"},
        },
        "required": ["location", "date"],
    }
    # `schema` given as a JSON string holding an object schema: used.
    assert forecast.output_schema == {
        "type": "object",
        "properties": {"forecast": {"type": "array", "items": {"type": "object"}}},
    }
    station = tools["id"]
    assert station.input_schema["properties"]["station"]["examples"] == [42]
    assert station.input_schema["required"] == ["station"]
    assert station.output_schema == {"type": "object"}  # empty string
    history = tools["3-day history"]
    assert "required" not in history.input_schema
    assert history.output_schema == {"type": "object"}  # an example response, not a schema


def test_toolbench_list_of_tools_and_toolkit_argument(tmp_path: Path) -> None:
    api = {
        "name": "Search",
        "description": "Search.",
        "required_parameters": [{"name": "q", "type": "STRING", "description": "", "default": ""}],
        "optional_parameters": [{"name": "limit", "type": "integer", "default": "ten"}],
    }
    data = [
        {"tool_name": "Movie DB", "api_list": [api]},
        {"tool_name": "Book-Finder", "api_list": [api]},
    ]
    path = write_json(tmp_path / "rapid.json", data)
    tools = load_tool_file(path)
    assert [(t.toolkit, t.name) for t in tools] == [
        ("movie_db", "search_for_movie_db"),
        ("book-finder", "search_for_book_finder"),
    ]
    limit = tools[0].input_schema["properties"]["limit"]
    assert limit == {"type": "integer"}  # "ten" does not fit an integer: no default

    # One toolkit for both: the same API name twice is ambiguous for the reverse mapping.
    error = load_error(path, toolkit="rapid")
    assert error.toolkit == "rapid"
    assert error.tool == "Search"
    assert "defined twice" in error.reason


@pytest.mark.parametrize(
    ("api_overrides", "expected"),
    [
        (
            {"required_parameters": [{"name": "city", "type": "CITY", "description": "x"}]},
            "required_parameters.city.type: 'CITY' is not a known ToolBench type",
        ),
        (
            {"optional_parameters": [{"name": "city", "description": "x"}]},
            "optional_parameters.city.type: None is not a known ToolBench type",
        ),
        ({"description": ""}, "description: the description is empty"),
        (
            {
                "required_parameters": [{"name": "q", "type": "STRING"}],
                "optional_parameters": [{"name": "q", "type": "STRING"}],
            },
            "optional_parameters[0]: parameter 'q' is defined twice",
        ),
        ({"required_parameters": {"q": "STRING"}}, "required_parameters: must be a list of parameters"),
    ],
)
def test_toolbench_api_errors(tmp_path: Path, api_overrides: dict, expected: str) -> None:
    api = {"name": "Get City", "description": "d", "required_parameters": [], "optional_parameters": []}
    api.update(api_overrides)
    path = write_json(tmp_path / "tb.json", {"tool_name": "Cities", "api_list": [api]})
    error = load_error(path)
    assert (error.file, error.toolkit, error.tool) == (str(path), "cities", "Get City")
    assert expected in error.reason
    assert str(error).endswith(TOOL_FIX)


def test_toolbench_tool_level_errors(tmp_path: Path) -> None:
    error = load_error(write_json(tmp_path / "tb.json", {"tool_name": "Cities", "api_list": []}))
    assert "'api_list' must be a non-empty list" in error.reason
    assert error.toolkit == "cities"

    error = load_error(write_json(tmp_path / "tb2.json", {"tool_name": "", "api_list": [{}]}))
    assert "'tool_name' must be a non-empty string" in error.reason


# --------------------------------------------------------------------------- detection, files


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([funcdex_entry()], "funcdex"),
        ([{"name": "f", "description": "d", "parameters": {}}], "openai"),
        ([{"type": "function", "function": {"name": "f"}}], "openai"),
        ({"tools": [{"name": "f"}]}, "openai"),
        ({"tool_name": "t", "api_list": []}, "toolbench"),
        ([{"tool_name": "t", "api_list": []}], "toolbench"),
    ],
)
def test_detect_format(data: Any, expected: str) -> None:
    assert detect_format(data) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "the file lists no tools"),
        ({"tools": []}, "the 'tools' list is empty"),
        ({"functions": []}, "unrecognised tool file"),
        ("tools", "unrecognised tool file (a string)"),
        ([{"foo": 1}], "no entry looks like a tool"),
        ([funcdex_entry(), {"name": "f", "description": "d"}], "mixes formats: funcdex (entry 0), openai (entry 1)"),
    ],
)
def test_detect_format_errors(tmp_path: Path, data: Any, expected: str) -> None:
    with pytest.raises(CatalogError) as info:
        detect_format(data)
    assert expected in info.value.reason
    # Through load_tool_file the error names the file too.
    path = write_json(tmp_path / "kit.json", data)
    error = load_error(path)
    assert error.file == str(path)
    assert expected in str(error)


def test_unparseable_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "gmail.json"
    path.write_text('[\n  {"toolkit_name": "gmail",\n   "tool_id": "X" "oops"}\n]\n', encoding="utf-8")
    error = load_error(path)
    assert error.file == str(path)
    assert error.tool is None
    assert "not valid JSON: Expecting ',' delimiter at line 3, column 19" in error.reason
    assert str(error).startswith(f"{path}: not valid JSON")


def test_missing_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nope.json")
    assert "does not exist" in error.reason


def test_catalog_error_attributes_and_pickling() -> None:
    error = CatalogError("bad thing", file="f.json", toolkit="kit", tool="T")
    assert str(error) == f"f.json: toolkit 'kit', tool 'T': bad thing. {TOOL_FIX}"
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.file, clone.toolkit, clone.tool, clone.reason, str(clone)) == (
        "f.json", "kit", "T", "bad thing", str(error),
    )
    filled = CatalogError("x").with_context(file="g.json", toolkit="k")
    assert str(filled).startswith("g.json: toolkit 'k': x.")


# --------------------------------------------------------------------------- meta-schema check

DRAFT4 = "http://json-schema.org/draft-04/schema#"


def _obj(**properties: Any) -> dict:
    return {"type": "object", "properties": properties}


@pytest.mark.parametrize(
    "schema",
    [
        _obj(a={"type": "string", "description": "x", "default": 3, "examples": ["q"]}),
        _obj(a={"type": "string", "minLength": -1}),
        _obj(a={"type": "array", "items": [{"type": "string"}]}),
        _obj(a={"type": "string", "enum": []}),
        _obj(a={"type": "string", "description": 5}),
        _obj(a={"type": "string", "examples": "x"}),
        _obj(a="string"),
        _obj(a={"type": "object", "additionalProperties": "no"}),
        _obj(a={"type": "object", "patternProperties": {"(": {"type": "string"}}}),
        _obj(a={"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b", "b"]}),
        _obj(a={"type": "object", "properties": {"b": {"type": "string"}}, "required": [1]}),
        _obj(a={"type": "object", "dependencies": {"b": 5}}),
        _obj(a={"anyOf": [{"type": "string"}, {"type": "integer", "maximum": "high"}]}),
        _obj(a={"$defs": {"x": {"type": "string", "pattern": "["}}}),
        {"$schema": DRAFT4, **_obj(a={"type": "number", "minimum": 0, "exclusiveMinimum": True})},
        {"$schema": DRAFT4, **_obj(a={"type": "string", "enum": []})},
        {"$schema": DRAFT4, **_obj(a={"type": "string", "enum": [1, 1]})},
        {"$schema": DRAFT4, **_obj(a={"type": "object", "properties": {"b": {}}, "required": []})},
        {"$schema": DRAFT4, **_obj(a={"type": "object", "properties": {"b": {}}, "required": ["b"]})},
        _obj(a={"type": "number", "minimum": 0, "exclusiveMinimum": True}),
    ],
)
def test_schema_checker_agrees_with_check_schema(schema: dict) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    from funcdex_assets.catalog.schema_check import SchemaChecker

    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
        expected_valid = True
    except SchemaError:
        expected_valid = False
    checker = SchemaChecker()
    problem = checker.problem(schema, "parameters")
    assert (problem is None) == expected_valid, problem
    # A second, same-shaped schema is answered from the checker's memory the same way.
    assert (checker.problem(json.loads(json.dumps(schema)), "parameters") is None) == expected_valid
    if problem is not None:
        assert problem.startswith("parameters.a")
