"""``dksync failures``, ``resync`` and ``show``: the rejected-record queue and single records."""

from __future__ import annotations

from typing import Annotated

import typer

from dksync.cli.common import (
    GLOBAL_HELP,
    DksyncCommand,
    DksyncGroup,
    JsonOption,
    errors,
    globals_of,
    load,
    load_for_reading,
    object_type,
    print_json,
)
from dksync.cli.sync import finish

failures_app = typer.Typer(
    cls=DksyncGroup,
    help="Rejected records: list them, give one up on purpose, or take that back.",
    epilog=GLOBAL_HELP,
)
KindArgument = Annotated[
    str, typer.Argument(metavar="KIND", help="customer, project or invoice (or the plural).")
]
NumberArgument = Annotated[str, typer.Argument(metavar="NUMBER", help="Its number in Moment.")]
IdArgument = Annotated[
    int,
    typer.Argument(
        min=1, max=2**63 - 1, metavar="ID", help="The ID shown by 'dksync failures --all'."
    ),
]


@failures_app.callback(invoke_without_command=True)
def failures(
    ctx: typer.Context,
    include_dropped: Annotated[
        bool, typer.Option("--all", help="Also list records given up with 'failures drop'.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List rejected records with their reasons, attempts, and first and last time seen."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console

    from dksync.cli.tables import failure_json, failures_table
    from dksync.ops import queries as commands

    settings = load_for_reading(ctx)
    with errors():
        rows = commands.rejected_records(settings, include_dropped)
    if json_output:
        print_json([failure_json(r) for r in rows])
    elif not globals_of(ctx).quiet:
        console = Console()
        console.print(failures_table(rows, include_dropped, console.width))


@failures_app.command("drop", cls=DksyncCommand, epilog=GLOBAL_HELP)
def failures_drop(
    ctx: typer.Context,
    record_id: IdArgument,
    note: Annotated[
        str, typer.Option(metavar="TEXT", help="Why it is given up (kept in the state).")
    ] = "dropped by hand",
) -> None:
    """Give up one rejected record on purpose: it is no longer retried, and the drop is kept."""
    from dksync.cli.tables import short_time, singular
    from dksync.ops import queries as commands
    from dksync.state.files import now_text

    settings = load_for_reading(ctx)
    asked = now_text()
    with errors():
        row = commands.drop_rejected(settings, record_id, note)
    name = f"{singular(row.object_type)} {row.number} (Moment id {row.moment_id})"
    if row.dropped_at is not None and row.dropped_at < asked:
        why = f": {row.dropped_note}" if row.dropped_note else ""
        _say(
            ctx,
            f"{name} was dropped already, {short_time(row.dropped_at)}{why}; nothing changed. "
            f"'dksync failures undrop {row.id}' takes that back.",
        )
        return
    _say(
        ctx,
        f"Dropped {name}; it will not be retried. "
        f"'dksync failures undrop {row.id}' takes this back.",
    )


@failures_app.command("undrop", cls=DksyncCommand, epilog=GLOBAL_HELP)
def failures_undrop(ctx: typer.Context, record_id: IdArgument) -> None:
    """Take back a drop: the record is retried again from the next run."""
    from dksync.cli.tables import singular
    from dksync.ops import queries as commands

    settings = load_for_reading(ctx)
    with errors():
        row = commands.undrop_rejected(settings, record_id)
    name = f"{singular(row.object_type)} {row.number} (Moment id {row.moment_id})"
    _say(ctx, f"Undropped {name}; the next run tries it again.")


def _say(ctx: typer.Context, message: str) -> None:
    from rich.console import Console

    if not globals_of(ctx).quiet:
        Console().print(message, markup=False, highlight=False, soft_wrap=True)


def resync(
    ctx: typer.Context,
    kind: KindArgument,
    number: NumberArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="An invoice dksync posted that DK+ no longer holds (asked by reference "
            "first) is sent again; never one DK+ still holds.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Fetch one record from Moment by its number and sync it now (an invoice only if it is
    not in DK+ yet; with --force also one DK+ lost). Cursors do not move."""
    from dksync.sync import run as engine

    kind = object_type(kind)
    settings = load(ctx)
    with errors():
        report = engine.resync(settings, kind, number, dry_run=dry_run, force=force)
    finish(report, json_output, globals_of(ctx), listed=True, command="resync")


def show(
    ctx: typer.Context,
    kind: KindArgument,
    number: NumberArgument,
    json_output: JsonOption = False,
) -> None:
    """What dksync knows of one record: its Moment id, what was written to DK+ and when, the
    DK+ number, and its rejections. Reads the state only. Exit 1 if dksync never saw it."""
    from rich.console import Console

    from dksync.cli.tables import record_tables
    from dksync.ops import queries as commands

    kind = object_type(kind)
    settings = load_for_reading(ctx)
    with errors():
        known = commands.show_record(settings, kind, number)
    if json_output:
        print_json(known)
    elif not globals_of(ctx).quiet:
        console = Console()
        for table in record_tables(known, console.width):
            console.print(table)
    if known["moment_id"] is None:
        raise typer.Exit(1)
