"""Time that runs backwards: `end_before_start`, `updated_before_created`, `created_in_future`,
`relative_date_mismatch`.

- End before start: inside one JSON object (a call's arguments or any object in a result), a
  key and its counterpart, matched by swapping one word of the snake-cased key: start/end,
  begin/end, min/max, from/to, since/until, after/before, earliest/latest, start/due,
  check_in/check_out (`start_time`/`end_time`, `timeMin`/`timeMax`, `start_on`/`due_on`,
  `start.dateTime`/`end.dateTime`). Both values must parse as dates or times, or both be
  numbers that are not times (`start_index` 10 / `end_index` 7, `min_price` / `max_price`).
- Updated before created: in a result object, a `created*` time later than an `updated*`,
  `modified*`, `completed*`, `cancel(l)ed*`, `deleted*`, `closed*`, `resolved*` or `archived*`
  time of the same object.
- Created in the future: with the conversation's today known (its system prompt), a result
  time of a thing that already happened (created, updated, modified, completed, cancelled,
  deleted, closed, resolved, archived, sent, received, paid, refunded, posted, published, joined,
  registered, occurred, logged) after today (one day of slack for time zones); not a time named
  as planned (`scheduled_*`, `publish_at`, `*_after`). One finding per result.
- Relative dates: a text naming a weekday with a date that falls on another weekday ("Friday
  March 4"); a relative date in an assistant message followed within a few words by the
  absolute date it stands for ("tomorrow (2026-03-04)") that is not that date; and a user
  message with relative dates (and no absolute ones) that anchors dates ("tomorrow", "on
  Friday", "by next Tuesday") none of which the calls answering it put a date on or span.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.dates import (
    TimePoint,
    before,
    parse_time,
    relative_dates,
    text_dates,
)
from funcdex_assets.quality.detectors.honesty import failure
from funcdex_assets.quality.dialogue import Dialogue, iter_objects, iter_scalars
from funcdex_assets.quality.findings import Finding

_SWAPS = {"start": ("end", "due", "until"), "starts": ("ends",), "begin": ("end",), "min": ("max",),
          "from": ("to", "until"), "since": ("until", "before"), "after": ("before",), "earliest": ("latest",),
          "in": ("out",), "gte": ("lte", "lt"), "gt": ("lt", "lte"), "lower": ("upper",), "open": ("close",)}
_CREATED = frozenset({"created", "creation", "create", "inserted", "added"})
_LATER = frozenset({"updated", "modified", "completed", "canceled", "cancelled", "deleted", "closed", "resolved",
                    "archived", "finished", "edited"})
_HAPPENED = _LATER | _CREATED | frozenset({"sent", "received", "paid", "refunded", "uploaded", "submitted", "posted",
                                           "published", "joined", "registered", "occurred", "logged", "recorded"})
_NOT_PAST = frozenset({"due", "scheduled", "expires", "expiry", "expiration", "start", "end", "next", "until",
                       "reminder", "remind", "deadline", "planned", "estimated", "eta", "valid", "trial", "period",
                       "after", "before", "will", "pending", "publish", "send"})
_INNER_TIME = ("date_time", "datetime", "date", "time", "timestamp", "value")


def _time_of(value: Any) -> TimePoint | None:
    """A time value, or the time inside a {dateTime|date: ...} object. Only called for keys
    named like times, so Unix timestamps count (Stripe's `created: 1767225600`)."""
    if isinstance(value, dict):
        by_snake = {snake(k): v for k, v in value.items()}
        for key in _INNER_TIME:
            if key in by_snake:
                found = parse_time(by_snake[key], numeric=True)
                if found:
                    return found
        return None
    return parse_time(value, numeric=True)


def _pairs(obj: dict[str, Any]):
    """(start key, end key) pairs present in one object."""
    by_snake = {snake(k): k for k in obj}
    for s_key, key in by_snake.items():
        ws = s_key.split("_")
        for i, w in enumerate(ws):
            for other in _SWAPS.get(w, ()):
                partner = "_".join(ws[:i] + [other] + ws[i + 1:])
                if partner in by_snake and partner != s_key:
                    yield key, by_snake[partner]


def _end_before_start(obj: dict[str, Any]) -> str | None:
    for start_key, end_key in _pairs(obj):
        low, high = obj[start_key], obj[end_key]
        start, end = _time_of(low), _time_of(high)
        if start and end and before(end, start):
            return f"{end_key} {_show(high)} is before {start_key} {_show(low)}"
        if not (start or end) and _plain_number(low) and _plain_number(high) and high < low \
                and _kind(start_key) & _NUMERIC_LOWS:
            # A range of positions or amounts: start_index 10 to end_index 7, min_price 50 to max_price 20.
            return f"{end_key} {high} is below {start_key} {low}"
    return None


# Words of the lower bound of a range of numbers; a day's `open` / `close` prices are no range.
_NUMERIC_LOWS = frozenset({"start", "begin", "min", "from", "lower", "gte", "gt"})


def _plain_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    tp = _time_of(value)
    return tp.moment.isoformat() if tp and not tp.date_only else (tp.day.isoformat() if tp else repr(value))


def _kind(key: str) -> set[str]:
    return set(snake(key).split("_"))


def _updated_before_created(obj: dict[str, Any]) -> str | None:
    created = [(k, _time_of(v)) for k, v in obj.items() if _kind(k) & _CREATED and not _kind(k) & _NOT_PAST]
    created = [(k, t) for k, t in created if t]
    if not created:
        return None
    for key, value in obj.items():
        words = _kind(key)
        if not words & _LATER or words & _CREATED:
            continue
        later = _time_of(value)
        for c_key, c_time in created:
            if later and before(later, c_time):
                return f"{key} {_show(value)} is before {c_key} {_show(obj[c_key])}"
    return None


def _in_future(result: Any, today: date) -> str | None:
    limit = today + timedelta(days=1)
    for _, obj in iter_objects(result):
        for key, value in obj.items():
            words = _kind(key)
            if not words & _HAPPENED or words & _NOT_PAST:
                continue
            t = _time_of(value)
            if t and t.day > limit:
                return f"{key} {_show(value)} is after today ({today.isoformat()})"
    return None


def temporal(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    today = d.today()
    for call in d.calls:
        # Dates the service rejected are the mistake the conversation is about, not one it makes.
        rejected = call.answered and failure(call.result, call.name) is not None
        for _, obj in () if rejected else iter_objects(call.arguments):
            why = _end_before_start(obj)
            if why:
                out.append(Finding(code="end_before_start", message_index=call.index,
                                   message=f"{call.name} arguments: {why}"))
                break
        if not call.answered:
            continue
        for code, check in (("end_before_start", _end_before_start), ("updated_before_created", _updated_before_created)):
            for _, obj in iter_objects(call.result):
                why = check(obj)
                if why:
                    out.append(Finding(code=code, message_index=call.result_index,
                                       message=f"{call.name} result: {why}"))
                    break
        if today is not None:
            why = _in_future(call.result, today)
            if why:
                out.append(Finding(code="created_in_future", message_index=call.result_index,
                                   message=f"{call.name} result: {why}"))
    out.extend(_relative(d, today))
    return out


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE_ARG = re.compile(r"(^|_)(start|date|day|due|when|time|at|on|deadline|scheduled|send|remind|begin)(_|$)")


def _relative(d: Dialogue, today: date | None) -> list[Finding]:
    out: list[Finding] = []
    for m in d.messages:
        if m.role not in ("user", "assistant", "system") or not m.text:
            continue
        dates = text_dates(m.text, today)
        wrong = next((t for t in dates if t.weekday is not None and t.weekday != t.day.weekday()), None)
        if wrong:
            out.append(Finding(code="relative_date_mismatch", message_index=m.index, message=(
                f"{m.text[wrong.start:wrong.end]!r}: {wrong.day.isoformat()} is a {_WEEKDAY_NAMES[wrong.day.weekday()]}")))
            continue
        if today is None:
            continue
        rel = relative_dates(m.text, today)
        if m.role == "assistant":
            for r in (r for r in rel if r.anchored):
                # "tomorrow (2026-03-04)", "on Friday, March 6": the date written right after it.
                end = r.start + len(r.phrase)
                near = next((t for t in dates if t.start >= end and re.fullmatch(r"[\s,(:–—-]*", m.text[end:t.start])),
                            None)
                if near and near.day not in r.days:
                    out.append(Finding(code="relative_date_mismatch", message_index=m.index, message=(
                        f"{r.phrase!r} is {_days(r.days)} (today is {today.isoformat()}), "
                        f"but the text says {m.text[near.start:near.end]!r}")))
                    break
        elif m.role == "user" and rel and not dates:
            finding = _request_dates(d, m.index, rel, today)
            if finding:
                out.append(finding)
    return out


def _days(days) -> str:
    return " or ".join(sorted(x.isoformat() for x in days))


def _request_dates(d: Dialogue, user_index: int, rel, today: date) -> Finding | None:
    """The calls answering this user message (up to the next one) that carry dates must put one
    of them on a date the message anchors ("tomorrow", "on Friday", "by next Tuesday"; a bare
    "Monday meeting" or "last week" pins nothing), or span it with a window (date_from /
    date_to), or find it in a result: "cancel my physio on the 20th" names an appointment to look
    up, not a date to set."""
    targets = [r for r in rel if r.anchored]
    dated = []  # (call, key, time) of every dated argument answering the message
    windows = []  # (lower, upper) days of argument pairs such as date_from / date_to
    found = []  # days in the results of those calls
    for m in d.messages[user_index + 1:]:
        if m.role == "user":
            break
        for call in m.calls:
            times = {k: t for k, v in call.arguments.items() for t in [_time_of(v)] if t}
            dated += [(call, k, t) for k, t in times.items() if _DATE_ARG.search(snake(k))]
            windows += [(times[a].day, times[b].day) for a, b in _pairs(call.arguments) if a in times and b in times]
            if call.answered:
                found += [t.day for _, v in iter_scalars(call.result) for t in [parse_time(v)] if t]
    if not targets or not dated:
        return None
    # Matched by an argument, spanned by a window, or looked up: the date names something a
    # result shows ("my physio on the 20th" -> the appointment list has one on the 20th).
    if any(_same_day(t, r.days) for r in targets for _, _, t in dated) or \
            any(lo <= day <= hi for r in targets for day in r.days for lo, hi in windows) or \
            any(day in r.days for r in targets for day in found):
        return None
    call, key, t = dated[0]
    phrases = ", ".join(repr(r.phrase) for r in targets)
    wanted = set().union(*(r.days for r in targets))
    return Finding(code="relative_date_mismatch", message_index=call.index, message=(
        f"the user said {phrases} ({_days(wanted)}; today is {today.isoformat()}), but no call puts a date there "
        f"({call.name} {key} is {t.day.isoformat()})"))


def _same_day(t: TimePoint, days) -> bool:
    if t.date_only:
        return t.day in days
    return any(abs((t.day - day).days) <= 1 for day in days)
