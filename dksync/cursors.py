"""Where a stream's cursor may move after a read: pure bookkeeping, no I/O.

The cursor may move past a record only once it is done (written, unchanged, skipped or
rejected with a stored reason). Because Moment's sort is not trusted, records arrive in
any order; after a complete read the new cursor is the newest done key that is older than
every key not done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dksync.state import Cursor


@dataclass
class CursorTracker:
    """Collects the keys of one read and says how far the cursor may go."""

    _done: list[Cursor] = field(default_factory=list)
    _first_undone: Cursor | None = None

    def record(self, key: Cursor, done: bool) -> None:
        if done:
            self._done.append(key)
        elif self._first_undone is None or key < self._first_undone:
            self._first_undone = key

    def result(self) -> Cursor | None:
        """The furthest safe cursor, or None when nothing may move."""
        limit = self._first_undone
        eligible = [k for k in self._done if limit is None or k < limit]
        return max(eligible, default=None)


def read_from(
    stored: Cursor | None, lookback: timedelta, start_from: datetime | None, since: datetime | None
) -> datetime | None:
    """The time to read Moment from: ``--since``, else the cursor less the lookback, else
    the configured first-run start (None reads everything)."""
    if since is not None:
        return since
    if stored is not None:
        return stored.modified - lookback
    return start_from
