"""Invoices whose POST answer was lost, settled before the run ends.

A timeout, a dropped connection, a 502 or 504 says nothing about whether DK+ booked the
invoice, and a lookup at once could miss a booking still under way. Such an invoice is
``uncertain`` (so stored: a run killed now leaves it to be looked up first next time) and
waits here until the settle time has passed since its POST; then it is looked up and posted
only if DK+ has none. The wait is bounded by the settle time and shown as progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dksync.kinds import InvoiceState, ReasonCode
from dksync.mapping import Mapped
from dksync.outcome import Action, Outcome
from dksync.records import Invoice

log = logging.getLogger("dksync.settle")
TICK = 0.2


@dataclass(frozen=True, slots=True)
class Lost:
    """An invoice POSTed ``age`` seconds before it was deferred, answer unknown."""

    invoice: Invoice
    mapped: Mapped
    age: float


Resolve = Callable[[Lost, Outcome], Outcome]


class Settle:
    """The run's queue of lost answers, drained once at the end of the invoices stream."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: list[tuple[float, Lost, Outcome]] = []
        self._lock = threading.Lock()

    def defer(self, outcome: Outcome, lost: Lost, why: str) -> Outcome:
        """Mark ``outcome`` uncertain and queue it for the end of the run."""
        outcome.action, outcome.code = Action.UNCERTAIN, ReasonCode.UNCERTAIN
        outcome.invoice_state = InvoiceState.UNCERTAIN
        outcome.detail = (
            f"{why}: the answer was lost; looked up in DK+ once {self.seconds:.0f}s have "
            "passed, before any new attempt"
        )
        due = time.monotonic() + max(0.0, self.seconds - lost.age)
        with self._lock:
            self._items.append((due, lost, outcome))
        return outcome

    def drain(self, resolve: Resolve, stopped: Callable[[], bool]) -> dict[int, Action]:
        """Wait out each invoice's settle time, then ``resolve`` it; {Moment id: final
        action}. Stops waiting when ``stopped()`` (the rest stay uncertain for next run)."""
        with self._lock:
            items, self._items = sorted(self._items, key=lambda item: item[0]), []
        results: dict[int, Action] = {}
        if items:
            log.info("settling %d invoice(s) whose answer was lost", len(items))
        for due, lost, previous in items:
            if not _wait_until(due, stopped):
                break
            results[lost.invoice.id] = resolve(lost, previous).action
        return results


def _wait_until(due: float, stopped: Callable[[], bool]) -> bool:
    """Sleep until ``due`` (monotonic), in short ticks; False when stopped meanwhile."""
    announced = False
    while (left := due - time.monotonic()) > 0:
        if stopped():
            return False
        if not announced:
            log.info("waiting %.0fs for DK+ to settle before looking up", left)
            announced = True
        time.sleep(min(TICK, left))
    return not stopped()
