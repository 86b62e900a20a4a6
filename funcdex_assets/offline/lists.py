"""How the simulated world answers a list call: which items, in what shape.

A list call reads a `ListSpec` from its arguments (`list_spec`): the containers it looks in (id
arguments: `project_gid`, `calendarId`; `me` / `primary` name no container), equality filters
(an argument an item also has: `status: "canceled"`, `type`, `labels`), time windows
(catalog/listing.py: `timeMin`, `modified_after`, `created_gte`, `min_start_time`), the words
of a free-text query (`q`, `query`, `search`, `jql`; operators such as `from:x@y`, `status =
Done`, `name contains 'plan'` become field constraints), a limit, a page position and a sort.

The world (offline/world.py) then lists the entities it already holds that fit the spec
(`record_matches`) before new ones, draws how many there are (`draw_total`), and shapes every
new item to the spec (`conform`): filtered fields carry the asked value, times lie inside the
window (moving the item's related times with them, so an event keeps its length and a record
is never updated before it was created), labels hold the query's words. `near_miss` turns an
item into a distractor for the target the user means: the same words in its label, another
date or status.

Times are `datetime`s in UTC; a window on a time of the past (`created`, `modified`) ends at
the conversation's now.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from funcdex_assets.catalog.fields import LIMIT_KEYS, result_limit, snake
from funcdex_assets.catalog.listing import NOT_FILTERS, SEARCH_KEYS, time_window
from funcdex_assets.offline.values import GENERIC_TIME_KEYS, PAST_WORDS, PERSON_ENTITIES, TIMESTAMP_WORDS, ValueFactory
from funcdex_assets.quality.dates import parse_time

# Arguments that say where in the result a page starts.
PAGE_KEYS = frozenset({"page", "page_token", "cursor", "offset", "starting_after", "next_page_token", "start_at",
                       "start_index", "skip"})
_SORT_KEYS = frozenset({"sort", "sort_by", "order_by", "order", "sort_order"})
_DIRECTION_KEYS = frozenset({"direction", "sort_dir", "sort_direction"})
QUERY_KEYS = SEARCH_KEYS | {"jql", "search_query"}
# Values of id arguments that name the caller's own space, not a container.
_KEYWORDS = frozenset({"me", "self", "primary", "default", "current", "~", "@me", "my_drive", "mydrive", "root"})
_GONE_WORDS = frozenset({"deleted", "trashed", "trash", "spam", "canceled", "cancelled", "archived", "removed"})
GONE_STATES = ("canceled", "cancelled", "deleted", "trashed", "archived", "void", "voided", "removed", "inactive")
# Text fields that name an item, the first present is its label; the last ones hold prose.
_LABEL_TEXT = ("summary", "title", "subject", "name", "display_name", "real_name", "full_name", "filename",
               "file_name", "snippet", "text", "content", "message_text", "description", "body")
_PROSE = frozenset({"snippet", "text", "content", "message_text", "description", "body"})
# Query operators that say nothing about an item's fields (Gmail's `is:unread`, JQL's ORDER BY).
_SKIP_OPERATORS = frozenset({"is", "in", "has", "order", "after", "before", "newer_than", "older_than", "category",
                             "parents", "larger", "smaller"})
_QUERY_FIELD = re.compile(
    r"""(?P<field>[A-Za-z_][\w.]*)\s*(?P<op>!=|=|:|~|\bcontains\b)\s*(?P<value>"[^"]*"|'[^']*'|[^\s()]+)""", re.I)
_BOOLEAN_WORDS = frozenset({"and", "or", "not", "order", "by", "asc", "desc", "true", "false"})
_FIELD_ALIASES = {"from": ("sender", "from", "from_email"), "to": ("to", "recipient"), "text": ("summary", "title"),
                  "mimetype": ("mime_type",), "issuetype": ("issuetype", "issue_type")}


@dataclass(frozen=True)
class Window:
    """One time bound of a list call: `side` lower or upper, on the times named by
    `dimension` (empty: the item's own span, its start and end)."""

    key: str
    side: str
    dimension: frozenset[str]
    bound: datetime


@dataclass(frozen=True)
class ListSpec:
    entity: str
    containers: dict[str, Any]  # snake_case argument -> id value
    filters: dict[str, Any]  # snake_case argument -> value (scalar or list)
    windows: tuple[Window, ...]
    words: tuple[str, ...]  # of the free-text query, as written
    query_fields: tuple[tuple[str, str], ...]  # (field, value) from query operators
    limit: int | None
    page: tuple[str, Any] | None  # (snake_case argument, value): where the page starts
    sort: tuple[tuple[str, ...], bool] | None  # (words of the field, descending)
    wants_gone: bool  # deleted / trashed / cancelled items asked for (showDeleted, include_spam_trash)

    def key(self) -> str:
        """What makes two calls the same listing (their pages continue each other)."""
        return json.dumps([self.entity, self.containers, self.filters,
                           [(w.key, w.bound.isoformat()) for w in self.windows], self.words, self.query_fields,
                           self.sort, self.wants_gone], sort_keys=True, default=str)


def list_spec(args: dict[str, Any], entity: str, id_args: frozenset[str]) -> ListSpec:
    """The `ListSpec` of a list call with `args` over items of `entity`; `id_args` are the
    argument names that hold ids (catalog.fields.input_slots)."""
    containers: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    windows: list[Window] = []
    words: list[str] = []
    query_fields: list[tuple[str, str]] = []
    page = None
    sort_field, descending = None, False
    wants_gone = False
    for key, value in args.items():
        sk = snake(key)
        ws = sk.split("_")
        if sk in LIMIT_KEYS or value is None:
            continue
        if sk in PAGE_KEYS:
            page = (sk, value)
            continue
        if sk in _SORT_KEYS and isinstance(value, str):
            sort_field, descending = _sort_of(value, descending)
            continue
        if sk in _DIRECTION_KEYS and isinstance(value, str):
            descending = value.lower().startswith("desc")
            continue
        if sk in QUERY_KEYS and isinstance(value, str):
            w, f = query_terms(value)
            words += w
            query_fields += f
            continue
        if ws[0] in ("include", "show") and len(ws) > 1:
            wants_gone |= value is True and bool(set(ws[1:]) & _GONE_WORDS)
            continue
        if ws[0] == "exclude" and len(ws) > 1:
            if value is True:
                filters["_".join(ws[1:])] = False
            continue
        if ws[-1] == "only" and len(ws) > 1:
            if value is True:
                filters["_".join(ws[:-1])] = True
            continue
        window = time_window(key)
        bound = parse_time(value, numeric=True) if window else None
        if window and bound:
            windows.append(Window(key, window[0], window[1], bound.moment.astimezone(timezone.utc)))
            continue
        if key in id_args:
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                if str(value).lower() not in _KEYWORDS:
                    containers[sk] = value
            elif isinstance(value, list) and value:
                filters[sk] = value
            continue
        if sk in NOT_FILTERS:
            continue
        if isinstance(value, str) and "," in value and sk.endswith("s"):
            value = [v.strip() for v in value.split(",") if v.strip()]  # GitHub's labels="bug,ui"
        if isinstance(value, (str, int, float, bool)) or (
                isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value)):
            filters[sk] = value
    if any(str(v).lower() in GONE_STATES for v in filters.values() if isinstance(v, str)):
        wants_gone = True
    sort = (tuple(snake(sort_field).split("_")), descending) if sort_field else None
    return ListSpec(entity, containers, filters, tuple(windows), tuple(words), tuple(query_fields),
                    result_limit(args), page, sort, wants_gone)


def _sort_of(value: str, descending: bool) -> tuple[str | None, bool]:
    """`start_time:asc`, `modifiedTime desc`, `-created` -> (field, descending)."""
    text = value.strip()
    if text.startswith("-"):
        return text[1:] or None, True
    parts = re.split(r"[:\s]+", text)
    field_name = parts[0] or None
    if len(parts) > 1:
        descending = parts[1].lower().startswith("desc")
    return field_name, descending


def query_terms(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(free words, (field, value) constraints) of a search query: `from:ana@x.io budget`,
    `project = OPS AND text ~ "cache"`, `name contains 'plan' and trashed = false`. Words under
    `~` / `contains` of a text field are free words; operators that say nothing about an item's
    own fields (`is:unread`, ORDER BY) are dropped."""
    words: list[str] = []
    fields: list[tuple[str, str]] = []
    rest = re.sub(r"\border\s+by\b.*$", " ", text, flags=re.I)

    def take(m: re.Match) -> str:
        name = snake(m.group("field").split(".")[-1])
        value = m.group("value").strip("'\"")
        if m.group("op") == "!=" or name in _SKIP_OPERATORS:
            return " "
        if m.group("op").lower() in ("~", "contains") and name in ("text", "summary", "name", "title", "subject",
                                                                   "description", "full_text", "fulltext"):
            words.extend(_words(value))
        elif value and not value.endswith(")"):  # currentUser(), membersOf(...): nothing to hold
            fields.append((name, value))
        return " "

    rest = _QUERY_FIELD.sub(take, rest)
    words.extend(w for w in _words(rest) if w.lower() not in _BOOLEAN_WORDS)
    return list(dict.fromkeys(words)), fields


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w@.'-]+", text) if len(w.strip(".'-")) > 1]


def draw_total(rng, min_items: int) -> int:
    """How many items a listing holds in all: none (8%), one (15%), a few (2-5, 42%), more
    (6-10, 20%; 11-20, 10%), or more than a page (21-45, 5%); at least `min_items`."""
    r = rng.random()
    if r < 0.08:
        n = 0
    elif r < 0.23:
        n = 1
    elif r < 0.65:
        n = rng.randint(2, 5)
    elif r < 0.85:
        n = rng.randint(6, 10)
    elif r < 0.95:
        n = rng.randint(11, 20)
    else:
        n = rng.randint(21, 45)
    return max(n, min_items)


# ---- times of an item ---------------------------------------------------------------------

@dataclass
class TimeLeaf:
    """A time inside an item: `holder[key]` (at dotted `path` in the item), its meaning's
    words, when, and how it is written (`datetime` ISO string, `date` string, `unix` seconds)."""

    holder: dict[str, Any]
    key: str
    path: str
    words: frozenset[str]
    at: datetime
    kind: str

    @property
    def past(self) -> bool:
        return bool(self.words & PAST_WORDS) and not self.words & {"start", "end", "due", "begin"}

    @property
    def starts(self) -> bool:
        return bool(self.words & {"start", "begin", "from"})

    @property
    def ends(self) -> bool:
        return bool(self.words & {"end", "until", "to"})

    def set(self, at: datetime) -> None:
        self.at = at
        if self.kind == "unix":
            self.holder[self.key] = int(at.timestamp())
        elif self.kind == "date":
            self.holder[self.key] = at.strftime("%Y-%m-%d")
        else:
            self.holder[self.key] = ValueFactory.iso(at)


def time_leaves(obj: dict[str, Any], parent: frozenset[str] = frozenset(), depth: int = 0,
                prefix: str = "") -> list[TimeLeaf]:
    """The times in `obj` and in the objects it holds (depth 3 at most), in order. A bare time
    key takes its words from its holder (`start: {dateTime}` -> start, date, time)."""
    out: list[TimeLeaf] = []
    for key, value in obj.items():
        sk = snake(key)
        ws = frozenset(sk.split("_"))
        if sk in GENERIC_TIME_KEYS or not ws - {"date", "time", "datetime", "timestamp"}:
            ws = ws | parent
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth < 3:
                out += time_leaves(value, ws, depth + 1, path + ".")
        elif isinstance(value, list):
            if depth < 3:
                for i, v in enumerate(value):
                    if isinstance(v, dict):
                        out += time_leaves(v, frozenset(), depth + 1, f"{path}[{i}].")
        elif isinstance(value, str):
            t = parse_time(value)
            if t:
                out.append(TimeLeaf(obj, key, path, ws, t.moment.astimezone(timezone.utc),
                                    "date" if t.date_only else "datetime"))
        elif isinstance(value, int) and not isinstance(value, bool) and ws & TIMESTAMP_WORDS:
            t = parse_time(value, numeric=True)
            if t:
                out.append(TimeLeaf(obj, key, path, ws, t.moment, "unix"))
    return out


def _anchors(leaves: list[TimeLeaf], dimension: frozenset[str]) -> list[TimeLeaf]:
    """The times a window on `dimension` bounds (empty dimension: the span, its starts and
    ends; without one, the time the item is about: its last change)."""
    # `start: {dateTime, date}`: the date-time is the start; its date only repeats its day.
    timed = {id(leaf.holder) for leaf in leaves if snake(leaf.key) in ("date_time", "datetime")}
    leaves = [leaf for leaf in leaves if not (snake(leaf.key) == "date" and id(leaf.holder) in timed)]
    if dimension:
        return [leaf for leaf in leaves if leaf.words & dimension]
    spans = [leaf for leaf in leaves if leaf.starts or leaf.ends]
    if spans:
        return spans
    changed = [leaf for leaf in leaves if leaf.words & {"updated", "modified", "last", "sent", "received", "posted"}]
    return changed or [leaf for leaf in leaves if not leaf.past][:1] or leaves[:1]


def _satisfies(anchors: list[TimeLeaf], lo: datetime | None, hi: datetime | None) -> bool:
    """As the list_outside_window detector reads a window, for every way the item writes its
    times: no end before the lower bound, no start after the upper one (an item with starts
    only, or ends only, or times that are neither, such as `modifiedTime` under
    `modified_after`: those times both ways)."""
    starts = [a for a in anchors if a.starts] or anchors
    ends = [a for a in anchors if a.ends] or anchors
    return (lo is None or all(a.at >= lo for a in ends)) and (hi is None or all(a.at <= hi for a in starts))


def _bounds(windows: tuple[Window, ...]) -> dict[frozenset[str], list[datetime | None]]:
    out: dict[frozenset[str], list[datetime | None]] = {}
    for w in windows:
        lo_hi = out.setdefault(w.dimension, [None, None])
        if w.side == "lower":
            lo_hi[0] = w.bound if lo_hi[0] is None else max(lo_hi[0], w.bound)
        else:
            lo_hi[1] = w.bound if lo_hi[1] is None else min(lo_hi[1], w.bound)
    return out


def _effective(lo: datetime | None, hi: datetime | None, past: bool, now: datetime) -> tuple[datetime, datetime]:
    """Where to place a time a window bounds: inside it, and for past times not after now; an
    open side reaches two weeks (two months for past times) from the other."""
    if past:
        top = min(hi, now) if hi is not None else now
        return (lo if lo is not None else top - timedelta(days=60)), top
    if lo is None:
        lo = now if hi is not None and hi > now else hi - timedelta(days=14)
    return lo, (hi if hi is not None else lo + timedelta(days=14))


def window_feasible(spec: ListSpec, now: datetime) -> bool:
    """Whether anything can lie in the call's windows: a window on a past time (`created`,
    `modified`) that starts after now, or a window whose bounds cross, holds nothing."""
    for dimension, (lo, hi) in _bounds(spec.windows).items():
        if lo is not None and hi is not None and lo > hi:
            return False
        past = bool(dimension & PAST_WORDS) and not dimension & {"start", "end", "due"}
        if past and lo is not None and lo > now:
            return False
    return True


def _shift(leaves: list[TimeLeaf], delta: timedelta, cap: datetime | None) -> None:
    for leaf in leaves:
        at = leaf.at + delta
        leaf.set(min(at, cap) if cap is not None else at)
    for leaf in leaves:  # a `date` beside a `dateTime` stays its day
        moment = next((v for k, v in leaf.holder.items() if snake(k) in ("date_time", "datetime")
                       and isinstance(v, str) and v[:4].isdigit()), None)
        if snake(leaf.key) == "date" and leaf.kind == "date" and moment:
            leaf.holder[leaf.key] = moment[:10]


def place_in_windows(item: dict[str, Any], windows: tuple[Window, ...], values: ValueFactory) -> None:
    """Move the item's times into the call's windows: the bounded times to a drawn time inside,
    the times of the same kind (past or ahead) by as much, so their order holds."""
    now = values.today
    for dimension, (lo, hi) in _bounds(windows).items():
        leaves = time_leaves(item)
        anchors = _anchors(leaves, dimension)
        if not anchors or _satisfies(anchors, lo, hi):
            continue
        past = all(a.past for a in anchors)
        low, high = _effective(lo, hi, past, now)
        if low > high:
            continue
        at = values.between(low, high, whole_days=all(a.kind == "date" for a in anchors))
        group = [leaf for leaf in leaves if leaf.past == past]
        # The latest start goes where the drawn time is: every start is then before the upper
        # bound, and its end after the lower one.
        first = [a for a in anchors if a.starts] or anchors
        _shift(group, at - max(a.at for a in first), now if past else None)
    # Windows on several kinds of time (completedMax and updatedMin): moving the group for one
    # can push another out again; what is still outside moves alone, to a time inside.
    for dimension, (lo, hi) in _bounds(windows).items():
        anchors = _anchors(time_leaves(item), dimension)
        if not anchors or _satisfies(anchors, lo, hi):
            continue
        low, high = _effective(lo, hi, all(a.past for a in anchors), now)
        if low <= high:
            for leaf in anchors:
                if not _satisfies([leaf], lo, hi):
                    leaf.set(values.between(low, high, whole_days=leaf.kind == "date"))


def _primary_time(leaves: list[TimeLeaf]) -> TimeLeaf | None:
    ahead = [leaf for leaf in leaves if not leaf.past]
    starts = [leaf for leaf in ahead if leaf.starts]
    changed = [leaf for leaf in leaves if leaf.words & {"updated", "modified", "sent", "received", "internal"}]
    return (starts or ahead or changed or leaves or [None])[0]


def shift_date(item: dict[str, Any], target: dict[str, Any], windows: tuple[Window, ...], values: ValueFactory,
               days: int) -> str | None:
    """Put the item's main time `days` from the target's (or as far the other way), inside the
    windows, moving its related times along; the dotted path of the main time, None when
    neither fits or there is no time."""
    now = values.today
    leaves, theirs = time_leaves(item), time_leaves(target)
    mine = _primary_time(leaves)
    if mine is None:
        return None
    ref = next((t for t in theirs if t.path == mine.path), None)
    if ref is None:
        return None
    bounds = _bounds(windows)
    for sign in (1, -1):
        at = ref.at + timedelta(days=sign * days)
        if mine.past and at > now:
            continue
        group = [leaf for leaf in leaves if leaf.past == mine.past]
        delta = at - mine.at
        moved = {id(leaf) for leaf in group}
        if all(_fits(leaves, dimension, lo, hi, moved, delta) for dimension, (lo, hi) in bounds.items()):
            _shift(group, delta, now if mine.past else None)
            return mine.path
    return None


def _fits(leaves: list[TimeLeaf], dimension: frozenset[str], lo, hi, moved: set[int], delta: timedelta) -> bool:
    anchors = _anchors(leaves, dimension)
    if not anchors:
        return True
    shifted = [TimeLeaf(a.holder, a.key, a.path, a.words, a.at + delta if id(a) in moved else a.at, a.kind)
               for a in anchors]
    return _satisfies(shifted, lo, hi)


# ---- fields of an item --------------------------------------------------------------------

def _find(item: dict[str, Any], names: tuple[str, ...], depth: int = 0,
          prefix: str = "") -> tuple[dict[str, Any], str, str] | None:
    """(holder, key, dotted path) of the first field named one of `names` (snake_case) in
    `item` or the objects it holds (depth 2 at most)."""
    for key in item:
        if snake(key) in names:
            return item, key, prefix + key
    if depth < 2:
        for key, value in item.items():
            if isinstance(value, dict):
                hit = _find(value, names, depth + 1, f"{prefix}{key}.")
                if hit:
                    return hit
    return None


def _same(got: Any, wanted: Any) -> bool:
    """Whether a field's value `got` carries the filter's `wanted` (a list holds it, an object
    names it; booleans also as "true" / "false")."""
    if isinstance(wanted, list):
        return all(_same(got, w) for w in wanted)
    if isinstance(got, list):
        return any(_same(g, wanted) for g in got)
    if isinstance(got, dict):
        return any(_same(v, wanted) for v in got.values() if not isinstance(v, (dict, list)))
    if isinstance(wanted, bool) or isinstance(got, bool):
        flag = wanted if isinstance(wanted, bool) else str(wanted).lower() == "true"
        have = got if isinstance(got, bool) else (str(got).lower() == "true" if isinstance(got, str) else bool(got))
        return flag == have
    return str(got).strip().lower() == str(wanted).strip().lower()


def _set(holder: dict[str, Any], key: str, value: Any, schema: dict[str, Any] | None, valid) -> bool:
    """Make `holder[key]` carry `value` (a list gains it, an object's name or key takes it),
    when the schema allows it."""
    current = holder.get(key)
    if isinstance(value, list) and isinstance(current, list) and current and isinstance(current[0], dict):
        # labels=["bug", "ui"] over `labels: [{name}]`: the item carries a label of each name.
        inner = next((k for k in current[0] if snake(k) in ("name", "login", "key")), None)
        if inner is None:
            return False
        merged = [{**current[i % len(current)], inner: v} for i, v in enumerate(value)] + current[len(value):]
        if valid(schema, merged):
            holder[key] = merged
            return True
        return False
    if isinstance(value, list):
        if isinstance(current, list):
            merged = current + [v for v in value if v not in current]
            if valid(schema, merged):
                holder[key] = merged
                return True
        return False
    if isinstance(current, list):
        if value in current:
            return True
        if current and isinstance(current[0], dict):
            inner = next((k for k in current[0] if snake(k) in ("name", "login", "key")), None)
            if inner:
                merged = [{**current[0], inner: value}] + current[1:]
                if valid(schema, merged):
                    holder[key] = merged
                    return True
            return False
        merged = [value] + current
        if valid(schema, merged):
            holder[key] = merged
            return True
        return False
    if isinstance(current, dict):
        # `assignee: {gid, name}` carries a name filter in its name (its schema's, if it left it out).
        names = ("name", "display_name", "key", "value", "login", "email")
        inner = next((k for k in current if snake(k) in names), None) or next(
            (k for k in ((schema or {}).get("properties") or {}) if snake(k) in names), None)
        if inner and isinstance(value, str):
            current[inner] = value
            return True
        return False
    if valid(schema, value):
        holder[key] = value
        return True
    if isinstance(value, str) and value.lower() in ("true", "false") and valid(schema, value.lower() == "true"):
        holder[key] = value.lower() == "true"
        return True
    return False


def conform(item: dict[str, Any], props: dict[str, Any], spec: ListSpec, values: ValueFactory,
            valid, person: bool) -> None:
    """Shape an item to the list call: the containers' and filters' values, the query's fields and words,
    times inside the windows. `props` is the item schema's properties, `valid(schema, value)`
    says whether a value fits a schema, `person` whether the item is someone (its label is a
    name)."""
    for name, value in spec.filters.items():
        # A lower bound on an ordered choice (Calendar's minAccessRole=writer): the item's own
        # value is that one or above it in the enum's order (writer or owner, not reader).
        key = next((k for k in item if name.startswith("min_") and snake(k) == name[4:]), None)
        enum = (props.get(key) or {}).get("enum") if key else None
        if enum and value in enum and item[key] in enum and enum.index(item[key]) < enum.index(value):
            item[key] = values.rng.choice(enum[enum.index(value):])
    for name, value in {**spec.containers, **spec.filters}.items():
        if name.startswith("min_"):
            continue
        hit = next(((item, k) for k in list(item) if snake(k) in (name, f"is_{name}", _plural(name))), None)
        if hit is None:
            prop = next((k for k in props if snake(k) in (name, f"is_{name}")), None)
            if prop is None or isinstance(value, list):
                continue
            hit = (item, prop)
        holder, key = hit
        _set(holder, key, value, props.get(key) if holder is item else None, valid)
    for name, value in spec.query_fields:
        hit = _find(item, _FIELD_ALIASES.get(name.replace("_", ""), (name,)))
        if hit:
            holder, key, _ = hit
            _set(holder, key, value, props.get(key) if holder is item else None, valid)
        if name == "project" and isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", value) \
                and isinstance(item.get("key"), str) and re.fullmatch(r"[A-Z][A-Z0-9]*-\d+", item["key"]):
            # `project = GOVE`: an issue of that project is GOVE-n, not OPS-2.
            item["key"] = f"{value}-{item['key'].split('-', 1)[1]}"
    if spec.words:
        _hold_words(item, props, list(spec.words), values, valid, person)
    if not spec.wants_gone:
        # Lists leave out what was cancelled or deleted unless asked for it.
        for key in item:
            enum = (props.get(key) or {}).get("enum") or []
            if snake(key) in ("status", "state") and str(item[key]).lower() in GONE_STATES and snake(key) not in \
                    spec.filters:
                live = [v for v in enum if str(v).lower() not in GONE_STATES]
                if live:
                    item[key] = values.rng.choice(live)
    # Ranges the item holds (a calendar's busy intervals) each lie in the window too: shifted
    # with the item as one block, a spread of days leaves some outside it.
    for value in item.values():
        if isinstance(value, list):
            for part in value:
                if isinstance(part, dict) and time_leaves(part):
                    place_in_windows(part, spec.windows, values)
    place_in_windows(item, spec.windows, values)


def _plural(name: str) -> str:
    return name + "s" if not name.endswith("s") else name


def label_field(item: dict[str, Any]) -> tuple[dict[str, Any], str, str] | None:
    """(holder, key, dotted path) of the text that names the item (its summary, title,
    subject, name...): a field of the item's own, or of the wrapper that holds its fields
    (Jira's `fields.summary`), never of another object it holds (its organizer's name)."""
    for name in _LABEL_TEXT:
        for key, value in item.items():
            if snake(key) == name and isinstance(value, str):
                return item, key, key
    for wrapper in ("fields", "properties", "attributes"):
        inner = next((v for k, v in item.items() if snake(k) == wrapper and isinstance(v, dict)), None)
        if inner is not None:
            hit = label_field(inner)
            if hit:
                return hit[0], hit[1], f"{wrapper}.{hit[2]}"
    return None


def _hold_words(item: dict[str, Any], props: dict[str, Any], words: list[str], values: ValueFactory, valid,
                person: bool) -> None:
    hit = label_field(item)
    if hit is None:
        # The label was left out (an optional summary): an item found by its words shows them.
        key = next((k for name in _LABEL_TEXT for k in props if snake(k) == name
                    and (props[k] or {}).get("type") == "string"), None)
        if key is None:
            return
        item[key] = ""
        hit = (item, key, key)
    holder, key, _ = hit
    current = holder[key]
    if current and all(w.lower() in current.lower() for w in words):
        return
    sk = snake(key)
    if sk in _PROSE and current:
        text = f"{' '.join(words)}: {current}"
    else:
        filename = bool(re.search(r"\.[a-z]{2,4}$", current))
        text = values.titled(words, person=person and sk not in ("summary", "title", "subject"), filename=filename)
    schema = props.get(key) if holder is item else None
    if valid(schema, text):
        holder[key] = text
    elif not current:
        del holder[key]


def relabel(item: dict[str, Any], label: str, props: dict[str, Any], valid) -> str | None:
    """Give the item `label`; the label's dotted path, None when it has none or it does not fit."""
    hit = label_field(item)
    if hit is None:
        return None
    holder, key, path = hit
    if valid(props.get(key) if holder is item else None, label):
        holder[key] = label
        return path
    return None


def other_status(item: dict[str, Any], target: dict[str, Any], props: dict[str, Any], spec: ListSpec,
                 rng) -> str | None:
    """Give the item a status the target does not have (one the call did not filter on); the
    field's path, None when there is no such status."""
    for key in item:
        sk = snake(key)
        if sk not in ("status", "state") or sk in spec.filters or key not in target:
            continue
        enum = (props.get(key) or {}).get("enum") or []
        others = [v for v in enum if v != target[key] and str(v).lower() not in GONE_STATES]
        if others:
            item[key] = rng.choice(others)
            return key
    return None


def record_matches(record: dict[str, Any], spec: ListSpec, now: datetime) -> bool:
    """Whether an entity the world holds (its record: snake_case fields) belongs in the listing:
    in the call's containers, not contradicting its filters, query and windows. A field the
    record does not have yet contradicts nothing (the listing decides it)."""
    for name, value in spec.containers.items():
        if str(record.get(name)) != str(value):
            return False
    for name, value in spec.filters.items():
        got = next((record[k] for k in (name, f"is_{name}", _plural(name)) if k in record), None)
        if got is not None and not _same(got, value):
            return False
    for name, value in spec.query_fields:
        hit = _find(record, _FIELD_ALIASES.get(name.replace("_", ""), (name,)))
        got = hit[0][hit[1]] if hit else None
        if isinstance(got, dict):
            # Jira's `status: {"name": "Blocked"}` is the status "Blocked".
            got = next((got[k] for k in ("name", "value", "key") if isinstance(got.get(k), str)), None)
        if got is not None and not isinstance(got, list) and not _same(got, value):
            return False
        key = record.get("key")
        if name == "project" and isinstance(key, str) and re.fullmatch(r"[A-Z][A-Z0-9]*-\d+", key) \
                and key.split("-", 1)[0] != str(value):
            return False  # DATA-102 is no issue of project LOCA
    if spec.words:
        texts = " ".join(str(record[k]) for k in _LABEL_TEXT if isinstance(record.get(k), str)).lower()
        if not all(w.lower() in texts for w in spec.words):
            return False
    leaves = time_leaves(record)
    for dimension, (lo, hi) in _bounds(spec.windows).items():
        anchors = _anchors(leaves, dimension)
        if anchors and not _satisfies(anchors, lo, hi):
            return False
    return True


def sort_items(items: list[dict[str, Any]], sort: tuple[tuple[str, ...], bool] | None) -> list[int]:
    """The order (indices into `items`) a sort argument asks for; items without the field last."""
    order = list(range(len(items)))
    if not sort:
        return order
    words, descending = sort
    wanted = frozenset(w for w in words if w not in ("time", "date", "at"))

    def key(i: int):
        leaves = [leaf for leaf in time_leaves(items[i]) if wanted <= leaf.words]
        if leaves:
            return (0, leaves[0].at.timestamp(), "")
        hit = _find(items[i], ("_".join(words),))
        if hit and isinstance(hit[0][hit[1]], (int, float, str)) and not isinstance(hit[0][hit[1]], bool):
            v = hit[0][hit[1]]
            return (0, float(v), "") if isinstance(v, (int, float)) else (0, 0.0, v.lower())
        return (1, 0.0, "")

    present = [i for i in order if key(i)[0] == 0]
    missing = [i for i in order if key(i)[0] == 1]
    present.sort(key=key, reverse=descending)
    return present + missing


def flat_fields(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The item's scalar fields by dotted path (`start.dateTime`, `fields.status.name`); list
    members as `labels[0]`."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_fields(value, path + "."))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, dict):
                    out.update(flat_fields(v, f"{path}[{i}]."))
                else:
                    out[f"{path}[{i}]"] = v
        else:
            out[path] = value
    return out


@dataclass
class Population:
    """Everything a listing holds: entity ids in order (None: not drawn yet); `base` is the
    listing position of the first (a page drawn far into a listing starts there)."""

    spec_key: str
    slots: list[Any] = field(default_factory=list)
    base: int = 0


def is_person(entity: str) -> bool:
    return entity in PERSON_ENTITIES
