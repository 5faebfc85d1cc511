"""The ``dksync`` command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 everything eligible was written; 1 some records were rejected or are
uncertain; 2 wrong usage; 3 a service could not be reached or refused the credentials;
4 bad configuration; 5 the state file cannot be used; 6 another run holds the lock.
"""

from __future__ import annotations

import enum
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dksync import commands, engine, jsonio
from dksync import config as config_module
from dksync.config import OBJECT_TYPES, Config
from dksync.errors import DksyncError, FatalError
from dksync.moment import parse_instant
from dksync.outcome import RunReport
from dksync.report import as_json, failures_table, render

app = typer.Typer(
    name="dksync",
    help="Sync customers, projects and invoices from Moment to DK+ (dkPlus).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


class ObjectKind(enum.Enum):
    invoice = "invoice"
    customer = "customer"
    project = "project"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $DKSYNC_CONFIG, else ./dksync.yaml)."
    ),
]


@contextmanager
def _errors() -> Iterator[None]:
    """dksync's own errors become one plain line on stderr and their exit code."""
    try:
        yield
    except FatalError as exc:
        Console(stderr=True).print(f"dksync: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except DksyncError as exc:
        Console(stderr=True).print(f"dksync: {exc}", markup=False, highlight=False)
        raise typer.Exit(3) from None


def _load(path: Path | None) -> Config:
    with _errors():
        return config_module.load(path)


def _objects(values: list[str]) -> tuple[str, ...]:
    chosen = {v.strip() for value in values for v in value.split(",") if v.strip()}
    unknown = chosen - set(OBJECT_TYPES)
    if unknown:
        raise typer.BadParameter(
            f"unknown object type {sorted(unknown)[0]!r}; use {', '.join(OBJECT_TYPES)}",
            param_hint="--only",
        )
    return tuple(o for o in OBJECT_TYPES if o in chosen)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO-8601 time such as 2026-11-01T00:00:00Z", param_hint="--since"
        ) from None


@app.command()
def run(
    only: Annotated[
        list[str],
        typer.Option(
            "--only",
            help="Sync only these: customers, projects, invoices (repeat or comma-separate).",
        ),
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Read Moment and DK+, write nothing, show what would happen."
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="Read changes from this ISO-8601 time (the stored cursor never moves back)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Write at most this many records per object type.")
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="List every record; with --dry-run also the payloads."
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of tables.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Sync what changed in Moment since the stored cursor to DK+, then print a summary."""
    options = engine.RunOptions(
        only=_objects(only),
        dry_run=dry_run,
        since=_instant(since),
        limit=limit,
        keep_unchanged=dry_run and verbose,
    )
    settings = _load(config)
    with _errors():
        report = engine.run(settings, options)
    _finish(report, json_output, verbose)


def _finish(report: RunReport, json_output: bool, verbose: bool) -> None:
    """Show a run's report and leave with its exit code."""
    if json_output:
        sys.stdout.write(jsonio.dumps(as_json(report)) + "\n")
    else:
        render(report, Console(), verbose)
    if report.fatal is not None:
        Console(stderr=True).print(f"dksync: {report.fatal}", markup=False, highlight=False)
    raise typer.Exit(report.exit_code)


failures_app = typer.Typer(help="Rejected records: list them, or give one up on purpose.")
app.add_typer(failures_app, name="failures")


@failures_app.callback(invoke_without_command=True)
def failures(
    ctx: typer.Context,
    include_dropped: Annotated[
        bool, typer.Option("--all", help="Also list records given up with 'failures drop'.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    config: ConfigOption = None,
) -> None:
    """List rejected records with their reasons, attempts, and first and last time seen."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _load(config)
    with _errors():
        rows = commands.rejected_records(settings, include_dropped)
    if json_output:
        sys.stdout.write(jsonio.dumps([asdict(r) for r in rows]) + "\n")
        return
    Console().print(failures_table(rows))


@failures_app.command("drop")
def failures_drop(
    record_id: Annotated[int, typer.Argument(help="The ID shown by 'dksync failures'.")],
    note: Annotated[str, typer.Option(help="Why it is given up (kept in the state).")] = (
        "dropped by hand"
    ),
    config: ConfigOption = None,
) -> None:
    """Give up one rejected record on purpose: it is no longer retried, and the drop is kept."""
    settings = _load(config)
    with _errors():
        row = commands.drop_rejected(settings, record_id, note)
    Console().print(
        f"Dropped {row.object_type} {row.number} (Moment id {row.moment_id}); "
        "it will not be retried.",
        markup=False,
        highlight=False,
    )


@app.command()
def resync(
    kind: Annotated[ObjectKind, typer.Argument(help="invoice, customer or project.")],
    number: Annotated[str, typer.Argument(help="Its number in Moment.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch one record from Moment by its number and sync it now (an invoice only if it is
    not in DK+ yet). Cursors do not move."""
    settings = _load(config)
    with _errors():
        report = engine.resync(settings, f"{kind.value}s", number)
    _finish(report, json_output, verbose=True)


@app.command()
def sandbox(
    moment_port: Annotated[int, typer.Option(help="Port for the Moment server (0: free).")] = 0,
    dkplus_port: Annotated[int, typer.Option(help="Port for the DK+ server (0: free).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for the generated data and faults.")] = 1,
    customers: Annotated[int, typer.Option(help="Customers to generate.")] = 40,
    projects: Annotated[int, typer.Option(help="Projects to generate.")] = 15,
    invoices: Annotated[int, typer.Option(help="Invoices to generate.")] = 60,
) -> None:
    """Serve local Moment and DK+ stand-ins with generated data until Ctrl-C."""
    from dksync.sandbox.pair import Sandbox, Sizes

    pair = Sandbox(
        seed=seed,
        sizes=Sizes(customers, projects, invoices),
        moment_port=moment_port,
        dkplus_port=dkplus_port,
    )
    with pair:
        out = sys.stdout
        out.write(f"Moment:  {pair.moment.url}\n")
        out.write(f"DK+:     {pair.dkplus.url}\n")
        out.write(f"Moment company code: {pair.moment.company}\n")
        out.write(f"Moment API key (user 'apikey'): {pair.moment.api_key}\n")
        out.write(f"DK+ bearer token: {pair.dkplus.token}\n")
        out.write("\n# dksync config for this sandbox:\n" + pair.config_yaml() + "\n")
        out.write("Serving until Ctrl-C.\n")
        out.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.write("Stopped.\n")


def main() -> None:  # pragma: no cover - console script entry
    app(prog_name="dksync")
