"""Loading tool files of any supported format, and the catalog directory with its bundles.

* `detect_format(data)`: `"funcdex"`, `"openai"`, `"toolbench"` or `"mcp"` for parsed JSON.
* `load_tool_file(path, toolkit=None)`: the file's tools, checked, in file order.
* `parse_tool_data(data, file=..., toolkit=None)`: the same for data already parsed (the
  import commands read YAML too).
* `load_catalog(directory)`: every `*.json` file of the directory (non-recursive, sorted by
  name) is one toolkit named by its file stem, in any format; `bundles.yaml` beside them
  says which toolkits are synthesised alone or together.

Everything wrong raises `CatalogError` naming file, toolkit, tool and the fix; nothing is
dropped silently and nothing is cached between calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funcdex_assets.catalog.bundles import load_bundles
from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.funcdex_format import is_funcdex_entry, parse_funcdex
from funcdex_assets.catalog.mcp_format import is_jsonrpc_envelope, is_mcp_entry, mcp_result, parse_mcp
from funcdex_assets.catalog.models import Bundle, Tool
from funcdex_assets.catalog.names import TOOLKIT_PATTERN, normalize_toolkit
from funcdex_assets.catalog.openai_format import is_openai_entry, parse_openai
from funcdex_assets.catalog.schema_check import SchemaChecker, json_kind
from funcdex_assets.catalog.toolbench_format import is_toolbench_entry, parse_toolbench

FORMATS = ("funcdex", "openai", "toolbench", "mcp")
BUNDLES_FILE = "bundles.yaml"

_SHAPES = (
    "Funcdex: a list of {toolkit_name, tool_id, tool_description, tool_input_parameters, "
    "tool_response_parameters}; OpenAI: a list of {name, description, parameters} or "
    "{type: function, function: {...}}, or {tools: [...]}; ToolBench: {tool_name, api_list} "
    "or a list of them; MCP: a tools/list result {tools: [{name, description, inputSchema}]} "
    "or its JSON-RPC response"
)


def detect_format(data: Any) -> str:
    """The format of a parsed tool file: `"funcdex"`, `"openai"`, `"toolbench"` or `"mcp"`.

    Decided by the entries' keys (an entry with `inputSchema` is MCP); entries of two formats
    in one file, or none recognised, is a `CatalogError` (without `file`: `load_tool_file`
    adds it)."""
    if is_jsonrpc_envelope(data):
        result = mcp_result(data)
        if not (isinstance(result, dict) and isinstance(result.get("tools"), list)):
            raise CatalogError(
                "a JSON-RPC response whose result has no 'tools' list (expected a tools/list result)"
            )
        data = result
    if isinstance(data, dict):
        if is_toolbench_entry(data):
            return "toolbench"
        if isinstance(data.get("tools"), list):
            items = data["tools"]
            if not items:
                raise CatalogError("the 'tools' list is empty", fix="Add tools or remove the file.")
            mcp = [index for index, item in enumerate(items) if is_mcp_entry(item)]
            if mcp and len(mcp) != len(items):
                other = next(index for index in range(len(items)) if index not in mcp)
                raise CatalogError(
                    f"the file mixes formats: mcp (entry {mcp[0]}), openai (entry {other})",
                    fix="Keep one format per file.",
                )
            return "mcp" if mcp else "openai"
        raise CatalogError(
            f"unrecognised tool file (an object with keys {sorted(map(str, data))[:8]}); "
            f"expected {_SHAPES}"
        )
    if not isinstance(data, list):
        raise CatalogError(f"unrecognised tool file ({json_kind(data)}); expected {_SHAPES}")
    if not data:
        raise CatalogError("the file lists no tools", fix="Add tools or remove the file.")
    kinds: dict[str, int] = {}
    for index, item in enumerate(data):
        kind = _entry_kind(item)
        if kind is not None:
            kinds.setdefault(kind, index)
    if len(kinds) > 1:
        described = ", ".join(f"{kind} (entry {index})" for kind, index in kinds.items())
        raise CatalogError(
            f"the file mixes formats: {described}",
            fix="Keep one format per file.",
        )
    if not kinds:
        raise CatalogError(
            f"unrecognised tool file: no entry looks like a tool; expected {_SHAPES}"
        )
    return next(iter(kinds))


def _entry_kind(item: Any) -> str | None:
    if is_mcp_entry(item):
        return "mcp"
    if is_funcdex_entry(item):
        return "funcdex"
    if is_toolbench_entry(item):
        return "toolbench"
    if is_openai_entry(item):
        return "openai"
    return None


def load_tool_file(path: Path, toolkit: str | None = None) -> list[Tool]:
    """The tools of one file, in file order.

    `toolkit`: for Funcdex files, every `toolkit_name` must equal it (without it, entries
    name their own toolkits, so one file may hold several); for OpenAI files it is the
    toolkit (default: the normalised file stem); for ToolBench files it replaces the
    normalised `tool_name`."""
    return _load_tool_file(Path(path), toolkit, SchemaChecker())


def _load_tool_file(path: Path, toolkit: str | None, checker: SchemaChecker) -> list[Tool]:
    _check_toolkit(toolkit, str(path))
    return _parse(_read_json(path), path, toolkit, checker)


def parse_tool_data(data: Any, *, file: Path, toolkit: str | None = None) -> list[Tool]:
    """`load_tool_file` for data already parsed from `file` (JSON or YAML); `file` names the
    source in errors and gives the default toolkit (its stem) for OpenAI and MCP lists."""
    _check_toolkit(toolkit, str(file))
    return _parse(data, Path(file), toolkit, SchemaChecker())


def _check_toolkit(toolkit: str | None, file: str) -> None:
    if toolkit is not None and not TOOLKIT_PATTERN.fullmatch(toolkit):
        raise CatalogError(
            f"toolkit {toolkit!r} does not match {TOOLKIT_PATTERN.pattern}",
            file=file,
            fix="Pass a lowercase toolkit name.",
        )


def _parse(data: Any, path: Path, toolkit: str | None, checker: SchemaChecker) -> list[Tool]:
    file = str(path)
    try:
        fmt = detect_format(data)
    except CatalogError as exc:
        raise exc.with_context(file=file, toolkit=toolkit) from None
    source = path.name
    if fmt == "funcdex":
        tools = parse_funcdex(data, file=file, toolkit=toolkit, source=source, checker=checker)
    elif fmt == "toolbench":
        tools = parse_toolbench(data, file=file, toolkit=toolkit, source=source, checker=checker)
    else:
        kit = toolkit if toolkit is not None else normalize_toolkit(path.stem)
        if not kit:
            raise CatalogError(
                f"the file stem {path.stem!r} gives no toolkit name",
                file=file,
                fix="Rename the file or pass toolkit=.",
            )
        parse = parse_mcp if fmt == "mcp" else parse_openai
        tools = parse(data, file=file, toolkit=kit, source=source, checker=checker)
    _check_unique(tools, file)
    return tools


def _read_json(path: Path) -> Any:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM
    except FileNotFoundError:
        raise CatalogError("the file does not exist", file=file, fix="Check the path.") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file
        ) from None
    except OSError as exc:
        raise CatalogError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=file,
        ) from None


def _check_unique(tools: Iterable[Tool], file: str) -> None:
    by_name: dict[tuple[str, str], Tool] = {}
    by_original: dict[tuple[str, str], Tool] = {}
    for tool in tools:
        other = by_original.get((tool.toolkit, tool.original_name))
        if other is not None:
            reason = "the tool is defined twice in the toolkit"
            if other.name != tool.name:
                reason += f" (as {other.name!r} and {tool.name!r})"
            raise CatalogError(
                reason,
                file=file,
                toolkit=tool.toolkit,
                tool=tool.original_name,
                fix="Remove or rename one of the two definitions.",
            )
        other = by_name.get((tool.toolkit, tool.name))
        if other is not None:
            raise CatalogError(
                f"its model-facing name {tool.name!r} collides with tool "
                f"{other.original_name!r} of the same toolkit",
                file=file,
                toolkit=tool.toolkit,
                tool=tool.original_name,
                fix="Rename one of the two tools.",
            )
        by_original[(tool.toolkit, tool.original_name)] = tool
        by_name[(tool.toolkit, tool.name)] = tool


@dataclass(frozen=True)
class Catalog:
    """All tools of a catalog directory and its bundles."""

    tools: tuple[Tool, ...]  # sorted by (toolkit, name)
    bundles: tuple[Bundle, ...]  # in bundles.yaml order

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "tools", tuple(sorted(self.tools, key=lambda tool: (tool.toolkit, tool.name)))
        )
        object.__setattr__(self, "bundles", tuple(self.bundles))

    def toolkits(self) -> tuple[str, ...]:
        """The toolkits that have tools, sorted."""
        return tuple(sorted({tool.toolkit for tool in self.tools}))

    def bundle(self, name: str) -> Bundle:
        for bundle in self.bundles:
            if bundle.name == name:
                return bundle
        known = ", ".join(bundle.name for bundle in self.bundles) or "(none)"
        raise CatalogError(
            f"unknown bundle; known bundles: {known}",
            bundle=name,
            fix=f"Use one of the known bundles or add it to {BUNDLES_FILE}.",
        )

    def bundle_tools(self, name: str) -> tuple[Tool, ...]:
        """The tools of the bundle's toolkits, sorted by model-facing name."""
        bundle = self.bundle(name)
        wanted = set(bundle.toolkits)
        owners: dict[str, Tool] = {}
        for tool in self.tools:
            if tool.toolkit not in wanted:
                continue
            other = owners.get(tool.name)
            if other is not None:
                raise CatalogError(
                    f"toolkits {other.toolkit!r} and {tool.toolkit!r} both have a tool named "
                    f"{tool.name!r}, so a model could not tell them apart",
                    bundle=name,
                    fix="Rename one of the tools or do not bundle these toolkits together.",
                )
            owners[tool.name] = tool
        return tuple(sorted(owners.values(), key=lambda tool: tool.name))

    def tool_by_original(self, toolkit: str, original_name: str) -> Tool:
        """The tool a source file calls `original_name` (the reverse of the name mapping)."""
        candidates = [tool for tool in self.tools if tool.toolkit == toolkit]
        if not candidates:
            raise CatalogError(
                f"unknown toolkit; known toolkits: {', '.join(self.toolkits()) or '(none)'}",
                toolkit=toolkit,
                fix="Use one of the known toolkits.",
            )
        for tool in candidates:
            if tool.original_name == original_name:
                return tool
        raise CatalogError(
            "no tool has this original name; the toolkit's tools are "
            + ", ".join(sorted(tool.original_name for tool in candidates)),
            toolkit=toolkit,
            tool=original_name,
            fix="Use the name as written in the tool file.",
        )


def load_catalog(directory: Path) -> Catalog:
    """Every `*.json` file in `directory` (one toolkit each, named by the file stem) plus
    `directory/bundles.yaml`; each bundle is checked for tool-name clashes."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CatalogError(
            "the catalog directory does not exist",
            file=str(directory),
            fix="Point at the folder holding the toolkit *.json files and bundles.yaml.",
        )
    files = sorted(
        (path for path in directory.glob("*.json") if path.is_file()), key=lambda p: p.name
    )
    if not files:
        raise CatalogError(
            "the catalog directory has no *.json tool files",
            file=str(directory),
            fix="Add one <toolkit>.json file per toolkit.",
        )
    checker = SchemaChecker()
    owners: dict[str, Path] = {}
    tools: list[Tool] = []
    for path in files:
        toolkit = path.stem
        if not TOOLKIT_PATTERN.fullmatch(toolkit):
            suggestion = normalize_toolkit(toolkit)
            raise CatalogError(
                f"a catalog file is named <toolkit>.json and {toolkit!r} does not match "
                f"{TOOLKIT_PATTERN.pattern}",
                file=str(path),
                fix=f"Rename the file{f' to {suggestion}.json' if suggestion else ''}.",
            )
        for tool in _load_tool_file(path, toolkit, checker):
            first = owners.setdefault(tool.toolkit, path)
            if first != path:
                raise CatalogError(
                    f"the toolkit is also defined in {first}",
                    file=str(path),
                    toolkit=tool.toolkit,
                    fix="Keep each toolkit in one file.",
                )
            tools.append(tool)
    bundles_path = directory / BUNDLES_FILE
    bundles = load_bundles(bundles_path, sorted(owners))
    catalog = Catalog(tools=tuple(tools), bundles=bundles)
    for bundle in bundles:
        try:
            catalog.bundle_tools(bundle.name)
        except CatalogError as exc:
            raise exc.with_context(file=str(bundles_path)) from None
    return catalog


__all__ = [
    "BUNDLES_FILE",
    "FORMATS",
    "Catalog",
    "CatalogError",
    "detect_format",
    "load_catalog",
    "load_tool_file",
    "parse_tool_data",
]
