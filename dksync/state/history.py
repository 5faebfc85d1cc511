"""The state's memory of runs: notices sent, the audit events, the run history (pruned by
the run that writes) and the ledger of what was posted. ``State`` adds the records."""

from __future__ import annotations

import json
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

from dksync.state.db import Database
from dksync.state.files import now_text
from dksync.state.rows import LedgerEntry


class History(Database):
    """Notices, events, runs and the ledger of one state file."""

    run_id: int | None = None  # the run under way in this process, for the ledger

    # --- notifications --------------------------------------------------------------------

    def last_notice(self, channel: str) -> str | None:
        """The fingerprint of the problem last notified on ``channel`` (None: all was well)."""
        row = self._one("SELECT fingerprint FROM notices WHERE channel = ?", (channel,))
        return None if row is None else row[0]

    def notice_sent_at(self, channel: str) -> str | None:
        """When ``channel`` was last sent a notice (for ``notify.remind_after``)."""
        row = self._one("SELECT sent_at FROM notices WHERE channel = ?", (channel,))
        return None if row is None else str(row[0])

    def record_notice(self, channel: str, fingerprint: str | None) -> None:
        with self.atomic():
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
        with self.atomic():
            self.run_id = self._sql("INSERT INTO runs (started_at) VALUES (?)", (now_text(),))
            return self.run_id

    # --- the ledger: every invoice posted or adopted, for the audit trail ------------------

    def add_ledger(self, entry: LedgerEntry) -> None:
        """One invoice posted or adopted now, by the run under way (None: a resync)."""
        self._sql(
            "INSERT INTO ledger (moment_id, number, dk_number, customer, invoice_date, "
            "currency, total, action, at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*astuple(entry), now_text(), self.run_id),
        )

    def ledger(self, start: str, end: str) -> list[dict[str, Any]]:
        """The entries posted or adopted from ``start`` up to (not including) ``end``."""
        rows = self._all(
            "SELECT number, dk_number, customer, invoice_date, currency, total, action, at, "
            "run_id, moment_id FROM ledger WHERE at >= ? AND at < ? ORDER BY at, id",
            (start, end),
        )
        return [dict(row) for row in rows]

    def finish_run(
        self, run_id: int, outcome: str, counts: dict[str, Any], error: str | None = None
    ) -> None:
        """A run's end: its outcome, counts and, for a failed one, why it failed."""
        with self.atomic():
            self._sql(
                "UPDATE runs SET finished_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?",
                (now_text(), outcome, json.dumps(counts), error, run_id),
            )

    def prune_history(self, keep_for: timedelta, keep_runs: int) -> int:
        """Forget runs (and events) older than ``keep_for`` beyond the last ``keep_runs``,
        so the file stops growing with every cron run; SQLite reuses the freed pages.
        Answers how many runs were forgotten."""
        horizon = (datetime.now(UTC) - keep_for).isoformat(timespec="milliseconds")
        with self.atomic():
            before = int(self._one("SELECT COUNT(*) FROM runs")[0])
            for table, when in (("runs", "started_at"), ("events", "at")):
                self._sql(
                    f"DELETE FROM {table} WHERE {when} < ? AND id < (SELECT MIN(id) FROM "
                    f"(SELECT id FROM {table} ORDER BY id DESC LIMIT ?))",
                    (horizon, keep_runs),
                )
            return before - int(self._one("SELECT COUNT(*) FROM runs")[0])

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT id, started_at, finished_at, outcome, counts, error FROM runs "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        with self._errors():
            return [{**dict(r), "counts": json.loads(r["counts"])} for r in rows]
