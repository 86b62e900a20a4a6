"""Dates and times as conversations write them: in values, in text, relative to "today".

- `parse_time(value, numeric=False)`: an ISO 8601 / RFC 3339 date or date-time string (offset
  optional) -> `TimePoint`, else None; with `numeric=True` (for keys named like times) also a
  Unix timestamp in seconds or milliseconds between 2000 and 2100 (so that ids and counters
  are never read as times). A time without an offset is a wall-clock time: compared with one
  that has an offset, both are compared as wall-clock times (`before`).
- `conversation_today(system_text)`: the date a system prompt says it is ("Today is
  2026-03-02", "Current date: March 2, 2026"), else None.
- `text_dates(text, today)`: absolute dates written in text ("2026-03-06", "Friday March 6",
  "6 March 2026", "Mar 6"), with the weekday when one is named right before.
- `relative_dates(text, today)`: the dates relative expressions stand for ("tomorrow", "next
  Friday", "on Monday", "Friday", "the 20th", "in 3 days", "in about two weeks", "last 7 days",
  "this week", "next month", "end of the month"); "next Friday" may mean either of two Fridays
  and a span means all its days, so every reading is returned. A weekday or day followed by a
  date ("Friday, March 6") is absolute and left to `text_dates`.
- `numeric_dates(text, today)`: "24.03", "3/24": every valid reading, as possible sources only.
- `mentioned_days(text, today)`: all of the above plus months named alone and day offsets, as
  the days a value may have been taken from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([Zz]|[+-]\d{2}:?\d{2})?)?$")
_EPOCH_S = (946_684_800, 4_102_444_800)  # 2000-01-01 .. 2100-01-01


@dataclass(frozen=True)
class TimePoint:
    moment: datetime  # timezone-aware (naive input is read as UTC)
    date_only: bool
    naive: bool = False  # written without an offset (a wall-clock time in some time zone)

    @property
    def day(self) -> date:
        return self.moment.date()


def _offset(text: str | None) -> timezone:
    if not text or text in "Zz":
        return timezone.utc
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def parse_time(value: Any, numeric: bool = False) -> TimePoint | None:
    """A date / date-time value as a `TimePoint` (see the module docstring), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit() and len(value) in (10, 13)):
        if not numeric:
            return None
        seconds = float(value)
        if seconds > _EPOCH_S[1]:
            seconds /= 1000
        if not _EPOCH_S[0] <= seconds <= _EPOCH_S[1]:
            return None
        return TimePoint(datetime.fromtimestamp(seconds, tz=timezone.utc), False)
    if not isinstance(value, str) or len(value) < 10 or len(value) > 40:
        return None
    m = _ISO.match(value.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, off = m.groups()
    try:
        if hh is None:
            return TimePoint(datetime(int(y), int(mo), int(d), tzinfo=timezone.utc), True)
        moment = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0), tzinfo=_offset(off))
    except ValueError:
        return None
    return TimePoint(moment, False, off is None)


def before(a: TimePoint, b: TimePoint) -> bool:
    """`a` is strictly earlier than `b`: by calendar date when either is a bare date, by wall
    clock when one has no offset (its time zone is written elsewhere, if at all)."""
    if a.date_only or b.date_only:
        return a.day < b.day
    if a.naive != b.naive:
        return a.moment.replace(tzinfo=None) < b.moment.replace(tzinfo=None)
    return a.moment < b.moment


MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
WEEKDAYS.update({d[:3]: i for d, i in list(WEEKDAYS.items())})
WEEKDAYS.update({"tues": 1, "thur": 3, "thurs": 3})
# Misspellings people type ("book me into spin on thrusday").
WEEKDAYS.update({"thrusday": 3, "thurday": 3, "thursady": 3, "wensday": 2, "wednsday": 2, "wendsday": 2,
                 "tuseday": 1, "tusday": 1, "saterday": 5, "firday": 4, "fridy": 4, "mondy": 0, "sundy": 6})

_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_MONTH_NC = "(?:" + _MONTH[1:]
_WEEKDAY = (r"(mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
            r"|thrusday|thurday|thursady|wensday|wednsday|wendsday|tuseday|tusday|saterday|firday|fridy|mondy|sundy)")
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_MONTH_DAY = re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_MONTH}\.?\s+{_DAY}\b{_YEAR}", re.I)
_DAY_MONTH = re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}\b\.?{_YEAR}", re.I)
_DIGIT = re.compile(r"\d")
_ISO_IN_TEXT = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WEEKDAY_BEFORE_ISO = re.compile(rf"\b{_WEEKDAY},?\s+(?:\(?)$", re.I)


@dataclass(frozen=True)
class TextDate:
    day: date
    weekday: int | None  # the weekday the text names with it (0 = Monday), None if none
    start: int  # character span in the text
    end: int
    year_given: bool


def _year_for(month: int, day: int, today: date | None) -> int | None:
    """The year a date without one most likely means: the one nearest to today."""
    if today is None:
        return None
    best = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - today).days) < abs((best - today).days):
            best = candidate
    return best.year if best else None


def _weekday(word: str | None) -> int | None:
    return WEEKDAYS.get(word.lower().rstrip(".")) if word else None


def text_dates(text: str, today: date | None = None) -> list[TextDate]:
    """Absolute dates written in `text` (see the module docstring); a date without a year gets
    the year nearest `today`, and is skipped when `today` is unknown."""
    if not _DIGIT.search(text):  # every form below has a digit; most texts have none
        return []
    found: list[TextDate] = []
    taken: list[tuple[int, int]] = []
    for m in _ISO_IN_TEXT.finditer(text):
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
        wd = _WEEKDAY_BEFORE_ISO.search(text[max(0, m.start() - 12):m.start()])
        found.append(TextDate(day, _weekday(wd.group(1)) if wd else None, m.start(), m.end(), True))
        taken.append((m.start(), m.end()))
    for pattern, order in ((_MONTH_DAY, "md"), (_DAY_MONTH, "dm")):
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            wd, first, second, year = m.groups()
            month_word, day_word = (first, second) if order == "md" else (second, first)
            month, day_n = MONTHS.get(month_word.lower().rstrip(".")), int(day_word)
            if month is None or not 1 <= day_n <= 31:
                continue
            y = int(year) if year else _year_for(month, day_n, today)
            if y is None:
                continue
            try:
                day = date(y, month, day_n)
            except ValueError:
                continue
            # "Tue–Thu, Mar 17–19": the weekday and the day belong to a range, not to each other.
            in_range = bool(wd) and (text[max(0, m.start() - 1):m.start()] in ("-", "–", "—")
                                     or re.match(r"\s*[-–—]\s*\d", text[m.end():m.end() + 4]) is not None)
            found.append(TextDate(day, None if in_range else _weekday(wd), m.start(), m.end(), bool(year)))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda t: t.start)


_NUMERIC_WITH_YEAR = re.compile(r"(?<![\d/.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?![\d/.])")


def _dated_numeric(text: str) -> list[TextDate]:
    """"Current date 19/05/2026": numeric dates with a year, only when one reading is valid."""
    out = []
    for m in _NUMERIC_WITH_YEAR.finditer(text):
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        readings = set()
        for day, month in ((a, b), (b, a)):
            try:
                readings.add(date(y, month, day))
            except ValueError:
                pass
        if len(readings) == 1:
            out.append(TextDate(readings.pop(), None, m.start(), m.end(), True))
    return out


_TODAY_CUE = re.compile(r"\b(today(?:'s date)?|current date|date|now|it is|it's)\b", re.I)


def conversation_today(system_text: str) -> date | None:
    """The date a system prompt says it is: the date written nearest after a cue ("today",
    "current date", "date"), or the only date in it; None when it gives none."""
    if not system_text:
        return None
    dates = text_dates(system_text, None) or _dated_numeric(system_text)
    if not dates:
        return None
    distinct = {d.day for d in dates}
    if len(distinct) == 1:
        return dates[0].day
    for cue in _TODAY_CUE.finditer(system_text):
        after = [d for d in dates if 0 <= d.start - cue.end() <= 40]
        if after:
            return after[0].day
    return None


# "Friday, March 6", "Friday the 6th", "Friday 6 March", "Wednesday 19 – Friday 21 March" are
# dates; "Friday 9 to 10:30", "friday 9am" are times on a weekday.
_NOT_A_DATE_AFTER = (rf"(?!\s*,?\s*(?:the\s+\d|\d{{1,2}}(?:st|nd|rd|th)\b|\d{{1,2}}\s+{_MONTH_NC}|{_MONTH_NC}"
                     rf"|\d{{4}}-\d\d-\d\d|(?:1[3-9]|2\d|3[01])\b"
                     rf"|\d{{1,2}}\b(?!\s*(?:am|pm|a\.m|p\.m|:|\.\d|h\b|o'?clock|to\b|until\b|till\b|-|–))))")
_APPROX = r"(?:(?:about|around|roughly|approximately|some|like)\s+)?"
_RELATIVE = re.compile(
    rf"\b(?:(?P<after_tomorrow>day after tomorrow)|(?P<same>today|tonight|this morning|this afternoon|this evening)"
    rf"|(?P<tomorrow>tomorrow)|(?P<yesterday>yesterday)"
    rf"|(?P<q>this|next|coming|last|on|by|until|from|before|after|to|for)\s+(?P<wd>{_WEEKDAY})\b{_NOT_A_DATE_AFTER}"
    rf"|(?P<bare>monday|tuesday|wednesday|thursday|friday|saturday|sunday|thrusday|wensday|wednsday|saterday)\b(?!s)"
    rf"{_NOT_A_DATE_AFTER}"
    rf"|the\s+(?P<dom>\d{{1,2}})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?{_MONTH_NC})"
    rf"|in\s+{_APPROX}(?P<n>\d{{1,2}}|a|an|one|two|three|four|five|six|seven|a couple of|a few)\s+(?P<unit>days?|weeks?)"
    rf"|(?P<span_q>last|past|previous|next|coming)\s+(?P<span_n>\d{{1,2}}|two|three|four|five|six|seven|few)?\s*"
    rf"(?P<span_unit>days?|weeks?|months?)"
    rf"|(?P<this_span>this|current|my|the)\s+(?P<this_unit>week|weekend|month)\b(?!\s+(?:before|after))"
    rf"|next\s+(?P<next_weekend>weekend)"
    rf"|(?:the\s+)?(?P<before_unit>week|month)\s+before(?:\s+that|\s+last)?"
    rf"|(?P<season_q>this|last|next|past)\s+(?P<season>spring|summer|autumn|fall|winter)"
    rf"|(?P<from_n>\d{{1,3}}|a|one|two|three|four|five|six|seven|ten)\s+(?P<from_unit>days?|weeks?)\s+from\s+(?:now|today)"
    rf"|end\s+of\s+(?:the\s+|this\s+)?(?P<end_next>next\s+)?(?P<end_unit>week|month))\b", re.I)
_SMALL = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
          "a couple of": 2, "a few": 3, "few": 3}


@dataclass(frozen=True)
class RelativeDate:
    phrase: str
    days: frozenset[date]  # every date the phrase may stand for (every day of a span)
    start: int
    # The phrase names when something happens ("tomorrow", "on Friday", "by next Tuesday"); a
    # bare weekday ("my Monday meeting", "back Friday evening"), a span ("last week") or an
    # approximate distance ("in about two weeks") does not pin one date.
    anchored: bool = True


def _weekday_days(today: date, target: int, qualifier: str) -> set[date]:
    ahead = (target - today.weekday()) % 7
    if qualifier == "last":
        return {today - timedelta(days=(today.weekday() - target) % 7 or 7)}
    if qualifier == "next":
        # "next Friday": the coming one, or the one in the week after.
        first = today + timedelta(days=ahead or 7)
        return {first, first + timedelta(days=7)}
    return {today + timedelta(days=ahead)} | ({today + timedelta(days=7)} if ahead == 0 else set())


def _day_of_month(today: date, day: int) -> set[date]:
    """"the 20th": the next one to come, or the last one gone ("a purchase on the 10th")."""
    out: set[date] = set()
    for months in range(-2, 3):
        y, m = today.year + (today.month - 1 + months) // 12, (today.month - 1 + months) % 12 + 1
        try:
            out.add(date(y, m, day))
        except ValueError:
            continue
    after = sorted(d for d in out if d >= today)[:1]
    before = sorted(d for d in out if d < today)[-1:]
    return set(after + before)


def _month_days(year: int, month: int) -> set[date]:
    first = date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return {first + timedelta(days=i) for i in range((nxt - first).days)}


def _range(a: date, b: date) -> set[date]:
    lo, hi = min(a, b), max(a, b)
    return {lo + timedelta(days=i) for i in range((hi - lo).days + 1)}


def _span(today: date, g: dict) -> set[date]:
    """Every day of "last 7 days", "this week", "next month", "end of the month"..."""
    monday = today - timedelta(days=today.weekday())
    if g["span_unit"]:
        n = g["span_n"]
        count = int(n) if n and n.isdigit() else _SMALL.get((n or "").lower(), 1)
        unit = g["span_unit"].lower()
        back = g["span_q"].lower() in ("last", "past", "previous")
        if unit.startswith("day"):
            return _range(today, today + timedelta(days=-count if back else count))
        if unit.startswith("week"):
            if not n:  # "last week", "next week": that calendar week
                start = monday + timedelta(days=-7 if back else 7)
                return _range(start, start + timedelta(days=6))
            return _range(today, today + timedelta(days=(-7 if back else 7) * count))
        if not n:  # "last month", "next month": that calendar month
            return _month_days(today.year, today.month + (-1 if back else 1))
        return _range(today, today + timedelta(days=(-31 if back else 31) * count))
    if g["this_unit"]:
        unit = g["this_unit"].lower()
        if unit == "week":
            return _range(monday, monday + timedelta(days=6))
        if unit == "weekend":
            return {monday + timedelta(days=5), monday + timedelta(days=6)}
        return _month_days(today.year, today.month)
    if g["next_weekend"]:
        return {monday + timedelta(days=12), monday + timedelta(days=13)}
    if g["before_unit"]:  # "the month before" (last month's predecessor), "the week before"
        if g["before_unit"].lower() == "week":
            return _range(monday - timedelta(days=14), monday - timedelta(days=8))
        return _month_days(today.year, today.month - 2)
    if g["season"]:
        season = g["season"].lower()
        first = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}[season]
        shift = {"this": 0, "last": -1, "past": -1, "next": 1}[g["season_q"].lower()]
        year = today.year + shift - (1 if season == "winter" and today.month < 3 and shift == 0 else 0)
        return set().union(*(_month_days(year, first + i) for i in range(3)))
    if g["end_unit"].lower() == "week":
        friday = monday + timedelta(days=4 + (7 if g["end_next"] else 0))
        return {friday, friday + timedelta(days=2)}
    month = _month_days(today.year, today.month + (1 if g["end_next"] else 0))
    return {max(month)}


_ABOUT_NOW = re.compile(r"\b(help\w*|here|thanks?|thank you|going|busy|chat\w*|talk\w*|not)\b[^,;:]*$", re.I)


def relative_dates(text: str, today: date) -> list[RelativeDate]:
    """Relative date expressions in `text` with the dates they may mean (see the module docstring)."""
    out = []
    for m in _RELATIVE.finditer(text):
        g = m.groupdict()
        anchored = True
        if g["after_tomorrow"]:
            days = {today + timedelta(days=2)}
        elif g["same"]:
            days = {today}
            # "thanks for helping out today", "I could use your help today", "not today": the
            # conversation's own day, no date anything is put on.
            before = re.split(r"[.!?]", text[max(0, m.start() - 40):m.start()])[-1]
            anchored = not _ABOUT_NOW.search(before)
        elif g["tomorrow"]:
            days = {today + timedelta(days=1)}
        elif g["yesterday"]:
            days = {today - timedelta(days=1)}
        elif g["wd"] or g["bare"]:
            days = _weekday_days(today, _weekday(g["wd"] or g["bare"]), (g["q"] or "").lower())
            anchored = not g["bare"]
        elif g["dom"]:
            days = _day_of_month(today, int(g["dom"]))
            anchored = bool(re.search(r"\b(?:on|by|for|until|before)\s+$", text[max(0, m.start() - 8):m.start()], re.I))
        elif g["from_n"]:
            count = int(g["from_n"]) if g["from_n"].isdigit() else _SMALL.get(g["from_n"].lower(), 10)
            days = {today + timedelta(days=count * (7 if g["from_unit"].lower().startswith("week") else 1))}
        elif g["n"]:
            count = int(g["n"]) if g["n"].isdigit() else _SMALL[g["n"].lower()]
            step = 7 if g["unit"].lower().startswith("week") else 1
            target = today + timedelta(days=count * step)
            # "in two weeks" is a distance, not a date: the days around it count.
            days = _range(target - timedelta(days=3), target + timedelta(days=3)) if step == 7 else {target}
            anchored = step == 1 and "about" not in m.group(0).lower()
        else:
            days = _span(today, g)
            anchored = bool(g["end_unit"])
        if not days:
            continue
        out.append(RelativeDate(m.group(0), frozenset(days), m.start(), anchored))
    return out


_NUMERIC_DATE = re.compile(r"(?<![\d.,/])(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?(?![\d/]|\.\d)")


def numeric_dates(text: str, today: date | None) -> set[date]:
    """Dates written with numbers only ("24.03", "3/24", "24/03/2025"): every valid reading
    (day-month and month-day), for deciding where a value may come from, never for checking."""
    out: set[date] = set()
    for m in _NUMERIC_DATE.finditer(text):
        a, b, year = int(m.group(1)), int(m.group(2)), m.group(3)
        for day, month in ((a, b), (b, a)):
            y = (int(year) + (2000 if len(year) == 2 else 0)) if year else _year_for(month, day, today) \
                if 1 <= month <= 12 else None
            if y is None:
                continue
            try:
                out.add(date(y, month, day))
            except ValueError:
                continue
    return out


_MONTH_ONLY = re.compile(rf"\b(?:in|for|since|during|of|from|until|through)\s+{_MONTH}\b(?!\s*\d)", re.I)
_OFFSET = re.compile(r"\b(\d{1,3}|a|one|two|three|four|five|six|seven|ten|a couple of|a few)[ -](days?|weeks?)\b",
                     re.I)


def mentioned_days(text: str, today: date | None) -> set[date]:
    """Every day `text` may refer to, for deciding where a value may come from: absolute dates,
    numeric ones in either order, relative expressions and spans, a month named alone ("in
    June": all its days) and offsets from today ("payment terms are 30 days")."""
    out = {t.day for t in text_dates(text, today)} | numeric_dates(text, today)
    if today is None:
        return out
    out.update(day for r in relative_dates(text, today) for day in r.days)
    for m in _MONTH_ONLY.finditer(text):
        month = MONTHS.get(m.group(1).lower().rstrip("."))
        year = _year_for(month, 1, today) if month else None
        if year:
            out.update(_month_days(year, month))
    for m in _OFFSET.finditer(text):
        count = int(m.group(1)) if m.group(1).isdigit() else _SMALL[m.group(1).lower()]
        out.add(today + timedelta(days=count * (7 if m.group(2).lower().startswith("week") else 1)))
    return out


def month_days(text: str) -> set[tuple[int, int]]:
    """(month, day) of every date written with a month name, whatever its year ("February 14th")."""
    if not _DIGIT.search(text):
        return set()
    out = set()
    for pattern, order in ((_MONTH_DAY, "md"), (_DAY_MONTH, "dm")):
        for m in pattern.finditer(text):
            _, first, second, _ = m.groups()
            month_word, day_word = (first, second) if order == "md" else (second, first)
            month = MONTHS.get(month_word.lower().rstrip("."))
            if month and 1 <= int(day_word) <= 31:
                out.add((month, int(day_word)))
    return out
