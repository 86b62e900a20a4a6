"""`dagster_dev.wait_for`, the wait behind every daemon and server wait of the end-to-end tests,
on a fake clock: it waits as long as the observed state keeps changing, gives up only after a
stall window without change (saying what it saw), and fails at once when the process is gone."""

from __future__ import annotations

import pytest

from dagster_dev import wait_for


class FakeTime:
    """A clock that moves only when the wait sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_slow_wait_that_keeps_progressing_runs_past_any_stall_window():
    time = FakeTime()
    # One new event every 500 s, 40 events: 20 000 s in all, far over the 600 s window.
    state = wait_for(lambda: int(time.now // 500), "events", done=lambda n: n >= 40, stall_s=600,
                     clock=time.clock, sleep=time.sleep)
    assert state == 40 and time.now >= 20_000


def test_a_stalled_wait_gives_up_after_the_window_and_tells_what_it_saw():
    time = FakeTime()
    observed = iter([1, 2, 3])

    def observe() -> int:
        return next(observed, 3)
    with pytest.raises(AssertionError) as failure:
        wait_for(observe, "backfill b1", done=lambda n: n > 5, diagnose=lambda: "runs: r1 STARTED\nlog tail",
                 stall_s=600, interval=2, clock=time.clock, sleep=time.sleep)
    message = str(failure.value)
    assert message.startswith("gave up waiting for backfill b1: nothing observed changed for 600 s")
    assert "last observed: 3" in message and "runs: r1 STARTED\nlog tail" in message
    # The window counts from the last change (at 4 s), not from the start.
    assert time.now == pytest.approx(604)


def test_only_the_progress_part_of_the_state_counts_as_a_change():
    time = FakeTime()
    # A timestamp changing on every poll is not progress when `progress` leaves it out.
    with pytest.raises(AssertionError, match="nothing observed changed for 60 s"):
        wait_for(lambda: ("SKIPPED", time.now), "a tick", done=lambda s: False, progress=lambda s: s[0],
                 stall_s=60, clock=time.clock, sleep=time.sleep)
    assert time.now == pytest.approx(60)


def test_an_exited_process_fails_the_wait_at_once():
    time = FakeTime()
    gone = iter([None, None, "dagster dev exited with code 1"])
    with pytest.raises(AssertionError) as failure:
        wait_for(lambda: "STARTED", "run r1", done=lambda s: False, exited=lambda: next(gone),
                 diagnose=lambda: "log: Traceback ...", clock=time.clock, sleep=time.sleep)
    assert str(failure.value).startswith("run r1: dagster dev exited with code 1 after 4 s; last observed: 'STARTED'")
    assert "log: Traceback ..." in str(failure.value)


def test_a_server_too_busy_to_answer_is_no_change_and_its_error_is_told():
    time = FakeTime()

    def observe() -> str:
        raise TimeoutError("timed out")
    with pytest.raises(AssertionError) as failure:
        wait_for(observe, "server_info", stall_s=30, clock=time.clock, sleep=time.sleep)
    assert "last observed: '<nothing observed yet>'" in str(failure.value)
    assert "last error observing: TimeoutError('timed out')" in str(failure.value)
