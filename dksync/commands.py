"""Library calls behind the smaller CLI commands: each opens the state, does one thing."""

from __future__ import annotations

from dksync.config import Config
from dksync.errors import RecordNotFound
from dksync.lock import RunLock
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
