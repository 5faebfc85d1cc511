"""The heartbeat: Healthchecks-style pings, so a monitor notices a run that never came.

``URL/start`` when a run has its lock, then ``URL`` when it ended with exit 0 and
``URL/<exit code>`` otherwise (``monitor.rejected_is_failure: false`` makes exit 1 a
success ping), with the run's outcome line as the body. A monitor that cannot be reached is
a warning in the log: it never changes the run or its exit code. Nothing is pinged for a
dry run, a ``check``, or a run refused by the lock (the CLI only builds a ``Heartbeat`` for
a real run, and ``start`` is called once the lock is held).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dksync import logs
from dksync.config import MonitorConfig
from dksync.errors import DksyncError
from dksync.transport.http import Endpoint, Kind, RetryPolicy, Transport, Verdict

log = logging.getLogger("dksync.monitor")
TIMEOUT_SECONDS = 10.0
POLICY = RetryPolicy(attempts=3, max_total_seconds=30.0, initial_wait=0.25, max_wait=1.0)
MAX_BODY = 10_000


def classify(status: int, payload: Any, headers: Mapping[str, str]) -> Verdict:
    """Any 2xx is a ping received; 429 and 5xx are tried again; the rest is a failure."""
    if 200 <= status < 300:
        return Verdict(Kind.OK)
    if status == 429 or status >= 500:
        return Verdict(Kind.RETRY)
    return Verdict(Kind.FATAL, f"answered {status}")


class Heartbeat:
    """The pings of one run, over the HTTP boundary (10 s timeout, two retries)."""

    def __init__(self, settings: MonitorConfig, policy: RetryPolicy = POLICY) -> None:
        self._settings = settings
        url = settings.ping_url.reveal()
        logs.forget_secrets([url])
        endpoint = Endpoint(url, timeout=TIMEOUT_SECONDS, policy=policy)
        self._transport = Transport("the monitor", endpoint, classify, {})
        self.started = False

    def start(self) -> None:
        """The run holds its lock: ``/start``."""
        self.started = True
        self._ping("/start", b"")

    def finish(self, exit_code: int, outcome_line: str) -> None:
        """The run ended: ``URL`` for success, ``URL/<code>`` otherwise; only after a
        ``start`` (a run refused by the lock pings nothing)."""
        if not self.started:
            return
        success = exit_code == 0 or (exit_code == 1 and not self._settings.rejected_is_failure)
        cut = logs.scrub(outcome_line).encode("utf-8")[:MAX_BODY]
        body = cut.decode("utf-8", "ignore").encode("utf-8")
        self._ping("" if success else f"/{exit_code}", body)

    def _ping(self, path: str, body: bytes) -> None:
        try:
            self._transport.call("POST", path, body=body, safe=True)
        except DksyncError as exc:
            log.warning("the monitor did not get the ping (%s); the run is not affected", exc)
