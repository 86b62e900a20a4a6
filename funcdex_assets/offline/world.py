"""The offline tool executor: responses built from response schemas, consistent with the calls.

A `World` remembers every entity a tool returned, by (entity, id). A later call that names that
id gets the same object back (a created event's id is the one later fetched, with the same
summary), fields that match argument names echo the arguments, and everything else is drawn
from the schema. Every value a response exposes is indexed in `produced`, which is what later
arguments are grounded on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from funcdex_assets.catalog.actions import about_self, name_action
from funcdex_assets.catalog.fields import classify, entity_of_object, id_entity, input_slots, result_limit, snake
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.offline.values import GENERIC_TIME_KEYS, ValueFactory, _schema_type, concrete

_LIVE_STATES = ("confirmed", "active", "open", "sent", "scheduled", "pending", "created", "draft", "todo",
                "to do", "accepted", "succeeded", "published", "incomplete", "new")
LABEL_FIELDS = ("summary", "title", "subject", "name", "display_name", "content", "text",
                "email", "key", "snippet", "description", "filename", "login")


def tool_action(tool: Tool) -> str:
    """`create`, `update`, `list`, `delete` or `get`, from the tool's verb (catalog/actions.py)."""
    return name_action(tool.original_name)


@dataclass(frozen=True)
class Produced:
    """A value a tool response exposed: what later calls and user turns may refer to."""

    key: str
    value: Any
    step: int
    entity: str
    label: str | None
    path: str


def _compatible(value: Any, schema: dict[str, Any]) -> bool:
    if schema.get("enum") and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    stype = _schema_type(schema)
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    ok = checks.get(stype or "", lambda v: True)(value)
    if ok and stype == "string" and schema.get("format") and isinstance(value, str):
        fmt = schema["format"]
        if fmt == "email" and "@" not in value:
            return False
        if fmt in ("date-time", "date") and not value[:4].isdigit():
            return False
        if fmt == "uri" and "://" not in value:
            return False
    return ok


def record_label(record: dict[str, Any]) -> str | None:
    for field in LABEL_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value:
            return value
    return None


class World:
    """The state of the simulated services during one conversation."""

    def __init__(self, values: ValueFactory, integer_id_keys: frozenset[str] = frozenset(),
                 me: dict[str, str] | None = None):
        self.values = values
        # The user's own name and email: what a tool about the caller (`GET_CURRENT_USER`)
        # answers with, so their profile is theirs.
        self.me = me or {}
        # Id keys some tool of the conversation takes as integers: where a response types
        # such an id as a string (specs disagree, e.g. GoToMeeting's meetingId), it is made
        # of digits so it can be passed on.
        self.integer_id_keys = integer_id_keys
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.produced: list[Produced] = []

    # ------------------------------------------------------------------------------------
    def execute(self, tool: Tool, args: dict[str, Any], step: int) -> Any:
        """The response of `tool` to `args`, recorded in the world."""
        ctx = _Ctx(
            tool=tool,
            action=tool_action(tool),
            step=step,
            flat_args={snake(k): v for k, v in _flatten_args(args)},
            arg_ids={s.key: args[s.name] for s in input_slots(tool.input_schema, tool.original_name)
                     if s.kind == "id" and s.name in args and not isinstance(args[s.name], (list, dict))},
            emails=[v for _, v in _flatten_args(args) if isinstance(v, str) and "@" in v and " " not in v]
            + [e for _, v in _flatten_args(args) if isinstance(v, list) for e in v
               if isinstance(e, str) and "@" in e and " " not in e],
        )
        return self._build(tool.output_schema, (), "", ctx, None, in_list=False)

    # ------------------------------------------------------------------------------------
    def _new_id(self, schema: dict[str, Any], entity: str) -> Any:
        if f"{entity}_id" in self.integer_id_keys and _schema_type(schema) == "string" and not schema.get("examples"):
            return str(self.values.make_id({"type": "integer", "examples": [10**9]}, entity))
        return self.values.make_id(schema, entity)

    def _build(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
               record: dict[str, Any] | None, in_list: bool) -> Any:
        schema = concrete(schema, self.values.rng)
        stype = _schema_type(schema)
        if stype == "object" or "properties" in schema:
            sn = snake(name)
            prior = record.get(sn) if record is not None and isinstance(record.get(sn), dict) else {}
            given = ctx.flat_args.get(sn) if ctx.action in ("create", "update") and not in_list else None
            # What the entity already had, updated by what this call sets.
            echo = {**prior, **(given if isinstance(given, dict) else {})}
            out = self._build_object(schema, path, ctx, in_list, echo=echo or None)
            if record is not None and name:
                # Nested parts (start, organizer, address) belong to the entity that holds them.
                record[sn] = out
            return out
        if stype == "array":
            return self._build_array(schema, path, name, ctx, record, in_list)
        return self._build_leaf(schema, path, name, ctx, record, in_list)

    def _build_object(self, schema: dict[str, Any], path: tuple[str, ...], ctx: "_Ctx", in_list: bool,
                      echo: dict[str, Any] | None = None) -> dict:
        props: dict[str, Any] = {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
        required = set(schema.get("required", []))
        entity = entity_of_object(path, ctx.tool.original_name)
        id_prop = next(
            (p for p, s in props.items()
             if id_entity(p) in ("", entity) and _schema_type(s) in ("string", "integer")), None)
        record: dict[str, Any] | None = None
        id_value: Any = None
        if id_prop is not None:
            given = ctx.arg_ids.get(f"{entity}_id")
            if given is not None and not in_list and ctx.action != "create" and _compatible(given, props[id_prop]):
                id_value = given
            else:
                id_value = self._new_id(props[id_prop], entity)
            record = self.records.setdefault((entity, str(id_value)), {})
            if ctx.action in ("create", "update") and not in_list:
                for key, value in ctx.flat_args.items():
                    record.setdefault(key, value) if ctx.action == "create" else record.__setitem__(key, value)
        out: dict[str, Any] = {}
        for prop, sub in props.items():
            sn = snake(prop)
            if echo is not None and prop in echo and prop != id_prop and schema_validator(sub).is_valid(echo[prop]):
                out[prop] = echo[prop]
                continue
            if sn in ("successful", "success", "ok") and _schema_type(sub) == "boolean":
                out[prop] = True
                continue
            if sn in ("error", "errors", "error_message") and prop not in required:
                continue
            # Optional fields are sometimes left out, as real APIs do, but never ids or what
            # holds them: later calls are grounded on those.
            if prop not in required and not _holds_id(prop, sub) and self.values.rng.random() < 0.15:
                continue
            if prop == id_prop:
                out[prop] = id_value
            else:
                out[prop] = self._build(sub, path + (prop,), prop, ctx, record, in_list)
        label = record_label(record or {}) or record_label({snake(k): v for k, v in out.items()})
        self._index(out, props, path, entity, label, ctx.step, id_prop)
        return out

    def _build_array(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
                     record: dict[str, Any] | None, in_list: bool) -> list:
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        sn = snake(name)
        if any(key in items for key in ("oneOf", "anyOf", "allOf")):
            # Alternatives (imported OpenAPI schemas): each item picks its own.
            lo = int(schema.get("minItems", 1))
            n = self.values.rng.randint(max(lo, 1), max(lo, 3)) if ctx.action == "list" else max(lo, 1)
            limit = result_limit(ctx.flat_args)
            if limit is not None and not in_list:
                n = max(min(n, limit), lo)
            return [self._build(items, path + ("[]",), name, ctx, None, in_list=True) for _ in range(n)]
        if _schema_type(items) != "object":
            if record is not None and sn in record and isinstance(record[sn], list):
                return record[sn]
            echoed = ctx.flat_args.get(sn)
            kind, key = classify(name, schema, "")
            if isinstance(echoed, list) and all(_compatible(v, items) for v in echoed):
                value = echoed
            elif kind == "email" and ctx.emails:
                value = list(ctx.emails)
            elif kind == "id":
                value = [self.values.make_id(items, key[:-3]) for _ in range(self.values.rng.randint(1, 2))]
            else:
                value = self.values.array_value(name, schema)
            if record is not None:
                record[sn] = value
            return value
        if record is not None and isinstance(record.get(sn), list) and schema_validator(schema).is_valid(record[sn]):
            return record[sn]
        echoed = ctx.flat_args.get(sn)
        if isinstance(echoed, list) and echoed and all(isinstance(v, dict) for v in echoed) and not in_list:
            # Objects given in the call (attendees, line items) come back as sent, plus
            # whatever the service adds.
            built = []
            for given in echoed:
                item = self._build_object(items, path + ("[]",), ctx, in_list=True)
                item.update({k: v for k, v in given.items() if k in (items.get("properties") or {})})
                built.append(item)
            return built
        lo = int(schema.get("minItems", 1))
        n = self.values.rng.randint(max(lo, 1), max(lo, 3)) if ctx.action == "list" else max(lo, 1)
        limit = result_limit(ctx.flat_args)
        if limit is not None and not in_list:
            n = max(min(n, limit), lo)  # a page holds at most what the call asked for (minItems wins)
        built = [self._build_object(items, path + ("[]",), ctx, in_list=True) for _ in range(n)]
        if record is not None:
            record[sn] = built
        return built

    def _build_leaf(self, schema: dict[str, Any], path: tuple[str, ...], name: str, ctx: "_Ctx",
                    record: dict[str, Any] | None, in_list: bool) -> Any:
        sn = snake(name)
        # start.dateTime in a response echoes the start.dateTime argument (flattened start_date_time).
        qualified = f"{snake(path[-2])}_{sn}" if len(path) >= 2 else None
        if qualified in ctx.flat_args and not in_list and _compatible(ctx.flat_args[qualified], schema):
            value = ctx.flat_args[qualified]
            if record is not None:
                record[sn] = value
            return value
        if record is not None and sn in record and _compatible(record[sn], schema):
            return record[sn]
        if about_self(ctx.tool.original_name) and not in_list and len(path) <= 3 and self.me:
            mine = self.me.get("email") if "email" in sn else self.me.get("name") if sn in _PERSON_NAME_KEYS else None
            if isinstance(mine, str) and _compatible(mine, schema):
                if record is not None:
                    record[sn] = mine
                return mine
        kind, key = classify(name, schema, "")
        value: Any = None
        found = False
        if kind == "id" and key in ctx.arg_ids and _compatible(ctx.arg_ids[key], schema):
            value, found = ctx.arg_ids[key], True
        elif sn in ctx.flat_args and _compatible(ctx.flat_args[sn], schema) and not in_list:
            value, found = ctx.flat_args[sn], True
        elif kind == "email" and ctx.emails and not in_list and ctx.action in ("create", "update"):
            # The recipient of a sent message is the address it was sent to, whatever the
            # argument was called (to, recipient_email, attendees...).
            value, found = ctx.emails[0], True
        if not found and schema.get("enum") and sn in ("status", "state") and ctx.action in ("create", "update"):
            # A thing just created or changed is in its live state, not a random one.
            live = [v for v in schema["enum"] if str(v).lower() in _LIVE_STATES]
            if live:
                value, found = live[0], True
        if not found:
            if kind == "id":
                value = self._new_id(schema, key[:-3])
            else:
                # A bare time key ("dateTime") takes its meaning from its parent (start / end).
                timed = qualified if qualified and sn in GENERIC_TIME_KEYS else name
                value = self.values.value(timed, schema, holder=entity_of_object(path[:-1], ctx.tool.original_name))
        if record is not None:
            record[sn] = value
        return value

    def _index(self, obj: dict[str, Any], props: dict[str, Any], path: tuple[str, ...], entity: str,
               label: str | None, step: int, id_prop: str | None) -> None:
        where = ".".join(path) or "$"
        for prop, value in obj.items():
            if isinstance(value, (dict, list)) or value is None:
                continue
            sn = snake(prop)
            if prop == id_prop:
                keys = [f"{entity}_id"]
            else:
                kind, key = classify(prop, props.get(prop, {}), entity)
                keys = [key] if kind in ("id", "email") else [sn, f"{entity}_{sn}"]
            for key in keys:
                self.produced.append(Produced(key, value, step, entity, label, f"{where}.{prop}"))

    # ------------------------------------------------------------------------------------
    def find(self, key: str, before_step: int | None = None) -> list[Produced]:
        """Values exposed under `key`, most recent first."""
        hits = [p for p in self.produced if p.key == key and (before_step is None or p.step < before_step)]
        return list(reversed(hits))


_PERSON_NAME_KEYS = frozenset({"name", "display_name", "full_name", "real_name"})


@dataclass
class _Ctx:
    tool: Tool
    action: str
    step: int
    flat_args: dict[str, Any]
    arg_ids: dict[str, Any]
    emails: list[str]


def _holds_id(name: str, schema: dict[str, Any]) -> bool:
    if classify(name, schema, "")[0] == "id":
        return True
    items = schema.get("items")
    if isinstance(items, dict):
        return _holds_id(name, items)
    return any(_holds_id(k, v) for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict))


def _flatten_args(args: dict[str, Any], prefix: str = ""):
    """Top-level arguments plus the leaves of object arguments (start.dateTime -> date_time)."""
    for key, value in args.items():
        yield key, value
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                if not isinstance(sub_value, (dict, list)):
                    yield f"{snake(key)}_{snake(sub_key)}", sub_value
