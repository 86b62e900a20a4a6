"""Calls that do nothing a user asked for.

- `no_tool_call`: tools are offered and the conversation never calls one. A conversation that
  shows the assistant declining a request no tool can serve is a legitimate no-tool example,
  and so is a row labelled with `metadata.no_tool_call_expected: true`; both are left alone.
- `empty_change`: a call that changes its object by its arguments (`catalog.actions.
  changes_by_arguments`: UPDATE_TASK, ADD_LABEL_TO_EMAIL) carries nothing but one id and
  documented defaults, while its tool takes more: "add a label" with no label, an update that
  sets nothing. A model learns to make calls that look busy and do nothing.
"""

from __future__ import annotations

import re

from funcdex_assets.catalog.actions import changes_nothing
from funcdex_assets.quality.dialogue import Dialogue
from funcdex_assets.quality.findings import Finding

DECLINE = re.compile(
    r"\b(can(?:no|')?t|cannot|unable to|not able to|don'?t have (?:a |the |any )?(?:tool|way|access|ability)"
    r"|no (?:tool|function|way)|outside (?:of )?(?:what|the scope)|not (?:something|possible|supported|available)"
    r"|i'?m (?:sorry|afraid)|unfortunately|beyond (?:my|what))\b", re.I)


def no_tool_call(d: Dialogue) -> list[Finding]:
    if not d.tools or d.calls:
        return []
    if d.metadata.get("no_tool_call_expected") is True or d.metadata.get("expect_tool_call") is False:
        return []
    if any(m.role == "assistant" and DECLINE.search(m.text) for m in d.messages):
        return []
    return [Finding(code="no_tool_call", message_index=-1, message=(
        f"{len(d.tools)} tool(s) offered, none called, and the assistant declines nothing"))]


def empty_change(d: Dialogue) -> list[Finding]:
    found: list[Finding] = []
    for call in d.calls:
        schema = d.tools.get(call.name) or {}
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        if call.arguments_error or not changes_nothing(call.name, call.arguments, props):
            continue
        found.append(Finding(code="empty_change", message_index=call.index, message=(
            f"{call.name} is called with only {', '.join(call.arguments) or 'no arguments'}: it changes nothing "
            f"(it also takes {', '.join(sorted(set(props) - set(call.arguments))[:4])})")))
    return found
