"""The Postgres response cache, against the real server on this machine."""

from __future__ import annotations

import uuid

import pytest

from funcdex_assets.llm.types import ChatResult

@pytest.fixture
def pg_cache(postgres_url):
    from funcdex_assets.llm import cache_postgres

    table = f"funcdex_llm_responses_{uuid.uuid4().hex[:8]}"
    original = cache_postgres.TABLE
    cache_postgres.TABLE = table
    cache = cache_postgres.PostgresResponseCache(postgres_url)
    yield cache
    with cache._conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    cache.close()
    cache_postgres.TABLE = original


def test_put_get_and_reopen(pg_cache, postgres_url):
    from funcdex_assets.llm.cache_postgres import PostgresResponseCache

    assert pg_cache.get("k") is None
    pg_cache.put("k", "judge", "m", ChatResult(text="hello", prompt_tokens=3, completion_tokens=2, finish_reason="stop"))
    pg_cache.put("k", "judge", "m", ChatResult(text="second write ignored"))
    hit = pg_cache.get("k")
    assert hit.text == "hello" and hit.cached and hit.prompt_tokens == 3 and len(pg_cache) == 1
    other = PostgresResponseCache(postgres_url)
    assert other.get("k").text == "hello"
    other.close()


def test_failed_results_are_not_cached(pg_cache):
    from funcdex_assets.llm.types import LLMError

    with pytest.raises(ValueError):
        pg_cache.put("x", "s", "m", ChatResult(text=None, error=LLMError("timeout", "t")))


def test_open_response_cache_picks_the_backend_from_the_setting(tmp_path, pg_cache, postgres_url):
    from funcdex_assets.llm.cache import ResponseCache
    from funcdex_assets.llm.cache_postgres import PostgresResponseCache, open_response_cache

    assert isinstance(open_response_cache("", tmp_path), ResponseCache)
    assert isinstance(open_response_cache(str(tmp_path / "x.sqlite"), tmp_path), ResponseCache)
    pg = open_response_cache(postgres_url, tmp_path)
    assert isinstance(pg, PostgresResponseCache)
    pg.close()


def test_an_unreachable_postgres_cache_names_the_host_not_the_password():
    from funcdex_assets.llm.cache_postgres import PostgresResponseCache

    with pytest.raises(RuntimeError) as exc:
        PostgresResponseCache("postgresql://user:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "127.0.0.1:1" in str(exc.value) and "s3cret" not in str(exc.value)
