"""``dksync run``: the main job."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from dksync import logs
from dksync.cli.common import (
    Globals,
    JsonOption,
    errors,
    globals_of,
    load,
    object_type,
    print_json,
    say_error,
)
from dksync.cli.progress import RunProgress
from dksync.cli.report import as_json, nothing_changed, outcome_line, render
from dksync.kinds import SYNCED_KINDS
from dksync.moment import parse_instant
from dksync.ops import notify
from dksync.ops import queries as commands
from dksync.outcome import RunReport
from dksync.sync import run as engine
from dksync.sync.context import RunOptions

log = logging.getLogger("dksync.run")


def _objects(values: list[str]) -> tuple[str, ...]:
    chosen = {object_type(v, "--only") for value in values for v in value.split(",") if v.strip()}
    return tuple(kind for kind in SYNCED_KINDS if kind in chosen)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO-8601 time such as 2026-11-01T00:00:00Z", param_hint="--since"
        ) from None


def run(
    ctx: typer.Context,
    only: Annotated[
        list[str],
        typer.Option(
            "--only",
            metavar="KINDS",
            help="Sync only these: customers, projects, invoices (singular or plural; repeat "
            "or comma-separate).",
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
            metavar="ISO",
            help="Read changes from this ISO-8601 time (the stored cursor never moves back).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1_000_000_000,
            metavar="N",
            help="Write at most this many records per object type.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sync what changed in Moment since the stored cursor to DK+, then print a summary.
    With -v every record is listed (with --dry-run also the payloads); with -q nothing is
    printed on stdout."""
    chosen = globals_of(ctx)
    verbose = chosen.verbosity > 0
    options = RunOptions(
        only=_objects(only),
        dry_run=dry_run,
        since=_instant(since),
        limit=limit,
        keep_unchanged=dry_run and verbose,
    )
    settings = load(ctx)
    report = RunReport(lean=not (dry_run or verbose))
    with errors(), RunProgress(report):
        engine.run(settings, options, report=report)
    notify.after_run(settings, report)
    since = None
    if nothing_changed(report) and not (json_output or chosen.quiet):
        with errors():
            since = (
                _since_text(options.since)
                or commands.changes_since(settings, options.only or settings.sync.objects)
                or _start_text(settings.sync.start_from)
            )
    finish(report, json_output, chosen, since=since)


def _start_text(start: datetime | None) -> str | None:
    """sync.start_from, said as such, and flagged when it is still to come."""
    if start is None:
        return None
    future = ", which is in the future" if start > datetime.now(UTC) else ""
    return f"{_since_text(start)} (sync.start_from{future})"


def _since_text(since: datetime | None) -> str | None:
    return None if since is None else since.strftime("%Y-%m-%d %H:%M UTC")


def finish(
    report: RunReport,
    json_output: bool,
    chosen: Globals,
    *,
    listed: bool = False,
    since: str | None = None,
    command: str = "run",
) -> None:
    """Show a run's report, end the log with its outcome line, and leave with its exit
    code. ``-q`` prints nothing on stdout (cron mails whatever is printed)."""
    if json_output:
        print_json(as_json(report))
    elif not chosen.quiet:
        render(report, Console(), chosen.verbosity > 0, since, listed, command)
    if report.fatal is not None:
        say_error(str(report.fatal))
        log.debug("the error and its causes: %s", logs.causes(report.fatal))
    log.info("%s", outcome_line(report, command))
    raise typer.Exit(report.exit_code)
