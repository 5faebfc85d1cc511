"""Every SQLite failure leaves the state as a ``StateError`` naming the file (exit 5), and
the lock on the state file leaves SQLite (WAL) working in the same process."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dksync.errors import LockedError, StateError
from dksync.state.lock import RunLock, holder
from dksync.state.rows import Cursor
from dksync.state.store import State


def test_a_query_on_a_closed_state_is_a_state_error(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    state.close()
    with pytest.raises(StateError, match=f"the state file {tmp_path / 's.sqlite'} cannot be used"):
        state.cursor("invoices")


def test_a_number_sqlite_cannot_hold_is_a_state_error(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with pytest.raises(StateError, match="a number is too large to be stored"):
        state.runs(10**30)
    state.close()


def test_a_failure_inside_a_transaction_rolls_back_and_keeps_its_own_type(
    tmp_path: Path,
) -> None:
    state = State.open(tmp_path / "s.sqlite")
    cursor = Cursor(datetime(2026, 5, 1, tzinfo=UTC), 7)
    with pytest.raises(KeyError), state.atomic():
        state.move_cursor("invoices", cursor)
        raise KeyError("not a state problem")
    assert state.cursor("invoices") is None
    state.close()


def test_a_database_locked_by_another_program_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    State.open(path).close()
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StateError, match="another program holds it"):
            State.open(path).start_run()
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_sqlite_works_under_the_lock_on_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with RunLock(path):
        assert path.exists(), "the lock created the (empty) state file"
        state = State.open(path)
        run = state.start_run()
        with state.atomic():
            state.move_cursor("invoices", Cursor(datetime(2026, 5, 1, tzinfo=UTC), 7))
        state.finish_run(run, "ok", {"posted": 1})
        state.close()
        assert holder(path) is not None
        with pytest.raises(LockedError):
            RunLock(tmp_path / "." / "s.sqlite").__enter__()
    assert holder(path) is None
    state = State.open(path)
    assert state.runs(1)[0]["outcome"] == "ok"
    assert state.cursor("invoices") == Cursor(datetime(2026, 5, 1, tzinfo=UTC), 7)
    state.close()
