"""A stand-in for a model that satisfies every constraint and means nothing: it answers each request
with random text sampled token by token under the request's grammar or JSON Schema (xgrammar
masks over a byte vocabulary), as an engine with a badly behaved model would.

    from random_model import random_responder
    with FakeOpenAIServer(random_responder(seed=3)) as server: ...

Printable ASCII only (plus the newline the DML tags need). To keep answers finite, the stop
token is taken when allowed past a few bytes, and past `soft_limit` bytes the bytes that close
strings, objects, arrays and text runs (`"`, `}`, `]`, `<`) are strongly preferred.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from typing import Any

import xgrammar as xgr

from scripted_model import constraint_of

_VOCAB = [bytes([i]) for i in range(256)] + [b"</s>"]
_STOP = 256
_PRINTABLE = [i for i in range(32, 127)] + [10]
_CLOSERS = {ord(c) for c in '"}]<'}


class RandomModel:
    def __init__(self, seed: int = 0, soft_limit: int = 160):
        self.info = xgr.TokenizerInfo(_VOCAB, xgr.VocabType.RAW, stop_token_ids=[_STOP])
        self.compiler = xgr.GrammarCompiler(self.info, cache_enabled=True)
        self.seed = seed
        self.soft_limit = soft_limit
        self.lock = threading.Lock()  # one compiler, requests on several server threads

    def _compiled(self, kind: str, value: Any):
        with self.lock:
            if kind == "grammar":
                return self.compiler.compile_grammar(value)
            return self.compiler.compile_json_schema(json.dumps(value), any_whitespace=False)

    def answer(self, body: dict[str, Any]) -> str:
        kind, value = constraint_of(body)
        if kind is None:
            raise AssertionError("every pipeline request is constrained")
        digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).hexdigest()
        rng = random.Random(f"{self.seed}:{digest}")
        matcher = xgr.GrammarMatcher(self._compiled(kind, value))
        bitmask = xgr.allocate_token_bitmask(1, self.info.vocab_size)
        out = bytearray()
        for _ in range(20_000):
            matcher.fill_next_token_bitmask(bitmask)
            words = bitmask[0].tolist()
            allowed = [i for i in _PRINTABLE + [_STOP] if (words[i // 32] >> (i % 32)) & 1]
            if not allowed:
                raise AssertionError(f"no printable byte allowed after {bytes(out)[-80:]!r}")
            if _STOP in allowed and (len(out) > 24 or allowed == [_STOP]) and rng.random() < 0.5:
                break
            choices = [i for i in allowed if i != _STOP] or [_STOP]
            weights = [60.0 if len(out) > self.soft_limit and i in _CLOSERS else 1.0 for i in choices]
            token = rng.choices(choices, weights)[0]
            if token == _STOP:
                break
            assert matcher.accept_token(token)
            out.append(token)
        return out.decode("ascii")


def random_responder(seed: int = 0):
    model = RandomModel(seed)

    def responder(body: dict[str, Any]) -> dict[str, Any]:
        content = model.answer(body)
        return {"content": content, "prompt_tokens": 100, "completion_tokens": len(content), "finish_reason": "stop"}

    return responder
