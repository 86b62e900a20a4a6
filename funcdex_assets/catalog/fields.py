"""What a tool's fields mean: ids, emails, dates, and which entity an id belongs to.

The tool graph, the offline generator and the grounding metric all need to know that
`eventId` (an input of one tool) and `data.events[].id` (an output of another) are the same
kind of value. Names are the only signal every input format has, so this module reads them:
camelCase and snake_case are normalised, plurals singularised, and a bare `id` takes its
entity from the object that holds it or, at the top of a response, from the tool's own name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Containers that say nothing about what they hold.
_GENERIC_CONTAINERS = frozenset(
    {"data", "items", "results", "result", "records", "values", "value", "entries", "list",
     "response", "response_data", "payload", "objects", "nodes", "edges", "body", "resource",
     "collection", "page", "content"}
)
# Verbs and qualifiers that start tool names; the entity is what follows them.
NAME_NOISE = frozenset(
    {"get", "list", "create", "update", "delete", "remove", "add", "fetch", "find", "search",
     "send", "reply", "to", "by", "a", "an", "the", "of", "for", "in", "on", "new", "all",
     "retrieve", "modify", "move", "copy", "patch", "set", "insert", "batch", "details",
     "metadata", "info", "quick", "upload", "download", "cancel", "close", "complete",
     "reopen", "archive", "mark", "as", "read", "unread", "trash", "invite", "post", "edit", "id", "ids",
     "uuid", "key"}
)
_ID_SUFFIXES = ("_id_or_key", "_ids", "_id", "_gid", "_gids", "_uuid", "_uri")


@lru_cache(maxsize=1 << 16)
def snake(name: str) -> str:
    """`issueIdOrKey` -> `issue_id_or_key`; `calendar-id` -> `calendar_id`. Cached: a catalog has a
    few thousand field names, asked for again for every value of every conversation."""
    name = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return _NON_ALNUM.sub("_", name.lower()).strip("_")


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def entity_word(name: str) -> str:
    """`scheduled_events` -> `scheduled_event`: snake case, last word singular."""
    parts = snake(name).split("_")
    return "_".join(parts[:-1] + [singular(parts[-1])])


def tool_entity(original_name: str) -> str:
    """The entity a tool acts on, from its name: `CREATE_EVENT` -> `event`."""
    words = [w for w in snake(original_name).split("_") if w]
    nouns = [w for w in words if w not in NAME_NOISE]
    return singular(nouns[-1] if nouns else (words[-1] if words else "item"))


def id_entity(field_name: str) -> str | None:
    """Entity of an id-named field, `''` for a bare `id`, None when it is no id."""
    s = snake(field_name)
    # Calendly and other REST-ful APIs identify objects by their canonical `uri`.
    if s in {"id", "gid", "uuid", "ids", "gids", "uri"}:
        return ""
    for suffix in _ID_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return entity_word(s[: -len(suffix)])
    return None


_NAMED_IDENTIFIER = re.compile(r"^(?:the\s+)?([a-z][a-z0-9 _-]*?)\s+(?:identifier|id)\b")


def _describes_id(schema: dict[str, Any], name: str = "") -> bool:
    desc = str(schema.get("description", "")).lower()
    if desc.startswith(("id of", "the id of", "identifier of", "the identifier of", "id for")):
        return True
    # "Task list identifier." for `tasklist` (Google's discovery specs): the description
    # names the field itself as an identifier.
    match = _NAMED_IDENTIFIER.match(desc)
    return bool(name and match and re.sub(r"[^a-z0-9]", "", match.group(1)) == re.sub(r"[^a-z0-9]", "", name.lower()))


@dataclass(frozen=True)
class Slot:
    """One field of a tool's input or output with its meaning.

    `kind` is one of `id`, `email`, `datetime`, `date`, `value`. For ids, `key` is
    `<entity>_id`, the join key of the tool graph; for emails it is `email`.
    """

    path: tuple[str, ...]
    name: str
    kind: str
    key: str
    schema: dict[str, Any]
    required: bool = False
    entity: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """Join keys this field is reachable under (ids by entity, values also qualified)."""
        if self.kind in ("id", "email"):
            return (self.key,)
        plain = snake(self.name)
        return (plain, f"{self.entity}_{plain}") if self.entity else (plain,)


def classify(name: str, schema: dict[str, Any], default_entity: str) -> tuple[str, str]:
    """(kind, join key) of a field; `default_entity` names a bare `id`."""
    fmt = schema.get("format", "")
    stype = schema.get("type")
    item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    if stype == "array" and item_schema.get("type") in ("string", "integer"):
        fmt = fmt or item_schema.get("format", "")
    entity = id_entity(name)
    if entity is not None and stype in ("string", "integer", "array", None):
        return "id", f"{entity or default_entity}_id"
    if fmt == "email" or snake(name).endswith("email"):
        return "email", "email"
    if stype in ("string", "integer") and _describes_id(schema, name):
        return "id", f"{entity_word(name)}_id"
    if fmt == "date-time":
        return "datetime", "datetime"
    if fmt == "date":
        return "date", "date"
    return "value", snake(name)


def input_slots(input_schema: dict[str, Any], tool_original_name: str) -> list[Slot]:
    """Top-level inputs of a tool with their meaning, in schema order."""
    required = set(input_schema.get("required", []))
    entity = tool_entity(tool_original_name)
    slots = []
    for name, schema in (input_schema.get("properties") or {}).items():
        if not isinstance(schema, dict):
            continue
        kind, key = classify(name, schema, entity)
        slots.append(Slot((name,), name, kind, key, schema, name in required))
    return slots


def output_slots(output_schema: dict[str, Any], tool_original_name: str) -> list[Slot]:
    """Every leaf of a response schema with its meaning; arrays appear as `[]` in paths."""
    return list(_walk_output(output_schema, (), tool_entity(tool_original_name), None))


def _walk_output(
    schema: dict[str, Any], path: tuple[str, ...], tool_ent: str, holder: str | None
) -> Iterator[Slot]:
    stype = schema.get("type")
    if stype == "array" and isinstance(schema.get("items"), dict):
        yield from _walk_output(schema["items"], path + ("[]",), tool_ent, holder)
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for name, sub in props.items():
            if not isinstance(sub, dict):
                continue
            sub_type = sub.get("type")
            if sub_type == "object" or (sub_type == "array" and (sub.get("items") or {}).get("type") == "object"):
                s = snake(name)
                sub_holder = holder if s in _GENERIC_CONTAINERS else entity_word(s)
                yield from _walk_output(sub, path + (name,), tool_ent, sub_holder)
                continue
            kind, key = classify(name, sub, holder or tool_ent)
            yield Slot(path + (name,), name, kind, key, sub, entity=holder or tool_ent)
        return


def entity_of_object(path: tuple[str, ...], tool_original_name: str) -> str:
    """Entity an object at `path` of a response describes (for `id` fields inside it)."""
    for part in reversed(path):
        if part == "[]":
            continue
        s = snake(part)
        if s not in _GENERIC_CONTAINERS:
            return entity_word(s)
    return tool_entity(tool_original_name)


def is_id_like(name: str, schema: dict[str, Any] | None = None) -> bool:
    """Whether an argument name denotes an opaque identifier a user would not know."""
    schema = schema or {}
    if id_entity(name) is not None:
        return True
    return bool(schema) and _describes_id(schema, name)


# Arguments that cap how many items a call returns (snake_case); Calendly's and Slack's page
# size is `count`.
LIMIT_KEYS = frozenset({"limit", "max_results", "maxresults", "page_size", "pagesize", "per_page", "max_items",
                        "num_results", "top", "max_count", "results_per_page", "number_of_results", "first", "count"})


def result_limit(arguments: dict[str, Any]) -> int | None:
    """The most items a call with these arguments asked for (a positive `limit`, `maxResults`,
    `page_size`, ...), or None when it set no limit."""
    for key, value in arguments.items():
        if snake(key) in LIMIT_KEYS and not isinstance(value, bool):
            try:
                n = int(value)
            except (TypeError, ValueError):
                continue
            if n > 0:
                return n
    return None
