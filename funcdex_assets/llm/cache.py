"""Persistent response cache: a request answered once is never paid for again.

Keys come from `cache_key` (model + messages + sampling + constraint + how the constraint is
sent), so a changed prompt, sampling setting or grammar misses. Only successful results
(`error is None`) are stored. `ResponseCache` keeps them in one SQLite file (WAL mode, so a
reader never blocks the writer); another backend (Postgres) only has to provide the same
`get` / `put` / `__len__` / `close` (`ResponseStore`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol, Self

from funcdex_assets.llm.types import ChatRequest, ChatResult

CACHE_FILENAME = "llm_cache.sqlite"


def default_cache_path(dagster_home: Path) -> Path:
    return Path(dagster_home) / CACHE_FILENAME


def cache_key(model: str, request: ChatRequest, grammar_field: str) -> str:
    """sha256 of the canonical JSON of everything that shapes the answer (not the stage)."""
    sampling = request.sampling
    constraint = request.constraint
    payload = {
        "model": model,
        "messages": [dict(message) for message in request.messages],
        "sampling": {
            # float() so that temperature=1 and temperature=1.0 share a key.
            "temperature": float(sampling.temperature),
            "max_tokens": int(sampling.max_tokens),
            "top_p": None if sampling.top_p is None else float(sampling.top_p),
            "seed": sampling.seed,
        },
        "constraint": None if constraint is None else {"kind": constraint.kind, "value": constraint.value},
        "grammar_field": grammar_field,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseStore(Protocol):
    """What the client needs from a cache; `ResponseCache` (SQLite) is one implementation."""

    def get(self, key: str) -> ChatResult | None: ...

    def put(self, key: str, stage: str, model: str, result: ChatResult) -> None: ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """SQLite-backed `ResponseStore`. One connection guarded by a lock: safe from any thread.

    Several processes may share the file (Dagster's multiprocess executor): WAL mode plus a
    busy timeout lets their writes queue instead of failing.
    """

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL loses at most the last commits on power loss, never corrupts.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"response cache {self.path} is closed")
        return self._conn

    def get(self, key: str) -> ChatResult | None:
        with self._lock:
            row = self._connection().execute(
                "SELECT text, prompt_tokens, completion_tokens, finish_reason FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        text, prompt_tokens, completion_tokens, finish_reason = row
        return ChatResult(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
            cached=True,
        )

    def put(self, key: str, stage: str, model: str, result: ChatResult) -> None:
        if result.error is not None or result.text is None:
            raise ValueError("only successful results (error is None, text set) are cached")
        with self._lock:
            self._connection().execute(
                "INSERT OR REPLACE INTO responses "
                "(key, stage, model, text, prompt_tokens, completion_tokens, finish_reason, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    stage,
                    model,
                    result.text,
                    result.prompt_tokens,
                    result.completion_tokens,
                    result.finish_reason,
                    time.time(),
                ),
            )

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._connection().execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
