"""Writing imported tools into the catalog as `<catalog>/<toolkit>.json`.

Whatever the source (an OpenAPI spec, an MCP `tools/list` result, an OpenAI / ToolBench /
Funcdex list), imported tools are written in the OpenAI format the loader already reads:
`[{"name", "description", "parameters", "response"}]`. `name` is the tool's original name
where the OpenAI name mapping turns it into the same model-facing name (OpenAPI, MCP and
OpenAI sources: `fs.read_file` is written as is and loads as `fs__read_file`), else the
model-facing name (Funcdex `GMAIL_SEND_EMAIL`, ToolBench `get_x_for_y`, whose own name
mappings the OpenAI format cannot express). Loading the file back gives the same tools
(`toolkit`, `name`, `original_name`, `description`, `input_schema`, `output_schema`; in the
second case `original_name` is the model-facing name); only `source` / `source_format` then
name the catalog file and its format, not the source it came from.

The write is atomic (a temporary file beside the target, checked by loading it back, then
linked or renamed into place), and an existing file is never replaced without `force`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.loader import load_tool_file
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import TOOLKIT_PATTERN, normalize_toolkit, openai_safe_name

CORE_FIELDS = ("toolkit", "name", "original_name", "description", "input_schema", "output_schema")


def written_name(tool: Tool) -> str:
    """The `name` a toolkit file gives `tool` (see the module docstring)."""
    return tool.original_name if openai_safe_name(tool.original_name) == tool.name else tool.name


def toolkit_document(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """The OpenAI-format entries of `tools`, in order."""
    return [
        {"name": written_name(tool), "description": tool.description, "parameters": tool.input_schema,
         "response": tool.output_schema}
        for tool in tools
    ]


def core(tool: Tool) -> dict[str, Any]:
    """What survives a write and a load: everything but `source` / `source_format`."""
    return tool.model_dump(include=set(CORE_FIELDS))


def expected_core(tool: Tool) -> dict[str, Any]:
    """`core` of `tool` as it loads back from a toolkit file."""
    return {**core(tool), "original_name": written_name(tool)}


def toolkit_path(catalog_dir: Path, toolkit: str) -> Path:
    if not TOOLKIT_PATTERN.fullmatch(toolkit):
        suggestion = normalize_toolkit(toolkit)
        raise CatalogError(
            f"toolkit {toolkit!r} does not match {TOOLKIT_PATTERN.pattern}",
            fix=f"Pass a lowercase toolkit name{f' such as {suggestion!r}' if suggestion else ''}.",
        )
    return Path(catalog_dir) / f"{toolkit}.json"


def writable_path(catalog_dir: Path, toolkit: str, *, force: bool = False) -> Path:
    """`<catalog_dir>/<toolkit>.json`, or CatalogError when it exists and not `force`."""
    target = toolkit_path(catalog_dir, toolkit)
    if target.exists() and not force:
        raise _exists(target, toolkit)
    return target


def write_toolkit(tools: Sequence[Tool], catalog_dir: Path, toolkit: str, *, force: bool = False) -> Path:
    """Write `tools` (all of `toolkit`) to `<catalog_dir>/<toolkit>.json` and return the path.

    Refuses (CatalogError) to replace an existing file unless `force`; the file is complete or
    absent, never half written; it is loaded back before it lands, and must give `tools`."""
    target = writable_path(catalog_dir, toolkit, force=force)
    if not tools:
        raise CatalogError("no tools to write", file=str(target), toolkit=toolkit,
                           fix="Import a source that defines tools.")
    others = sorted({tool.toolkit for tool in tools} - {toolkit})
    if others:
        raise CatalogError(f"the tools belong to toolkit(s) {others}, not {toolkit!r}", file=str(target),
                           toolkit=toolkit, fix="Write each toolkit to its own file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(toolkit_document(tools), indent=2, ensure_ascii=False) + "\n"
    handle, temp_name = tempfile.mkstemp(prefix=f".{toolkit}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it private; a catalog file is not
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        _check_round_trip(temp, toolkit, tools, target)
        if force:
            os.replace(temp, target)
        else:
            try:
                os.link(temp, target)  # atomic, and fails if the target appeared meanwhile
            except FileExistsError:
                raise _exists(target, toolkit) from None
    finally:
        temp.unlink(missing_ok=True)
    return target


def _check_round_trip(temp: Path, toolkit: str, tools: Sequence[Tool], target: Path) -> None:
    try:
        loaded = load_tool_file(temp, toolkit=toolkit)
    except CatalogError as exc:
        raise CatalogError(f"the written file does not load back: {exc.reason}", file=str(target),
                           toolkit=toolkit, tool=exc.tool,
                           fix="This is a bug in the importer; please report it with the source file.") from None
    if [core(tool) for tool in loaded] != [expected_core(tool) for tool in tools]:
        raise CatalogError("the written file loads back as different tools", file=str(target), toolkit=toolkit,
                           fix="This is a bug in the importer; please report it with the source file.")


def _exists(target: Path, toolkit: str) -> CatalogError:
    return CatalogError(
        "the toolkit file already exists",
        file=str(target),
        toolkit=toolkit,
        fix="Pass --force to replace it, or choose another --toolkit name.",
    )
