"""DML text -> typed turns.

The parser checks syntax only: tags, block boundaries, JSON, the shape of a tool call. It does
not check turn order (what may follow what); `validator.validate_conversation` does, so a
conversation in the wrong order still parses and every problem in it can be reported.

It is a little more lenient than the grammars, so output from an unconstrained backend can be
read too: any amount of whitespace after a text tag and around a block's JSON, JSON spread over
several lines, and a bare `&` in free text (only `&amp;` and `&lt;` are unescaped). What it
rejects it reports with the 1-based line and a quote of that line.

Scanning is done with `str.find`, compiled regexes and `json.loads` (all C), never a Python
loop per character, so 10k-token conversations parse in well under a millisecond per turn.
"""

from __future__ import annotations

import json
import re
from typing import Any

from funcdex_assets.catalog.schema_check import json_kind
from funcdex_assets.dml.model import (
    AssistantTurn,
    Conversation,
    ThoughtTurn,
    ToolCallTurn,
    ToolResponseTurn,
    UserTurn,
)

__all__ = ["DMLParseError", "parse_dml", "unescape_text", "KNOWN_TAGS"]

# Tags that open a free-text turn (the text runs to the next '<').
_TEXT_TAGS = {
    "</user>": UserTurn,
    "</think>": ThoughtTurn,
    "</assistant>": AssistantTurn,
}
# Tags that open a JSON block, and the tag that must close it at the start of a line.
_BLOCK_TAGS = {
    "<tool>": "</tool>",
    "<tool_response>": "</tool_response>",
}
_CLOSERS = {closer: opener for opener, closer in _BLOCK_TAGS.items()}

KNOWN_TAGS = ("</user>", "</think>", "</assistant>", "<tool>", "<tool_response>")
_EXPECTED = "expected one of " + ", ".join(KNOWN_TAGS)

_TAG_RE = re.compile(r"</?[A-Za-z_][A-Za-z0-9_]*>")
# What to quote when the text at '<' is not a well-formed tag.
_TAG_TOKEN_RE = re.compile(r"<[^\s<>]*>?")
# The start of the next line (after a block opener) whose first non-blank character is '<'.
# Valid JSON never has such a line (strings cannot hold a raw newline), so this is where the
# block's closing tag must be.
_LINE_TAG_RE = re.compile(r"^[ \t]*<", re.MULTILINE)
_NON_SPACE_RE = re.compile(r"\S")
_UNESCAPE_RE = re.compile(r"&(amp|lt);")
_UNESCAPES = {"amp": "&", "lt": "<"}

_QUOTE_LIMIT = 120


class DMLParseError(ValueError):
    """DML text that cannot be read as turns.

    `line` is the 1-based line of the problem, `reason` says what was wrong and what was
    expected, `source_line` is the text of that line (empty when the text ends there).
    """

    def __init__(self, line: int, reason: str, source_line: str = "") -> None:
        self.line = line
        self.reason = reason
        self.source_line = source_line
        super().__init__(f"line {line}: {reason}; the line reads: {_quote(source_line)}")


def unescape_text(text: str) -> str:
    """Undo the renderer's free-text escaping (`&lt;` -> `<`, `&amp;` -> `&`) in one pass."""
    if "&" not in text:
        return text
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES[m.group(1)], text)


def _quote(line: str) -> str:
    line = line.rstrip("\r\n")
    if len(line) > _QUOTE_LIMIT:
        line = line[: _QUOTE_LIMIT - 3] + "..."
    return repr(line)


def _line_text(text: str, pos: int) -> str:
    """The whole line containing position `pos`."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end != -1 else len(text)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _Scanner:
    """Position -> line number, counting newlines incrementally (positions only grow)."""

    __slots__ = ("text", "pos", "line")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def line_at(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.text.count("\n", self.pos, pos)
        else:  # not used on the hot path; kept correct for error reporting
            self.line -= self.text.count("\n", pos, self.pos)
        self.pos = pos
        return self.line

    def error(self, pos: int, reason: str) -> DMLParseError:
        return DMLParseError(self.line_at(pos), reason, _line_text(self.text, pos))


def parse_dml(text: str) -> Conversation:
    """Parse DML text into a `Conversation` (turn order is not checked; see the validator).

    Empty or whitespace-only text gives a conversation with no turns. Raises `DMLParseError`
    on: text before the first tag, an unknown tag, a closing tag with nothing open, a
    `<tool>` / `<tool_response>` block that is not closed (truncated output), invalid JSON in
    a block, a tool call that is not `{"name": string, "arguments": object}`, and text between
    turns.
    """
    n = len(text)
    scan = _Scanner(text)
    turns: list[Any] = []

    pos = text.find("<")
    if pos == -1:
        pos = n
    stray = _NON_SPACE_RE.search(text, 0, pos)
    if stray is not None:
        raise scan.error(
            stray.start(), "text before the first tag; a conversation starts with '</user> '"
        )

    while pos < n:
        # Invariant: text[pos] == "<".
        line = scan.line_at(pos)
        m = _TAG_RE.match(text, pos)
        tag = m.group(0) if m is not None else None

        turn_cls = _TEXT_TAGS.get(tag) if tag is not None else None
        if turn_cls is not None:
            body_start = m.end()  # type: ignore[union-attr]
            end = text.find("<", body_start)
            if end == -1:
                end = n
            body = text[body_start:end].strip()
            turns.append(turn_cls(text=unescape_text(body), line=line))
            pos = end
            continue

        closer = _BLOCK_TAGS.get(tag) if tag is not None else None
        if closer is None:
            raise scan.error(pos, _unknown_tag_reason(text, pos, tag))

        # A JSON block: the content runs to the next line starting with '<', which must be
        # the closing tag.
        opener = tag
        content_start = m.end()  # type: ignore[union-attr]
        next_tag = _LINE_TAG_RE.search(text, content_start)
        if next_tag is None:
            raise scan.error(
                pos,
                f"unterminated {opener} block: the text ends before '{closer}' "
                "(truncated output?)",
            )
        closer_pos = next_tag.end() - 1
        cm = _TAG_RE.match(text, closer_pos)
        if cm is None or cm.group(0) != closer:
            found = cm.group(0) if cm is not None else _TAG_TOKEN_RE.match(text, closer_pos).group(0)  # type: ignore[union-attr]
            hint = ""
            if closer in text[content_start:closer_pos]:
                hint = f"; '{closer}' must start its own line"
            raise scan.error(
                closer_pos,
                f"unterminated {opener} block opened at line {line}: expected '{closer}' "
                f"before '{found}'{hint}",
            )
        raw = text[content_start : next_tag.start()]
        value = _load_json(scan, raw, content_start, opener, closer)

        if opener == "<tool>":
            json_pos = content_start + (_NON_SPACE_RE.search(raw).start())  # type: ignore[union-attr]
            turns.append(_tool_call(scan, value, json_pos, line))
        else:
            turns.append(ToolResponseTurn(content=value, line=line))

        # After the closing tag only whitespace may come before the next tag.
        after = cm.end()
        pos = text.find("<", after)
        if pos == -1:
            pos = n
        stray = _NON_SPACE_RE.search(text, after, pos)
        if stray is not None:
            raise scan.error(
                stray.start(),
                f"text outside any turn after '{closer}'; free text belongs after a "
                "'</user> ', '</think> ' or '</assistant> ' tag",
            )

    return Conversation(turns=tuple(turns))


def _unknown_tag_reason(text: str, pos: int, tag: str | None) -> str:
    if tag in _CLOSERS:
        return f"unexpected '{tag}' with no open {_CLOSERS[tag]} block; {_EXPECTED}"
    token = tag if tag is not None else _TAG_TOKEN_RE.match(text, pos).group(0)  # type: ignore[union-attr]
    reason = f"unknown tag '{token}'; {_EXPECTED}"
    if tag is None:
        reason += " (a literal '<' in free text is written '&lt;')"
    return reason


def _load_json(scan: _Scanner, raw: str, offset: int, opener: str, closer: str) -> Any:
    first = _NON_SPACE_RE.search(raw)
    if first is None:
        raise scan.error(
            offset, f"empty {opener} block: expected one line of JSON before '{closer}'"
        )
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = offset + exc.pos
        col = where - (scan.text.rfind("\n", 0, where) + 1) + 1
        reason = f"invalid JSON in {opener} block: {exc.msg} (column {col})"
        raise scan.error(where, reason) from None
    except (ValueError, RecursionError) as exc:
        raise scan.error(offset + first.start(), f"invalid JSON in {opener} block: {exc}") from None


def _tool_call(scan: _Scanner, value: Any, json_pos: int, line: int) -> ToolCallTurn:
    shape = 'expected {"name": <string>, "arguments": <object>}'
    if not isinstance(value, dict):
        raise scan.error(
            json_pos, f"a tool call must be a JSON object, got {json_kind(value)}; {shape}"
        )
    name = value.get("name")
    arguments = value.get("arguments")
    extra = sorted(set(value) - {"name", "arguments"})
    if not isinstance(name, str):
        problem = "missing 'name'" if "name" not in value else "'name' is not a string"
        raise scan.error(json_pos, f"tool call {problem}; {shape}")
    if not isinstance(arguments, dict):
        problem = (
            "missing 'arguments'" if "arguments" not in value else "'arguments' is not an object"
        )
        raise scan.error(json_pos, f"tool call {name!r}: {problem}; {shape}")
    if extra:
        raise scan.error(
            json_pos, f"tool call {name!r}: unexpected key(s) {', '.join(map(repr, extra))}; {shape}"
        )
    return ToolCallTurn(name=name, arguments=arguments, line=line)
