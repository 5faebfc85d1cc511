"""The SQLite state: cursors only move forward, unusable files stop the run, old files migrate."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dksync.errors import StateError
from dksync.state.migrations import MIGRATIONS
from dksync.state.rows import Cursor
from dksync.state.store import State

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_cursor_never_moves_back(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with state.atomic():
        state.move_cursor("customers", Cursor(T0, 5))
        state.move_cursor("customers", Cursor(T0 - timedelta(days=1), 9))
    assert state.cursor("customers") == Cursor(T0, 5)
    with state.atomic():
        state.move_cursor("customers", Cursor(T0, 6))
    assert state.cursor("customers") == Cursor(T0, 6)
    state.close()


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError), state.atomic():
        state.move_cursor("invoices", Cursor(T0, 1))
        raise RuntimeError("crash")
    assert state.cursor("invoices") is None
    state.close()


def test_rejected_records_count_attempts(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with state.atomic():
        state.reject("customers", 7, "10007", "too long")
        state.reject("customers", 7, "10007", "still too long")
    [row] = state.rejected()
    assert (row.attempts, row.reason) == (2, "still too long")
    with state.atomic():
        state.clear_rejected("customers", 7)
    assert state.rejected() == []
    state.close()


def test_corrupt_file_stops_with_a_clear_message_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StateError, match="cannot be used") as caught:
        State.open(path)
    assert "left as it is" in str(caught.value)
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="newer dksync"):
        State.open(path)
