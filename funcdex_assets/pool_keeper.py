"""Waiting steps of a concurrency pool that a free slot should have gone to.

Dagster's op-level pools hand a slot to a waiting step when another step frees one. A step that
asks for a slot checks for a free one *before* it joins the queue, so a slot freed between the
check and the join goes to nobody: the step then waits forever next to a free slot (seen with
two partitions on the `llm` pool: the second run's `conversation_scores` never started). The
pool keeper (a sensor in `defs/sensors.py`) looks for exactly that state and assigns the slot.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Protocol

# A step must have waited this long next to a free slot before the keeper steps in, so it never
# races Dagster's own hand-over (which takes milliseconds).
STUCK_AFTER_S = 20.0


class PendingStep(Protocol):
    enqueued_timestamp: datetime
    assigned_timestamp: datetime | None


def stuck_steps(slot_count: int, pending: Iterable[PendingStep], now: datetime,
                stuck_after_s: float = STUCK_AFTER_S) -> int:
    """How many waiting steps to give a slot now: free slots (`slot_count` less the steps
    already assigned one, which hold or are about to claim it), at most the steps that have
    waited `stuck_after_s` seconds or more. 0 when the pool is full or nobody is stuck."""
    steps = list(pending)
    free = slot_count - sum(s.assigned_timestamp is not None for s in steps)
    waiting = sum(s.assigned_timestamp is None and (now - _utc(s.enqueued_timestamp)).total_seconds() >= stuck_after_s
                  for s in steps)
    return max(0, min(free, waiting))


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def release_stuck_steps(storage, pool: str, now: datetime | None = None) -> int:
    """Assign free slots of `pool` to steps stuck waiting next to them (see the module
    docstring); `storage` is the instance's event log storage. Returns how many were assigned."""
    info = storage.get_concurrency_info(pool)
    n = stuck_steps(info.slot_count, info.pending_steps, now or datetime.now(timezone.utc))
    for _ in range(n):
        storage.assign_pending_steps([pool])  # the oldest waiting step, by priority then age
    return n
