"""Dagster storage in the real Postgres on this machine, selected by DAGSTER_POSTGRES_URL."""

from __future__ import annotations

import pytest

@pytest.fixture
def postgres_env(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return tmp_path


def test_runs_event_logs_and_partitions_land_in_postgres(postgres_env, postgres_url):
    import psycopg2
    from dagster import DagsterInstance
    from dagster_postgres import PostgresRunStorage

    from funcdex_assets.runner import generate

    summary = generate(["whatsapp"], 2, 11, postgres_env / "out")
    assert summary.ok, summary.failures
    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        run_ids = [r.run_id for r in instance.get_runs(limit=3)]
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE run_id = ANY(%s)", (run_ids,))
        assert cur.fetchone()[0] == 3
        cur.execute("SELECT count(*) FROM event_logs WHERE run_id = ANY(%s)", (run_ids,))
        assert cur.fetchone()[0] > 50
        cur.execute("SELECT count(*) FROM dynamic_partitions WHERE partition = 'whatsapp'")
        assert cur.fetchone()[0] >= 1
    assert not (postgres_env / "home" / "history" / "runs.db").exists()  # nothing went to SQLite


def test_without_the_variable_storage_is_sqlite_under_dagster_home(tmp_path, monkeypatch):
    from dagster import DagsterInstance
    from dagster._core.storage.runs import SqliteRunStorage

    from funcdex_assets.runner import instance_home

    monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance_home()
    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, SqliteRunStorage)


def test_the_scheme_gets_the_psycopg2_driver(monkeypatch):
    from funcdex_assets.storage import postgres_url

    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://u:p@db:5432/dagster")
    assert postgres_url() == "postgresql+psycopg2://u:p@db:5432/dagster"
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql+psycopg2://u@db/d")
    assert postgres_url() == "postgresql+psycopg2://u@db/d"


def test_a_changed_pool_default_does_not_break_runs(fresh_postgres_db, monkeypatch, tmp_path):
    """The `llm` pool row holds an older `default_limit` (dagster.yaml was edited, or another
    run created the row first): the run still succeeds and the row takes the new default.
    Dagster's own Postgres code fails the run here (dagster-io/dagster#33552)."""
    import psycopg2

    from funcdex_assets.runner import generate

    monkeypatch.setenv("DAGSTER_POSTGRES_URL", fresh_postgres_db)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert generate(["whatsapp"], 2, 11, tmp_path / "out").ok
    with psycopg2.connect(fresh_postgres_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE concurrency_limits SET \"limit\" = 5 WHERE concurrency_key = 'llm' AND using_default_limit")
        assert cur.rowcount == 1
    summary = generate(["whatsapp"], 2, 12, tmp_path / "out")
    assert summary.ok, summary.failures
    with psycopg2.connect(fresh_postgres_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT \"limit\" FROM concurrency_limits WHERE concurrency_key = 'llm'")
        assert cur.fetchone()[0] == 1
