"""`bundles.yaml`: which toolkits are synthesised alone and which together.

```yaml
toolkits: [gmail, googlecalendar]          # one single-toolkit bundle per toolkit, same name
bundles:
  gmail_googlecalendar: [gmail, googlecalendar]
```

Each bundle is one Dagster partition, so its name must match `^[a-z0-9][a-z0-9_-]*$`. Bundles
come out in file order. Unknown toolkits, duplicate bundle names (also duplicate YAML keys,
which PyYAML would otherwise silently collapse), empty bundles, a toolkit listed twice in a
bundle and unknown top-level keys are `CatalogError`s naming the file and the bundle.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Bundle
from funcdex_assets.catalog.names import TOOLKIT_PATTERN, normalize_toolkit
from funcdex_assets.catalog.schema_check import json_kind

TOP_LEVEL_KEYS = ("toolkits", "bundles")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""


class _DuplicateKey(yaml.constructor.ConstructorError):
    def __init__(self, key: Any, first_line: int, mark: Any) -> None:
        super().__init__(None, None, f"duplicate key {key!r} (first at line {first_line})", mark)
        self.key = key
        self.first_line = first_line


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            duplicate = False
        if duplicate:
            raise _DuplicateKey(key, seen[key].line + 1, key_node.start_mark)
        try:
            seen[key] = key_node.start_mark
        except TypeError:
            pass
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_bundles(path: Path, known_toolkits: Collection[str]) -> tuple[Bundle, ...]:
    """The bundles of `path`, in file order; every toolkit must be in `known_toolkits`."""
    file = str(path)
    known = sorted(set(known_toolkits))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(
            "the bundles file does not exist",
            file=file,
            fix="Create it with 'toolkits: [...]' and/or 'bundles: {name: [toolkit, ...]}'.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read the file: {exc}", file=file) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        line = exc.problem_mark.line + 1
        if isinstance(exc.key, str) and exc.key not in TOP_LEVEL_KEYS:
            raise CatalogError(
                f"the bundle name is defined twice (lines {exc.first_line} and {line})",
                file=file,
                bundle=exc.key,
                fix="Remove or rename one of the two.",
            ) from None
        raise CatalogError(
            f"the key {exc.key!r} appears twice (lines {exc.first_line} and {line})",
            file=file,
            fix="Merge the two into one.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"not valid YAML{where}: {problem}", file=file) from None

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(
            "the top level must be a mapping with 'toolkits' and/or 'bundles', "
            f"got {json_kind(data)}",
            file=file,
        )
    unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
    if unknown:
        raise CatalogError(
            f"unknown top-level key(s) {', '.join(repr(key) for key in unknown)}; "
            f"expected {' and '.join(TOP_LEVEL_KEYS)}",
            file=file,
        )

    bundles: list[Bundle] = []
    seen: set[str] = set()

    def add(name: Any, toolkits: Any, where: str) -> None:
        # `where` prefixes reasons about entries of the `toolkits:` list; a `bundles:` entry is
        # already named by the error's bundle.
        where = f"{where}: " if where else ""
        if toolkits is None:
            toolkits = []
        if not isinstance(name, str):
            raise CatalogError(
                f"{where}the bundle name {name!r} is {json_kind(name)}, not a string",
                file=file,
                fix="Quote the name in the YAML file.",
            )
        if not TOOLKIT_PATTERN.fullmatch(name):
            suggestion = normalize_toolkit(name)
            hint = f" (e.g. {suggestion!r})" if suggestion else ""
            raise CatalogError(
                f"{where}invalid bundle name; it becomes a Dagster partition key and must "
                f"match {TOOLKIT_PATTERN.pattern}",
                file=file,
                bundle=name,
                fix=f"Rename the bundle{hint}.",
            )
        if name in seen:
            raise CatalogError(
                f"{where}the bundle name is defined twice",
                file=file,
                bundle=name,
                fix="Remove or rename one of the two.",
            )
        if not isinstance(toolkits, list):
            raise CatalogError(
                f"{where}a bundle is a list of toolkit names, got {json_kind(toolkits)}",
                file=file,
                bundle=name,
            )
        if not toolkits:
            raise CatalogError(
                f"{where}the bundle is empty",
                file=file,
                bundle=name,
                fix="List at least one toolkit or remove the bundle.",
            )
        listed: list[str] = []
        for toolkit in toolkits:
            if not isinstance(toolkit, str):
                raise CatalogError(
                    f"{where}toolkit {toolkit!r} is {json_kind(toolkit)}, not a name",
                    file=file,
                    bundle=name,
                )
            if toolkit not in known:
                raise CatalogError(
                    f"{where}unknown toolkit {toolkit!r}; known toolkits: "
                    f"{', '.join(known) if known else '(none)'}",
                    file=file,
                    bundle=name,
                    fix="Fix the toolkit name or add a tool file for it to the catalog.",
                )
            if toolkit in listed:
                raise CatalogError(
                    f"{where}toolkit {toolkit!r} is listed twice",
                    file=file,
                    bundle=name,
                    fix="List each toolkit once.",
                )
            listed.append(toolkit)
        seen.add(name)
        bundles.append(Bundle(name=name, toolkits=tuple(listed)))

    for key, value in data.items():
        if key == "toolkits":
            if value is None:
                continue
            if not isinstance(value, list):
                raise CatalogError(
                    f"'toolkits' must be a list of toolkit names, got {json_kind(value)}",
                    file=file,
                )
            for index, toolkit in enumerate(value):
                if isinstance(toolkit, str) and toolkit not in known:
                    raise CatalogError(
                        f"toolkits[{index}]: unknown toolkit {toolkit!r}; known toolkits: "
                        f"{', '.join(known) if known else '(none)'}",
                        file=file,
                        bundle=toolkit,
                        fix="Fix the toolkit name or add a tool file for it to the catalog.",
                    )
                add(toolkit, [toolkit], f"toolkits[{index}]")
        else:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise CatalogError(
                    "'bundles' must be a mapping of bundle name to toolkit list, "
                    f"got {json_kind(value)}",
                    file=file,
                )
            for name, toolkits in value.items():
                add(name, toolkits, "")

    if not bundles:
        raise CatalogError(
            "the file defines no bundles",
            file=file,
            fix="List toolkits under 'toolkits:' or bundles under 'bundles:'.",
        )
    return tuple(bundles)
