"""The in-process vLLM client's wiring, against a stand-in `vllm` module (no GPU here)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import pytest

from funcdex_assets.llm import vllm_inprocess
from funcdex_assets.llm.cache import ResponseCache
from funcdex_assets.llm.types import ChatRequest, Constraint, Sampling


@dataclass
class _Params:
    kwargs: dict


@dataclass
class _StructuredOutputsParams:
    grammar: str | None = None
    json: dict | None = None


@dataclass
class _Completion:
    text: str
    token_ids: list = field(default_factory=lambda: [1, 2, 3])
    finish_reason: str = "stop"


@dataclass
class _Output:
    outputs: list
    prompt_token_ids: list = field(default_factory=lambda: [1] * 10)


class _LLM:
    instances: list = []

    def __init__(self, model, **kwargs):
        self.model, self.kwargs, self.calls = model, kwargs, []
        _LLM.instances.append(self)

    def chat(self, conversations, sampling_params, use_tqdm=False):
        self.calls.append((conversations, sampling_params))
        return [_Output([_Completion(f"answer {i}")]) for i in range(len(conversations))]


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _LLM
    module.SamplingParams = lambda **kw: _Params(kw)
    sp = types.ModuleType("vllm.sampling_params")
    sp.StructuredOutputsParams = _StructuredOutputsParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)
    monkeypatch.setattr(vllm_inprocess, "_ENGINES", {})
    _LLM.instances.clear()
    return module


def _requests():
    return [ChatRequest("conversation", ({"role": "user", "content": "hi"},), Sampling(seed=3),
                        Constraint("grammar", "root ::= \"x\"")),
            ChatRequest("judge", ({"role": "user", "content": "grade"},), Sampling(temperature=0.0),
                        Constraint("json_schema", {"type": "object"}))]


def test_constraints_map_to_structured_outputs_and_one_batch_goes_to_chat(fake_vllm, tmp_path):
    client = vllm_inprocess.InProcessVLLMClient("m", cache=ResponseCache(tmp_path / "c.sqlite"), tensor_parallel_size=1)
    results = client.complete_many(_requests())
    assert [r.text for r in results] == ["answer 0", "answer 1"]
    (llm,) = _LLM.instances
    conversations, params = llm.calls[0]
    assert len(conversations) == 2
    assert params[0].kwargs["structured_outputs"].grammar == 'root ::= "x"' and params[0].kwargs["seed"] == 3
    assert params[1].kwargs["structured_outputs"].json == {"type": "object"}
    assert client.usage["conversation"].completion_tokens == 3


def test_engine_loads_once_and_cache_answers_reruns(fake_vllm, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    vllm_inprocess.InProcessVLLMClient("m", cache=cache).complete_many(_requests())
    again = vllm_inprocess.InProcessVLLMClient("m", cache=cache)
    results = again.complete_many(_requests())
    assert all(r.cached for r in results) and len(_LLM.instances) == 1 and len(_LLM.instances[0].calls) == 1
    assert again.usage["judge"].cached == 1 and again.usage["judge"].calls == 0
