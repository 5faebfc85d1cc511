"""``atomic()`` nests with savepoints and rolls back a failed COMMIT; a state file at every
earlier schema version migrates in place and keeps what it holds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dksync.errors import StateError
from dksync.state.migrations import MIGRATIONS
from dksync.state.rows import Cursor
from dksync.state.store import State

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_an_inner_failure_undoes_only_the_inner_block(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with state.atomic():
        state.move_cursor("customers", Cursor(T0, 1))
        with pytest.raises(RuntimeError), state.atomic():
            state.move_cursor("invoices", Cursor(T0, 2))
            raise RuntimeError("inner")
        state.reject("projects", 3, "P3", "bad")
    assert state.cursor("customers") == Cursor(T0, 1)
    assert state.cursor("invoices") is None
    assert [r.moment_id for r in state.rejected()] == [3]
    state.close()


def test_an_outer_failure_undoes_the_inner_blocks_too(tmp_path: Path) -> None:
    state = State.open(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError), state.atomic():
        with state.atomic():
            state.move_cursor("invoices", Cursor(T0, 2))
        raise RuntimeError("outer")
    assert state.cursor("invoices") is None
    state.close()


def test_a_failed_commit_is_rolled_back_and_the_state_stays_usable(tmp_path: Path) -> None:
    """A deferred foreign key fails at COMMIT: the transaction must not stay open."""
    state = State.open(tmp_path / "s.sqlite")
    with state.atomic():
        state._sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        state._sql(
            "CREATE TABLE child (pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    state._sql("PRAGMA foreign_keys = ON")
    with pytest.raises(StateError), state.atomic():
        state.move_cursor("invoices", Cursor(T0, 1))
        state._sql("INSERT INTO child VALUES (42)")  # no parent 42: COMMIT fails
    assert not state._db.in_transaction
    assert state.cursor("invoices") is None
    with state.atomic():
        state.move_cursor("invoices", Cursor(T0, 5))
    assert state.cursor("invoices") == Cursor(T0, 5)
    state.close()


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS)))
def test_a_file_of_every_earlier_schema_migrates_in_place(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO cursors VALUES ('invoices', '2026-05-01T00:00:00+00:00', 7, 'x')")
    db.execute(
        "INSERT INTO written (object_type, moment_id, number, payload_hash, updated_at) "
        "VALUES ('customers', 3, '10004', 'h', 'at')"
    )
    db.execute("INSERT INTO invoices VALUES (9, '1001', 'posted', 90001, '', 'at')")
    db.commit()
    db.close()
    state = State.open(path)
    assert state.schema_version == len(MIGRATIONS)
    assert state.cursor("invoices") == Cursor(
        datetime.fromisoformat("2026-05-01T00:00:00+00:00"), 7
    )
    written = state.written("customers", 3)
    assert written is not None and (written.number, written.payload) == ("10004", None)
    invoice = state.invoice(9)
    assert invoice is not None and invoice.dk_number == 90001
    state.close()


def test_customers_written_before_kennitala_claims_hold_theirs(tmp_path: Path) -> None:
    """A state from before one customer per kennitala: each kennitala of a customer it
    wrote is claimed by the lowest Moment id, so a new customer with it is not a second
    debtor; one that is no kennitala (9 digits) claims nothing."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:-1]:
        for statement in statements:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    for moment_id, kennitala in ((8, "530269 2619"), (5, "530269-2619"), (6, "12345678-9")):
        db.execute(
            "INSERT INTO customer_facts VALUES (?, ?, 'n', ?, 'at')",
            (moment_id, str(moment_id), kennitala),
        )
    db.commit()
    db.close()
    state = State.open(path)
    assert state.claim_number("kennitala", "5302692619", 9) == 5
    assert state.claim_number("kennitala", "123456789", 9) is None
    state.close()
