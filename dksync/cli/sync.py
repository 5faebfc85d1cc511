"""``dksync run``: the main job."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

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
from dksync.errors import LockedError
from dksync.kinds import SYNCED_KINDS

if TYPE_CHECKING:
    from dksync.config import Config
    from dksync.outcome import RunReport
    from dksync.sync.context import RunOptions


log = logging.getLogger("dksync.run")


def _objects(values: list[str]) -> tuple[str, ...]:
    """``--only``'s kinds. Given but naming none (``--only ""``, as a cron line's unset
    ``--only $KINDS`` gives) is a usage error: it ran every kind, the opposite of a subset."""
    chosen = {object_type(v, "--only") for value in values for v in value.split(",") if v.strip()}
    if values and not chosen:
        raise typer.BadParameter(
            "names no object type; use customer(s), project(s) or invoice(s)", param_hint="--only"
        )
    return tuple(kind for kind in SYNCED_KINDS if kind in chosen)


def _seconds(value: str | None) -> float:
    """``--wait-lock``: a duration such as 90s, 10m or 2h (at most a day)."""
    if value is None:
        return 0.0
    found = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", value)
    seconds = int(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2)] if found else -1
    if not 0 <= seconds <= 86400:
        raise typer.BadParameter(
            f"{value!r} is not a duration such as 30s, 10m or 2h (at most 24h)",
            param_hint="--wait-lock",
        )
    return float(seconds)


def _instant(value: str | None) -> datetime | None:
    from dksync.moment import parse_instant

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
    wait_lock: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="When another run holds the lock, wait for it up to this long (30s, 10m, "
            "2h), then exit 6 as without it.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sync what changed in Moment since the stored cursor to DK+, then print a summary.
    With -v every record is listed (with --dry-run also the payloads); with -q nothing is
    printed on stdout."""
    from dksync.cli.report import nothing_changed
    from dksync.ops import queries as commands
    from dksync.outcome import RunReport
    from dksync.sync.context import RunOptions

    chosen = globals_of(ctx)
    verbose = chosen.verbosity > 0
    options = RunOptions(
        only=_objects(only),
        dry_run=dry_run,
        since=_instant(since),
        limit=limit,
        keep_unchanged=dry_run and verbose,
        wait_lock=_seconds(wait_lock),
    )
    settings = load(ctx)
    report = _watched_run(settings, options, RunReport(lean=not (dry_run or verbose)))
    since = None
    if nothing_changed(report) and not (json_output or chosen.quiet):
        with errors():
            since = (
                _since_text(options.since)
                or commands.changes_since(settings, options.only or settings.sync.objects)
                or _start_text(settings.sync.start_from)
            )
    finish(report, json_output, chosen, since=since)


def _watched_run(settings: Config, options: RunOptions, report: RunReport) -> RunReport:
    """The run with what watches it: the heartbeat around it (a real run only, ``/start``
    once it holds the lock), then the notices and the metrics file."""
    from dksync.cli.progress import RunProgress
    from dksync.cli.report import outcome_line
    from dksync.ops import notify
    from dksync.ops.heartbeat import Heartbeat
    from dksync.sync import run as engine

    beat = None if options.dry_run or settings.monitor is None else Heartbeat(settings.monitor)
    if beat is not None:
        options = replace(options, on_locked=beat.start)
    began = time.monotonic()
    with errors(), RunProgress(report):
        engine.run(settings, options, report=report, notifier=notify.after_run)
    if beat is not None:
        beat.finish(report.exit_code, outcome_line(report))
    _write_metrics(settings, report, time.monotonic() - began)
    return report


def _write_metrics(settings: Config, report: RunReport, duration: float) -> None:
    """The metrics file after a real run (a dry run writes nothing anywhere, and a run the
    lock refused did not run)."""
    from dksync.ops import metrics

    if settings.metrics_file is None or report.dry_run or isinstance(report.fatal, LockedError):
        return
    facts = metrics.RunFacts(settings.label, report.exit_code, time.time(), duration)
    metrics.after_run(settings.metrics_file, settings.state_path, facts, report)


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
    from dksync.cli.report import as_json, outcome_line, render

    if json_output:
        print_json(as_json(report))
    elif not chosen.quiet:
        from rich.console import Console  # a -q run draws nothing

        render(report, Console(), chosen.verbosity > 0, since, listed, command)
    if report.fatal is not None:
        say_error(str(report.fatal))
        log.debug("the error and its causes: %s", logs.causes(report.fatal))
    log.info("%s", outcome_line(report, command))
    raise typer.Exit(report.exit_code)
