"""OpenAICompatibleClient against the local scripted server (tests/fake_openai_server.py).

No timing assertions: waits are recorded through the client's injectable `_sleep`, and
concurrency is measured by the server.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time

import pytest
from fake_openai_server import (
    FakeOpenAIServer,
    closed_port_url,
    default_responder,
    delayed,
    fake_server,  # noqa: F401 - pytest fixture
    scripted,
)

from funcdex_assets.llm.client import (
    OpenAICompatibleClient,
    constraint_body,
    retry_after_seconds,
)
from funcdex_assets.llm.types import (
    ChatClient,
    ChatRequest,
    ChatResult,
    Constraint,
    LLMUnavailableError,
    Sampling,
    StageUsage,
)

GRAMMAR = 'root ::= "yes" | "no"'
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
SECRET = "sk-test-very-secret-4242"


def req(i: int = 0, *, stage: str = "scenario", sampling: Sampling | None = None, constraint=None) -> ChatRequest:
    return ChatRequest(
        stage=stage,
        messages=({"role": "system", "content": "be brief"}, {"role": "user", "content": f"question {i}"}),
        sampling=sampling or Sampling(),
        constraint=constraint,
    )


def make_client(urls, **kwargs) -> OpenAICompatibleClient:
    if isinstance(urls, str):
        urls = [urls]
    kwargs.setdefault("backoff_s", 0.01)
    kwargs.setdefault("timeout_s", 10)
    return OpenAICompatibleClient(urls, "fake-model", **kwargs)


class SleepRecorder:
    """Stands in for asyncio.sleep: records each wait, sleeps only a token amount."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


# ------------------------------------------------------------------ what is sent


def test_is_a_chat_client() -> None:
    client = make_client("http://127.0.0.1:9/v1")
    assert isinstance(client.usage, dict)
    _: ChatClient = client  # structural check for type checkers
    assert client.description == "http://127.0.0.1:9/v1 (model fake-model)"


def test_sends_model_messages_and_sampling() -> None:
    with FakeOpenAIServer() as server:
        client = make_client(server.url)
        request = req(3, sampling=Sampling(temperature=0.2, max_tokens=77, top_p=0.9, seed=5))
        [result] = client.complete_many([request])
    assert result.error is None
    [body] = server.requests
    assert body["model"] == "fake-model"
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "question 3"}]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 77
    assert body["top_p"] == 0.9
    assert body["seed"] == 5
    assert "structured_outputs" not in body and "guided_grammar" not in body


def test_omits_unset_top_p_and_seed() -> None:
    with FakeOpenAIServer() as server:
        make_client(server.url).complete_many([req(0, sampling=Sampling(temperature=1.0, max_tokens=10))])
    [body] = server.requests
    assert "seed" not in body and "top_p" not in body
    assert body["temperature"] == 1.0 and body["max_tokens"] == 10


def test_grammar_goes_in_structured_outputs() -> None:
    with FakeOpenAIServer() as server:
        make_client(server.url).complete_many([req(0, constraint=Constraint("grammar", GRAMMAR))])
    [body] = server.requests
    assert body["structured_outputs"] == {"grammar": GRAMMAR}
    assert "guided_grammar" not in body


def test_json_schema_goes_in_structured_outputs() -> None:
    with FakeOpenAIServer() as server:
        make_client(server.url).complete_many([req(0, constraint=Constraint("json_schema", SCHEMA))])
    [body] = server.requests
    assert body["structured_outputs"] == {"json": SCHEMA}
    assert "guided_json" not in body


def test_guided_fields_only_with_the_switch() -> None:
    with FakeOpenAIServer() as server:
        client = make_client(server.url, grammar_field="guided_grammar")
        client.complete_many(
            [req(0, constraint=Constraint("grammar", GRAMMAR)), req(1, constraint=Constraint("json_schema", SCHEMA))]
        )
    by_question = {b["messages"][-1]["content"]: b for b in server.requests}
    grammar_body, json_body = by_question["question 0"], by_question["question 1"]
    assert grammar_body["guided_grammar"] == GRAMMAR
    assert json_body["guided_json"] == SCHEMA
    assert "structured_outputs" not in grammar_body and "structured_outputs" not in json_body


def test_constraint_body_mapping() -> None:
    grammar, schema = Constraint("grammar", GRAMMAR), Constraint("json_schema", SCHEMA)
    assert constraint_body(None, "structured_outputs") == {}
    assert constraint_body(grammar, "structured_outputs") == {"structured_outputs": {"grammar": GRAMMAR}}
    assert constraint_body(schema, "structured_outputs") == {"structured_outputs": {"json": SCHEMA}}
    assert constraint_body(grammar, "guided_grammar") == {"guided_grammar": GRAMMAR}
    assert constraint_body(schema, "guided_grammar") == {"guided_json": SCHEMA}


def test_api_key_is_sent_as_bearer_token() -> None:
    with FakeOpenAIServer() as server:
        make_client(server.url, api_key=SECRET).complete_many([req()])
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"] == f"Bearer {SECRET}"


# ------------------------------------------------------------------ results


def test_result_fields_and_usage_per_stage() -> None:
    answers = [
        {"content": "alpha", "prompt_tokens": 11, "completion_tokens": 3, "finish_reason": "stop"},
        {"content": "beta", "prompt_tokens": 7, "completion_tokens": 5, "finish_reason": "length"},
    ]
    with FakeOpenAIServer(scripted(answers)) as server:
        client = make_client(server.url, max_in_flight=1)
        results = client.complete_many([req(0, stage="persona"), req(1, stage="judge")])
    assert results[0] == ChatResult(text="alpha", prompt_tokens=11, completion_tokens=3, finish_reason="stop")
    assert results[1] == ChatResult(text="beta", prompt_tokens=7, completion_tokens=5, finish_reason="length")
    assert client.usage == {
        "persona": StageUsage(calls=1, prompt_tokens=11, completion_tokens=3),
        "judge": StageUsage(calls=1, prompt_tokens=7, completion_tokens=5),
    }


def test_results_come_back_in_request_order() -> None:
    n = 12

    def responder(body):
        i = int(body["messages"][-1]["content"].split()[-1])
        # Earlier requests answer later, so completion order is the reverse of request order.
        return {"sleep": (n - i) * 0.01, "content": f"answer {i}"}

    with FakeOpenAIServer(responder) as server:
        results = make_client(server.url).complete_many([req(i) for i in range(n)])
    assert [r.text for r in results] == [f"answer {i}" for i in range(n)]


def test_empty_answer_is_an_error() -> None:
    with FakeOpenAIServer(scripted([{"content": None, "prompt_tokens": 4, "completion_tokens": 0}])) as server:
        client = make_client(server.url)
        [result] = client.complete_many([req()])
    assert result.text is None
    assert result.error is not None and result.error.reason == "empty"
    assert client.usage["scenario"].errors == 1


def test_missing_usage_counts_zero_tokens() -> None:
    with FakeOpenAIServer(scripted([{"content": "ok", "usage": False}])) as server:
        [result] = make_client(server.url).complete_many([req()])
    assert result.text == "ok" and result.prompt_tokens == 0 and result.completion_tokens == 0


def test_empty_batch_makes_no_call() -> None:
    assert make_client(closed_port_url()).complete_many([]) == []


def test_repeated_calls_and_call_inside_a_running_loop() -> None:
    with FakeOpenAIServer() as server:
        client = make_client(server.url)
        first = client.complete_many([req(0)])
        second = client.complete_many([req(1)])

        async def from_async_code():
            return client.complete_many([req(2)])

        third = asyncio.run(from_async_code())
    assert [r.text for r in first + second + third] == ["echo: question 0", "echo: question 1", "echo: question 2"]
    assert client.usage["scenario"].calls == 3


# ------------------------------------------------------------------ retries


def test_retries_429_with_retry_after_then_500_then_succeeds() -> None:
    script = [
        {"status": 429, "headers": {"Retry-After": "0.25"}, "body": {"error": {"message": "slow down"}}},
        {"status": 500, "body": "boom"},
        {"content": "finally", "prompt_tokens": 2, "completion_tokens": 1},
    ]
    with FakeOpenAIServer(scripted(script)) as server:
        client = make_client(server.url, max_retries=4)
        client._sleep = sleeps = SleepRecorder()
        [result] = client.complete_many([req()])
    assert result.error is None and result.text == "finally"
    assert server.calls == 3
    assert len(sleeps.waits) == 2
    assert sleeps.waits[0] == 0.25  # Retry-After honoured
    assert 0.01 <= sleeps.waits[1] <= 0.03  # second retry: 2 * backoff_s, +-50% jitter
    assert client.usage["scenario"] == StageUsage(calls=1, prompt_tokens=2, completion_tokens=1)


def test_retry_after_is_capped() -> None:
    script = [{"status": 429, "headers": {"Retry-After": "100000"}}, {"content": "ok"}]
    with FakeOpenAIServer(scripted(script)) as server:
        client = make_client(server.url)
        client._sleep = sleeps = SleepRecorder()
        [result] = client.complete_many([req()])
    assert result.text == "ok"
    assert sleeps.waits == [120.0]


def test_backoff_grows_exponentially() -> None:
    with FakeOpenAIServer(scripted([], then=lambda body: {"status": 503})) as server:
        client = make_client(server.url, max_retries=4, backoff_s=1.0)
        client._sleep = sleeps = SleepRecorder()
        [result] = client.complete_many([req()])
    assert result.error is not None and result.error.reason == "server_error"
    assert server.calls == 5
    assert len(sleeps.waits) == 4
    for k, wait in enumerate(sleeps.waits):
        assert 0.5 * 2**k <= wait <= 1.5 * 2**k


def test_no_retry_on_400() -> None:
    script = [{"status": 400, "body": {"error": {"message": "grammar failed to compile at line 3"}}}]
    with FakeOpenAIServer(scripted(script)) as server:
        client = make_client(server.url)
        [result] = client.complete_many([req()])
    assert server.calls == 1
    assert result.text is None
    assert result.error is not None and result.error.reason == "bad_request"
    assert "400" in result.error.message and "grammar failed to compile at line 3" in result.error.message
    assert client.usage["scenario"].errors == 1


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "server_error"), (502, "server_error"), (429, "rate_limited")]
)
def test_gives_up_after_max_retries(status: int, reason: str) -> None:
    with FakeOpenAIServer(scripted([], then=lambda body: {"status": status, "body": "nope"})) as server:
        client = make_client(server.url, max_retries=2)
        [result] = client.complete_many([req()])
    assert server.calls == 3
    assert result.error is not None and result.error.reason == reason
    assert "3 attempts" in result.error.message and str(status) in result.error.message


def test_timeout_is_retried_then_reported() -> None:
    with FakeOpenAIServer(delayed(5.0)) as server:
        client = make_client(server.url, timeout_s=0.2, max_retries=1)
        [result] = client.complete_many([req()])
    assert server.calls == 2
    assert result.text is None
    assert result.error is not None and result.error.reason == "timeout"


def test_dropped_connection_is_retried() -> None:
    with FakeOpenAIServer(scripted([{"drop": True}, {"content": "second try"}])) as server:
        [result] = make_client(server.url).complete_many([req()])
    assert result.text == "second try"
    assert server.calls == 2


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "0.5"}) == 0.5
    assert retry_after_seconds({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None
    assert retry_after_seconds(None) is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= retry_after_seconds({"Retry-After": date}, now=now) <= 31


# ------------------------------------------------------------------ concurrency and replicas


def test_in_flight_bound_holds_and_requests_are_concurrent() -> None:
    with FakeOpenAIServer(delayed(0.1)) as server:
        client = make_client(server.url, max_in_flight=8)
        results = client.complete_many([req(i) for i in range(40)])
    assert all(r.error is None for r in results)
    assert server.calls == 40
    assert server.max_concurrency == 8


def test_bound_is_shared_across_replicas() -> None:
    # One counter over both servers: the responder itself holds the request for 0.1 s.
    lock, active, peak = threading.Lock(), [0], [0]

    def responder(body):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return default_responder(body)

    with FakeOpenAIServer(responder) as a, FakeOpenAIServer(responder) as b:
        client = make_client([a.url, b.url], max_in_flight=6)
        results = client.complete_many([req(i) for i in range(24)])
    assert all(r.error is None for r in results)
    assert a.calls == 12 and b.calls == 12
    assert peak[0] == 6


def test_requests_spread_round_robin_across_replicas() -> None:
    with FakeOpenAIServer() as a, FakeOpenAIServer() as b:
        client = make_client([a.url, b.url])
        results = client.complete_many([req(i) for i in range(10)])
    assert all(r.error is None for r in results)
    assert a.calls == 5 and b.calls == 5
    assert client.description == f"{a.url}, {b.url} (model fake-model)"


def test_one_replica_down_all_served_by_the_other() -> None:
    with FakeOpenAIServer() as alive:
        client = make_client([closed_port_url(), alive.url])
        results = client.complete_many([req(i) for i in range(10)])
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(10)]
    assert alive.calls == 10


def test_unreachable_endpoint_raises_naming_every_url() -> None:
    dead_a, dead_b = closed_port_url(), closed_port_url()
    client = make_client([dead_a, dead_b], max_retries=2, api_key=SECRET)
    with pytest.raises(LLMUnavailableError) as info:
        client.complete_many([req(i) for i in range(3)])
    message = str(info.value)
    assert dead_a in message and dead_b in message
    assert "vllm serve" in message and "FUNCDEX_LLM_BASE_URLS" in message
    assert SECRET not in message


def test_server_crash_midway_raises_after_caching_finished_answers(tmp_path) -> None:
    from funcdex_assets.llm.cache import ResponseCache, cache_key

    holder: dict[str, FakeOpenAIServer] = {}

    def responder(body):
        if body["messages"][-1]["content"] == "question 2":
            holder["server"].go_down()
            return {"drop": True}
        return {"content": "fine " + body["messages"][-1]["content"], "prompt_tokens": 1, "completion_tokens": 1}

    cache = ResponseCache(tmp_path / "cache.sqlite")
    requests = [req(i) for i in range(4)]
    with FakeOpenAIServer(responder) as server:
        holder["server"] = server
        client = make_client(server.url, max_in_flight=1, max_retries=3, cache=cache)
        with pytest.raises(LLMUnavailableError) as info:
            client.complete_many(requests)
    assert server.url in str(info.value)
    assert len(cache) == 2
    for i in (0, 1):
        hit = cache.get(cache_key("fake-model", requests[i], "structured_outputs"))
        assert hit is not None and hit.text == f"fine question {i}" and hit.cached
    assert client.usage["scenario"].calls == 2
    cache.close()


# ------------------------------------------------------------------ secrets


def test_api_key_never_in_errors_or_description() -> None:
    # A hostile/buggy server echoing the key back must not get it into our messages.
    echo_key = {"status": 400, "body": {"error": {"message": f"bad request from key {SECRET}"}}}
    with FakeOpenAIServer(scripted([echo_key])) as server:
        client = make_client(server.url, api_key=SECRET)
        [result] = client.complete_many([req()])
    assert result.error is not None and result.error.reason == "bad_request"
    assert "400" in result.error.message
    assert SECRET not in result.error.message
    assert SECRET not in client.description and SECRET not in repr(client)

    refused = {"status": 401, "body": {"error": {"message": f"bad key {SECRET}"}}}
    with FakeOpenAIServer(scripted([refused])) as server:
        with pytest.raises(LLMUnavailableError) as info:
            make_client(server.url, api_key=SECRET).complete_many([req()])
    assert "401" in str(info.value) and SECRET not in str(info.value)

    client = make_client(closed_port_url(), api_key=SECRET, max_retries=0)
    with pytest.raises(LLMUnavailableError) as info:
        client.complete_many([req()])
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="FUNCDEX_LLM_BASE_URLS"):
        OpenAICompatibleClient([], "m")
    with pytest.raises(ValueError):
        OpenAICompatibleClient(["http://x/v1"], "m", grammar_field="guided_json")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        OpenAICompatibleClient(["http://x/v1"], "m", max_in_flight=0)


# ------------------------------------------------------------------ the fake server itself


def test_fake_server_fixture_models_endpoint_and_exhausted_script(
    fake_server: FakeOpenAIServer,  # noqa: F811 - the imported fixture
) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{fake_server.url}/models", timeout=5) as response:
        models = json.load(response)
    assert models["data"][0]["id"] == "fake-model"

    fake_server.responder = scripted([{"content": "only one"}], then=None)
    client = make_client(fake_server.url, max_in_flight=1, max_retries=0)
    first, second = client.complete_many([req(0), req(1)])
    assert first.text == "only one"
    assert second.error is not None and second.error.reason == "server_error"
    assert "script exhausted" in second.error.message
    assert fake_server.calls == 2


@pytest.mark.parametrize("status, needle", [(401, "FUNCDEX_LLM_API_KEY"), (404, "model name")])
def test_wrong_key_or_model_stops_the_run_with_the_fix(status, needle):
    from fake_openai_server import FakeOpenAIServer

    from funcdex_assets.llm.client import OpenAICompatibleClient
    from funcdex_assets.llm.types import ChatRequest, LLMUnavailableError

    with FakeOpenAIServer(lambda body: {"status": status}) as server:
        client = OpenAICompatibleClient([server.url], "fake-model", api_key="sk-secret-123", backoff_s=0.01)
        with pytest.raises(LLMUnavailableError) as exc:
            client.complete_many([ChatRequest("judge", ({"role": "user", "content": "x"},))])
    assert needle in str(exc.value) and server.url in str(exc.value) and "sk-secret-123" not in str(exc.value)
