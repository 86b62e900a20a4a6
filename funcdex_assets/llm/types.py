"""The contract between generation stages and whatever answers chat requests.

A stage builds `ChatRequest`s; a client (`llm/client.py` for OpenAI-compatible servers,
`llm/vllm_inprocess.py` for vLLM in the same process) answers each with a `ChatResult`, in
order. Per-request problems (a timeout after retries, a refused request, an empty answer) are
results with an `error`; only a failure that would make every request fail (no replica
reachable) is raised, as `LLMUnavailableError`, naming the URL(s) and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    max_tokens: int = 2048
    top_p: float | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Constraint:
    """Structured-output constraint: a GBNF grammar (text) or a JSON Schema (dict)."""

    kind: Literal["grammar", "json_schema"]
    value: str | dict[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    stage: str  # scenario, persona, outline, tool_selection, conversation, system_prompt, judge, repair
    messages: tuple[dict[str, str], ...]
    sampling: Sampling = field(default_factory=Sampling)
    constraint: Constraint | None = None


@dataclass(frozen=True)
class LLMError:
    # timeout | connection_reset | tls | rate_limited | server_error | bad_request | empty | bad_response
    # (no replica there at all, connection_refused / dns, raises LLMUnavailableError instead)
    reason: str
    message: str


@dataclass(frozen=True)
class ChatResult:
    text: str | None
    error: LLMError | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None  # stop | length | ...
    cached: bool = False


class LLMUnavailableError(RuntimeError):
    """No configured endpoint answers: the run stops (finished calls stay cached).

    `reason` says why, when known: connection_refused | dns (every replica), unreachable (a
    mix of those), unauthorized (HTTP 401/403), not_found (HTTP 404); the message has the fix.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class StageUsage:
    calls: int = 0  # requests answered by the model (not the cache)
    cached: int = 0  # requests answered by the cache
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, result: ChatResult) -> None:
        if result.cached:
            self.cached += 1
        else:
            self.calls += 1
        if result.error is not None:
            self.errors += 1
        if not result.cached:
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens


class ChatClient(Protocol):
    """Answers chat requests; `usage` accumulates per stage since creation."""

    usage: dict[str, StageUsage]
    description: str  # for messages: e.g. "http://gpu:8000/v1 (model Qwen/Qwen3-8B)"

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[ChatResult]: ...
