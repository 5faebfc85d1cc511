"""What a run did, record by record, and the totals the summary table shows."""

from __future__ import annotations

import enum
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dksync.errors import FatalError, Interrupted
from dksync.kinds import InvoiceState, ReasonCode


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ADOPT = "adopt"
    SKIP = "skip"
    DRIFT = "drift"
    REJECT = "reject"
    UNCERTAIN = "uncertain"

    @property
    def done(self) -> bool:
        """Whether the cursor may move past a record with this outcome."""
        return self is not Action.UNCERTAIN


@dataclass
class Outcome:
    """One record's result: what a sync step decided and did, for the books to record.

    ``changes`` holds {field: (DK+ now, wanted)} for updates and drift; ``code`` says why a
    record was rejected or left uncertain; ``digest`` is the hash of what is now in DK+ (the
    books store it so an unchanged record costs no request next time); ``facts`` are what an
    invoice needs of a customer (number, name, kennitala); ``invoice_state`` is what the
    books store for an invoice; ``posted`` what of it DK+ now holds (its customer and total,
    so a later change in Moment is told as drift).
    """

    object_type: str
    moment_id: int
    label: str
    action: Action
    detail: str = ""
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    payload: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    dk_number: str | None = None
    code: ReasonCode | None = None
    digest: str | None = None
    facts: tuple[str, str, str | None] | None = None
    invoice_state: InvoiceState | None = None
    posted: dict[str, str] | None = None


EXIT_OK, EXIT_REJECTED = 0, 1
ATTENTION = frozenset({Action.REJECT, Action.DRIFT, Action.UNCERTAIN})
OPEN = frozenset({Action.REJECT, Action.UNCERTAIN})
"""Outcomes that leave a record still to do: the run exits 1 when it counts any (a count,
not a key: an uncertain invoice the run settled itself counts 0)."""


@dataclass
class RunReport:
    """Totals per object type and action, and every outcome worth showing."""

    dry_run: bool = False
    fetched: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    retrying: set[tuple[str, int]] = field(default_factory=set)
    retried_tally: Counter[tuple[str, Action]] = field(default_factory=Counter)
    tally: Counter[tuple[str, Action]] = field(default_factory=Counter)
    outcomes: list[Outcome] = field(default_factory=list)
    fatal: FatalError | None = None
    keep_unchanged: bool = False
    lean: bool = False
    listeners: list[Callable[[Outcome], None]] = field(default_factory=list)
    readers: list[Callable[[], None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: Outcome) -> None:
        """Count an outcome and keep it if it is to be shown. A lean report (a plain run)
        keeps only what needs a person's attention, without payloads, so a big run's
        memory does not grow with the number of records."""
        keep = outcome.action is not Action.UNCHANGED or self.keep_unchanged
        if self.lean:
            keep = outcome.action in ATTENTION
            outcome.payload = None
        with self._lock:
            self.tally[(outcome.object_type, outcome.action)] += 1
            if (outcome.object_type, outcome.moment_id) in self.retrying:
                self.retried_tally[(outcome.object_type, outcome.action)] += 1
            if keep:
                self.outcomes.append(outcome)
            for listener in self.listeners:
                listener(outcome)

    def revise(self, outcome: Outcome, previous: Action) -> None:
        """Replace a record's earlier outcome (``previous``) with its final one."""
        with self._lock:
            key = (outcome.object_type, previous)
            self.tally[key] = max(0, self.tally[key] - 1)
            if (outcome.object_type, outcome.moment_id) in self.retrying:
                self.retried_tally[key] = max(0, self.retried_tally[key] - 1)
            self.outcomes = [
                o
                for o in self.outcomes
                if not (o.object_type == outcome.object_type and o.moment_id == outcome.moment_id)
            ]
        self.add(outcome)

    def read_one(self) -> None:
        """One more record read from Moment's changes (``readers`` keep a going run's
        counts in the state); called on the reading thread."""
        for reader in self.readers:
            reader()

    def warn(self, text: str) -> None:
        """A run-level warning (not about one record's outcome), shown with the summary."""
        with self._lock:
            self.warnings.append(text)

    def count(self, object_type: str, action: Action) -> int:
        return self.tally[(object_type, action)]

    def retry(self, object_type: str, moment_id: int) -> None:
        """A record taken from the rejected queue, not from Moment's changes: it counts as
        read (read is the sum of the actions), and apart as retried, so "nothing changed
        in Moment" can still be said while the queue waits."""
        with self._lock:
            self.fetched[object_type] += 1
            self.retried[object_type] += 1
            self.retrying.add((object_type, moment_id))

    def fresh_actions(self) -> list[Action]:
        """The actions of the records Moment's changes brought (not the retried ones)."""
        with self._lock:
            return [
                action
                for kind, action in self.tally
                if self.tally[kind, action] > self.retried_tally[kind, action]
            ]

    def with_action(self, *actions: Action) -> list[Outcome]:
        return [o for o in self.outcomes if o.action in actions]

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return self.fatal.exit_code
        if any(n > 0 for (_, a), n in self.tally.items() if a in OPEN):
            return EXIT_REJECTED
        return EXIT_OK

    @property
    def outcome_word(self) -> str:
        if isinstance(self.fatal, Interrupted):
            return "interrupted"
        if self.fatal is not None:
            return "failed"
        return "rejected" if self.exit_code == EXIT_REJECTED else "ok"

    def counts(self) -> dict[str, dict[str, int]]:
        """{object type: {"fetched": n, action: n, ...}} for JSON and the run history."""
        result: dict[str, dict[str, int]] = {}
        for object_type in sorted({t for t, _ in self.tally} | set(self.fetched)):
            row = {"fetched": self.fetched[object_type], "retried": self.retried[object_type]}
            row.update({a.value: self.tally[(object_type, a)] for a in Action})
            result[object_type] = row
        return result
