"""The pace dksync keeps with one service, shared by every thread that asks it."""

from __future__ import annotations

import threading
import time


class Pacer:
    """A client-side token bucket shared by all threads: at most ``rate`` requests/s.

    On a 429 it halves its pace (down to a floor) and then climbs back by 5% a request,
    so dksync paces itself to what the server allows instead of collecting 429s.
    """

    FLOOR, UNPACED = 1.0, 1000.0

    def __init__(self, rate: float | None) -> None:
        self._ceiling = rate
        self._rate = rate
        self._next = 0.0
        self._slowed = -1.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._rate:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self._rate
            self._rate *= 1.05
            if self._ceiling:
                self._rate = min(self._ceiling, self._rate)
            elif self._rate > self.UNPACED:
                self._rate = None  # back to no pacing, as configured
        if slot > now:
            time.sleep(slot - now)

    def slow_down(self) -> None:
        """A 429 arrived: halve the pace, at most once a second (a burst of 429s to several
        threads is one signal, not many); a pacer without a rate starts from 10/s."""
        with self._lock:
            now = time.monotonic()
            if now - self._slowed < 1.0:
                return
            self._slowed = now
            self._rate = max(self.FLOOR, (self._rate or 20.0) / 2)
