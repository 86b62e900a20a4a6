"""`ChatClient` for vLLM or any OpenAI-compatible server, over HTTP.

`complete_many` is synchronous (Dagster asset code calls it) and runs the requests of one call
concurrently on its own event loop: at most `max_in_flight` at a time across all replicas,
spread round robin over `base_urls`. Each request:

1. is answered from the cache when its key is there (no HTTP call, `cached=True`);
2. is sent, and on a timeout, a connection cut mid-request, a TLS failure, 408, 429 or 5xx retried
   up to `max_retries` times with exponential backoff and jitter (`Retry-After` honoured,
   capped); a replica that refuses the connection or whose name does not resolve is skipped at
   once for the next one (`connection_errors.py` tells these apart);
3. when answered, is stored in the cache at once (so finished work survives any later failure).

401/403 (a wrong key) and 404 (a wrong model name or path) raise `LLMUnavailableError`, since every
request would fail alike; other 4xx are `LLMError("bad_request")` results. If a request's last
attempt finds no replica there (refused or unresolvable), `LLMUnavailableError` is raised naming
every URL tried and the fix. A request whose retries all fail otherwise is a result with an
`LLMError` whose reason says how (`timeout`, `connection_reset`, `tls`, `server_error`, ...) and
whose message names the URL and the fix.

While a batch has requests outstanding, a progress line (stage, rows done / total, requests in
flight, retries so far, completion tokens per second) goes to the `funcdex_assets.progress`
logger at INFO every `progress_interval_s` (10 s): a server that stalls shows as a line that
stops moving, not as silence for timeout x retries.

Constraints are the extra body fields `{"structured_outputs": {"grammar"|"json": ...}}` (vLLM
>= 0.10.2) or, with `grammar_field="guided_grammar"` for older servers, `guided_grammar` /
`guided_json` (removed in vLLM 0.12, where they are silently ignored).

Requests go through the official SDK (`openai.AsyncOpenAI`, its auth, timeouts, connection
pooling and error types) but via its generic `post("/chat/completions", body=...)` rather than
`chat.completions.create(..., extra_body=...)`: the body is the same, and skipping the typed
layer's parameter transform and response models saves ~30 % of the client's CPU per request.

The API key is never logged nor put in a message or `description`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import openai

from funcdex_assets.llm.cache import ResponseStore, cache_key
from funcdex_assets.llm.connection_errors import BASE_URLS_ENV, ConnectionFailure, classify, explain
from funcdex_assets.llm.types import (
    ChatRequest,
    ChatResult,
    Constraint,
    LLMError,
    LLMUnavailableError,
    StageUsage,
)

log = logging.getLogger(__name__)
PROGRESS_LOGGER = "funcdex_assets.progress"
progress_log = logging.getLogger(PROGRESS_LOGGER)

GrammarField = Literal["structured_outputs", "guided_grammar"]

MAX_BACKOFF_S = 60.0  # cap on one exponential-backoff wait
MAX_RETRY_AFTER_S = 120.0  # cap on a server's Retry-After
MAX_CONNECT_TIMEOUT_S = 10.0  # a replica that does not accept a connection in 10 s is down
DOWN_FOR_S = 10.0  # after a refused connection, try a replica last for this long
PROGRESS_INTERVAL_S = 10.0  # between progress lines of a batch still waiting for answers
MAX_SERVER_TEXT = 2000  # characters of a server's error body kept in a message
# vLLM ignores the key unless started with --api-key; the SDK refuses an empty one. A
# placeholder (not $OPENAI_API_KEY) so that a real OpenAI key is never sent to a local server.
NO_API_KEY = "EMPTY"
CONNECTIONS_PER_POOL = 16  # in-flight requests per SDK client (see _make_clients)

_ssl_context: ssl.SSLContext | None = None


def _shared_ssl_context() -> ssl.SSLContext:
    """One verifying default context per process (only used if a http:// URL redirects to https)."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


def constraint_body(constraint: Constraint | None, grammar_field: GrammarField) -> dict[str, Any]:
    """The `extra_body` fields that carry a structured-output constraint."""
    if constraint is None:
        return {}
    if constraint.kind == "grammar":
        if grammar_field == "structured_outputs":
            return {"structured_outputs": {"grammar": constraint.value}}
        return {"guided_grammar": constraint.value}
    if constraint.kind == "json_schema":
        if grammar_field == "structured_outputs":
            return {"structured_outputs": {"json": constraint.value}}
        return {"guided_json": constraint.value}
    raise ValueError(f"unknown constraint kind {constraint.kind!r}")


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds a 429/503 asks us to wait: `retry-after-ms`, `Retry-After` seconds or HTTP date."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Unreachable(Exception):
    """Internal: on its last attempt, this request found no replica there (refused / no DNS)."""

    def __init__(self, tried: list[tuple[str, ConnectionFailure]]) -> None:
        super().__init__("; ".join(url for url, _ in tried))
        self.tried = tried


@dataclass
class BatchProgress:
    """Where one `complete_many` call stands; updated by its requests, read by the progress line."""

    stage: str  # the batch's stage(s), e.g. "conversation" or "persona+judge"
    total: int
    done: int = 0  # answered, failed for good, or from the cache
    in_flight: int = 0  # sent and not yet answered
    retries: int = 0  # attempts after a request's first
    completion_tokens: int = 0  # of the answers received so far


def progress_line(progress: BatchProgress, elapsed_s: float) -> str:
    """One line for a person watching a run: "conversation: 12/64 rows done, 8 in flight,
    3 retries, 412.5 completion tokens/s (after 95 s)". `elapsed_s`: since the batch began."""
    rate = progress.completion_tokens / elapsed_s if elapsed_s > 0 else 0.0
    retries = "1 retry" if progress.retries == 1 else f"{progress.retries} retries"
    return (f"{progress.stage}: {progress.done}/{progress.total} rows done, {progress.in_flight} in flight, "
            f"{retries}, {rate:.1f} completion tokens/s (after {elapsed_s:.0f} s)")


class OpenAICompatibleClient:
    """Answers `ChatRequest`s through one or more OpenAI-compatible servers (vLLM replicas)."""

    def __init__(
        self,
        base_urls: Sequence[str],
        model: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 600,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_in_flight: int = 64,
        grammar_field: GrammarField = "structured_outputs",
        cache: ResponseStore | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        if isinstance(base_urls, str):
            base_urls = [base_urls]
        urls = [u.strip().rstrip("/") for u in base_urls if u and u.strip()]
        if not urls:
            raise ValueError(f"no LLM base URL given: set {BASE_URLS_ENV} (e.g. http://localhost:8000/v1)")
        if grammar_field not in ("structured_outputs", "guided_grammar"):
            raise ValueError(f"grammar_field must be 'structured_outputs' or 'guided_grammar', not {grammar_field!r}")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        if progress_interval_s <= 0:
            raise ValueError("progress_interval_s must be > 0")
        self.base_urls: tuple[str, ...] = tuple(urls)
        self.model = model
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_in_flight = int(max_in_flight)
        self.grammar_field: GrammarField = grammar_field
        self.cache = cache
        self.progress_interval_s = float(progress_interval_s)
        self.usage: dict[str, StageUsage] = {}
        self.description = f"{', '.join(self.base_urls)} (model {model})"
        self._api_key = api_key or NO_API_KEY
        self._down_until: dict[int, float] = {}  # replica index -> monotonic time
        # Injected in tests to record waits instead of sleeping them.
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient({self.description})"

    # ---------------------------------------------------------------- public

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[ChatResult]:
        """Answer every request; results in request order. Raises only `LLMUnavailableError`."""
        batch = list(requests)
        if not batch:
            return []
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._complete_all(batch))
        # Called from code already inside an event loop (a notebook, an async op): asyncio.run
        # cannot nest, so run our own loop on a private thread and wait for it.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="funcdex-llm") as pool:
            return pool.submit(asyncio.run, self._complete_all(batch)).result()

    # -------------------------------------------------------------- internals

    def _record(self, request: ChatRequest, result: ChatResult) -> ChatResult:
        self.usage.setdefault(request.stage, StageUsage()).add(result)
        return result

    def _scrub(self, text: str) -> str:
        if self._api_key and self._api_key != NO_API_KEY:
            text = text.replace(self._api_key, "***")
        return text

    def _make_clients(self) -> list[list[openai.AsyncOpenAI]]:
        """`clients[replica][shard]`, made per call: their connection pools belong to its loop.

        A replica's requests are spread over several SDK clients ("shards") because the HTTP
        pool's bookkeeping costs grow with the connections it holds (measured: ~15 % less CPU
        per request at 64 in flight with 16 connections a pool).
        """
        timeout = openai.Timeout(self.timeout_s, connect=self._connect_timeout_s())
        shards = self._shards_per_replica()
        per_pool = -(-self.max_in_flight // (len(self.base_urls) * shards)) + 1
        # openai re-exports its HTTP library's Limits (httpx or httpx2) only as this default.
        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
            max_connections=max(per_pool, 100), max_keepalive_connections=max(per_pool, 20)
        )
        clients = []
        for url in self.base_urls:
            http_kwargs: dict[str, Any] = {"limits": limits, "timeout": timeout}
            if url.startswith("http://"):
                # No TLS to set up, but every HTTP client would load the CA store (~20 ms): share one.
                http_kwargs["verify"] = _shared_ssl_context()
            clients.append(
                [
                    openai.AsyncOpenAI(
                        base_url=url,
                        api_key=self._api_key,
                        max_retries=0,
                        timeout=timeout,
                        http_client=openai.DefaultAsyncHttpxClient(**http_kwargs),
                    )
                    for _ in range(shards)
                ]
            )
        return clients

    def _shards_per_replica(self) -> int:
        return max(1, -(-self.max_in_flight // (CONNECTIONS_PER_POOL * len(self.base_urls))))

    def _request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body: what `chat.completions.create(..., extra_body=...)` would send."""
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "temperature": sampling.temperature,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.top_p is not None:
            body["top_p"] = sampling.top_p
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        body.update(constraint_body(request.constraint, self.grammar_field))
        return body

    def _backoff(self, attempt: int) -> float:
        """Wait before retry number `attempt` (1-based): exponential, +-50% jitter."""
        base = min(MAX_BACKOFF_S, self.backoff_s * (2 ** (attempt - 1)))
        return base * random.uniform(0.5, 1.5)

    def _replica_order(self, start: int) -> list[int]:
        """Replicas to try, starting at `start`; ones that recently refused a connection go last."""
        n = len(self.base_urls)
        order = [(start + k) % n for k in range(n)]
        now = time.monotonic()
        up = [r for r in order if self._down_until.get(r, 0.0) <= now]
        return up + [r for r in order if r not in up]

    async def _complete_all(self, batch: list[ChatRequest]) -> list[ChatResult]:
        results: list[ChatResult | None] = [None] * len(batch)
        keys: list[str | None] = [None] * len(batch)
        pending: list[int] = []
        progress = BatchProgress("+".join(dict.fromkeys(r.stage for r in batch)), len(batch))
        for i, req in enumerate(batch):
            if self.cache is not None:
                keys[i] = cache_key(self.model, req, self.grammar_field)
                hit = self.cache.get(keys[i])
                if hit is not None:
                    results[i] = self._record(req, hit)
                    progress.done += 1
                    continue
            pending.append(i)
        if pending:
            clients = self._make_clients()
            semaphore = asyncio.Semaphore(self.max_in_flight)
            reporter = asyncio.create_task(self._report_progress(progress))
            try:
                tasks = [
                    asyncio.create_task(self._complete_one(i, batch[i], keys[i], clients, semaphore, progress))
                    for i in pending
                ]
                try:
                    answers = await asyncio.gather(*tasks)
                except BaseException:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    raise
                for i, answer in zip(pending, answers):
                    results[i] = answer
            finally:
                reporter.cancel()
                await asyncio.gather(reporter, return_exceptions=True)
                await asyncio.gather(*(c.close() for pool in clients for c in pool), return_exceptions=True)
        return [r for r in results if r is not None]

    async def _report_progress(self, progress: BatchProgress) -> None:
        """Log a progress line every `progress_interval_s` until cancelled (when the batch ends)."""
        started = time.monotonic()
        while True:
            # The real sleep, not `self._sleep`: tests replace that one to skip retry waits.
            await asyncio.sleep(self.progress_interval_s)
            progress_log.info(progress_line(progress, time.monotonic() - started))

    async def _complete_one(
        self,
        index: int,
        request: ChatRequest,
        key: str | None,
        clients: list[list[openai.AsyncOpenAI]],
        semaphore: asyncio.Semaphore,
        progress: BatchProgress,
    ) -> ChatResult:
        try:
            result = await self._send_with_retries(index, request, clients, semaphore, progress)
        except _Unreachable as exc:
            raise self._unavailable(exc.tried) from None
        if result.error is None and self.cache is not None and key is not None:
            self.cache.put(key, request.stage, self.model, result)
        progress.done += 1
        progress.completion_tokens += result.completion_tokens
        return self._record(request, result)

    def _explain(self, failure: ConnectionFailure, url: str) -> tuple[str, str]:
        return explain(failure, url, timeout_s=self.timeout_s, connect_timeout_s=self._connect_timeout_s())

    def _connect_timeout_s(self) -> float:
        return min(self.timeout_s, MAX_CONNECT_TIMEOUT_S)

    def _unavailable(self, tried: list[tuple[str, ConnectionFailure]]) -> LLMUnavailableError:
        """The run-stopping error when no replica is there: what each URL did, then each fix once."""
        attempts = self.max_retries + 1
        explained = [self._explain(failure, url) for url, failure in tried]
        fixes = list(dict.fromkeys(fix for _, fix in explained))
        kinds = {failure.kind for _, failure in tried}
        message = self._scrub(
            f"cannot reach any LLM server (model {self.model}) after {attempts} attempt(s): "
            + "; ".join(what for what, _ in explained)
            + ". "
            + " ".join(fixes)
            + (" Finished answers are in the response cache." if self.cache is not None else "")
        )
        return LLMUnavailableError(message, reason=kinds.pop() if len(kinds) == 1 else "unreachable")

    # Retries are a small explicit loop rather than tenacity: each attempt has to choose the
    # replica (fail over at once when one is not there, without counting a retry), pick its
    # wait from the server's Retry-After, and tell "unreachable" apart from other failures;
    # in one loop all three stay readable, and the project needs no extra dependency.
    async def _send_with_retries(
        self,
        index: int,
        request: ChatRequest,
        clients: list[list[openai.AsyncOpenAI]],
        semaphore: asyncio.Semaphore,
        progress: BatchProgress,
    ) -> ChatResult:
        body = self._request_body(request)
        attempts = self.max_retries + 1
        last_error: LLMError | None = None
        wait = 0.0
        for attempt in range(attempts):
            if attempt:
                await self._sleep(wait)
                progress.retries += 1
            missing: list[tuple[str, ConnectionFailure]] = []
            for replica in self._replica_order(index + attempt):
                url = self.base_urls[replica]
                try:
                    pool = clients[replica]
                    async with semaphore:
                        progress.in_flight += 1
                        try:
                            # `post` is the SDK's documented way to send a body as is (see the
                            # module docstring); errors, auth and timeouts are the SDK's as usual.
                            data = await pool[(index // len(clients)) % len(pool)].post(
                                "/chat/completions", body=body, cast_to=object
                            )
                        finally:
                            progress.in_flight -= 1
                except openai.APIConnectionError as exc:  # timeouts too (APITimeoutError)
                    failure = classify(exc)
                    if failure.replica_missing:
                        missing.append((url, failure))
                        self._down_until[replica] = time.monotonic() + DOWN_FOR_S
                        continue  # next replica, same attempt
                    what, fix = self._explain(failure, url)
                    last_error = LLMError(failure.kind, f"{what}. {fix}")
                    wait = self._backoff(attempt + 1)
                    break
                except openai.APIStatusError as exc:
                    status = exc.status_code
                    text = self._server_text(exc)
                    if status == 429:
                        last_error = LLMError("rate_limited", f"HTTP 429 from {url}: {text}")
                        after = retry_after_seconds(exc.response.headers)
                        wait = min(after, MAX_RETRY_AFTER_S) if after is not None else self._backoff(attempt + 1)
                    elif status >= 500 or status == 408:
                        reason = "timeout" if status == 408 else "server_error"
                        last_error = LLMError(reason, f"HTTP {status} from {url}: {text}")
                        after = retry_after_seconds(exc.response.headers) if status == 503 else None
                        wait = min(after, MAX_RETRY_AFTER_S) if after is not None else self._backoff(attempt + 1)
                    elif status in (401, 403):
                        # Every request would fail the same way: stop the run with the fix.
                        raise LLMUnavailableError(self._scrub(
                            f"HTTP {status} from {url}: the server refused the API key ({text}). "
                            "Set FUNCDEX_LLM_API_KEY to the key the server expects."), reason="unauthorized")
                    elif status == 404:
                        raise LLMUnavailableError(self._scrub(
                            f"HTTP 404 from {url}: {text}. Check the model name (`vllm serve <model>` serves it "
                            f"under that name; GET {url.rstrip('/')}/models lists them) and that the URL ends in /v1."),
                            reason="not_found")
                    else:
                        return ChatResult(text=None, error=LLMError("bad_request", f"HTTP {status} from {url}: {text}"))
                    break
                else:
                    self._down_until.pop(replica, None)
                    return self._to_result(data, url)
            else:
                # No replica was there in this attempt.
                if attempt == attempts - 1:
                    raise _Unreachable(missing)
                explained = [self._explain(failure, url) for url, failure in missing]
                kinds = {failure.kind for _, failure in missing}
                last_error = LLMError(kinds.pop() if len(kinds) == 1 else "connection_refused",
                                      "; ".join(what for what, _ in explained) + ". " + explained[0][1])
                wait = self._backoff(attempt + 1)
                continue
            log.debug("retrying %s request %d after %s (wait %.2f s)", request.stage, index, last_error.reason, wait)
        assert last_error is not None
        return ChatResult(
            text=None,
            error=LLMError(last_error.reason, self._scrub(f"{last_error.message} (after {attempts} attempts)")),
        )

    def _server_text(self, exc: openai.APIStatusError) -> str:
        try:
            text = exc.response.text
        except Exception:  # a streamed / unread body
            text = ""
        if not text:
            text = exc.message or ""
        text = text.strip()
        if len(text) > MAX_SERVER_TEXT:
            text = text[:MAX_SERVER_TEXT] + "..."
        return self._scrub(text)

    def _to_result(self, data: Any, url: str) -> ChatResult:
        if not isinstance(data, dict):
            return ChatResult(
                text=None,
                error=LLMError(
                    "bad_response", self._scrub(f"not a chat completion from {url}: {str(data)[:MAX_SERVER_TEXT]!r}")
                ),
            )
        choices = data.get("choices") or []
        choice = choices[0] if choices and isinstance(choices[0], dict) else {}
        message = choice.get("message") or {}
        text = message.get("content") if isinstance(message, dict) else None
        finish_reason = choice.get("finish_reason")
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        if not text or not isinstance(text, str):
            return ChatResult(
                text=None,
                error=LLMError("empty", f"empty answer from {url} (finish_reason={finish_reason})"),
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                finish_reason=finish_reason,
            )
        return ChatResult(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
        )
