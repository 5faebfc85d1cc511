"""``dkplus.concurrency: auto``: records in flight sized to DK+'s rate and answer time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dksync.config import from_mapping
from dksync.sync.writers import MOST, auto


def test_auto_keeps_up_with_the_rate_at_the_measured_latency() -> None:
    assert auto(100, 0.02) == 4  # 100/s × 20 ms = 2 in flight, with room for slow answers
    assert auto(200, 0.03) == 10
    assert auto(400, 0.03) == 19
    assert auto(100, None) == 16  # before DK+ answered: 0.1 s assumed
    assert auto(None, 0.02) == 8  # no rate set: a fixed 8


@given(st.floats(0.1, 10_000), st.floats(0.0, 60.0))
def test_auto_is_between_two_and_the_most(rate: float, latency: float) -> None:
    assert 2 <= auto(rate, latency) <= MOST


def _concurrency(value: object) -> int | None:
    raw = {
        "moment": {"company": "c", "api_key": "k"},
        "dkplus": {"token": "t", "sales_person": "S", "concurrency": value},
    }
    if value is None:
        del raw["dkplus"]["concurrency"]
    return from_mapping(raw, env={}).dkplus.concurrency


def test_concurrency_is_auto_unless_a_number_is_given() -> None:
    assert _concurrency(None) is None
    assert _concurrency("auto") is None
    assert _concurrency("AUTO") is None
    assert _concurrency(6) == 6
