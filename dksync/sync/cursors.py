"""Where a stream's cursor may move after a read: pure bookkeeping, no I/O.

The cursor may move past a record only once it is done (written, unchanged, skipped or
rejected with a stored reason). Because Moment's sort is not trusted, records arrive in
any order; after a complete read the new cursor is the newest done key that is older than
every key not done.
"""

from __future__ import annotations

from array import array
from datetime import UTC, datetime, timedelta
from typing import Protocol

from dksync.state.rows import Cursor


class CursorTracker:
    """Collects the keys of one read and says how far the cursor may go.

    Done keys are kept as two arrays of 64-bit numbers (microseconds, id), 16 bytes each,
    because Moment's order is not trusted: the answer is known only after the whole read.
    """

    def __init__(self) -> None:
        self._micros = array("q")
        self._ids = array("q")
        self._first_undone: Cursor | None = None

    def record(self, key: Cursor, done: bool) -> None:
        if done:
            self._micros.append(_micros(key.modified))
            self._ids.append(key.record_id)
        elif self._first_undone is None or key < self._first_undone:
            self._first_undone = key

    def result(self, before: datetime | None = None) -> Cursor | None:
        """The furthest safe cursor (older than ``before`` when given), or None when nothing
        may move."""
        limit = (
            None
            if self._first_undone is None
            else (_micros(self._first_undone.modified), self._first_undone.record_id)
        )
        if before is not None:
            ceiling = (_micros(before), -1)
            limit = ceiling if limit is None else min(limit, ceiling)
        best: tuple[int, int] | None = None
        for key in zip(self._micros, self._ids, strict=True):
            if (limit is None or key < limit) and (best is None or key > best):
                best = key
        if best is None:
            return None
        return Cursor(EPOCH + timedelta(microseconds=best[0]), best[1])


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReadFacts(Protocol):
    """What a finished read of Moment says about how far it got (see ``moment.ListRead``)."""

    complete: bool
    ordered: bool
    newest_read: datetime | None
    clock_limit: datetime | None


def safe_cursor(tracker: CursorTracker, read: ReadFacts) -> Cursor | None:
    """Where the cursor may move after ``read``: only below a point under which everything
    was read. A complete read allows the newest done key; an incomplete one in ascending
    order only what is older than the last time read (others may share it); an incomplete
    one out of order nothing. Never past Moment's own clock (plus a small skew): a record
    stamped in the future is synced but does not carry the cursor with it."""
    if not read.complete and (not read.ordered or read.newest_read is None):
        return None
    before = None if read.complete else read.newest_read
    if read.clock_limit is not None:
        limit = read.clock_limit + timedelta(microseconds=1)
        before = limit if before is None else min(before, limit)
    return tracker.result(before)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def read_from(
    stored: Cursor | None, lookback: timedelta, start_from: datetime | None, since: datetime | None
) -> datetime | None:
    """The time to read Moment from: ``--since``, else the cursor less the lookback, else
    the configured first-run start (None reads everything)."""
    if since is not None:
        return since
    if stored is not None:
        if stored.modified - datetime.min.replace(tzinfo=UTC) <= lookback:
            return None  # a cursor at the dawn of time: read everything
        return stored.modified - lookback
    return start_from
