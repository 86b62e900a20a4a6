"""How a user states values in their own words, never as a form read out.

People say what a value is for, not which parameter takes it: "called "Q3 plan"", "that
mention "invoice"", "on March 5 at 10:00 UTC", "just the first 25", "high priority", "for
$1,385.00", "cc'ing dana@acme.io", "in Singapore time", "sorted by start time". Each kind of
value has its own phrasebook entry (`say_*`, split by the speaker's tone); values that go
together are said together ("$20.00" for an amount and its currency, "from position 3 to 9"
for a range, "starting ... ending ..." for an event's start and end). What no kind fits falls
back to `say_value`, where the field has to be named: mostly value first ("'board' as the view
style"), and at most once per request name first ("set the view style to board"), since a
message reading out several "<parameter> <value>" pairs is a form (the `parameter_dictation`
detector, docs/quality.md). Phrases are chosen by the request's own random generator; each part
carries its own connector, so parts join with commas.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from typing import Any

from funcdex_assets.catalog.fields import id_entity, snake
from funcdex_assets.offline.language import humanize, phrasings
from funcdex_assets.offline.values import SCHEDULED_SENTENCE, described_examples

# Last word of a parameter name, and what kind of value it holds for a user.
_COUNT = frozenset({"limit", "max", "count", "size", "top", "num", "results", "number"})
_TITLE = frozenset({"title", "name", "summary", "subject", "label", "heading", "displayname"})
_TEXT = frozenset({"description", "body", "text", "message", "content", "notes", "note", "comment", "caption",
                   "bio", "details", "reason", "instructions"})
_QUERY = frozenset({"q", "query", "search", "keyword", "keywords", "term", "filter", "jql"})
_RECIPIENT = frozenset({"to", "recipient", "recipients"})
# Places and tags people name ("at the Berlin office", "tag it urgent").
_PLACE = frozenset({"location", "address", "venue", "place", "city"})
_TAG = frozenset({"label", "labels", "tag", "tags"})
# Also said: a currency ("in euros"), a phone number, a file name.
_SAID = frozenset({"currency", "phone", "filename"})
_FROM = frozenset({"min", "start", "from", "after", "since", "begin"})
_UNTIL = frozenset({"max", "end", "to", "until", "before"})
_PEOPLE = frozenset({"attendees", "attendee", "invitees", "invitee", "guests", "guest", "participants", "members",
                     "member", "collaborators", "reviewers", "assignees", "watchers"})
_MONEY = frozenset({"amount", "price", "cents", "cost", "fee", "total"})
# A window on one kind of time ("completedSince", "dueMax"): the event, and its bound in words.
_EVENTS = frozenset({"completed", "modified", "updated", "created", "changed", "due", "sent", "received", "published"})
_BOUNDS = {"since": "since", "after": "after", "min": "after", "from": "from", "before": "before", "max": "before",
           "until": "until", "to": "until"}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?\d[\d ()-]{6,}\d$")
_URL = re.compile(r"^https?://\S+$")
# An identifier by its shape: letters and digits mixed, no spaces ("cus_8Fj2k1", "PROJ-123").
_OPAQUE = re.compile(r"^(?=\S*\d)(?=\S*[A-Za-z])[A-Za-z0-9_.:-]{6,}$")
# Words no one uses for a field of their own ("set the max results to 5" is a form): such a
# field is never named before its value (the `parameter_dictation` detector's API words).
_GRANTEE_KINDS = frozenset({"user", "group", "domain", "anyone", "default"})
_API_WORDS = frozenset({"limit", "offset", "sort", "order", "page", "cursor", "fields", "format", "q", "max", "min",
                        "expand", "include", "scope", "projection", "alt", "verbose", "pretty", "count", "top",
                        "skip", "by"})

# Money: ISO code -> symbol written before the amount; amounts in these are whole units.
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "inr": "₹", "jpy": "¥", "sgd": "S$", "cad": "CA$", "aud": "A$",
            "nzd": "NZ$", "hkd": "HK$", "brl": "R$", "mxn": "MX$", "cny": "CN¥", "krw": "₩"}
_ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "isk", "huf", "twd", "ugx", "xaf", "xof"})
_CURRENCY_NAMES = {"usd": "US dollars", "eur": "euros", "gbp": "pounds sterling", "inr": "rupees",
                   "sgd": "Singapore dollars", "jpy": "yen", "cad": "Canadian dollars", "aud": "Australian dollars",
                   "chf": "Swiss francs"}
_LANGUAGE_NAMES = {"en": "English", "en_us": "US English", "en_gb": "British English", "de": "German",
                   "fr": "French", "es": "Spanish", "pt": "Portuguese", "pt_br": "Brazilian Portuguese",
                   "it": "Italian", "nl": "Dutch", "ja": "Japanese", "zh": "Chinese", "hi": "Hindi",
                   "ru": "Russian", "pl": "Polish", "sv": "Swedish", "ko": "Korean", "ar": "Arabic"}
_MIME_NAMES = {"application/pdf": "PDF", "text/plain": "plain text", "text/csv": "CSV", "text/markdown": "Markdown",
               "text/html": "HTML", "application/json": "JSON", "application/vnd.google-apps.document": "Google Doc",
               "application/vnd.google-apps.spreadsheet": "Google Sheet", "image/jpeg": "JPEG", "image/png": "PNG",
               "video/mp4": "MP4 video", "audio/ogg": "OGG audio", "audio/mpeg": "MP3"}
# Sort fields as people name them.
_SORT_NAMES = {"starttime": "start time", "updated": "last update", "modifiedtime": "last modified date",
               "createdtime": "creation date", "created": "creation date", "name": "name", "key": "key",
               "lastissueupdatedtime": "latest issue activity", "category": "category", "viewedbymetime": "last viewed",
               "folder": "folder", "title": "title", "quotabytesused": "size"}
_INTERVALS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}


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


_CONSTANT = re.compile(r"[A-Z]{3,}")  # a system constant: STARRED, UNREAD, INBOX
# An API spelling of words: camelCase (freeBusyReader) or an upper snake constant (IN_PROGRESS).
_API_CASED = re.compile(r"[a-z]+(?:[A-Z][a-z]+)+|[A-Z]+(?:_[A-Z]+)+")
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
    money = any(w in ("amount", "price", "cents", "cost", "total", "balance") for w in words)
    if isinstance(value, float) and value != int(value) and not money:
        return False  # "436.68pt tall", "-75.32": measurements a person does not dictate
    if isinstance(value, (int, float)):
        # Counts, priorities, amounts: a person says 3 or 25, not 1787044500 days.
        return abs(value) <= 10_000 or money
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
        # Where to search ("spaces": "drive", "corpora": "user") and who a grant is for ("type":
        # "user" beside an address) are API words, however plain.
        if set(words) & {"spaces", "corpora", "corpus"} or (last == "type" and value.lower() in _GRANTEE_KINDS):
            return False
        return bool(_PLAIN_WORDS.fullmatch(value))
    # "due tomorrow at 5pm": a natural-language date is said as it is.
    if "due" in words and last == "string":
        return True
    return last in _TITLE | _TEXT | _QUERY | _RECIPIENT | _PLACE | _TAG | _SAID


# ---- how values read ------------------------------------------------------------------------
def named_constants(value: Any) -> list[str]:
    """The system constants a value holds, as people say them (["STARRED", "IMPORTANT"] ->
    ["starred", "important"]); [] when it holds anything else."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and _CONSTANT.fullmatch(v) for v in items):
        return []
    return [plain(v) for v in items]


def plain(value: Any) -> str:
    """A value as a person writes it in a sentence: API spellings in words ("fileOrganizer" ->
    "file organizer", "berry_red" -> "berry red", "APPROVED" -> "approved", "IN_PROGRESS" -> "in
    progress")."""
    text = str(value)
    if re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", text):
        return snake(text).replace("_", " ")
    if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", text):
        return text.replace("_", " ")
    if re.fullmatch(r"[A-Z]{3,}", text):
        return text.lower()
    if re.fullmatch(r"[A-Z]+(?:_[A-Z]+)+", text):
        return text.lower().replace("_", " ")
    return text


def _quoted(value: Any) -> str:
    """A string the way it is written back: quoted when it holds spaces or symbols, bare when it
    is one plain word or a number, an address or a link."""
    if not isinstance(value, str):
        return str(value)
    if re.fullmatch(r"[\w.-]+", value) or _EMAIL.match(value) or _URL.match(value):
        return value
    return f'"{value}"'


def _series(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _article(phrase: str) -> str:
    """"an owner", "a user" (a "u" read as "you" takes "a")."""
    lower = phrase.lower()
    vowel = lower[:1] in "aeiou" and not lower.startswith(("us", "uni", "use", "eu", "one"))
    return ("an " if vowel else "a ") + phrase


def money(amount: float | int, currency: str | None, minor_units: bool) -> str:
    """"$1,385.00" for 138500 (minor units) in usd; "1,385.00 CHF" where no symbol is known;
    "1,385.00" without a currency."""
    code = (currency or "").lower()
    value = amount / 100 if minor_units and code not in _ZERO_DECIMAL else amount
    number = f"{value:,.0f}" if code in _ZERO_DECIMAL else f"{value:,.2f}"
    if code in _SYMBOLS:
        return f"{_SYMBOLS[code]}{number}"
    return f"{number} {code.upper()}" if code else number


def _sort_words(value: str) -> str:
    """"modifiedTime desc" -> "last modified date, newest first"; "-created" -> "creation date,
    newest first"; "asc" -> "ascending"."""
    text = value.strip()
    if text.lower() in ("asc", "desc"):
        return "ascending" if text.lower() == "asc" else "descending"
    newest = text.startswith("-") or text.lower().endswith(" desc")
    field = text.lstrip("-").split(",")[0].split(" ")[0]
    name = _SORT_NAMES.get(field.lower(), snake(field).replace("_", " "))
    return f"{name}, newest first" if newest else name


def _zone_city(zone: str) -> str | None:
    """"Asia/Singapore" -> "Singapore"; None for "UTC" or a zone without a city."""
    if "/" not in zone:
        return None
    return zone.rsplit("/", 1)[1].replace("_", " ")


# ---- one value ------------------------------------------------------------------------------
_SEPARATOR = r"\s*(?:[:=]|set to\b|of\b|is\b|to\b|as\b|equal to\b)?\s*[\"'(]?"
# Field names that are prepositions ("to", "cc") never read as a parameter (the detector's view).
_NOT_NAMES = frozenset({"to", "from", "cc", "bcc", "at", "on", "in", "for", "by", "with", "of", "into",
                        "latitude", "longitude", "lat", "lng", "lon"})


def _names_field(text: str, key: str, value: Any) -> bool:
    """Whether `text` says the field's name right before its value ("the priority is High",
    "comment: ..."), the way a form reads out a parameter."""
    if isinstance(value, (dict, list)) or value is None or id_entity(key) is not None:
        return False
    words = _words(key)
    if not words or words[-1] in _NOT_NAMES:
        return False
    # A switch reads as "show deleted on" / "notify yes"; a long value by its first 40 characters.
    whole = str(value).strip()
    shown = ("yes|true|on|enabled" if value else "no|false|off|disabled") if isinstance(value, bool) else (
        re.escape(whole[:40]))
    end = "(?!\\w)" if isinstance(value, bool) or len(whole) <= 40 else ""
    pattern = rf"(?<![\w-]){re.escape(' '.join(words))}{_SEPARATOR}(?:{shown}){end}"
    return bool(shown) and re.search(pattern, text, re.I) is not None


class NamingBudget:
    """How many fields a user message may still name before their values: one per message,
    shared by every `say` for it (a request and its copies: two "with the description ..."
    / "a priority of high" in one message read as a form)."""

    def __init__(self, left: int = 1) -> None:
        self.left = left


class _Turn:
    """One request being said: its random generator, the speaker's tone, and whether a field
    may still be named before its value (once per message, `NamingBudget`; never an API word:
    "set the max results to 5" is a form)."""

    def __init__(self, rng: random.Random, tone: str | None, budget: "NamingBudget | None" = None):
        self.rng = rng
        self.tone = tone
        self.budget = budget or NamingBudget()
        self.zones: set[Any] = set()  # time zones said (an event's start and end share one)
        self.current: tuple[str, Any] | None = None  # the field and value being said

    @property
    def named(self) -> int:
        return self.budget.left

    @named.setter
    def named(self, left: int) -> None:
        self.budget.left = left

    def pick(self, entry: str, key: str | None = None, value: Any = None, /, **fields: Any) -> str:
        """A phrasing of `entry` filled with `fields`; for the value of `key` (default: the one
        being said), one that names the field before the value only while this request may
        still do so."""
        if key is None and self.current is not None:
            key, value = self.current
        options = phrasings(entry, self.tone)
        text = self.rng.choice(options).format(**fields)
        if key is None or not _names_field(text, key, value):
            return text
        if self.named and not set(_words(key)) & _API_WORDS and not isinstance(value, bool):
            self.named -= 1
            return text
        plain = [o for o in options if not _names_field(o.format(**fields), key, value)]
        return self.rng.choice(plain).format(**fields) if plain else text


def _generic(t: _Turn, key: str, shown: str, value: Any = None) -> str:
    """The fallback: the value with its field named ("board" as the view style), the name first
    at most once per request."""
    name = humanize(key)
    raw = shown if value is None else value
    if t.named and not set(_words(key)) & _API_WORDS and t.rng.random() < 0.4:
        return t.pick("say_value_named", key, raw, value=shown, name=name)
    return t.pick("say_value", key, raw, value=shown, name=name)


def _one(t: _Turn, key: str, value: Any, parent: str = "") -> list[str]:
    words = _words(key)
    last = words[-1] if words else key.lower()
    t.current = None
    if isinstance(value, dict):
        return _object(t, key, value)
    if isinstance(value, list):
        return _listed(t, key, value)
    t.current = (key, value)
    if _words(key)[-1:] in (["timezone"], ["zone"], ["tz"]) and isinstance(value, str):
        # A time zone said once for a request (an event's start and end share one).
        if value in t.zones:
            return []
        t.zones.add(value)
    if isinstance(value, bool):
        return [t.pick("say_flag_on" if value else "say_flag_off", name=humanize(key))]
    if isinstance(value, (int, float)):
        return [_number(t, key, words, last, value)]
    if not isinstance(value, str):
        return [_generic(t, key, str(value))]
    return [_text(t, key, words, last, value, parent)]


def _number(t: _Turn, key: str, words: list[str], last: str, value: int | float) -> str:
    ws = set(words)
    if ws & _MONEY:
        # Payment APIs (and the value factory) keep integer amounts in minor units.
        return t.pick("say_unit_price" if "unit" in ws else "say_money",
                      money=money(value, None, isinstance(value, int)))
    if (last in _COUNT or ws & {"limit", "max"}) and "interval" not in ws:
        return t.pick("say_count_one" if value == 1 else "say_count", n=value)
    if "priority" in ws:
        return t.pick("say_priority_level", n=value)
    if "quantity" in ws or last in ("qty", "units", "seats"):
        return t.pick("say_quantity", n=value)
    if "days" in ws or last == "day":
        kind = "trial" if "trial" in ws else "due" if ws & {"due", "until"} else ""
        if kind:
            return t.pick(f"say_days_{kind}", n=value)
        return _generic(t, key, f"{value} days")
    if ws & {"duration", "minutes"}:
        return t.pick("say_duration", amount=f"{value} minutes")
    if last in ("index", "position", "order", "offset") and isinstance(value, int):
        return t.pick("say_position", n=value)
    if last in ("rows", "columns", "pages", "items"):
        return t.pick("say_size", n=value, noun=last if value != 1 else last[:-1])
    if last in ("pt", "px", "points", "pixels") and len(words) > 1:
        unit = "pt" if last in ("pt", "points") else "px"
        side = {"width": "wide", "height": "tall", "size": "in size"}.get(words[0], words[0])
        return t.pick("say_dimension", size=f"{value:g}{unit}", side=side)
    return _generic(t, key, str(value))


def _text(t: _Turn, key: str, words: list[str], last: str, value: str, parent: str) -> str:
    ws = set(words)
    when = spoken_date(value)
    if when:
        # The bounds of a window read as one: "from March 5 ... until March 9 ..."; a bare
        # `dateTime` takes its bound from the object holding it (an event's start / end).
        if len(words) >= 2 and words[0] in _EVENTS and words[-1] in _BOUNDS:
            # "completed since ...", "modified after ...": which time a window is on.
            return t.pick("say_when_event", event=words[0], bound=_BOUNDS[words[-1]], when=when)
        bound = set(_words(parent)) | ws
        # min / max decide before start / end: max_start_time is an upper bound.
        # A window's bound reads "on or after"; a scheduled thing's start and end do not (an event
        # "starting August 10", never "on or after August 10").
        entry = ("say_when_from" if "min" in bound else "say_when_until" if "max" in bound else
                 "say_starts" if bound & {"start", "begin"} else "say_ends" if "end" in bound else
                 "say_when_from" if bound & _FROM else "say_when_until" if bound & _UNTIL else "say_when")
        return t.pick(entry, when=when)
    if last in _QUERY:
        return t.pick("say_query", value=value)
    if "due" in ws and last == "string":
        return t.pick("say_due_words", value=value)  # "due every friday", not "for its due string"
    if ws & {"scope", "grantee"} and _EMAIL.match(value):
        return t.pick("say_share_with", value=value)  # whom it is shared with
    if last in ("cc", "bcc") or words[:1] in (["cc"], ["bcc"]):
        return t.pick(f"say_{words[0] if words[0] in ('cc', 'bcc') else last}", value=value)
    if last in _RECIPIENT or (words and words[0] in _RECIPIENT and "@" in value):
        return t.pick("say_recipient", value=value)
    if _EMAIL.match(value):
        if "receipt" in ws:
            return t.pick("say_receipt", value=value)
        if ws & _PEOPLE and not ws & {w for w in _PEOPLE if w.endswith("s")} and "share" not in ws:
            # One invitee (invitee_email) is whom it is booked for; guests are a list.
            return t.pick("say_booked_for", value=value)
        if ws & _PEOPLE or "share" in ws:
            return t.pick("say_invite", value=value)
        return t.pick("say_email", value=value)
    if last in ("timezone", "zone", "tz") or "time_zone" in snake(key):
        city = _zone_city(value)
        return t.pick("say_zone_city", city=city) if city and t.rng.random() < 0.6 else t.pick("say_zone", zone=value)
    if "unit" in ws and last == "label":
        return t.pick("say_unit_label", value=value)
    if ws & {"header", "heading", "footer", "footnote"} and last in _TEXT | {"header", "footer", "heading"}:
        return t.pick("say_footer" if ws & {"footer", "footnote"} else "say_header", value=value)
    if SCHEDULED_SENTENCE.match(value):
        return t.pick("say_scheduling", value=value)  # the event itself, in the user's words
    if last == "subject":
        return t.pick("say_subject", value=value)
    if last == "name" and ws & (_PEOPLE | {"first", "last", "full", "contact", "customer", "person", "user"}):
        return t.pick("say_person_name", value=value)  # an invitee is named, not "titled"
    if last in _TITLE:
        return t.pick("say_title", value=value)
    if last == "reason" and re.fullmatch(r"[A-Za-z_]+", value):
        return t.pick("say_reason", value=plain(value).replace("_", " "))
    if last in _TEXT:
        entry = {"description": "say_description", "details": "say_description", "comment": "say_comment",
                 "notes": "say_note", "note": "say_note", "caption": "say_caption"}.get(last, "say_text")
        return t.pick(entry, value=value)
    if "phone" in ws or ("number" in ws and _PHONE.match(value)):
        return t.pick("say_phone", value=value)
    if "priority" in ws:
        return t.pick("say_priority", value=plain(value).lower())
    if last in ("status", "state"):
        return t.pick("say_status", value=plain(value).lower())
    if last in ("color", "colour"):
        return t.pick("say_color", value=plain(value))
    if last == "currency":
        code = value.lower()
        return t.pick("say_currency", currency=_CURRENCY_NAMES.get(code, value.upper()))
    if last in ("language", "lang", "locale") or ws & {"language", "lang", "locale"}:
        name = _LANGUAGE_NAMES.get(value.lower().replace("-", "_"))
        return t.pick("say_language", language=name) if name else _generic(t, key, _quoted(value))
    if "mime" in ws:
        name = _MIME_NAMES.get(value.lower())
        return t.pick("say_format", kind=name, a_kind=_article(name)) if name else _generic(t, key, value)
    if last in ("location", "venue", "place", "city", "address") and not _URL.match(value):
        return t.pick("say_place", value=value)
    if _URL.match(value):
        return t.pick("say_image" if ws & {"image", "photo", "picture", "thumbnail"} else "say_link", value=value)
    if ws & {"order", "sort"} or snake(key) in ("order_by", "sort_by"):
        return t.pick("say_sorted", value=_sort_words(value))
    if "role" in ws:
        role = "free/busy reader" if value == "freeBusyReader" else plain(value)
        return t.pick("say_min_role" if "min" in ws else "say_role", role=role, a_role=_article(role))
    if value in ("include", "exclude") and last in ("behavior", "behaviour") and len(words) > 1:
        thing = " ".join(words[:-1])
        return t.pick("say_including" if value == "include" else "say_excluding", thing=thing)
    if value in ("show", "hide") and last == "visibility" and len(words) > 1:
        where = " ".join(words[:-1])
        return t.pick("say_shown" if value == "show" else "say_hidden", where=where)
    if last == "unit" and re.fullmatch(r"[a-z]+", value):
        return t.pick("say_unit", units=value if value.endswith("s") else value + "s")
    if last == "visibility" and value.lower() in ("public", "private", "confidential"):
        return t.pick("say_visibility", value=value.lower())
    if last == "transparency" and value in ("transparent", "opaque"):
        return t.pick("say_free" if value == "transparent" else "say_busy")
    if ws & {"updates", "notify", "notifications", "notification"} and value in ("all", "externalOnly", "none"):
        return t.pick({"all": "say_notify_all", "externalOnly": "say_notify_external", "none": "say_notify_none"}[value])
    if last == "interval" and value.lower() in _INTERVALS:
        return t.pick("say_interval", every=value.lower(), adverb=_INTERVALS[value.lower()])
    if last in ("category", "section", "folder") and not id_entity(key):
        return t.pick("say_category", value=_quoted(plain(value)))
    if snake(key) in ("project_key", "project") or (last == "key" and "project" in ws):
        return t.pick("say_project", value=value)
    if last == "emoji":
        return t.pick("say_emoji", value=value)
    if last in ("type", "kind") and re.fullmatch(r"[A-Za-z_]+", value):
        kind = plain(value).replace("_", " ")
        return t.pick("say_kind", kind=kind, a_kind=_article(kind))
    entity = id_entity(key)
    if entity is None and _OPAQUE.match(value) and len(words) == 1:
        entity = words[0]  # `customer`: "cus_8Fj2k1", an id by its shape
    if entity is not None:
        # An id the user knows and states ("for project 10023"); ids read this way are not dictation.
        noun = humanize(entity) if entity else "item"
        return t.pick("say_id", entity=noun, value=value)
    if _EMAIL.match(value):
        return t.pick("say_email", value=value)
    if last in ("view", "style", "layout", "mode") and re.fullmatch(r"[A-Za-z_ ]+", value):
        return t.pick("say_style", value=plain(value), name=humanize(key))
    return _generic(t, key, _quoted(plain(value)) if re.fullmatch(r"[A-Za-z_]+", value) else _quoted(value))


def _object(t: _Turn, key: str, value: dict[str, Any]) -> list[str]:
    """A nested object: an address as one; otherwise each scalar inside, named by its own key
    (an event's {"start": {"dateTime": ...}} by its holder: "starting ...")."""
    scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
    address_keys = {"line1", "line2", "city", "state", "postal_code", "country", "street", "zip", "postcode"}
    if len(scalars) >= 2 and {snake(k) for k in scalars} <= address_keys:
        order = ("line1", "street", "line2", "city", "state", "postal_code", "zip", "postcode", "country")
        ranked = sorted(scalars.items(), key=lambda kv: order.index(snake(kv[0])) if snake(kv[0]) in order else 99)
        return [t.pick("say_address", value=", ".join(str(v) for _, v in ranked))]
    interval, every = value.get("interval"), value.get("interval_count")
    if isinstance(interval, str) and interval.lower() in _INTERVALS and isinstance(every, int) and every > 1:
        # A billing interval of several units reads as one: "every 3 months".
        rest = {k: v for k, v in value.items() if k not in ("interval", "interval_count")}
        return [t.pick("say_every", n=every, units=interval.lower() + "s"), *_object(t, key, rest)]
    # A whole-day date beside a date-time of the same bound ({"date": ..., "dateTime": ...}) is
    # one time to a person: the date-time says it.
    timed = any(snake(k) in ("date_time", "datetime") and isinstance(v, str) and _DATETIME.match(v)
                for k, v in value.items())
    out: list[str] = []
    for k, v in value.items():
        if isinstance(v, (dict, list)) or (timed and snake(k) == "date"):
            continue
        inner = key if _words(k)[-1:] == ["value"] else k
        out.extend(_one(t, inner, v, parent=key))
    return out


def _listed(t: _Turn, key: str, value: list[Any]) -> list[str]:
    """A list: people invited or copied, labels, objects said one by one ("ana@x.com (Ana
    Ruiz) and bo@y.com as optional"), or other scalars listed."""
    words = _words(key)
    last = words[-1] if words else key.lower()
    if any(isinstance(v, dict) for v in value):
        said = [_item(v) for v in value[:5] if isinstance(v, dict)]
        items = [main for main, _ in said if main]
        if not items:
            # Only quantities left (what they are of comes from earlier results).
            qty = next((q for _, q in said if q is not None), None)
            return [t.pick("say_quantity", n=qty)] if qty is not None and qty != 1 else []
        listed = _series(items)
        if set(words) & _PEOPLE or any("@" in i for i in items):
            return [t.pick("say_invite", value=listed)]
        if all(any(_describes_ref(k) for k in v) for v in value if isinstance(v, dict)):
            return [t.pick("say_refs", value=listed)]
        return [t.pick("say_items", value=listed, name=humanize(key))]
    scalars = [v for v in value if not isinstance(v, (dict, list))][:5]
    if not scalars:
        return []
    t.current = (key, scalars[0])
    if all(isinstance(v, str) and _EMAIL.match(v) for v in scalars):
        listed = _series([str(v) for v in scalars])
        if last in ("cc", "bcc"):
            return [t.pick(f"say_{last}", value=listed)]
        if set(words) & _PEOPLE or "share" in words:
            return [t.pick("say_invite", value=listed)]
        if last in _RECIPIENT or "recipients" in words:
            return [t.pick("say_also_to" if len(words) > 1 else "say_recipient", value=listed)]
        return [_generic(t, key, listed)]
    if "label" in words and all(isinstance(v, str) and _CONSTANT.fullmatch(v) for v in scalars):
        # System labels by their names: "star it" as "with the starred label".
        names = _series([plain(v) for v in scalars])
        return [t.pick("say_labels_off" if "remove" in words else "say_system_labels", value=names)]
    listed = _series([f'"{v}"' if isinstance(v, str) else str(v) for v in scalars])
    if last in ("labels", "label", "tags", "tag"):
        return [t.pick("say_labels", value=listed)]
    if last in _QUERY or last in ("keywords", "terms"):
        return [t.pick("say_query", value=listed.replace('"', ""))]
    if last in ("locales", "languages"):
        names = [_LANGUAGE_NAMES.get(str(v).lower().replace("-", "_")) for v in scalars]
        if all(names):
            return [t.pick("say_language", language=_series([n for n in names if n]))]
    return [_generic(t, key, listed)]


def _item(item: dict[str, Any]) -> tuple[str, int | None]:
    """One object of a list as a person names it, and its quantity: ("Ana Ruiz (ana@x.com),
    optional", None), ("\"Yes\"", None), ("price 9f2c", 3). A part's own id (a button's) is the
    caller's to pick, and not said."""
    email = title = other = ""
    qty: int | None = None
    flags: list[str] = []
    rest: list[str] = []
    for k, v in item.items():
        if isinstance(v, (dict, list)) or v is None:
            continue
        words = _words(k)
        last = words[-1] if words else k.lower()
        if isinstance(v, bool):
            if v and last not in ("self", "organizer", "resource"):
                flags.append(humanize(k))
        elif isinstance(v, str) and _EMAIL.match(v) and not email:
            email = v
        elif last in ("quantity", "qty") and isinstance(v, int):
            qty = v
        elif last in _TITLE and isinstance(v, str) and not title:
            title = v
        elif last in ("id", "key") and id_entity(k) is not None:
            continue
        elif not other:
            other = f"{humanize(k)} {v}" if _describes_ref(k) or id_entity(k) is not None else _quoted(v)
        else:
            rest.append(f"{humanize(k)} {v}")
    main = f"{title} ({email})" if email and title else email or (f'"{title}"' if title else other)
    if main and rest:
        main += f" ({', '.join(rest)})"
    if main and flags:
        said = " and ".join(flags)
        main = f"{main[:-1]}, {said})" if main.endswith(")") else f"{main} ({said})"
    if main and qty is not None and qty != 1:
        main = f"{qty} x {main}"
    return main, qty


def _describes_ref(key: str) -> bool:
    """A field named after another entity it points at (Stripe's `items[].price`)."""
    return snake(key) in ("price", "product", "plan", "coupon", "tax_rate")


def _pairs(t: _Turn, args: dict[str, Any]) -> tuple[list[tuple[str, str]], set[str]]:
    """Parts that say two values at once, each with the key it stands at, and the keys used."""
    keys = {snake(k): k for k in args}
    t.current = None
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    currency = next((k for s, k in keys.items() if s.split("_")[-1] == "currency" and isinstance(args[k], str)), None)
    amount = next((k for s, k in keys.items() if set(s.split("_")) & _MONEY and isinstance(args[k], (int, float))
                   and not isinstance(args[k], bool)), None)
    if amount and currency:
        said = money(args[amount], args[currency], isinstance(args[amount], int))
        entry = "say_unit_price" if "unit" in snake(amount).split("_") else "say_money"
        out.append((amount, t.pick(entry, money=said)))
        used |= {amount, currency}
    lat = next((k for s, k in keys.items() if s in ("latitude", "lat")), None)
    lng = next((k for s, k in keys.items() if s in ("longitude", "lng", "lon")), None)
    if lat and lng and all(isinstance(args[k], (int, float)) for k in (lat, lng)):
        out.append((lat, t.pick("say_coordinates", lat=args[lat], lng=args[lng])))
        used |= {lat, lng}
    start = next((k for s, k in keys.items() if s in ("start_index", "start_position", "from_index")), None)
    end = next((k for s, k in keys.items() if s in ("end_index", "end_position", "to_index")), None)
    if start and end and all(isinstance(args[k], int) for k in (start, end)):
        out.append((start, t.pick("say_range", start=args[start], end=args[end])))
        used |= {start, end}
    find = next((k for s, k in keys.items() if s in ("find_text", "old_text", "search_text", "find")), None)
    replace = next((k for s, k in keys.items() if s in ("replace_text", "new_text", "replacement", "replace_with")), None)
    if find and replace and all(isinstance(args[k], str) for k in (find, replace)):
        out.append((find, t.pick("say_replace", old=args[find], new=args[replace])))
        used |= {find, replace}
    rows, cols = keys.get("rows"), keys.get("columns")
    if rows and cols and all(isinstance(args[k], int) for k in (rows, cols)):
        out.append((rows, t.pick("say_grid", rows=args[rows], columns=args[cols])))
        used |= {rows, cols}
    duration = next((k for s, k in keys.items() if s == "duration" and isinstance(args[k], (int, float))), None)
    unit = next((k for s, k in keys.items() if s in ("duration_unit", "unit") and isinstance(args[k], str)), None)
    if duration and unit:
        n, word = args[duration], args[unit].lower().rstrip("s")
        out.append((duration, t.pick("say_duration", amount=f"{n} {word}{'s' if n != 1 else ''}")))
        used |= {duration, unit}
    width = next((k for s, k in keys.items() if s.startswith("width")), None)
    height = next((k for s, k in keys.items() if s.startswith("height")), None)
    if width and height and all(isinstance(args[k], (int, float)) for k in (width, height)):
        unit_word = "pt" if snake(width).endswith(("pt", "points")) else "px" if snake(width).endswith("px") else ""
        out.append((width, t.pick("say_box", width=f"{args[width]:g}{unit_word}", height=f"{args[height]:g}{unit_word}")))
        used |= {width, height}
    return out, used


# What a field is called when a user names it in an answer ("... for the recipient", not "for the to").
_ANSWER_NAMES = {"to": "recipient", "from": "sender", "q": "search", "cc": "cc", "bcc": "bcc"}


def bare(args: dict[str, Any]) -> str:
    """Values as an answer to "which X?": the value alone ("Q3 plan", March 5, 2026, $20.00), or
    value first with its field when there are several ("\"Q3 plan\" for the title and March 5,
    2026 for the date")."""
    currency = next((v for k, v in args.items() if _words(k)[-1:] == ["currency"] and isinstance(v, str)), None)

    def one(key: str, value: Any) -> str:
        if isinstance(value, str) and _words(key)[-1:] == ["currency"]:
            return value.upper()
        if isinstance(value, str) and _API_CASED.fullmatch(value):
            return plain(value).lower()  # "free busy reader", not "freeBusyReader" read out
        if isinstance(value, str):
            return spoken_date(value) or (value if _EMAIL.match(value) or _PHONE.match(value) else f'"{value}"')
        if isinstance(value, (int, float)) and not isinstance(value, bool) and set(_words(key)) & _MONEY:
            return money(value, currency, isinstance(value, int))
        if isinstance(value, list):
            return _series([one(key, v) for v in value[:5]])
        return str(value)

    spoken = [(_ANSWER_NAMES.get(snake(k), humanize(k)), one(k, v)) for k, v in args.items()
              if not isinstance(v, dict)]
    if len(spoken) == 1:
        return spoken[0][1]
    return _series([f"{value} for the {field}" for field, value in spoken])


def _rank(key: str, value: Any) -> int:
    """Where a value goes in the request: what the thing is called first, then who it is for,
    then when, then the rest, and long texts last ("an event called "Sync", with ana@x.com,
    starting ..., ending ..., in Berlin time and saying "...")."""
    words = _words(key)
    last = words[-1] if words else key.lower()
    dated = lambda v: isinstance(v, str) and spoken_date(v) is not None  # noqa: E731
    if last in _TITLE:
        return 0
    if last in _RECIPIENT | {"cc", "bcc"} | _PEOPLE:
        return 1
    if dated(value) or (isinstance(value, dict) and any(dated(v) for v in value.values())):
        return 2 if set(words) & _FROM else 4 if set(words) & _UNTIL else 3
    if last in _TEXT:
        return 6
    return 5


def say(rng: random.Random, args: dict[str, Any], tone: str | None = None, budget: NamingBudget | None = None) -> str:
    """The values of `args` as a user of `tone` (persona tone; None: any) states them, joined
    as a sentence fragment ("called "Q3 plan", on March 5, 2026 at 10:00 UTC and high
    priority"). `budget`: the message's allowance for naming a field before its value, shared
    by every `say` of one message (default: a fresh one)."""
    t = _Turn(rng, tone, budget)
    paired, used = _pairs(t, args)
    at = dict(paired)
    parts: list[str] = []
    for key in sorted(args, key=lambda k: _rank(k, args[k])):
        if key in at:
            parts.append(at[key])
        elif key not in used:
            parts.extend(_one(t, key, args[key]))
    if len(parts) <= 1:
        return "".join(parts)
    # A last part that brings its own "and" ("and ping everybody") takes no second one.
    joiner = ", " if parts[-1].startswith("and ") else " and "
    return ", ".join(parts[:-1]) + joiner + parts[-1]
