"""Cursor bookkeeping: never past a record that is not done, whatever the arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dksync.state.rows import Cursor
from dksync.sync.cursors import CursorTracker, read_from

T0 = datetime(2026, 1, 1, tzinfo=UTC)
keys = st.builds(
    lambda s, i: Cursor(T0 + timedelta(seconds=s), i), st.integers(0, 50), st.integers(1, 20)
)


@given(st.lists(st.tuples(keys, st.booleans()), max_size=40))
def test_cursor_is_newest_done_key_older_than_every_undone(
    records: list[tuple[Cursor, bool]],
) -> None:
    tracker = CursorTracker()
    for key, done in records:
        tracker.record(key, done)
    result = tracker.result()
    undone = [k for k, d in records if not d]
    if result is not None:
        assert all(result < k for k in undone)
        assert any(k == result and d for k, d in records)
    done_below = [k for k, d in records if d and all(k < u for u in undone)]
    assert result == (max(done_below) if done_below else None)


def test_read_from_prefers_since_then_cursor_less_lookback_then_start() -> None:
    cursor = Cursor(T0, 5)
    lookback = timedelta(minutes=10)
    since = T0 - timedelta(days=3)
    assert read_from(cursor, lookback, None, since) == since
    assert read_from(cursor, lookback, None, None) == T0 - lookback
    assert read_from(None, lookback, T0, None) == T0
    assert read_from(None, lookback, None, None) is None
