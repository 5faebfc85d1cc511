"""Progress while a run fetches and writes: a rich bar on a terminal, plain lines otherwise.

Both go to stderr, so ``--json`` output on stdout stays one clean document.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from types import TracebackType
from typing import TYPE_CHECKING

from dksync.outcome import Action, Outcome, RunReport

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

log = logging.getLogger("dksync.progress")
WRITES = (Action.CREATE, Action.UPDATE, Action.ADOPT)


class RunProgress:
    """Follows a ``RunReport``; use as a context manager around the run."""

    def __init__(
        self, report: RunReport, *, terminal: bool | None = None, every_seconds: float = 10.0
    ) -> None:
        self.report = report
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.every = every_seconds
        self._last = time.monotonic()
        self._done: Counter[str] = Counter()
        self._written: Counter[str] = Counter()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RunProgress:
        self.report.listeners.append(self.advance)
        if self.terminal:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.report.listeners.remove(self.advance)
        if self._bar is not None:
            self._bar.stop()
        else:
            self._plain()

    def advance(self, outcome: Outcome) -> None:
        kind = outcome.object_type
        self._done[kind] += 1
        self._written[kind] += outcome.action in WRITES
        if self._bar is not None:
            text = self._describe(kind)
            if kind not in self._tasks:
                self._tasks[kind] = self._bar.add_task(text, total=None)
            self._bar.update(self._tasks[kind], description=text)
        elif time.monotonic() - self._last >= self.every:
            self._plain()

    def _describe(self, kind: str) -> str:
        return (
            f"{kind}: {self.report.fetched[kind]} read, {self._done[kind]} done, "
            f"{self._written[kind]} written"
        )

    def _plain(self) -> None:
        self._last = time.monotonic()
        if self._done:
            log.info("progress: %s", "; ".join(self._describe(k) for k in self._done))
