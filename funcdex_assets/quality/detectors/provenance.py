"""`unsourced_argument`: a value in a call that nobody gave or showed before the call.

Values that must come from somewhere, by kind:
- ids (argument named like an id, `catalog.fields.is_id_like`), except keywords such as `me`,
  `primary`, `default`;
- email addresses (any argument whose whole value is one);
- people's names (`first_name`, `attendee_name`, `customer_name`, ...);
- phone numbers (`phone`, `whatsapp`, or `to` / `from` holding a number);
- money amounts (`amount`, `price`, `unit_amount`, ...), matched as written, or x100 for
  amounts in cents;
- dates and times: a call's dates are sourced when one of them falls on a date the conversation
  mentioned (ISO or "March 6", a relative "tomorrow" / "next Friday", today, a date in a
  result); the others in the same call may be derived from it (an end an hour later, a window
  of a week) and are accepted within 31 days of it.

Sources are what the assistant could see before the call: the system prompt, every earlier user
message, assistant messages the user has answered since (a value the assistant proposed and
the user accepted), the results of earlier calls, and the tool's schema (enum, default,
const). Composed content (bodies, titles, descriptions, queries) is never flagged. One finding
per call, naming every unsourced value.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.dates import parse_time, relative_dates, text_dates
from funcdex_assets.quality.detectors.values import (
    COMPOSED,
    ID_KEYWORDS,
    Leaf,
    digits,
    from_schema,
    is_amount_key,
    is_email,
    is_id_value,
    is_person_name_key,
    is_phone,
    leaves,
)
from funcdex_assets.quality.dialogue import Dialogue, iter_scalars
from funcdex_assets.quality.findings import Finding

_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?")
_NAME_TOKEN = re.compile(r"[^\W\d_]{3,}", re.U)
DERIVED_DAYS = 31


class _Sources:
    """What the assistant has seen so far, kept incrementally as messages go by."""

    def __init__(self, today: date | None):
        self.today = today
        self.text = ""  # lowercased texts seen
        self.pending_assistant = ""  # assistant text not yet answered by the user
        self.result_values: set[str] = set()
        self.result_text = ""  # lowercased string values of results, joined
        self.numbers: set[float] = set()
        self.digit_runs = ""
        self.days: set[date] = {today} if today else set()

    def add_text(self, text: str) -> None:
        lower = text.lower()
        self.text += "\n" + lower
        self.digit_runs += " " + " ".join(digits(t) for t in re.findall(r"\+?[\d][\d\s().-]{5,}\d", text))
        self.numbers.update(_numbers(text))
        self.days.update(t.day for t in text_dates(text, self.today))
        if self.today:
            for r in relative_dates(text, self.today):
                self.days.update(r.days)

    def add_result(self, result: Any) -> None:
        for _, value in iter_scalars(result):
            if isinstance(value, bool):
                continue
            s = str(value)
            self.result_values.add(s)
            self.result_values.add(s.lower())
            if isinstance(value, (int, float)):
                self.numbers.add(float(value))
            elif isinstance(value, str):
                self.result_text += "\n" + s.lower()
                t = parse_time(s)
                if t:
                    self.days.add(t.day)
                elif len(s) > 10:
                    self.add_text(s)
                else:
                    self.numbers.update(_numbers(s))

    def has_word(self, value: str) -> bool:
        v = value.lower()
        pattern = re.compile(rf"(?<![\w-]){re.escape(v)}(?![\w-])")
        return bool(pattern.search(self.text) or pattern.search(self.result_text))

    def has(self, value: Any) -> bool:
        s = str(value)
        return s in self.result_values or s.lower() in self.result_values or self.has_word(s) \
            or (len(s) >= 8 and s.lower() in self.result_text)


def _numbers(text: str) -> set[float]:
    out = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(float(m.group(0).replace(",", "")))
        except ValueError:
            pass
    return out


def _unsourced(leaf: Leaf, src: _Sources) -> str | None:
    """Why the leaf needs a source and has none (its kind), None when it is fine."""
    value = leaf.value
    if isinstance(value, bool) or from_schema(leaf):
        return None
    key = snake(leaf.key)
    if is_email(value):
        return None if src.has(value.strip()) else "email"
    if key in COMPOSED:
        return None
    if is_id_value(leaf):
        return None if str(value).strip().lower() in ID_KEYWORDS or src.has(value) else "id"
    if is_phone(leaf):
        tail = digits(str(value))[-7:]
        return None if tail in src.digit_runs or any(tail in digits(v) for v in src.result_values) else "phone"
    if is_person_name_key(leaf.key) and isinstance(value, str):
        tokens = _NAME_TOKEN.findall(value.lower())
        return None if not tokens or any(src.has_word(t) for t in tokens) else "name"
    if is_amount_key(leaf.key) and isinstance(value, (int, float, str)):
        try:
            amount = float(value)
        except ValueError:
            return None
        if amount == 0 or amount in src.numbers or amount / 100 in src.numbers:
            return None
        return "amount"
    return None


def _unsourced_dates(leaves_: list[Leaf], src: _Sources) -> list[Leaf]:
    dated = []
    for leaf in leaves_:
        if snake(leaf.key) in COMPOSED or isinstance(leaf.value, (int, float)) or from_schema(leaf):
            continue
        t = parse_time(leaf.value)
        if t:
            dated.append((leaf, t.day))
    if not dated or not src.days:
        return [leaf for leaf, _ in dated] if dated and not src.days else []
    anchors = [day for _, day in dated if day in src.days]
    if anchors:
        return [leaf for leaf, day in dated if day not in src.days
                and not any(abs((day - a).days) <= DERIVED_DAYS for a in anchors)]
    # No date of the call was mentioned: a day either side of one that was is still the same
    # local day in another time zone.
    near = {x + timedelta(days=k) for x in src.days for k in (-1, 1)}
    return [leaf for leaf, day in dated if day not in near]


def unsourced_argument(d: Dialogue) -> list[Finding]:
    out: list[Finding] = []
    src = _Sources(d.today())
    results_pending: list = []
    for m in d.messages:
        if m.role == "system":
            src.add_text(m.text)
        elif m.role == "user":
            # The user has now seen what the assistant said (and may have accepted a proposal).
            src.add_text(src.pending_assistant + "\n" + m.text)
            src.pending_assistant = ""
        elif m.role == "tool" and m.answers is not None:
            results_pending.append(m.answers.result)
        elif m.role == "assistant":
            # Results become visible once the assistant speaks again (parallel calls in one
            # message cannot use each other's results).
            for result in results_pending:
                src.add_result(result)
            results_pending.clear()
            for call in m.calls:
                found = list(leaves(call.arguments, d.tools.get(call.name)))
                bad = [(leaf, kind) for leaf in found for kind in [_unsourced(leaf, src)] if kind]
                bad += [(leaf, "date") for leaf in _unsourced_dates(found, src)]
                if bad:
                    shown = ", ".join(f"{leaf.path}={leaf.value!r} ({kind})" for leaf, kind in bad[:4])
                    out.append(Finding(code="unsourced_argument", message_index=m.index, message=(
                        f"{call.name}: {shown} appear(s) in no earlier message, result or schema")))
            src.pending_assistant += "\n" + m.text
    return out
