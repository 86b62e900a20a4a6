"""Dagster storage chosen by the environment: Postgres when DAGSTER_POSTGRES_URL is set, else
SQLite under $DAGSTER_HOME.

dagster.yaml can read values from environment variables but cannot pick a storage *kind* by
whether one is set, so it names this class; the newcomer's command then needs no database,
and a team sets one variable (`postgresql+psycopg2://user:pass@host:5432/db`; SQLAlchemy 2.1
needs the `+psycopg2` driver named) to put runs, event logs, schedules and partitions in Postgres.
"""

from __future__ import annotations

import os
from typing import Any

from dagster._core.storage.base_storage import DagsterStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData

POSTGRES_URL_ENV = "DAGSTER_POSTGRES_URL"


def postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        return None
    if url.startswith(("postgresql://", "postgres://")):
        # The driver must be named under SQLAlchemy 2.1, or dagster-postgres fails to connect.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


class EnvSelectedStorage(DagsterStorage, ConfigurableClass):
    """Not a storage itself: `from_config_value` returns the storage the environment selects."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any):
        url = postgres_url()
        if url:
            from funcdex_assets.storage_postgres import PostgresStorage

            return PostgresStorage(postgres_url=url, inst_data=inst_data)
        from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

        home = os.environ.get("DAGSTER_HOME")
        if not home:
            raise RuntimeError("DAGSTER_HOME is not set: SQLite storage needs a folder (or set DAGSTER_POSTGRES_URL)")
        return DagsterSqliteStorage.from_local(base_dir=home, inst_data=inst_data)
