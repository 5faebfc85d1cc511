"""A going run's counts kept in its history row, so ``dksync status`` tells a running run's
progress (from another process) and a run killed outright leaves what it did."""

from __future__ import annotations

import time

from dksync.outcome import RunReport
from dksync.state.store import State


class LiveCounts:
    """Notes the report's counts in the run's row at most every ``every`` seconds (from
    the reading thread) and at the end of each stream."""

    every = 2.0

    def __init__(self, state: State, run_id: int, report: RunReport) -> None:
        self._state, self._run_id, self._report = state, run_id, report
        self._last = time.monotonic()

    def maybe(self) -> None:
        if time.monotonic() - self._last >= self.every:
            self.now()

    def now(self) -> None:
        self._last = time.monotonic()
        self._state.note_run_counts(self._run_id, self._report.counts())
