"""vLLM in the same process (`vllm.LLM`), for GPU nodes: the ChatClient protocol without HTTP.

The engine is loaded once per process and model configuration (loading a model takes minutes
and most of the GPU's memory), shared by every asset of the run. Requests of one call go to
`LLM.chat` as one batch, so vLLM schedules them together; constraints map to
`StructuredOutputsParams` (vLLM >= 0.10.2). Answers go through the same response cache as the
HTTP client. Install with `pip install -e ".[vllm]"`.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from funcdex_assets.llm.cache import ResponseCache, cache_key
from funcdex_assets.llm.types import ChatRequest, ChatResult, LLMError, LLMUnavailableError, StageUsage

_ENGINES: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _vllm():
    try:
        import vllm
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise LLMUnavailableError(
            "the in-process vLLM resource needs vLLM on this machine: pip install -e \".[vllm]\" "
            f"(on a node with a GPU), or point the project at a `vllm serve` endpoint instead ({exc})") from exc
    return vllm, StructuredOutputsParams


def engine(model: str, **engine_args: Any) -> Any:
    """The process's `vllm.LLM` for this configuration, created on first use."""
    key = (model, tuple(sorted(engine_args.items())))
    with _LOCK:
        if key not in _ENGINES:
            vllm, _ = _vllm()
            _ENGINES[key] = vllm.LLM(model=model, **engine_args)
        return _ENGINES[key]


class InProcessVLLMClient:
    def __init__(self, model: str, *, cache: ResponseCache | None = None, **engine_args: Any):
        self.model = model
        self.engine_args = engine_args
        self.cache = cache
        self.usage: dict[str, StageUsage] = {}
        self.description = f"in-process vLLM (model {model})"

    def _params(self, request: ChatRequest) -> Any:
        vllm, StructuredOutputsParams = _vllm()
        structured = None
        if request.constraint is not None:
            field = "grammar" if request.constraint.kind == "grammar" else "json"
            structured = StructuredOutputsParams(**{field: request.constraint.value})
        s = request.sampling
        kwargs: dict[str, Any] = {"temperature": s.temperature, "max_tokens": s.max_tokens,
                                  "structured_outputs": structured}
        if s.top_p is not None:
            kwargs["top_p"] = s.top_p
        if s.seed is not None:
            kwargs["seed"] = s.seed
        return vllm.SamplingParams(**kwargs)

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        results: list[ChatResult | None] = [None] * len(requests)
        keys = [cache_key(self.model, r, "structured_outputs") for r in requests]
        todo = []
        for i, (request, key) in enumerate(zip(requests, keys)):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                results[i] = hit
            else:
                todo.append(i)
        if todo:
            llm = engine(self.model, **self.engine_args)
            outputs = llm.chat([list(requests[i].messages) for i in todo],
                               sampling_params=[self._params(requests[i]) for i in todo], use_tqdm=False)
            for i, output in zip(todo, outputs):
                completion = output.outputs[0]
                text = completion.text
                result = ChatResult(
                    text=text or None,
                    error=None if text else LLMError("empty", "the model returned no text"),
                    prompt_tokens=len(output.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids or []),
                    finish_reason=completion.finish_reason,
                )
                if self.cache is not None and result.error is None:
                    self.cache.put(keys[i], requests[i].stage, self.model, result)
                results[i] = result
        for request, result in zip(requests, results):
            self.usage.setdefault(request.stage, StageUsage()).add(result)
        return results  # type: ignore[return-value]
