"""DML turns -> the TRL / OpenAI tool-calling message format.

Assistant text right before a call becomes the `content` of the assistant message that
carries the call; thoughts become `reasoning_content` of the next assistant message (the
field chat templates such as Qwen3's read). Arguments are JSON objects, as TRL's
tool-calling format expects; tool results are JSON strings in tool messages.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.hashing import content_id


def to_messages(turns: Sequence[Any], conversation_id: str, system_prompt: str | None = None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    reasoning: list[str] = []
    pending_text: str | None = None
    last_call: dict[str, Any] | None = None
    n_calls = 0

    def assistant(content: str, **extra: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning:
            msg["reasoning_content"] = "\n".join(reasoning)
            reasoning.clear()
        msg.update(extra)
        return msg

    def flush_text() -> None:
        nonlocal pending_text
        if pending_text is not None:
            messages.append(assistant(pending_text))
            pending_text = None

    for turn in turns:
        if isinstance(turn, UserTurn):
            flush_text()
            messages.append({"role": "user", "content": turn.text})
        elif isinstance(turn, ThoughtTurn):
            flush_text()
            reasoning.append(turn.text)
        elif isinstance(turn, AssistantTurn):
            flush_text()
            pending_text = turn.text
        elif isinstance(turn, ToolCallTurn):
            call_id = "call_" + content_id("c", conversation_id, n_calls).split("_", 1)[1]
            n_calls += 1
            last_call = {"id": call_id, "type": "function",
                         "function": {"name": turn.name, "arguments": turn.arguments}}
            messages.append(assistant(pending_text or "", tool_calls=[last_call]))
            pending_text = None
        elif isinstance(turn, ToolResponseTurn):
            flush_text()
            messages.append({
                "role": "tool",
                "tool_call_id": last_call["id"] if last_call else "",
                "name": last_call["function"]["name"] if last_call else "",
                "content": json.dumps(turn.content, ensure_ascii=False),
            })
    flush_text()
    return messages


def tools_list(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [t.openai_function() for t in tools]


def turns_from_messages(messages: Sequence[dict[str, Any]]) -> list[Any]:
    """The DML turns back from TRL messages (the inverse of `to_messages`, system prompt aside)."""
    turns: list[Any] = []
    for msg in messages:
        role = msg.get("role")
        if role == "user":
            turns.append(UserTurn(text=msg.get("content") or ""))
        elif role == "assistant":
            if msg.get("reasoning_content"):
                turns.extend(ThoughtTurn(text=t) for t in msg["reasoning_content"].split("\n"))
            calls = msg.get("tool_calls") or []
            if msg.get("content") or not calls:
                turns.append(AssistantTurn(text=msg.get("content") or ""))
            turns.extend(ToolCallTurn(name=c["function"]["name"], arguments=c["function"]["arguments"]) for c in calls)
        elif role == "tool":
            turns.append(ToolResponseTurn(content=json.loads(msg["content"])))
    return turns
