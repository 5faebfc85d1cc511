"""``dksync reconcile``: does DK+ hold every final Moment invoice exactly once, as sent?"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dksync.cli.common import JsonOption, errors, globals_of, load, print_json
from dksync.cli.ledger import ExcelOption, day

if TYPE_CHECKING:
    from rich.console import Console

    from dksync.config import Config
    from dksync.reconcile.compare import Result
    from dksync.reconcile.gather import Period, Tick

PROBLEMS = 1


def _period(config: Config, start: str | None, end: str | None) -> Period:
    from dksync.reconcile.gather import Period

    first, last = day(start, "--from"), day(end, "--to") or date.today()
    if first is None and config.sync.start_from is not None:
        first = config.sync.start_from.date()
    if first is None:
        raise typer.BadParameter("give --from: sync.start_from is not set", param_hint="--from")
    if first > last:
        raise typer.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    return Period(first, last)


@contextmanager
def progress(console: Console | None = None) -> Iterator[Tick]:
    """A spinner with what has been read so far, on ``console`` or, when stderr is a
    terminal, on stderr; nothing otherwise (stdout stays one clean document)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if console is None and sys.stderr.isatty():
        console = Console(stderr=True)
    if console is None:
        yield lambda what: None
        return
    counts: dict[str, int] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def tick(what: str) -> None:
            counts[what] = counts.get(what, 0) + 1
            text = ", ".join(f"{name}: {n}" for name, n in counts.items())
            bar.update(task, description=f"read {text}")

        yield tick


def reconcile(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="First invoice date (YYYY-MM-DD; default sync.start_from).",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last invoice date (YYYY-MM-DD; default today)."),
    ] = None,
    json_output: JsonOption = False,
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", metavar="PATH", help="Also write the problems to this CSV file."),
    ] = None,
    excel: ExcelOption = False,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Send again every missing invoice dksync had posted (as 'resync invoice N "
            "--force': DK+ is asked by reference first).",
        ),
    ] = False,
) -> None:
    """Check that DK+ holds every final Moment invoice of the period exactly once, with the
    customer, date, currency and total dksync would send. Writes nothing. Exit 0 when they
    agree, 1 when there is any problem."""
    from rich.console import Console

    from dksync.clients import connect
    from dksync.reconcile import gather
    from dksync.reconcile.render import document, problems_table, summary_table, write_csv
    from dksync.state.files import refuse_as_output

    settings = load(ctx)
    period = _period(settings, start, end)
    if csv_path is not None:
        with errors():
            refuse_as_output(csv_path, settings.state_path, "--csv", settings.source)
    with errors(), progress() as tick:
        result = gather.run(settings, period, connect(settings), tick)
    if csv_path is not None:
        try:
            write_csv(csv_path, result, excel)
        except OSError as exc:
            message = f"cannot write {csv_path}: {exc.strerror or exc}"
            raise typer.BadParameter(message, param_hint="--csv") from None
    fixed = _fix(settings, result) if fix else []
    if json_output:
        print_json({**document(period, result), **({"fixed": fixed} if fix else {})})
    elif not globals_of(ctx).quiet:
        console = Console()
        console.print(summary_table(period, result))
        if result.problems:
            console.print(problems_table(result))
        for line in fixed:
            console.print(_fixed_line(line), markup=False, highlight=False, soft_wrap=True)
    left = len(result.problems) - sum(1 for f in fixed if f["outcome"] == "ok")
    raise typer.Exit(PROBLEMS if left else 0)


def _fix(settings: Config, result: Result) -> list[dict[str, Any]]:
    """``--fix``: each missing invoice the state says dksync posted, resynced with force
    (DK+ is asked by reference first; one DK+ holds is never posted again)."""
    from dksync.ops import queries as commands
    from dksync.outcome import Action
    from dksync.reconcile.compare import ProblemKind
    from dksync.sync import run as engine

    missing = [p.invoice for p in result.problems if p.kind is ProblemKind.MISSING]
    with errors():
        posted = commands.posted_among(settings, missing)
    fixed = []
    for number in posted:
        report = engine.resync(settings, "invoices", number, force=True)
        created = [o for o in report.with_action(Action.CREATE) if o.object_type == "invoices"]
        fixed.append(
            {
                "invoice": number,
                "outcome": report.outcome_word,
                "dk_number": created[0].dk_number if created else None,
                "error": str(report.fatal) if report.fatal else None,
            }
        )
    return fixed


def _fixed_line(fixed: dict[str, Any]) -> str:
    if fixed["dk_number"] is not None:
        return f"invoice {fixed['invoice']}: sent again, now DK+ {fixed['dk_number']}"
    why = fixed["error"] or fixed["outcome"]
    return f"invoice {fixed['invoice']}: not sent again ({why}); see 'dksync show invoice'"
