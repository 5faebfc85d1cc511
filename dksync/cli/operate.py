"""Commands for operators: check, status, history, init, and the local sandbox."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dksync.cli.common import (
    JsonOption,
    errors,
    globals_of,
    load,
    load_for_reading,
    print_json,
    say_error,
)
from dksync.kinds import ObjectKind

if TYPE_CHECKING:
    from dksync.config import Config

NOT_READY = 1


def _show(ctx: typer.Context, *shown: object) -> None:
    """Print tables or sentences on stdout, unless -q asked for nothing there."""
    from rich.console import Console
    from rich.text import Text

    if not globals_of(ctx).quiet:
        console = Console()
        for item in shown:
            console.print(item, soft_wrap=isinstance(item, str | Text))


def _sample_kind(value: str | None) -> ObjectKind | None:
    if value is None:
        return None
    word = value.strip().lower()
    kind = ObjectKind.named("accounts" if word.startswith("financialaccount") else word)
    if kind is None:
        raise typer.BadParameter(
            f"unknown kind {value!r}; one of {', '.join(sorted(ObjectKind))}",
            param_hint="--show-sample",
        )
    return kind


def check(
    ctx: typer.Context,
    strict: Annotated[
        bool, typer.Option("--strict", help="Data problems (warnings) fail the check too.")
    ] = False,
    show_sample: Annotated[
        str | None,
        typer.Option(
            "--show-sample",
            metavar="KIND",
            help="Print one Moment object of KIND (customers, projects, invoices, accounts, "
            "products) with every value masked, to share its shape without its data.",
        ),
    ] = None,
    test_notify: Annotated[
        bool,
        typer.Option(
            "--notify",
            help="Only send a test message to every notification channel (the email and "
            "each notify.urls entry) and report each; exit 1 if one failed.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Go-live readiness: config, services, credentials, sales person and Moment's field
    names. Exit 0 when the setup is right (data problems are listed as warnings), 1 when
    not; with --strict warnings fail too."""

    from dksync.cli.reconcile import progress
    from dksync.cli.report import readiness_table
    from dksync.clients import connect
    from dksync.ops import check as readiness

    kind = _sample_kind(show_sample)
    settings = load(ctx)
    if test_notify:
        _test_channels(ctx, settings, json_output)
    if kind is not None:
        with errors():
            sample = readiness.masked_sample(connect(settings).moment, kind)
        if json_output:
            print_json(sample)
        elif sample is None:
            _show(ctx, f"Moment has no {kind} to show yet.")
        elif not globals_of(ctx).quiet:  # indented, to read and to paste in a message
            sys.stdout.write(json.dumps(sample, indent=2, ensure_ascii=False) + "\n")
        return
    with errors(), progress() as tick:
        result = readiness.check(settings, connect(settings), strict=strict, tick=tick)
    if json_output:
        print_json(
            {
                "ready": result.ready,
                "strict": strict,
                "warnings": result.warnings,
                "checks": [asdict(c) for c in result.checks],
            }
        )
    else:
        _show(ctx, readiness_table(result))
    raise typer.Exit(0 if result.ready else NOT_READY)


def _test_channels(ctx: typer.Context, settings: Config, json_output: bool) -> None:
    """``check --notify``: one test message per channel, each result on its own line."""
    from dksync.ops import notify

    results = notify.test_all(settings)
    if json_output:
        print_json(
            {"channels": [{"channel": c, "sent": e is None, "error": e} for c, e in results]}
        )
    elif not results:
        _show(ctx, "No notification channel is configured (email, notify.urls).")
    else:
        _show(ctx, *(f"{c}: {'sent' if e is None else 'NOT sent: ' + e}" for c, e in results))
    raise typer.Exit(NOT_READY if not results or any(e for _, e in results) else 0)


def status(
    ctx: typer.Context,
    probe: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Monitoring probe (Nagios/Icinga): one line; exit 0 the last run ended ok, "
            "1 records need attention, 2 the last run failed, is too old, or none ran.",
        ),
    ] = False,
    max_age: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="With --check: the last finished run must be younger than this (30m, 2h, 1d).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Cursors, the last run, rejected records, uncertain invoices, and whether a run is
    going now. Reads the state only: no secret is needed."""
    from dksync.cli.tables import status_tables
    from dksync.ops import probe as monitor
    from dksync.ops import queries as commands

    age = _max_age(max_age)
    settings = load_for_reading(ctx)
    with errors():
        found = commands.status(settings)
        runs = commands.history(settings, 10) if probe else []
    if probe:
        running = found["lock"] is not None
        unsure = [i for i in found["uncertain_invoices"] if not running or i["status"] != "pending"]
        waiting = len(found["rejected"]) + len(unsure)  # not those being posted right now
        verdict = monitor.judge(runs, waiting, age)
        if json_output:
            print_json({**verdict.document, "status": found})
        elif not globals_of(ctx).quiet:
            sys.stdout.write(verdict.line + "\n")
        raise typer.Exit(int(verdict.verdict))
    if json_output:
        print_json(found)
    else:
        _show(ctx, *status_tables(found))


def _max_age(value: str | None) -> timedelta | None:
    from dksync.config.values import parse_duration

    if value is None:
        return None
    found = parse_duration(value)
    if found is None or not found:
        raise typer.BadParameter(
            f"{value!r} is not a duration such as 30m, 2h or 1d", param_hint="--max-age"
        )
    return found


def history(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000, metavar="N", help="How many runs to list.")
    ] = 20,
    json_output: JsonOption = False,
) -> None:
    """Past runs, newest first, with their counts and outcome."""
    from dksync.cli.tables import history_table
    from dksync.ops import queries as commands

    settings = load_for_reading(ctx)
    with errors():
        runs = commands.history(settings, limit)
    if json_output:
        print_json(runs)
    else:
        _show(ctx, history_table(runs))


def init(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="PATH", help="Where to write it.")
    ] = Path("dksync.yaml"),
    company: Annotated[str | None, typer.Option(metavar="C", help="Moment company code.")] = None,
    sales_person: Annotated[
        str | None, typer.Option(metavar="N", help="DK+ sales person number.")
    ] = None,
    moment_url: Annotated[str | None, typer.Option(metavar="URL", help="Moment address.")] = None,
    dkplus_url: Annotated[str | None, typer.Option(metavar="URL", help="DK+ API address.")] = None,
    start_from: Annotated[
        str | None, typer.Option(metavar="ISO", help="First run reads from (ISO-8601).")
    ] = None,
    state_path: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="State file path (a relative one is taken from the config's folder).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented config file from answers (on a terminal) or from these options."""
    import yaml
    from rich.text import Text

    from dksync.config import from_mapping
    from dksync.ops import init as init_module

    given = {
        "moment.company": company,
        "dkplus.sales_person": sales_person,
        "moment.base_url": moment_url,
        "dkplus.base_url": dkplus_url,
        "sync.start_from": start_from,
        "state.path": state_path,
    }
    values = _answers(given)
    with errors():
        init_module.check_answers(values)
        from_mapping(
            yaml.safe_load(init_module.render(values)),
            env={"MOMENT_API_KEY": "-", "DKPLUS_API_TOKEN": "-"},
        )
        terms = init_module.company_terms(values["dkplus.base_url"], os.environ) or []
        init_module.write(output, values, force, terms)
    read = f" This DK+ company's payment terms: {', '.join(terms)}." if terms else ""
    _show(
        ctx,
        Text(
            f"Wrote {output}.{read} Put the secrets in the environment (MOMENT_API_KEY, "
            "DKPLUS_API_TOKEN, or MOMENT_API_KEY_FILE / DKPLUS_API_TOKEN_FILE naming files "
            f"that hold them), then run: dksync check -c {output}"
        ),
    )


def _answers(given: dict[str, str | None]) -> dict[str, str]:
    """The answers: from the options, else asked on a terminal, each checked as it is
    typed and asked again until it is right (the ones already given are kept)."""
    from dksync.ops import init as init_module

    defaults = init_module.defaults()
    interactive = sys.stdin.isatty()
    values: dict[str, str] = {}
    for key, label in init_module.FIELDS.items():
        value = given.get(key)
        if value is None and interactive:
            value = _ask(key, label, {**defaults, **values})
        if value is None and key in ("moment.company", "dkplus.sales_person"):
            flag = "--company" if key == "moment.company" else "--sales-person"
            raise typer.BadParameter(
                f"{label} is needed; without a terminal pass {flag}", param_hint=flag
            )
        values[key] = value if value is not None else defaults[key]
    return values


def _ask(key: str, label: str, around: dict[str, str]) -> str:
    """One answer, asked until it passes the config's own rule for ``key``; the example's
    placeholder is never offered as the default."""
    from dksync.ops import init as init_module

    placeholder = around[key] in init_module.PLACEHOLDERS.get(key, frozenset())
    default = None if placeholder else around[key]
    while True:
        value = str(typer.prompt(label, default=default))
        why = init_module.flaw(key, value, around)
        if why is None:
            return value
        say_error(f"{key}: {why}; try again")
