"""The rows the state answers with, by column name (never by position)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
class WrittenRow:
    """What dksync last wrote to DK+ for a customer or project: the DK+ number, the hash
    of the body, the body itself (when kept: from schema 6 on) and when. For an invoice:
    what of it was posted (customer, total), to tell a later change as drift."""

    number: str
    payload_hash: str
    payload: dict[str, Any] | None
    updated_at: str


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

    @property
    def label(self) -> str:
        """How the audit log names it: kind, number and Moment id."""
        return f"{self.object_type} {self.number} (Moment id {self.moment_id})"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An invoice as it went to DK+: what an accountant's audit trail lists."""

    moment_id: int
    number: str
    dk_number: str
    customer: str
    invoice_date: str
    currency: str  # "" is the company's own currency (DK+ is sent none)
    total: str  # without VAT, a Decimal as text
    action: str  # "posted" or "adopted"
