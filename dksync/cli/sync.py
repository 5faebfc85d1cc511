"""``dksync run``: the main job."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from dksync import engine, notify
from dksync.cli.common import ConfigOption, JsonOption, errors, load, print_json, say_error
from dksync.config import OBJECT_TYPES
from dksync.moment import parse_instant
from dksync.outcome import RunReport
from dksync.progress import RunProgress
from dksync.report import as_json, render


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
        int | None,
        typer.Option(
            min=1, max=1_000_000_000, help="Write at most this many records per object type."
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="List every record; with --dry-run also the payloads."
        ),
    ] = False,
    json_output: JsonOption = False,
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
    settings = load(config)
    report = RunReport(lean=not (dry_run or verbose))
    with errors(), RunProgress(report):
        engine.run(settings, options, report=report)
    notify.after_run(settings, report)
    finish(report, json_output, verbose)


def finish(report: RunReport, json_output: bool, verbose: bool) -> None:
    """Show a run's report and leave with its exit code."""
    if json_output:
        print_json(as_json(report))
    else:
        render(report, Console(), verbose)
    if report.fatal is not None:
        say_error(str(report.fatal))
    raise typer.Exit(report.exit_code)
