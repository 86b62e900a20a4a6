"""Structural defects of a tool-calling row: who speaks first, unknown tools, arguments that break
their schema, calls nobody answers, answers to no call, the ending, empty turns.

In the pipeline the DML validator rejects all of these before the meaning detectors run; here
they are checked on rows from anywhere (`funcdex check`).
"""

from __future__ import annotations

import difflib

from jsonschema.exceptions import SchemaError

from funcdex_assets.dml.validator import schema_validator
from funcdex_assets.quality.dialogue import Dialogue
from funcdex_assets.quality.findings import Finding

MAX_SCHEMA_MESSAGE = 200


def structure(d: Dialogue) -> list[Finding]:
    """Who speaks first, empty turns, calls and answers that do not pair up, the ending."""
    out: list[Finding] = []
    spoken = [m for m in d.messages if m.role != "system"]
    if spoken and spoken[0].role != "user":
        out.append(Finding(code="first_turn_not_user", message_index=spoken[0].index,
                           message=f"the conversation starts with a message from the {spoken[0].role}, not the user"))
    for m in d.messages:
        if m.role in ("user", "assistant") and not m.text and not m.calls:
            out.append(Finding(code="empty_message", message_index=m.index, message=f"empty {m.role} message"))
        if m.role == "tool" and m.answers is None:
            out.append(Finding(code="response_without_call", message_index=m.index, message=(
                f"tool message (tool_call_id {m.tool_call_id!r}) answers no call made before it")))
        for call in m.calls:
            if not call.answered:
                out.append(Finding(code="call_without_response", message_index=m.index,
                                   message=f"call {call.id} to {call.name} has no tool message answering it"))
    if d.messages:
        last = d.messages[-1]
        if last.role != "assistant" or (not last.text and not last.calls):
            out.append(Finding(code="ends_without_assistant", message_index=last.index,
                               message=f"the conversation ends with a {last.role} message, not the assistant's answer"))
    return out


def call_schemas(d: Dialogue) -> list[Finding]:
    """`unknown_tool` and `invalid_arguments`: each call against the row's tools."""
    return [f for call in d.calls for f in _call_findings(d, call)]


def _call_findings(d: Dialogue, call) -> list[Finding]:
    if d.tools_offered and call.name not in d.tools:
        close = difflib.get_close_matches(call.name, list(d.tools), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [Finding(code="unknown_tool", message_index=call.index,
                        message=f"{call.name!r} is not among the row's tools{hint}")]
    if call.arguments_error:
        return [Finding(code="invalid_arguments", message_index=call.index,
                        message=f"{call.name}: {call.arguments_error}")]
    schema = d.tools.get(call.name)
    if not schema:
        return []
    try:
        errors = sorted(schema_validator(schema).iter_errors(call.arguments), key=lambda e: e.json_path)
    except (SchemaError, LookupError, ValueError, TypeError):
        return []  # the row's own schema is broken (or its $refs do not resolve): nothing to hold the call to
    if not errors:
        return []
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return [Finding(code="invalid_arguments", message_index=call.index,
                    message=f"{call.name} at {first.json_path}: {first.message[:MAX_SCHEMA_MESSAGE]}{more}")]
