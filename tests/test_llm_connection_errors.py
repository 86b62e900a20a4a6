"""Connection failures told apart, over real sockets: what the client does and what it says.

Refused / unresolvable: the replica is not there (next replica at once; none left: the run stops).
Cut mid-response, timed out, TLS: a failed attempt of that request (retried, then an error result).
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fake_openai_server import FakeOpenAIServer, closed_port_url, delayed

from funcdex_assets.llm.client import OpenAICompatibleClient
from funcdex_assets.llm.connection_errors import ConnectionFailure, cause_chain, classify, explain
from funcdex_assets.llm.types import ChatRequest, LLMUnavailableError

SECRET = "sk-test-connection-secret"


def req(i: int = 0) -> ChatRequest:
    return ChatRequest(stage="scenario", messages=({"role": "user", "content": f"question {i}"},))


def make_client(urls, **kwargs) -> OpenAICompatibleClient:
    kwargs.setdefault("backoff_s", 0.01)
    kwargs.setdefault("timeout_s", 10)
    return OpenAICompatibleClient([urls] if isinstance(urls, str) else urls, "fake-model", **kwargs)


@contextmanager
def unaccepting_listener() -> Iterator[str]:
    """A base URL whose port listens but never accepts, with its backlog already full: the
    kernel drops further SYNs, so a client waits out its connect timeout."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        address = server.getsockname()
        for _ in range(8):  # fill the accept queue; the first probe that cannot connect proves it full
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.settimeout(0.2)
            held.append(probe)
            try:
                probe.connect(address)
            except (TimeoutError, socket.timeout):
                break
        else:
            pytest.skip("this kernel accepts connections beyond a full backlog")
        yield f"http://127.0.0.1:{address[1]}/v1"
    finally:
        for sock in held:
            sock.close()
        server.close()


# ------------------------------------------------------------------ the replica is not there


def test_a_port_nothing_listens_on_is_refused_and_stops_the_run_with_the_fix() -> None:
    url = closed_port_url()
    client = make_client(url, max_retries=1, api_key=SECRET)
    with pytest.raises(LLMUnavailableError) as info:
        client.complete_many([req()])
    message = str(info.value)
    assert info.value.reason == "connection_refused"
    assert f"{url} refused the connection" in message and "Errno" in message
    assert "vllm serve" in message and "FUNCDEX_LLM_BASE_URLS" in message and "--llm-url" in message
    assert SECRET not in message


@pytest.fixture
def invalid_names_do_not_resolve(monkeypatch) -> None:
    """The OS resolver, answering for `*.invalid` locally (as a real resolver would, NXDOMAIN),
    so that these tests need no network."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.usefixtures("invalid_names_do_not_resolve")
def test_a_name_that_does_not_resolve_is_dns_and_fails_over_at_once() -> None:
    unresolvable = "http://llm-box.invalid:8000/v1"
    with FakeOpenAIServer() as alive:
        client = make_client([unresolvable, alive.url], max_retries=0)
        results = client.complete_many([req(i) for i in range(4)])
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(4)]
    assert alive.calls == 4  # no retry spent: max_retries=0 and every request answered

    with pytest.raises(LLMUnavailableError) as info:
        make_client([unresolvable], max_retries=0).complete_many([req()])
    assert info.value.reason == "dns"
    assert f"the host name of {unresolvable} does not resolve" in str(info.value)
    assert "typos" in str(info.value)


@pytest.mark.usefixtures("invalid_names_do_not_resolve")
def test_replicas_missing_in_different_ways_are_unreachable_naming_each() -> None:
    refused = closed_port_url()
    with pytest.raises(LLMUnavailableError) as info:
        make_client(["http://gone.invalid:8000/v1", refused], max_retries=0).complete_many([req()])
    message = str(info.value)
    assert info.value.reason == "unreachable"
    assert "gone.invalid:8000/v1 does not resolve" in message and f"{refused} refused the connection" in message


# ------------------------------------------------------------------ a failed attempt of one request


def test_a_server_that_closes_the_connection_after_reading_the_request_is_retried_not_unreachable() -> None:
    with FakeOpenAIServer(lambda body: {"drop": True}) as server:
        client = make_client(server.url, max_retries=2)
        [result] = client.complete_many([req()])
    assert server.calls == 3  # every attempt reached the server: the same request, retried
    assert result.text is None and result.error is not None
    assert result.error.reason == "connection_reset"
    message = result.error.message
    assert f"{server.url} closed the connection before answering" in message
    assert "log" in message and "out-of-memory" in message and "--max-in-flight" in message
    assert "(after 3 attempts)" in message
    assert "refused" not in message and "vllm serve" not in message


def test_a_cut_connection_moves_the_retry_to_another_replica() -> None:
    with FakeOpenAIServer(lambda body: {"drop": True}) as flaky, FakeOpenAIServer() as healthy:
        client = make_client([flaky.url, healthy.url], max_retries=1)
        results = client.complete_many([req(i) for i in range(4)])
    assert all(r.error is None for r in results)
    assert flaky.calls == 2 and healthy.calls == 4  # the two sent to flaky were cut, then answered by healthy


def test_a_server_that_never_answers_is_a_read_timeout_naming_the_option() -> None:
    with FakeOpenAIServer(delayed(5.0)) as server:
        client = make_client(server.url, timeout_s=0.2, max_retries=0)
        [result] = client.complete_many([req()])
    assert server.calls == 1
    assert result.error is not None and result.error.reason == "timeout"
    message = result.error.message
    assert f"no answer from {server.url} within 0.2 s (read timeout)" in message
    assert "--request-timeout" in message and "FUNCDEX_LLM_REQUEST_TIMEOUT" in message


def test_a_host_that_never_accepts_is_a_connect_timeout() -> None:
    with unaccepting_listener() as url:
        client = make_client(url, timeout_s=0.3, max_retries=0)
        [result] = client.complete_many([req()])
    assert result.error is not None and result.error.reason == "timeout"
    assert f"no connection to {url} within 0.3 s (connect timeout)" in result.error.message
    assert "firewall" in result.error.message


def test_https_to_a_server_that_does_not_speak_tls_is_a_tls_error() -> None:
    # The fake server speaks plain HTTP: to a TLS client its answer to the ClientHello is garbage.
    with FakeOpenAIServer() as server:
        url = server.url.replace("http://", "https://")
        client = make_client(url, max_retries=1)
        [result] = client.complete_many([req()])
    assert server.calls == 0  # the request never got through
    assert result.error is not None and result.error.reason == "tls"
    message = result.error.message
    assert f"the TLS handshake with {url} failed" in message and "SSL" in message
    assert "http://" in message and "SSL_CERT_FILE" in message


# ------------------------------------------------------------------ the classification itself


def _raised(outer: BaseException, *causes: BaseException) -> BaseException:
    """`outer` raised from causes[0], raised from causes[1], ... as real `raise ... from` would."""
    chain = [outer, *causes]
    for upper, lower in zip(chain, chain[1:]):
        upper.__cause__ = lower
    return outer


def test_classify_an_untrusted_certificate_and_errno_only_errors() -> None:
    cert = _raised(RuntimeError("ConnectError"), ssl.SSLCertVerificationError(1, "certificate verify failed"))
    assert classify(cert).kind == "tls"
    assert classify(_raised(RuntimeError("x"), OSError(errno.ECONNRESET, "reset"))).kind == "connection_reset"
    assert classify(_raised(RuntimeError("x"), OSError(errno.EPIPE, "broken pipe"))).kind == "connection_reset"
    unreachable = classify(_raised(RuntimeError("x"), OSError(errno.EHOSTUNREACH, "No route to host")))
    assert unreachable == ConnectionFailure("connection_refused", True, "[Errno 113] No route to host")
    assert classify(_raised(RuntimeError("x"), OSError(errno.ETIMEDOUT, "timed out"))).kind == "timeout"
    # Both addresses of a host refused (anyio groups them).
    group = ExceptionGroup("multiple connection attempts failed",
                           [ConnectionRefusedError(errno.ECONNREFUSED, "refused v6"),
                            ConnectionRefusedError(errno.ECONNREFUSED, "refused v4")])
    assert classify(_raised(OSError("All connection attempts failed"), group)).replica_missing
    assert classify(RuntimeError("something else")).kind == "connection_reset"


def test_cause_chain_follows_suppressed_context_and_wrapped_arguments() -> None:
    inner = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    wrapped = RuntimeError(inner)  # httpcore wraps the OS error as its argument
    try:
        try:
            raise wrapped
        except RuntimeError:
            raise ValueError("mapped") from None
    except ValueError as exc:
        assert cause_chain(exc) == [exc, wrapped, inner]


def test_every_kind_explains_what_and_a_fix_naming_the_url() -> None:
    url = "http://gpu:8000/v1"
    for kind in ("connection_refused", "dns", "tls", "connection_reset"):
        what, fix = explain(ConnectionFailure(kind, kind != "connection_reset", "detail"), url,  # type: ignore[arg-type]
                            timeout_s=600, connect_timeout_s=10)
        assert url in what and fix
    what, fix = explain(ConnectionFailure("timeout", True, ""), url, timeout_s=600, connect_timeout_s=10)
    assert "within 10 s (connect timeout)" in what
    what, fix = explain(ConnectionFailure("timeout", False, ""), url, timeout_s=600, connect_timeout_s=10)
    assert "within 600 s (read timeout)" in what and "--request-timeout" in fix
