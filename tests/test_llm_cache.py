"""ResponseCache (SQLite) on its own and behind OpenAICompatibleClient."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer, closed_port_url, scripted

from funcdex_assets.llm.cache import ResponseCache, cache_key, default_cache_path
from funcdex_assets.llm.client import OpenAICompatibleClient
from funcdex_assets.llm.types import (
    ChatRequest,
    ChatResult,
    Constraint,
    LLMError,
    Sampling,
)

GRAMMAR = 'root ::= "a" | "b"'


def req(i: int = 0, *, stage: str = "scenario", sampling: Sampling | None = None, constraint=None) -> ChatRequest:
    return ChatRequest(
        stage=stage,
        messages=({"role": "user", "content": f"prompt {i}"},),
        sampling=sampling or Sampling(seed=i),
        constraint=constraint,
    )


def client_for(url: str, cache: ResponseCache, **kwargs) -> OpenAICompatibleClient:
    kwargs.setdefault("backoff_s", 0.01)
    return OpenAICompatibleClient([url], "fake-model", cache=cache, **kwargs)


@pytest.fixture
def cache(tmp_path: Path):
    c = ResponseCache(tmp_path / "home" / "llm_cache.sqlite")
    yield c
    c.close()


# ------------------------------------------------------------------ through the client


def test_second_call_is_served_from_cache_without_http(cache: ResponseCache) -> None:
    requests = [req(i) for i in range(6)]
    with FakeOpenAIServer() as server:
        client = client_for(server.url, cache)
        first = client.complete_many(requests)
        assert server.calls == 6
        second = client.complete_many(requests)
        assert server.calls == 6  # zero HTTP calls the second time
    assert all(not r.cached for r in first)
    assert all(r.cached for r in second)
    assert [r.text for r in second] == [r.text for r in first]
    assert [(r.prompt_tokens, r.completion_tokens, r.finish_reason) for r in second] == [
        (r.prompt_tokens, r.completion_tokens, r.finish_reason) for r in first
    ]
    usage = client.usage["scenario"]
    assert usage.calls == 6 and usage.cached == 6 and usage.errors == 0
    # Tokens count what the model was paid for: cached answers add none.
    assert usage.prompt_tokens == sum(r.prompt_tokens for r in first)


def test_cache_hits_need_no_server(cache: ResponseCache) -> None:
    requests = [req(i) for i in range(3)]
    with FakeOpenAIServer() as server:
        client_for(server.url, cache).complete_many(requests)
    results = client_for(closed_port_url(), cache).complete_many(requests)
    assert all(r.cached and r.error is None for r in results)


def test_partial_hits_send_only_the_misses(cache: ResponseCache) -> None:
    with FakeOpenAIServer() as server:
        client = client_for(server.url, cache)
        client.complete_many([req(0), req(1)])
        server.reset()
        results = client.complete_many([req(0), req(5), req(1), req(6)])
    assert [r.cached for r in results] == [True, False, True, False]
    assert sorted(b["messages"][0]["content"] for b in server.requests) == ["prompt 5", "prompt 6"]
    usage = client.usage["scenario"]
    assert (usage.calls, usage.cached, usage.errors) == (4, 2, 0)


@pytest.mark.parametrize(
    "changed",
    [
        replace(req(0), messages=({"role": "user", "content": "prompt 0, reworded"},)),
        replace(req(0), sampling=Sampling(seed=0, temperature=0.1)),
        replace(req(0), sampling=Sampling(seed=1)),
        replace(req(0), sampling=Sampling(seed=0, max_tokens=64)),
        replace(req(0), sampling=Sampling(seed=0, top_p=0.5)),
        replace(req(0), constraint=Constraint("grammar", GRAMMAR)),
        replace(req(0), constraint=Constraint("json_schema", {"type": "object"})),
    ],
    ids=["prompt", "temperature", "seed", "max_tokens", "top_p", "grammar", "json_schema"],
)
def test_a_different_request_misses(cache: ResponseCache, changed: ChatRequest) -> None:
    with FakeOpenAIServer() as server:
        client = client_for(server.url, cache)
        client.complete_many([req(0)])
        [result] = client.complete_many([changed])
    assert server.calls == 2
    assert not result.cached


def test_a_different_grammar_text_misses(cache: ResponseCache) -> None:
    with FakeOpenAIServer() as server:
        client = client_for(server.url, cache)
        client.complete_many([req(0, constraint=Constraint("grammar", GRAMMAR))])
        [result] = client.complete_many([req(0, constraint=Constraint("grammar", GRAMMAR + ' | "c"'))])
    assert server.calls == 2 and not result.cached


def test_cache_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "llm_cache.sqlite"
    requests = [req(i) for i in range(4)]
    with FakeOpenAIServer() as server:
        with ResponseCache(path) as first_cache:
            first = client_for(server.url, first_cache).complete_many(requests)
        with ResponseCache(path) as reopened:
            assert len(reopened) == 4
            again = client_for(server.url, reopened).complete_many(requests)
        assert server.calls == 4
    assert [r.text for r in again] == [r.text for r in first]
    assert all(r.cached for r in again)


def test_errors_are_not_cached(cache: ResponseCache) -> None:
    script = [{"status": 400, "body": "bad grammar"}, {"content": None}]
    with FakeOpenAIServer(scripted(script)) as server:
        client = client_for(server.url, cache, max_in_flight=1)
        results = client.complete_many([req(0), req(1)])
        assert [r.error.reason for r in results if r.error] == ["bad_request", "empty"]
        assert len(cache) == 0
        again = client.complete_many([req(0), req(1)])
    assert server.calls == 4
    assert all(not r.cached and r.error is None for r in again)


# ------------------------------------------------------------------ the key


def test_cache_key_is_stable_and_ignores_the_stage() -> None:
    a = cache_key("m", req(0), "structured_outputs")
    assert a == cache_key("m", req(0), "structured_outputs")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a == cache_key("m", req(0, stage="judge"), "structured_outputs")
    # 1 and 1.0 are the same temperature.
    assert cache_key("m", req(0, sampling=Sampling(temperature=1, seed=0)), "structured_outputs") == cache_key(
        "m", req(0, sampling=Sampling(temperature=1.0, seed=0)), "structured_outputs"
    )


def test_cache_key_depends_on_model_grammar_field_and_schema() -> None:
    base = cache_key("m", req(0), "structured_outputs")
    assert cache_key("other-model", req(0), "structured_outputs") != base
    assert cache_key("m", req(0), "guided_grammar") != base
    s1 = req(0, constraint=Constraint("json_schema", {"type": "object", "required": ["a"]}))
    s2 = req(0, constraint=Constraint("json_schema", {"type": "object", "required": ["b"]}))
    assert cache_key("m", s1, "structured_outputs") != cache_key("m", s2, "structured_outputs")
    # Same schema, keys in another order: same key (canonical JSON).
    s3 = req(0, constraint=Constraint("json_schema", {"required": ["a"], "type": "object"}))
    assert cache_key("m", s1, "structured_outputs") == cache_key("m", s3, "structured_outputs")
    # A grammar and a JSON Schema with the same text are different constraints.
    g = req(0, constraint=Constraint("grammar", "x"))
    j = req(0, constraint=Constraint("json_schema", "x"))  # type: ignore[arg-type]
    assert cache_key("m", g, "structured_outputs") != cache_key("m", j, "structured_outputs")


# ------------------------------------------------------------------ the store


def test_store_basics(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "cache.sqlite"
    with ResponseCache(path) as c:
        assert path.exists()
        assert len(c) == 0
        assert c.get("missing") is None
        c.put("k1", "persona", "m", ChatResult(text="hi", prompt_tokens=3, completion_tokens=2, finish_reason="stop"))
        c.put("k1", "persona", "m", ChatResult(text="hi again", prompt_tokens=3, completion_tokens=4))
        assert len(c) == 1
        assert c.get("k1") == ChatResult(text="hi again", prompt_tokens=3, completion_tokens=4, cached=True)
        with pytest.raises(ValueError):
            c.put("k2", "persona", "m", ChatResult(text=None, error=LLMError("timeout", "slow")))
    with pytest.raises(RuntimeError, match="closed"):
        c.get("k1")
    c.close()  # closing twice is fine


def test_store_is_wal_with_the_documented_columns(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with ResponseCache(path) as c:
        c.put("k", "judge", "m", ChatResult(text="t", prompt_tokens=1, completion_tokens=1, finish_reason="stop"))
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            columns = [row[1] for row in conn.execute("PRAGMA table_info(responses)")]
            row = conn.execute("SELECT stage, model, text, created FROM responses WHERE key = 'k'").fetchone()
        finally:
            conn.close()
    assert columns == [
        "key", "stage", "model", "text", "prompt_tokens", "completion_tokens", "finish_reason", "created"
    ]
    assert row[:3] == ("judge", "m", "t") and row[3] > 0


def test_store_is_safe_from_several_threads(cache: ResponseCache) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                key = f"{t}-{i}"
                cache.put(key, "s", "m", ChatResult(text=key))
                assert cache.get(key).text == key
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 400


def test_default_cache_path(tmp_path: Path) -> None:
    assert default_cache_path(tmp_path) == tmp_path / "llm_cache.sqlite"
