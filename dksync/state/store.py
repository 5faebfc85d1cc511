"""The SQLite state: cursors, what was written, invoices posted, rejected records, run history.

Every change happens inside ``transaction()``; a cursor moves in the same transaction as
the records it covers. The schema is versioned: an older file is migrated in place, one
transaction per step, never dropped. A file that cannot be read stops the run: cursors are
never reset silently.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dksync import jsonio
from dksync.errors import StateError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cursors (
        object_type TEXT PRIMARY KEY, modified TEXT NOT NULL, record_id INTEGER NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE TABLE written (
        object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, number TEXT NOT NULL,
        payload_hash TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (object_type, moment_id));
    CREATE TABLE invoices (
        moment_id INTEGER PRIMARY KEY, reference TEXT NOT NULL, status TEXT NOT NULL,
        dk_number INTEGER, detail TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL);
    CREATE TABLE rejected (
        object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, number TEXT NOT NULL,
        reason TEXT NOT NULL, attempts INTEGER NOT NULL, first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL, dropped_at TEXT,
        PRIMARY KEY (object_type, moment_id));
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
        outcome TEXT, counts TEXT NOT NULL DEFAULT '{}');
    """,
    """
    ALTER TABLE rejected ADD COLUMN dropped_note TEXT;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL,
        detail TEXT NOT NULL);
    """,
    """
    CREATE TABLE notices (
        channel TEXT PRIMARY KEY, fingerprint TEXT, sent_at TEXT NOT NULL);
    """,
    """
    CREATE TABLE customer_facts (
        moment_id INTEGER PRIMARY KEY, number TEXT NOT NULL, name TEXT NOT NULL,
        kennitala TEXT, updated_at TEXT NOT NULL);
    """,
    """
    ALTER TABLE rejected ADD COLUMN code TEXT;
    CREATE INDEX invoices_by_reference ON invoices (reference);
    """,
    """
    ALTER TABLE written ADD COLUMN payload TEXT;
    """,
    """
    ALTER TABLE runs ADD COLUMN error TEXT;
    CREATE TABLE skipped (
        object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, number TEXT NOT NULL,
        reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (object_type, moment_id));
    """,
)


@dataclass(frozen=True, order=True, slots=True)
class Cursor:
    """A position in Moment's change stream: last modified time, then id to break ties."""

    modified: datetime
    record_id: int


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    moment_id: int
    reference: str
    status: str
    dk_number: int | None
    updated_at: str

    def age_seconds(self, now: datetime) -> float:
        """How long ago this row last changed (a pending POST may still be in flight)."""
        return (now - datetime.fromisoformat(self.updated_at)).total_seconds()


@dataclass(frozen=True, slots=True)
class RejectedRow:
    id: int
    object_type: str
    moment_id: int
    number: str
    reason: str
    attempts: int
    first_seen: str
    last_seen: str
    dropped_at: str | None
    dropped_note: str | None
    code: str | None = None


_INVOICE_COLUMNS = "moment_id, reference, status, dk_number, updated_at"


def explain(path: Path, exc: BaseException) -> str:
    """What went wrong with the state file and what to do, without a traceback."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, OSError):
        text = exc.strerror or text
        if exc.errno in (errno.EEXIST, errno.ENOTDIR):
            text += f": a part of {path.parent} is a file, not a folder"
        hint = "dksync must be able to create and write the file in its folder"
    elif "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        hint = "dksync must be able to write the file and its folder (for the WAL files)"
    elif "locked" in lowered or "busy" in lowered:
        hint = "another program holds it; close it and try again"
    elif isinstance(exc, OverflowError):
        hint = "a number is too large to be stored; nothing was written"
    else:
        hint = (
            "it was left as it is. Restore a backup, or move it away to start again from "
            "sync.start_from"
        )
    return f"the state file {path} cannot be used ({text}); {hint}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _could_hold(path: Path) -> None:
    """A state file that does not exist yet must be creatable: its nearest existing folder
    must be a folder (a read-only look says so now, not the first real run)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))


class State:
    """One open state file. Not shared between processes (the run lock sees to that)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> State:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise StateError(explain(path, exc)) from exc
        state = cls(connection, path)
        try:
            with state._errors():
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=FULL")
                state._migrate()
        except StateError:
            connection.close()
            raise
        return state

    @classmethod
    def snapshot(cls, path: Path) -> State:
        """An in-memory copy of the state file, for a dry run: nothing is created or
        written on disk, not even SQLite's side files. Without a ``-wal`` file the main
        file is complete and is read as immutable; with one (a run is going, or one was
        killed) it is read through SQLite's read-only mode, which uses the existing files."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            _could_hold(path)
            if path.exists():
                wal = path.with_name(path.name + "-wal").exists()
                uri = path.absolute().as_uri() + ("?mode=ro" if wal else "?immutable=1")
                source = sqlite3.connect(uri, uri=True)
                try:
                    source.backup(memory)
                finally:
                    source.close()
            state = cls(memory, path)
            state._migrate()
        except (sqlite3.Error, OSError) as exc:
            memory.close()
            raise StateError(explain(path, exc)) from exc
        return state

    def close(self) -> None:
        with self._errors():
            self._db.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every SQLite failure, and a row that cannot be read back (garbled by hand),
        leaves as a ``StateError`` naming this file (exit 5)."""
        try:
            yield
        except (sqlite3.Error, OverflowError, ValueError, TypeError) as exc:
            raise StateError(explain(self.path, exc)) from exc

    @property
    def schema_version(self) -> int:
        return int(self._one("PRAGMA user_version")[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state file {self.path} was written by a newer dksync "
                f"(schema {version}); upgrade dksync to use it"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    self._sql(statement)
                self._sql(f"PRAGMA user_version = {number}")

    def _sql(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """One statement, serialised with every other thread's use of this connection;
        answers the new row's id for an INSERT."""
        with self._lock, self._errors():
            return self._db.execute(sql, args).lastrowid or 0

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock, self._errors():
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock, self._errors():
            return self._db.execute(sql, args).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error. Holds this state's lock for the
        whole transaction, so statements of other threads never slip into it."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._sql("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # the first failure is the one to tell
                    self._db.execute("ROLLBACK")
                raise
            self._sql("COMMIT")

    # --- cursors ----------------------------------------------------------------------------

    def cursor(self, object_type: str) -> Cursor | None:
        row = self._one(
            "SELECT modified, record_id FROM cursors WHERE object_type = ?", (object_type,)
        )
        if row is None:
            return None
        with self._errors():
            return Cursor(datetime.fromisoformat(row[0]), int(row[1]))

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

    def written_hash(self, object_type: str, moment_id: int) -> str | None:
        row = self._one(
            "SELECT payload_hash FROM written WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        return None if row is None else str(row[0])

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

    def written_payload(self, object_type: str, moment_id: int) -> dict[str, Any] | None:
        """The body dksync last wrote to DK+ for this record, when it kept it."""
        row = self._one(
            "SELECT payload FROM written WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        if row is None or row[0] is None:
            return None
        found: dict[str, Any] = jsonio.loads(row[0])
        return found

    def written_counts(self) -> dict[str, int]:
        """How many records of each kind dksync wrote to DK+ (a lower bound on what it holds)."""
        rows = self._all("SELECT object_type, COUNT(*) FROM written GROUP BY object_type")
        return {str(kind): int(count) for kind, count in rows}

    def written_number(self, object_type: str, moment_id: int) -> str | None:
        row = self._one(
            "SELECT number FROM written WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        return None if row is None else str(row[0])

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
        return None if row is None else (row[0], row[1], row[2])

    # --- invoices ---------------------------------------------------------------------------

    def invoice(self, moment_id: int) -> InvoiceRow | None:
        row = self._one(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE moment_id = ?",
            (moment_id,),
        )
        return None if row is None else InvoiceRow(*row)

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

    def forget_invoice(self, moment_id: int) -> None:
        """DK+ was asked and holds no invoice under this one's reference: the state stops
        saying it is posted, so it can be sent again (``resync --force``)."""
        self._sql("DELETE FROM invoices WHERE moment_id = ?", (moment_id,))

    def invoice_with_reference(self, reference: str) -> InvoiceRow | None:
        """The Moment invoice dksync posted (or is posting) under this DK+ reference."""
        row = self._one(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE reference = ? "
            "ORDER BY moment_id LIMIT 1",
            (reference,),
        )
        return None if row is None else InvoiceRow(*row)

    def invoices_with_status(self, status: str) -> list[InvoiceRow]:
        rows = self._all(
            f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE status = ? ORDER BY moment_id",
            (status,),
        )
        return [InvoiceRow(*row) for row in rows]

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
        sql = "SELECT rowid, * FROM rejected WHERE (? IS NULL OR object_type = ?)"
        if not include_dropped:
            sql += " AND dropped_at IS NULL"
        rows = self._all(sql + " ORDER BY object_type, moment_id", (object_type, object_type))
        return [RejectedRow(*row) for row in rows]

    def drop_rejected(self, row_id: int, note: str) -> RejectedRow | None:
        """Give a rejected record up on purpose; the drop and its note are kept."""
        with self.transaction():
            self._sql(
                "UPDATE rejected SET dropped_at = ?, dropped_note = ? "
                "WHERE rowid = ? AND dropped_at IS NULL",
                (now_text(), note, row_id),
            )
            row = self._one("SELECT rowid, * FROM rejected WHERE rowid = ?", (row_id,))
            if row is not None:
                self.add_event("drop", f"{row[1]} {row[3]} (Moment id {row[2]}): {note}")
        return None if row is None else RejectedRow(*row)

    def undrop_rejected(self, row_id: int) -> RejectedRow | None:
        """Take a drop back: the record is in the queue again and retried by the next run.
        None when no dropped record has that ID."""
        with self.transaction():
            row = self._one(
                "SELECT rowid, * FROM rejected WHERE rowid = ? AND dropped_at IS NOT NULL",
                (row_id,),
            )
            if row is None:
                return None
            self._sql(
                "UPDATE rejected SET dropped_at = NULL, dropped_note = NULL WHERE rowid = ?",
                (row_id,),
            )
            self.add_event("undrop", f"{row[1]} {row[3]} (Moment id {row[2]})")
        return replace(RejectedRow(*row), dropped_at=None, dropped_note=None)

    def written_at(self, object_type: str, moment_id: int) -> tuple[str, str] | None:
        """(number, when) of the last payload written to DK+ for a customer or project."""
        row = self._one(
            "SELECT number, updated_at FROM written WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        return None if row is None else (str(row[0]), str(row[1]))

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
            (
                "SELECT moment_id FROM skipped WHERE object_type = ? AND number = ?",
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

    def record_skip(self, object_type: str, moment_id: int, number: str, reason: str) -> None:
        """A record a run saw and left alone on purpose (a draft, "do not transfer"), so
        ``show`` can say why it was not sent."""
        self._sql(
            "INSERT INTO skipped (object_type, moment_id, number, reason, at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(object_type, moment_id) DO UPDATE SET "
            "number = excluded.number, reason = excluded.reason, at = excluded.at",
            (object_type, moment_id, number, reason, now_text()),
        )

    def skip_of(self, object_type: str, moment_id: int) -> tuple[str, str] | None:
        """(why, when) the last run that saw this record skipped it, or None."""
        row = self._one(
            "SELECT reason, at FROM skipped WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        return None if row is None else (str(row[0]), str(row[1]))

    # --- notifications --------------------------------------------------------------------

    def last_notice(self, channel: str) -> str | None:
        """The fingerprint of the problem last notified on ``channel`` (None: all was well)."""
        row = self._one("SELECT fingerprint FROM notices WHERE channel = ?", (channel,))
        return None if row is None else row[0]

    def record_notice(self, channel: str, fingerprint: str | None) -> None:
        with self.transaction():
            self._sql(
                "INSERT INTO notices (channel, fingerprint, sent_at) VALUES (?, ?, ?) "
                "ON CONFLICT(channel) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "sent_at = excluded.sent_at",
                (channel, fingerprint, now_text()),
            )

    # --- audit log and run history ------------------------------------------------------

    def add_event(self, kind: str, detail: str) -> None:
        self._sql(
            "INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)", (now_text(), kind, detail)
        )

    def events(self, limit: int = 50) -> list[tuple[str, str, str]]:
        rows = self._all("SELECT at, kind, detail FROM events ORDER BY id DESC LIMIT ?", (limit,))
        return [(str(a), str(k), str(d)) for a, k, d in rows]

    # --- run history ------------------------------------------------------------------------

    def start_run(self) -> int:
        with self.transaction():
            return self._sql("INSERT INTO runs (started_at) VALUES (?)", (now_text(),))

    def finish_run(
        self, run_id: int, outcome: str, counts: dict[str, Any], error: str | None = None
    ) -> None:
        """A run's end: its outcome, counts and, for a failed one, why (for status, history
        and monitoring, long after its log is gone)."""
        with self.transaction():
            self._sql(
                "UPDATE runs SET finished_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?",
                (now_text(), outcome, json.dumps(counts), error, run_id),
            )

    def note_run_counts(self, run_id: int, counts: dict[str, Any]) -> None:
        """The counts so far of a run still going, so ``status`` can tell them (and a run
        killed outright leaves what it did)."""
        with self.transaction():
            self._sql(
                "UPDATE runs SET counts = ? WHERE id = ? AND finished_at IS NULL",
                (json.dumps(counts), run_id),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT id, started_at, finished_at, outcome, counts, error FROM runs "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        with self._errors():
            return [
                {
                    "id": r[0],
                    "started_at": r[1],
                    "finished_at": r[2],
                    "outcome": r[3],
                    "counts": json.loads(r[4]),
                    "error": r[5],
                }
                for r in rows
            ]
