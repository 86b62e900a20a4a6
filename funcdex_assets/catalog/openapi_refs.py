"""OpenAPI / Swagger schema objects -> self-contained JSON Schema (Draft 2020-12).

Used by `catalog/openapi.py`. What it does to a schema object:

* every local `$ref` (`#/components/...`, `#/definitions/...`, any JSON pointer into the spec)
  is inlined, so a tool schema is self-contained (models and the offline backend read no
  `$ref`); keywords beside a `$ref` (a `description`, `nullable`) are kept over the target;
* a schema that refers back into itself is expanded `max_depth` times, then cut: the last copy
  becomes `{"type": <its type>, "description": "... (recursive <Name>, cut at depth N)"}` and
  a note is recorded;
* `allOf` is merged into one schema where merging keeps the meaning (properties united,
  `required` united, types intersected, bounds tightened), kept as `allOf` otherwise (noted);
  `oneOf` / `anyOf` / `not` are kept, their members converted;
* OpenAPI's dialect is rewritten: `nullable: true` (3.0) and `x-nullable: true` (Swagger 2)
  add `"null"` to the type (and to an `enum`), or wrap the schema in `anyOf [..., null]` when
  it has no type; boolean `exclusiveMinimum`/`exclusiveMaximum` (3.0) become the numeric
  2020-12 form; `example` becomes `examples: [example]` for scalar examples; Swagger's
  `type: file` becomes a binary string; `items` given as a list (invalid, seen in real specs)
  is read as its single member or `anyOf` of its members (noted); a `properties` member with
  a draft-3 boolean `required` is lifted into the parent's `required` (noted);
* `properties` without `type` gets `type: object`, `items` without `type` gets `type: array`
  (real specs often leave the type out; the intent is unambiguous);
* OpenAPI-only keywords (`discriminator`, `xml`, `externalDocs`, `x-*` extensions) and
  anything that is not a JSON Schema keyword are dropped;
* in request schemas (`direction="input"`) `readOnly` properties are dropped, in response
  schemas `writeOnly` ones (each noted).

Why a resolver of our own instead of `jsonschema`'s `referencing`: refs are inlined rather than
looked up lazily, recursion must be cut at a bounded depth with a note, every error must name
the JSON pointer of the problem in the spec, and the dialect rewrite above happens in the same
walk. Only local refs (`#...`) are supported; an external ref is an error whose fix says to
bundle the spec into one file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.schema_check import JSON_SCHEMA_TYPES, json_kind

DEFAULT_MAX_DEPTH = 3

# JSON Schema keywords copied as they are (their values are not schemas).
_PLAIN_KEYWORDS = (
    "title", "description", "default", "enum", "const", "format", "pattern",
    "multipleOf", "maximum", "minimum", "maxLength", "minLength", "maxItems", "minItems",
    "uniqueItems", "maxProperties", "minProperties", "dependentRequired", "deprecated",
    "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "$comment",
)
# Keywords whose value is one schema.
_SCHEMA_KEYWORDS = ("not", "propertyNames", "contains", "additionalItems", "if", "then", "else")
# Keywords whose value is a list of schemas.
_SCHEMA_LIST_KEYWORDS = ("oneOf", "anyOf", "prefixItems")
# Keywords whose value maps names to schemas.
_SCHEMA_MAP_KEYWORDS = ("patternProperties", "dependentSchemas")
# Annotations: a `$ref` sibling made only of these overrides the target's values.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated", "readOnly",
                          "writeOnly", "$comment"})
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")

Note = Callable[[str, str], None]


# ---------------------------------------------------------------------------------- pointers


def escape_token(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(base: str, *tokens: Any) -> str:
    """`pointer("#/paths", "/pets", "get")` -> `#/paths/~1pets/get`."""
    return base + "".join("/" + escape_token(token) for token in tokens)


def _unescape(token: str) -> str:
    return unquote(token).replace("~1", "/").replace("~0", "~")


class SpecDocument:
    """A parsed spec and the context its errors carry (file, toolkit)."""

    def __init__(self, data: Any, *, file: str | None, toolkit: str | None) -> None:
        self.data = data
        self.file = file
        self.toolkit = toolkit

    def error(self, at: str, reason: str, fix: str | None = None) -> CatalogError:
        """A `CatalogError` whose reason starts with the JSON pointer of the problem."""
        return CatalogError(f"{at}: {reason}", file=self.file, toolkit=self.toolkit,
                            fix=fix or "Fix the spec at that JSON pointer.")

    def resolve(self, ref: Any, at: str) -> tuple[Any, str]:
        """The value `ref` points at and its pointer; `at` is where the `$ref` stands."""
        if not isinstance(ref, str):
            raise self.error(at, f"'$ref' must be a string, got {json_kind(ref)}")
        if not ref.startswith("#"):
            raise self.error(
                at, f"external $ref {ref!r} is not supported (only refs inside the document)",
                fix="Bundle the spec into one file first (e.g. `redocly bundle` or "
                    "`swagger-cli bundle`), then import the bundled file.",
            )
        node = self.data
        if ref in ("#", "#/"):
            return node, "#"
        if not ref.startswith("#/"):
            raise self.error(at, f"$ref {ref!r} is not a JSON pointer (it must start with '#/')")
        walked = "#"
        for raw in ref[2:].split("/"):
            token = _unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise self.error(
                    at, f"$ref {ref!r} does not resolve: nothing named {token!r} under {walked}",
                    fix="Fix the $ref or add the missing definition.",
                )
            walked = pointer(walked, token)
        return node, walked

    def deref(self, node: Any, at: str) -> tuple[Any, str]:
        """`node` with `$ref` chains followed (parameters, responses, request bodies, path
        items), and the pointer of what was finally found."""
        seen: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            target, where = self.resolve(node["$ref"], pointer(at, "$ref"))
            if where in seen:
                raise self.error(at, f"$ref cycle: {' -> '.join(seen + [where])}")
            seen.append(where)
            node, at = target, where
        return node, at


# ---------------------------------------------------------------------------------- schemas


class SchemaConverter:
    """Converts schema objects of one spec; see the module docstring for the rules."""

    def __init__(self, doc: SpecDocument, *, note: Note, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        self.doc = doc
        self.note = note
        self.max_depth = max_depth
        # Ids of the dicts being converted since the last `$ref` followed: meeting one again
        # before another `$ref` means the document itself loops (a YAML alias cycle).
        self._open: list[set[int]] = [set()]

    def convert(self, schema: Any, at: str, *, direction: str) -> dict[str, Any]:
        """`schema` (found at pointer `at`) as self-contained JSON Schema.

        `direction` is `"input"` (request: readOnly properties dropped) or `"output"`
        (response: writeOnly properties dropped)."""
        return self._convert(schema, at, (), direction)

    # ------------------------------------------------------------------------------------
    def _convert(self, node: Any, at: str, stack: tuple[str, ...], direction: str) -> dict[str, Any]:
        if node is True:
            return {}
        if node is False:
            return {"not": {}}
        if not isinstance(node, dict):
            raise self.doc.error(at, f"a schema must be an object, got {json_kind(node)}")
        if id(node) in self._open[-1]:
            raise self.doc.error(at, "the schema contains itself (a YAML alias loop); use a $ref instead")
        self._open[-1].add(id(node))
        try:
            nullable = node.get("nullable") is True or node.get("x-nullable") is True
            if "$ref" in node:
                result = self._convert_ref(node, at, stack, direction)
            elif "allOf" in node:
                result = self._convert_all_of(node, at, stack, direction)
            else:
                result = self._convert_plain(node, at, stack, direction)
        finally:
            self._open[-1].discard(id(node))
        return _make_nullable(result) if nullable else result

    def _convert_ref(self, node: dict[str, Any], at: str, stack: tuple[str, ...], direction: str) -> dict[str, Any]:
        target, where = self.doc.resolve(node["$ref"], pointer(at, "$ref"))
        if stack.count(where) >= self.max_depth:
            result = self._cut(target, where)
        else:
            self._open.append(set())
            try:
                result = self._convert(target, where, stack + (where,), direction)
            finally:
                self._open.pop()
        rest = {k: v for k, v in node.items() if k not in ("$ref", "nullable", "x-nullable")}
        if not rest:
            return result
        siblings = self._convert(rest, at, stack, direction)
        if set(siblings) <= _ANNOTATIONS:
            return {**result, **siblings}
        merged = merge_schemas([siblings, result])
        return merged if merged is not None else {"allOf": [result, siblings]}

    def _cut(self, target: Any, where: str) -> dict[str, Any]:
        name = where.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        declared = target.get("type") if isinstance(target, dict) else None
        if isinstance(declared, list):
            declared = next((t for t in declared if t != "null"), None)
        if declared not in JSON_SCHEMA_TYPES or declared == "null":
            declared = "object"
        summary = ""
        if isinstance(target, dict) and isinstance(target.get("description"), str):
            summary = _first_sentence(target["description"])
        text = f"{summary} " if summary else ""
        self.note(where, f"recursive schema {name} cut at depth {self.max_depth}")
        return {"type": declared,
                "description": f"{text}(recursive {name}, cut at depth {self.max_depth})"}

    def _convert_all_of(self, node: dict[str, Any], at: str, stack: tuple[str, ...], direction: str) -> dict[str, Any]:
        members = node["allOf"]
        if not isinstance(members, list):
            raise self.doc.error(pointer(at, "allOf"), f"'allOf' must be a list, got {json_kind(members)}")
        parts = [self._convert(member, pointer(at, "allOf", i), stack, direction)
                 for i, member in enumerate(members)]
        own_node = {k: v for k, v in node.items() if k not in ("allOf", "nullable", "x-nullable")}
        own = self._convert_plain(own_node, at, stack, direction) if own_node else {}
        merged = merge_schemas(([own] if own else []) + parts)
        if merged is not None:
            return merged
        self.note(at, "allOf kept as is: its members disagree on a keyword, so merging would change the meaning")
        return {**own, "allOf": parts}

    def _convert_plain(self, node: dict[str, Any], at: str, stack: tuple[str, ...], direction: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = pointer(at, key)
            if key == "type":
                out["type"] = self._type(value, here)
            elif key == "properties":
                props, lifted = self._properties(value, here, stack, direction)
                out["properties"] = props
                if lifted:
                    out["required"] = _unite(out.get("required", []), lifted)
            elif key == "required":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    out["required"] = _unite(out.get("required", []), value)
                elif isinstance(value, bool):
                    pass  # draft-3 style, lifted by the parent's `properties`
                else:
                    self.note(here, f"'required' must be a list of names, got {json_kind(value)}; ignored")
            elif key == "items":
                out["items"] = self._items(value, here, stack, direction)
            elif key == "additionalProperties":
                out[key] = value if isinstance(value, bool) else self._convert(value, here, stack, direction)
            elif key in _SCHEMA_KEYWORDS:
                out[key] = self._convert(value, here, stack, direction)
            elif key in _SCHEMA_LIST_KEYWORDS:
                if not isinstance(value, list):
                    raise self.doc.error(here, f"{key!r} must be a list of schemas, got {json_kind(value)}")
                out[key] = [self._convert(member, pointer(here, i), stack, direction)
                            for i, member in enumerate(value)]
            elif key in _SCHEMA_MAP_KEYWORDS:
                if not isinstance(value, dict):
                    raise self.doc.error(here, f"{key!r} must map names to schemas, got {json_kind(value)}")
                out[key] = {name: self._convert(member, pointer(here, name), stack, direction)
                            for name, member in value.items()}
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(value, bool):
                    bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                    if value and isinstance(node.get(bound), (int, float)):
                        out[key] = node[bound]
                else:
                    out[key] = value
            elif key == "example":
                if _is_scalar(value) and "examples" not in node:
                    out["examples"] = [value]
            elif key == "examples":
                if isinstance(value, list) and value and all(_is_scalar(v) for v in value):
                    out["examples"] = list(value)
            elif key in ("description", "title") and isinstance(value, str):
                out[key] = clean_text(value)
            elif key in _PLAIN_KEYWORDS:
                out[key] = copy.deepcopy(value)
            # Anything else (discriminator, xml, externalDocs, x-*, nullable) is dropped.
        # An OpenAPI 3.0 bound marked exclusive now lives in exclusiveM*; drop the inclusive copy.
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if node.get(exclusive) is True and bound in out:
                del out[bound]
        if out.get("type") == "file":
            out["type"] = "string"
            out.setdefault("format", "binary")
            self.note(at, "file upload taken as a binary string")
        if "type" not in out and not any(k in out for k in ("allOf", "oneOf", "anyOf", "not", "enum", "const")):
            if "properties" in out or "additionalProperties" in out:
                out = {"type": "object", **out}
            elif "items" in out:
                out = {"type": "array", **out}
        if "properties" in out:
            drop = "readOnly" if direction == "input" else "writeOnly"
            kept = {}
            for name, sub in out["properties"].items():
                if sub.get(drop) is True:
                    side = "request" if direction == "input" else "response"
                    self.note(pointer(at, "properties", name), f"{drop} property {name!r} left out of the {side}")
                    continue
                kept[name] = sub
            dropped = set(out["properties"]) - set(kept)
            if dropped:
                out["properties"] = kept
                if "required" in out:
                    out["required"] = [r for r in out["required"] if r not in dropped]
        if out.get("required") == []:
            del out["required"]
        return out

    def _type(self, value: Any, at: str) -> Any:
        names = value if isinstance(value, list) else [value]
        for name in names:
            if name == "file":
                continue
            if not isinstance(name, str) or name not in JSON_SCHEMA_TYPES:
                raise self.doc.error(
                    at, f"{name!r} is not a schema type (one of {', '.join(JSON_SCHEMA_TYPES)})")
        if isinstance(value, list):
            return list(dict.fromkeys(value))
        return value

    def _properties(self, value: Any, at: str, stack: tuple[str, ...],
                    direction: str) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(value, dict):
            raise self.doc.error(at, f"'properties' must map names to schemas, got {json_kind(value)}")
        props: dict[str, Any] = {}
        lifted: list[str] = []
        for name, member in value.items():
            name = str(name)
            here = pointer(at, name)
            if isinstance(member, dict) and isinstance(member.get("required"), bool):
                if member["required"]:
                    lifted.append(name)
                self.note(here, "boolean 'required' on a property lifted into the parent's 'required' list")
            props[name] = self._convert(member, here, stack, direction)
        return props, lifted

    def _items(self, value: Any, at: str, stack: tuple[str, ...], direction: str) -> Any:
        if isinstance(value, list):
            members = [self._convert(member, pointer(at, i), stack, direction) for i, member in enumerate(value)]
            if len(members) == 1:
                self.note(at, "'items' is a list (invalid); read as its single member")
                return members[0]
            if not members:
                self.note(at, "'items' is an empty list (invalid); any item allowed")
                return {}
            self.note(at, "'items' is a list (invalid); read as anyOf its members")
            return {"anyOf": members}
        return self._convert(value, at, stack, direction)


# ---------------------------------------------------------------------------------- helpers


def _make_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` that also accepts null (OpenAPI 3.0 `nullable`, Swagger `x-nullable`)."""
    out = dict(schema)
    declared = out.get("type")
    if declared is not None:
        names = declared if isinstance(declared, list) else [declared]
        if "null" not in names:
            out["type"] = [*names, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    for key in ("anyOf", "oneOf"):
        if isinstance(out.get(key), list) and set(out) - {key} <= _ANNOTATIONS:
            if {"type": "null"} not in out[key]:
                out[key] = [*out[key], {"type": "null"}]
            return out
    annotations = {k: v for k, v in out.items() if k in _ANNOTATIONS}
    rest = {k: v for k, v in out.items() if k not in _ANNOTATIONS}
    return {**annotations, "anyOf": [rest, {"type": "null"}]}


def merge_schemas(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One schema equivalent to `allOf: parts`, or None when that needs `allOf`.

    Keywords of one schema apply together, so merging is exact for: `properties` (members
    present in both merged the same way), `required` (united), `type` (intersected), `enum`
    (intersected), bounds (the tighter one), `items` (merged). Annotations keep the first
    value. Anything else that differs, or `additionalProperties` / `patternProperties`
    beside another member's `properties`, keeps the `allOf`."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in out:
                out[key] = copy.deepcopy(value)
                continue
            current = out[key]
            if _same(current, value):
                continue
            if key == "properties":
                for name, sub in value.items():
                    if name in current and not _same(current[name], sub):
                        both = merge_schemas([current[name], sub])
                        current[name] = both if both is not None else {"allOf": [current[name], sub]}
                    elif name not in current:
                        current[name] = copy.deepcopy(sub)
            elif key == "required":
                out[key] = _unite(current, value)
            elif key == "type":
                common = _intersect_types(current, value)
                if common is None:
                    return None
                out[key] = common
            elif key == "enum":
                common_enum = [v for v in current if any(_same(v, w) for w in value)]
                if not common_enum:
                    return None
                out[key] = common_enum
            elif key in _LOWER_BOUNDS and _numbers(current, value):
                out[key] = max(current, value)
            elif key in _UPPER_BOUNDS and _numbers(current, value):
                out[key] = min(current, value)
            elif key in ("deprecated", "readOnly", "writeOnly", "uniqueItems") and isinstance(value, bool):
                out[key] = bool(current) or value
            elif key in _ANNOTATIONS:
                continue  # first wins
            elif key == "items" and isinstance(current, dict) and isinstance(value, dict):
                both = merge_schemas([current, value])
                if both is None:
                    return None
                out[key] = both
            else:
                return None
    # additionalProperties / patternProperties constrain only the properties *their* schema
    # does not name; merged with another member's properties that changes the meaning.
    if any(k in out for k in ("additionalProperties", "patternProperties")) and "properties" in out:
        owners = [p for p in parts if "additionalProperties" in p or "patternProperties" in p]
        named = set().union(*(set(p.get("properties", {})) for p in parts))
        if any(set(p.get("properties", {})) != named for p in owners if p.get("additionalProperties") is not True):
            return None
    return out


def _intersect_types(a: Any, b: Any) -> Any:
    left = a if isinstance(a, list) else [a]
    right = b if isinstance(b, list) else [b]
    common = [t for t in left if t in right]
    if not common:
        if "integer" in left and "number" in right:
            common = ["integer"]
        elif "number" in left and "integer" in right:
            common = ["integer"]
        else:
            return None
    return common[0] if len(common) == 1 else common


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


def _unite(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, str) and len(value) > 200)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


_BREAKS = re.compile(r"<br\s*/?>|</?p>", re.I)
_SIMPLE_TAGS = re.compile(r"</?(b|i|em|strong|code|ul|ol|li|span|div)\b[^>]*>", re.I)


def clean_text(text: str) -> str:
    """A description as written, minus trailing spaces on lines, surrounding blank lines and
    the line-break / formatting HTML tags some specs use (`<br>`, `<p>`, `<b>`, ...)."""
    if "<" in text:
        text = _SIMPLE_TAGS.sub("", _BREAKS.sub("\n", text))
        lines = [line.strip() for line in text.splitlines()]
        kept: list[str] = []
        for line in lines:
            if line or (kept and kept[-1]):
                kept.append(line)
        text = "\n".join(kept)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def infer_schema(value: Any) -> dict[str, Any]:
    """A schema of `value`'s types only (for responses documented by an example alone)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if value is None:
        return {}
    if isinstance(value, list):
        if not value:
            return {"type": "array"}
        items = [infer_schema(item) for item in value]
        merged = items[0]
        for item in items[1:]:
            merged = _union_inferred(merged, item)
        return {"type": "array", "items": merged}
    if isinstance(value, dict):
        return {"type": "object", "properties": {str(k): infer_schema(v) for k, v in value.items()}}
    return {}


def _union_inferred(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if a == b:
        return a
    if a.get("type") == b.get("type") == "object":
        props = dict(a.get("properties", {}))
        for name, sub in b.get("properties", {}).items():
            props[name] = _union_inferred(props[name], sub) if name in props else sub
        return {"type": "object", "properties": props}
    if a.get("type") == b.get("type") == "array":
        return {"type": "array", "items": _union_inferred(a.get("items", {}), b.get("items", {}))}
    if {a.get("type"), b.get("type")} == {"integer", "number"}:
        return {"type": "number"}
    if not a or not b:
        return a or b
    return {}
