"""``dksync ledger``: every invoice posted or adopted in a period, from the state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dksync.cli.common import JsonOption, errors, globals_of, load_for_reading, print_json

if TYPE_CHECKING:
    from rich.table import Table


ExcelOption = Annotated[
    bool,
    typer.Option(
        "--excel",
        help="Write the --csv file ;-separated with decimal commas (Excel with Icelandic "
        "settings, like Moment's DK export).",
    ),
]


def day(value: str | None, flag: str) -> date | None:
    """A date option (``--from``, ``--to``, ``--month``'s parts), or a usage error naming it.
    Years 1900..2999 only, as Moment's dates: a period is widened by a day to ask DK+, and
    ``0001-01-01`` or ``9999-12-31`` would overflow there (an OverflowError traceback)."""
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
        if not 1900 <= parsed.year <= 2999:
            raise ValueError(parsed.year)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date in 1900..2999 such as 2026-11-30", param_hint=flag
        ) from None
    return parsed


def ledger(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="DATE", help="First day posted (YYYY-MM-DD, UTC; default: the first)."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last day posted (YYYY-MM-DD; default today)."),
    ] = None,
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", metavar="PATH", help="Also write the invoices to this CSV file."),
    ] = None,
    excel: ExcelOption = False,
    json_output: JsonOption = False,
) -> None:
    """The audit trail: every invoice dksync posted or adopted in the period, with its
    Moment and DK+ numbers, customer, date, currency, total without VAT, when and by
    which run. Reads the state only: no secret is needed."""
    from rich.console import Console

    from dksync.ops import ledger as trail
    from dksync.state.files import refuse_as_output

    span = trail.Span(day(start, "--from"), day(end, "--to") or datetime.now(UTC).date())
    if span.first is not None and span.first > span.last:
        raise typer.BadParameter(
            f"--from {span.first} is after --to {span.last}", param_hint="--from"
        )
    if excel and csv_path is None:
        raise typer.BadParameter(
            "--excel is for the --csv file; give --csv PATH too", param_hint="--excel"
        )
    settings = load_for_reading(ctx)  # the state only: no secret looked up or run
    with errors():
        if csv_path is not None:  # before anything is read, as reconcile does
            refuse_as_output(csv_path, settings.state_path, "--csv", settings.source)
        rows = trail.entries(settings, span)
    if csv_path is not None:
        try:
            trail.write_csv(csv_path, rows, excel)
        except OSError as exc:
            message = f"cannot write {csv_path}: {exc.strerror or exc}"
            raise typer.BadParameter(message, param_hint="--csv") from None
    first = span.first.isoformat() if span.first else None
    if json_output:
        print_json({"from": first, "to": span.last.isoformat(), "invoices": rows})
    elif not globals_of(ctx).quiet:
        Console().print(_table(rows, first, span.last.isoformat()))


def _table(rows: list[dict[str, object]], first: str | None, last: str) -> Table:
    from rich.table import Table

    from dksync.ops import ledger as trail

    table = Table(title=f"Invoices posted or adopted, {first or 'the first'} to {last} (UTC)")
    for heading in ("Moment", "DK+", "customer", "date", "currency", "total w/o VAT"):
        table.add_column(heading, justify="right" if heading.startswith("total") else "left")
    for heading in ("action", "at (UTC)", "run"):
        table.add_column(heading)
    for row in rows:
        at = str(row["at"])[:16].replace("T", " ")
        values = [str(row[c]) for c in trail.COLUMNS[:7]]
        table.add_row(*values, at, str(row["run_id"] or "resync"))
    return table
