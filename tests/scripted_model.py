"""A scripted stand-in for a model, answering the pipeline's requests by stage.

It reads what the project sends (the JSON Schema or grammar constraint, the prompt) and answers
like a well-behaved model would: JSON that fits the schema, and DML that uses a tool from the
tool list in the prompt with schema-valid arguments. Answers vary with the prompt (a hash), so
different requests get different answers and the same request the same answer.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from faker import Faker

from funcdex_assets.catalog.loader import load_catalog
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.dml.renderer import render_dml
from funcdex_assets.export.trl import to_messages, tools_list
from funcdex_assets.offline.language import request_phrase
from funcdex_assets.offline.values import ValueFactory
from funcdex_assets.offline.world import World
from funcdex_assets.quality.detectors import detect
from funcdex_assets.quality.dialogue import dialogue_from_messages, iter_scalars

_TOOLS_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)


def _seed(body: dict[str, Any]) -> int:
    return int(hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()[:12], 16)


def constraint_of(body: dict[str, Any]) -> tuple[str | None, Any]:
    so = body.get("structured_outputs") or {}
    if "grammar" in so:
        return "grammar", so["grammar"]
    if "json" in so:
        return "json", so["json"]
    return None, None


def json_answer(schema: dict[str, Any], seed: int) -> dict[str, Any]:
    props = schema.get("properties", {})
    rng = random.Random(seed)
    if "scenario" in props:
        return {"scenario": f"A team lead at company {seed % 9973} needs to sort out task {rng.randint(1, 10**6)} "
                            f"with the tools before the {rng.choice(['launch', 'audit', 'review'])} on Friday."}
    if "first_name" in props:
        return {"name": "Dana Ruiz", "first_name": "Dana", "role": "an operations lead", "company": "Acme Corp",
                "email": "dana.ruiz@acme.io", "timezone": "Europe/Berlin",
                "background": "Dana runs weekly planning and keeps projects moving."}
    if "tools" in props:
        return {"tools": [props["tools"]["items"]["enum"][0]], "reason": "It is the tool the task needs."}
    if "outline" in props:
        return {"outline": "1. The user asks for help.\n2. The assistant calls a tool.\n3. The assistant reports."}
    if "system_prompt" in props:
        return {"system_prompt": "You are Acme Corp's assistant. Use the tools to help the user."}
    if "tool_use_quality" in props:
        return {"user_query_clarity": {"score": 4, "reason": "Clear request."},
                "tool_use_quality": {"score": 5, "reason": "Correct tool with grounded arguments."}}
    raise AssertionError(f"unexpected schema {schema}")


@lru_cache(maxsize=1)
def _catalog_tools() -> dict[str, Tool]:
    return {t.name: t for t in load_catalog(Path(__file__).resolve().parents[1] / "tool_catalog").tools}


def tools_in_prompt(body: dict[str, Any]) -> list[Tool]:
    """The offered tools, read back from the prompt's JSON block (response schemas from the catalog)."""
    user = [m["content"] for m in body["messages"] if m["role"] == "user"][0]
    functions = json.loads(_TOOLS_BLOCK.search(user).group(1))
    return [_catalog_tools()[f["function"]["name"]] for f in functions]


def dml_answer(body: dict[str, Any], seed: int) -> str:
    """A short conversation a careful model would write: the user asks for the first offered
    tool's action (one without required ids) and states the values, the call uses exactly those,
    the assistant reports the result. Draws are repeated until the meaning detectors find
    nothing (the simulated response can be incoherent, e.g. an end before its start)."""
    tools = tools_in_prompt(body)
    tool = next((t for t in tools if not [k for k in t.input_schema.get("required", []) if "id" in k.lower()]),
                tools[0])
    for attempt in range(50):
        rng = random.Random(seed + attempt)
        fake = Faker("en_US")
        fake.seed_instance(seed + attempt)
        values = ValueFactory(rng, fake, datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
        args = values.object_value(tool.input_schema, optional_p=0.0)
        response = World(values).execute(tool, args, step=0)
        stated = [str(v) for _, v in iter_scalars(args) if not isinstance(v, bool)]
        turns = [UserTurn(text=f"Please {request_phrase(tool)} for request {seed % 1000}"
                               + (f", with these details: {'; '.join(stated)}." if stated else ".")),
                 AssistantTurn(text="Sure, on it."), ToolCallTurn(name=tool.name, arguments=args),
                 ToolResponseTurn(content=response), AssistantTurn(text=f"Done: {json.dumps(response)[:80]}")]
        dialogue = dialogue_from_messages(to_messages(turns, "scripted"), tools_list(tools))
        if not detect(dialogue, structural=True):
            return render_dml(turns)
    raise AssertionError(f"no clean conversation for {tool.name} in 50 draws")


def pipeline_responder(body: dict[str, Any]) -> dict[str, Any]:
    kind, value = constraint_of(body)
    seed = _seed(body)
    if kind == "json":
        content = json.dumps(json_answer(value, seed))
    elif kind == "grammar":
        content = dml_answer(body, seed)
    else:
        raise AssertionError("every pipeline request is constrained")
    return {"content": content, "prompt_tokens": 100, "completion_tokens": len(content) // 4, "finish_reason": "stop"}
