"""Bring your own API: an OpenAPI 3.x or Swagger 2.0 spec -> one `Tool` per operation.

`convert_openapi(spec, toolkit=...)` (or `import_openapi(path, ...)` for a JSON / YAML file)
returns the tools and an `ImportReport`: operations converted (tool name <- method, path,
operationId), items skipped with the reason, and notes on everything the converter decided
(credentials dropped, recursion cut, flaws tolerated, other response statuses). Decisions,
also in docs/catalog.md:

* One tool per (path, method) pair under `paths`. Callbacks and webhooks are requests the API
  sends to *you*: they are reported as skipped, never tools.
* Name: `names.operation_tool_name` (operationId sanitised, else `<method>_<path>`), an
  optional prefix, made unique within the toolkit (`_2`, ...). `original_name` is the same
  name: the written toolkit file is the catalog's source and carries only that name; the
  operationId / method / path behind each tool are in the report. `source` is
  `<spec file>#<pointer of the operation>`, `source_format` `"openapi"`.
* Description: `summary` and `description` (joined when both say something different),
  `[Deprecated]` first for deprecated operations, else `METHOD /path`.
* Input schema (an object): one property per path, query, header and cookie parameter (path
  parameters are always required), then the request body. Parameters declared at the path
  item and overridden by (name, in) at the operation are both read. Left out, each noted:
  `Accept`, `Content-Type` and `Authorization` headers (the OpenAPI spec says to ignore
  them), parameters named by an apiKey security scheme, and credential-looking parameters
  (`access_token`, `oauth_token`, `api_key`, headers named `...-Token` / `...-Key` /
  `...-Secret`, a parameter described as "API key..." or "OAuth ... token").
* Request body: JSON first (`application/json`, `*/*+json`), then form
  (`application/x-www-form-urlencoded`, `multipart/form-data`, Swagger `formData`), then
  anything else. A plain object body (properties, no combinators, no open
  `additionalProperties`) whose property names do not clash with a parameter is merged into
  the top level (its `required` kept when the body is required); any other body goes under
  `body` (required when the body is). Nested objects stay nested.
* Output schema: the first of 200, 201, other 2xx (ascending), `2XX`; `default` only when no
  2xx is documented. From its JSON body (`application/json`, `+json`, `*/*`), else the first
  media type with a schema. Only examples: a schema of the example's types (noted). No body
  (204, or 200 without content): `{"status": <code>}` (`const`), an acknowledgement. A body
  that is not an object (an array, a string) is given under `result`. Other success
  statuses whose body differs are noted, never merged; error statuses are not read.
* Schemas: see `openapi_refs.py` ($ref inlined, allOf merged, oneOf/anyOf kept, recursion
  cut at `max_depth`, nullable mapped, OpenAPI-only keywords dropped).
* Errors: a document that is not OpenAPI 3.x / Swagger 2.0, an unresolvable `$ref`, a path
  item or operation that is not an object, ... raise `CatalogError` whose reason starts with
  the JSON pointer of the problem. With `skip_broken=True` an operation that cannot be
  converted is reported as skipped with that reason instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from funcdex_assets.catalog.errors import CatalogError
from funcdex_assets.catalog.models import Tool
from funcdex_assets.catalog.names import TOOLKIT_PATTERN, clean_name_part, fit_length, operation_tool_name, unique_name
from funcdex_assets.catalog.openapi_refs import (
    DEFAULT_MAX_DEPTH,
    SchemaConverter,
    SpecDocument,
    clean_text,
    infer_schema,
    pointer,
)
from funcdex_assets.catalog.schema_check import SchemaChecker, checked_tool, json_kind

SOURCE_FORMAT = "openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")

# HTTP plumbing the OpenAPI spec says to ignore as header parameters.
_IGNORED_HEADERS = {"accept": "set by the HTTP client", "content-type": "set by the HTTP client",
                    "authorization": "a credential, supplied by the client, not the model"}
_CREDENTIAL_NAMES = frozenset({"access_token", "oauth_token", "api_key", "apikey", "x_api_key", "auth_token",
                               "bearer_token", "proxy_authorization", "session_token", "client_secret"})
_CREDENTIAL_HEADER = re.compile(
    r"(^|_)(token|api_?key|auth_?key|access_?key|secret(_?key)?|auth|authorization|session(_?id)?)$")
_CREDENTIAL_DESCRIPTION = re.compile(r"^\s*(api key\b|oauth( 2\.0)?( access)? token\b|access token\b)", re.I)
_SWAGGER_PARAM_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "x-nullable", "example",
)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# ---------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ConvertedOperation:
    tool: str
    method: str  # upper case
    path: str
    operation_id: str | None
    pointer: str


@dataclass(frozen=True)
class SkippedItem:
    pointer: str
    what: str
    reason: str


@dataclass(frozen=True)
class ImportNote:
    pointer: str
    tool: str | None
    message: str


@dataclass
class ImportReport:
    """What an import did; `lines()` renders it for the command line."""

    source: str
    spec_version: str  # "OpenAPI 3.0.0", "Swagger 2.0"
    title: str
    operations: int = 0  # (path, method) pairs under `paths`
    converted: list[ConvertedOperation] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    notes: list[ImportNote] = field(default_factory=list)

    def add_note(self, at: str, tool: str | None, message: str) -> None:
        note = ImportNote(at, tool, message)
        if note not in self.notes:
            self.notes.append(note)

    def notes_for(self, tool: str) -> list[str]:
        return [note.message for note in self.notes if note.tool == tool]

    def lines(self) -> list[str]:
        skipped_ops = sum(1 for item in self.skipped if item.what.startswith("operation"))
        out = [
            f"{self.source}: {self.spec_version}, {self.title!r}",
            f"operations: {self.operations}, converted: {len(self.converted)}, skipped: {skipped_ops}"
            + (f"; callbacks/webhooks skipped: {len(self.skipped) - skipped_ops}"
               if len(self.skipped) > skipped_ops else ""),
        ]
        if self.converted:
            out.append("converted:")
            width = max(len(op.tool) for op in self.converted)
            for op in self.converted:
                origin = f"  (operationId {op.operation_id!r})" if op.operation_id else ""
                out.append(f"  {op.tool:<{width}}  <- {op.method} {op.path}{origin}")
        if self.skipped:
            out.append("skipped:")
            for item in self.skipped:
                out.append(f"  {item.what}: {item.reason} [{item.pointer}]")
        if self.notes:
            out.append("notes:")
            grouped: dict[str, list[ImportNote]] = {}
            for note in self.notes:
                grouped.setdefault(note.message, []).append(note)
            for message, notes in grouped.items():
                tools = sorted({n.tool for n in notes if n.tool})
                if len(tools) > 3:
                    where = f"{len(tools)} tools"
                elif tools:
                    where = ", ".join(tools)
                else:
                    where = notes[0].pointer
                out.append(f"  {message}  [{where}]")
        return out


@dataclass
class ImportResult:
    tools: list[Tool]
    report: ImportReport


# ---------------------------------------------------------------------------------- entry points


# libyaml's parser when PyYAML was built with it (the wheels are): parsing the shared specs
# takes 55 ms instead of 473 ms (benchmarks/openapi_import.py).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_SafeLoader):
    """SafeLoader that keeps dates as strings (`2016-08-04` in an example stays JSON)."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_spec(path: Path) -> Any:
    """A JSON or YAML file, parsed (YAML dates stay strings)."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogError("the file does not exist", file=file, fix="Check the path.") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    except OSError as exc:
        raise CatalogError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                               file=file) from None
    try:
        return yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"not valid YAML: {problem}{where}", file=file) from None


def is_openapi_document(data: Any) -> bool:
    return isinstance(data, dict) and ("openapi" in data or "swagger" in data)


def import_openapi(path: Path, *, toolkit: str, prefix: str = "", max_depth: int = DEFAULT_MAX_DEPTH,
                   skip_broken: bool = False) -> ImportResult:
    """`convert_openapi` of a JSON or YAML file."""
    path = Path(path)
    return convert_openapi(load_spec(path), toolkit=toolkit, source=path.name, file=str(path), prefix=prefix,
                           max_depth=max_depth, skip_broken=skip_broken)


def convert_openapi(
    spec: Any,
    *,
    toolkit: str,
    source: str = "openapi",
    file: str | None = None,
    prefix: str = "",
    max_depth: int = DEFAULT_MAX_DEPTH,
    skip_broken: bool = False,
    checker: SchemaChecker | None = None,
) -> ImportResult:
    """One checked `Tool` per operation of `spec` (a parsed OpenAPI 3.x / Swagger 2.0
    document) and the report; see the module docstring."""
    if not TOOLKIT_PATTERN.fullmatch(toolkit):
        raise CatalogError(f"toolkit {toolkit!r} does not match {TOOLKIT_PATTERN.pattern}", file=file,
                           fix="Pass a lowercase toolkit name.")
    return _Converter(spec, toolkit=toolkit, source=source, file=file, prefix=prefix, max_depth=max_depth,
                      skip_broken=skip_broken, checker=checker or SchemaChecker()).run()


# ---------------------------------------------------------------------------------- conversion


@dataclass
class _Param:
    name: str
    location: str
    schema: dict[str, Any]
    required: bool
    at: str


@dataclass
class _Body:
    schema: dict[str, Any]
    required: bool
    media: str
    at: str
    description: str = ""


class _Converter:
    def __init__(self, spec: Any, *, toolkit: str, source: str, file: str | None, prefix: str, max_depth: int,
                 skip_broken: bool, checker: SchemaChecker) -> None:
        self.doc = SpecDocument(spec, file=file, toolkit=toolkit)
        self.spec = spec
        self.toolkit = toolkit
        self.source = source
        self.file = file or source
        self.prefix = clean_name_part(prefix)
        if prefix and not self.prefix:
            raise CatalogError(f"the name prefix {prefix!r} has no usable characters", file=file, toolkit=toolkit,
                               fix="Use letters, digits, '_' or '-'.")
        self.skip_broken = skip_broken
        self.checker = checker
        self.tool: str | None = None  # the tool being converted, for notes
        self.version = self._version()
        self.swagger = self.version.startswith("Swagger")
        info = spec.get("info") if isinstance(spec.get("info"), dict) else {}
        self.report = ImportReport(source=source, spec_version=self.version, title=str(info.get("title", "")))
        self.schemas = SchemaConverter(self.doc, note=self._note, max_depth=max_depth)
        self.credentials = self._security_parameters()

    def _note(self, at: str, message: str) -> None:
        self.report.add_note(at, self.tool, message)

    def _version(self) -> str:
        spec = self.spec
        if not isinstance(spec, dict):
            raise self.doc.error("#", f"an OpenAPI document is a JSON / YAML object, got {json_kind(spec)}")
        if "openapi" in spec:
            version = str(spec["openapi"])
            if not re.match(r"^3\.\d+", version):
                raise self.doc.error("#/openapi", f"OpenAPI {version} is not supported (3.x and Swagger 2.0 are)",
                                     fix="Convert the spec to OpenAPI 3.x.")
            return f"OpenAPI {version}"
        if "swagger" in spec:
            version = str(spec["swagger"])
            if version != "2.0":
                raise self.doc.error("#/swagger", f"Swagger {version} is not supported (2.0 is)",
                                     fix="Convert the spec to OpenAPI 3.x or Swagger 2.0.")
            return "Swagger 2.0"
        keys = sorted(map(str, spec))[:8]
        raise self.doc.error("#", f"not an OpenAPI 3.x or Swagger 2.0 document: no 'openapi' or 'swagger' field "
                                  f"(keys: {keys})",
                             fix="Pass an OpenAPI / Swagger spec (for tool lists use `funcdex catalog import-tools`).")

    def _security_parameters(self) -> dict[tuple[str, str], str]:
        """(in, lower-case name) -> scheme name, for apiKey security schemes."""
        if self.swagger:
            schemes, at = self.spec.get("securityDefinitions"), "#/securityDefinitions"
        else:
            components = self.spec.get("components")
            schemes = components.get("securitySchemes") if isinstance(components, dict) else None
            at = "#/components/securitySchemes"
        found: dict[tuple[str, str], str] = {}
        if not isinstance(schemes, dict):
            return found
        for name, scheme in schemes.items():
            scheme, _ = self.doc.deref(scheme, pointer(at, name))
            if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and isinstance(scheme.get("name"), str):
                found[(str(scheme.get("in", "")), scheme["name"].lower())] = str(name)
        return found

    # ------------------------------------------------------------------------------------
    def run(self) -> ImportResult:
        paths = self.spec.get("paths")
        if paths is None:
            paths = {}
        if not isinstance(paths, dict):
            raise self.doc.error("#/paths", f"'paths' must be an object, got {json_kind(paths)}")
        taken: set[str] = set()
        tools: list[Tool] = []
        for path, item in paths.items():
            path = str(path)
            if path.startswith("x-"):
                continue
            item_at = pointer("#/paths", path)
            item, item_at = self.doc.deref(item, item_at)
            if not isinstance(item, dict):
                raise self.doc.error(item_at, f"a path item must be an object, got {json_kind(item)}")
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                self.report.operations += 1
                at = pointer(item_at, method)
                op = item[method]
                self.tool = None
                try:
                    tool = self._operation(path, method, item, item_at, op, at, taken)
                except CatalogError as exc:
                    if not self.skip_broken:
                        raise
                    self.report.skipped.append(SkippedItem(at, f"operation {method.upper()} {path}", exc.reason))
                    continue
                finally:
                    self.tool = None
                taken.add(tool.name)
                tools.append(tool)
                op_id = op.get("operationId") if isinstance(op.get("operationId"), str) else None
                self.report.converted.append(ConvertedOperation(tool.name, method.upper(), path, op_id, at))
                self._skip_callbacks(op, at, method, path)
        self._skip_webhooks()
        if not tools:
            reason = "the spec has no operations under 'paths'" if not self.report.operations else \
                "no operation could be converted"
            raise self.doc.error("#/paths", reason, fix="Import a spec that defines operations.")
        return ImportResult(tools, self.report)

    def _skip_callbacks(self, op: dict[str, Any], at: str, method: str, path: str) -> None:
        callbacks = op.get("callbacks")
        if not isinstance(callbacks, dict):
            return
        for name, callback in callbacks.items():
            callback, cb_at = self.doc.deref(callback, pointer(at, "callbacks", name))
            for expression, item in (callback.items() if isinstance(callback, dict) else []):
                item, item_at = self.doc.deref(item, pointer(cb_at, expression))
                for cb_method in HTTP_METHODS:
                    if isinstance(item, dict) and cb_method in item:
                        self.report.skipped.append(SkippedItem(
                            pointer(item_at, cb_method),
                            f"callback {name} of {method.upper()} {path} ({cb_method.upper()} {expression})",
                            "a callback is a request the API sends to you, not an operation a model calls"))

    def _skip_webhooks(self) -> None:
        webhooks = self.spec.get("webhooks")
        if not isinstance(webhooks, dict):
            return
        for name, item in webhooks.items():
            item, item_at = self.doc.deref(item, pointer("#/webhooks", name))
            for method in HTTP_METHODS:
                if isinstance(item, dict) and method in item:
                    self.report.skipped.append(SkippedItem(
                        pointer(item_at, method), f"webhook {name} ({method.upper()})",
                        "a webhook is a request the API sends to you, not an operation a model calls"))

    # ------------------------------------------------------------------------------------
    def _operation(self, path: str, method: str, item: dict[str, Any], item_at: str, op: Any, at: str,
                   taken: set[str]) -> Tool:
        if not isinstance(op, dict):
            raise self.doc.error(at, f"an operation must be an object, got {json_kind(op)}")
        op_id = op.get("operationId")
        if op_id is not None and not isinstance(op_id, str):
            raise self.doc.error(pointer(at, "operationId"), f"must be a string, got {json_kind(op_id)}")
        base = operation_tool_name(op_id, method, path)
        if not base:
            base = operation_tool_name(None, method, path)
        if self.prefix:
            base = fit_length(f"{self.prefix}_{base}")
        name = unique_name(base, taken)
        self.tool = name
        if name != base:
            self._note(at, f"name {base!r} already taken in the toolkit; this operation is {name!r}")

        params, body = self._parameters(item, item_at, op, at)
        request = self._request_body(op, at)
        if request is not None:
            if body is not None:
                self._note(at, "both a requestBody and body parameters: the requestBody is used")
            body = request
        input_schema = self._input_schema(params, body)
        output_schema = self._output_schema(op, at)
        description = self._description(op, at, method, path)
        return checked_tool(
            self.checker,
            file=self.file,
            toolkit=self.toolkit,
            name=name,
            original_name=name,
            description=description,
            description_field=f"{at} (summary / description)",
            input_schema=input_schema,
            input_field=f"{at} input schema",
            output_schema=output_schema,
            output_field=f"{at} output schema",
            source=f"{self.source}{at}",
            source_format=SOURCE_FORMAT,
        )

    def _description(self, op: dict[str, Any], at: str, method: str, path: str) -> str:
        summary = op.get("summary") if isinstance(op.get("summary"), str) else ""
        detail = op.get("description") if isinstance(op.get("description"), str) else ""
        summary, detail = clean_text(summary), clean_text(detail)
        if summary and detail and not detail.startswith(summary.rstrip(".")):
            text = f"{summary.rstrip('.')}. {detail}"
        else:
            text = detail or summary
        if not text:
            self._note(at, "no summary or description; described by its method and path")
            text = f"{method.upper()} {path}"
        if op.get("deprecated") is True:
            self._note(at, "the operation is deprecated")
            text = f"[Deprecated] {text}"
        return text

    # ------------------------------------------------------------------------------------
    def _parameters(self, item: dict[str, Any], item_at: str, op: dict[str, Any],
                    at: str) -> tuple[list[_Param], _Body | None]:
        declared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for owner, owner_at in ((item, item_at), (op, at)):
            raw = owner.get("parameters")
            if raw is None:
                continue
            if not isinstance(raw, list):
                raise self.doc.error(pointer(owner_at, "parameters"), f"must be a list, got {json_kind(raw)}")
            for index, param in enumerate(raw):
                param, param_at = self.doc.deref(param, pointer(owner_at, "parameters", index))
                if not isinstance(param, dict):
                    raise self.doc.error(param_at, f"a parameter must be an object, got {json_kind(param)}")
                name, location = param.get("name"), param.get("in")
                if not isinstance(name, str) or not name:
                    raise self.doc.error(param_at, "a parameter needs a non-empty 'name'")
                allowed = PARAMETER_LOCATIONS + (("body", "formData") if self.swagger else ())
                if location not in allowed:
                    raise self.doc.error(pointer(param_at, "in"),
                                         f"'in' is {location!r}; expected one of {', '.join(allowed)}")
                declared[(name, location)] = (param, param_at)  # the operation's overrides the path's

        params: list[_Param] = []
        body: _Body | None = None
        form: list[_Param] = []
        for (name, location), (param, param_at) in declared.items():
            if location == "body":
                schema_node = param.get("schema")
                if schema_node is None:
                    self._note(param_at, "body parameter without a schema; any object accepted")
                    schema_node = {"type": "object"}
                schema = self.schemas.convert(schema_node, pointer(param_at, "schema"), direction="input")
                media = self._consumes(op)
                text = param.get("description")
                body = _Body(schema, param.get("required") is True, media, param_at,
                             clean_text(text) if isinstance(text, str) else "")
                continue
            dropped = self._dropped(name, location, param)
            if dropped:
                self._note(param_at, f"{location} parameter {name!r} left out: {dropped}")
                continue
            converted = self._parameter(name, location, param, param_at)
            (form if location == "formData" else params).append(converted)
        if form:
            schema = {"type": "object", "properties": {p.name: p.schema for p in form}}
            required = [p.name for p in form if p.required]
            if required:
                schema["required"] = required
            media = self._consumes(op, form=True)
            if body is not None:
                self._note(at, "both a body and formData parameters: the body is used")
            else:
                body = _Body(schema, bool(required), media, at)
        order = {location: i for i, location in enumerate(PARAMETER_LOCATIONS)}
        params.sort(key=lambda p: order[p.location])  # stable: declaration order within a location
        return params, body

    def _consumes(self, op: dict[str, Any], form: bool = False) -> str:
        consumes = op.get("consumes", self.spec.get("consumes"))
        if isinstance(consumes, list) and consumes:
            if form:
                return next((c for c in consumes if c in _FORM_TYPES), "application/x-www-form-urlencoded")
            return next((c for c in consumes if _is_json(c)), str(consumes[0]))
        return "application/x-www-form-urlencoded" if form else "application/json"

    def _dropped(self, name: str, location: str, param: dict[str, Any]) -> str:
        """Why the parameter is left out of the tool, or `""`."""
        lowered = name.lower()
        if location == "header" and lowered in _IGNORED_HEADERS:
            return _IGNORED_HEADERS[lowered]
        scheme = self.credentials.get((location, lowered))
        if scheme:
            return f"the credential of security scheme {scheme!r}"
        normal = re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")
        if normal in _CREDENTIAL_NAMES:
            return "a credential, supplied by the client, not the model"
        if location in ("header", "cookie") and _CREDENTIAL_HEADER.search(normal):
            return "a credential, supplied by the client, not the model"
        description = param.get("description")
        if isinstance(description, str) and _CREDENTIAL_DESCRIPTION.match(description):
            return "a credential (described as one), supplied by the client, not the model"
        return ""

    def _parameter(self, name: str, location: str, param: dict[str, Any], at: str) -> _Param:
        if self.swagger:
            node = {key: param[key] for key in _SWAGGER_PARAM_SCHEMA_KEYS if key in param}
            if "type" not in node:
                self._note(at, f"parameter {name!r} has no type; taken as a string")
                node["type"] = "string"
            schema = self.schemas.convert(node, at, direction="input")
        else:
            if "schema" in param:
                schema = self.schemas.convert(param["schema"], pointer(at, "schema"), direction="input")
            elif isinstance(param.get("content"), dict) and param["content"]:
                media, media_obj = next(iter(param["content"].items()))
                media_at = pointer(at, "content", media)
                media_obj = media_obj if isinstance(media_obj, dict) else {}
                schema = self.schemas.convert(media_obj.get("schema", {"type": "string"}),
                                              pointer(media_at, "schema"), direction="input")
            else:
                self._note(at, f"parameter {name!r} has no schema; taken as a string")
                schema = {"type": "string"}
            example = param.get("example")
            if example is None and isinstance(param.get("examples"), dict):
                first = next(iter(param["examples"].values()), None)
                if isinstance(first, dict):
                    example = first.get("value")
            if isinstance(example, (str, int, float, bool)) and "examples" not in schema:
                schema = {**schema, "examples": [example]}
        description = param.get("description")
        if isinstance(description, str) and description.strip():
            schema = {**schema, "description": clean_text(description)}
        if param.get("deprecated") is True:
            schema = {**schema, "deprecated": True}
        required = param.get("required") is True
        if location == "path" and not required:
            self._note(at, f"path parameter {name!r} not marked required; path parameters always are")
            required = True
        return _Param(name, location, schema, required, at)

    def _request_body(self, op: dict[str, Any], at: str) -> _Body | None:
        if self.swagger or "requestBody" not in op:
            return None
        request, request_at = self.doc.deref(op["requestBody"], pointer(at, "requestBody"))
        if not isinstance(request, dict):
            raise self.doc.error(request_at, f"a requestBody must be an object, got {json_kind(request)}")
        content = request.get("content")
        if not isinstance(content, dict) or not content:
            raise self.doc.error(pointer(request_at, "content"), "a requestBody needs a non-empty 'content' map")
        media = _pick_media(content, request=True)
        media_at = pointer(request_at, "content", media)
        media_obj = content[media] if isinstance(content[media], dict) else {}
        schema = self._media_schema(media, media_obj, media_at, direction="input")
        if not (_is_json(media) or media in _FORM_TYPES):
            self._note(media_at, f"the request body is {media}; its schema is used as is")
        description = request.get("description") if isinstance(request.get("description"), str) else ""
        return _Body(schema, request.get("required") is True, media, request_at, clean_text(description))

    def _media_schema(self, media: str, media_obj: dict[str, Any], at: str, *, direction: str) -> dict[str, Any]:
        if "schema" in media_obj:
            return self.schemas.convert(media_obj["schema"], pointer(at, "schema"), direction=direction)
        example, found = self._example(media_obj, at)
        if found:
            self._note(at, "no schema, only an example: schema inferred from the example (types only)")
            return infer_schema(_maybe_json(example, media))
        if _is_json(media) or media in _FORM_TYPES:
            self._note(at, "no schema documented; any object accepted")
            return {"type": "object"}
        self._note(at, f"no schema documented for {media}; taken as a string")
        return {"type": "string", "contentMediaType": media}

    def _example(self, media_obj: dict[str, Any], at: str) -> tuple[Any, bool]:
        if "example" in media_obj:
            return media_obj["example"], True
        examples = media_obj.get("examples")
        if isinstance(examples, dict):
            for name, example in examples.items():
                example, _ = self.doc.deref(example, pointer(at, "examples", name))
                if isinstance(example, dict) and "value" in example:
                    return example["value"], True
        return None, False

    # ------------------------------------------------------------------------------------
    def _input_schema(self, params: list[_Param], body: _Body | None) -> dict[str, Any]:
        props: dict[str, Any] = {}
        required: list[str] = []
        for param in params:
            key = param.name
            if key in props:
                key = f"{param.location}_{param.name}"
                self._note(param.at, f"{param.location} parameter {param.name!r} clashes with another "
                                     f"parameter's name; it is {key!r}")
            props[key] = param.schema
            if param.required:
                required.append(key)
        if body is not None:
            fields = body.schema.get("properties") if _mergeable(body.schema) else None
            clash = sorted(set(fields or {}) & set(props))
            if fields is not None and not clash:
                props.update(fields)
                if body.required:
                    required.extend(r for r in body.schema.get("required", []) if r in fields)
            else:
                key = "body" if "body" not in props else "request_body"
                schema = body.schema
                if body.description and "description" not in schema:
                    schema = {**schema, "description": body.description}
                props[key] = schema
                if body.required:
                    required.append(key)
                if clash:
                    self._note(body.at, f"request body kept under {key!r}: its fields {clash} clash with parameters")
            if body.media in _FORM_TYPES:
                self._note(body.at, f"form body ({body.media}): its fields are arguments")
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = list(dict.fromkeys(required))
        return schema

    # ------------------------------------------------------------------------------------
    def _output_schema(self, op: dict[str, Any], at: str) -> dict[str, Any]:
        responses = op.get("responses")
        responses_at = pointer(at, "responses")
        if responses is None:
            self._note(at, "no responses documented; any object returned")
            return {"type": "object"}
        if not isinstance(responses, dict):
            raise self.doc.error(responses_at, f"'responses' must be an object, got {json_kind(responses)}")
        codes = {str(code): value for code, value in responses.items() if not str(code).startswith("x-")}
        success = sorted((c for c in codes if re.fullmatch(r"2\d\d", c)),
                         key=lambda c: (c != "200", c != "201", c))
        success += [c for c in codes if c.upper() == "2XX"]
        if success:
            chosen = success[0]
        elif "default" in codes:
            chosen = "default"
            self._note(responses_at, "no 2xx response documented; the 'default' response is used")
        else:
            self._note(responses_at, "no success response documented; any object returned")
            return {"type": "object"}
        response, response_at = self.doc.deref(codes[chosen], pointer(responses_at, chosen))
        if not isinstance(response, dict):
            raise self.doc.error(response_at, f"a response must be an object, got {json_kind(response)}")
        status = int(chosen) if chosen.isdigit() else 200
        description = clean_text(response.get("description") or "") \
            if isinstance(response.get("description"), str) else ""
        schema = self._response_schema(op, response, response_at, status)
        if schema is None:
            self._note(response_at, f"HTTP {status} has no body; the output is an acknowledgement {{status: {status}}}")
            text = f"{description.rstrip('.')}. " if description else ""
            return {"type": "object",
                    "description": f"{text}HTTP {status}, no response body.",
                    "properties": {"status": {"type": "integer", "const": status,
                                              "description": "HTTP status of the successful call"}},
                    "required": ["status"]}
        schema = self._as_object(schema, status, response_at)
        if description and "description" not in schema:
            schema = {"type": schema.pop("type"), "description": description, **schema}
        chosen_raw = self._raw_body(response)
        for code in codes:
            if code == chosen or not re.fullmatch(r"[23]\d\d|2XX", code, re.I):
                continue
            other, _ = self.doc.deref(codes[code], pointer(responses_at, code))
            if isinstance(other, dict) and _dump(self._raw_body(other)) != _dump(chosen_raw):
                self._note(pointer(responses_at, code),
                           f"also answers HTTP {code} with a different body; the output schema is HTTP {chosen}'s "
                           "(not merged)")
        return schema

    def _raw_body(self, response: dict[str, Any]) -> Any:
        if self.swagger:
            return response.get("schema", response.get("examples"))
        content = response.get("content")
        if not isinstance(content, dict) or not content:
            return None
        media = _pick_media(content, request=False)
        return content[media]

    def _response_schema(self, op: dict[str, Any], response: dict[str, Any], at: str,
                         status: int) -> dict[str, Any] | None:
        if self.swagger:
            produces = op.get("produces", self.spec.get("produces"))
            if "schema" in response:
                if isinstance(produces, list) and produces and not any(_is_json(p) for p in produces):
                    self._note(at, f"the response is {produces[0]}; its schema is used as is")
                return self.schemas.convert(response["schema"], pointer(at, "schema"), direction="output")
            examples = response.get("examples")
            if isinstance(examples, dict) and examples:
                media = next((m for m in examples if _is_json(m)), next(iter(examples)))
                self._note(at, "no schema, only an example: schema inferred from the example (types only)")
                return infer_schema(_maybe_json(examples[media], str(media)))
            return None
        content = response.get("content")
        if content is None or content == {}:
            return None
        if not isinstance(content, dict):
            raise self.doc.error(pointer(at, "content"), f"'content' must be an object, got {json_kind(content)}")
        media = _pick_media(content, request=False)
        media_at = pointer(at, "content", media)
        media_obj = content[media] if isinstance(content[media], dict) else {}
        if not _is_json(media) and media != "*/*":
            self._note(media_at, f"the response is {media}; its schema is used as is")
        return self._media_schema(media, media_obj, media_at, direction="output")

    def _as_object(self, schema: dict[str, Any], status: int, at: str) -> dict[str, Any]:
        declared = schema.get("type")
        if declared == "object":
            return schema
        if not declared and set(schema) <= {"title", "description", "examples", "default", "deprecated"}:
            return {"type": "object", **schema}  # says nothing about the shape
        branches = schema.get("oneOf") or schema.get("anyOf")
        if declared is None and isinstance(branches, list) and branches and all(
                isinstance(b, dict) and b.get("type") == "object" for b in branches):
            return {"type": "object", **schema}
        kind = {"array": "an array", "string": "a string", "integer": "an integer", "number": "a number",
                "boolean": "a boolean"}.get(declared if isinstance(declared, str) else "", "not a plain object")
        self._note(at, f"the HTTP {status} body is {kind}; the output gives it under 'result'")
        return {"type": "object", "properties": {"result": schema}, "required": ["result"]}


# ---------------------------------------------------------------------------------- helpers


def _is_json(media: Any) -> bool:
    base = str(media).split(";", 1)[0].strip().lower()
    return base in ("application/json", "text/json") or base.endswith("+json")


def _pick_media(content: dict[str, Any], *, request: bool) -> str:
    """The media type to read: JSON, then (requests) form, then `*/*`, then the first one."""
    keys = [str(k) for k in content]
    for test in (_is_json,
                 (lambda m: m.split(";", 1)[0].strip().lower() in _FORM_TYPES) if request else (lambda m: False),
                 lambda m: m.strip() in ("*/*", "application/*")):
        for key in keys:
            if test(key):
                return key
    return keys[0]


def _mergeable(schema: dict[str, Any]) -> bool:
    """A plain object body whose properties can become top-level arguments."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        return False
    if any(key in schema for key in ("oneOf", "anyOf", "allOf", "not", "patternProperties", "if")):
        return False
    return schema.get("additionalProperties", False) is False


def _maybe_json(value: Any, media: str) -> Any:
    if isinstance(value, str) and _is_json(media):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)

