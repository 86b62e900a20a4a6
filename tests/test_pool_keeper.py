"""The pool keeper: a step left waiting next to a free `llm` slot gets it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dagster._core.test_utils import instance_for_test

from funcdex_assets.pool_keeper import release_stuck_steps, stuck_steps

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@dataclass
class Step:
    enqueued_timestamp: datetime
    assigned_timestamp: datetime | None = None


def test_only_steps_stuck_next_to_a_free_slot_count():
    old, new = NOW - timedelta(seconds=60), NOW - timedelta(seconds=2)
    assert stuck_steps(1, [Step(old)], NOW) == 1
    assert stuck_steps(1, [Step(new)], NOW) == 0  # Dagster may be handing the slot over right now
    assert stuck_steps(1, [Step(old, assigned_timestamp=old), Step(old)], NOW) == 0  # the slot is taken
    assert stuck_steps(2, [Step(old, assigned_timestamp=old), Step(old), Step(old)], NOW) == 1
    assert stuck_steps(1, [], NOW) == 0


def test_the_lost_hand_over_is_repaired():
    """Run B checks for a free slot while A holds it, A frees it, then B joins the queue: the slot
    went to nobody and B would wait forever."""
    with instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("llm", 1)
        assert storage.claim_concurrency_slot("llm", "run_a", "dml_conversations").is_claimed
        storage.free_concurrency_slot_for_step("run_a", "dml_conversations")
        storage.add_pending_step("llm", "run_b", "conversation_scores", should_assign=False)  # the stale check
        assert not storage.claim_concurrency_slot("llm", "run_b", "conversation_scores").is_assigned

        assert release_stuck_steps(storage, "llm", now=datetime.now(timezone.utc)) == 0  # not stuck long yet
        assert release_stuck_steps(storage, "llm", now=datetime.now(timezone.utc) + timedelta(minutes=1)) == 1
        assert storage.claim_concurrency_slot("llm", "run_b", "conversation_scores").is_claimed
        # Nothing more to give: the one slot is held.
        assert release_stuck_steps(storage, "llm", now=datetime.now(timezone.utc) + timedelta(minutes=2)) == 0
