"""Per-bundle DML grammars: the tool-call line admits only the bundle's tools, each with
arguments derived from its input JSON Schema.

    bundle_grammar(tools, include_thoughts) -> str   # GBNF text, root rule `root`
    schema_order(arguments, input_schema) -> dict     # the arguments with keys in schema order

Language. The generic grammar's (`grammars/dml*.gbnf`, read with `load_grammar`; every rule
but `tool-call` is taken from the file as it is) with one change: instead of any name and any
arguments object, the call is one of the bundle's tools with arguments that follow its schema:

    tool-call ::= "<tool>\\n{\\"name\\": " ( call-0 | call-1 | ... ) "}\\n</tool>\\n"
    call-12 ::= "\\"GMAIL_SEND_EMAIL\\", \\"arguments\\": " t12-args
    t12-args ::= "{\\"recipient_email\\": " <string> ( ", \\"subject\\": " <string> )? ...

Tool responses stay any JSON value (the model writes them; the validator checks them against
the output schema). The generic `calls` rule (parallel calls: 1..MAX_PARALLEL_CALLS calls, then
as many responses) is kept as it is, so every call of a group is one of the bundle's tools.

Determinism. The text depends only on the set of tools (sorted by name; duplicate names are
an error) and on the generic grammar file, never on the input order or anything per request,
so an engine that caches compiled grammars by their text (vLLM + xgrammar) compiles it once
per bundle. Rule names: `call-<i>`, `t<i>-args` and `t<i>-<property path>[-r<k>|-rest|-item]`
from the tool's index in name order (letters, digits and `-` only).

What the arguments rules accept: JSON exactly as `json.dumps(value, ensure_ascii=False)`
prints it (fixed `", "` and `": "`, no optional whitespace), and

* PROPERTY ORDER IS FIXED: an object with `properties` must list its keys in the order the
  schema lists them (what `json.dumps` prints for a dict built by walking `properties`). The
  same arguments with keys in another order are valid JSON Schema instances but are rejected.
  `schema_order` puts any valid arguments in that order. Required properties must appear,
  optional ones may be left out; a key listed in `required` but not in `properties` goes last,
  with any value.
* No undeclared keys: an object with `properties` admits only those keys, as if
  `additionalProperties` were false (stricter than JSON Schema's default). With
  `additionalProperties` true or a schema, or `patternProperties`, it is any JSON object
  (declared keys then unchecked); without `properties` it is an object of any keys whose
  values follow `additionalProperties` (only `{}` when that is false).
* `enum` / `const`: the JSON-encoded literals.
* `string`: any JSON string; `format: date` / `date-time` as RFC 3339 patterns (fields by
  range: month 01-12, day 01-31, hour 00-23, second 00-60; `T`/`t`; `Z`/`z` or an offset;
  optional fraction), never stricter than the validator (which also checks the day against
  the month). `minLength`, `maxLength`,
  `pattern` and other formats are left to the validator.
* `integer`: no fraction or exponent (`5`, not `5.0`); no minus sign when `minimum` or
  `exclusiveMinimum` >= 0 (`number` too); other bounds are left to the validator.
  `boolean`, `null`: the literals.
* `array`: `items` for every element (any value without `items`), non-empty when
  `minItems` >= 1; `maxItems`, `uniqueItems`, `prefixItems` are left to the validator.
* `anyOf` / `oneOf`: alternatives (each merged over the parent's other keywords); a type list
  such as `["string", "null"]`: alternatives; `nullable: true` adds null; `allOf`: merged
  shallowly (properties concatenated, required united).
* local `$ref`s (`#/$defs/...`, any `#/` pointer into the tool's input schema), recursive
  ones included, become rules; other refs, `{}`, `true` and untyped schemas are any JSON value;
  a `false` property can never be written.

Optional properties. Keys before the first required one are written `( key value ", " )?`,
keys after it `( ", " key value )?`, so an object with a required property is one sequence.
An object whose properties are all optional is `"{}"` or one alternative per first-written
property, followed by a chain `<name>-r<k> ::= ( ", " key_k value_k )? <name>-r<k+1>` ending
in `"}"`: linear in the number of properties, never one branch per subset.

Spelling (mask cost). The arguments rules are spelled like the generic grammar (character-
class runs, fixed separators, no `{m,n}`, one rule per line, llama.cpp's subset, and no rule
for a value shared between places; see the comments in `grammars/dml.gbnf`), so that xgrammar
can decide almost every token when it compiles the grammar instead of at each step. xgrammar
gives a rule used in exactly one place a lookahead (what follows that place), and decides a
token that runs past the end of a string at compile time only if what follows the string is
known there. A shared `string` rule is used in many places, so every token that contains `"`
is re-checked at every step inside every string: about 0.3 ms per token with a 200k
vocabulary. Hence:
- string, number, boolean and any-JSON values are written out where they are used
  (`[^"...]*` runs in the property's own rule, followed by the next key or the closing brace);
  only the part after a first escape (`string-escapes`, defined here, not in the generic
  grammar) is shared, which costs a little after an escape and saves about a third of the
  compile time for large bundles;
- arrays are right-recursive, `"[" item x-rest` with `x-rest ::= "]" | ", " item x-rest`
  (one step per element, not per character), like the generic `array` / `object`;
- rules are never shared between tools or properties, even when identical.
The generic rules the arguments rules use as they are: `object`, `array` (with `object-rest`,
`array-rest`) for any JSON value, and `escape`. benchmarks/grammar_mask_cost.py measures it:
about 0.03 ms per token on average, like the generic grammar. The price is compile time, which
grows with the number of string properties (seconds for tens of tools, tens of seconds for 500
with two threads); an engine that caches by grammar text pays it once per bundle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.grammar import load_grammar

__all__ = ["arguments_rules", "bundle_grammar", "gbnf_literal", "schema_order"]

# Rules of the generic grammar the arguments rules use as building blocks (`object-rest` and
# `array-rest` through `object` and `array`).
_GENERIC_RULES = ("object", "array", "escape")

# Inline spellings (written out at every use, see "Spelling" in the module docstring).
_D = "[0-9]"
# RFC 3339 fields by range (month 01-12, day 01-31, hour 00-23, second up to 60): never
# stricter than the validator, which also checks the day against the month.
_DATE = f'{_D} {_D} {_D} {_D} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] {_D} | "3" [01] )'
_HOUR = f'( [01] {_D} | "2" [0-3] )'
# Any JSON string. Argument strings share the part after the first escape (rare in
# arguments): about a third less compile time for large bundles, for a little more mask work
# after an escape. (The generic grammar, with a handful of strings, writes it out.)
STRING = '"\\"" [^"\\\\\\x00-\\x1F]* string-escapes "\\""'
STRING_ESCAPES = ("string-escapes", '( "\\\\" escape [^"\\\\\\x00-\\x1F]* )*')
_INLINE: dict[str, str] = {
    "string": STRING,
    "integer": '"-"? ( "0" | [1-9] [0-9]* )',
    "natural": '( "0" | [1-9] [0-9]* )',
    "number": '"-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9] [0-9]* )? ( [eE] [-+]? [0-9] [0-9]* )?',
    "unsigned-number": '( "0" | [1-9] [0-9]* ) ( "." [0-9] [0-9]* )? ( [eE] [-+]? [0-9] [0-9]* )?',
    "boolean": '( "true" | "false" )',
    "date": f'"\\"" {_DATE} "\\""',
    "date-time": (
        f'"\\"" {_DATE} [Tt] {_HOUR} ":" [0-5] {_D} ":" ( [0-5] {_D} | "60" ) ( "." {_D} {_D}* )? '
        f'( "Z" | "z" | [-+] {_HOUR} ":" [0-5] {_D} ) "\\""'
    ),
}
# Any JSON value, written out where it is used (untyped schemas, `{}`, `true`, unresolved refs).
ANY_VALUE = f'( object | array | {STRING} | {_INLINE["number"]} | "true" | "false" | "null" )'

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


def _is_alt(expr: str) -> bool:
    """Whether the expression has a top-level `|` (it needs parentheses in a sequence)."""
    depth = 0
    for token in re.findall(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[()|]', expr):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == "|" and depth == 0:
            return True
    return False


def _seq(expr: str) -> str:
    """The expression as an element of a sequence."""
    return f"( {expr} )" if _is_alt(expr) else expr


class _Rules:
    """Named rules in definition order."""

    def __init__(self, reserved: set[str]):
        self.bodies: dict[str, str] = {}
        self.reserved = set(reserved)

    def fresh(self, hint: str) -> str:
        name, n = hint, 1
        while name in self.bodies or name in self.reserved:
            n += 1
            name = f"{hint}-{n}"
        self.reserved.add(name)
        return name

    def define(self, hint: str, body: str) -> str:
        name = self.fresh(hint)
        self.bodies[name] = body
        return name

    def set(self, name: str, body: str) -> None:
        """Define a name reserved with `fresh` (recursive `$ref` targets)."""
        self.bodies[name] = body


class _SchemaConverter:
    """JSON Schema -> GBNF expression for one tool's input schema (rules go into `_Rules`)."""

    def __init__(self, rules: _Rules, root: Any, prefix: str):
        self.rules = rules
        self.root = root
        self.prefix = prefix
        self.refs: dict[str, str] = {}

    def expr(self, schema: Any, hint: str, depth: int = 0) -> str:
        """A GBNF expression for the values `schema` admits ("" when none: `false`;
        `ANY_VALUE` when any)."""
        if depth > 64 or schema is True or schema is None or schema == {}:
            return ANY_VALUE
        if schema is False:
            return ""
        if not isinstance(schema, dict):
            return ANY_VALUE
        schema = self._resolve_all_of(schema)
        if "$ref" in schema:
            return self._ref(schema, hint)
        if "const" in schema:
            return _json_literal(schema["const"])
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            literals = list(dict.fromkeys(_json_literal(v) for v in schema["enum"]))
            if len(literals) == 1:
                return literals[0]
            return self.rules.define(hint, " | ".join(literals))
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                alts = [
                    self.expr(_merge(base, option) if isinstance(option, dict) else option,
                              f"{hint}-{i}", depth + 1)
                    for i, option in enumerate(options)
                ]
                return self._alternatives(alts + (['"null"'] if schema.get("nullable") is True else []))
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        elif not isinstance(types, list) or not types:
            types = _implied_types(schema)
        if types is None:
            return ANY_VALUE
        alts = [self._typed(t, schema, hint, depth) for t in types if t in _SCALAR_TYPES]
        if schema.get("nullable") is True and "null" not in types:
            alts.append('"null"')
        return self._alternatives(alts) if alts else ANY_VALUE

    def _alternatives(self, alts: list[str]) -> str:
        unique = list(dict.fromkeys(a for a in alts if a))
        if ANY_VALUE in unique:
            return ANY_VALUE
        return " | ".join(unique)

    def _typed(self, kind: str, schema: dict, hint: str, depth: int) -> str:
        if kind == "string":
            fmt = schema.get("format")
            return _INLINE[fmt] if fmt in ("date", "date-time") else _INLINE["string"]
        if kind in ("integer", "number"):
            non_negative = any(
                isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool)
                and schema[k] >= 0 for k in ("minimum", "exclusiveMinimum")
            )
            if kind == "integer":
                return _INLINE["natural" if non_negative else "integer"]
            return _INLINE["unsigned-number" if non_negative else "number"]
        if kind == "boolean":
            return _INLINE["boolean"]
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
        return self._sequence(hint, "[", _seq(item), "]", _at_least_one(schema.get("minItems")))

    def _sequence(self, hint: str, open_: str, item: str, close: str, non_empty: bool) -> str:
        """Brackets around items separated by ", ": `"[" item hint-rest` with
        `hint-rest ::= "]" | ", " item hint-rest` (one recursion step per item), so each
        item is followed in its own rule by the comma or the bracket."""
        name = self.rules.fresh(hint)
        rest = self.rules.fresh(f"{name}-rest")
        body = f"{gbnf_literal(open_)} {item} {rest}"
        self.rules.set(name, body if non_empty else f"{gbnf_literal(open_ + close)} | {body}")
        self.rules.set(rest, f'{gbnf_literal(close)} | ", " {item} {rest}')
        return name

    def _object(self, schema: dict, hint: str, depth: int) -> str:
        props = schema.get("properties")
        extra = schema.get("additionalProperties", None)
        if not isinstance(props, dict) or not props:
            if extra is False:
                return '"{}"'
            if isinstance(extra, dict) and extra:
                inner = self.expr(extra, f"{hint}-value", depth + 1)
                if inner and inner != ANY_VALUE:
                    return self._sequence(hint, "{", f'{STRING} ": " {_seq(inner)}', "}", False)
            return "object"
        if (extra is not None and extra is not False) or schema.get("patternProperties"):
            return "object"
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        entries: list[tuple[str, str, bool]] = []  # (json key, value expression, required)
        for key, sub in props.items():
            value = self.expr(sub, f"{hint}-{_slug(key)}", depth + 1)
            if value:  # a `false` property can never be written
                entries.append((json.dumps(key, ensure_ascii=False), _seq(value), key in required))
        for key in required:
            if isinstance(key, str) and key not in props:
                entries.append((json.dumps(key, ensure_ascii=False), ANY_VALUE, True))
        if not entries:
            return '"{}"'
        first_required = next((i for i, e in enumerate(entries) if e[2]), None)
        if first_required is not None:
            return self.rules.define(hint, _object_with_required(entries, first_required))
        # Linear: "{" ( k1 T2 | k2 T3 | ... ) with T<k> ::= ( ", " kk )? T<k+1> and the
        # closing brace at the end of the chain ("something was written; k may follow").
        rest: list[str] = [""] * (len(entries) + 1)
        rest[len(entries)] = '"}"'
        for k in range(len(entries) - 1, 0, -1):
            key, value, _ = entries[k]
            rest[k] = self.rules.define(f"{hint}-r{k}", f"( {gbnf_literal(', ' + key + ': ')} {value} )? {rest[k + 1]}")
        alts = ['"{}"'] + [
            f"{gbnf_literal('{' + key + ': ')} {value} {rest[k + 1]}" for k, (key, value, _) in enumerate(entries)
        ]
        return self.rules.define(hint, " | ".join(alts))

    def _ref(self, schema: dict, hint: str) -> str:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            return ANY_VALUE
        if ref in self.refs:
            return self.refs[ref]
        target = _pointer(self.root, ref)
        if target is _MISSING:
            return ANY_VALUE
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


def _at_least_one(min_items: Any) -> bool:
    return isinstance(min_items, int) and not isinstance(min_items, bool) and min_items >= 1


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
    for a, b in pairwise(ordered):
        if a.name == b.name:
            raise ValueError(f"two tools are named {a.name!r}; names must be unique in a bundle")
    return ordered


def arguments_rules(tools: Sequence[Tool], reserved: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(the `call-<i>` names in sorted-name order, rule lines) for the tools: the part of
    `bundle_grammar` that does not depend on the generic grammar."""
    ordered = _sorted_tools(tools)
    rules = _Rules(set(reserved) | {f"call-{i}" for i in range(len(ordered))})
    calls = []
    call_lines = []
    for i, tool in enumerate(ordered):
        converter = _SchemaConverter(rules, tool.input_schema, f"t{i}")
        args = converter.expr(tool.input_schema, f"t{i}-args")
        if not args or args == ANY_VALUE:  # arguments are always an object
            args = "object"
        head = gbnf_literal(json.dumps(tool.name, ensure_ascii=False) + ', "arguments": ')
        calls.append(f"call-{i}")
        call_lines.append(f"call-{i} ::= {head} {_seq(args)}")
    lines = call_lines + [f"{name} ::= {body}" for name, body in rules.bodies.items()]
    return calls, lines


_RULE_REF = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9-]*(?![\w-])")


def _references(body: str) -> set[str]:
    stripped = re.sub(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]', " ", body)
    return set(_RULE_REF.findall(stripped))


def bundle_grammar(tools: Sequence[Tool], include_thoughts: bool) -> str:
    """The DML grammar for one bundle (GBNF text, root rule `root`); see the module docstring.

    Raises ValueError for an empty bundle or duplicate tool names, and when the generic
    grammar lacks a one-line rule this builds on (`tool-call`, which it replaces; `object`,
    `array`, `escape`) or defines `string-escapes` itself."""
    if not tools:
        raise ValueError("a bundle grammar needs at least one tool")
    generic = [
        line for line in load_grammar(include_thoughts).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    rules: dict[str, str] = {}
    for line in generic:
        name, sep, body = line.partition(" ::= ")
        if not sep or name in rules:
            raise ValueError(f"the generic DML grammar has a line bundle grammars cannot use: {line!r}")
        rules[name] = body
    missing = [name for name in ("root", "tool-call", *_GENERIC_RULES) if name not in rules]
    if missing:
        raise ValueError(
            "the generic DML grammar lacks the rules bundle grammars build on: " + ", ".join(missing)
        )
    if STRING_ESCAPES[0] in rules:
        raise ValueError(f"the generic DML grammar defines {STRING_ESCAPES[0]!r}, which bundle grammars define")
    calls, arg_lines = arguments_rules(tools, reserved=[*rules, STRING_ESCAPES[0]])
    rules["tool-call"] = '"<tool>\\n{\\"name\\": " ( ' + " | ".join(calls) + ' ) "}\\n</tool>\\n"'
    for line in arg_lines:
        name, _, body = line.partition(" ::= ")
        rules[name] = body
    rules[STRING_ESCAPES[0]] = STRING_ESCAPES[1]
    # Keep only the rules reachable from root (a generic rule only the generic tool-call used;
    # `string-escapes` when no argument is a string).
    reachable, todo = set(), ["root"]
    while todo:
        name = todo.pop()
        if name in reachable or name not in rules:
            continue
        reachable.add(name)
        todo.extend(_references(rules[name]))
    thoughts = " with thoughts" if include_thoughts else ""
    header = [
        f"# DML grammar for a bundle of {len(calls)} tools{thoughts} (funcdex_assets.dml.specialize;",
        "# generated, do not edit). Arguments follow each tool's input schema, keys in schema order.",
    ]
    body = [f"{name} ::= {rules[name]}" for name in rules if name in reachable]
    return "\n".join(header + body) + "\n"
