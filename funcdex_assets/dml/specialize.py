"""Per-bundle DML grammars: the tool-call line admits only the bundle's tools, each with
arguments derived from its input JSON Schema.

    bundle_grammar(tools, include_thoughts) -> str      # GBNF, root rule `root`

The language is the generic grammar's (`grammars/dml*.gbnf`, read through `load_grammar`)
with one change: instead of any name and any arguments object,

    tool-call ::= "<tool>\\n{\\"name\\": " ( call-0 | call-1 | ... ) "}\\n</tool>\\n"
    call-0 ::= "\\"GMAIL_SEND_EMAIL\\", \\"arguments\\": " t0-args
    t0-args ::= "{\\"recipient_email\\": " string ( ", \\"subject\\": " string )? ...

Tool responses stay the generic JSON `value` (the model writes them; the validator checks
them against the output schema).

Determinism. The text depends only on the set of tools (sorted by name; duplicate names are
an error) and on the generic grammar file, never on the input order or on anything per
request, so a serving engine that caches compiled grammars by their text (vLLM, xgrammar)
compiles it once per bundle. Rule names are `call-<i>` and `t<i>-<property path>` from the
tool's sorted index, plus shared helpers (`integer`, `natural`, `boolean`, ...); identical
rule bodies are emitted once and shared (tools with the same argument shapes share rules).

What the arguments rules accept (JSON exactly as `json.dumps(value, ensure_ascii=False)`
prints it, the same fast spelling as the generic grammar: character-class runs, fixed `", "`
and `": "` separators, no optional whitespace, no `{m,n}`, rule names of letters, digits and
`-`, one rule per line, so llama.cpp accepts it too):

* PROPERTY ORDER IS FIXED: an object with `properties` is written with its keys in the order
  the schema lists them (the order of `json.dumps` of a dict built by walking `properties`,
  which is how the offline writer builds arguments). The same arguments with keys in another
  order are valid JSON Schema instances but are rejected. Required properties must appear,
  optional ones may be left out; a key listed in `required` but not in `properties` goes last,
  with any value.
* No undeclared keys: an object with `properties` admits only those keys, as if
  `additionalProperties` were false (stricter than JSON Schema's default). An object whose
  `additionalProperties` is true or a schema, or that has `patternProperties`, is the generic
  JSON object (declared keys then unordered); without `properties` it is an object of any
  string keys whose values follow `additionalProperties` (`{}` when that is false).
* `enum` / `const`: the JSON-encoded literals as alternatives.
* `string`: any JSON string; `format: date` and `format: date-time` as digit patterns
  (`[0-9]`, `[Tt]`, `[Zz]`, optional fraction and offset) that are never stricter than the
  validator's RFC 3339 checks. `minLength`, `maxLength`, `pattern` and other formats are not
  expressed (the validator checks them).
* `integer`: digits without fraction or exponent (`5`, not `5.0`), without a minus sign when
  `minimum` / `exclusiveMinimum` >= 0; `number`: any JSON number (same sign rule);
  `boolean`, `null`: the literals. Bounds other than the sign are not expressed.
* `array`: `items` for every element (any value without `items`), at least one element when
  `minItems` >= 1; `maxItems`, `uniqueItems`, `prefixItems` are not expressed.
* `anyOf` / `oneOf`: alternatives (each merged over the parent's other keywords); a `type`
  list such as `["string", "null"]`: alternatives of each type; `nullable: true` adds null;
  `allOf`: its schemas merged shallowly (properties concatenated, required united).
* local `$ref` (`#/$defs/...`, `#/definitions/...`, any `#/` pointer into the tool's input
  schema), recursive ones included, become shared rules; other refs, `{}`, `true` and
  untyped schemas are any JSON value. A `false` property can never be written.

Grammar size is linear in the total size of the schemas: an object whose properties are all
optional uses one small rule per property position (`<name>-r<k>`: "something was written
before, property k may follow"), never one alternative per subset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.grammar import load_grammar

__all__ = ["bundle_grammar", "arguments_rules", "gbnf_literal", "schema_order"]

# Rules of the generic grammar the arguments rules use as building blocks.
_GENERIC_RULES = ("value", "object", "array", "string", "number", "escape")

# Helper rules, added only when used (in this order at the end of the grammar).
_D = "[0-9]"
_HELPERS: dict[str, str] = {
    "integer": '"-"? ( "0" | [1-9] [0-9]* )',
    "natural": '"0" | [1-9] [0-9]*',
    "unsigned-number": '( "0" | [1-9] [0-9]* ) ( "." [0-9] [0-9]* )? ( [eE] [-+]? [0-9] [0-9]* )?',
    "boolean": '"true" | "false"',
    "date-string": f'"\\"" date-digits "\\""',
    "date-time-string": (
        f'"\\"" date-digits [Tt] [0-2] {_D} ":" [0-5] {_D} ":" [0-6] {_D} ( "." {_D} {_D}* )? '
        f'( [Zz] | [-+] [0-2] {_D} ":" [0-5] {_D} ) "\\""'
    ),
    "date-digits": f'{_D} {_D} {_D} {_D} "-" [01] {_D} "-" [0-3] {_D}',
}
_HELPER_DEPS = {"date-string": ("date-digits",), "date-time-string": ("date-digits",)}

_SCALAR_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")


def gbnf_literal(text: str) -> str:
    """`text` as a GBNF string literal (escapes `"`, `\\` and control characters only;
    other characters, non-ASCII included, are written as themselves)."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_literal(value: Any) -> str:
    return gbnf_literal(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _slug(text: str, limit: int = 32) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "p"


def _is_term(expr: str) -> bool:
    """A single GBNF term (rule name or one literal), safe to put in a sequence unwrapped."""
    return bool(re.fullmatch(r'[A-Za-z0-9-]+|"(?:\\.|[^"\\])*"', expr))


class _Rules:
    """Named rules in definition order, identical bodies shared."""

    def __init__(self, reserved: set[str]):
        self.bodies: dict[str, str] = {}
        self.by_body: dict[str, str] = {}
        self.reserved = set(reserved)
        self.helpers: set[str] = set()

    def fresh(self, hint: str) -> str:
        name, n = hint, 1
        while name in self.bodies or name in self.reserved or name in _HELPERS:
            n += 1
            name = f"{hint}-{n}"
        self.reserved.add(name)
        return name

    def define(self, hint: str, body: str) -> str:
        """A rule for `body`: an existing one with the same body, or a new one."""
        found = self.by_body.get(body)
        if found is not None:
            return found
        name = self.fresh(hint)
        self.bodies[name] = body
        self.by_body[body] = name
        return name

    def set(self, name: str, body: str) -> None:
        """Define a name reserved with `fresh` (recursive `$ref` targets)."""
        self.bodies[name] = body
        self.by_body.setdefault(body, name)

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        for dep in _HELPER_DEPS.get(name, ()):
            self.helpers.add(dep)
        return name


class _SchemaConverter:
    """JSON Schema -> GBNF for one tool's input schema (rules go into a shared `_Rules`)."""

    def __init__(self, rules: _Rules, root: Any, prefix: str):
        self.rules = rules
        self.root = root
        self.prefix = prefix
        self.refs: dict[str, str] = {}

    # -- entry points ------------------------------------------------------------------------
    def rule(self, schema: Any, hint: str) -> str:
        """A rule name (or single literal term) for `schema`."""
        expr = self.expr(schema, hint)
        if _is_term(expr):
            return expr
        return self.rules.define(hint, expr)

    def expr(self, schema: Any, hint: str, depth: int = 0) -> str:
        """A GBNF expression for the values `schema` admits: a term, or alternatives."""
        if depth > 64:
            return "value"
        if schema is True or schema is None or schema == {}:
            return "value"
        if schema is False or not isinstance(schema, dict):
            return "value" if not isinstance(schema, bool) else ""
        schema = self._resolve_all_of(schema)
        if "$ref" in schema:
            return self._ref(schema, hint)
        if "const" in schema:
            return _json_literal(schema["const"])
        if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
            return self._alternatives([_json_literal(v) for v in schema["enum"]])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                alts = []
                for i, option in enumerate(options):
                    merged = _merge(base, option) if isinstance(option, dict) else option
                    alt = self.expr(merged, f"{hint}-{i}", depth + 1)
                    if alt:
                        alts.append(alt if _is_term(alt) else self.rules.define(f"{hint}-{i}", alt))
                return self._alternatives(alts + (['"null"'] if schema.get("nullable") else []))
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        elif not isinstance(types, list) or not types:
            types = _implied_types(schema)
        if types is None:
            return "value"
        alts = [self._typed(t, schema, hint, depth) for t in types if t in _SCALAR_TYPES]
        if schema.get("nullable") is True and "null" not in types:
            alts.append('"null"')
        if not alts:
            return "value"
        return self._alternatives(alts)

    # -- pieces ------------------------------------------------------------------------------
    def _alternatives(self, alts: list[str]) -> str:
        unique = list(dict.fromkeys(a for a in alts if a))
        if "value" in unique:
            return "value"
        return " | ".join(unique)

    def _typed(self, kind: str, schema: dict, hint: str, depth: int) -> str:
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "date":
                return self.rules.helper("date-string")
            if fmt == "date-time":
                return self.rules.helper("date-time-string")
            return "string"
        if kind in ("integer", "number"):
            non_negative = any(
                isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool)
                and schema[k] >= 0 for k in ("minimum", "exclusiveMinimum")
            )
            if kind == "integer":
                return self.rules.helper("natural" if non_negative else "integer")
            return self.rules.helper("unsigned-number") if non_negative else "number"
        if kind == "boolean":
            return self.rules.helper("boolean")
        if kind == "null":
            return '"null"'
        if kind == "array":
            return self._array(schema, hint, depth)
        return self._object(schema, hint, depth)

    def _array(self, schema: dict, hint: str, depth: int) -> str:
        items = schema.get("items")
        if not isinstance(items, (dict, bool)):
            items = True
        item = self.expr(items, f"{hint}-item", depth + 1)
        if not item:  # items: false -> only the empty array
            return '"[]"'
        if not _is_term(item):
            item = self.rules.define(f"{hint}-item", item)
        min_items = schema.get("minItems")
        if isinstance(min_items, int) and min_items >= 1:
            body = f'"[" {item} ( ", " {item} )* "]"'
        else:
            body = f'"[" ( {item} ( ", " {item} )* )? "]"'
        return self.rules.define(hint, body)

    def _object(self, schema: dict, hint: str, depth: int) -> str:
        props = schema.get("properties")
        extra = schema.get("additionalProperties", None)
        if not isinstance(props, dict) or not props:
            if extra is False:
                return '"{}"'
            if isinstance(extra, dict) and extra:
                inner = self.expr(extra, f"{hint}-value", depth + 1)
                if inner and inner != "value":
                    if not _is_term(inner):
                        inner = self.rules.define(f"{hint}-value", inner)
                    pair = f'string ": " {inner}'
                    return self.rules.define(hint, f'"{{" ( {pair} ( ", " {pair} )* )? "}}"')
            return "object"
        if (extra is not None and extra is not False) or schema.get("patternProperties"):
            return "object"
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        entries: list[tuple[str, str, bool]] = []  # (json key, value term, required)
        for key, sub in props.items():
            value = self.expr(sub, f"{hint}-{_slug(key)}", depth + 1)
            if not value:
                continue  # a `false` property can never be written
            if not _is_term(value):
                value = self.rules.define(f"{hint}-{_slug(key)}", value)
            entries.append((json.dumps(key, ensure_ascii=False), value, key in required))
        for key in required:
            if isinstance(key, str) and key not in props:
                entries.append((json.dumps(key, ensure_ascii=False), "value", True))
        if not entries:
            return '"{}"'
        first_required = next((i for i, e in enumerate(entries) if e[2]), None)
        if first_required is not None:
            return self.rules.define(hint, _object_with_required(entries, first_required))
        # All optional: "{" ( k1 R2 | k2 R3 | ... | kn )? "}", where R<k> ::= (", " k)? R<k+1>
        # ("something was written; property k may follow"): linear, not one branch per subset.
        rest: list[str | None] = [None] * (len(entries) + 1)
        for k in range(len(entries) - 1, 0, -1):
            key, value, _ = entries[k]
            tail = f" {rest[k + 1]}" if rest[k + 1] else ""
            rest[k] = self.rules.define(f"{hint}-r{k}", f'( {gbnf_literal(", " + key + ": ")} {value} )?{tail}')
        starts = []
        for k, (key, value, _) in enumerate(entries):
            tail = f" {rest[k + 1]}" if rest[k + 1] else ""
            starts.append(f"{gbnf_literal('{' + key + ': ')} {value}{tail}")
        return self.rules.define(hint, " | ".join(['"{}"'] + [f'{s} "}}"' for s in starts]))

    def _ref(self, schema: dict, hint: str) -> str:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            return "value"
        if ref in self.refs:
            return self.refs[ref]
        target = _pointer(self.root, ref)
        if target is _MISSING:
            return "value"
        name = self.rules.fresh(f"{self.prefix}-def-{_slug(ref.rsplit('/', 1)[-1])}")
        self.refs[ref] = name
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        merged = _merge(target, siblings) if isinstance(target, dict) and siblings else target
        body = self.expr(merged, name, 1) or '"null"'
        self.rules.set(name, body)
        return name

    def _resolve_all_of(self, schema: dict) -> dict:
        parts = schema.get("allOf")
        if not isinstance(parts, list) or not parts:
            return schema
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts:
            if isinstance(part, dict):
                if "$ref" in part and isinstance(part["$ref"], str):
                    target = _pointer(self.root, part["$ref"])
                    part = target if isinstance(target, dict) else {}
                merged = _merge(merged, self._resolve_all_of(part))
        return merged


_MISSING = object()


def _pointer(root: Any, ref: str) -> Any:
    node = root
    path = ref[1:]
    if not path:
        return node
    if not path.startswith("/"):
        return _MISSING
    for raw in path[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _merge(base: dict, over: dict) -> dict:
    """Shallow merge: `over` wins, except properties (concatenated) and required (united)."""
    merged = {**base, **over}
    if isinstance(base.get("properties"), dict) and isinstance(over.get("properties"), dict):
        merged["properties"] = {**base["properties"], **over["properties"]}
    if isinstance(base.get("required"), list) and isinstance(over.get("required"), list):
        merged["required"] = list(dict.fromkeys(base["required"] + over["required"]))
    return merged


def _implied_types(schema: dict) -> list[str] | None:
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return ["object"]
    if "items" in schema or "minItems" in schema:
        return ["array"]
    return None


def _object_with_required(entries: list[tuple[str, str, bool]], first: int) -> str:
    """Keys before the first required one carry their comma after them, the rest before
    them: a single sequence, since the first required key is always written."""
    parts = []
    for i, (key, value, required) in enumerate(entries):
        if i < first:
            parts.append(f'( {gbnf_literal(key + ": ")} {value} ", " )?')
        elif i == first:
            parts.append(f"{gbnf_literal(key + ': ')} {value}")
        elif required:
            parts.append(f"{gbnf_literal(', ' + key + ': ')} {value}")
        else:
            parts.append(f"( {gbnf_literal(', ' + key + ': ')} {value} )?")
    # Fold the braces into the neighbouring literals where possible.
    head = parts[0]
    if head.startswith('"'):
        parts[0] = '"{' + head[1:]
    else:
        parts.insert(0, '"{"')
    return " ".join(parts) + ' "}"'


def schema_order(value: Any, schema: Any, root: Any = None) -> Any:
    """`value` with every object's keys put in the order its schema lists them (declared
    properties first, in `properties` order, then undeclared required keys in `required`
    order, then any other keys as they were), recursively through `items`, `$ref`, `allOf`
    and the matching `anyOf` / `oneOf` option. Values are not changed, only key order, so
    the result is equal (==) to `value`; rendered, it is what `bundle_grammar` accepts.

    `root` resolves local `$ref`s (default: `schema` itself)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(schema.get("$ref"), str):
        target = _pointer(root, schema["$ref"])
        if isinstance(target, dict):
            schema = _merge(target, {k: v for k, v in schema.items() if k != "$ref"})
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged = _merge(merged, part)
        schema = merged
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            candidates = [_merge(base, o) for o in options if isinstance(o, dict)]
            for option in candidates:
                props = option.get("properties")
                if isinstance(value, dict) and isinstance(props, dict) and set(value) <= set(props) | set(
                    option.get("required") or ()
                ):
                    return schema_order(value, option, root)
                if isinstance(value, list) and "items" in option:
                    return schema_order(value, option, root)
            return value
    if isinstance(value, list):
        items = schema.get("items")
        return [schema_order(item, items, root) for item in value] if isinstance(items, dict) else value
    if not isinstance(value, dict):
        return value
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [k for k in schema.get("required") or () if isinstance(k, str) and k not in props]
    extra = schema.get("additionalProperties")
    ordered: dict[str, Any] = {}
    for key in list(props) + required + list(value):
        if key in value and key not in ordered:
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            ordered[key] = schema_order(value[key], sub, root)
    return ordered


def _sorted_tools(tools: Sequence[Tool]) -> list[Tool]:
    ordered = sorted(tools, key=lambda tool: tool.name)
    for a, b in zip(ordered, ordered[1:]):
        if a.name == b.name:
            raise ValueError(f"two tools are named {a.name!r}; names must be unique in a bundle")
    return ordered


def arguments_rules(tools: Sequence[Tool], reserved: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(the `call-<i>` alternatives in sorted-name order, rule lines) for the tools: the
    part of `bundle_grammar` that does not depend on the generic grammar."""
    ordered = _sorted_tools(tools)
    rules = _Rules(set(reserved) | {f"call-{i}" for i in range(len(ordered))})
    calls = []
    call_lines = []
    for i, tool in enumerate(ordered):
        converter = _SchemaConverter(rules, tool.input_schema, f"t{i}")
        args = converter.expr(tool.input_schema, f"t{i}-args")
        if not args:
            args = "object"
        if not _is_term(args):
            args = rules.define(f"t{i}-args", args)
        if args == "value":  # arguments are always an object
            args = "object"
        head = gbnf_literal(json.dumps(tool.name, ensure_ascii=False) + ', "arguments": ')
        calls.append(f"call-{i}")
        call_lines.append(f"call-{i} ::= {head} {args}")
    lines = call_lines + [f"{name} ::= {body}" for name, body in rules.bodies.items()]
    lines += [f"{name} ::= {_HELPERS[name]}" for name in _HELPERS if name in rules.helpers]
    return calls, lines


def bundle_grammar(tools: Sequence[Tool], include_thoughts: bool) -> str:
    """The DML grammar for one bundle (GBNF text, root rule `root`); see the module docstring.

    Raises ValueError for an empty bundle or duplicate tool names, and when the generic
    grammar no longer has the one-line `tool-call` rule this replaces."""
    if not tools:
        raise ValueError("a bundle grammar needs at least one tool")
    generic = [
        line for line in load_grammar(include_thoughts).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    names = [line.split(" ::= ", 1)[0] for line in generic]
    if names.count("tool-call") != 1 or any(rule not in names for rule in _GENERIC_RULES):
        raise ValueError(
            "the generic DML grammar does not have the one-line tool-call rule and the JSON "
            f"rules {', '.join(_GENERIC_RULES)} that bundle grammars build on"
        )
    calls, lines = arguments_rules(tools, reserved=names)
    tool_call = (
        'tool-call ::= "<tool>\\n{\\"name\\": " ( ' + " | ".join(calls) + ' ) "}\\n</tool>\\n"'
    )
    header = [
        f"# DML grammar for a bundle of {len(calls)} tools"
        f"{' with thoughts' if include_thoughts else ''} (funcdex_assets.dml.specialize;",
        "# generated, do not edit). Arguments follow each tool's input schema, keys in schema order.",
    ]
    body = [tool_call if name == "tool-call" else line for name, line in zip(names, generic)]
    return "\n".join(header + body + lines) + "\n"
