"""Dagster's Postgres storage, with pool limits that survive a change of `default_limit`.

Dagster 1.13 initialises a pool's limit with INSERT, catching the unique violation to UPDATE
instead. On Postgres the violation aborts the transaction, so the UPDATE fails and so does the
run: every run using the `llm` pool fails once `pools.default_limit` in dagster.yaml is changed
(the row holds the old default), or when two runs create the pool at once (dagster-io/dagster
issue #33552; the fixes are unmerged PRs). Here the same step is one INSERT ... ON CONFLICT.
Drop this module once a dagster-postgres release carries the fix.
"""

from __future__ import annotations

import sqlalchemy as db
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.schema import ConcurrencyLimitsTable
from dagster_postgres import DagsterPostgresStorage, PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from sqlalchemy.dialects import postgresql


class PoolSafePostgresEventLogStorage(PostgresEventLogStorage):
    def initialize_concurrency_limit_to_default(self, concurrency_key: str) -> bool:
        if not (self.has_concurrency_limits_table and self.has_instance and self.has_default_pool_limit_col):
            return super().initialize_concurrency_limit_to_default(concurrency_key)
        default_limit = self._instance.global_op_concurrency_default_limit
        if default_limit is None:
            # The base class only deletes here, which Postgres handles.
            return super().initialize_concurrency_limit_to_default(concurrency_key)
        self._reconcile_concurrency_limits_from_slots()
        table = ConcurrencyLimitsTable
        with self.index_transaction() as conn:
            conn.execute(
                postgresql.insert(table)
                .values(concurrency_key=concurrency_key, limit=default_limit, using_default_limit=True)
                # A limit a person set in the UI (using_default_limit false) is theirs: kept.
                .on_conflict_do_update(
                    index_elements=[table.c.concurrency_key],
                    set_={"limit": default_limit},
                    where=db.and_(table.c.limit != default_limit, table.c.using_default_limit == db.true()),
                )
            )
            self._allocate_concurrency_slots(conn, concurrency_key, default_limit)
        return True


class PostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` with the event log storage above."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None):
        # The parent's __init__ would open a second event log storage only to drop it.
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PostgresRunStorage(postgres_url, should_autocreate_tables)
        self._event_log_storage = PoolSafePostgresEventLogStorage(postgres_url, should_autocreate_tables)
        self._schedule_storage = PostgresScheduleStorage(postgres_url, should_autocreate_tables)
        DagsterStorage.__init__(self)
