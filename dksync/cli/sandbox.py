"""``dksync sandbox``: local Moment and DK+ stand-ins with generated data, until Ctrl-C,
with the knobs a user wants to try (latency, 5xx, dropped answers, rate limit) as flags."""

from __future__ import annotations

import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dksync.cli.common import errors
from dksync.errors import ConfigError, StateError

if TYPE_CHECKING:
    from dksync.sandbox.pair import Sandbox

SANDBOX_STATE = "dksync-sandbox.sqlite"
SANDBOX_MARK = "# dksync sandbox config, written by 'dksync sandbox --write-config'"


def sandbox(
    moment_port: Annotated[
        int, typer.Option(metavar="N", help="Port for the Moment server (0: a free one).")
    ] = 0,
    dkplus_port: Annotated[
        int, typer.Option(metavar="N", help="Port for the DK+ server (0: a free one).")
    ] = 0,
    seed: Annotated[
        int, typer.Option(metavar="S", help="Seed for the generated data and faults.")
    ] = 1,
    customers: Annotated[int, typer.Option(metavar="N", help="Customers to generate.")] = 40,
    projects: Annotated[int, typer.Option(metavar="N", help="Projects to generate.")] = 15,
    invoices: Annotated[int, typer.Option(metavar="N", help="Invoices to generate.")] = 60,
    write_config: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Also write the config for this sandbox to PATH (its state file next to it). "
            "Replaces only a file an earlier 'dksync sandbox' wrote.",
        ),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option(min=0, max=60_000, metavar="MS", help="Delay every request (ms).")
    ] = 0.0,
    error_rate: Annotated[
        float,
        typer.Option(min=0, max=1, metavar="R", help="Share of requests answered 503 (0 to 1)."),
    ] = 0.0,
    drop_rate: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            metavar="R",
            help="Share of writes carried out whose answer is then dropped (0 to 1).",
        ),
    ] = 0.0,
    rate_limit: Annotated[
        float | None,
        typer.Option(min=0.1, metavar="N", help="Answer 429 above N requests per second."),
    ] = None,
    fault: Annotated[
        list[str],
        typer.Option(
            metavar="KNOB=VALUE",
            help="Any other sandbox knob, e.g. slow_rate=0.1, slow_ms=40000, "
            "transport_fault=broken_chunks, page_cap=50 (repeatable; see the README).",
        ),
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
) -> None:
    """Serve local Moment and DK+ stand-ins with generated data until Ctrl-C, and print a
    config that points dksync at them. Both servers get the knobs given."""
    from dksync.sandbox.pair import Sandbox, Sizes

    knobs = _knobs(latency_ms, error_rate, drop_rate, rate_limit, fault)
    pair = Sandbox(
        seed=seed,
        sizes=Sizes(customers, projects, invoices),
        moment_port=moment_port,
        dkplus_port=dkplus_port,
    )
    with pair:
        for server in (pair.moment, pair.dkplus):
            server.knobs.update(knobs)
        _serve(pair, write_config, knobs)


def _knobs(
    latency_ms: float,
    error_rate: float,
    drop_rate: float,
    rate_limit: float | None,
    faults: list[str],
) -> dict[str, Any]:
    """The knobs the flags ask for; ``--fault`` values are read as YAML (numbers, words)."""
    import yaml

    from dksync.sandbox.knobs import Knobs

    chosen: dict[str, Any] = {"latency_ms": latency_ms, "error_rate": error_rate}
    chosen |= {"drop_rate": drop_rate, "rate_limit": rate_limit}
    known = {f.name for f in fields(Knobs)}
    for item in faults:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in known:
            raise typer.BadParameter(
                f"{item!r}: use KNOB=VALUE with one of {', '.join(sorted(known))}",
                param_hint="--fault",
            )
        chosen[name.strip()] = yaml.safe_load(value)
    return chosen


def _serve(pair: Sandbox, write_config: Path | None, knobs: dict[str, Any]) -> None:
    """Say where the servers are and what they hold, then serve until Ctrl-C."""
    text = f"{SANDBOX_MARK}\n" + pair.config_yaml(SANDBOX_STATE)
    if write_config is not None:
        with errors():
            _write_sandbox_config(write_config, text)
    out = sys.stdout
    out.write(f"Moment:  {pair.moment.url}\n")
    out.write(f"DK+:     {pair.dkplus.url}\n")
    out.write(f"Moment company code: {pair.moment.company}\n")
    out.write(f"Moment API key (user 'apikey'): {pair.moment.api_key}\n")
    out.write(f"DK+ bearer token: {pair.dkplus.token}\n")
    out.write(f"DK+ sales person: {pair.sales_person}\n")
    tried = {k: v for k, v in knobs.items() if v not in (0, 0.0, None)}
    if tried:
        out.write("Knobs on both servers: " + ", ".join(f"{k}={v}" for k, v in tried.items()))
        out.write("\n")
    if write_config is not None:
        out.write(f"\nWrote {write_config}; in another terminal: dksync -c {write_config} check\n")
    else:
        out.write("\n# dksync config for this sandbox ('--write-config PATH' writes it):\n")
        out.write(text + "\n")
    note = _remembered_posts(write_config.parent if write_config else Path.cwd())
    if note:
        out.write(note)
    try:  # from the line a user waits for on: a Ctrl-C right after it still stops cleanly
        out.write("Serving until Ctrl-C.\n")
        out.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.write("Stopped.\n")


def _remembered_posts(folder: Path) -> str | None:
    """A sandbox's DK+ starts empty each time, while its state file beside the config may
    remember invoices posted to an earlier one: say so, with what to do."""
    from dksync.state.access import reading

    path = folder / SANDBOX_STATE
    if not path.exists():
        return None
    try:
        with reading(path) as state:
            posted = state.posted_count()
    except StateError:
        return None
    if not posted:
        return None
    return (
        f"\nNote: this sandbox's DK+ starts empty, but {path} remembers {posted} invoices "
        "posted to an earlier one. 'dksync reconcile --fix' sends them again (or "
        f"'dksync resync invoice N --force'); or delete {path.name} to start over.\n"
    )


def _write_sandbox_config(path: Path, text: str) -> None:
    """Writes the sandbox's config; an existing file only if a sandbox wrote it too (its
    secrets change every start), never over someone's real config."""
    if path.exists() and not path.read_text(encoding="utf-8").startswith(SANDBOX_MARK):
        raise ConfigError(f"{path} exists and is not a sandbox config; choose another path")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
