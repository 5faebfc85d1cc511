"""The ``dksync`` command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 everything eligible was written; 1 some records were rejected or are
uncertain (or a record asked for does not exist); 2 wrong usage; 3 a service could not be
reached or refused the credentials; 4 bad configuration; 5 the state file cannot be used;
6 another run holds the lock.
"""

from __future__ import annotations

import copy
import logging
import os
import sys

import typer

from dksync.cli import ledger, operate, reconcile, records, sandbox, state, sync
from dksync.cli.argv import split_globals
from dksync.cli.common import GLOBAL_HELP, DksyncCommand, app

for command in (
    sync.run,
    operate.check,
    operate.status,
    operate.history,
    operate.init,
    records.resync,
    records.show,
    sandbox.sandbox,
    reconcile.reconcile,
    ledger.ledger,
):
    app.command(cls=DksyncCommand, epilog=GLOBAL_HELP)(command)
app.add_typer(records.failures_app, name="failures")
app.add_typer(state.state_app, name="state")

__all__ = ["app", "main"]


INTERRUPTED = frozenset({130, 143})  # 128 + SIGINT, 128 + SIGTERM


def main() -> None:
    """The console script and ``python -m dksync``: the app as the arguments need it.

    A run stopped by a signal leaves as soon as its summary is out: the interpreter's own
    shutdown puts the default signal handlers back, and a second Ctrl-C or SIGTERM landing
    there (an impatient user, a service manager) would kill the process and lose the exit
    code that says the run was interrupted and recorded."""
    try:
        for_arguments(sys.argv[1:])(prog_name="dksync")
    except SystemExit as done:
        if done.code not in INTERRUPTED:
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(int(done.code or 0))


def for_arguments(args: list[str]) -> typer.Typer:
    """The app holding only the command the arguments name: Typer turns every command's
    signature into Click options on each start (15-25 ms for all of them, most of a cron
    run's own work), and a run needs one. Without a known command name (help, a misspelt
    or missing command, shell completion) the whole app, so listings and suggestions stay
    whole."""
    _, rest = split_globals(args)
    name = rest[0] if rest else ""
    commands = [c for c in app.registered_commands if _name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not (commands or groups) or any(v.endswith("_COMPLETE") for v in os.environ):
        return app
    lean = copy.copy(app)
    lean.registered_commands, lean.registered_groups = commands, groups
    return lean


def _name(command: typer.models.CommandInfo) -> str:
    """A command's name as Typer gives it (the function's, with dashes)."""
    callback = command.callback
    return command.name or (callback.__name__.replace("_", "-") if callback else "")
