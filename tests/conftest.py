"""Shared test fixtures.

`../shared` (beside the repository) is read only through `shared_path`, which skips with a
clear reason when it is absent, so the suite runs on a bare clone too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ../shared, or skip the calling test when it is not there."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests need the shared/ folder beside the repository")
    return path


@pytest.fixture(autouse=True)
def _dagster_storage_context_restored():
    """Restore Dagster's current definitions-state storage (a context variable) after each test.

    A schedule or sensor context built on a persistent instance opens an instance of its own and
    makes it current; one left unexited leaves the variable on an instance that is collected
    later, and the next test to resolve a job fails with "Attempted to resolve undefined
    DagsterInstance weakref". Tests exit their contexts; this keeps one slip from failing an
    unrelated test far away."""
    try:
        from dagster._core.storage.defs_state.base import _current_storage
    except ImportError:  # Dagster moved it: nothing to restore
        yield
        return
    token = _current_storage.set(_current_storage.get())
    yield
    try:
        _current_storage.reset(token)
    except ValueError:
        _current_storage.set(None)


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


POSTGRES_URL = os.environ.get("FUNCDEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def require_postgres() -> str:
    """The local Postgres test database URL; skips when unreachable, fails instead under
    FUNCDEX_REQUIRE_POSTGRES (set by .ci/run, where Postgres must be there)."""
    import psycopg2

    try:
        psycopg2.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        if os.environ.get("FUNCDEX_REQUIRE_POSTGRES"):
            pytest.fail(f"Postgres is required here (FUNCDEX_REQUIRE_POSTGRES) but {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(f"no Postgres server reachable at {POSTGRES_URL}: {exc}")
    return POSTGRES_URL


@pytest.fixture
def postgres_url() -> str:
    return require_postgres()


@pytest.fixture(scope="module")
def fresh_postgres_db():
    """A new, empty database on the test server for one module (dropped afterwards), so what a
    test finds there (runs, partitions, sensor ticks) is only what it made."""
    import uuid

    import psycopg2

    url = require_postgres()
    name = f"funcdex_t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield url.rsplit("/", 1)[0] + "/" + name
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
