"""Library calls behind the smaller CLI commands: each opens the state, does one thing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dksync.config import OBJECT_TYPES, Config
from dksync.errors import RecordNotFound
from dksync.lock import RunLock, holder
from dksync.state import RejectedRow, State


def rejected_records(config: Config, include_dropped: bool = False) -> list[RejectedRow]:
    """The rejected-record queue, oldest type first."""
    state = State.open(config.state_path)
    try:
        return state.rejected(include_dropped=include_dropped)
    finally:
        state.close()


def drop_rejected(config: Config, record_id: int, note: str) -> RejectedRow:
    """Give one rejected record up; refuses while a run is going."""
    with RunLock(config.state_path, "failures drop"):
        state = State.open(config.state_path)
        try:
            row = state.drop_rejected(record_id, note)
        finally:
            state.close()
    if row is None:
        raise RecordNotFound(f"no rejected record has ID {record_id}; see 'dksync failures'")
    return row


def status(config: Config) -> dict[str, Any]:
    """Cursors, the last run, rejected records, uncertain invoices and who holds the lock."""
    state = State.open(config.state_path)
    try:
        cursors = {}
        for kind in OBJECT_TYPES:
            cursor = state.cursor(kind)
            cursors[kind] = (
                None
                if cursor is None
                else {"modified": cursor.modified.isoformat(), "id": cursor.record_id}
            )
        last = state.runs(1)
        waiting = [
            asdict(r) for s in ("pending", "uncertain") for r in state.invoices_with_status(s)
        ]
        return {
            "state_file": str(config.state_path),
            "cursors": cursors,
            "last_run": last[0] if last else None,
            "rejected": [asdict(r) for r in state.rejected()],
            "uncertain_invoices": waiting,
            "posted_invoices": state.posted_count(),
            "lock": holder(config.state_path),
        }
    finally:
        state.close()


def history(config: Config, limit: int) -> list[dict[str, Any]]:
    """Past runs, newest first, with their counts and outcome."""
    state = State.open(config.state_path)
    try:
        return state.runs(limit)
    finally:
        state.close()
