"""Walking JSON Schemas, checking them against their meta-schema, and building checked tools.

Every input and output schema of every tool goes through `SchemaChecker.problem`, which
returns a readable reason (with a dotted path such as `tool_input_parameters.to.type`) or
`None`; `checked_tool` turns a problem into a `CatalogError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from pydantic import ValidationError

from funcdex_assets.catalog.errors import TOOL_FIX, CatalogError
from funcdex_assets.catalog.models import TOOL_NAME_PATTERN, Tool
from funcdex_assets.catalog.names import is_valid_tool_name

JSON_SCHEMA_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")

# Keywords whose value is a schema.
_SCHEMA_KEYWORDS = (
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)
# Keywords whose value is a list of schemas (`items` too, in drafts before 2020-12).
_SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
# Keywords whose value maps names to schemas; `properties` members are shown by name alone.
_SCHEMA_MAP_KEYWORDS = (
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
)


def iter_subschemas(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """`(display path, subschema)` for `schema` and every schema nested in it (dicts only).

    Paths name properties by name (`address.city`), other positions by keyword
    (`tags.items`, `anyOf[1]`)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key, value in schema.items():
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            for name, member in value.items():
                sub = name if key == "properties" else f"{key}.{name}"
                yield from iter_subschemas(member, join_path(path, sub))
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            for index, member in enumerate(value):
                yield from iter_subschemas(member, f"{join_path(path, key)}[{index}]")
        elif key in _SCHEMA_KEYWORDS and isinstance(value, dict):
            yield from iter_subschemas(value, join_path(path, key))


def map_subschemas(
    schema: Any, transform: Callable[[dict[str, Any], str], dict[str, Any]], path: str = ""
) -> Any:
    """A copy of `schema` with `transform(subschema, path)` applied to every subschema,
    children first (the transform sees already transformed children)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            out[key] = {
                name: map_subschemas(
                    member,
                    transform,
                    join_path(path, name if key == "properties" else f"{key}.{name}"),
                )
                for name, member in value.items()
            }
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            out[key] = [
                map_subschemas(member, transform, f"{join_path(path, key)}[{index}]")
                for index, member in enumerate(value)
            ]
        elif key in _SCHEMA_KEYWORDS and isinstance(value, dict):
            out[key] = map_subschemas(value, transform, join_path(path, key))
        else:
            out[key] = value
    return transform(out, path)


def join_path(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def display_path(raw: Sequence[Any]) -> str:
    """A jsonschema error path inside a schema document (`properties, to, type`) as a
    display path (`to.type`), matching `iter_subschemas`."""
    parts: list[str] = []
    items = list(raw)
    i = 0
    in_schema = True
    while i < len(items):
        seg = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if in_schema and seg in _SCHEMA_MAP_KEYWORDS and nxt is not None:
            parts.append(str(nxt) if seg == "properties" else f"{seg}.{nxt}")
            i += 2
        elif in_schema and seg in _SCHEMA_LIST_KEYWORDS and isinstance(nxt, int):
            parts.append(f"{seg}[{nxt}]")
            i += 2
        elif in_schema and seg in _SCHEMA_KEYWORDS:
            parts.append(str(seg))
            i += 1
        elif isinstance(seg, int):
            if parts:
                parts[-1] += f"[{seg}]"
            else:
                parts.append(f"[{seg}]")
            in_schema = False
            i += 1
        else:
            parts.append(str(seg))
            in_schema = False
            i += 1
    return ".".join(parts)


class SchemaChecker:
    """Checks schemas against their meta-schema (the draft named by `$schema`, else 2020-12).

    Equivalent to `validator_for(schema, default=Draft202012Validator).check_schema(schema)`,
    but fast enough for a whole catalog: the meta-schemas validate subschemas structurally
    (every schema position is checked against the same meta-schema), so each subschema is
    checked on its own, with its nested subschemas replaced by `{}`, and a subschema whose
    shape was already found valid (same keywords and value kinds; see `_shape`) is not checked
    again. One checker per load; nothing is kept between loads."""

    def __init__(self) -> None:
        self._meta_validators: dict[type, Any] = {}
        self._valid_shapes: set[tuple[type, str]] = set()
        self._checked: dict[tuple[type, str], tuple[str, str] | None] = {}

    def problem(self, schema: Any, field: str) -> str | None:
        """Why `schema` (shown as `field`) is not a usable tool schema, or `None`.

        Usable: a JSON object whose top level is `"type": "object"`, whose every `type` is a
        JSON Schema type, and which is valid against its meta-schema."""
        if not isinstance(schema, dict):
            return f"{field}: must be a JSON Schema object, got {json_kind(schema)}"
        top_type = schema.get("type")
        if top_type != "object":
            got = "no 'type'" if top_type is None else f"'type': {top_type!r}"
            return (
                f"{field}: the top level must be an object schema ('type': 'object'), got {got}"
            )
        for path, sub in iter_subschemas(schema):
            if "type" not in sub:
                continue
            declared = sub["type"]
            names = declared if isinstance(declared, list) else [declared]
            for name in names:
                if not isinstance(name, str) or name not in JSON_SCHEMA_TYPES:
                    where = join_path(field, path, "type")
                    return (
                        f"{where}: {name!r} is not a JSON Schema type "
                        f"(one of {', '.join(JSON_SCHEMA_TYPES)})"
                    )
        found = self._meta_problem(schema)
        if found is None:
            return None
        path, message = found
        return f"{join_path(field, path)}: {message} (invalid JSON Schema)"

    def _meta_problem(self, schema: dict[str, Any]) -> tuple[str, str] | None:
        cls = validator_for(schema, default=Draft202012Validator)
        whole = _fingerprint(schema)
        if whole is not None and (cls, whole) in self._checked:
            return self._checked[(cls, whole)]
        meta = self._meta_validators.get(cls)
        if meta is None:
            meta_cls = validator_for(cls.META_SCHEMA, default=cls)
            meta = meta_cls(cls.META_SCHEMA, format_checker=meta_cls.FORMAT_CHECKER)
            self._meta_validators[cls] = meta
        found = None
        for path, sub in iter_subschemas(schema):
            shape = _fingerprint(_shallow(sub, canonical=True))
            if shape is not None and (cls, shape) in self._valid_shapes:
                continue
            error = best_match(meta.iter_errors(_shallow(sub, canonical=False)))
            if error is None:
                if shape is not None:
                    self._valid_shapes.add((cls, shape))
                continue
            # Report with the real values (the shallow copy shows `{}` placeholders).
            error = best_match(meta.iter_errors(sub)) or error
            found = join_path(path, display_path(error.absolute_path)), error.message
            break
        if whole is not None:
            self._checked[(cls, whole)] = found
        return found


def _shallow(schema: dict[str, Any], *, canonical: bool) -> dict[str, Any]:
    """`schema` with nested (dict) subschemas replaced by `{}`, which every draft accepts;
    they are checked on their own. Non-dict values in schema positions stay, so the
    meta-schema still reports them. Under `properties` a single `{}` stands for all dict
    members (their names are unconstrained).

    `canonical` also replaces what no meta-schema constrains beyond its kind, so that
    subschemas of the same shape share one check: description-like strings -> "", `default`
    and `const` -> null, `examples` -> [], an `enum` of distinct values -> distinct
    placeholders, property names (and the `required` names that refer to them) -> positional
    placeholders. Each replacement keeps validity under every draft's meta-schema."""
    out: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            # Property names are unconstrained, so one `{}` stands for all dict members.
            if canonical:
                renamed = {name: f"p{index}" for index, name in enumerate(value)}
            members = {}
            placeholder = False
            for name, member in value.items():
                shown = renamed[name] if canonical else name
                if not isinstance(member, dict):
                    members[shown] = member
                elif not placeholder:
                    members[shown] = {}
                    placeholder = True
            out[key] = members
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            out[key] = {
                name: ({} if isinstance(member, dict) else member) for name, member in value.items()
            }
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            out[key] = [{} if isinstance(member, dict) else member for member in value]
        elif key in _SCHEMA_KEYWORDS and isinstance(value, dict):
            out[key] = {}
        elif not canonical:
            out[key] = value
        elif key in ("description", "title", "$comment") and isinstance(value, str):
            out[key] = ""
        elif key in ("default", "const"):
            out[key] = None
        elif key == "examples" and isinstance(value, list):
            out[key] = []
        elif key == "enum" and isinstance(value, list) and _all_distinct(value):
            out[key] = [f"e{index}" for index in range(len(value))]
        else:
            out[key] = value
    required = out.get("required")
    if canonical and renamed and isinstance(required, list):
        out["required"] = [
            (renamed.get(name, "x:" + name) if isinstance(name, str) else name) for name in required
        ]
    return out


def _all_distinct(values: list[Any]) -> bool:
    seen = set()
    for value in values:
        key = _fingerprint(value)
        if key is None or key in seen:
            return False
        seen.add(key)
    return True


def _fingerprint(schema: Any) -> str | None:
    try:
        return json.dumps(schema, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def checked_tool(
    checker: SchemaChecker,
    *,
    file: str,
    toolkit: str,
    name: str,
    original_name: str,
    description: Any,
    description_field: str,
    input_schema: Any,
    input_field: str,
    output_schema: Any,
    output_field: str,
    source: str,
    source_format: str,
) -> Tool:
    """A `Tool` whose description is non-empty and whose schemas pass `SchemaChecker`;
    otherwise a `CatalogError` naming file, toolkit and (original) tool name."""

    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, file=file, toolkit=toolkit, tool=original_name)

    if not isinstance(description, str):
        raise fail(f"{description_field}: must be a string, got {json_kind(description)}")
    description = description.strip()
    if not description:
        raise fail(
            f"{description_field}: the description is empty (the model needs it to pick the tool)"
        )
    if not is_valid_tool_name(name):
        raise fail(
            f"model-facing name {name!r} does not match {TOOL_NAME_PATTERN.pattern} "
            "(it has no usable letters or digits)"
        )
    for schema, field in ((input_schema, input_field), (output_schema, output_field)):
        problem = checker.problem(schema, field)
        if problem is not None:
            raise fail(problem)
    try:
        return Tool(
            toolkit=toolkit,
            name=name,
            original_name=original_name,
            description=description,
            input_schema=input_schema,
            output_schema=output_schema,
            source=source,
            source_format=source_format,
        )
    except ValidationError as exc:  # defensive: the checks above should cover the model
        raise fail(f"not a valid tool: {exc.errors()[0]['msg']}") from exc


def require_entry(value: Any, where: str, what: str, *, file: str, toolkit: str | None) -> dict:
    """`value` as a tool entry (a JSON object), or a CatalogError saying where and what it is."""
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: {what} is a JSON object, got {json_kind(value)}",
                           file=file, toolkit=toolkit, fix=TOOL_FIX)
    return value


def require_name(value: Any, where: str, field: str, *, file: str, toolkit: str | None) -> str:
    """`value` as a non-empty name string, or a CatalogError naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {field!r} must be a non-empty string, got {json_kind(value)}",
                           file=file, toolkit=toolkit, fix=TOOL_FIX)
    return value
