"""The judge stage of the embedded backend: a deterministic rubric over the conversation.

It scores the same two axes as the model judge (user_query_clarity and tool_use_quality,
1-5, with reasons) from what can be checked mechanically: grounding of ids, whether every
request was answered with a summary that uses the results, and how the user phrased things.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from funcdex_assets.backends.base import JudgeScore, Persona
from funcdex_assets.catalog.models import Tool
from funcdex_assets.dml.model import AssistantTurn, ToolCallTurn, ToolResponseTurn, UserTurn
from funcdex_assets.quality.grounding import id_grounding, scalar_values


def judge_conversation(turns: Sequence[Any], tools: Mapping[str, Tool], persona: Persona) -> JudgeScore:
    calls = [t for t in turns if isinstance(t, ToolCallTurn)]
    users = [t for t in turns if isinstance(t, UserTurn)]
    reasons: dict[str, str] = {}

    clarity = {"excellent": 5, "good": 4, "average": 3}.get(persona.clarity, 3)
    if any(len(u.text.split()) < 3 for u in users[:1]):
        clarity -= 1
    reasons["user_query_clarity"] = (
        f"Persona clarity '{persona.clarity}'; {len(users)} user turns; "
        f"first request has {len(users[0].text.split()) if users else 0} words."
    )

    quality = 5
    notes = []
    grounding = id_grounding(turns, tools)
    if grounding.ungrounded:
        quality -= 2
        notes.append(f"{len(grounding.ungrounded)} id argument(s) not taken from earlier results")
    else:
        notes.append(f"all {grounding.id_arguments} id argument(s) after the first call(s) come from earlier results")
    unknown = [c.name for c in calls if c.name not in tools]
    if unknown:
        quality -= 3
        notes.append(f"unknown tools called: {', '.join(sorted(set(unknown)))}")
    if not calls:
        quality -= 2
        notes.append("no tool was called")
    if not _summary_uses_results(turns):
        quality -= 1
        notes.append("the final answer does not use any tool result")
    else:
        notes.append("the final answer reports values from the tool results")
    reasons["tool_use_quality"] = "; ".join(notes) + "."
    return JudgeScore(user_query_clarity=max(1, min(5, clarity)), tool_use_quality=max(1, min(5, quality)),
                      reasons=reasons)


def _summary_uses_results(turns: Sequence[Any]) -> bool:
    values: set[str] = set()
    used = False
    for turn in turns:
        if isinstance(turn, ToolResponseTurn):
            values.update(v for v in scalar_values(turn.content) if len(v) >= 4)
        elif isinstance(turn, AssistantTurn) and values:
            if any(v in turn.text for v in values):
                used = True
    return used
