"""Funcdex / Composio tool definitions (`source_format="funcdex"`).

A JSON list of
`{toolkit_name, tool_id, tool_description, tool_input_parameters, tool_response_parameters}`.
The two parameter fields are JSON-encoded strings (Funcdex's own files) or JSON objects (our
shipped files), each mapping `param -> JSON-Schema fragment` with a draft-3 style boolean
`required` flag. They become `{"type": "object", "properties": ..., "required": [...]}`; nested
`properties` are lifted the same way and the booleans dropped; `required` is left out when
empty. A parameter field that already is an object schema (`"type": "object"` at its top, which
a parameter map cannot have: its values are schemas, not strings) is taken as one and lifted
the same way.

Model-facing name: `f"{TOOLKIT}_{tool_id}"` (see `names.funcdex_name`); `original_name` is
`tool_id`.
"""

from __future__ import annotations

import json
from typing import Any

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import TOOLKIT_PATTERN, funcdex_name, normalize_toolkit
from funcdex_assets.catalog.schema_check import (
    require_entry,
    require_name,
    SchemaChecker,
    checked_tool,
    join_path,
    json_kind,
    map_subschemas,
)

SOURCE_FORMAT = "funcdex"
FIELDS = (
    "toolkit_name",
    "tool_id",
    "tool_description",
    "tool_input_parameters",
    "tool_response_parameters",
)


def is_funcdex_entry(item: Any) -> bool:
    return isinstance(item, dict) and "tool_id" in item and "toolkit_name" in item


def parse_funcdex(
    data: Any,
    *,
    file: str,
    toolkit: str | None,
    source: str,
    checker: SchemaChecker,
) -> list[Tool]:
    """Tools from a Funcdex list. With `toolkit`, every entry's `toolkit_name` must be it
    (a catalog file's stem names its toolkit); without, entries name their own toolkits."""
    if not isinstance(data, list):
        raise CatalogError(
            f"a Funcdex tool file is a JSON list of tools, got {json_kind(data)}", file=file
        )
    return [
        _parse_entry(entry, index, file=file, toolkit=toolkit, source=source, checker=checker)
        for index, entry in enumerate(data)
    ]


def _parse_entry(
    entry: Any,
    index: int,
    *,
    file: str,
    toolkit: str | None,
    source: str,
    checker: SchemaChecker,
) -> Tool:
    entry = require_entry(entry, f"entry {index}", "a Funcdex tool", file=file, toolkit=toolkit)
    tool_id = require_name(entry.get("tool_id"), f"entry {index}", "tool_id", file=file, toolkit=toolkit)
    kit = entry.get("toolkit_name")
    if not isinstance(kit, str) or not TOOLKIT_PATTERN.fullmatch(kit):
        suggestion = normalize_toolkit(kit) if isinstance(kit, str) else ""
        hint = f"; use {suggestion!r}" if suggestion else ""
        raise CatalogError(
            f"toolkit_name {kit!r} is not a toolkit name matching {TOOLKIT_PATTERN.pattern}{hint}",
            file=file,
            toolkit=toolkit,
            tool=tool_id,
        )
    if toolkit is not None and kit != toolkit:
        raise CatalogError(
            f"toolkit_name {kit!r} differs from the file's toolkit {toolkit!r} "
            "(in a catalog directory the file stem names the toolkit)",
            file=file,
            toolkit=toolkit,
            tool=tool_id,
            fix=f"Set toolkit_name to {toolkit!r} or move the tool to {kit}.json.",
        )
    missing = [field for field in FIELDS if field not in entry]
    if missing:
        raise CatalogError(
            f"missing field(s) {', '.join(missing)}", file=file, toolkit=kit, tool=tool_id
        )

    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, file=file, toolkit=kit, tool=tool_id)

    input_schema = to_object_schema(entry["tool_input_parameters"], "tool_input_parameters", fail)
    output_schema = to_object_schema(
        entry["tool_response_parameters"], "tool_response_parameters", fail
    )
    return checked_tool(
        checker,
        file=file,
        toolkit=kit,
        name=funcdex_name(kit, tool_id),
        original_name=tool_id,
        description=entry["tool_description"],
        description_field="tool_description",
        input_schema=input_schema,
        input_field="tool_input_parameters",
        output_schema=output_schema,
        output_field="tool_response_parameters",
        source=source,
        source_format=SOURCE_FORMAT,
    )


def to_object_schema(value: Any, field: str, fail: Any) -> dict[str, Any]:
    """A Funcdex parameter field (JSON string or object) as an object JSON Schema."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail(
                f"{field}: the JSON-encoded string is not valid JSON "
                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
    if not isinstance(value, dict):
        raise fail(
            f"{field}: must be an object of parameters (or a JSON string of one), "
            f"got {json_kind(value)}"
        )
    if value.get("type") == "object":
        schema = value
    else:
        for name, fragment in value.items():
            if not isinstance(fragment, dict):
                raise fail(
                    f"{join_path(field, name)}: must be a JSON Schema object, "
                    f"got {json_kind(fragment)}"
                )
        schema = {"type": "object", "properties": value}
    return lift_required(schema, field, fail)


_PENDING = "\x00required"


def lift_required(schema: dict[str, Any], field: str, fail: Any) -> dict[str, Any]:
    """Draft-3 boolean `required` flags on properties -> `required` lists on their objects.

    Two passes: the first collects each object's required members (a member keeps its own
    flag, which its parent reads), the second drops the flags and writes the lists."""

    def collect(sub: dict[str, Any], path: str) -> dict[str, Any]:
        properties = sub.get("properties")
        if not isinstance(properties, dict):
            return sub
        required = list(sub["required"]) if isinstance(sub.get("required"), list) else []
        for name, member in properties.items():
            if not isinstance(member, dict) or "required" not in member:
                continue
            flag = member["required"]
            if isinstance(flag, bool):
                if flag and name not in required:
                    required.append(name)
            elif not isinstance(flag, list):
                raise fail(
                    f"{join_path(field, path, name, 'required')}: must be true or false, "
                    f"got {flag!r}"
                )
        return {**sub, _PENDING: required}

    def finish(sub: dict[str, Any], path: str) -> dict[str, Any]:
        # Boolean flags are dropped everywhere, also outside `properties` (an `items` schema,
        # the top), where draft 3 gave them no meaning a list could express.
        pending = sub.get(_PENDING)
        flag = sub.get("required")
        if pending is None and not isinstance(flag, bool):
            return sub
        out = {key: val for key, val in sub.items() if key not in (_PENDING, "required")}
        if pending is None and isinstance(flag, list):
            pending = flag
        if pending:
            out["required"] = pending
        return out

    return map_subschemas(map_subschemas(schema, collect), finish)
