"""Typed DML turns.

A conversation is a flat list of turns in document order. Structure rules (what may follow
what) live in the validator, not here, so a malformed conversation can still be represented
and every problem in it reported at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Turn(BaseModel):
    model_config = ConfigDict(frozen=True)

    # 1-based line of the turn's opening tag in the DML text; 0 when built in code. Where a
    # turn was written is not what it says, so equality and hashing ignore it.
    line: int = Field(default=0, exclude=True)

    def _content(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "line"}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Turn):
            return NotImplemented
        return type(self) is type(other) and self._content() == other._content()

    def __hash__(self) -> int:
        return hash((type(self), repr(sorted(self._content().items(), key=lambda kv: kv[0]))))


class UserTurn(_Turn):
    kind: Literal["user"] = "user"
    text: str


class ThoughtTurn(_Turn):
    """The assistant's private reasoning (only in datasets with thoughts)."""

    kind: Literal["thought"] = "thought"
    text: str


class AssistantTurn(_Turn):
    kind: Literal["assistant"] = "assistant"
    text: str


class ToolCallTurn(_Turn):
    kind: Literal["tool_call"] = "tool_call"
    name: str
    arguments: dict[str, Any]


class ToolResponseTurn(_Turn):
    kind: Literal["tool_response"] = "tool_response"
    content: Any


Turn = Annotated[
    Union[UserTurn, ThoughtTurn, AssistantTurn, ToolCallTurn, ToolResponseTurn],
    Field(discriminator="kind"),
]


class Conversation(BaseModel):
    model_config = ConfigDict(frozen=True)

    turns: tuple[Turn, ...]
