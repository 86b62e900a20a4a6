"""OpenAI / JSON-Schema function lists (`source_format="openai"`), e.g. BFCL function docs.

A JSON list (or `{"tools": [...]}`) of bare functions `{name, description, parameters}` or
`{"type": "function", "function": {...}}`. Benchmark type spellings are accepted anywhere in a
schema and rewritten to JSON Schema (`dict` -> object, `float`/`double` -> number, `int` ->
integer, `bool` -> boolean, `str` -> string, `list`/`tuple` -> array, `any` -> no type
constraint; case-insensitive). Missing or empty `parameters` is an empty object schema. An
optional `response` / `output_schema` / `returns` is the output schema (at most one of them),
else `{"type": "object"}`.

Toolkit: the caller's `toolkit`, else the file stem normalised (`names.normalize_toolkit`).
Names: `names.openai_safe_name` (`weather.get_forecast` -> `weather__get_forecast`);
`original_name` keeps the source name.
"""

from __future__ import annotations

from typing import Any

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import openai_safe_name
from funcdex_assets.catalog.schema_check import (
    require_entry,
    require_name,
    JSON_SCHEMA_TYPES,
    SchemaChecker,
    checked_tool,
    json_kind,
    map_subschemas,
)

SOURCE_FORMAT = "openai"
OUTPUT_KEYS = ("response", "output_schema", "returns")

TYPE_ALIASES: dict[str, str | None] = {
    "dict": "object",
    "float": "number",
    "double": "number",
    "int": "integer",
    "bool": "boolean",
    "str": "string",
    "list": "array",
    "tuple": "array",
    "any": None,
}


def is_openai_entry(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    return item.get("type") == "function" or "name" in item


def openai_items(data: Any) -> list[Any] | None:
    """The function list of an OpenAI-style file, or `None` when `data` is not one."""
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        return data["tools"]
    if isinstance(data, list):
        return data
    return None


def normalize_types(schema: Any) -> Any:
    """`schema` with benchmark type spellings rewritten; unknown spellings are left for the
    schema check to report."""

    def fix(sub: dict[str, Any], path: str) -> dict[str, Any]:
        if "type" not in sub:
            return sub
        declared = sub["type"]
        if isinstance(declared, list):
            mapped = [_canonical_type(name) for name in declared]
            if None in mapped:  # `any` in a union: the union allows anything
                return {key: val for key, val in sub.items() if key != "type"}
            return {**sub, "type": mapped}
        if not isinstance(declared, str):
            return sub
        canonical = _canonical_type(declared)
        if canonical is None:
            return {key: val for key, val in sub.items() if key != "type"}
        return {**sub, "type": canonical}

    return map_subschemas(schema, fix)


def _canonical_type(name: Any) -> Any:
    if not isinstance(name, str):
        return name
    lowered = name.strip().lower()
    if lowered in JSON_SCHEMA_TYPES:
        return lowered
    if lowered in TYPE_ALIASES:
        return TYPE_ALIASES[lowered]
    return name


def parse_openai(
    data: Any,
    *,
    file: str,
    toolkit: str,
    source: str,
    checker: SchemaChecker,
) -> list[Tool]:
    items = openai_items(data)
    if items is None:
        raise CatalogError(
            "an OpenAI tool file is a JSON list of functions or {\"tools\": [...]}, "
            f"got {json_kind(data)}",
            file=file,
            toolkit=toolkit,
        )
    return [
        _parse_item(item, index, file=file, toolkit=toolkit, source=source, checker=checker)
        for index, item in enumerate(items)
    ]


def _parse_item(
    item: Any, index: int, *, file: str, toolkit: str, source: str, checker: SchemaChecker
) -> Tool:
    fn = item
    if isinstance(item, dict) and isinstance(item.get("function"), dict):
        fn = item["function"]
    fn = require_entry(fn, f"entry {index}", "a function", file=file, toolkit=toolkit)
    original = require_name(fn.get("name"), f"entry {index}", "name", file=file, toolkit=toolkit)

    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, file=file, toolkit=toolkit, tool=original)

    if "description" not in fn:
        raise fail("missing 'description' (the model needs it to pick the tool)")
    parameters = fn.get("parameters")
    if parameters is None or parameters == {}:
        input_schema: Any = {"type": "object", "properties": {}}
    else:
        input_schema = normalize_types(parameters)

    present = [key for key in OUTPUT_KEYS if key in fn]
    if len(present) > 1:
        raise fail(f"both {present[0]!r} and {present[1]!r} give an output schema; keep one")
    if present:
        output_field = present[0]
        output_schema = normalize_types(fn[output_field])
    else:
        output_field = "output_schema"
        output_schema = {"type": "object"}

    return checked_tool(
        checker,
        file=file,
        toolkit=toolkit,
        name=openai_safe_name(original),
        original_name=original,
        description=fn["description"],
        description_field="description",
        input_schema=input_schema,
        input_field="parameters",
        output_schema=output_schema,
        output_field=output_field,
        source=source,
        source_format=SOURCE_FORMAT,
    )
