"""The reconciliation for people (a summary and a table), spreadsheets (CSV) and programs
(one JSON document, shape in the README)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from rich.table import Table

from dksync.reconcile.compare import ProblemKind, Result
from dksync.reconcile.gather import Period

COLUMNS = ("kind", "invoice", "dk_numbers", "detail")
STYLE = {
    ProblemKind.MISSING: "red",
    ProblemKind.DUPLICATE: "magenta",
    ProblemKind.DIFFERS: "yellow",
    ProblemKind.UNREADABLE: "red",
}


def document(period: Period, result: Result) -> dict[str, Any]:
    """``{"from", "to", "matched", "problems": [{"kind", "invoice", "dk_numbers", "detail"}]}``."""
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "matched": result.matched,
        "problems": [
            {
                "kind": p.kind.value,
                "invoice": p.invoice,
                "dk_numbers": list(p.dk_numbers),
                "detail": p.detail,
            }
            for p in result.problems
        ],
    }


def summary_table(period: Period, result: Result) -> Table:
    agree = "Moment and DK+ agree" if not result.problems else "Moment and DK+ disagree"
    table = Table(title=f"Reconciliation {period.start} to {period.end}: {agree}")
    for column in ("matched", *(k.value for k in ProblemKind)):
        table.add_column(column, justify="right")
    table.add_row(str(result.matched), *(str(result.count(k)) for k in ProblemKind))
    return table


def problems_table(result: Result) -> Table:
    table = Table(title="Problems")
    for column in ("kind", "Moment invoice", "DK+ numbers", "detail"):
        table.add_column(column, overflow="fold")
    for p in result.problems:
        style = STYLE[p.kind]
        table.add_row(f"[{style}]{p.kind.value}[/]", p.invoice, ", ".join(p.dk_numbers), p.detail)
    return table


def write_csv(path: Path, result: Result, excel: bool = False) -> None:
    """The problems, one row each, with a header row (UTF-8 with BOM, so spreadsheet
    programs read Icelandic letters right); ``excel``: ``;``-separated."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";" if excel else ",")
        writer.writerow(COLUMNS)
        for p in result.problems:
            writer.writerow((p.kind.value, p.invoice, " ".join(p.dk_numbers), p.detail))
