"""``dksync ledger``: the audit trail of every invoice dksync posted or adopted.

Read from the state (a read-only copy), never from the services: it is what dksync did,
as it did it. A CSV is UTF-8 with a byte-order mark (spreadsheet programs then read
Icelandic letters right); ``excel`` makes it ``;``-separated with decimal commas, as
Moment's own DK export and an Icelandic Excel expect.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dksync.config import Config
from dksync.state.store import State

COLUMNS = (
    "moment_number",
    "dk_number",
    "customer",
    "invoice_date",
    "currency",
    "total_without_vat",
    "action",
    "at",
    "run_id",
)


@dataclass(frozen=True)
class Span:
    """Days of posting (UTC), both included; None: from the first, or up to today."""

    first: date | None
    last: date


def entries(config: Config, span: Span) -> list[dict[str, Any]]:
    """Every invoice posted or adopted in ``span``, oldest first, in the words of COLUMNS."""
    start = span.first.isoformat() if span.first else ""
    end = (span.last + timedelta(days=1)).isoformat()
    state = State.snapshot(config.state_path)
    try:
        rows = state.ledger(start, end)
    finally:
        state.close()
    currency = config.invoice_rules.default_currency
    return [
        {
            "moment_number": row["number"],
            "dk_number": row["dk_number"],
            "customer": row["customer"],
            "invoice_date": row["invoice_date"],
            "currency": row["currency"] or currency,
            "total_without_vat": row["total"],
            "action": row["action"],
            "at": row["at"],
            "run_id": row["run_id"],
        }
        for row in rows
    ]


def write_csv(path: Path, rows: list[dict[str, Any]], excel: bool = False) -> None:
    """The rows with a header row, UTF-8 with BOM; ``excel``: ``;`` and decimal commas."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";" if excel else ",")
        writer.writerow(COLUMNS)
        for row in rows:
            values = ["" if row[c] is None else str(row[c]) for c in COLUMNS]
            if excel:
                values[COLUMNS.index("total_without_vat")] = values[5].replace(".", ",")
            writer.writerow(values)
