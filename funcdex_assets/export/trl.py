"""DML turns -> the TRL / OpenAI tool-calling message format.

A call group (one call, or a parallel call: consecutive calls, see `dml.parallel`) becomes
one assistant message whose `tool_calls` hold every call of the group, each with its own id
(`call_<hash of conversation id and call number>`), followed by one tool message per response
whose `tool_call_id` is the id of the call at the same position. Assistant text right before a
group becomes the `content` of the assistant message that carries it; thoughts become
`reasoning_content` of the next assistant message (the field chat templates such as Qwen3's
read). Arguments are JSON objects, as TRL's tool-calling format expects; tool results are JSON
strings in tool messages.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ThoughtTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.hashing import content_id


def to_messages(turns: Sequence[Any], conversation_id: str, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """OpenAI / TRL chat messages for DML turns (see the module docstring).

    Turns in an order the validator rejects still convert: a response with no call left to
    answer gets an empty `tool_call_id` and `name`."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    reasoning: list[str] = []
    pending_text: str | None = None
    # The calls of the last group and how many of them tool messages have answered.
    group: list[dict[str, Any]] = []
    answered = 0
    n_calls = 0
    prev: Any = None

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
            call = {"id": call_id, "type": "function", "function": {"name": turn.name, "arguments": turn.arguments}}
            if isinstance(prev, ToolCallTurn):
                # Another call of the same group: the same assistant message.
                group.append(call)
            else:
                group, answered = [call], 0
                messages.append(assistant(pending_text or "", tool_calls=group))
                pending_text = None
        elif isinstance(turn, ToolResponseTurn):
            flush_text()
            call = group[answered] if isinstance(prev, (ToolCallTurn, ToolResponseTurn)) and answered < len(group) else None
            answered += 1
            messages.append({
                "role": "tool",
                "tool_call_id": call["id"] if call else "",
                "name": call["function"]["name"] if call else "",
                "content": json.dumps(turn.content, ensure_ascii=False),
            })
        prev = turn
    flush_text()
    return messages


def tools_list(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [t.openai_function() for t in tools]


def turns_from_messages(messages: Sequence[dict[str, Any]]) -> list[Any]:
    """The DML turns back from TRL messages (the inverse of `to_messages`, system prompt aside).

    The tool messages after an assistant message with several `tool_calls` become responses in
    the order of the calls their `tool_call_id`s name (so a dataset that lists the results in
    another order still reads back with the k-th response answering the k-th call); when the
    ids do not name the calls one to one, they stay in message order."""
    turns: list[Any] = []
    call_ids: list[str] = []
    results: list[dict[str, Any]] = []  # tool messages after the last assistant message

    def flush_results() -> None:
        ids = [r.get("tool_call_id") for r in results]
        if len(results) > 1 and sorted(ids, key=str) == sorted(call_ids, key=str) and len(set(ids)) == len(ids):
            results.sort(key=lambda r: call_ids.index(r.get("tool_call_id")))
        turns.extend(ToolResponseTurn(content=json.loads(r["content"])) for r in results)
        results.clear()

    for msg in messages:
        role = msg.get("role")
        if role != "tool":
            flush_results()
        if role == "user":
            turns.append(UserTurn(text=msg.get("content") or ""))
        elif role == "assistant":
            if msg.get("reasoning_content"):
                turns.extend(ThoughtTurn(text=t) for t in msg["reasoning_content"].split("\n"))
            calls = msg.get("tool_calls") or []
            if msg.get("content") or not calls:
                turns.append(AssistantTurn(text=msg.get("content") or ""))
            turns.extend(ToolCallTurn(name=c["function"]["name"], arguments=c["function"]["arguments"]) for c in calls)
            call_ids = [c.get("id") for c in calls]
        elif role == "tool":
            results.append(msg)
    flush_results()
    return turns
