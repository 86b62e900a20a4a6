"""Natural-language pieces of the offline backend: phrasebook, verb phrases, value mentions."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from funcdex_assets.catalog.fields import snake
from funcdex_assets.catalog.models import Tool

PHRASEBOOK_PATH = Path(__file__).with_name("phrasebook.yaml")

_INDEFINITE_VERBS = {"create", "send", "add", "draft", "schedule", "upload", "post", "book", "insert",
                     "invite", "open", "submit", "new", "write"}
_PAST = {"send": "sent", "get": "got", "find": "found", "make": "made", "write": "wrote",
         "set": "set", "put": "put", "upload": "uploaded", "reply": "replied", "copy": "copied",
         "list": "listed", "fetch": "fetched", "search": "searched", "add": "added", "stop": "stopped"}


@lru_cache(maxsize=1)
def phrasebook() -> dict[str, Any]:
    return yaml.safe_load(PHRASEBOOK_PATH.read_text(encoding="utf-8"))


def pick(rng: random.Random, key: str, **fields: Any) -> str:
    return rng.choice(phrasebook()[key]).format(**fields)


def humanize(name: str) -> str:
    return snake(name).replace("_", " ")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def request_phrase(tool: Tool) -> str:
    """`CREATE_EVENT` -> `create an event`; `LIST_THREADS` -> `list the threads`."""
    words = snake(tool.original_name).split("_")
    if len(words) == 1:
        return f"use {words[0]}"
    verb, rest = words[0], words[1:]
    if rest[0] in ("to", "from", "on", "in", "for", "by"):
        return f"{verb} {rest[0]} the {' '.join(rest[1:])}".strip()
    noun = " ".join(rest)
    if rest[0] in ("all", "multiple", "bulk", "my", "some", "any", "every"):
        return f"{verb} {noun}"
    if verb in _INDEFINITE_VERBS and not rest[-1].endswith("s"):
        return f"{verb} {_article(rest[0])} {noun}"
    return f"{verb} the {noun}"


def ing(phrase: str) -> str:
    verb, _, rest = phrase.partition(" ")
    if verb.endswith("e") and not verb.endswith("ee"):
        verb = verb[:-1]
    elif len(verb) > 2 and verb[-1] in "tpgn" and verb[-2] in "aeiou" and verb[-3] not in "aeiou" and verb not in ("open", "listen"):
        verb = verb + verb[-1]
    return f"{verb}ing {rest}".strip()


def past(verb: str) -> str:
    if verb in _PAST:
        return _PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def tool_verb(tool: Tool) -> str:
    from funcdex_assets.offline.world import action_verb

    return action_verb(tool.original_name)


def entity_phrase(entity: str) -> str:
    return humanize(entity) if entity else "item"


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f'"{value}"' if (" " in value and len(value) < 80) else value
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value[:5])
    if isinstance(value, dict):
        return ", ".join(f"{humanize(k)} {format_value(v)}" for k, v in value.items())
    return str(value)


def mention(args: dict[str, Any]) -> str:
    """`the summary "Q3 plan", start date time 2026-03-05T10:00:00Z` for stated arguments."""
    parts = []
    for key, value in args.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{humanize(key)} {humanize(k)} {format_value(v)}" for k, v in value.items()
                              if not isinstance(v, (dict, list)))
            if inner:
                parts.append(inner)
            continue
        parts.append(f"{humanize(key)} {format_value(value)}")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
