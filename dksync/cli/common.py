"""What every command shares: the app, global logging options, config loading, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dksync import config as config_module
from dksync import jsonio, logs
from dksync.config import Config
from dksync.errors import DksyncError, FatalError

app = typer.Typer(
    name="dksync",
    help="Sync customers, projects and invoices from Moment to DK+ (dkPlus).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $DKSYNC_CONFIG, else ./dksync.yaml)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@app.callback()
def main(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More log lines on stderr (-vv for debug)."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    log_file: Annotated[
        Path | None, typer.Option(help="Also write the log to this file (INFO, or DEBUG with -v).")
    ] = None,
) -> None:
    """Sync customers, projects and invoices from Moment to DK+ (dkPlus)."""
    with errors():
        logs.setup(verbose, quiet, log_file)


@contextmanager
def errors() -> Iterator[None]:
    """dksync's own errors become one plain line on stderr and their exit code."""
    try:
        yield
    except FatalError as exc:
        say_error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except DksyncError as exc:
        say_error(str(exc))
        raise typer.Exit(3) from None


def say_error(message: str) -> None:
    Console(stderr=True).print(f"dksync: {message}", markup=False, highlight=False)


def load(path: Path | None) -> Config:
    """The validated config; its secrets are registered so no log line can show them."""
    with errors():
        settings = config_module.load(path)
    secrets = [settings.moment.api_key.reveal(), settings.dkplus.token.reveal()]
    if settings.email is not None and settings.email.password is not None:
        secrets.append(settings.email.password.reveal())
    logs.forget_secrets(secrets)
    return settings


def print_json(document: Any) -> None:
    sys.stdout.write(jsonio.dumps(document) + "\n")
