"""A small builder for hand-written tool-calling conversations in the OpenAI / TRL format.

Imported as `conversation_builder` by the detector and linter tests (tests/ is on sys.path):

    row = conversation(
        user("Delete the 3pm with Dana"),
        assistant("", call("delete_event", {"event_id": "evt_1"}, {"deleted": True})),
        assistant("Done, it's deleted."),
    )

`call(...)` carries its result; `assistant(text, *calls)` writes the assistant message (several
calls make a parallel call) followed by one tool message per call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TODAY_PROMPT = "You are a helpful assistant. Today is 2026-03-02 (Monday)."


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or []}


_S = {"type": "string"}
_DT = {"type": "string", "format": "date-time"}
TOOLS: dict[str, dict[str, Any]] = {
    "list_events": _obj({"calendar_id": {"type": "string", "default": "primary"}, "time_min": _DT, "time_max": _DT,
                         "max_results": {"type": "integer"}, "status": {"type": "string", "enum": ["confirmed", "cancelled"]},
                         "q": _S}),
    "get_event": _obj({"event_id": _S}, ["event_id"]),
    "create_event": _obj({"summary": _S, "start": _DT, "end": _DT,
                          "attendees": {"type": "array", "items": {"type": "string", "format": "email"}},
                          "calendar_id": {"type": "string", "default": "primary"}}, ["summary", "start", "end"]),
    "update_event": _obj({"event_id": _S, "summary": _S, "start": _DT, "end": _DT}, ["event_id"]),
    "delete_event": _obj({"event_id": _S}, ["event_id"]),
    "cancel_event": _obj({"event_id": _S, "reason": _S}, ["event_id"]),
    "send_email": _obj({"to": {"type": "string", "format": "email"}, "subject": _S, "body": _S}, ["to", "body"]),
    "create_draft": _obj({"to": {"type": "string", "format": "email"}, "subject": _S, "body": _S}, ["body"]),
    "list_emails": _obj({"from": _S, "max_results": {"type": "integer"}, "label": _S}),
    "trash_message": _obj({"message_id": _S}, ["message_id"]),
    "untrash_message": _obj({"message_id": _S}, ["message_id"]),
    "add_label": _obj({"message_id": _S, "label": _S}, ["message_id", "label"]),
    "remove_label": _obj({"message_id": _S, "label": _S}, ["message_id", "label"]),
    "add_label_to_email": _obj({"message_id": _S, "label_ids": {"type": "array", "items": _S},
                                "remove_label_ids": {"type": "array", "items": _S},
                                "user_id": {"type": "string", "default": "me"}}, ["message_id"]),
    "get_charge": _obj({"charge_id": _S}, ["charge_id"]),
    "create_refund": _obj({"charge_id": _S, "amount": {"type": "integer"}}, ["charge_id"]),
    "create_invoice_item": _obj({"customer_id": _S, "amount": {"type": "integer"}, "currency": _S,
                                 "customer_name": _S}, ["customer_id", "amount"]),
    "list_calendars": _obj({"max_results": {"type": "integer"}, "show_hidden": {"type": "boolean"},
                            "min_access_role": {"type": "string", "enum": ["reader", "writer", "owner"]}}),
    "get_weather": _obj({"city": _S, "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"}},
                        ["city"]),
}


def tools_list(names: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": n, "description": n.replace("_", " "), "parameters": TOOLS[n]}}
            for n in (names or TOOLS)]


@dataclass
class Call:
    name: str
    arguments: dict[str, Any]
    result: Any
    id: str = ""


_counter = [0]


def call(name: str, arguments: dict[str, Any], result: Any) -> Call:
    _counter[0] += 1
    return Call(name, arguments, result, f"call_{_counter[0]}")


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def system(text: str = TODAY_PROMPT) -> list[dict[str, Any]]:
    return [{"role": "system", "content": text}]


def assistant(text: str, *calls: Call) -> list[dict[str, Any]]:
    msg: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        msg["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in calls]
    out = [msg]
    for c in calls:
        content = c.result if isinstance(c.result, str) else json.dumps(c.result)
        out.append({"role": "tool", "tool_call_id": c.id, "name": c.name, "content": content})
    return out


def conversation(*parts: list[dict[str, Any]], today: bool = True, tools: list[str] | None = None,
                 metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    messages = (system() if today else []) + [m for part in parts for m in part]
    return {"messages": messages, "tools": tools_list(tools), "metadata": metadata or {}}
