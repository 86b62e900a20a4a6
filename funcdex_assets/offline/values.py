"""Schema-driven realistic values: arguments a user would give and fields a tool returns.

Everything is drawn from one `random.Random` and one seeded Faker, so the same seed gives the
same values on every run. Values respect the schema (type, enum, format, bounds, lengths) first
and the field's name second (a `subject` gets a subject line, a `timeZone` an IANA zone).
"""

from __future__ import annotations

import random
import re
import string
from datetime import datetime, timedelta, timezone
from typing import Any

from faker import Faker
from faker.providers.lorem.en_US import Provider as LoremProvider

from funcdex_assets.catalog.fields import snake
from funcdex_assets.catalog.relations import without_alternatives
from funcdex_assets.offline.language import pick

_TIMEZONES = ("America/New_York", "Europe/Berlin", "Europe/London", "Asia/Kolkata",
              "America/Los_Angeles", "Asia/Singapore", "Australia/Sydney", "America/Sao_Paulo")
_CURRENCIES = ("usd", "eur", "gbp", "inr", "sgd")
_COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "grey")
_LANGUAGES = ("en", "en_US", "de", "fr", "es", "pt_BR")
# Labels and tags as people name them (no spaces: Jira and Gmail labels forbid or nest on them).
_LABELS = ("urgent", "follow-up", "q3", "backend", "design", "billing", "errands", "blocked", "customer",
           "marketing", "ops", "hiring", "finance", "needs-review", "bug", "ui", "travel", "clients")
_JQL = ('project = {key} AND status != Done ORDER BY updated DESC', 'assignee = currentUser() AND resolution = Unresolved',
        'project = {key} AND text ~ "{word}"', 'project = {key} AND priority = High AND created >= -14d',
        'project = {key} AND labels = {word} ORDER BY priority DESC', 'reporter = currentUser() AND status = "In Progress"')
# Body fields a server sets.
SERVER_SET = frozenset({"id", "etag", "kind", "self_link", "created", "updated", "created_at", "updated_at"})
# How Google's discovery specs (and others) mark a field the server sets, where the schema
# has no `readOnly`: "Output only.", "This collection is read-only.".
_SERVER_SET_DESCRIPTION = re.compile(r"\b(?:output[- ]only|read[- ]only)\b", re.I)


# Titles and suffixes of generated names ("Dr. Ana Ruiz", "Julie Copeland DDS"): no part of an address.
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "md", "dds", "dvm", "phd", "jr", "sr",
                         "ii", "iii", "iv", "v"})


def matched_person(obj: dict[str, Any]) -> None:
    """An object with a person's name and an email address (an invitee, an attendee): the
    address is theirs ("Barbara Thompson" <barbara.thompson@...>, not willie.rogers@...). In
    place; the domain stays."""
    # The name and the address of the same one: `name` / `email`, `invitee_name` /
    # `invitee_email` (an `organizer_email` beside an `invitee_name` is someone else).
    who, name = "", None
    for k, v in obj.items():
        sn = snake(k)
        if not isinstance(v, str):
            continue
        if sn in ("name", "display_name", "full_name"):
            who, name = "", v
            break
        if sn.endswith("_name") and sn.removesuffix("_name") in PERSON_ENTITIES:
            who, name = sn.removesuffix("_name"), v
            break
    if name is None:
        first = next((v for k, v in obj.items() if snake(k) == "first_name" and isinstance(v, str)), "")
        last = next((v for k, v in obj.items() if snake(k) == "last_name" and isinstance(v, str)), "")
        name = f"{first} {last}".strip() or None
    parts = [w for w in re.findall(r"[a-z]+", name.lower()) if w not in HONORIFICS] if name else []
    if len(parts) < 2:
        return
    emails = ("email", "email_address", f"{who}_email", f"{who}_email_address") if who else ("email", "email_address")
    for key, value in obj.items():
        if snake(key) in emails and isinstance(value, str) and "@" in value:
            obj[key] = f"{parts[0]}.{parts[-1]}@{value.split('@', 1)[1]}"


# A field for an event said in words ("Text describing the event, including its time"; not a
# natural-language due date, which is a date: "tomorrow at 5pm").
SCHEDULING_DESCRIPTION = re.compile(r"\bdescrib\w+ the (event|meeting|appointment)\b.*\btime", re.I)
# Names of the things a tracker sorts work by: a fixed vocabulary, not titles.
_KIND_NAMES: dict[str, tuple[str, ...]] = {
    "status": ("To Do", "In Progress", "In Review", "Done", "Blocked"),
    "state": ("Open", "In Progress", "Closed"),
    "statuscategory": ("To Do", "In Progress", "Done"),
    "issuetype": ("Task", "Bug", "Story", "Epic"),
    "priority": ("Highest", "High", "Medium", "Low", "Lowest"),
    "resolution": ("Done", "Won't Do", "Duplicate", "Cannot Reproduce"),
    "transition": ("Start Progress", "Stop Progress", "Resolve Issue", "Close Issue", "Reopen Issue"),
}
_WORKDAY = (9, 10, 11, 14, 15, 16)
_GATHERINGS = (("Lunch", (12, 13)), ("Coffee", (9, 10, 15)), ("Call", _WORKDAY), ("Dinner", (18, 19)),
               ("Catch-up", _WORKDAY), ("1:1", _WORKDAY), ("Breakfast", (8,)), ("Review", _WORKDAY))
SCHEDULED_SENTENCE = re.compile(r"^(?P<what>.+?) on (?P<weekday>[A-Z][a-z]+day) (?P<month>[A-Z][a-z]+) (?P<day>\d{1,2}) "
                        r"at (?P<hour>\d{1,2}):(?P<minute>\d{2})$")


def scheduled(sentence: str, today: datetime) -> tuple[str, datetime] | None:
    """(what, when) of a `ValueFactory.scheduling_sentence()` ("Lunch with Ana on Friday
    November 13 at 12:30" -> ("Lunch with Ana", 2026-11-13 12:30 UTC)): the first such date on
    or after `today`. None for any other text."""
    match = SCHEDULED_SENTENCE.match(sentence.strip())
    if not match:
        return None
    for year in (today.year, today.year + 1):
        try:
            when = datetime.strptime(f"{year} {match['month']} {match['day']} {match['hour']}:{match['minute']}",
                                     "%Y %B %d %H:%M").replace(tzinfo=today.tzinfo)
        except ValueError:
            return None
        if when.date() >= today.date():
            return match["what"], when
    return None


def server_set(name: str, schema: dict[str, Any]) -> bool:
    """Whether the server sets this body field (nobody's to state or invent): `readOnly`, a
    name in SERVER_SET, or a description calling it output-only / read-only."""
    return bool(schema.get("readOnly")) or snake(name) in SERVER_SET or bool(
        _SERVER_SET_DESCRIPTION.search(str(schema.get("description", ""))))
_TEAMS = ("ops", "design", "finance", "sales", "support", "platform", "marketing", "hiring", "legal", "data")
_SECTIONS = ("Backlog", "This week", "Next up", "Waiting on others", "Ideas", "In review")
_RRULES = ("RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=TU,TH", "RRULE:FREQ=DAILY;COUNT=5",
           "RRULE:FREQ=MONTHLY;BYMONTHDAY=1", "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "RRULE:FREQ=WEEKLY;COUNT=6")
_FILE_KINDS = (("report", "pdf"), ("notes", "docx"), ("budget", "xlsx"), ("slides", "pptx"),
               ("summary", "txt"), ("roadmap", "pdf"))
PERSON_ENTITIES = frozenset({"user", "assignee", "reporter", "owner", "author", "member", "attendee", "contact",
                             "customer", "invitee", "sender", "creator", "collaborator", "person", "organizer",
                             "profile", "account", "participant", "recipient", "follower", "host", "guest",
                             "requester", "approver", "reviewer", "commenter", "actor", "from", "to", "lead",
                             "watcher", "manager", "permission", "grantee"})


# Filler words for titles and queries, less the ones that say when ("Q2 tonight review" reads
# as a date the user gave: the relative_date_mismatch detector).
_TIME_WORDS = frozenset({"ago", "day", "days", "evening", "later", "month", "morning", "night", "now", "recently",
                         "soon", "today", "tonight", "tomorrow", "yesterday", "week", "weekend", "year"})
PLAIN_WORDS: tuple[str, ...] = tuple(w for w in LoremProvider.word_list if w not in _TIME_WORDS)


def plain_word(fake: Faker) -> str:
    """One filler word (Faker's lorem list, no time words)."""
    return fake.word(ext_word_list=PLAIN_WORDS)


def concrete(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """`schema` with its combinators resolved into one schema to draw a value from: a
    non-null `oneOf` / `anyOf` alternative picked by `rng` (merged over the other keywords),
    `allOf` members merged (properties and `required` united). Other schemas are returned
    as they are; imported OpenAPI schemas keep these combinators."""
    while True:
        branches = schema.get("oneOf") or schema.get("anyOf")
        if isinstance(branches, list) and branches:
            options = [b for b in branches if isinstance(b, dict) and _schema_type(b) != "null"] or [
                b for b in branches if isinstance(b, dict)]
            if not options:
                return schema
            rest = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
            schema = _merged([rest, rng.choice(options)])
            continue
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = _merged([rest, *(p for p in parts if isinstance(p, dict))])
            continue
        return schema


def _merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(out.get(key), dict) and isinstance(value, dict):
                out[key] = {**out[key], **value}
            elif key == "required" and isinstance(out.get(key), list) and isinstance(value, list):
                out[key] = list(dict.fromkeys([*out[key], *value]))
            elif key == "type" and key in out and out[key] != value:
                continue  # the first (outer) type stays
            else:
                out[key] = value
    return out


# Words of a time field's name that say when it lies (ValueFactory.moment).
_CREATED_WORDS = frozenset({"created", "creation", "inserted", "registered", "joined", "added", "birth", "born"})
# Keys that say "a time" but not which: their parent's name decides ({"start": {"dateTime": ...}}).
GENERIC_TIME_KEYS = frozenset({"date", "date_time", "datetime", "time", "timestamp"})
_CHANGED_WORDS = frozenset({"updated", "modified", "edited", "completed", "sent", "received", "deleted", "archived",
                            "posted", "uploaded", "shared", "commented", "logged", "recorded", "issued", "occurred",
                            "closed", "resolved", "last", "published", "submitted", "paid", "finalized", "voided",
                            "canceled", "cancelled", "viewed", "synced", "accepted", "delivered", "trashed",
                            "internal", "changed", "done"})
_END_WORDS = frozenset({"end", "ends", "until", "expires", "expiry", "expiration", "due", "deadline", "max", "to",
                        "stop", "finish", "before"})
_START_WORDS = frozenset({"start", "starts", "begin", "from", "min", "after", "since", "scheduled"})
# Words of a time field's name that put it in the past (created, or changed since): a list's
# window on such a field ends at the conversation's now (offline/lists.py).
# A message's `timestamp` (WhatsApp, Gmail's messageTimestamp) is when it was sent: past.
PAST_WORDS = _CREATED_WORDS | _CHANGED_WORDS | {"timestamp"}
# Words of an integer field's name that make it a Unix timestamp (Stripe's `created`).
TIMESTAMP_WORDS = frozenset({"timestamp", "at", "created", "updated", "date", "time", "end", "start", "expires",
                             "until", "since", "due"})
_DESCRIBED_DATETIME = re.compile(r"\b(rfc ?3339|iso ?8601|timestamp|date-time|datetime)\b", re.I)


def described_format(schema: dict[str, Any]) -> str:
    """`date-time` for a string the description calls a timestamp (Google's `completedMax`:
    "... (as a RFC 3339 timestamp)"), `email` for one it calls an email address first thing,
    where the spec gives no `format`."""
    description = str(schema.get("description", ""))
    if re.search(r"\b(unix|epoch)\b", description, re.I):  # Slack's "Unix timestamp": seconds, not ISO
        return ""
    if _DESCRIBED_EMAIL.match(description):
        return "email"
    return "date-time" if _DESCRIBED_DATETIME.search(description) else ""


# A description that starts by calling the field an email address (Calendar's ACL
# `scope_value`: "Email address of the user or group, or the domain name"): a grantee, not words.
_DESCRIBED_EMAIL = re.compile(r"^\s*(?:the\s+)?(?:\w+(?:'s)?\s+)?e-?mail\s+(?:address|of)\b", re.I)


# A description that starts by calling the field a title or name.
_TITLE_DESCRIPTION = re.compile(r"^\s*(?:the\s+)?(?:\w+\s+)?(?:title|name)\b", re.I)
_EXAMPLES = re.compile(r"\be\.g\.,?\s+(.+?)(?:\.\s|\.$|;|\)|$)")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
_ARTICLES = frozenset({"a", "an", "the", "any", "some"})


def described_examples(schema: dict[str, Any]) -> list[str]:
    """The example values a field's description lists after "e.g.": quoted ones ("e.g.
    'tomorrow at 5pm' or 'every friday'"), or a bare list of two or more short items ("e.g.
    Task, Bug, Story, Epic"). Prose ("e.g. an address or room name") and lone bare examples
    (an id's shape, handled elsewhere) give []."""
    match = _EXAMPLES.search(str(schema.get("description", "")))
    if not match:
        return []
    tail = match.group(1)
    quoted = [a or b for a, b in _QUOTED.findall(tail)]
    if quoted:
        return [q for q in quoted if q.strip() and "[" not in q]
    items = [i.strip() for i in re.split(r",|\bor\b", tail) if i.strip()]
    if len(items) < 2 or any(len(i.split()) > 3 or i.split()[0].lower() in _ARTICLES or "://" in i for i in items):
        return []
    return items


def _schema_type(schema: dict[str, Any]) -> str | None:
    stype = schema.get("type")
    if isinstance(stype, list):
        non_null = [t for t in stype if t != "null"]
        return non_null[0] if non_null else "null"
    if stype is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        if "enum" in schema:
            return None
    return stype


class ValueFactory:
    """Makes values for schema nodes. One instance per conversation (it holds the rng)."""

    def __init__(self, rng: random.Random, faker: Faker, today: datetime):
        self.rng = rng
        self.fake = faker
        self.today = today

    # ---- dates -------------------------------------------------------------------------
    def future_datetime(self) -> datetime:
        return self._at(self.rng.randint(1, 21))

    def moment(self, name: str) -> datetime:
        """A time for a field named `name`, ordered the way its meaning orders it: creation long
        ago, later changes recently (so updated >= created, both before today), the start of
        anything ahead in the next two weeks and its end, due date or upper bound after those
        (so end >= start, timeMin < timeMax). Other times: the next three weeks."""
        words = set(snake(name).split("_")) if name else set()
        if words & _CREATED_WORDS:
            return self._at(-self.rng.randint(30, 90))
        if words & _CHANGED_WORDS or ("timestamp" in words and not words & (_END_WORDS | _START_WORDS)):
            return self._at(-self.rng.randint(1, 29))
        if words & _END_WORDS:
            return self._at(self.rng.randint(15, 28))
        if words & _START_WORDS:
            return self._at(self.rng.randint(1, 14))
        return self.future_datetime()

    def just_now(self, schema: dict[str, Any]) -> Any:
        """The conversation's moment (`today`), in the schema's form (Unix seconds for an
        integer, a date, or an ISO date-time): when something this call makes or changes was
        made or changed (one moment, so a change is never before the making)."""
        at = self.today
        stype = _schema_type(schema)
        if stype in ("integer", "number"):
            return int(at.timestamp())
        if schema.get("format") == "date":
            return at.strftime("%Y-%m-%d")
        return self.iso(at)

    def scheduling_sentence(self) -> str:
        """Something to put on a calendar, said the way a person types it into a quick-add box:
        "Lunch with Ana about the Q3 plan on Friday November 13 at 12:30" (the next two weeks;
        `scheduled()` reads it back)."""
        what, hours = self.rng.choice(_GATHERINGS)
        who = self.fake.first_name()
        about = f" about {self.title()}" if self.rng.random() < 0.4 else ""
        at = self._at(self.rng.randint(1, 14)).replace(hour=self.rng.choice(hours))
        return f"{what} with {who}{about} on {at:%A %B} {at.day} at {at.hour}:{at.minute:02d}"

    def between(self, lo: datetime, hi: datetime, whole_days: bool = False) -> datetime:
        """A time in [lo, hi] on a quarter hour (a whole day at midnight with `whole_days`);
        `lo` when the span is too short to hold one."""
        if whole_days:
            first = (lo + timedelta(days=1) - timedelta(microseconds=1)).replace(hour=0, minute=0, second=0,
                                                                                 microsecond=0)
            days = (hi - first).days
            return first + timedelta(days=self.rng.randint(0, days)) if days >= 0 else lo
        first = lo + timedelta(minutes=(-lo.minute) % 15, seconds=-lo.second, microseconds=-lo.microsecond)
        steps = int((hi - first).total_seconds() // 900)
        return first + timedelta(minutes=15 * self.rng.randint(0, steps)) if steps >= 0 else lo

    def _at(self, days: int) -> datetime:
        day = self.today + timedelta(days=days)
        hour = self.rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 17))
        minute = self.rng.choice((0, 0, 15, 30, 45))
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0)

    @staticmethod
    def iso(dt: datetime) -> str:
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")

    # ---- ids ---------------------------------------------------------------------------
    def make_id(self, schema: dict[str, Any], entity: str = "") -> Any:
        """A fresh id in the shape of the schema's example (`cus_...` stays `cus_...`)."""
        examples = schema.get("examples") or []
        example = examples[0] if examples else None
        if _schema_type(schema) == "integer" or isinstance(example, int):
            digits = len(str(example)) if isinstance(example, int) else 6
            return self.rng.randint(10 ** (digits - 1), 10**digits - 1)
        if isinstance(example, str) and example:
            return self._like(example)
        fmt = schema.get("format")
        if fmt == "uuid":
            return self._uuid()
        if fmt == "uri":
            return f"https://api.example.com/{entity or 'items'}s/{self._alnum(16, string.ascii_uppercase + string.digits)}"
        return self._alnum(16, "0123456789abcdef")

    def token(self) -> str:
        """An opaque page token or cursor."""
        return self._alnum(24, string.ascii_letters + string.digits)

    def _uuid(self) -> str:
        h = "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def _alnum(self, n: int, alphabet: str) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _like(self, example: str) -> str:
        """Same shape as `example`: prefix kept, letters and digits redrawn by class."""
        keep = 0
        if "://" in example:
            keep = example.rfind("/") + 1
        else:
            m = re.match(r"^[A-Za-z]+[_.\-:]", example)
            if m:
                keep = m.end()
            elif re.match(r"^[A-Z][A-Z0-9]*\d", example):
                keep = 1  # Slack-style C024BE91L: the type letter is meaningful
        out = [example[:keep]]
        for ch in example[keep:]:
            if ch.isdigit():
                out.append(self.rng.choice(string.digits))
            elif ch.islower():
                out.append(self.rng.choice(string.ascii_lowercase))
            elif ch.isupper():
                out.append(self.rng.choice(string.ascii_uppercase))
            else:
                out.append(ch)
        return "".join(out)

    # ---- generic values ----------------------------------------------------------------
    def value(self, name: str, schema: dict[str, Any], depth: int = 0, holder: str = "") -> Any:
        """A value for field `name`; `holder` is the entity the field belongs to (a user's
        `name` is a person's name, a project's `name` is a title)."""
        schema = concrete(schema, self.rng)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(list(schema["enum"]))
        stype = _schema_type(schema)
        if stype == "object":
            return self.object_value(schema, depth, parent=name)
        if stype == "array":
            return self.array_value(name, schema, depth)
        if stype == "integer":
            return self.integer(name, schema)
        if stype == "number":
            lo = float(schema.get("minimum", 1))
            hi = float(schema.get("maximum", max(lo + 1, 500)))
            return round(self.rng.uniform(lo, hi), 2)
        if stype == "boolean":
            return self.rng.random() < 0.5
        if stype == "null":
            return None
        return self.string(name, schema, holder)

    def object_value(self, schema: dict[str, Any], depth: int = 0, optional_p: float = 0.5,
                     parent: str = "") -> dict:
        props = schema.get("properties") or {}
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if not isinstance(sub, dict):
                continue
            # What the server sets (readOnly, an id, an etag) is not the caller's to invent: an
            # `id` in an update body would name another object than the one in the path.
            if key not in required and (server_set(key, sub) or snake(key).endswith("_id")):
                continue
            if key in required or (depth < 3 and self.rng.random() < optional_p):
                # A bare time key ("dateTime") takes its meaning from the object's name (start / end).
                named = f"{snake(parent)}_{snake(key)}" if parent and snake(key) in GENERIC_TIME_KEYS else key
                # The object's name is whose field it is (an address's postal_code is a postcode).
                out[key] = self.value(named, sub, depth + 1, holder=snake(parent) if parent else "")
        if not out and depth < 3:
            # An object with nothing in it says nothing (an event's `start: {}` leaves the event
            # no time): one field, a time first where it holds one.
            open_keys = [k for k, sub in props.items() if isinstance(sub, dict)
                         and not server_set(k, sub) and not snake(k).endswith("_id")]
            key = next((k for k in open_keys if snake(k) in ("date_time", "datetime")), open_keys[0] if open_keys else None)
            if key is not None:
                named = f"{snake(parent)}_{snake(key)}" if parent and snake(key) in GENERIC_TIME_KEYS else key
                out[key] = self.value(named, props[key], depth + 1, holder=snake(parent) if parent else "")
        matched_person(out)
        # {"date": ..., "dateTime": ...} where the docs say one or the other: one.
        return without_alternatives(out, props, required)

    def array_value(self, name: str, schema: dict[str, Any], depth: int = 0) -> list:
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        if "description" not in items and schema.get("description"):
            # "Label names to set, e.g. ['errands']" describes each item too.
            items = {**items, "description": schema["description"]}
        lo = int(schema.get("minItems", 1))
        hi = int(schema.get("maxItems", max(lo, 3)))
        n = self.rng.randint(lo, max(lo, min(hi, lo + 2)))
        item_name = name[:-1] if name.endswith("s") else name
        values: list[Any] = []
        for _ in range(n * 3):
            if len(values) >= n:
                break
            v = self.value(item_name, items, depth + 1)
            if v not in values or items.get("type") in ("object", "array"):
                values.append(v)
        while len(values) < lo and not schema.get("uniqueItems"):
            values.append(self.value(item_name, items, depth + 1))
        return values

    def integer(self, name: str, schema: dict[str, Any]) -> int:
        s = snake(name)
        words = set(s.split("_"))
        described = str(schema.get("description", "")).lower()
        if "days" in words:
            value = self.rng.choice((7, 14, 30, 45))  # days_until_due: a number of days, not a date
        elif re.search(r"\b(index|offset) of the first\b|\bfirst (item|result)\b", described) or s == "start_at":
            value = 0  # Jira's startAt: where a page starts, not a time
        elif words & {"max", "limit", "size", "count", "per", "top", "quantity"}:
            value = self.rng.choice((1, 2, 5, 10, 20, 25, 50))
        elif words & {"amount", "price", "total", "balance", "subtotal", "cost"}:
            value = self.rng.randint(5, 2000) * 100  # minor units, as payment APIs use
        elif words & {"duration", "minutes", "minute"}:
            value = self.rng.choice((15, 30, 45, 60, 90))
        elif words & {"index", "offset", "position", "row", "rows", "column", "columns", "line", "level", "page"}:
            value = self.rng.randint(1, 20)
        elif "priority" in words:
            value = self.rng.randint(1, 4)
        elif words & TIMESTAMP_WORDS:
            value = int(self.moment(name).timestamp())  # Unix seconds, as Stripe and Slack use
        elif "number" in words or s.endswith("_no"):
            value = self.rng.randint(1, 2400)
        else:
            value = self.rng.randint(1, 100)
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            lo = int(lo if lo is not None else 0)
            value = self.rng.randint(lo, int(hi if hi is not None else lo + 100))
        return value

    def string(self, name: str, schema: dict[str, Any], holder: str = "") -> str:
        value = self._string_by_format(schema.get("format", "") or described_format(schema), name)
        if value is None and snake(name).split("_")[-1] in ("content", "text", "body") \
                and _TITLE_DESCRIPTION.match(str(schema.get("description", ""))):
            value = self.title()  # Todoist's `content` is the "Task title", not a message body
        examples = [e for e in schema.get("examples") or [] if isinstance(e, str)]
        if not examples:
            # "Key of the parent issue, e.g. PROJ-120.": one token in the prose is a shape too.
            match = _EXAMPLES.search(str(schema.get("description", "")))
            token = match.group(1).strip().strip("'\"") if match else ""
            if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\d[A-Za-z0-9_.:-]*", token):
                examples = [token]
        if value is None and examples and " " not in examples[0] and len(examples[0]) > 1:
            # Token-like examples (PROJ-123, C024BE91L) give the shape; prose examples don't.
            value = self._like(self.rng.choice(examples))
        if value is None and re.search(r"\bphone\b", str(schema.get("description", "")), re.I) \
                and snake(name).split("_")[-1] in ("to", "from", "recipient", "sender", "number"):
            # A recipient the description calls a phone number (WhatsApp's `to`) is one, not an email.
            digits_only = "digits only" in str(schema.get("description", "")).lower()
            value = ("" if digits_only else "+") + "1" + "".join(self.rng.choice(string.digits) for _ in range(10))
        if value is None and SCHEDULING_DESCRIPTION.search(str(schema.get("description", ""))):
            value = self.scheduling_sentence()  # Calendar's QUICK_ADD `text`: an event said in words
        if value is None and re.search(r"\brrule\b", str(schema.get("description", "")), re.I):
            value = self.rng.choice(_RRULES)
        if value is None and snake(name) in ("name", "display_name") and holder in PERSON_ENTITIES \
                and described_examples(schema):
            # "Status name, e.g. To Do, In Progress, Done." under a transition's `to`: a status,
            # though `to` is usually a person.
            value = self.rng.choice(described_examples(schema))
        if value is None:
            value = self._string_by_name(snake(name), holder)
        if value is None:
            # A field the name says nothing about: the description's own examples ("Issue type
            # name, e.g. Task, Bug, Story, Epic") before random words.
            examples = described_examples(schema)
            value = self.rng.choice(examples) if examples else (
                plain_word(self.fake) if self.rng.random() < 0.5 else " ".join(self.fake.words(nb=2, ext_word_list=PLAIN_WORDS)))
        min_len = int(schema.get("minLength", 0))
        max_len = schema.get("maxLength")
        if max_len is not None and len(value) > int(max_len):
            cut = value[: int(max_len)]
            value = cut.rstrip() if len(cut.rstrip()) >= min_len else cut
        if len(value) < min_len:
            value = value + self._alnum(min_len - len(value), string.ascii_lowercase)
        return value

    def _string_by_format(self, fmt: str, name: str) -> str | None:
        if fmt == "email":
            return self.email()
        if fmt == "date-time":
            return self.iso(self.moment(name))
        if fmt == "date":
            return self.moment(name).strftime("%Y-%m-%d")
        if fmt == "time":
            return self.moment(name).strftime("%H:%M:%S")
        if fmt in ("uri", "url", "uri-reference"):
            return f"https://{self.fake.domain_name()}/{self.fake.slug()}"
        if fmt == "uuid":
            return self._uuid()
        if fmt == "hostname":
            return self.fake.domain_name()
        if fmt in ("ipv4",):
            return self.fake.ipv4_public()
        return None

    def email(self) -> str:
        return f"{self.fake.first_name().lower()}.{self.fake.last_name().lower()}@{self.fake.domain_name()}"

    def _string_by_name(self, s: str, holder: str = "") -> str | None:
        """A value by what the field's name says, None when it says nothing recognised."""
        fake, rng = self.fake, self.rng
        kinds = _KIND_NAMES.get(holder.replace("_", "")) if holder else None
        if s in ("name", "display_name", "label") and kinds:
            return rng.choice(kinds)  # a status is "In Progress", not "Syndicate enterprise e-tailers"
        if s in ("name", "display_name") and holder and holder not in PERSON_ENTITIES:
            return self.title()
        last = s.split("_")[-1] if s else ""
        if ("email" in s and last not in ("message", "body", "subject", "text", "content", "template")) \
                or s in ("to", "from", "sender", "recipient", "cc", "bcc", "reply_to", "organizer", "assignee_email"):
            return self.email()  # (an `email_message` is what the email says, not an address)
        if last == "domain":
            return fake.domain_name()
        if last in ("token", "cursor", "etag"):
            return self.token()
        if last in ("timezone", "zone") or "time_zone" in s or s == "tz":
            return rng.choice(_TIMEZONES)
        if last == "currency":
            return rng.choice(_CURRENCIES)
        if last in ("color", "colour"):
            return rng.choice(_COLORS)
        if last in ("language", "locale", "lang") or s in ("language_code", "locale_code", "lang_code"):
            return rng.choice(_LANGUAGES)
        if "phone" in s or s in ("wa_id", "msisdn"):
            return "+1" + "".join(rng.choice(string.digits) for _ in range(10))
        if last in ("url", "link", "href", "uri") or s.endswith("html_link"):
            return f"https://{fake.domain_name()}/{fake.slug()}"
        if last in ("date", "due", "deadline") or s.endswith(("_at", "_time", "datetime")):
            return self.iso(self.moment(s))
        if last == "number":
            return f"{self._alnum(4, string.ascii_uppercase)}-{self.rng.randint(1, 9999):04d}"
        if s == "jql":
            return rng.choice(_JQL).format(key=plain_word(fake).upper()[:4], word=plain_word(fake))
        if s in ("q", "query", "search", "search_query", "filter"):
            return " ".join(fake.words(nb=2, ext_word_list=PLAIN_WORDS))
        if last in ("subject", "title", "summary", "headline"):
            return self.title()
        if last in ("name", "filename") and ("file" in s or "document" in s):
            base, ext = rng.choice(_FILE_KINDS)
            return f"{plain_word(fake).title()} {base}.{ext}"
        if s in ("first_name", "given_name"):
            return fake.first_name()
        if s in ("last_name", "family_name", "surname"):
            return fake.last_name()
        if s in ("name", "display_name", "full_name", "customer_name", "user_name", "username", "author"):
            return fake.name()
        if last in ("company", "organization", "org"):
            return fake.company()
        if last == "name" and s.split("_")[0] in PERSON_ENTITIES:
            return fake.name()  # invitee_name, assignee_name: a person's
        if last == "name":
            return self.title()
        if last in ("description", "notes", "details", "bio", "about", "caption"):
            return self.description()  # what a thing is for, not a message
        if last == "reason" or s in ("cancellation_comment", "cancel_reason"):
            return pick(self.rng, "free_reason", title=self.title())  # why, in a line
        if last in ("body", "text", "message", "content", "comment", "note", "snippet", "html"):
            return self.free_text()
        if holder in ("address", "billing_address", "shipping_address", "shipping", "location") or "address" in s:
            parts = {"line1": fake.street_address, "line2": fake.secondary_address, "street": fake.street_address,
                     "city": fake.city, "state": fake.state_abbr, "country": fake.country_code,
                     "postal": fake.postcode, "zip": fake.postcode, "code": fake.postcode}
            if last in parts:
                return parts[last]()
        if last == "country":
            return fake.country_code()
        if last == "emoji":
            return rng.choice(("👍", "❤️", "😂", "🎉", "🙏", "✅", "👀", "🔥"))
        if last in ("location", "address", "city", "place", "venue"):
            return f"{fake.city()}, {fake.country()}"
        if last in ("status", "state"):
            return rng.choice(("active", "open", "pending", "completed"))
        if s in ("project_key", "project_key_or_id"):
            # A project key as trackers spell them (Jira's PROJ), the ones the world's issue keys use.
            return rng.choice(("OPS", "PROJ", "ENG", "MKT", "SUP", "FIN", "WEB", "DATA"))
        if last in ("owner", "org", "repo", "repository", "slug", "project", "key"):
            return fake.slug().split("-")[0]
        if last in ("mime", "mimetype") or "mime_type" in s:
            if holder == "folder":
                return "application/vnd.google-apps.folder"
            return rng.choice(("application/pdf", "text/plain", "application/vnd.google-apps.document"))
        if last in ("size", "bytes") or s in ("file_size", "size_bytes", "quota_bytes_used"):
            return str(rng.randint(2_000, 4_000_000))  # Drive's size: bytes, as a string
        if s in ("label", "labels", "tag", "tags", "label_names", "tag_names"):
            return rng.choice(_LABELS)  # a unit_label ("seat") is not a tag
        if last == "section":
            return rng.choice(_SECTIONS)
        return None

    def description(self) -> str:
        """A line saying what something is for ("Planning space for the Q3 launch; owned by Ana.")."""
        return pick(self.rng, "free_description", first_name=self.fake.first_name(), title=self.title(),
                    team=self.rng.choice(_TEAMS))

    def free_text(self) -> str:
        day = self.future_datetime().strftime("%A %B %-d")
        return pick(self.rng, "free_text", first_name=self.fake.first_name(), title=self.title(), day=day)

    def titled(self, words: list[str], person: bool = False, filename: bool = False) -> str:
        """A title (a person's name with `person`, a file name with `filename`) that holds
        `words`, as an item found by searching for them would: "Budget review" -> "Budget
        review kickoff", "Notes on budget review"."""
        rng, fake = self.rng, self.fake
        phrase = " ".join(words)
        capital = phrase[:1].upper() + phrase[1:]
        if person:
            names = " ".join(w.capitalize() for w in words)
            return names if len(words) > 1 else f"{names} {fake.last_name()}"
        if filename:
            base, ext = rng.choice(_FILE_KINDS)
            return f"{capital} {base}.{ext}"
        forms = (
            lambda: capital,
            lambda: f"{capital} {rng.choice(('plan', 'update', 'kickoff', 'review', 'notes', 'sync'))}",
            lambda: f"{rng.choice(('Notes on', 'Draft:', 'Follow up on', 'Q' + str(rng.randint(1, 4))))} {phrase}",
        )
        return rng.choice(forms)()

    def variant(self, label: str, reply: bool = False) -> str:
        """A label a near-miss item may carry beside `label`: the same words, said the same way
        or with a qualifier (a recurring meeting, a second draft; a reply for `reply`: an email
        subject)."""
        rng = self.rng
        root, dot, ext = label.rpartition(".") if re.search(r"\.[a-z]{2,4}$", label) else (label, "", "")
        qualified = (f"{root} (copy)", f"{root} v2", f"{root} - follow-up", f"{root} (draft)", f"{root} prep") + (
            (f"Re: {root}", f"Fwd: {root}") if reply else ())
        choice = label if rng.random() < 0.3 else rng.choice(qualified)
        return f"{choice}{dot}{ext}" if dot and choice != label else choice

    def title(self) -> str:
        rng, fake = self.rng, self.fake
        forms = (
            lambda: f"{fake.bs().capitalize()}",
            lambda: f"Q{rng.randint(1, 4)} {plain_word(fake)} review",
            lambda: f"{fake.catch_phrase()}",
            lambda: f"{plain_word(fake).capitalize()} sync with {fake.company().split()[0].rstrip(',')}",
            lambda: f"{plain_word(fake).capitalize()} {rng.choice(('plan', 'update', 'kickoff', 'proposal', 'retro'))}",
        )
        return rng.choice(forms)()


def make_today(rng: random.Random) -> datetime:
    """The conversation's 'today': a fixed-by-seed date, never the wall clock."""
    base = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    return base + timedelta(days=rng.randint(0, 330))
