"""``dksync failures`` and ``dksync resync``: the rejected-record queue and single records."""

from __future__ import annotations

import enum
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console

from dksync import commands, engine
from dksync.cli.common import ConfigOption, JsonOption, errors, load, print_json
from dksync.cli.sync import finish
from dksync.report import failures_table

failures_app = typer.Typer(help="Rejected records: list them, or give one up on purpose.")


class ObjectKind(enum.Enum):
    invoice = "invoice"
    customer = "customer"
    project = "project"


@failures_app.callback(invoke_without_command=True)
def failures(
    ctx: typer.Context,
    include_dropped: Annotated[
        bool, typer.Option("--all", help="Also list records given up with 'failures drop'.")
    ] = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """List rejected records with their reasons, attempts, and first and last time seen."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load(config)
    with errors():
        rows = commands.rejected_records(settings, include_dropped)
    if json_output:
        print_json([asdict(r) for r in rows])
    else:
        Console().print(failures_table(rows))


@failures_app.command("drop")
def failures_drop(
    record_id: Annotated[
        int, typer.Argument(min=1, max=2**63 - 1, help="The ID shown by 'dksync failures'.")
    ],
    note: Annotated[str, typer.Option(help="Why it is given up (kept in the state).")] = (
        "dropped by hand"
    ),
    config: ConfigOption = None,
) -> None:
    """Give up one rejected record on purpose: it is no longer retried, and the drop is kept."""
    settings = load(config)
    with errors():
        row = commands.drop_rejected(settings, record_id, note)
    Console().print(
        f"Dropped {row.object_type} {row.number} (Moment id {row.moment_id}); "
        "it will not be retried.",
        markup=False,
        highlight=False,
    )


def resync(
    kind: Annotated[ObjectKind, typer.Argument(help="invoice, customer or project.")],
    number: Annotated[str, typer.Argument(help="Its number in Moment.")],
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Fetch one record from Moment by its number and sync it now (an invoice only if it is
    not in DK+ yet). Cursors do not move."""
    settings = load(config)
    with errors():
        report = engine.resync(settings, f"{kind.value}s", number)
    finish(report, json_output, verbose=True)
