"""`parameter_dictation`: a user message that reads out a call's parameters instead of saying what
the user wants ("list the calendars with max results 1 and show hidden yes").

For each call, the user messages it answers (those since the previous call: a request and a
clarification answer) are searched for arguments of that call written the way an API call is:
the parameter's name (humanised, `maxResults` -> "max results", or verbatim, `max_results`)
followed within a separator (":", "=", "of", "is", "to", "set to", a quote) by the exact value
the call passes. One such pair may be the user's own words ("with the subject 'Lunch'", "make
the preheader ...", "consignment ref BRK-0526"); it is dictation when the name holds an API
word ("max results", "order by", "limit", "sort", "q"), when it is written as an identifier
(`max_results`), when the value is API-shaped (a boolean read as yes / no / true / false, an
ISO date-time with its "T": "show hidden yes", "due at 2026-09-21T11:00:00Z"), or when a
message reads out two or more pairs ("with description ..., priority Medium and summary ...").
Names that are prepositions ("to", "from") and ids ("my app id is 862824" is how users give one)
never count.
"""

from __future__ import annotations

import re
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.catalog.actions import words
from funcdex_assets.quality.detectors.values import is_id_value, leaves
from funcdex_assets.quality.dialogue import Dialogue, Message
from funcdex_assets.quality.findings import Finding

API_WORDS = frozenset({"limit", "offset", "sort", "order", "page", "cursor", "fields", "format", "q", "max", "min",
                       "expand", "include", "scope", "projection", "alt", "verbose", "pretty", "count", "top", "skip",
                       "orderby", "sortby", "pagesize", "maxresults", "singleevents", "showdeleted", "fields"})
_BOOL_WORDS = {True: ("yes", "true", "on", "enabled"), False: ("no", "false", "off", "disabled")}
_SEPARATOR = re.compile(r"\s*(?:[:=]|set to\b|of\b|is\b|to\b|as\b|equal to\b)?\s*[\"'“‘(]?", re.I)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")
# "send it to bob@acme.io", "emails from dana@acme.io": a preposition, not a parameter name.
_PREPOSITIONS = frozenset({"to", "from", "cc", "bcc", "at", "on", "in", "for", "by", "with", "of", "into",
                           # stated with their name by everyone ("latitude 28.71, longitude -120.3")
                           "latitude", "longitude", "lat", "lng", "lon"})


def _renderings(value: Any) -> list[tuple[str, bool]]:
    """(how the value may be written, whether that is all of it)."""
    if isinstance(value, bool):
        return [(w, True) for w in _BOOL_WORDS[value]]
    if isinstance(value, (int, float)):
        return [(str(value), True)]
    if isinstance(value, str):
        v = value.strip()
        return [(v[:40], len(v) <= 40)] if v else []
    return []


def _phrase_forms(key: str) -> list[tuple[str, bool]]:
    """(how the name may be written, whether that form is identifier-like)."""
    human = snake(key).replace("_", " ")
    forms = [(human, False)]
    if key != human and ("_" in key or re.search(r"[a-z][A-Z]", key)):
        forms.append((key, True))
    return forms


def _followed_by(text: str, lower: str, phrase: str, rendering: str, whole: bool) -> str | None:
    """The span "phrase <separator> rendering" in `text` (as whole words; a truncated rendering
    may go on), None if absent."""
    phrase, rendering = phrase.lower(), rendering.lower()
    start = lower.find(phrase)
    while start >= 0:
        before = lower[start - 1] if start else " "
        if not (before.isalnum() or before in "_-"):
            at = _SEPARATOR.match(lower, start + len(phrase)).end()
            end = at + len(rendering)
            after = lower[end] if end < len(lower) else " "
            if lower.startswith(rendering, at) and not (whole and (after.isalnum() or after in "_-")):
                return text[start:end]
        start = lower.find(phrase, start + 1)
    return None


def _read_out(text: str, key: str, value: Any) -> tuple[str, bool] | None:
    """(the span, whether it alone is dictation) when `text` reads out `key` and `value`."""
    lower = text.lower()
    for rendering, whole in _renderings(value):
        for phrase, verbatim in _phrase_forms(key):
            said = _followed_by(text, lower, phrase, rendering, whole) if phrase else None
            if said is None:
                continue
            api_value = isinstance(value, bool) or bool(_ISO_DATETIME.match(str(value)))
            name = phrase.lower()
            # A single word people may use for the thing ("preheader", "assignee") is a request, and
            # so is a compound whose head is one ("target url", "billing email"); several words
            # ending in something else ("max results", "show hidden") or an API word are not.
            parts = name.split(" ")
            # Alone, only what no one says counts: an API word ("max results", "order by"), an
            # identifier (`max_results`) or an API-shaped value ("show hidden yes", "...T09:00Z").
            # A plain two-word name ("consignment ref", "from cue") may be the user's own words;
            # several pairs in one message are a form read out (below).
            return said, verbatim or api_value or any(p in API_WORDS for p in parts)
    return None


def _request(d: Dialogue, call_index: int) -> list[Message]:
    """The user messages a call answers: those since the previous call (a clarification answer
    and the request it completes)."""
    out: list[Message] = []
    for m in reversed(d.messages[:call_index]):
        if m.calls and out:
            break
        if m.role == "user":
            out.append(m)
    return out


def parameter_dictation(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    flagged: set[int] = set()
    for call in d.calls:
        for user in _request(d, call.index):
            if user.index in flagged:
                continue
            # Stating an id is how users give one ("my app id is 862824"); prepositions are not names.
            found = [hit for leaf in leaves(call.arguments, d.tools.get(call.name))
                     if words(leaf.key) and words(leaf.key)[-1] not in _PREPOSITIONS and not is_id_value(leaf)
                     for hit in [_read_out(user.text, leaf.key, leaf.value)] if hit]
            # One natural "with the subject 'Lunch'" is a request; a list of them is a form read out.
            strong = [said for said, alone in found if alone]
            if strong or len(found) >= 2:
                flagged.add(user.index)
                said = strong[0] if strong else "', '".join(said for said, _ in found[:3])
                out.append(Finding(code="parameter_dictation", message_index=user.index, message=(
                    f"the user reads out {call.name}'s parameters: '{said}'")))
    return out
