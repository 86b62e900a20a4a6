"""`unsourced_argument`: a value in a call that nobody gave or showed before the call.

Values that must come from somewhere, by kind:
- ids (argument named like an id, `catalog.fields.is_id_like`), except keywords such as `me`,
  `primary`, `default`;
- email addresses (any argument whose whole value is one);
- people's names (`first_name`, `attendee_name`, `customer_name`, ...);
- phone numbers (`phone`, `whatsapp`, or `to` / `from` holding a number);
- money amounts (`amount`, `price`, `unit_amount`, ...), matched as written ("$1,250", "1.2k",
  "230,40 €"), or x100 for amounts in cents; once any money was mentioned an amount may be
  computed from it (a conversion, a total), so only an amount in a conversation without money
  is flagged;
- dates and times: a call's dates are sourced when one of them falls on a date the conversation
  mentioned (ISO or "March 6", a relative "tomorrow" / "next Friday", today, a date in a
  result); the others in the same call may be derived from it (an end an hour later, a window
  of a week) and are accepted within 31 days of it.

Not flagged: the own `id` / `key` of an object inside an array of a call that creates
(`buttons[].id`): the caller names the parts it makes.

Sources are what the assistant could see before the call: the system prompt, every earlier user
message, assistant messages the user has answered since (a value the assistant proposed and
the user accepted), the results of earlier calls, and the tool's schema (enum, default,
const). Composed content (bodies, titles, descriptions, queries) is never flagged. One finding
per call, naming every unsourced value.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from funcdex_assets.catalog.actions import name_action
from funcdex_assets.catalog.fields import snake
from funcdex_assets.quality.dates import mentioned_days, month_days, parse_time
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
from funcdex_assets.quality.dialogue import Dialogue, contains_word, iter_scalars
from funcdex_assets.quality.findings import Finding

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)\s*([kKmM](?![a-zA-Z]))?")
_MONEY = re.compile(r"[$€£¥₹]\s?\d|\d\s?(?:[$€£¥₹]|eur|usd|gbp|jpy|dollars?|euros?|pounds?|bucks)\b", re.I)
_DIGIT = re.compile(r"\d")
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
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
        # Numbers, phone digits and dates are read from the texts only when a call needs them:
        # most calls pass no amount, phone number or date.
        self._unread: list[str] = []
        self._numbers: set[float] = set()
        self._digit_runs = ""
        self._days: set[date] = {today} if today else set()
        self._month_days: set[tuple[int, int]] = set()  # "February 14th", year unknown
        self.money = False  # a money amount was mentioned (an amount may be computed from it)

    def add_text(self, text: str) -> None:
        self.text += "\n" + text.lower()
        self._unread.append(text)
        self.money = self.money or bool(_MONEY.search(text))

    def add_result(self, result: Any) -> None:
        for key, value in iter_scalars(result):
            if isinstance(value, bool):
                continue
            s = str(value)
            self.result_values.add(s)
            self.result_values.add(s.lower())
            if isinstance(value, (int, float)):
                self._numbers.add(float(value))
                self.money = self.money or (is_amount_key(key) and value != 0)
            elif isinstance(value, str):
                self.result_text += "\n" + s.lower()
                t = parse_time(s)
                if t:
                    self._days.add(t.day)
                else:
                    self._unread.append(s)

    def _read(self) -> None:
        for text in self._unread:
            self._days.update(mentioned_days(text, self.today))
            if _DIGIT.search(text):
                self._numbers.update(_numbers(text))
                self._digit_runs += " " + " ".join(digits(t) for t in _PHONE_LIKE.findall(text))
                self._month_days.update(month_days(text))
        self._unread.clear()

    @property
    def numbers(self) -> set[float]:
        self._read()
        return self._numbers

    @property
    def digit_runs(self) -> str:
        self._read()
        return self._digit_runs

    @property
    def days(self) -> set[date]:
        self._read()
        return self._days

    @property
    def month_days(self) -> set[tuple[int, int]]:
        self._read()
        return self._month_days

    def has_word(self, value: str) -> bool:
        v = value.lower()
        return contains_word(self.text, v) or contains_word(self.result_text, v)

    def has(self, value: Any) -> bool:
        s = str(value)
        return s in self.result_values or s.lower() in self.result_values or self.has_word(s) \
            or (len(s) >= 8 and s.lower() in self.result_text)


def _numbers(text: str) -> set[float]:
    out = set()
    for m in _NUMBER.finditer(text):
        raw = m.group(1)
        # "1,250" groups thousands; "230,40" and "1,5" are decimal commas.
        if re.fullmatch(r"\d+,\d{1,2}", raw):
            raw = raw.replace(",", ".")
        value = float(raw.replace(",", ""))
        out.add(value)
        if m.group(2):  # "$1.2k", "3M"
            out.add(round(value * (1_000 if m.group(2) in "kK" else 1_000_000), 2))
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
        if amount == 0 or amount in src.numbers or amount / 100 in src.numbers or src.money:
            return None  # an amount may be computed (a conversion, a sum) from money mentioned
        return "amount"
    return None


def _defines_own_id(leaf: Leaf) -> bool:
    """`buttons[].id` in a call that creates: the caller names the parts it makes (a button's
    id, an option's key), so there is nothing to take it from. A reference to another entity
    (`items[].price`) still needs a source."""
    return "[]" in leaf.path and snake(leaf.key) in ("id", "key")


def _unsourced_dates(leaves_: list[Leaf], src: _Sources) -> list[Leaf]:
    """Dates far (more than DERIVED_DAYS) from every day the conversation gave or implied, today
    included. People describe dates in more ways than any parser reads ("two weeks to reply",
    "the Monday after the offsite"), so a date near a known one is taken as derived from it; a
    conversation with no date at all gives nothing to judge by."""
    days = src.days
    if not days:
        return []
    out = []
    for leaf in leaves_:
        if snake(leaf.key) in COMPOSED or isinstance(leaf.value, (int, float)) or from_schema(leaf):
            continue
        t = parse_time(leaf.value)
        if t is None or (t.day.month, t.day.day) in src.month_days:
            continue
        if all(abs((t.day - day).days) > DERIVED_DAYS for day in days):
            out.append(leaf)
    return out


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
                creates = name_action(call.name) == "create"
                bad = [(leaf, kind) for leaf in found for kind in [_unsourced(leaf, src)]
                       if kind and not (creates and _defines_own_id(leaf))]
                bad += [(leaf, "date") for leaf in _unsourced_dates(found, src)]
                if bad:
                    shown = ", ".join(f"{leaf.path}={leaf.value!r} ({kind})" for leaf, kind in bad[:4])
                    out.append(Finding(code="unsourced_argument", message_index=m.index, message=(
                        f"{call.name}: {shown} appear(s) in no earlier message, result or schema")))
            src.pending_assistant += "\n" + m.text
    return out


# ---------------------------------------------------------------------------------------------
# `unseen_reference`: the user names something only a tool result showed.
#
# The user sees the conversation's text, not its tool messages. A quoted name in a user message
# ("delete "Q3 plan (draft)"") that an earlier tool result holds as a value, but no earlier user
# or assistant message (nor the system prompt) says, is something the user could not have read:
# a model learns that users see raw results. Names the user makes up (a title for something new)
# are in no result, and values the calls answering the message set (a label, a reason) are the
# user's own, so neither is flagged; nor are sentences (ending in . ! ?) or quotes of three
# characters or fewer.

_QUOTED_NAME = re.compile(r'"([^"\n]{4,120})"|“([^”\n]{4,120})”')


def _result_strings(value: Any) -> set[str]:
    out: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and 4 <= len(item) <= 120:
            out.add(item.strip().lower())
    return out


def _given_next(d: Dialogue, index: int) -> set[str]:
    """String argument values of the calls after the user message at `index` (also after a
    clarifying exchange): what the user gave (a label to set, a reason), not what they point at,
    which calls name by id."""
    out: set[str] = set()
    for m in d.messages[index + 1:]:
        for call in m.calls:
            out |= _result_strings(call.arguments)
    return out


def unseen_reference(d: Dialogue) -> list[Finding]:
    said = d.system_text.lower()
    shown: set[str] = set()
    for m in d.messages:
        if m.role == "user":
            given = None
            for match in _QUOTED_NAME.finditer(m.text):
                name = (match.group(1) or match.group(2)).strip()
                if name.endswith((".", "!", "?")):
                    continue  # a sentence the user says (a reason, a message), not a name they point at
                if name.lower() in shown and name.lower() not in said:
                    given = _given_next(d, m.index) if given is None else given
                    if name.lower() in given:
                        continue  # a value the user sets ("labelled "hiring"") that a result also holds
                    return [Finding(code="unseen_reference", message_index=m.index, message=(
                        f"the user names {name!r}, which only a tool result showed (no message said it)"))]
            said += "\n" + m.text.lower()
        elif m.role == "assistant":
            said += "\n" + m.text.lower()
        elif m.role == "tool" and m.answers is not None:
            shown |= _result_strings(m.answers.result)
    return []
