"""Library calls behind the smaller CLI commands: each opens the state, does one thing."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import asdict
from typing import Any

from dksync.cli.tables import READ, count_words, failure_json
from dksync.config import OBJECT_TYPES, Config
from dksync.errors import RecordNotFound
from dksync.kinds import CursorState
from dksync.state import access
from dksync.state.lock import RunLock, holder
from dksync.state.rows import Cursor, RejectedRow
from dksync.state.store import State


def _reading(config: Config) -> AbstractContextManager[State]:
    """The state for a command that only reads it, read in place: looking never creates,
    migrates or writes the file, nor copies it (see ``state.access``)."""
    return access.reading(config.state_path)


def rejected_records(config: Config, include_dropped: bool = False) -> list[RejectedRow]:
    """The rejected-record queue, in the order of their IDs."""
    with _reading(config) as state:
        return sorted(state.rejected(include_dropped=include_dropped), key=lambda r: r.id)


def drop_rejected(config: Config, record_id: int, note: str) -> RejectedRow:
    """Give one rejected record up; refuses while a run is going. A record dropped before
    comes back as it was (its ``dropped_at`` is older than this call)."""
    with RunLock(config.state_path, "failures drop"):
        state = State.open(config.state_path)
        try:
            row = state.drop_rejected(record_id, note)
        finally:
            state.close()
    if row is None:
        raise RecordNotFound(f"no rejected record has ID {record_id}; see 'dksync failures'")
    return row


def undrop_rejected(config: Config, record_id: int) -> RejectedRow:
    """Put a dropped record back in the queue; refuses while a run is going."""
    with RunLock(config.state_path, "failures undrop"):
        state = State.open(config.state_path)
        try:
            row = state.undrop_rejected(record_id)
        finally:
            state.close()
    if row is None:
        raise RecordNotFound(f"no dropped record has ID {record_id}; see 'dksync failures --all'")
    return row


def show_record(config: Config, object_type: str, number: str) -> dict[str, Any]:
    """Everything the state holds about one record, found by its Moment number."""
    with _reading(config) as state:
        moment_id = state.moment_id_for(object_type, number)
        if moment_id is None:
            moment_id = state.skipped_id(object_type, number)
        found: dict[str, Any] = {
            "object": object_type,
            "number": number,
            "moment_id": moment_id,
            "written": None,
            "invoice": None,
            "skipped": None,
            "rejections": [],
            "events": [],
        }
        if moment_id is None:
            return found
        written = state.written(object_type, moment_id)
        if written is not None:
            found["written"] = {"number": written.number, "at": written.updated_at}
        invoice = state.invoice(moment_id) if object_type == "invoices" else None
        if invoice is not None:
            found["invoice"] = asdict(invoice)
        skip = state.skip_of(object_type, moment_id)
        if skip is not None:
            found["skipped"] = {"reason": skip[0], "at": skip[1]}
        found["rejections"] = [
            failure_json(r)
            for r in state.rejected(object_type, include_dropped=True)
            if r.moment_id == moment_id
        ]
        mention = f"{object_type} {number}"
        found["events"] = [
            {"at": at, "kind": kind, "detail": detail}
            for at, kind, detail in state.events(1000)
            if detail == mention or detail.startswith(mention + " ")
        ]
        return found


def posted_among(config: Config, references: list[str]) -> list[str]:
    """Those of these invoice numbers the state says dksync posted to DK+."""
    with _reading(config) as state:
        posted = []
        for number in references:
            ident = state.moment_id_for("invoices", number)
            row = None if ident is None else state.invoice(ident)
            if row is not None and row.status == "posted":
                posted.append(number)
        return posted


def changes_since(config: Config, objects: tuple[str, ...]) -> str | None:
    """Where the oldest stored cursor of ``objects`` stands, as "2026-11-22 08:14 UTC", for
    "nothing changed since ..."; read in place, writing nothing."""
    with _reading(config) as state:
        cursors = [c for kind in objects if (c := state.cursor(kind)) is not None]
    if not cursors:
        return None
    return min(c.modified for c in cursors).strftime("%Y-%m-%d %H:%M UTC")


def status(config: Config) -> dict[str, Any]:
    """Cursors, the last run, rejected records, uncertain invoices and who holds the lock."""
    with _reading(config) as state:
        lock = holder(config.state_path)
        last = _with_outcomes(state.runs(1), lock)
        cursors = {
            kind: cursor_json(kind, state.cursor(kind), last[0] if last else None)
            for kind in OBJECT_TYPES
        }
        waiting = [
            asdict(r) for s in ("pending", "uncertain") for r in state.invoices_with_status(s)
        ]
        return {
            "state_file": str(config.state_path),
            "cursors": cursors,
            "last_run": last[0] if last else None,
            "rejected": [failure_json(r) for r in state.rejected()],
            "uncertain_invoices": waiting,
            "posted_invoices": state.posted_count(),
            "lock": lock,
        }


def cursor_json(kind: str, cursor: Cursor | None, last: dict[str, Any] | None) -> dict[str, Any]:
    """A kind's cursor as ``status`` shows it: ``{"state", "modified", "id", "note"}``, the
    same object whether it has moved or not (``modified`` and ``id`` null until it has), and
    ``note`` the words of the table: a kind without a cursor says whether a run has read it
    (the cursor moves only once a stream is done)."""
    if cursor is not None:
        modified = cursor.modified.isoformat()
        return {
            "state": CursorState.SET,
            "modified": modified,
            "id": cursor.record_id,
            "note": modified,
        }
    counts = (last or {}).get("counts", {}).get(kind, {})
    if last is None or not counts.get(READ, 0):
        state, note = CursorState.NOT_STARTED, "not started"
    else:
        done = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        if last["outcome"] == "running":
            state, note = CursorState.IN_PROGRESS, f"in progress: run {last['id']} so far {done}"
        else:
            state = CursorState.NOT_MOVED
            note = f"not moved: run {last['id']} ({last['outcome']}) {done}"
    return {"state": state, "modified": None, "id": None, "note": note}


def history(config: Config, limit: int) -> list[dict[str, Any]]:
    """Past runs, newest first, with their counts and outcome."""
    with _reading(config) as state:
        return _with_outcomes(state.runs(limit), holder(config.state_path))


def _with_outcomes(runs: list[dict[str, Any]], lock: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Runs with the words people read: a run that has not finished is "running" when it is
    the newest and a run holds the lock now, else "interrupted"."""
    shown = []
    for position, run in enumerate(runs):
        outcome = run["outcome"]
        if outcome is None:
            going = position == 0 and lock is not None and lock.get("purpose") == "run"
            outcome = "running" if going else "interrupted"
        shown.append({**run, "outcome": outcome, "counts": count_words(run["counts"])})
    return shown
