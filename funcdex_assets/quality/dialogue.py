"""One conversation as the detectors read it, from any tool-calling row format.

A `Dialogue` is the conversation's messages in order, each call linked to the tool message
that answers it, plus the offered tools' parameter schemas. Readers:

- `dialogue_from_messages(messages, tools)`: the OpenAI / TRL format (what this project
  exports): `messages` with `role` system | user | assistant | tool; assistant `tool_calls`
  `[{"id", "type": "function", "function": {"name", "arguments"}}]` (several = a parallel
  call; `arguments` an object or a JSON string); tool messages with `tool_call_id` and `content`
  (a JSON string, or plain text). Also the legacy `function_call` / role `function` form, and
  `content` given as a list of `{"type": "text", "text"}` parts.
- `dialogue_from_row(row)`: a JSONL row: `{"messages": [...], "tools": [...]}` (tools as a list
  or a JSON string; entries `{"type": "function", "function": {...}}` or bare `{"name",
  "parameters"}`), or a ShareGPT / Hermes row `{"conversations": [{"from", "value"}]}` whose
  assistant turns hold `<tool_call>{"name", "arguments"}</tool_call>` blocks, tool turns
  `<tool_response>...</tool_response>`, and whose tools are in `tools` or in the system
  prompt's `<tools>...</tools>`.

Tool messages are matched to calls by `tool_call_id`; without one (or with an unknown one) by
order, the earliest unanswered call first. `RowFormatError` says what is wrong with a row no
reader understands.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from funcdex_assets.quality.dates import conversation_today, parse_time


class RowFormatError(ValueError):
    """A row that is not a tool-calling conversation in a known format."""


@dataclass(slots=True)
class Call:
    id: str
    name: str
    arguments: dict[str, Any]  # {} when the arguments were not a JSON object
    arguments_error: str | None  # why the arguments are unusable, None when they are an object
    index: int  # message index of the assistant message making the call
    position: int  # position among that message's calls (parallel calls)
    result: Any = None  # decoded tool message content: JSON when it parses, else the text
    result_index: int | None = None  # message index of the answering tool message

    @property
    def answered(self) -> bool:
        return self.result_index is not None


@dataclass(slots=True)
class Message:
    index: int
    role: str  # system | user | assistant | tool
    text: str
    calls: list[Call] = field(default_factory=list)
    tool_call_id: str | None = None
    answers: Call | None = None  # for tool messages: the call answered (None: no call matched)


@dataclass(slots=True)
class Dialogue:
    messages: list[Message]
    tools: dict[str, dict[str, Any]]  # tool name -> parameters JSON Schema
    tools_offered: bool  # the row lists its tools (if not, tool names and schemas are not checked)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def calls(self) -> list[Call]:
        return [c for m in self.messages for c in m.calls]

    @property
    def system_text(self) -> str:
        return "\n".join(m.text for m in self.messages if m.role == "system")

    def today(self) -> date | None:
        """The conversation's "today": `metadata.today` if given, else the date its system prompt
        names (`dates.conversation_today`), else None."""
        given = self.metadata.get("today")
        parsed = parse_time(given) if isinstance(given, str) else None
        return parsed.day if parsed else conversation_today(self.system_text)


_HERMES_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
_HERMES_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.S)
_HERMES_TOOLS = re.compile(r"<tools>\s*(.*?)\s*</tools>", re.S)
_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
          "model": "assistant", "tool": "tool", "function": "tool", "observation": "tool",
          "function_response": "tool", "ipython": "tool"}


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return json.dumps(content, ensure_ascii=False)


def decode_result(content: Any) -> Any:
    """A tool message's content as JSON when it is JSON, else as its text."""
    if not isinstance(content, str):
        return content
    stripped = content.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except ValueError:
            return content
    return content


def _arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    if isinstance(raw, dict):
        return raw, None
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            return {}, f"arguments are not JSON ({exc.msg}): {raw[:80]!r}"
        if isinstance(value, dict):
            return value, None
        return {}, f"arguments are JSON {type(value).__name__}, not an object"
    if raw is None:
        return {}, None
    return {}, f"arguments are {type(raw).__name__}, not an object"


def tool_schemas(tools: Any) -> tuple[dict[str, dict[str, Any]], bool]:
    """{name: parameters} of a row's tools (list or JSON string), and whether any were given."""
    if isinstance(tools, str):
        try:
            tools = json.loads(tools) if tools.strip() else []
        except ValueError as exc:
            raise RowFormatError(f"`tools` is a string but not JSON: {exc}") from None
    if tools is None:
        return {}, False
    if isinstance(tools, dict):
        tools = [tools]
    if not isinstance(tools, list):
        raise RowFormatError(f"`tools` is {type(tools).__name__}, not a list")
    out: dict[str, dict[str, Any]] = {}
    for entry in tools:
        if not isinstance(entry, dict):
            continue
        fn = entry.get("function") if isinstance(entry.get("function"), dict) else entry
        name = fn.get("name")
        if isinstance(name, str):
            params = fn.get("parameters", fn.get("input_schema", fn.get("inputSchema")))
            out[name] = params if isinstance(params, dict) else {}
    return out, bool(tools)


def dialogue_from_messages(messages: Sequence[Mapping[str, Any]], tools: Any = None,
                           metadata: Mapping[str, Any] | None = None) -> Dialogue:
    """The OpenAI / TRL message list as a `Dialogue` (see the module docstring)."""
    if not isinstance(messages, (list, tuple)):
        raise RowFormatError(f"`messages` is {type(messages).__name__}, not a list")
    schemas, offered = tool_schemas(tools)
    out: list[Message] = []
    pending: list[Call] = []  # calls not answered yet, in order
    by_id: dict[str, Call] = {}
    for index, raw in enumerate(messages):
        if not isinstance(raw, Mapping):
            raise RowFormatError(f"message {index} is {type(raw).__name__}, not an object")
        role = raw.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool", "function"):
            raise RowFormatError(f"message {index} has role {role!r}")
        role = {"developer": "system", "function": "tool"}.get(role, role)
        msg = Message(index=index, role=role, text=_text(raw.get("content")).strip())
        if role == "assistant":
            raw_calls = list(raw.get("tool_calls") or [])
            if isinstance(raw.get("function_call"), Mapping):
                raw_calls.append({"function": raw["function_call"]})
            for position, rc in enumerate(raw_calls):
                if not isinstance(rc, Mapping):
                    raise RowFormatError(f"message {index} has a tool call that is not an object")
                fn = rc.get("function") if isinstance(rc.get("function"), Mapping) else rc
                args, error = _arguments(fn.get("arguments", fn.get("parameters")))
                call = Call(id=str(rc.get("id") or f"#{index}.{position}"), name=str(fn.get("name") or ""),
                            arguments=args, arguments_error=error, index=index, position=position)
                msg.calls.append(call)
                pending.append(call)
                by_id.setdefault(call.id, call)
        elif role == "tool":
            msg.tool_call_id = raw.get("tool_call_id")
            call = by_id.get(msg.tool_call_id) if msg.tool_call_id else None
            if call is None or call.answered:
                # No id (or an unknown one): the earliest unanswered call, preferring its name.
                name = raw.get("name")
                call = next((c for c in pending if c.name == name), None) or (pending[0] if pending else None)
            if call is not None and not call.answered:
                call.result = decode_result(raw.get("content"))
                call.result_index = index
                msg.answers = call
                pending.remove(call)
        out.append(msg)
    return Dialogue(messages=out, tools=schemas, tools_offered=offered, metadata=dict(metadata or {}))


def _hermes_messages(turns: Sequence[Any]) -> tuple[list[dict[str, Any]], Any]:
    """ShareGPT / Hermes turns as OpenAI messages, and the tools found in the system prompt."""
    messages: list[dict[str, Any]] = []
    tools: Any = None
    n = 0
    for i, turn in enumerate(turns):
        if not isinstance(turn, Mapping):
            raise RowFormatError(f"turn {i} is {type(turn).__name__}, not an object")
        role = _ROLES.get(str(turn.get("from", turn.get("role", ""))).lower())
        value = _text(turn.get("value", turn.get("content")))
        if role is None:
            raise RowFormatError(f"turn {i} comes from {turn.get('from')!r}")
        if role == "system":
            found = _HERMES_TOOLS.search(value)
            if found:
                try:
                    tools = json.loads(found.group(1))
                except ValueError:
                    # Hermes prompts list one JSON object per line inside <tools>.
                    tools = [json.loads(line) for line in found.group(1).splitlines() if line.strip()]
            messages.append({"role": "system", "content": value})
        elif role == "assistant":
            calls = []
            for block in _HERMES_CALL.findall(value):
                try:
                    data = json.loads(block)
                except ValueError:
                    data = {"name": "", "arguments": block}
                calls.append({"id": f"hermes_{n}", "type": "function",
                              "function": {"name": data.get("name", ""), "arguments": data.get("arguments", {})}})
                n += 1
            text = _HERMES_CALL.sub("", value).strip()
            messages.append({"role": "assistant", "content": text, **({"tool_calls": calls} if calls else {})})
        elif role == "tool":
            blocks = _HERMES_RESPONSE.findall(value) or [value]
            for block in blocks:
                messages.append({"role": "tool", "content": block})
        else:
            messages.append({"role": "user", "content": value})
    return messages, tools


def dialogue_from_row(row: Any) -> Dialogue:
    """A JSONL row in the OpenAI / TRL or ShareGPT / Hermes format as a `Dialogue`."""
    if not isinstance(row, Mapping):
        raise RowFormatError(f"the row is a JSON {type(row).__name__}, not an object")
    metadata = row.get("metadata") if isinstance(row.get("metadata"), Mapping) else {}
    messages = row.get("messages")
    if isinstance(messages, list) and (not messages or (isinstance(messages[0], Mapping) and "role" in messages[0])):
        return dialogue_from_messages(messages, row.get("tools", row.get("functions")), metadata)
    turns = row.get("conversations", messages)
    if isinstance(turns, list) and turns and isinstance(turns[0], Mapping) and "from" in turns[0]:
        converted, prompt_tools = _hermes_messages(turns)
        tools = row.get("tools") if row.get("tools") is not None else prompt_tools
        return dialogue_from_messages(converted, tools, metadata)
    raise RowFormatError("no `messages` (OpenAI / TRL) or `conversations` (ShareGPT) list")


def contains_word(haystack: str, needle: str) -> bool:
    """`needle` occurs in `haystack` with no word character or hyphen right before or after it
    (so `12` is not found inside `2012`, nor `evt_1` inside `evt_12`). Case-sensitive."""
    if not needle:
        return False
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
            return True
        start = haystack.find(needle, start + 1)
    return False


def iter_scalars(value: Any, key: str = "") -> Iterable[tuple[str, Any]]:
    """(key, value) of every scalar leaf of a JSON value; list items keep their list's key."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from iter_scalars(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from iter_scalars(v, key)
    elif value is not None:
        yield key, value


def iter_objects(value: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], dict[str, Any]]]:
    """(path, object) of every JSON object inside a value, outermost first; list steps are '[]'."""
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from iter_objects(v, path + (str(k),))
    elif isinstance(value, list):
        for v in value:
            yield from iter_objects(v, path + ("[]",))
