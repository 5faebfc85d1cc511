"""The client-side pace: a rate on average, a fifth of a second's requests at once after a
pause (a short run's few requests go together), never more; a 429 halves it. A fake clock
stands in for time, so the figures are exact."""

from __future__ import annotations

from itertools import pairwise

import pytest

from dksync.transport.pace import Pacer


class FakeTime:
    """A clock that moves only when the pacer sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.starts: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds

    def pace(self, pacer: Pacer, count: int) -> list[float]:
        """The start time of each of ``count`` requests sent back to back."""
        for _ in range(count):
            pacer.wait()
            self.starts.append(self.now)
        return self.starts


def test_a_fifth_of_a_seconds_requests_go_at_once_then_one_per_slot() -> None:
    time = FakeTime()
    starts = time.pace(Pacer(25.0, time.clock, time.sleep), 10)
    assert starts[:5] == [1000.0] * 5
    gaps = [round(b - a, 9) for a, b in pairwise(starts[4:])]
    assert gaps == [0.04] * 5


@pytest.mark.parametrize("rate", [1.0, 4.9, 25.0, 100.0, 400.0])
def test_no_second_holds_more_than_a_fifth_over_the_rate(rate: float) -> None:
    time = FakeTime()
    starts = time.pace(Pacer(rate, time.clock, time.sleep), int(rate * 5) + 10)
    most = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert most <= max(rate * 1.2, 1.0) + 1e-9
    span = starts[-1] - starts[0]
    assert len(starts) / (span + 1.0) <= rate * 1.2 + 1e-9


def test_a_slow_pace_has_no_burst() -> None:
    time = FakeTime()
    starts = time.pace(Pacer(2.0, time.clock, time.sleep), 3)
    assert starts == [1000.0, 1000.5, 1001.0]


def test_after_a_pause_the_burst_is_back_but_not_more() -> None:
    time = FakeTime()
    pacer = Pacer(25.0, time.clock, time.sleep)
    time.pace(pacer, 20)
    time.now += 10.0
    later = time.pace(pacer, 7)[-7:]
    assert later[:5] == [later[0]] * 5
    assert later[5] > later[0]


def test_no_rate_never_waits() -> None:
    time = FakeTime()
    assert time.pace(Pacer(None, time.clock, time.sleep), 50) == [1000.0] * 50
