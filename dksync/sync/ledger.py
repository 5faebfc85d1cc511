"""The ledger line of an invoice just posted or adopted: the audit trail ``dksync ledger``
reads, kept in the state in the same transaction as the invoice's standing."""

from __future__ import annotations

from decimal import Decimal

from dksync.kinds import InvoiceState
from dksync.outcome import Action, Outcome
from dksync.state.rows import LedgerEntry


def ledger_entry(outcome: Outcome) -> LedgerEntry | None:
    """From the body that went (or, adopted, would have gone) to DK+; None for anything
    but an invoice posted or adopted now."""
    payload = outcome.payload
    if (
        outcome.invoice_state is not InvoiceState.POSTED
        or outcome.action not in (Action.CREATE, Action.ADOPT)
        or not isinstance(payload, dict)
        or outcome.dk_number is None
    ):
        return None
    total = sum((Decimal(str(line["Total"])) for line in payload.get("Lines", [])), Decimal(0))
    return LedgerEntry(
        outcome.moment_id,
        outcome.label,
        str(outcome.dk_number),
        str(payload.get("Customer", {}).get("Number", "")),
        str(payload.get("Date", "")),
        str(payload.get("Currency", "")),
        str(total),
        "posted" if outcome.action is Action.CREATE else "adopted",
    )
