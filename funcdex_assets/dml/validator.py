"""Conversation rules for parsed DML turns: turn order, known tools, schema-valid arguments
and responses.

`validate_conversation` returns every issue it finds (an empty list means the conversation
is accepted). Each issue has a stable `code` (used for reject counts), a message naming the
tool and argument, the DML line of the turn (0 when the turn was built in code) and the turn's
index (-1 for issues about the whole conversation).

Turn order (the same language as grammars/dml*.gbnf):
  first turn: user;  user -> thought | assistant | call;  thought -> assistant | call;
  assistant -> user | call | end;  call -> call (up to MAX_PARALLEL_CALLS in a row: a parallel
  call) | the first response;  response -> the next response while calls of its group are
  unanswered, else thought | assistant | call;  last turn: assistant text.
A call group is a run of consecutive calls followed by as many responses, the k-th answering the
k-th call (and checked against that call's tool). One issue is reported per offending transition:
  - a call that makes a group wider than MAX_PARALLEL_CALLS: `too_many_parallel_calls` (once per
    group, at the first call too many);
  - a response when no call of the group is left unanswered (after a non-call turn, or one
    response too many): `response_without_call`;
  - a user turn while calls are unanswered: `bad_turn_order` (the user cannot speak before the
    calls are answered); any other non-response then, or the end: `call_without_response`
    (naming the first unanswered call). Text or a thought between the calls of one group falls
    here: a group is one assistant message, its calls come one right after another;
  - any other transition not allowed above: `bad_turn_order`;
  - a conversation whose last turn is not assistant text (and that does not end with calls
    unanswered, reported as `call_without_response`): `ends_without_assistant`.

Schemas: a tool's `input_schema` / `output_schema` is validated with the draft its `$schema`
names, Draft 2020-12 when it names none, with format checking for `email`, `date`,
`date-time` (RFC 3339, offset required) and `uri` (absolute, with a scheme). These checkers
are defined here so results do not depend on jsonschema's optional format packages. Compiled
validators are cached per schema.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import Conversation
from funcdex_assets.dml.parallel import MAX_PARALLEL_CALLS

__all__ = [
    "ISSUE_CODES",
    "ValidationIssue",
    "validate_conversation",
    "schema_validator",
    "FORMAT_CHECKER",
]

ISSUE_CODES = (
    "empty",
    "first_turn_not_user",
    "bad_turn_order",
    "call_without_response",
    "response_without_call",
    "ends_without_assistant",
    "unknown_tool",
    "invalid_arguments",
    "invalid_response",
    "too_few_user_turns",
    "unexpected_thought",
    "too_many_parallel_calls",
)

# At most this many schema errors are reported per turn (a long wrong list would otherwise
# give one issue per element); the last one says how many more there were.
MAX_SCHEMA_ERRORS_PER_TURN = 20
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class ValidationIssue:
    code: str  # stable reason code used for reject counts (one of ISSUE_CODES)
    message: str  # human readable, names the tool/argument
    line: int  # DML line, 0 if unknown
    turn_index: int  # index into the turns, -1 for the whole conversation


# --------------------------------------------------------------------------------------------
# Format checking

FORMAT_CHECKER = FormatChecker(formats=())

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))",
    re.ASCII,
)
# RFC 3986 absolute URI: a scheme, ':', then no whitespace or characters URIs never contain.
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")


def _valid_date(y: str, m: str, d: str) -> bool:
    try:
        _dt.date(int(y), int(m), int(d))
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("email")
def _is_email(instance: object) -> bool:
    return not isinstance(instance, str) or _EMAIL_RE.fullmatch(instance) is not None


@FORMAT_CHECKER.checks("date")
def _is_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    m = _DATE_RE.fullmatch(instance)
    return m is not None and _valid_date(*m.groups())


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    m = _DATE_TIME_RE.fullmatch(instance)
    if m is None:
        return False
    y, mo, d, h, mi, s, oh, om = m.groups()
    if not _valid_date(y, mo, d):
        return False
    if int(h) > 23 or int(mi) > 59 or int(s) > 60:  # 60: leap second
        return False
    return oh is None or (int(oh) <= 23 and int(om) <= 59)


@FORMAT_CHECKER.checks("uri")
def _is_uri(instance: object) -> bool:
    return not isinstance(instance, str) or _URI_RE.fullmatch(instance) is not None


# --------------------------------------------------------------------------------------------
# Compiled-validator cache

# id(schema) -> (schema, validator): the fast path for the same dict seen again (a catalog's
# Tool objects are long-lived). The schema is kept in the entry so its id cannot be reused by
# another object while cached, and `is` confirms the hit.
_BY_ID: dict[int, tuple[Any, Any]] = {}
# Canonical JSON -> validator: equal schemas from different objects share one compile.
_BY_JSON: dict[str, Any] = {}
_CACHE_LIMIT = 4096


def schema_validator(schema: Mapping[str, Any]) -> Any:
    """A cached jsonschema validator for `schema` (its `$schema` draft, else 2020-12).

    Raises `jsonschema.exceptions.SchemaError` when the schema itself is invalid.
    """
    hit = _BY_ID.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    key = json.dumps(schema, sort_keys=True, ensure_ascii=False, default=str)
    validator = _BY_JSON.get(key)
    if validator is None:
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
        validator = cls(schema, format_checker=FORMAT_CHECKER)
        if len(_BY_JSON) >= _CACHE_LIMIT:
            _BY_JSON.clear()
        _BY_JSON[key] = validator
    if len(_BY_ID) >= _CACHE_LIMIT:
        _BY_ID.clear()
    _BY_ID[id(schema)] = (schema, validator)
    return validator


def _truncate(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _schema_issues(
    code: str, what: str, tool: Tool, schema: Mapping[str, Any], instance: Any, line: int, index: int
) -> list[ValidationIssue]:
    if not schema:  # {} accepts everything
        return []
    try:
        validator = schema_validator(schema)
    except SchemaError as exc:
        raise ValueError(f"tool {tool.name!r} has an invalid {what} schema: {exc.message}") from exc
    errors = list(validator.iter_errors(instance))
    if not errors:
        return []
    errors.sort(key=lambda e: (e.json_path, e.message))
    label = "arguments" if code == "invalid_arguments" else "response"
    issues = []
    for err in errors[:MAX_SCHEMA_ERRORS_PER_TURN]:
        message = f"invalid {label} for {tool.name} at {err.json_path}: {_truncate(err.message)}"
        issues.append(ValidationIssue(code, message, line, index))
    if len(errors) > MAX_SCHEMA_ERRORS_PER_TURN:
        last = issues[-1]
        more = len(errors) - MAX_SCHEMA_ERRORS_PER_TURN
        issues[-1] = ValidationIssue(code, f"{last.message} (and {more} more errors)", line, index)
    return issues


def reports_failure(content: Any) -> bool:
    """A response in a failure shape: `successful` / `success` / `ok` false or a non-empty
    top-level `error(s)`. A failed call answers that way, not with an instance of the tool's
    output schema (`{"successful": false, "error": "404 ...", "data": {}}`), so it is not held
    to the schema."""
    if not isinstance(content, dict):
        return False
    for key, value in content.items():
        name = key.lower()
        if name in ("successful", "success", "ok") and value is False:
            return True
        if name in ("error", "errors") and value not in (None, "", [], {}):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Turn order

_ALLOWED_NEXT: dict[str, frozenset[str]] = {
    "user": frozenset({"thought", "assistant", "tool_call"}),
    "thought": frozenset({"assistant", "tool_call"}),
    "assistant": frozenset({"user", "tool_call"}),
    "tool_call": frozenset({"tool_call", "tool_response"}),
    "tool_response": frozenset({"thought", "assistant", "tool_call"}),
}
_NAMES = {
    "user": "user turn",
    "thought": "thought",
    "assistant": "assistant text",
    "tool_call": "tool call",
    "tool_response": "tool response",
}


def _describe(turn: Any) -> str:
    if turn.kind == "tool_call":
        return f"tool call {turn.name!r}"
    return _NAMES[turn.kind]


def _at(turn: Any) -> str:
    return f" (line {turn.line})" if turn.line else ""


class _Group:
    """The current call group: its calls as (index, turn, tool or None when unknown), and how
    many of them have been answered so far."""

    __slots__ = ("calls", "answered")

    def __init__(self) -> None:
        self.calls: list[tuple[int, Any, Tool | None]] = []
        self.answered = 0

    @property
    def pending(self) -> bool:
        return self.answered < len(self.calls)

    def unanswered(self) -> tuple[str, Any, int]:
        """(description, turn, turn index) of the first call without a response."""
        index, call, _ = self.calls[self.answered]
        width = len(self.calls)
        what = f"{_describe(call)}{_at(call)}"
        if width > 1:
            what += f", call {self.answered + 1} of a parallel call of {width},"
        return what, call, index


def validate_conversation(
    turns: Sequence[Any] | Conversation,
    tools: Mapping[str, Tool],
    *,
    min_user_turns: int = 1,
    check_responses: bool = True,
    allow_thoughts: bool = True,
) -> list[ValidationIssue]:
    """Every rule the conversation breaks, in turn order (conversation-level issues last)."""
    if isinstance(turns, Conversation):
        turns = turns.turns
    if not turns:
        return [ValidationIssue("empty", "the conversation has no turns", 0, -1)]

    issues: list[ValidationIssue] = []
    add = issues.append
    prev: Any = None
    group = _Group()  # the last call group (empty before the first call)
    user_turns = 0

    for index, turn in enumerate(turns):
        kind = turn.kind
        line = turn.line

        # ---- order
        if prev is None:
            if kind != "user":
                add(ValidationIssue(
                    "first_turn_not_user",
                    f"the conversation starts with {_describe(turn)}, not a user turn",
                    line, index,
                ))
        elif kind == "tool_response":
            if not (group.pending and prev.kind in ("tool_call", "tool_response")):
                if prev.kind == "tool_response" and len(group.calls) > 1:
                    reason = f"all {len(group.calls)} calls of the parallel call before it are already answered"
                elif prev.kind == "tool_response":
                    reason = "its tool call is already answered"
                else:
                    reason = "a response must come right after its tool call"
                add(ValidationIssue(
                    "response_without_call", f"tool response after {_describe(prev)}; {reason}", line, index,
                ))
        elif group.pending and prev.kind in ("tool_call", "tool_response") and not (
            kind == "tool_call" and prev.kind == "tool_call"
        ):
            # Calls are unanswered and something other than a response (or another call of
            # the same group) comes.
            what, call, call_index = group.unanswered()
            if kind == "user":
                add(ValidationIssue(
                    "bad_turn_order",
                    f"user turn while {what} has no tool response; every call must be answered "
                    "before the user speaks",
                    line, index,
                ))
            else:
                follows = _describe(turn)
                if kind != "tool_call" and index + 1 < len(turns) and turns[index + 1].kind == "tool_call":
                    follows += (" and another call (a parallel call is one assistant message: its calls "
                                "come one right after another, then their responses)")
                add(ValidationIssue(
                    "call_without_response",
                    f"{what} is followed by {follows} instead of its tool response",
                    call.line, call_index,
                ))
        elif kind not in _ALLOWED_NEXT[prev.kind]:
            allowed = " or ".join(_NAMES[k] for k in sorted(_ALLOWED_NEXT[prev.kind]))
            add(ValidationIssue(
                "bad_turn_order",
                f"{_describe(turn)} right after {_describe(prev)}; after {_NAMES[prev.kind]} "
                f"comes {allowed}",
                line, index,
            ))

        # ---- content
        if kind == "user":
            user_turns += 1
        elif kind == "thought":
            if not allow_thoughts:
                add(ValidationIssue(
                    "unexpected_thought",
                    "thought turn in a conversation without thoughts",
                    line, index,
                ))
        elif kind == "tool_call":
            if prev is None or prev.kind != "tool_call":
                group = _Group()
            tool = tools.get(turn.name)
            group.calls.append((index, turn, tool))
            if len(group.calls) == MAX_PARALLEL_CALLS + 1:
                add(ValidationIssue(
                    "too_many_parallel_calls",
                    f"{_describe(turn)} is call {MAX_PARALLEL_CALLS + 1} in a row; a parallel call "
                    f"issues at most {MAX_PARALLEL_CALLS} calls at once",
                    line, index,
                ))
            if tool is None:
                close = difflib.get_close_matches(turn.name, list(tools), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                add(ValidationIssue("unknown_tool", f"unknown tool {turn.name!r}{hint}", line, index))
            else:
                issues.extend(_schema_issues(
                    "invalid_arguments", "input", tool, tool.input_schema, turn.arguments, line, index
                ))
        elif kind == "tool_response":
            if prev is not None and prev.kind in ("tool_call", "tool_response") and group.pending:
                # The k-th response answers the k-th call of the group.
                _, _, tool = group.calls[group.answered]
                group.answered += 1
                if check_responses and tool is not None and not reports_failure(turn.content):
                    issues.extend(_schema_issues(
                        "invalid_response", "output", tool, tool.output_schema, turn.content, line, index,
                    ))
        if kind not in ("tool_call", "tool_response"):
            group = _Group()  # a text turn ends the group, answered or not (reported above)

        prev = turn

    # ---- end
    last = turns[-1]
    if group.pending:
        what, call, call_index = group.unanswered()
        add(ValidationIssue(
            "call_without_response",
            f"the conversation ends after {what} with no tool response",
            call.line, call_index,
        ))
    elif last.kind != "assistant":
        add(ValidationIssue(
            "ends_without_assistant",
            f"the conversation ends with {_describe(last)}; it must end with assistant text",
            last.line, len(turns) - 1,
        ))

    if user_turns < min_user_turns:
        add(ValidationIssue(
            "too_few_user_turns",
            f"{user_turns} user turn(s), at least {min_user_turns} required",
            0, -1,
        ))
    return issues
