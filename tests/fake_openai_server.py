"""A scripted local server speaking the OpenAI chat-completions protocol, for tests and benchmarks.

    from fake_openai_server import FakeOpenAIServer, scripted

    with FakeOpenAIServer(scripted([{"status": 429, "headers": {"Retry-After": "0"}},
                                    {"content": "hi"}])) as server:
        client = OpenAICompatibleClient([server.url], "fake-model", backoff_s=0.01)
        ...
        assert server.requests[0]["model"] == "fake-model"

Serves `POST /v1/chat/completions` and `GET /v1/models` on 127.0.0.1 (ephemeral port), one
thread per connection, HTTP/1.1 keep-alive. Every chat request body (parsed JSON) is recorded
in `server.requests`, in arrival order; `server.max_concurrency` is the most chat requests
being processed at once (counted from body received until the answer is about to be written,
so it never exceeds what the client had in flight).

A responder `responder(body) -> dict` decides each answer:

- `{"content": str | None, "prompt_tokens": int, "completion_tokens": int, "finish_reason": "stop"}`
  -> a 200 chat completion (missing keys get defaults; `content: None` tests empty answers);
- `{"status": 429|500|..., "headers": {...}, "body": dict | str}` -> that error response
  (default body: an OpenAI-style `{"error": {...}}`);
- `{"sleep": seconds, ...}` -> wait, then answer per the other keys (a plain answer if none);
- `{"drop": True}` -> close the connection without answering (a connection error for the client).
- `{"usage": False, ...}` -> a completion without the `usage` object.

`server.go_down()` (callable from a responder) simulates a crash: the port closes.
As a pytest fixture: `from fake_openai_server import fake_server` in a test module.

The responder runs on the connection's thread; several may run at once.
"""

from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

Responder = Callable[[dict[str, Any]], dict[str, Any]]

__all__ = [
    "FakeOpenAIServer",
    "Responder",
    "closed_port_url",
    "default_responder",
    "delayed",
    "fake_openai_server",
    "fake_server",
    "scripted",
]


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def default_responder(body: dict[str, Any]) -> dict[str, Any]:
    """Echo the last user message; token counts are word counts (never zero)."""
    prompt = " ".join(str(m.get("content", "")) for m in body.get("messages") or [])
    text = "echo: " + _last_user_text(body)
    return {
        "content": text,
        "prompt_tokens": max(1, len(prompt.split())),
        "completion_tokens": max(1, len(text.split())),
        "finish_reason": "stop",
    }


def scripted(answers: Iterable[dict[str, Any]], then: Responder | None = default_responder) -> Responder:
    """Answer with `answers` in arrival order; afterwards with `then` (or a 500 if None).

    Thread-safe: concurrent requests each take the next answer.
    """
    queue = list(answers)
    lock = threading.Lock()
    position = itertools.count()

    def responder(body: dict[str, Any]) -> dict[str, Any]:
        with lock:
            i = next(position)
        if i < len(queue):
            answer = dict(queue[i])
            if not ({"content", "status", "drop"} & answer.keys()) and then is not None:
                # e.g. {"sleep": 0.1}: delay, then the fallback answer.
                answer = {**then(body), **answer}
            return answer
        if then is None:
            return {"status": 500, "body": {"error": {"message": f"script exhausted after {len(queue)} answers"}}}
        return then(body)

    return responder


def delayed(seconds: float, responder: Responder = default_responder) -> Responder:
    """Every answer of `responder`, after `seconds`."""

    def wrapped(body: dict[str, Any]) -> dict[str, Any]:
        return {"sleep": seconds, **responder(body)}

    return wrapped


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (the connection is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout test) closes its socket under a sleeping handler:
        # not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms on Linux) and every answer is that much late.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:
        fake = self.server.fake
        if fake.is_down:
            return self._drop()
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(
                200,
                {"object": "list", "data": [{"id": fake.model, "object": "model", "created": 0, "owned_by": "fake"}]},
            )
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if fake.is_down:
            return self._drop()
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            return self._send_json(400, {"error": {"message": f"invalid JSON: {exc}", "type": "invalid_request"}})
        fake._enter(body, dict(self.headers))
        entered = True
        try:
            try:
                answer = fake.responder(body)
            except Exception as exc:  # a broken responder is a 500, not a hung client
                answer = {"status": 500, "body": {"error": {"message": f"responder failed: {exc!r}"}}}
            delay = float(answer.get("sleep") or 0)
            if delay > 0:
                fake._stopping.wait(delay)
            if answer.get("drop") or fake.is_down:
                fake._leave()
                entered = False
                return self._drop()
            status = int(answer.get("status", 200))
            fake._leave()
            entered = False
            if status != 200:
                payload = answer.get("body")
                if payload is None:
                    payload = {"error": {"message": f"scripted HTTP {status}", "type": "fake_error", "code": status}}
                return self._send_json(status, payload, answer.get("headers"))
            self._send_json(200, fake._completion(body, answer), answer.get("headers"))
        finally:
            if entered:
                fake._leave()


class FakeOpenAIServer:
    """Local OpenAI-compatible chat server; a context manager (start on enter, stop on exit)."""

    def __init__(self, responder: Responder | None = None, *, model: str = "fake-model") -> None:
        self.responder: Responder = responder or default_responder
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # request headers, parallel to `requests`
        self.max_concurrency = 0
        self._active = 0
        self._lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self._stopping = threading.Event()
        self._down = threading.Event()
        self._ids = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (sleeping handlers wake up and drop their answer)."""
        self._stopping.set()
        self._down.set()
        with self._stop_lock:
            httpd, self._httpd = self._httpd, None
            thread, self._thread = self._thread, None
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
            if thread is not None:
                thread.join(timeout=5)

    def go_down(self) -> None:
        """Simulate a crash, callable from a responder: the port closes (new connections are
        refused) and requests on already-open connections are dropped unanswered."""
        self._down.set()
        # stop() waits for serve_forever (another thread), so run it off the handler's thread.
        # Until the port closes (<= one poll interval), new requests are dropped unanswered.
        threading.Thread(target=self.stop, daemon=True).start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read

    @property
    def url(self) -> str:
        """Base URL for an OpenAI client: http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        """Chat requests received so far."""
        with self._lock:
            return len(self.requests)

    @property
    def is_down(self) -> bool:
        return self._down.is_set()

    def reset(self) -> None:
        """Forget recorded requests and the concurrency peak."""
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.max_concurrency = 0

    # -- handler callbacks

    def _enter(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self._active += 1
            self.max_concurrency = max(self.max_concurrency, self._active)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1

    def _completion(self, body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if "content" not in answer:
            answer = {**default_responder(body), **answer}
        content = answer["content"]
        prompt_tokens = int(answer.get("prompt_tokens", 0))
        completion_tokens = int(answer.get("completion_tokens", 0))
        completion: dict[str, Any] = {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": answer.get("finish_reason", "stop"),
                    "logprobs": None,
                }
            ],
        }
        if answer.get("usage", True) is not False:
            completion["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        return completion


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    """Pytest fixture (import it into a test module): a started server with the default
    responder; set `fake_server.responder = ...` to script it."""
    with FakeOpenAIServer() as server:
        yield server


@contextmanager
def fake_openai_server(responder: Responder | None = None, *, model: str = "fake-model") -> Iterator[FakeOpenAIServer]:
    """`with fake_openai_server(responder) as server:` - same as `with FakeOpenAIServer(...)`."""
    with FakeOpenAIServer(responder, model=model) as server:
        yield server
