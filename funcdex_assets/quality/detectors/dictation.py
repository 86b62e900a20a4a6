"""`parameter_dictation`: a user message that reads out a call's parameters instead of saying what
the user wants ("list the calendars with max results 1 and show hidden yes").

For each call, the user message it answers (the last one before it) is searched for an argument
of that call written the way an API call is: the parameter's name (humanised, `maxResults` ->
"max results", or verbatim, `max_results`) followed within a separator (":", "=", "of", "is",
"to", "set to", a quote) by the exact value the call passes. That alone is natural for names
people use ("subject", "due date", "time zone"); it is dictation when the name is one people do
not say (two words or more outside the natural list, or an API word like "limit", "sort", "q"),
when the name is written as an identifier, or when the value is API-shaped: a boolean read as
yes / no / true / false, or an ISO date-time with its "T".
"""

from __future__ import annotations

import re
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.detectors.values import leaves
from funcdex_assets.quality.dialogue import Dialogue, Message
from funcdex_assets.quality.findings import Finding

# Parameter names people use in speech; "with the subject 'Q3'" is a request, not dictation.
NATURAL = frozenset({
    "subject", "title", "name", "query", "body", "message", "text", "description", "summary", "location", "content",
    "notes", "note", "comment", "date", "time", "amount", "email", "phone", "priority", "status", "label", "color",
    "colour", "address", "city", "country", "quantity", "reason", "duration", "currency", "tag", "tags", "project",
    "assignee", "url", "link", "category", "to", "from", "cc", "bcc", "recipient", "recipients", "attendees",
    "guests", "owner", "title", "channel", "folder", "file", "team", "topic", "agenda", "price", "size", "language",
    "timezone", "deadline", "due", "type", "kind", "role", "password", "username", "company", "department",
    "due date", "start date", "end date", "start time", "end time", "phone number", "email address", "first name",
    "last name", "full name", "time zone", "display name", "zip code", "postal code", "file name", "due time",
    "job title", "company name", "street address", "account name", "project name", "task name", "folder name",
    "check in", "check out", "return date", "departure date", "birth date", "date of birth",
})
_BOOL_WORDS = {True: ("yes", "true", "on", "enabled"), False: ("no", "false", "off", "disabled")}
_SEPARATOR = r"\s*(?:[:=]|\bset to\b|\bof\b|\bis\b|\bto\b|\bas\b|\bequal to\b)?\s*[\"'“‘(]?"
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


def _renderings(value: Any) -> list[str]:
    if isinstance(value, bool):
        return list(_BOOL_WORDS[value])
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, str):
        v = value.strip()
        return [v[:40]] if v else []
    return []


def _phrase_forms(key: str) -> list[tuple[str, bool]]:
    """(how the name may be written, whether that form is identifier-like)."""
    human = snake(key).replace("_", " ")
    forms = [(human, False)]
    if key != human and ("_" in key or re.search(r"[a-z][A-Z]", key)):
        forms.append((key, True))
    return forms


def _dictated(text: str, key: str, value: Any) -> str | None:
    for rendering in _renderings(value):
        for phrase, verbatim in _phrase_forms(key):
            if not phrase:
                continue
            m = re.search(rf"(?<![\w-]){re.escape(phrase)}{_SEPARATOR}{re.escape(rendering)}(?![\w-])", text, re.I)
            if not m:
                continue
            api_value = isinstance(value, bool) or bool(_ISO_DATETIME.match(str(value)))
            if verbatim or api_value or phrase.lower() not in NATURAL:
                return m.group(0)
    return None


def _user_before(d: Dialogue, index: int) -> Message | None:
    for m in reversed(d.messages[:index]):
        if m.role == "user":
            return m
    return None


def parameter_dictation(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    flagged: set[int] = set()
    for call in d.calls:
        user = _user_before(d, call.index)
        if user is None or user.index in flagged:
            continue
        for leaf in leaves(call.arguments, d.tools.get(call.name)):
            said = _dictated(user.text, leaf.key, leaf.value)
            if said:
                flagged.add(user.index)
                out.append(Finding(code="parameter_dictation", message_index=user.index, message=(
                    f"the user reads out {call.name}'s parameter: {said!r}")))
                break
    return out
