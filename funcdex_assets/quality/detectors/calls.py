"""`no_tool_call`: tools are offered and the conversation never calls one.

A conversation that shows the assistant declining a request no tool can serve is a legitimate
no-tool example, and so is a row labelled with `metadata.no_tool_call_expected: true`; both
are left alone.
"""

from __future__ import annotations

import re

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
