"""Natural-language pieces of the offline backend: phrasebook, verb phrases, value mentions."""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from funcdex_assets.catalog.actions import ALL_VERBS
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


def phrasings(key: str, tone: str | None = None) -> list[str]:
    """The templates of phrasebook entry `key` a speaker of `tone` uses. An entry is a list
    (everyone's) or a mapping `{any: [...], <tone>: [...]}`: `any` plus the tone's own list; all
    of them when `tone` is None or has no list of its own. Raises KeyError for an unknown key."""
    entry = phrasebook()[key]
    if not isinstance(entry, dict):
        return list(entry)
    if tone in entry and tone != "any":
        return [*entry.get("any", []), *entry[tone]]
    return [t for texts in entry.values() for t in texts]


def pick(rng: random.Random, key: str, tone: str | None = None, /, **fields: Any) -> str:
    """One template of `key` (see `phrasings`) for a speaker of `tone`, chosen by `rng`, filled
    with `fields` (a template may itself have a `{tone}` field: `tone` is positional only)."""
    return rng.choice(phrasings(key, tone)).format(**fields)


def humanize(name: str) -> str:
    return snake(name).replace("_", " ")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# Verbs an operation summary may start with, and the third-person forms API docs use
# ("Returns all tasks ...") mapped to the request a user makes.
_SUMMARY_VERBS = {"perform", "archive", "assign", "cancel", "clear", "copy", "count", "disable", "enable", "export", "import",
                  "merge", "publish", "reset", "resend", "restore", "share", "start", "stop", "test", "validate",
                  "verify", "watch", "approve", "reject", "activate", "deactivate", "subscribe", "unsubscribe"}
_TO_GET = {"return", "retrieve", "fetch", "view", "show", "obtain", "lookup", "read"}
# A name this long is generated (method + path, a namespaced operationId), not phrased.
_MAX_NAME_WORDS = 5
_MAX_SUMMARY_WORDS = 10


@lru_cache(maxsize=1)
def _known_verbs() -> frozenset[str]:
    # `quick` (QUICK_ADD) is a verb to the world model only as part of quick-add.
    return (ALL_VERBS | _SUMMARY_VERBS | _TO_GET) - {"quick"}


def summary_phrase(description: str) -> str | None:
    """The description's first sentence as a request, when it is a short verb phrase:
    `Returns all tasks in the specified task list.` -> `get all tasks in the specified task list`."""
    text = description.strip().removeprefix("[Deprecated]").strip()
    first = re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0].strip().rstrip(".!?")
    # What follows a comma, a colon or "such as" is detail, not the request.
    first = re.split(r",|:|;| such as | \(| - ", first, maxsplit=1)[0].strip()
    # How the API reads its input is no part of what a person asks for ("create an event from
    # a natural-language sentence" is "create an event").
    first = _HOW_READ.sub("", first).strip()
    words = first.split()
    if not words or len(words) > _MAX_SUMMARY_WORDS or not re.fullmatch(r"[A-Za-z][A-Za-z' ,/()-]*", first):
        return None
    verb = words[0].lower()
    known = _known_verbs()
    for base in (verb, verb[:-1] if verb.endswith("s") else "", verb[:-2] if verb.endswith("es") else ""):
        if base and base in known:
            verb = "get" if base in _TO_GET else base
            return " ".join([verb, *words[1:]])
    return None


_HOW_READ = re.compile(r"\s+(from|using|with|via|out of) (an? |the )?(natural[- ]language|plain[- ]text|free[- ]form|"
                       r"free[- ]text|unstructured)\b.*$", re.I)
# API verbs people do not say: a PATCH is an update, a Jira transition moves an issue along.
_PLAIN_VERBS = {"patch": "update", "lookup": "look up", "transition": "move"}
# Nouns with no "a" before them ("insert text", "send media").
_MASS_NOUNS = frozenset({"text", "media", "info", "metadata", "data", "content", "information", "feedback", "markdown"})
# Words of API nouns people put otherwise: a content range is text, an event's instances are its
# occurrences; a trailing format is what the thing is made from ("a document from markdown").
_PLAIN_NOUNS = {("content", "range"): ("text",), ("instances",): ("occurrences",),
                # API names of things people call otherwise: a Docs "paragraph bullets" request
                # makes a bulleted list, an inline image is an image, metadata is a file's details,
                # a payment intent is a payment, an event type's available times are its open times.
                ("paragraph", "bullets"): ("bulleted", "list"), ("inline", "image"): ("image",),
                ("file", "metadata"): ("details",), ("media", "info"): ("details",),
                ("payment", "intent"): ("payment",), ("event", "type", "available", "times"): ("open", "times"),
                ("event", "invitees"): ("invitees",), ("event", "invitee"): ("invitee",),
                ("interactive", "buttons"): ("message", "with", "reply", "buttons"),
                ("no", "show"): ("as", "a", "no-show")}
# Whole requests an API names in its own terms, as people make them.
_PLAIN_REQUESTS = {"add a file sharing preference": "share the file", "create a file from text": "create a text file",
                   "get the profile": "get my profile", "get the business profile": "get my business profile",
                   "get the current user": "get my account details", "get the transitions": "get the available transitions",
                   "create an invitee": "book a meeting",
                   "send the message with reply buttons": "send a message with reply buttons"}
_FORMATS = frozenset({"markdown", "html", "json", "csv", "xml"})
_LOOKUP_KEYS = frozenset({"id", "ids", "gid", "uuid", "email", "name", "username", "phone", "key", "slug"})

# Verbs that need an object before "to the ..." ("move it to the trash"; "reply to the thread" needs none).
_MOVING_VERBS = frozenset({"move", "copy", "send", "add", "upload", "save", "export", "archive"})


def request_phrase(tool: Tool) -> str:
    """`CREATE_EVENT` -> `create an event`; `LIST_THREADS` -> `list the threads`; `EVENTS_LIST` ->
    `list the events`; a generated name (`get_crm_v3_extensions_cards_appId_getAll`,
    `tasks.tasks.clear`) -> its summary (`get all cards`) when that is a short verb phrase. API
    names of things come out in the words people use (`CREATE_PARAGRAPH_BULLETS` -> `create a
    bulleted list`, `ADD_FILE_SHARING_PREFERENCE` -> `share the file`)."""
    phrase = _request_phrase(tool)
    return _PLAIN_REQUESTS.get(phrase, phrase)


def _request_phrase(tool: Tool) -> str:
    """The request as the tool's name spells it, before `_PLAIN_REQUESTS`."""
    # CREATE_AN_ISSUE: the name's own articles are no part of the phrase.
    words = [w for w in snake(tool.original_name).split("_") if w not in ("a", "an", "the")] or ["use"]
    known = _known_verbs()
    if len(words) > _MAX_NAME_WORDS or words[0] not in known:
        summary = summary_phrase(tool.description)
        if summary:
            return summary
    if len(words) == 1:
        return f"use {words[0]}"
    if words[0] not in known and any(w in known for w in words[1:]):
        # `EVENTS_LIST`, Google's `tasks.tasklists.list`: the verb comes last; a leading service
        # name (`tasks` before `tasklists`) and repeats are dropped.
        at = next(i for i, w in enumerate(words) if w in known)
        nouns = [w for i, w in enumerate(words) if i != at]
        if len(nouns) > 1 and nouns[1].startswith(nouns[0].rstrip("s")):
            nouns = nouns[1:]
        words = [words[at], *nouns]
    verb, rest = words[0], words[1:]
    # `FETCH_MESSAGE_BY_THREAD_ID`: how the API finds it is no part of the request; and
    # `ADD_LABEL_TO_EMAIL`: what it goes on is the request's target ("add a label to that
    # message"), not a second "to email".
    if "by" in rest[1:] and rest[-1] in _LOOKUP_KEYS:
        rest = rest[:rest.index("by", 1)]
    if verb in ("add", "remove", "invite") and ({"to", "from"} & set(rest[1:])):
        rest = rest[:min(rest.index(p, 1) for p in ("to", "from") if p in rest[1:])]
    verb = _PLAIN_VERBS.get(verb, verb)
    rest = _plain_nouns(rest)
    if len(rest) >= 2 and rest[-1] in _FORMATS and rest[-2] not in ("from", "to", "as"):
        # CREATE_DOCUMENT_MARKDOWN: a document made from markdown.
        rest = [*rest[:-1], "from", rest[-1]]
    if rest[0] in ("to", "into", "from") and verb in _MOVING_VERBS and len(rest) > 1:
        # MOVE_TO_TRASH: "move it to the trash" (a request names the thing in place of "it").
        return f"{verb} it {rest[0]} the {' '.join(rest[1:])}"
    if rest[0] in ("to", "from", "on", "in", "for", "by"):
        return f"{verb} {rest[0]} the {' '.join(rest[1:])}".strip()
    noun = " ".join(rest)
    if rest[0] in ("all", "multiple", "bulk", "my", "some", "any", "every"):
        return f"{verb} {noun}"
    head = rest[rest.index("from") - 1] if "from" in rest[1:] else rest[-1]
    if verb in _INDEFINITE_VERBS and head in _MASS_NOUNS:
        return f"{verb} {noun}"
    if verb in _INDEFINITE_VERBS and not head.endswith("s"):
        return f"{verb} {_article(rest[0])} {noun}"
    return f"{verb} the {noun}"


def _plain_nouns(rest: list[str]) -> list[str]:
    """`_PLAIN_NOUNS` applied: ['content', 'range'] -> ['text']."""
    out = list(rest)
    for jargon, plain_words in _PLAIN_NOUNS.items():
        for i in range(len(out) - len(jargon) + 1):
            if tuple(out[i:i + len(jargon)]) == jargon:
                out[i:i + len(jargon)] = plain_words
                break
    return out


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
    """The verb of the tool's request phrase (`list` for `EVENTS_LIST`)."""
    return request_phrase(tool).split(" ", 1)[0]


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
