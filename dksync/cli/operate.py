"""Commands for operators: check, status, history, init, and the local sandbox."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from dksync import check as readiness
from dksync import commands, engine
from dksync import init as init_module
from dksync.cli.common import ConfigOption, JsonOption, errors, load, print_json
from dksync.config import from_mapping
from dksync.report import history_table, readiness_table, status_tables

NOT_READY = 1


SAMPLE_KINDS = {
    "customer": "customers",
    "project": "projects",
    "invoice": "invoices",
    "account": "accounts",
    "financialaccount": "accounts",
    "product": "products",
}


def _sample_kind(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    key = key[:-1] if key.endswith("s") else key
    if key not in SAMPLE_KINDS:
        raise typer.BadParameter(
            f"unknown kind {value!r}; one of {', '.join(sorted(set(SAMPLE_KINDS.values())))}",
            param_hint="--show-sample",
        )
    return SAMPLE_KINDS[key]


def check(
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
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Go-live readiness: config, services, credentials, sales person and Moment's field
    names. Exit 0 when the setup is right (data problems are listed as warnings), 1 when
    not; with --strict warnings fail too."""
    kind = _sample_kind(show_sample)
    settings = load(config)
    if kind is not None:
        with errors():
            sample = readiness.masked_sample(engine.connect(settings).moment, kind)
        if sample is None and not json_output:
            Console().print(f"Moment has no {kind} to show yet.")
        else:
            print_json(sample)
        return
    with errors():
        result = readiness.check(settings, engine.connect(settings), strict=strict)
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
        Console().print(readiness_table(result))
    raise typer.Exit(0 if result.ready else NOT_READY)


def status(json_output: JsonOption = False, config: ConfigOption = None) -> None:
    """Cursors, the last run, rejected records, uncertain invoices, and whether a run is
    going now."""
    settings = load(config)
    with errors():
        found = commands.status(settings)
    if json_output:
        print_json(found)
        return
    for table in status_tables(found):
        Console().print(table)


def history(
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many runs to list.")] = 20,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Past runs, newest first, with their counts and outcome."""
    settings = load(config)
    with errors():
        runs = commands.history(settings, limit)
    if json_output:
        print_json(runs)
    else:
        Console().print(history_table(runs))


def init(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write it.")] = Path(
        "dksync.yaml"
    ),
    company: Annotated[str | None, typer.Option(help="Moment company code.")] = None,
    sales_person: Annotated[str | None, typer.Option(help="DK+ sales person number.")] = None,
    moment_url: Annotated[str | None, typer.Option(help="Moment address.")] = None,
    dkplus_url: Annotated[str | None, typer.Option(help="DK+ API address.")] = None,
    start_from: Annotated[str | None, typer.Option(help="First run reads from (ISO-8601).")] = (
        None
    ),
    state_path: Annotated[str | None, typer.Option(help="State file path.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write a commented config file from answers (on a terminal) or from these options."""
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
        from_mapping(
            yaml.safe_load(init_module.render(values)),
            env={"MOMENT_API_KEY": "-", "DKPLUS_API_TOKEN": "-"},
        )
        init_module.write(output, values, force)
    Console().print(
        f"Wrote {output}. Put the secrets in the environment (MOMENT_API_KEY, "
        "DKPLUS_API_TOKEN, or the *_FILE variants), then run: dksync check -c "
        f"{output}",
        markup=False,
        highlight=False,
    )


def _answers(given: dict[str, str | None]) -> dict[str, str]:
    defaults = init_module.defaults()
    interactive = sys.stdin.isatty()
    values: dict[str, str] = {}
    for key, label in init_module.FIELDS.items():
        value = given.get(key)
        if value is None and interactive:
            value = typer.prompt(label, default=defaults[key])
        if value is None and key in ("moment.company", "dkplus.sales_person"):
            flag = "--company" if key == "moment.company" else "--sales-person"
            raise typer.BadParameter(
                f"{label} is needed; without a terminal pass {flag}", param_hint=flag
            )
        values[key] = value if value is not None else defaults[key]
    return values


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
