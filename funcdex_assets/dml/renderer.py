"""Typed turns -> DML text: the exact inverse of `parser.parse_dml`.

For any turns whose texts are already stripped of surrounding whitespace (which is what the
parser produces) and whose JSON values are plain JSON (dict/list/str/int/float/bool/None,
string keys, finite floats), `parse_dml(render_dml(turns)).turns == tuple(turns)`; and for
text the renderer wrote, `render_dml(parse_dml(text).turns) == text` byte for byte.

Canonical form (what the grammars accept):
- a text turn is its tag, one space, the escaped stripped text, then one newline; empty text
  gives the tag, one space and the newline (`</assistant> ` + `\\n`);
- free text escapes `&` as `&amp;` and `<` as `&lt;` (nothing else);
- a block is the opening tag, a newline, one line of JSON as
  `json.dumps(value, ensure_ascii=False)` prints it, a newline, the closing tag, a newline.
No turns render as the empty string; otherwise the output ends with exactly one newline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from funcdex_assets.dml.model import (
    AssistantTurn,
    ThoughtTurn,
    ToolCallTurn,
    ToolResponseTurn,
    UserTurn,
)

__all__ = ["render_dml", "escape_text", "dump_json"]

_TEXT_TAGS: dict[type, str] = {
    UserTurn: "</user> ",
    ThoughtTurn: "</think> ",
    AssistantTurn: "</assistant> ",
}


def escape_text(text: str) -> str:
    """Free-text escaping: `&` -> `&amp;`, `<` -> `&lt;` (so text never contains a tag)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    return text


def dump_json(value: Any) -> str:
    """One line of JSON with the separators the grammar fixes.

    Raises ValueError for NaN/Infinity (not JSON, and not in the grammar).
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _text_tag(turn: Any) -> str | None:
    for cls, tag in _TEXT_TAGS.items():
        if isinstance(turn, cls):
            return tag
    return None


def render_dml(turns: Sequence[Any]) -> str:
    """Render turns as canonical DML text (turn order is not checked)."""
    parts: list[str] = []
    append = parts.append
    for turn in turns:
        tag = _TEXT_TAGS.get(type(turn)) or _text_tag(turn)
        if tag is not None:
            append(tag)
            append(escape_text(turn.text.strip()))
            append("\n")
        elif isinstance(turn, ToolCallTurn):
            append("<tool>\n")
            append(dump_json({"name": turn.name, "arguments": turn.arguments}))
            append("\n</tool>\n")
        elif isinstance(turn, ToolResponseTurn):
            append("<tool_response>\n")
            append(dump_json(turn.content))
            append("\n</tool_response>\n")
        else:
            raise TypeError(f"not a DML turn: {turn!r}")
    return "".join(parts)
