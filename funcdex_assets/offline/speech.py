"""How a user states values in their own words, never as a form read out.

People say what a value is for, not which parameter takes it: "called "Q3 plan"", "that
mention "invoice"", "on March 5 at 10:00 UTC", "just the first 25", ""Medium" as the
priority". The value comes first when a field has to be named, so no message reads
"<parameter> <value>" (the `parameter_dictation` detector, docs/quality.md). Phrases come from
the phrasebook (`say_*` entries), chosen by the request's own random generator; each part
carries its own connector ("called", "with ... as the"), so parts join with commas.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.offline.language import humanize, pick
from funcdex_assets.offline.values import described_examples

# Last word of a parameter name, and what kind of value it holds for a user.
_COUNT = frozenset({"limit", "max", "count", "size", "top", "num", "results", "number"})
_TITLE = frozenset({"title", "name", "summary", "subject", "label", "heading", "displayname"})
_TEXT = frozenset({"description", "body", "text", "message", "content", "notes", "note", "comment", "caption",
                   "bio", "details", "reason", "instructions"})
_QUERY = frozenset({"q", "query", "search", "keyword", "keywords", "term", "filter"})
_RECIPIENT = frozenset({"to", "recipient", "recipients", "cc", "bcc"})
# Places and tags people name ("at the Berlin office", "tag it urgent").
_PLACE = frozenset({"location", "address", "venue", "place", "city"})
_TAG = frozenset({"label", "labels", "tag", "tags"})
# Also said: a currency ("in euros"), a phone number, a file name.
_SAID = frozenset({"currency", "phone", "filename"})
_FROM = frozenset({"min", "start", "from", "after", "since", "begin"})
_UNTIL = frozenset({"max", "end", "to", "until", "before"})
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _words(key: str) -> list[str]:
    return [w for w in snake(key).split("_") if w]


def spoken_date(value: str) -> str | None:
    """"March 5, 2026 at 10:00 UTC" for an ISO date-time, "March 5, 2026" for a date; None if
    `value` is neither."""
    try:
        if _DATE.match(value):
            d = date.fromisoformat(value)
            return f"{d:%B} {d.day}, {d.year}"
        if _DATETIME.match(value):
            t = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            zone = "UTC" if t.utcoffset() is not None and not t.utcoffset() else (t.strftime("%z") or "")
            zone = f" {zone[:3]}:{zone[3:]}" if zone and zone != "UTC" else (" UTC" if zone else "")
            return f"{t:%B} {t.day}, {t.year} at {t:%H:%M}{zone}"
    except ValueError:
        return None
    return None


_PLAIN_WORDS = re.compile(r"[A-Za-z][a-z]*(?: [A-Za-z][a-z]*){0,2}")


def speakable(key: str, value: Any, schema: dict[str, Any]) -> bool:
    """Whether a person would state this optional value in a request: titles, texts, queries,
    recipients, times, addresses, counts and plain-word choices ("High" priority, "blue") are
    things people say; API vocabulary ("labelShowIfUnread", "externalOnly") and filler words
    in a free string field are not (the `parameter_dictation` detector, docs/quality.md)."""
    words = _words(key)
    last = words[-1] if words else key.lower()
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        # Counts, priorities, amounts: a person says 3 or 25, not 1787044500 days.
        return abs(value) <= 10_000 or any(w in ("amount", "price", "cents") for w in words)
    if isinstance(value, dict):
        return all(speakable(k, v, (schema.get("properties") or {}).get(k, {})) for k, v in value.items())
    if isinstance(value, list):
        item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return bool(value) and all(speakable(key, v, item_schema) for v in value)
    if not isinstance(value, str):
        return False
    if spoken_date(value) or ("@" in value and " " not in value):
        return True
    # A link people paste, and a word from the field's documented vocabulary ("Bug" for an
    # issue type that is "e.g. Task, Bug, Story, Epic").
    if value.startswith(("https://", "http://")) and " " not in value:
        return True
    if value in described_examples(schema) and _PLAIN_WORDS.fullmatch(value):
        return True
    if schema.get("enum"):
        return bool(_PLAIN_WORDS.fullmatch(value))
    # "due tomorrow at 5pm": a natural-language date is said as it is.
    if "due" in words and last == "string":
        return True
    return last in _TITLE | _TEXT | _QUERY | _RECIPIENT | _PLACE | _TAG | _SAID


def _one(rng: random.Random, key: str, value: Any, tone: str | None = None) -> list[str]:
    words = _words(key)
    last = words[-1] if words else key.lower()
    name = humanize(key)
    if isinstance(value, dict):
        # A nested object: each scalar inside, named by its own key ("start": {"dateTime": ...}).
        return [part for k, v in value.items() if not isinstance(v, (dict, list))
                for part in _one(rng, k if _words(k)[-1:] != ["value"] else key, v, tone)]
    if isinstance(value, list):
        scalars = [v for v in value if not isinstance(v, (dict, list))][:5]
        if not scalars:
            return []
        listed = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in scalars)
        return [pick(rng, "say_value", tone, value=listed, name=name)]
    if isinstance(value, bool):
        return [pick(rng, "say_flag_on" if value else "say_flag_off", tone, name=name)]
    if isinstance(value, (int, float)) and (last in _COUNT or set(words) & {"limit", "max"}):
        return [pick(rng, "say_count", tone, n=value)]
    if isinstance(value, str):
        when = spoken_date(value)
        if when:
            # The bounds of a window read as one: "from March 5 ... until March 9 ...".
            # min / max decide before start / end: max_start_time is an upper bound.
            ws = set(words)
            bound = ("say_when_from" if "min" in ws else "say_when_until" if "max" in ws else
                     "say_when_from" if ws & _FROM else "say_when_until" if ws & _UNTIL else "say_when")
            return [pick(rng, bound, tone, when=when)]
        if last in _TITLE:
            return [pick(rng, "say_title", tone, value=value)]
        if last in _TEXT:
            return [pick(rng, "say_text", tone, value=value)]
        if last in _QUERY:
            return [pick(rng, "say_query", tone, value=value)]
        if last in _RECIPIENT or (words and words[0] in _RECIPIENT and "@" in value):
            return [pick(rng, "say_recipient", tone, value=value)]
        if "@" in value and " " not in value:
            return [pick(rng, "say_value", tone, value=value, name=name)]
        return [pick(rng, "say_value", tone, value=f'"{value}"', name=name)]
    return [pick(rng, "say_value", tone, value=value, name=name)]


def say(rng: random.Random, args: dict[str, Any], tone: str | None = None) -> str:
    """The values of `args` as a user of `tone` (persona tone; None: any) states them, joined
    as a sentence fragment ("called "Q3 plan", on March 5, 2026 at 10:00 UTC and "High" as the
    priority")."""
    parts = [part for key, value in args.items() for part in _one(rng, key, value, tone)]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
