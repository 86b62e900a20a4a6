"""MCP `tools/list` results and OpenAI function lists: loaded from the catalog, imported with
`funcdex catalog import-tools`, and meeting OpenAPI imports in the same `Tool` model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import detect_format, load_catalog, load_tool_file
from funcdex_assets.catalog.openapi import convert_openapi
from funcdex_assets.catalog.toolkit_file import core, write_toolkit
from funcdex_assets.cli import main

READ_FILE = {
    "name": "fs.read_file",
    "title": "Read file",
    "description": "Read a text file from the workspace.",
    "inputSchema": {"type": "object", "properties": {"path": {"type": "string", "description": "File path"}},
                    "required": ["path"]},
    "outputSchema": {"type": "object", "properties": {"content": {"type": "string"}}, "required": ["content"]},
    "annotations": {"readOnlyHint": True},
}
LIST_DIR = {
    "name": "list_dir",
    "title": "List a directory",
    "inputSchema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                    "properties": {"path": {"type": "string"}}},
}
RESULT = {"tools": [READ_FILE, LIST_DIR], "nextCursor": "page-2"}
ENVELOPE = {"jsonrpc": "2.0", "id": 7, "result": RESULT}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("data", [RESULT, ENVELOPE, [READ_FILE, LIST_DIR]])
def test_mcp_shapes_are_detected(data: Any) -> None:
    assert detect_format(data) == "mcp"


def test_openai_lists_are_still_openai() -> None:
    assert detect_format({"tools": [{"name": "f", "parameters": {}}]}) == "openai"


def test_mcp_tools_load_into_the_catalog_model(tmp_path: Path) -> None:
    tools = load_tool_file(write_json(tmp_path / "workspace.json", ENVELOPE))
    read, listing = tools
    assert (read.toolkit, read.name, read.original_name, read.source_format) == (
        "workspace", "fs__read_file", "fs.read_file", "mcp")
    assert read.description == "Read a text file from the workspace."
    assert read.input_schema == READ_FILE["inputSchema"] and read.output_schema == READ_FILE["outputSchema"]
    assert listing.description == "List a directory"  # no description: the title
    assert listing.output_schema == {"type": "object"}


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}},
         "JSON-RPC error response (code -32601: 'Method not found')"),
        ({"jsonrpc": "2.0", "id": 1, "result": {"resources": []}}, "result has no 'tools' list"),
        ({"tools": [READ_FILE, {"name": "f", "parameters": {}}]}, "mixes formats: mcp (entry 0), openai (entry 1)"),
        ({"tools": [{"name": "x", "inputSchema": {"type": "object"}}]}, "the description is empty"),
        ({"tools": [{"name": "x", "description": "d", "inputSchema": {"type": "string"}}]},
         "inputSchema: the top level must be an object schema"),
    ],
)
def test_mcp_errors_name_the_file_and_the_problem(tmp_path: Path, data: Any, text: str) -> None:
    path = write_json(tmp_path / "kit.json", data)
    with pytest.raises(CatalogError) as info:
        load_tool_file(path)
    assert info.value.file == str(path)
    assert text in info.value.reason


def test_an_mcp_file_dropped_into_the_catalog_loads_with_its_bundle(tmp_path: Path) -> None:
    write_json(tmp_path / "workspace.json", RESULT)
    (tmp_path / "bundles.yaml").write_text("toolkits: [workspace]\n", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert [t.name for t in catalog.bundle_tools("workspace")] == ["fs__read_file", "list_dir"]


def test_import_tools_normalises_an_mcp_result_and_warns_on_pagination(tmp_path: Path) -> None:
    source = write_json(tmp_path / "tools_list.json", ENVELOPE)
    catalog = tmp_path / "catalog"
    result = CliRunner().invoke(main, ["catalog", "import-tools", str(source), "--toolkit", "workspace",
                                       "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "mcp format, 2 tools" in result.output
    assert "fs__read_file  (from 'fs.read_file')" in result.output
    assert "paginated" in result.output and "page-2" in result.output
    written = json.loads((catalog / "workspace.json").read_text(encoding="utf-8"))
    assert [entry["name"] for entry in written] == ["fs.read_file", "list_dir"]  # mapped again on load
    assert written[0]["response"] == READ_FILE["outputSchema"]
    loaded = load_tool_file(catalog / "workspace.json")
    assert [(t.name, t.original_name, t.input_schema) for t in loaded] == [
        ("fs__read_file", "fs.read_file", READ_FILE["inputSchema"]),
        ("list_dir", "list_dir", LIST_DIR["inputSchema"])]


def test_import_tools_of_a_funcdex_list_keeps_the_model_facing_names(tmp_path: Path) -> None:
    source = write_json(tmp_path / "mail.json", [{
        "toolkit_name": "mail", "tool_id": "SEND_EMAIL", "tool_description": "Send an email.",
        "tool_input_parameters": {"to": {"type": "string", "required": True}},
        "tool_response_parameters": {"id": {"type": "string"}}}])
    catalog = tmp_path / "catalog"
    result = CliRunner().invoke(main, ["catalog", "import-tools", str(source), "--toolkit", "mail",
                                       "--catalog", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "MAIL_SEND_EMAIL  (from 'SEND_EMAIL')" in result.output
    [tool] = load_tool_file(catalog / "mail.json")
    assert (tool.name, tool.original_name) == ("MAIL_SEND_EMAIL", "MAIL_SEND_EMAIL")
    assert tool.input_schema == {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]}


def test_import_tools_takes_openai_lists_in_yaml_and_refuses_overwrites_and_specs(tmp_path: Path) -> None:
    source = tmp_path / "functions.yaml"
    source.write_text(
        "- type: function\n"
        "  function:\n"
        "    name: get_weather\n"
        "    description: Current weather for a city.\n"
        "    parameters:\n"
        "      type: object\n"
        "      properties: {city: {type: str}}\n"
        "      required: [city]\n", encoding="utf-8")
    catalog = tmp_path / "catalog"
    runner = CliRunner()
    args = ["catalog", "import-tools", str(source), "--toolkit", "weather", "--catalog", str(catalog)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "openai format, 1 tools" in first.output
    [tool] = load_tool_file(catalog / "weather.json")
    assert tool.input_schema["properties"]["city"] == {"type": "string"}  # benchmark spelling normalised

    second = runner.invoke(main, args)
    assert second.exit_code == 2 and "already exists" in second.output and "--force" in second.output
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0

    spec = write_json(tmp_path / "api.json", {"openapi": "3.0.0", "info": {}, "paths": {}})
    refused = runner.invoke(main, ["catalog", "import-tools", str(spec), "--toolkit", "api", "--catalog", str(catalog)])
    assert refused.exit_code == 2 and "import-openapi" in refused.output


def test_all_import_paths_meet_in_the_same_model(tmp_path: Path) -> None:
    """One tool described as an OpenAPI operation, an MCP tool and an OpenAI function gives
    the same catalog tool once written and loaded back."""
    params = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
              "required": ["city"]}
    output = {"type": "object", "properties": {"celsius": {"type": "number"}}}
    spec = {"openapi": "3.0.0", "info": {"title": "w", "version": "1"}, "paths": {"/weather": {"get": {
        "operationId": "get_weather", "description": "Current weather for a city.",
        "parameters": [{"name": "city", "in": "query", "required": True, "description": "City name",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "", "content": {"application/json": {"schema": output}}}}}}}}
    mcp = {"tools": [{"name": "get_weather", "description": "Current weather for a city.",
                      "inputSchema": params, "outputSchema": output}]}
    openai = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
                                                 "parameters": params, "response": output}}]
    from_openapi = convert_openapi(spec, toolkit="weather").tools
    from_mcp = load_tool_file(write_json(tmp_path / "mcp" / "weather.json", mcp))
    from_openai = load_tool_file(write_json(tmp_path / "openai" / "weather.json", openai))
    written = []
    for index, tools in enumerate((from_openapi, from_mcp, from_openai)):
        path = write_toolkit(tools, tmp_path / f"catalog{index}", "weather")
        written.append([core(t) for t in load_tool_file(path)])
    assert written[0] == written[1] == written[2]
