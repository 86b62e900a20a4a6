"""The response cache in Postgres, for teams whose Dagster instance already lives there.

Same contract as the SQLite `ResponseCache` (get / put / len / close): a shared cache lets every
run, on every machine, reuse every finished call.
"""

from __future__ import annotations

import threading
import time

from funcdex_assets.llm.types import ChatResult

TABLE = "funcdex_llm_responses"


class PostgresResponseCache:
    def __init__(self, url: str) -> None:
        import psycopg2

        self._url = url
        self._lock = threading.Lock()
        try:
            self._conn = psycopg2.connect(url)
        except psycopg2.OperationalError as exc:
            host = url.split("@")[-1]  # never echo credentials
            raise RuntimeError(f"cannot reach the Postgres response cache at {host}: {exc}".strip()) from exc
        self._conn.autocommit = True
        with self._conn.cursor() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, stage TEXT NOT NULL, model TEXT NOT NULL,"
                " text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
                " finish_reason TEXT, created DOUBLE PRECISION NOT NULL)"
            )

    def get(self, key: str) -> ChatResult | None:
        with self._lock, self._conn.cursor() as cur:
            cur.execute(f"SELECT text, prompt_tokens, completion_tokens, finish_reason FROM {TABLE} WHERE key = %s",
                        (key,))
            row = cur.fetchone()
        if row is None:
            return None
        return ChatResult(text=row[0], prompt_tokens=row[1], completion_tokens=row[2], finish_reason=row[3],
                          cached=True)

    def put(self, key: str, stage: str, model: str, result: ChatResult) -> None:
        if result.error is not None or result.text is None:
            raise ValueError("only successful results (error is None, text set) are cached")
        with self._lock, self._conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                (key, stage, model, result.text, result.prompt_tokens, result.completion_tokens,
                 result.finish_reason, time.time()),
            )

    def __len__(self) -> int:
        with self._lock, self._conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {TABLE}")
            return int(cur.fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def open_response_cache(spec: str, default_dir):
    """A cache from a setting: a postgresql:// URL, a SQLite file path, or '' for the default file."""
    from pathlib import Path

    from funcdex_assets.llm.cache import ResponseCache, default_cache_path

    if spec.startswith(("postgresql://", "postgres://")):
        return PostgresResponseCache(spec)
    return ResponseCache(Path(spec) if spec else default_cache_path(Path(default_dir)))
