"""``dksync state backup``: a consistent copy of the state file, for an operator's backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dksync.cli.common import (
    GLOBAL_HELP,
    DksyncCommand,
    DksyncGroup,
    errors,
    globals_of,
    load_for_reading,
)

state_app = typer.Typer(
    cls=DksyncGroup,
    help="The state file: back it up, also while a run writes.",
    epilog=GLOBAL_HELP,
    no_args_is_help=True,
)


@state_app.command("backup", cls=DksyncCommand, epilog=GLOBAL_HELP)
def backup(
    ctx: typer.Context,
    target: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="Where to write the copy (replaced if it exists)."),
    ],
) -> None:
    """Copy the state file to PATH with SQLite's online backup: one consistent moment of
    it, safe while a run writes, written beside PATH first and moved into place complete.
    Copying the file with cp while a run writes may give a torn copy; use this instead."""
    from dksync.state import access

    settings = load_for_reading(ctx)  # a copy of the state needs no secret
    with errors():
        pages = access.backup(settings.state_path, target)
    if not globals_of(ctx).quiet:
        typer.echo(f"Backed up {settings.state_path} to {target} ({pages} pages).")
