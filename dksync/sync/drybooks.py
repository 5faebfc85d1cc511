"""The books of a dry run: the same standings and report as a run's, nothing written; the
claims a run makes in the state are made in memory, on top of a read of the state."""

from __future__ import annotations

from dksync.errors import RecordRejected
from dksync.kinds import ObjectKind
from dksync.outcome import Outcome, RunReport
from dksync.state.rows import InvoiceRow
from dksync.state.store import State
from dksync.sync.books import DUPLICATE, Books, Facts, held_text


class DryBooks(Books):
    """The books of a dry run: the same standings and report, nothing written anywhere."""

    _keep_in_memory = True

    def __init__(self, state: State, report: RunReport) -> None:
        super().__init__(state, report)
        self._dry_facts: dict[int, Facts] = {}
        self._dry_claims: dict[str, int] = {}
        self._dry_numbers: dict[tuple[str, str], int] = {}
        self._dry_forgotten: set[int] = set()

    def _facts(self, moment_id: int) -> Facts | None:
        return self._dry_facts.get(moment_id) or super()._facts(moment_id)

    def _store(self, outcome: Outcome) -> None:
        if outcome.facts is not None:
            with self._lock:
                self._dry_facts[outcome.moment_id] = outcome.facts

    def forget(self, kind: ObjectKind, key: int | str) -> None:
        with self._lock:
            self._table.pop((kind, key), None)

    def invoice(self, moment_id: int) -> InvoiceRow | None:
        with self._lock:
            if moment_id in self._dry_forgotten:
                return None
        return super().invoice(moment_id)

    def forget_invoice(self, moment_id: int, event: str) -> None:
        """The run would forget the posted invoice and send it again: so does this one, in
        memory (the state is only read)."""
        with self._lock:
            self._dry_forgotten.add(moment_id)

    def warn(self, kind: ObjectKind, label: str, text: str) -> None:
        self.report.warn(f"{kind.singular} {label}: {text}")

    def before_post(self, moment_id: int, reference: str) -> None:
        """Nothing is posted in a dry run, but the reference is claimed in memory the same
        way, so the dry run says what the run will do."""
        self.refuse_taken(moment_id, reference)
        with self._lock:
            other = self._dry_claims.setdefault(reference, moment_id)
        if other != moment_id:
            raise RecordRejected(held_text(reference, other, None, moment_id), DUPLICATE)

    def _claim(self, namespace: str, number: str, moment_id: int) -> int | None:
        """The same claim as a run's (a DK+ number, a kennitala), held in memory (the state
        is only read)."""
        with self._lock:
            other = self._dry_numbers.get((namespace, number), moment_id)
            if other == moment_id:
                other = self.state.claim_holder(namespace, number, moment_id) or moment_id
            if other == moment_id:
                self._dry_numbers[(namespace, number)] = moment_id
        return None if other == moment_id else other

    def refuse_taken(self, moment_id: int, reference: str) -> None:
        super().refuse_taken(moment_id, reference)
        with self._lock:
            other = self._dry_claims.get(reference, moment_id)
        if other != moment_id:
            raise RecordRejected(held_text(reference, other, None, moment_id), DUPLICATE)
