"""ToolBench / RapidAPI tool definitions (`source_format="toolbench"`).

An object (or a list of them) `{"tool_name", "tool_description", "api_list": [{"name",
"description", "method", "required_parameters": [...], "optional_parameters": [...],
"schema"?}]}` with parameters `{"name", "type", "description", "default"}`.

* Toolkit: the caller's `toolkit`, else `tool_name` normalised (`names.normalize_toolkit`).
* Name: ToolBench's `f"{api}_for_{tool}"` (`names.toolbench_name`); `original_name` is the
  API's `name`.
* Types (case-insensitive, a trailing `(...)` hint allowed, e.g. `DATE (YYYY-MM-DD)`):
  see `TYPE_MAP`. `DATE` becomes a string with `format: date`; the hint of a type without a
  JSON Schema format (`TIME (24-hour HH:MM)`, `GEOPOINT (latitude, longitude)`) is added to
  the parameter description as `Format: ...`. Any other type is an error naming it.
* `default`: for a required parameter ToolBench's value is an example (-> `examples`), for an
  optional one the default (-> `default`); kept when it is non-empty and fits the parameter
  type (numeric and boolean strings are converted), otherwise left out.
* `schema` (a dict or a JSON string, often empty or an example response) is the output schema
  when it is a valid object JSON Schema, else `{"type": "object"}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import normalize_toolkit, toolbench_name
from funcdex_assets.catalog.schema_check import SchemaChecker, checked_tool, json_kind, require_entry, require_name

SOURCE_FORMAT = "toolbench"

TYPE_MAP: dict[str, dict[str, Any]] = {
    "STRING": {"type": "string"},
    "STR": {"type": "string"},
    "TEXT": {"type": "string"},
    "ENUM": {"type": "string"},
    "NUMBER": {"type": "number"},
    "FLOAT": {"type": "number"},
    "DOUBLE": {"type": "number"},
    "INTEGER": {"type": "integer"},
    "INT": {"type": "integer"},
    "BOOLEAN": {"type": "boolean"},
    "BOOL": {"type": "boolean"},
    "ARRAY": {"type": "array"},
    "LIST": {"type": "array"},
    "OBJECT": {"type": "object"},
    "JSON": {"type": "object"},
    "DATE": {"type": "string", "format": "date"},
    "DATETIME": {"type": "string", "format": "date-time"},
    "TIME": {"type": "string"},
    "GEOPOINT": {"type": "string"},
    "FILE": {"type": "string"},
    "CREDENTIALS": {"type": "string"},
}
_TYPE_SPELLING = re.compile(r"^\s*([A-Za-z_]+)\s*(?:\((.*)\))?\s*$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def is_toolbench_entry(item: Any) -> bool:
    return isinstance(item, dict) and "api_list" in item


def parse_toolbench(
    data: Any,
    *,
    file: str,
    toolkit: str | None,
    source: str,
    checker: SchemaChecker,
) -> list[Tool]:
    entries = data if isinstance(data, list) else [data]
    tools: list[Tool] = []
    for index, entry in enumerate(entries):
        tools.extend(
            _parse_tool(entry, index, file=file, toolkit=toolkit, source=source, checker=checker)
        )
    return tools


def _parse_tool(
    entry: Any, index: int, *, file: str, toolkit: str | None, source: str, checker: SchemaChecker
) -> list[Tool]:
    if not isinstance(entry, dict):
        raise CatalogError(
            f"entry {index}: a ToolBench tool is a JSON object, got {json_kind(entry)}",
            file=file,
            toolkit=toolkit,
        )
    tool_name = entry.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name.strip():
        raise CatalogError(
            f"entry {index}: 'tool_name' must be a non-empty string, got {json_kind(tool_name)}",
            file=file,
            toolkit=toolkit,
        )
    kit = toolkit if toolkit is not None else normalize_toolkit(tool_name)
    if not kit:
        raise CatalogError(
            f"tool_name {tool_name!r} gives no toolkit name (no ASCII letters or digits)",
            file=file,
            fix="Pass toolkit= or rename the tool.",
        )
    api_list = entry.get("api_list")
    if not isinstance(api_list, list) or not api_list:
        raise CatalogError(
            f"tool {tool_name!r}: 'api_list' must be a non-empty list, got {json_kind(api_list)}",
            file=file,
            toolkit=kit,
        )
    return [
        _parse_api(
            api, api_index, tool_name, file=file, toolkit=kit, source=source, checker=checker
        )
        for api_index, api in enumerate(api_list)
    ]


def _parse_api(
    api: Any,
    index: int,
    tool_name: str,
    *,
    file: str,
    toolkit: str,
    source: str,
    checker: SchemaChecker,
) -> Tool:
    api = require_entry(api, f"api_list[{index}]", "an API", file=file, toolkit=toolkit)
    api_name = require_name(api.get("name", api.get("api_name")), f"api_list[{index}]", "name",
                            file=file, toolkit=toolkit)

    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, file=file, toolkit=toolkit, tool=api_name)

    properties: dict[str, Any] = {}
    required: list[str] = []
    for group in ("required_parameters", "optional_parameters"):
        params = api.get(group)
        if params is None:
            continue
        if not isinstance(params, list):
            raise fail(f"{group}: must be a list of parameters, got {json_kind(params)}")
        for position, param in enumerate(params):
            name, schema = _parameter(
                param, f"{group}[{position}]", group == "required_parameters", fail
            )
            if name in properties:
                raise fail(f"{group}[{position}]: parameter {name!r} is defined twice")
            properties[name] = schema
            if group == "required_parameters":
                required.append(name)
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required

    return checked_tool(
        checker,
        file=file,
        toolkit=toolkit,
        name=toolbench_name(api_name, tool_name),
        original_name=api_name,
        description=api.get("description", ""),
        description_field="description",
        input_schema=input_schema,
        input_field="parameters",
        output_schema=_output_schema(api.get("schema"), checker),
        output_field="schema",
        source=source,
        source_format=SOURCE_FORMAT,
    )


def _parameter(param: Any, where: str, is_required: bool, fail: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(param, dict):
        raise fail(f"{where}: a parameter is a JSON object, got {json_kind(param)}")
    name = param.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{where}.name: must be a non-empty string, got {json_kind(name)}")
    where = f"{where.split('[')[0]}.{name}"
    raw_type = param.get("type")
    match = _TYPE_SPELLING.match(raw_type) if isinstance(raw_type, str) else None
    base = TYPE_MAP.get(match.group(1).upper()) if match else None
    if base is None:
        raise fail(
            f"{where}.type: {raw_type!r} is not a known ToolBench type "
            f"(one of {', '.join(TYPE_MAP)}, optionally followed by a '(...)' hint)"
        )
    schema: dict[str, Any] = dict(base)
    description = param.get("description")
    description = description.strip() if isinstance(description, str) else ""
    hint = (match.group(2) or "").strip()
    if hint and "format" not in schema and hint not in description:
        description = f"{description} Format: {hint}.".strip()
    if description:
        schema["description"] = description
    enum = param.get("enum")
    if isinstance(enum, list) and enum:
        schema["enum"] = enum
    value = _coerce(param.get("default"), schema["type"])
    if value is not None:
        if is_required:
            schema["examples"] = [value]
        else:
            schema["default"] = value
    return name, schema


def _coerce(value: Any, json_type: str) -> Any:
    """`value` as `json_type`, or `None` when it is empty or does not fit."""
    if value is None or value == "":
        return None
    if json_type == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return None
    if json_type == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value.strip())
        return None
    if json_type == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return None
            if number != number or number in (float("inf"), float("-inf")):
                return None
            return int(number) if _INTEGER.match(value.strip()) else number
        return None
    if json_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return None
    expected = list if json_type == "array" else dict
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, expected) else None


def _output_schema(raw: Any, checker: SchemaChecker) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError:
            raw = None
    if isinstance(raw, dict) and checker.problem(raw, "schema") is None:
        return raw
    return {"type": "object"}
