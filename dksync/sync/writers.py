"""The bounded pool the records of a stream are written on, and what it tells the cursor."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType

from dksync.outcome import Action, Outcome
from dksync.state.rows import Cursor
from dksync.sync.cursors import CursorTracker


class Writers:
    """Runs sync tasks on a bounded pool and feeds each result to the cursor tracker.

    An uncertain invoice's key waits (``settled``) until the end of the stream says whether
    it was settled. On a fatal error the tasks already in flight finish (each keeps its own
    books, an invoice POST included) and then the first error is raised.
    """

    def __init__(self, workers: int, tracker: CursorTracker) -> None:
        self._pool = ThreadPoolExecutor(workers, "dksync-writer") if workers > 1 else None
        self._window = 2 * workers
        self._tracker = tracker
        self._inflight: dict[Future[Outcome], Cursor] = {}
        self._waiting: dict[int, Cursor] = {}

    def __enter__(self) -> Writers:
        return self

    def submit(self, task: Callable[[], Outcome], cursor: Cursor) -> Outcome | None:
        """Run (or queue) one task; the outcome when it ran here and now."""
        if self._pool is None:
            outcome = task()
            self._done(cursor, outcome)
            return outcome
        self._inflight[self._pool.submit(task)] = cursor
        if len(self._inflight) >= self._window:
            self._collect(FIRST_COMPLETED)
        return None

    def _done(self, cursor: Cursor, outcome: Outcome) -> None:
        if outcome.action is Action.UNCERTAIN:
            self._waiting[cursor.record_id] = cursor
        else:
            self._tracker.record(cursor, outcome.action.done)

    def settled(self, results: dict[int, Action]) -> None:
        """The final actions of the uncertain ones after settling."""
        for ident, cursor in self._waiting.items():
            action = results.get(ident, Action.UNCERTAIN)
            self._tracker.record(cursor, action.done)
        self._waiting.clear()

    def _collect(self, when: str) -> None:
        done, _ = wait(self._inflight, return_when=when)
        failure: BaseException | None = None
        for future in done:
            cursor = self._inflight.pop(future)
            error = future.exception()
            if error is None:
                self._done(cursor, future.result())
            else:
                failure = failure or error
        if failure is not None:
            wait(self._inflight)
            self._inflight.clear()
            raise failure

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._inflight:
                self._collect(ALL_COMPLETED)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
