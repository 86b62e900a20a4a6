"""How many id-like arguments come from earlier tool responses.

An id a model passes to a tool must have been shown to it: by an earlier tool response (the
usual case) or by the user (their own account or app id, which no tool returns). Both count.
It is value-based and independent of how the conversation was produced: an argument whose
name denotes an identifier (`event_id`, `threadId`, `issueIdOrKey`, a Stripe `customer`
described as "ID of ...") counts as grounded when its value appears among the scalar values of
an earlier response or, as a whole word, in an earlier user turn. Documented defaults
(`calendarId: "primary"`, `user_id: "me"`) and system constants the field's description names
(Gmail's `STARRED`, `UNREAD` label ids) are keywords, not ids, and are not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from funcdex_assets.catalog.fields import is_id_like
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.quality.dialogue import iter_scalars


@dataclass
class GroundingStats:
    id_arguments: int = 0
    grounded: int = 0
    ungrounded: list[tuple[str, str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.grounded / self.id_arguments if self.id_arguments else None

    def add(self, other: "GroundingStats") -> None:
        self.id_arguments += other.id_arguments
        self.grounded += other.grounded
        self.ungrounded.extend(other.ungrounded)


def scalar_values(value: Any) -> Iterator[str]:
    """Every non-boolean scalar of a JSON value, as text."""
    return (str(v) for _, v in iter_scalars(value) if not isinstance(v, bool))


def _id_arguments(args: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    props = schema.get("properties") or {}
    for name, value in args.items():
        sub = props.get(name) if isinstance(props.get(name), dict) else {}
        if isinstance(value, dict):
            yield from _id_arguments(value, sub)
            continue
        if not is_id_like(name, sub) or ("default" in sub and value == sub["default"]):
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, (dict, list)) and not _documented_constant(item, sub):
                yield name, item


# System constants a field's own description names ("IDs of the labels to add, e.g.
# Label_4520183920837465 or STARRED"): keywords of the API, like a documented default.
_CONSTANT = re.compile(r"[A-Z][A-Z_]{2,}")


def _documented_constant(value: Any, schema: dict[str, Any]) -> bool:
    description = str(schema.get("description", "")) + " " + str((schema.get("items") or {}).get("description", ""))
    return isinstance(value, str) and bool(_CONSTANT.fullmatch(value)) and re.search(
        rf"(?<![\w-]){re.escape(value)}(?![\w-])", description) is not None


def stated_by_user(value: str, said: list[str]) -> bool:
    """The user said `value` as a whole word (so `12` is not found inside `2012`)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(value)}(?![\w-])")
    return any(pattern.search(text) for text in said)


def id_grounding(turns: Sequence[Any], tools: Mapping[str, Tool]) -> GroundingStats:
    """Grounding of id-like arguments in every call after the first call group (the first call,
    or every call of a first parallel call: no tool response has been seen when they are made).
    The calls of a parallel call are issued together, so one cannot use another's response:
    only responses before the group count, which reading the flat turns in order gives."""
    stats = GroundingStats()
    seen: set[str] = set()
    said: list[str] = []
    responded = False
    for turn in turns:
        if isinstance(turn, ToolResponseTurn):
            seen.update(scalar_values(turn.content))
            responded = True
        elif isinstance(turn, UserTurn):
            said.append(turn.text)
        elif isinstance(turn, ToolCallTurn):
            if not responded:
                continue
            tool = tools.get(turn.name)
            schema = tool.input_schema if tool else {}
            for name, value in _id_arguments(turn.arguments, schema):
                stats.id_arguments += 1
                if str(value) in seen or stated_by_user(str(value), said):
                    stats.grounded += 1
                else:
                    stats.ungrounded.append((turn.name, name, value))
    return stats
