"""What went wrong with a connection to an LLM server, told from the exception's cause chain.

The SDK raises one `openai.APIConnectionError` (or its subclass `APITimeoutError`) for every
transport failure; what failed is in its `__cause__` chain: the HTTP library's error
(`ConnectError`, `ReadTimeout`, `RemoteProtocolError`, ... from httpx or httpx2, matched by class
name so either works), and under it the OS or TLS error (`ConnectionRefusedError`,
`socket.gaierror`, `ssl.SSLError`, an `OSError` errno).

| kind | what happened | the request reached the server? |
|---|---|---|
| `connection_refused` | nothing listens at that host/port (or no route to the host) | no |
| `dns` | the host name does not resolve | no |
| `tls` | the TLS handshake failed (plain HTTP server behind https://, untrusted certificate) | no |
| `timeout` | no connection within the connect timeout, or no answer within the request timeout | connect: no; read: yes |
| `connection_reset` | the connection broke after the request was sent (server crash, OOM kill, a proxy) | yes |

Only `connection_refused` and `dns` mean "this replica is not there": the client moves on to the
next replica at once and, when none is left, stops the run. The others are a failed attempt of
that one request, retried with backoff.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass
from typing import Literal

import openai

ConnectionKind = Literal["connection_refused", "dns", "tls", "timeout", "connection_reset"]

# Names a user sets these knobs by, for the fixes below (options.py defines the options with them).
BASE_URLS_ENV = "FUNCDEX_LLM_BASE_URLS"
REQUEST_TIMEOUT_ENV = "FUNCDEX_LLM_REQUEST_TIMEOUT"
MAX_IN_FLIGHT_ENV = "FUNCDEX_LLM_MAX_IN_FLIGHT"

_REFUSED_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL})
_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ESHUTDOWN})
# Class names of httpx / httpx2 / httpcore / anyio errors (both generations share the names).
_TIMEOUT_NAMES = frozenset({"TimeoutException", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout"})
_CONNECT_PHASE_NAMES = frozenset({"ConnectError", "ConnectTimeout"})
_BROKEN_NAMES = frozenset({"ReadError", "WriteError", "RemoteProtocolError", "CloseError", "BrokenResourceError",
                           "ClosedResourceError", "EndOfStream", "IncompleteRead"})


@dataclass(frozen=True)
class ConnectionFailure:
    """One failed connection attempt: its kind, whether the request never reached the server
    (`connect_phase`), and the innermost error's text (`detail`, e.g. "[Errno 111] Connect call
    failed ('127.0.0.1', 8000)")."""

    kind: ConnectionKind
    connect_phase: bool
    detail: str

    @property
    def replica_missing(self) -> bool:
        """True when the replica is not there at all: try the next one now, count it unreachable."""
        return self.kind in ("connection_refused", "dns")


def cause_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every error under it, outermost first: its `__cause__`, its `__context__` (even
    when suppressed for display: httpcore raises `from None`), an error passed as its argument
    (httpcore's `ConnectError(OSError(...))`) and the members of an exception group (one per
    address tried)."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(chain) < 64:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        below = [current.__cause__, current.__context__,
                 *(a for a in current.args if isinstance(a, BaseException)),
                 *(getattr(current, "exceptions", None) or ())]
        todo[:0] = [e for e in below if isinstance(e, BaseException)]
    return chain


def _named(exc: BaseException, names: frozenset[str]) -> bool:
    return any(klass.__name__ in names for klass in type(exc).__mro__)


def _errno(exc: BaseException) -> int | None:
    return exc.errno if isinstance(exc, OSError) and isinstance(exc.errno, int) else None


def _detail(chain: list[BaseException]) -> str:
    """The text that says most: the deepest OS / TLS / DNS error's, else the first other error's
    below the SDK's; "" when none says anything (timeouts often don't)."""
    os_texts = [str(e).strip() for e in chain if isinstance(e, OSError) and str(e).strip()]
    if os_texts:
        return os_texts[-1]
    for exc in chain:
        if isinstance(exc, openai.APIError) or type(exc).__name__ == "CancelledError":
            continue
        text = str(exc).strip()
        if text:
            return text
    return ""


def _paren(detail: str) -> str:
    return f" ({detail})" if detail else ""


def classify(exc: BaseException) -> ConnectionFailure:
    """The kind of transport failure `exc` (an `openai.APIConnectionError`, or anything raised
    below it) stands for. Never raises; an unknown failure after connecting is `connection_reset`
    (retried), an unknown failure to connect is `connection_refused` (next replica)."""
    chain = cause_chain(exc)
    detail = _detail(chain)
    connect_phase = any(_named(e, _CONNECT_PHASE_NAMES) for e in chain)
    # The SDK's timeout class, the HTTP library's (connect / read / write / pool), or the kernel's
    # ETIMEDOUT (a TCP connect that got no answer).
    if any(isinstance(e, openai.APITimeoutError) or _named(e, _TIMEOUT_NAMES) for e in chain) or any(
        _errno(e) == errno.ETIMEDOUT for e in chain
    ):
        return ConnectionFailure("timeout", connect_phase, detail)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return ConnectionFailure("dns", True, detail)
    tls_errors = [e for e in chain if isinstance(e, ssl.SSLError)]
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in tls_errors):
        return ConnectionFailure("tls", True, detail)
    # The first thing under the SDK's error says where it broke. A bare anyio EndOfStream there is
    # a TLS handshake the server hung up on (the SDK lets it through unmapped).
    first = chain[1] if len(chain) > 1 else chain[0]
    if tls_errors and (connect_phase or first in tls_errors):
        return ConnectionFailure("tls", True, detail)
    if type(first).__name__ == "EndOfStream":
        return ConnectionFailure("tls", True, detail)
    if any(isinstance(e, ConnectionRefusedError) or _errno(e) in _REFUSED_ERRNOS for e in chain):
        return ConnectionFailure("connection_refused", True, detail)
    if any(isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError))
           or _errno(e) in _RESET_ERRNOS or _named(e, _BROKEN_NAMES) for e in chain) or tls_errors:
        # An SSL error after the handshake (an EOF mid-answer) is a cut connection as well.
        return ConnectionFailure("connection_reset", connect_phase, detail)
    if connect_phase:
        return ConnectionFailure("connection_refused", True, detail)
    return ConnectionFailure("connection_reset", False, detail)


def explain(failure: ConnectionFailure, url: str, *, timeout_s: float, connect_timeout_s: float) -> tuple[str, str]:
    """`(what happened, the fix)` for a message: both name the URL or the setting to change."""
    detail = failure.detail
    url_fix = f"{BASE_URLS_ENV} / --llm-url, the base URL ending in /v1"
    if failure.kind == "connection_refused":
        return (f"{url} refused the connection{_paren(detail)}",
                f"Is `vllm serve` running and listening there? Start it, or fix the host and port ({url_fix}).")
    if failure.kind == "dns":
        return (f"the host name of {url} does not resolve{_paren(detail)}",
                f"Check the host name for typos, or use the server's IP address ({url_fix}).")
    if failure.kind == "tls":
        return (f"the TLS handshake with {url} failed{_paren(detail)}",
                "A server started without TLS (plain `vllm serve`) needs an http:// URL, not https://; a "
                "certificate from a private CA needs SSL_CERT_FILE pointing at that CA's certificate.")
    if failure.kind == "timeout" and failure.connect_phase:
        return (f"no connection to {url} within {connect_timeout_s:g} s (connect timeout)",
                "The host does not answer: check it is up and reachable from here (firewall, VPN, the port) "
                f"({url_fix}).")
    if failure.kind == "timeout":
        return (f"no answer from {url} within {timeout_s:g} s (read timeout)",
                f"The server is overloaded or stuck: raise --request-timeout ({REQUEST_TIMEOUT_ENV}, timeout_s on "
                f"the resource), lower --max-in-flight ({MAX_IN_FLIGHT_ENV}), or check the network and the "
                "server's log.")
    return (f"{url} closed the connection before answering{_paren(detail)}",
            "The server probably crashed or was killed (check its log for out-of-memory or a traceback), or a "
            f"proxy cut the request; under load, lower --max-in-flight ({MAX_IN_FLIGHT_ENV}). If every request "
            "fails so, check the URL's scheme: http:// for a server that speaks https gets cut off too.")
