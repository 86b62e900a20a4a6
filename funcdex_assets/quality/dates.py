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
  Friday", "on Monday", "Friday", "the 20th", "in 3 days"); "next Friday" may mean either of two
  Fridays, so every reading is returned. A weekday or day followed by a date ("Friday, March
  6") is absolute and left to `text_dates`.
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

_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_MONTH_NC = "(?:" + _MONTH[1:]
_WEEKDAY = r"(mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_MONTH_DAY = re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_MONTH}\.?\s+{_DAY}\b{_YEAR}", re.I)
_DAY_MONTH = re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}\b\.?{_YEAR}", re.I)
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


_TODAY_CUE = re.compile(r"\b(today(?:'s date)?|current date|date|now|it is|it's)\b", re.I)


def conversation_today(system_text: str) -> date | None:
    """The date a system prompt says it is: the date written nearest after a cue ("today",
    "current date", "date"), or the only date in it; None when it gives none."""
    if not system_text:
        return None
    dates = text_dates(system_text, None)
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


# "Friday, March 6", "Friday the 6th", "Friday 6 March" are dates; "Friday 9 to 10:30" is not.
_NOT_A_DATE_AFTER = (rf"(?!\s*,?\s*(?:the\s+\d|\d{{1,2}}(?:st|nd|rd|th)\b|\d{{1,2}}\s+{_MONTH_NC}|{_MONTH_NC}"
                     rf"|\d{{4}}-\d\d-\d\d))")
_RELATIVE = re.compile(
    rf"\b(?:(?P<after_tomorrow>day after tomorrow)|(?P<same>today|tonight|this morning|this afternoon|this evening)"
    rf"|(?P<tomorrow>tomorrow)|(?P<yesterday>yesterday)"
    rf"|(?P<q>this|next|coming|last|on|by|until|from|before|after|to|for)\s+(?P<wd>{_WEEKDAY})\b{_NOT_A_DATE_AFTER}"
    rf"|(?P<bare>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b(?!s){_NOT_A_DATE_AFTER}"
    rf"|the\s+(?P<dom>\d{{1,2}})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?{_MONTH_NC})"
    rf"|in\s+(?P<n>\d{{1,2}}|a|one|two|three|four|five|six|seven)\s+(?P<unit>days?|weeks?))", re.I)
_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


@dataclass(frozen=True)
class RelativeDate:
    phrase: str
    days: frozenset[date]  # every date the phrase may stand for
    start: int
    # The phrase names when something happens ("tomorrow", "on Friday", "by next Tuesday"); a
    # bare weekday ("my Monday meeting", "back Friday evening") may only describe something.
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
    """"the 20th": this month's if it is still to come, else next month's."""
    for months in (0, 1, 2):
        y, m = today.year + (today.month - 1 + months) // 12, (today.month - 1 + months) % 12 + 1
        try:
            candidate = date(y, m, day)
        except ValueError:
            continue
        if candidate >= today:
            return {candidate}
    return set()


def relative_dates(text: str, today: date) -> list[RelativeDate]:
    """Relative date expressions in `text` with the dates they may mean (see the module docstring)."""
    out = []
    for m in _RELATIVE.finditer(text):
        g = m.groupdict()
        if g["after_tomorrow"]:
            days = {today + timedelta(days=2)}
        elif g["same"]:
            days = {today}
        elif g["tomorrow"]:
            days = {today + timedelta(days=1)}
        elif g["yesterday"]:
            days = {today - timedelta(days=1)}
        elif g["wd"] or g["bare"]:
            days = _weekday_days(today, _weekday(g["wd"] or g["bare"]), (g["q"] or "").lower())
        elif g["dom"]:
            days = _day_of_month(today, int(g["dom"]))
        else:
            count = int(g["n"]) if g["n"].isdigit() else _SMALL[g["n"].lower()]
            days = {today + timedelta(days=count * (7 if g["unit"].lower().startswith("week") else 1))}
        if not days:
            continue
        anchored = not g["bare"] and not (g["dom"] and not re.search(r"\b(?:on|by|for|until|before)\s+$",
                                                                        text[max(0, m.start() - 8):m.start()], re.I))
        out.append(RelativeDate(m.group(0), frozenset(days), m.start(), anchored))
    return out
