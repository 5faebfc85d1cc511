"""The ``dksync`` command line: parse, call the library, render, map errors to exit codes.

Exit codes: 0 everything eligible was written; 1 some records were rejected or are
uncertain (or a record asked for does not exist); 2 wrong usage; 3 a service could not be
reached or refused the credentials; 4 bad configuration; 5 the state file cannot be used;
6 another run holds the lock.
"""

from __future__ import annotations

from dksync.cli import ledger, operate, reconcile, records, sandbox, state, sync
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

__all__ = ["app"]
