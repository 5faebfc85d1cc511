"""What the state keeps for an operator's questions beside the sync's own records: why a
record was skipped (``show``), a going run's counts so far (``status``), and forgetting an
invoice DK+ was shown to have lost (``resync --force``). A mixin of ``State``."""

from __future__ import annotations

import json
from typing import Any

from dksync.state.files import now_text
from dksync.state.history import History


class OperatorRecords(History):
    """The operator's part of the state; every statement through ``Database``."""

    def forget_invoice(self, moment_id: int) -> None:
        """DK+ was asked and holds no invoice under this one's reference: the state stops
        saying it is posted, so it can be sent again (``resync --force``)."""
        self._sql("DELETE FROM invoices WHERE moment_id = ?", (moment_id,))

    def record_skip(self, object_type: str, moment_id: int, number: str, reason: str) -> None:
        """A record a run saw and left alone on purpose (a draft, "do not transfer"), so
        ``show`` can say why it was not sent."""
        self._sql(
            "INSERT INTO skipped (object_type, moment_id, number, reason, at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(object_type, moment_id) DO UPDATE SET "
            "number = excluded.number, reason = excluded.reason, at = excluded.at",
            (object_type, moment_id, number, reason, now_text()),
        )

    def clear_skip(self, object_type: str, moment_id: int) -> None:
        self._sql(
            "DELETE FROM skipped WHERE object_type = ? AND moment_id = ?", (object_type, moment_id)
        )

    def skipped_id(self, object_type: str, number: str) -> int | None:
        """The Moment id of a record a run skipped, by its number (``show``)."""
        row = self._one(
            "SELECT moment_id FROM skipped WHERE object_type = ? AND number = ?",
            (object_type, number),
        )
        return None if row is None else int(row[0])

    def skip_of(self, object_type: str, moment_id: int) -> tuple[str, str] | None:
        """(why, when) the last run that saw this record skipped it, or None."""
        row = self._one(
            "SELECT reason, at FROM skipped WHERE object_type = ? AND moment_id = ?",
            (object_type, moment_id),
        )
        return None if row is None else (str(row[0]), str(row[1]))

    def note_run_counts(self, run_id: int, counts: dict[str, Any]) -> None:
        """The counts so far of a run still going, so ``status`` can tell them (and a run
        killed outright leaves what it did)."""
        with self.atomic():
            self._sql(
                "UPDATE runs SET counts = ? WHERE id = ? AND finished_at IS NULL",
                (json.dumps(counts), run_id),
            )
