"""MCP server tool lists (`source_format="mcp"`): the result of a `tools/list` request.

Accepted shapes: the result `{"tools": [...]}`, the whole JSON-RPC response
`{"jsonrpc": "2.0", "id": ..., "result": {"tools": [...]}}`, or a bare list of tools. Each tool
is `{"name", "title"?, "description"?, "inputSchema", "outputSchema"?, "annotations"?}`
(MCP 2025-06-18).

* Toolkit: the caller's `toolkit`, else the file stem normalised.
* Name: `names.openai_safe_name` (MCP allows `.`, which becomes `__`); `original_name` is the
  MCP name.
* Description: `description`, else `title`, else `annotations.title`; none is an error (the
  model needs it to pick the tool).
* Input schema: `inputSchema` as is (MCP requires an object schema); output schema:
  `outputSchema` when given, else `{"type": "object"}`.
* `annotations` (readOnlyHint, destructiveHint, ...) and `_meta` have no place in the model
  and are not kept. A `nextCursor` means the server paginated: only this page is in the file
  (`funcdex catalog import-tools` warns).
"""

from __future__ import annotations

from typing import Any

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import openai_safe_name
from funcdex_assets.catalog.schema_check import (
    SchemaChecker,
    checked_tool,
    json_kind,
    require_entry,
    require_name,
)

SOURCE_FORMAT = "mcp"


def is_mcp_entry(item: Any) -> bool:
    return isinstance(item, dict) and "inputSchema" in item and "name" in item


def is_jsonrpc_envelope(data: Any) -> bool:
    return isinstance(data, dict) and data.get("jsonrpc") == "2.0" and ("result" in data or "error" in data)


def mcp_result(data: Any) -> Any:
    """The `tools/list` result inside a JSON-RPC response (or `data` itself)."""
    if not is_jsonrpc_envelope(data):
        return data
    if "error" in data:
        error = data["error"] if isinstance(data["error"], dict) else {}
        raise CatalogError(
            f"the file is a JSON-RPC error response (code {error.get('code')!r}: {error.get('message')!r}), "
            "not a tools/list result",
            fix="Save the result of a successful tools/list request.",
        )
    return data["result"]


def mcp_items(data: Any) -> list[Any] | None:
    """The tool list of an MCP file, or None when `data` is not shaped like one."""
    data = mcp_result(data)
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        return data["tools"]
    if isinstance(data, list):
        return data
    return None


def next_cursor(data: Any) -> str | None:
    """The `nextCursor` of a paginated `tools/list` result, if any."""
    try:
        data = mcp_result(data)
    except CatalogError:
        return None
    cursor = data.get("nextCursor") if isinstance(data, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None


def parse_mcp(data: Any, *, file: str, toolkit: str, source: str, checker: SchemaChecker) -> list[Tool]:
    try:
        items = mcp_items(data)
    except CatalogError as exc:
        raise exc.with_context(file=file, toolkit=toolkit) from None
    if items is None:
        raise CatalogError(
            f"an MCP tool file is a tools/list result {{\"tools\": [...]}} (or its JSON-RPC response), "
            f"got {json_kind(data)}",
            file=file,
            toolkit=toolkit,
        )
    return [_parse_item(item, index, file=file, toolkit=toolkit, source=source, checker=checker)
            for index, item in enumerate(items)]


def _parse_item(item: Any, index: int, *, file: str, toolkit: str, source: str, checker: SchemaChecker) -> Tool:
    entry = require_entry(item, f"tools[{index}]", "an MCP tool", file=file, toolkit=toolkit)
    original = require_name(entry.get("name"), f"tools[{index}]", "name", file=file, toolkit=toolkit)
    annotations = entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}
    description: Any = ""
    field = "description"
    for key, value in (("description", entry.get("description")), ("title", entry.get("title")),
                       ("annotations.title", annotations.get("title"))):
        if isinstance(value, str) and value.strip():
            description, field = value, key
            break
    else:
        if "description" in entry:
            description = entry["description"]
    if "inputSchema" not in entry:
        raise CatalogError("missing 'inputSchema'", file=file, toolkit=toolkit, tool=original)
    output = entry.get("outputSchema")
    return checked_tool(
        checker,
        file=file,
        toolkit=toolkit,
        name=openai_safe_name(original),
        original_name=original,
        description=description,
        description_field=field,
        input_schema=entry["inputSchema"],
        input_field="inputSchema",
        output_schema=output if output is not None else {"type": "object"},
        output_field="outputSchema",
        source=source,
        source_format=SOURCE_FORMAT,
    )
