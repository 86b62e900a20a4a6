"""What a value in a call or a result is: an id, an email, a person's name, an amount, a date.

Detectors judge arguments by kind (an id must come from somewhere; a body is composed), so
every argument leaf is visited with its key and the sub-schema that describes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from funcdex_assets.catalog.actions import words
from funcdex_assets.catalog.fields import is_id_like, snake

EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# An opaque token: no spaces, long enough, mixing digits in (or an API resource URL).
_OPAQUE = re.compile(r"^(?=[^\s]*\d)[A-Za-z0-9_.:/#@+=-]{6,}$")
_URL = re.compile(r"^https?://\S+$")
# Keywords that stand for the caller's own things; not ids anyone has to give.
ID_KEYWORDS = frozenset({"me", "self", "primary", "default", "current", "all", "any", "none", "root", "inbox",
                         "~", "@me", "my_drive", "mydrive", "myself", "sent", "drafts", "trash", "spam",
                         "starred", "important", "unread"})
# Argument names whose value the assistant composes: never "unsourced", never dictated ids.
COMPOSED = frozenset({"body", "text", "message", "message_body", "content", "description", "subject", "title",
                      "summary", "notes", "note", "comment", "query", "q", "search", "search_query", "keyword",
                      "keywords", "prompt", "instructions", "reason", "caption", "markdown", "html", "snippet",
                      "details", "agenda", "bio", "signature", "filter", "label", "labels", "tags", "tag", "topic",
                      "name", "display_name", "task_name", "project_name", "file_name", "filename", "folder_name",
                      "calendar_name", "location", "color", "status", "url", "link"})
PERSON_WORDS = frozenset({"person", "user", "customer", "contact", "recipient", "attendee", "assignee", "owner",
                          "sender", "invitee", "guest", "member", "employee", "candidate", "patient", "client",
                          "passenger", "traveler", "traveller", "buyer", "author", "reviewer", "reporter",
                          "organizer", "host", "account_holder", "cardholder"})
AMOUNT_WORDS = frozenset({"amount", "price", "total", "cost", "fee", "unit_amount", "salary", "budget", "balance",
                          "subtotal", "payment", "charge", "refund", "tip", "deposit", "credit", "debit"})
PHONE_WORDS = frozenset({"phone", "mobile", "whatsapp", "tel", "telephone", "msisdn", "cell", "sms", "wa_id"})


@dataclass(frozen=True)
class Leaf:
    key: str  # the argument's own name (innermost key), as written
    path: str  # dotted path from the arguments object, list steps as []
    value: Any
    schema: dict[str, Any]  # the sub-schema describing it ({} when unknown)


def _sub(schema: dict[str, Any], key: str) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    sub = props.get(key) if isinstance(props, dict) else None
    return sub if isinstance(sub, dict) else {}


def leaves(arguments: Any, schema: dict[str, Any] | None = None, key: str = "", path: str = "") -> Iterator[Leaf]:
    """Every scalar leaf of a call's arguments with its key and sub-schema."""
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(arguments, dict):
        for k, v in arguments.items():
            yield from leaves(v, _sub(schema, k), str(k), f"{path}.{k}" if path else str(k))
    elif isinstance(arguments, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        for v in arguments:
            yield from leaves(v, items, key, f"{path}[]")
    elif arguments is not None:
        yield Leaf(key, path, arguments, schema)


def from_schema(leaf: Leaf) -> bool:
    """The value is one the schema itself offers: an enum value, the default or the const."""
    s = leaf.schema
    if "const" in s and s["const"] == leaf.value:
        return True
    if "default" in s and s["default"] == leaf.value:
        return True
    return isinstance(s.get("enum"), list) and leaf.value in s["enum"]


def is_id_value(leaf: Leaf) -> bool:
    """An identifier a user would not make up: a string or integer under a key named (or
    described) like an id, other than a keyword such as `me` or `primary`."""
    if isinstance(leaf.value, bool) or not isinstance(leaf.value, (str, int)):
        return False
    return str(leaf.value).strip().lower() not in ID_KEYWORDS and is_id_like(leaf.key, leaf.schema)


def is_opaque(value: Any) -> bool:
    """A value shaped like an identifier (for tracking deletions of values under any key)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 1000
    return isinstance(value, str) and (bool(_OPAQUE.match(value)) or bool(_URL.match(value)))


def is_email(value: Any) -> bool:
    return isinstance(value, str) and bool(EMAIL.match(value.strip()))


def is_person_name_key(key: str) -> bool:
    ws = words(key)
    if ws in (["first", "name"], ["last", "name"], ["full", "name"], ["given", "name"], ["family", "name"],
              ["surname"], ["firstname"], ["lastname"], ["fullname"]):
        return True
    return len(ws) >= 2 and ws[-1] == "name" and "_".join(ws[:-1]) in PERSON_WORDS


def is_amount_key(key: str) -> bool:
    s = snake(key)
    return s in AMOUNT_WORDS or (any(w in AMOUNT_WORDS for w in words(key)) and not s.endswith(("_id", "_type")))


def is_phone(leaf: Leaf) -> bool:
    if not isinstance(leaf.value, (str, int)) or isinstance(leaf.value, bool):
        return False
    if not 7 <= len(digits(str(leaf.value))) <= 15:
        return False
    if any(w in PHONE_WORDS for w in words(leaf.key)) or leaf.key.lower() in ("to", "from", "number"):
        return bool(re.fullmatch(r"\+?[\d\s().-]{7,20}", str(leaf.value)))
    return False


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)
