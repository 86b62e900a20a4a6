"""The interface every generation backend implements, and the data it exchanges.

Stages call backends in batches (a list of requests in, a list of results out) so that a
networked backend can keep many requests in flight while the embedded one just loops. A result
is either the value or a `StageError` naming what went wrong for that one request: one bad
model answer never sinks the rest of the batch.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, TypeVar, Union

from pydantic import BaseModel, ConfigDict

from funcdex_assets.catalog.models import Tool

T = TypeVar("T")


class StageError(BaseModel):
    """Why one request of a stage produced nothing usable; kept as a reject, never lost.

    `text` is what the model wrote when it wrote something (a conversation that failed
    validation after its repairs), so the checks can count every attempt, not only successes."""

    model_config = ConfigDict(frozen=True)

    reason: str
    message: str
    text: str | None = None


class Persona(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    first_name: str
    role: str
    company: str
    email: str
    tone: str
    clarity: str  # excellent | good | average: how completely the user states requests
    timezone: str
    background: str


class ScenarioRequest(BaseModel):
    bundle: str
    combo_id: str
    tools: list[Tool]  # the sampled chain, in order
    links: list[tuple[int, str, int]]
    earlier_scenarios: list[str]
    seed: int
    workflow_description: str | None = None  # a user's own workflow to vary


class PersonaRequest(BaseModel):
    bundle: str
    scenario: str
    toolkits: list[str]
    seed: int


class Outline(BaseModel):
    text: str
    # Structured plan the embedded backend executes; None for model-written outlines.
    plan: dict[str, Any] | None = None
    offered_tools: list[str]


class OutlineRequest(BaseModel):
    bundle: str
    scenario: str
    persona: Persona
    tools: list[Tool]  # the chain
    links: list[tuple[int, str, int]]
    bundle_tools: list[Tool]  # for distractors
    include_thoughts: bool
    seed: int


class ConversationRequest(BaseModel):
    bundle: str
    scenario: str
    persona: Persona
    outline: Outline
    tools: list[Tool]  # offered to the assistant
    include_thoughts: bool
    seed: int
    # All the bundle's tools: a model backend's grammar is per bundle (one compile per bundle).
    bundle_tools: list[Tool] = []
    min_user_turns: int = 1


class SystemPromptRequest(BaseModel):
    persona: Persona
    toolkits: list[str]
    scenario: str
    today: str
    seed: int


class JudgeRequest(BaseModel):
    dml: str
    persona: Persona
    scenario: str
    tools: list[Tool]
    seed: int
    # What the meaning detectors found ("code at message i: ..."), for a model judge to weigh.
    findings: list[str] = []


class JudgeScore(BaseModel):
    user_query_clarity: int
    tool_use_quality: int
    reasons: dict[str, str]


Result = Union[T, StageError]


class GenerationBackend(Protocol):
    """What a stage needs from an LLM (or from the embedded generator)."""

    name: str

    def usage(self) -> dict[str, Any]:
        """Calls and tokens per stage since the backend was made (empty when nothing is counted)."""
        ...

    def scenarios(self, requests: Sequence[ScenarioRequest]) -> list[Result[str]]: ...

    def personas(self, requests: Sequence[PersonaRequest]) -> list[Result[Persona]]: ...

    def outlines(self, requests: Sequence[OutlineRequest]) -> list[Result[Outline]]: ...

    def conversations(self, requests: Sequence[ConversationRequest]) -> list[Result[str]]: ...

    def system_prompts(self, requests: Sequence[SystemPromptRequest]) -> list[Result[str]]: ...

    def judge(self, requests: Sequence[JudgeRequest]) -> list[Result[JudgeScore]]: ...
