"""Whether this state file has seen every invoice POST dksync made to DK+, which is what
makes a DK+ list's "not there" safe for a first POST (see the README, "Exactly once").

A DK+ list of invoices is read by a window of invoice dates. Its "this reference is not
there" is safe only when nothing but a dksync run that this state file recorded could have
put the reference in DK+ outside that window: then an invoice the state does not hold as
posted was never posted by dksync. A new state file, a restored backup or a copy breaks the
argument (the lost runs' POSTs are unknown), so the state's lineage (a token and a count of
finished runs) is mirrored in a small file beside it, ``<state>.lineage``. When the two
disagree, or the state is new, first POSTs are checked against DK+'s whole invoice list,
every date (read once; one lookup by reference each where it cannot be read), until a run
has read the invoices stream whole from the start of Moment's history in that mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from dksync.state.store import State

TOKEN, RUNS, TRUSTED = "lineage", "lineage_runs", "window_trusted"


def sidecar(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lineage")


def window_trusted(state: State, *, dry_run: bool = False) -> bool:
    """Whether a list's "not there" may be trusted for a first POST in this run. A new or
    broken lineage starts again here (untrusted); a dry run only reads."""
    token, runs = state.meta(TOKEN), state.meta(RUNS)
    intact = token is not None and _read(state.path) == f"{token} {runs}"
    if dry_run:
        return intact and state.meta(TRUSTED) == "1"
    if not intact:
        with state.atomic():
            state.set_meta(TOKEN, secrets.token_hex(8))
            state.set_meta(RUNS, "0")
            state.set_meta(TRUSTED, "0")
        _write(state)
    return state.meta(TRUSTED) == "1"


def finish(state: State, *, trusted: bool) -> None:
    """A run ended: count it in the state, then in the file beside it (a crash between the
    two leaves them apart, which only costs lookups next time)."""
    with state.atomic():
        state.set_meta(RUNS, str(int(state.meta(RUNS) or 0) + 1))
        state.set_meta(TRUSTED, "1" if trusted else "0")
    _write(state)


def _read(state_path: Path) -> str | None:
    try:
        return sidecar(state_path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write(state: State) -> None:
    target = sidecar(state.path)
    temporary = target.with_name(target.name + ".tmp")
    with contextlib.suppress(OSError):  # unwritable: the next run only asks one by one
        temporary.write_text(f"{state.meta(TOKEN)} {state.meta(RUNS)}\n", encoding="utf-8")
        os.replace(temporary, target)
