"""The books of a run: the one place that writes the state and the report for every record.

Sync steps decide and return an ``Outcome``; ``Books.record`` stores it: a rejection with its
reason and code, what was written (its hash, and a customer's facts), an invoice's state, and
this run's standing of the record, which later records of the run depend on. ``DryBooks`` is
its twin for a dry run: the same decisions, kept in memory, nothing written.

The per-run standings table holds one small entry per (kind, key) that is in DK+ or rejected.
An "in DK+" entry the state stores (its hash) is not kept while its own kind's stream runs
(nothing in that stream reads it, and the state answers it from then on), and those recorded
before the stream are dropped at its end, so memory stays flat however big the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dksync import logs
from dksync.errors import DksyncError, FatalError, RecordRejected
from dksync.jsonio import fingerprint
from dksync.kinds import InvoiceState, ObjectKind, ReasonCode
from dksync.outcome import Action, Outcome, RunReport
from dksync.state.rows import Cursor, InvoiceRow, RejectedRow, WrittenRow
from dksync.state.store import State
from dksync.sync.ledger import ledger_entry
from dksync.transport.trail import forget_endpoint, last_endpoint

log = logging.getLogger("dksync.books")

Key = tuple[ObjectKind, int | str]
Facts = tuple[str, str, str | None]

WROTE = frozenset({Action.CREATE, Action.UPDATE, Action.ADOPT})
KENNITALA = "kennitala"
"""The claims of customers' kennitölur, beside those of DK+ numbers (by object type)."""
IN_DKPLUS = frozenset({Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.ADOPT, Action.DRIFT})
"""Outcomes after which the record exists in DK+ (drift: it exists, but differs)."""


@dataclass(frozen=True, slots=True)
class Standing:
    """What this run knows of one record: in DK+ (with its DK+ number), or rejected and why."""

    in_dkplus: bool
    number: str | None = None
    reason: str | None = None
    stored: bool = False


class Books:
    """Records every outcome of a run in the state file and the report, in one place."""

    _keep_in_memory = False
    """Whether "in DK+" standings stay in RAM after their stream (a dry run stores nothing,
    so only RAM can answer them)."""

    def __init__(self, state: State, report: RunReport) -> None:
        self.state = state
        self.report = report
        self._table: dict[Key, Standing] = {}
        self._fresh: set[ObjectKind] = set()
        self._streaming: ObjectKind | None = None
        self._posting: set[int] = set()
        self._lock = threading.Lock()

    # --- reading ----------------------------------------------------------------------------

    def standing(self, kind: ObjectKind, key: int | str) -> Standing | None:
        """This run's standing of a record, or None when the run has not decided it."""
        with self._lock:
            return self._table.get((kind, key))

    def written(self, kind: ObjectKind, moment_id: int) -> WrittenRow | None:
        """What dksync last wrote for this record before this run (None: ask DK+)."""
        return self.state.written(kind, moment_id)

    def written_number(self, kind: ObjectKind, moment_id: int) -> str | None:
        """The DK+ number under which dksync wrote this record, in this run or before."""
        standing = self.standing(kind, moment_id)
        if standing is not None:
            return standing.number if standing.in_dkplus else None
        written = self.state.written(kind, moment_id)
        return None if written is None else written.number

    def invoice(self, moment_id: int) -> InvoiceRow | None:
        return self.state.invoice(moment_id)

    def customer_facts(self, moment_id: int) -> Facts | None:
        """(number, name, kennitala) of a customer, when known to be current: written in this
        run, or the customers stream was read whole in this run (``mark_fresh``)."""
        standing = self.standing(ObjectKind.CUSTOMERS, moment_id)
        if standing is None and ObjectKind.CUSTOMERS not in self._fresh:
            return None
        if standing is not None and not standing.in_dkplus:
            return None
        return self._facts(moment_id)

    def _facts(self, moment_id: int) -> Facts | None:
        return self.state.customer_facts(moment_id)

    # --- writing ----------------------------------------------------------------------------

    def take(
        self, kind: ObjectKind, ident: int, label: str, step: Callable[[], Outcome]
    ) -> Outcome:
        """Run one record's sync step and record what it decided. The boundary of one
        record: whatever the step raises ends this record only (``failed``); only a
        ``FatalError`` (credentials, config, state, a service down, a signal) passes on."""
        forget_endpoint()
        try:
            outcome = step()
        except FatalError:
            raise
        except Exception as exc:
            outcome = self.failed(kind, ident, label, exc)
        return self.record(outcome)

    def failed(self, kind: ObjectKind, ident: int, label: str, exc: Exception) -> Outcome:
        """What a failure of one record's step means for that record: its rejection with a
        reason code, or, when its invoice POST may have reached DK+, uncertain (the
        reference is looked up before any new attempt)."""
        with self._lock:
            posting = kind is ObjectKind.INVOICES and ident in self._posting
        if isinstance(exc, RecordRejected) and not posting:
            return Outcome(kind, ident, label, Action.REJECT, str(exc), code=exc.code)
        if isinstance(exc, ArithmeticError) and not posting:
            return Outcome(
                kind,
                ident,
                label,
                Action.REJECT,
                f"holds a number that cannot be an amount ({type(exc).__name__}): fix it in Moment",
                code=ReasonCode.BAD_VALUE,
            )
        where = last_endpoint()
        what = f"{type(exc).__name__}" + (f" at {where}" if where else "")
        log.debug("%s %s: unexpected %s: %s", kind.value, label, what, logs.causes(exc))
        said = f": {exc}" if isinstance(exc, DksyncError) and str(exc) else ""
        if posting:
            return Outcome(
                kind,
                ident,
                label,
                Action.UNCERTAIN,
                f"failed after its POST ({what}{said}): it may be in DK+; looked up by "
                "reference before any new attempt",
                code=ReasonCode.UNCERTAIN,
                invoice_state=InvoiceState.UNCERTAIN,
            )
        return Outcome(
            kind,
            ident,
            label,
            Action.REJECT,
            f"failed unexpectedly ({what}{said}); tried again next run. Run with -vv "
            "--log-file for the details",
            code=ReasonCode.UNEXPECTED,
        )

    def record(self, outcome: Outcome) -> Outcome:
        """Store one record's outcome in the state and the report, and its standing."""
        kind = ObjectKind(outcome.object_type)
        # nothing depends on an invoice: the state alone keeps those
        standing = None if kind is ObjectKind.INVOICES else _standing(outcome)
        key = product_key(outcome.label) if kind is ObjectKind.PRODUCTS else outcome.moment_id
        self._store(outcome)
        with self._lock:
            if kind is ObjectKind.INVOICES:
                self._posting.discard(outcome.moment_id)
            if standing is not None and self._keeps(kind, standing):
                self._table[(kind, key)] = standing
            elif standing is not None:
                self._table.pop((kind, key), None)
        self.report.add(outcome)
        return outcome

    def revise(self, outcome: Outcome, previous: Action) -> Outcome:
        """Record the final outcome of a record this run already reported as ``previous``
        (an invoice whose lost answer was settled at the end of the run)."""
        self._store(outcome)
        with self._lock:
            self._posting.discard(outcome.moment_id)
        self.report.revise(outcome, previous)
        return outcome

    def forget(self, kind: ObjectKind, key: int | str) -> None:
        """DK+ proved a belief wrong (a record dksync wrote is not there): forget it, so the
        record is looked up and written again."""
        with self._lock:
            self._table.pop((kind, key), None)
        if isinstance(key, int):
            with self.state.atomic():
                self.state.forget_written(kind, key)

    def forget_invoice(self, moment_id: int, event: str) -> None:
        """DK+ was asked and holds no invoice under this one's reference: the state stops
        saying it is posted, so it is sent again (``resync --force``), and the event keeps
        what it was."""
        with self.state.atomic():
            self.state.forget_invoice(moment_id)
            self.state.add_event("resend", event)

    def warn(self, kind: ObjectKind, label: str, text: str) -> None:
        """A record was written, with something a person should know (DK+ refused its
        kennitala, say): in the run's warnings, and as a ``warning`` event in the state,
        shown with that record's history."""
        self.report.warn(f"{kind.singular} {label}: {text}")
        with self.state.atomic():
            self.state.add_event("warning", f"{kind.value} {label} {text}")

    def before_post(self, moment_id: int, reference: str) -> None:
        """Mark an invoice pending before its POST: if the run dies during it, the next run
        looks the reference up before anything else. From now until its outcome is
        recorded, a failure of its step leaves it uncertain, never rejected."""
        with self.state.atomic():
            _refuse_held(self.state.reference_holder(reference, moment_id), moment_id, reference)
            self.state.mark_invoice(moment_id, reference, InvoiceState.PENDING)
        with self._lock:
            self._posting.add(moment_id)

    def refuse_taken(self, moment_id: int, reference: str) -> None:
        """``duplicate_number`` when another Moment invoice holds this reference: checked
        before any lookup (so a second invoice never adopts the first's DK+ invoice), and
        claimed for good by ``before_post``."""
        _refuse_held(self.state.reference_holder(reference, moment_id), moment_id, reference)

    def claim_number(self, kind: ObjectKind, number: str, moment_id: int) -> None:
        """One Moment record per DK+ number: claimed in the state before the write, and
        refused (``duplicate_number``) when another Moment record holds it ("10001" and
        "10001 " are never merged silently, even by a run killed between write and books).
        A dry run claims in its in-memory copy of the state, the same way."""
        refuse_number(kind, number, moment_id, self._claim(kind, number, moment_id))

    def claim_kennitala(self, digits: str, moment_id: int, label: str) -> None:
        """One Moment customer per kennitala, so DK+ never gets a second debtor for one
        company: claimed in the state before the customer is written (in one transaction,
        so two customers written at once cannot both have it), and refused
        (``kennitala_taken``) naming the Moment customer, and DK+ customer, that holds it."""
        other = self._claim(KENNITALA, digits, moment_id)
        if other is None:
            return
        facts = self._facts(other)
        holder = f"Moment customer {facts[0]}" if facts else f"Moment customer id {other}"
        dk_number = self.written_number(ObjectKind.CUSTOMERS, other)
        where = f" (DK+ customer {dk_number})" if dk_number else ""
        link = f"customers.link: {{{label}: {dk_number}}}" if dk_number else "customers.link"
        raise RecordRejected(
            f"kennitala {digits} is already {holder}'s{where}; writing customer {label} too "
            "would make a second debtor in DK+ for one kennitala. Not written: merge the two "
            f"in Moment, give it its own kennitala, or send its invoices to that debtor with "
            f"{link}",
            ReasonCode.KENNITALA_TAKEN,
        )

    def _claim(self, namespace: str, number: str, moment_id: int) -> int | None:
        """Claim ``number`` in ``namespace`` for one Moment record: the other one holding it."""
        return self.state.claim_number(namespace, number, moment_id)

    def cursor(self, kind: str) -> Cursor | None:
        """Where this kind's last run left off in Moment's change stream."""
        return self.state.cursor(kind)

    def move_cursor(self, kind: str, cursor: Cursor) -> None:
        """Past everything below ``cursor`` (never back); a dry run keeps it where it is."""
        if self.report.dry_run:
            return
        with self.state.atomic():
            self.state.move_cursor(kind, cursor)

    def waiting(self, kind: str) -> list[RejectedRow]:
        """The rejected queue of this kind: records tried again until fixed or dropped."""
        return self.state.rejected(kind)

    def begin_stream(self, kind: ObjectKind) -> None:
        """A stream of ``kind`` starts: its stored "in DK+" standings are not kept in RAM
        while it runs (see the module doc)."""
        with self._lock:
            self._streaming = kind

    def _keeps(self, kind: ObjectKind, standing: Standing) -> bool:
        """Whether a standing stays in RAM (callers hold the lock): all but the stored
        "in DK+" ones of the kind whose stream runs, which the state answers."""
        stored = standing.in_dkplus and standing.stored
        return self._keep_in_memory or not (stored and kind is self._streaming)

    def end_stream(self, kind: ObjectKind, read_whole: bool) -> None:
        """A stream is done. Its "in DK+" standings leave RAM (the state answers them now);
        when it was read whole from its cursor, customers' stored facts are current."""
        if read_whole:
            self._fresh.add(kind)
        with self._lock:
            self._streaming = None
            self._table = {
                key: value
                for key, value in self._table.items()
                if key[0] is not kind or not value.stored or self._keep_in_memory
            }

    def _store(self, outcome: Outcome) -> None:
        """The state-file side of ``record``, in one transaction."""
        kind = ObjectKind(outcome.object_type)
        with self.state.atomic():
            if outcome.action is Action.REJECT:
                if outcome.moment_id:
                    self.state.reject(
                        kind, outcome.moment_id, outcome.label, outcome.detail, outcome.code
                    )
            elif outcome.action in IN_DKPLUS and kind is not ObjectKind.PRODUCTS:
                self.state.clear_rejected(kind, outcome.moment_id)
                if outcome.action in WROTE:  # skipped once (a draft), written now
                    self.state.clear_skip(kind, outcome.moment_id)
            elif outcome.action is Action.SKIP and outcome.moment_id:
                self.state.record_skip(kind, outcome.moment_id, outcome.label, outcome.detail)
            if outcome.digest is not None and outcome.dk_number is not None:
                self.state.record_written(
                    kind, outcome.moment_id, outcome.dk_number, outcome.digest, outcome.payload
                )
            if outcome.facts is not None:
                self.state.record_customer_facts(outcome.moment_id, *outcome.facts)
            if outcome.posted is not None:
                self.state.record_written(
                    kind,
                    outcome.moment_id,
                    outcome.dk_number or "",
                    fingerprint(outcome.posted),
                    outcome.posted,
                )
            entry = ledger_entry(outcome)
            if entry is not None:
                self.state.add_ledger(entry)
            if outcome.invoice_state is not None:
                self.state.mark_invoice(
                    outcome.moment_id,
                    outcome.label,
                    outcome.invoice_state,
                    _int(outcome.dk_number),
                    outcome.detail if outcome.invoice_state is not InvoiceState.POSTED else "",
                )


DUPLICATE = ReasonCode.DUPLICATE_NUMBER


def refuse_number(kind: ObjectKind, number: str, moment_id: int, other: int | None) -> None:
    """Refuse a DK+ number another Moment record holds."""
    if other is not None:
        raise RecordRejected(
            f"DK+ {kind.singular} number {number} belongs to Moment {kind.singular} id "
            f"{other}; this is Moment id {moment_id}: two Moment {kind.value} map to one "
            "DK+ number. Not written: give them distinct numbers in Moment",
            ReasonCode.DUPLICATE_NUMBER,
        )


def _refuse_held(other: InvoiceRow | None, moment_id: int, reference: str) -> None:
    """Refuse the claim on ``reference`` when another Moment invoice holds it."""
    if other is not None:
        raise RecordRejected(
            held_text(reference, other.moment_id, other.dk_number, moment_id), DUPLICATE
        )


def held_text(reference: str, other: int, dk_number: int | None, moment_id: int) -> str:
    where = f" (DK+ {dk_number})" if dk_number is not None else ""
    return (
        f"invoice number {reference} is already claimed{where} by Moment invoice id {other}; "
        f"this is Moment invoice id {moment_id}: two Moment invoices share one number. "
        "Not posted: fix the number in Moment"
    )


def _standing(outcome: Outcome) -> Standing | None:
    """What later records of the run may rely on after this outcome (None: nothing)."""
    if outcome.action is Action.REJECT:
        return Standing(False, reason=outcome.detail)
    if outcome.action in IN_DKPLUS:
        stored = outcome.digest is not None
        return Standing(True, number=outcome.dk_number, stored=stored)
    return None


def product_key(item_code: str) -> str:
    """DK+ item codes are case-insensitive."""
    return item_code.upper()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
