"""SIGINT and SIGTERM during a run: a flag the read loop looks at, never an exception in
the middle of a write; and the transport's ``HALT``, so that no request starts after the
signal and what is in flight ends within one request's deadline."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from dksync.errors import Interrupted
from dksync.transport.deadline import HALT

log = logging.getLogger("dksync.engine")


class StopSignal:
    """Set by SIGINT or SIGTERM: stop reading, finish the writes in flight, then stop.
    Several Ctrl-C are one request to stop (no ``KeyboardInterrupt`` traceback).

    The wait is bounded: from the signal on no request starts and no retry waits, so what
    is in flight ends within one request's deadline; a write that did not finish stays
    pending or uncertain, and the next run settles it."""

    def __init__(self) -> None:
        self.signal_number: int | None = None

    def __call__(self) -> bool:
        return self.signal_number is not None

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal_number is None:
            log.warning("stopping: finishing the writes in flight (signal %d)", number)
        self.signal_number = self.signal_number or number
        HALT.set(self.signal_number)

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Handle SIGINT and SIGTERM while the run lasts (only the main thread can)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            HALT.clear()
            for number, handler in previous.items():
                # once stopping, a later Ctrl-C (while the summary prints) is the same
                # request: it must not turn into a KeyboardInterrupt or kill the process
                signal.signal(number, signal.SIG_IGN if self() else handler)

    def check(self) -> None:
        if self.signal_number is not None:
            raise Interrupted(self.signal_number)
