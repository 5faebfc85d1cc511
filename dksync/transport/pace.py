"""The pace dksync keeps with one service, shared by every thread that asks it."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class Pacer:
    """A client-side pace shared by all threads: ``rate`` requests/s on average, and a
    burst of a fifth of a second's worth (at least one) after a pause.

    The burst lets the few requests of a short run (a cron run with nothing to do asks
    Moment once per kind, all at once) go together instead of one per slot; over any second
    at most 1.2 × ``rate`` are sent, which the default Moment pace (25/s against Moment's
    30/s) leaves room for. It is the generic cell rate algorithm: a request may start
    ``tolerance`` seconds before its theoretical slot, never earlier.

    On a 429 it halves its pace (down to a floor) and then climbs back by 5% a request,
    so dksync paces itself to what the server allows instead of collecting 429s.
    """

    FLOOR, UNPACED, BURST = 1.0, 1000.0, 0.2

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._ceiling = rate
        self._rate = rate
        self._next = 0.0  # the theoretical slot of the next request (monotonic seconds)
        self._slowed = -1.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._rate:
            return
        with self._lock:
            now = self._clock()
            interval = 1.0 / self._rate
            tolerance = max(0.0, math.floor(self._rate * self.BURST) - 1) * interval
            slot = max(now, self._next - tolerance)
            self._next = max(self._next, slot) + interval
            self._rate *= 1.05
            if self._ceiling:
                self._rate = min(self._ceiling, self._rate)
            elif self._rate > self.UNPACED:
                self._rate = None  # back to no pacing, as configured
        if slot > now:
            self._sleep(slot - now)

    def slow_down(self) -> None:
        """A 429 arrived: halve the pace, at most once a second (a burst of 429s to several
        threads is one signal, not many); a pacer without a rate starts from 10/s."""
        with self._lock:
            now = self._clock()
            if now - self._slowed < 1.0:
                return
            self._slowed = now
            self._rate = max(self.FLOOR, (self._rate or 20.0) / 2)
