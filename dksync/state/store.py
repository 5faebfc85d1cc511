"""The SQLite state: cursors, what was written, invoices posted, rejected records, run history.

Every change happens inside ``atomic()``; a cursor moves in the same transaction as
the records it covers. The schema is versioned: an older file is migrated in place, one
transaction per step, never dropped. A file that cannot be read stops the run: cursors are
never reset silently.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import Any

from dksync import jsonio
from dksync.state.files import now_text
from dksync.state.operator import OperatorRecords
from dksync.state.rows import Cursor, InvoiceRow, RejectedRow, WrittenRow

_INVOICE_COLUMNS = "moment_id, reference, status, dk_number, updated_at"
_REJECTED_COLUMNS = (
    "rowid AS id, object_type, moment_id, number, reason, attempts, first_seen, last_seen, "
    "dropped_at, dropped_note, code"
)


def _invoice(row: sqlite3.Row | None) -> InvoiceRow | None:
    return None if row is None else InvoiceRow(**dict(row))


def _rejected(row: sqlite3.Row) -> RejectedRow:
    return RejectedRow(**dict(row))


class State(OperatorRecords):
    """The state file's records: cursors, what was written, invoices, rejected records,
    notices and run history. Every change inside ``atomic()``."""

    # --- cursors ----------------------------------------------------------------------------

    def cursor(self, object_type: str) -> Cursor | None:
        row = self._one(
            "SELECT modified, record_id FROM cursors WHERE object_type = ?", (object_type,)
        )
        if row is None:
            return None
        with self._errors():
            return Cursor(datetime.fromisoformat(row["modified"]), int(row["record_id"]))

    def move_cursor(self, object_type: str, cursor: Cursor) -> None:
        """Store ``cursor`` if it is past the stored one; a cursor never moves back."""
        current = self.cursor(object_type)
        if current is not None and cursor <= current:
            return
        self._sql(
            "INSERT INTO cursors (object_type, modified, record_id, updated_at) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT(object_type) DO UPDATE SET "
            "modified = excluded.modified, record_id = excluded.record_id, "
            "updated_at = excluded.updated_at",
            (object_type, cursor.modified.isoformat(), cursor.record_id, now_text()),
        )

    # --- written records --------------------------------------------------------------------

    def written(self, object_type: str, moment_id: int) -> WrittenRow | None:
        """What dksync last wrote to DK+ for this record, or None."""
        row = self._one(
            "SELECT number, payload_hash, payload, updated_at FROM written "
            "WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        if row is None:
            return None
        with self._errors():
            body = None if row["payload"] is None else jsonio.loads(row["payload"])
            return WrittenRow(str(row["number"]), str(row["payload_hash"]), body, row["updated_at"])

    def record_written(
        self,
        object_type: str,
        moment_id: int,
        number: str,
        digest: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """What dksync wrote to DK+ for a record: its number, hash and (for comparing the
        next change without asking DK+) the body itself."""
        body = None if payload is None else jsonio.dumps(payload)
        self._sql(
            "INSERT INTO written (object_type, moment_id, number, payload_hash, updated_at, "
            "payload) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(object_type, moment_id) "
            "DO UPDATE SET number = excluded.number, payload_hash = excluded.payload_hash, "
            "updated_at = excluded.updated_at, payload = excluded.payload",
            (object_type, moment_id, number, digest, now_text(), body),
        )

    def written_counts(self) -> dict[str, int]:
        """How many customers, projects and products dksync wrote to DK+ (a lower bound on
        what it holds); invoices keep there only what was posted of them, for drift."""
        rows = self._all(
            "SELECT object_type, COUNT(*) FROM written WHERE object_type != 'invoices' "
            "GROUP BY object_type"
        )
        return {str(kind): int(count) for kind, count in rows}

    def wrote_number(self, object_type: str, number: str) -> bool:
        """Whether dksync wrote a record of this kind under this DK+ number."""
        found = self._one(
            "SELECT 1 FROM written WHERE object_type = ? AND number = ?", (object_type, number)
        )
        return found is not None

    def forget_written(self, object_type: str, moment_id: int) -> None:
        """DK+ no longer has what dksync wrote: the next write starts with a lookup."""
        self._sql(
            "DELETE FROM written WHERE object_type = ? AND moment_id = ?", (object_type, moment_id)
        )

    # --- customer facts (what an invoice needs of its customer, kept on disk, not in RAM) --

    def record_customer_facts(
        self, moment_id: int, number: str, name: str, kennitala: str | None
    ) -> None:
        self._sql(
            "INSERT INTO customer_facts (moment_id, number, name, kennitala, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(moment_id) DO UPDATE SET number = "
            "excluded.number, name = excluded.name, kennitala = excluded.kennitala, "
            "updated_at = excluded.updated_at",
            (moment_id, number, name, kennitala, now_text()),
        )

    def customer_facts(self, moment_id: int) -> tuple[str, str, str | None] | None:
        """(number, name, kennitala) of a customer written to DK+, or None."""
        row = self._one(
            "SELECT number, name, kennitala FROM customer_facts WHERE moment_id = ?", (moment_id,)
        )
        return None if row is None else (row["number"], row["name"], row["kennitala"])

    # --- invoices ---------------------------------------------------------------------------

    def invoice(self, moment_id: int) -> InvoiceRow | None:
        row = self._one(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE moment_id = ?",
            (moment_id,),
        )
        return _invoice(row)

    def mark_invoice(
        self,
        moment_id: int,
        reference: str,
        status: str,
        dk_number: int | None = None,
        detail: str = "",
    ) -> None:
        self._sql(
            "INSERT INTO invoices (moment_id, reference, status, dk_number, detail, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(moment_id) DO UPDATE SET "
            "status = excluded.status, dk_number = excluded.dk_number, "
            "detail = excluded.detail, updated_at = excluded.updated_at",
            (moment_id, reference, status, dk_number, detail, now_text()),
        )

    def reference_holder(self, reference: str, moment_id: int) -> InvoiceRow | None:
        """Another Moment invoice that holds this DK+ reference (its POST pending, uncertain
        or posted): one DK+ invoice per Moment invoice number."""
        row = self._one(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE reference = ? AND moment_id != ? "
            "AND status IN ('pending', 'uncertain', 'posted') ORDER BY moment_id LIMIT 1",
            (reference, moment_id),
        )
        return _invoice(row)

    def claim_number(self, object_type: str, number: str, moment_id: int) -> int | None:
        """Claim a DK+ number for one Moment record before anything is written under it
        (so a run killed after the write still holds it); the other Moment id when another
        record holds it (claimed, or written before claims existed). A record that claims a
        new number gives up its old one."""
        with self.atomic():
            other = self.claim_holder(object_type, number, moment_id)
            if other is not None:
                return other
            self._sql(
                "DELETE FROM claims WHERE object_type = ? AND moment_id = ?",
                (object_type, moment_id),
            )
            self._sql(
                "INSERT INTO claims (object_type, number, moment_id) VALUES (?, ?, ?)",
                (object_type, number, moment_id),
            )
            return None

    def claim_holder(self, object_type: str, number: str, moment_id: int) -> int | None:
        """Another Moment record that claimed this DK+ number or was written under it (a
        read only: the dry run claims in memory on top of it)."""
        row = self._one(
            "SELECT moment_id FROM claims WHERE object_type = ? AND number = ?",
            (object_type, number),
        )
        if row is not None and int(row[0]) != moment_id:
            return int(row[0])
        return self.number_holder(object_type, number, moment_id)

    def number_holder(self, object_type: str, number: str, moment_id: int) -> int | None:
        """Another Moment record written to DK+ under this DK+ number, or None."""
        row = self._one(
            "SELECT moment_id FROM written WHERE object_type = ? AND number = ? "
            "AND moment_id != ? ORDER BY moment_id LIMIT 1",
            (object_type, number, moment_id),
        )
        return None if row is None else int(row[0])

    # --- facts about the state file itself (its lineage) -------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._sql(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def invoices_with_status(self, status: str) -> list[InvoiceRow]:
        rows = self._all(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE status = ? ORDER BY moment_id",
            (status,),
        )
        return [InvoiceRow(**dict(row)) for row in rows]

    def posted_count(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM invoices WHERE status = 'posted'")[0])

    # --- rejected records -------------------------------------------------------------------

    def reject(
        self, object_type: str, moment_id: int, number: str, reason: str, code: str | None = None
    ) -> None:
        stamp = now_text()
        self._sql(
            "INSERT INTO rejected (object_type, moment_id, number, reason, attempts, first_seen, "
            "last_seen, code) VALUES (?, ?, ?, ?, 1, ?, ?, ?) "
            "ON CONFLICT(object_type, moment_id) DO UPDATE SET reason = excluded.reason, "
            "number = excluded.number, attempts = attempts + 1, last_seen = excluded.last_seen, "
            "code = excluded.code",
            (object_type, moment_id, number, reason, stamp, stamp, code),
        )

    def clear_rejected(self, object_type: str, moment_id: int) -> None:
        self._sql(
            "DELETE FROM rejected WHERE object_type = ? AND moment_id = ? AND dropped_at IS NULL",
            (object_type, moment_id),
        )

    def rejected(
        self, object_type: str | None = None, *, include_dropped: bool = False
    ) -> list[RejectedRow]:
        sql = f"SELECT {_REJECTED_COLUMNS} FROM rejected WHERE (? IS NULL OR object_type = ?)"
        if not include_dropped:
            sql += " AND dropped_at IS NULL"
        rows = self._all(sql + " ORDER BY object_type, moment_id", (object_type, object_type))
        return [_rejected(row) for row in rows]

    def drop_rejected(self, row_id: int, note: str) -> RejectedRow | None:
        """Give a rejected record up on purpose; the drop and its note are kept. One
        dropped already is answered as it is (its first drop, note and time stand)."""
        with self.atomic():
            before = self._one(
                f"SELECT {_REJECTED_COLUMNS} FROM rejected WHERE rowid = ?", (row_id,)
            )
            if before is not None and _rejected(before).dropped_at is not None:
                return _rejected(before)
            self._sql(
                "UPDATE rejected SET dropped_at = ?, dropped_note = ? "
                "WHERE rowid = ? AND dropped_at IS NULL",
                (now_text(), note, row_id),
            )
            row = self._one(f"SELECT {_REJECTED_COLUMNS} FROM rejected WHERE rowid = ?", (row_id,))
            found = None if row is None else _rejected(row)
            if found is not None:
                self.add_event("drop", f"{found.label}: {note}")
        return found

    def undrop_rejected(self, row_id: int) -> RejectedRow | None:
        """Take a drop back: the record is in the queue again and retried by the next run.
        None when no dropped record has that ID."""
        with self.atomic():
            row = self._one(
                f"SELECT {_REJECTED_COLUMNS} FROM rejected "
                "WHERE rowid = ? AND dropped_at IS NOT NULL",
                (row_id,),
            )
            if row is None:
                return None
            self._sql(
                "UPDATE rejected SET dropped_at = NULL, dropped_note = NULL WHERE rowid = ?",
                (row_id,),
            )
            found = _rejected(row)
            self.add_event("undrop", found.label)
        return replace(found, dropped_at=None, dropped_note=None)

    def moment_id_for(self, object_type: str, number: str) -> int | None:
        """The Moment id of a record dksync has seen, by the number people know it by."""
        queries: list[tuple[str, tuple[str, ...]]] = [
            (
                "SELECT moment_id FROM written WHERE object_type = ? AND number = ?",
                (object_type, number),
            ),
            (
                "SELECT moment_id FROM rejected WHERE object_type = ? AND number = ?",
                (object_type, number),
            ),
        ]
        if object_type == "invoices":
            queries.insert(0, ("SELECT moment_id FROM invoices WHERE reference = ?", (number,)))
        for sql, args in queries:
            row = self._one(sql, args)
            if row is not None:
                return int(row[0])
        return None
