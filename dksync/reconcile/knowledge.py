"""What dksync's state says about an invoice, read without writing a byte.

Reconciliation must never change the state: no migration, no journal-mode switch, no
lock file. So the file is opened read-only through SQLite's URI (``mode=ro``), and only
when it exists; a missing file just means dksync has sent nothing from here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dksync.errors import StateError
from dksync.kinds import InvoiceState, ObjectKind
from dksync.state.files import explain
from dksync.state.migrations import MIGRATIONS
from dksync.state.rows import RejectedRow
from dksync.state.store import State

NEVER_SENT = "never sent"


class Knowledge:
    """dksync's own account of each invoice: posted, uncertain, rejected, or nothing."""

    def __init__(self, state: State | None) -> None:
        self._state = state
        self._rejected: dict[int, RejectedRow] = {}
        if state is not None:
            rows = state.rejected(ObjectKind.INVOICES, include_dropped=True)
            self._rejected = {row.moment_id: row for row in rows}

    @classmethod
    def open(cls, path: Path) -> Knowledge:
        if not path.exists():
            return cls(None)
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            state = State(connection, path)
            version = state.schema_version
        except sqlite3.DatabaseError as exc:
            raise StateError(explain(path, exc)) from exc
        if version != len(MIGRATIONS):
            state.close()
            raise StateError(
                f"the state file {path} has schema {version}, this dksync reads "
                f"{len(MIGRATIONS)}: run 'dksync status' once to migrate it (reconcile "
                "never writes to it)"
            )
        return cls(state)

    def close(self) -> None:
        if self._state is not None:
            self._state.close()

    def why_missing(self, moment_id: int) -> str:
        """Why DK+ may not have this invoice, as far as dksync knows."""
        row = self._state.invoice(moment_id) if self._state is not None else None
        status = _state_of(row.status) if row is not None else None
        if row is not None and status is InvoiceState.POSTED:
            return (
                f"dksync posted it as DK+ {row.dk_number} ({row.updated_at}); DK+ no longer "
                "has it: deleted or renumbered in DK+?"
            )
        if row is not None and status is not None and status.in_flight:
            return (
                f"uncertain since {row.updated_at}: a POST may have reached DK+; the next "
                "run looks it up before anything else"
            )
        rejected = self._rejected.get(moment_id)
        if rejected is not None and rejected.dropped_at is not None:
            note = rejected.dropped_note or "no note"
            return f"given up on {rejected.dropped_at} ({note}); rejected: {rejected.reason}"
        if rejected is not None:
            return f"rejected by dksync: {rejected.reason}"
        return NEVER_SENT


def _state_of(word: str) -> InvoiceState | None:
    """The stored invoice state, or None for a word this dksync does not know."""
    try:
        return InvoiceState(word)
    except ValueError:
        return None
