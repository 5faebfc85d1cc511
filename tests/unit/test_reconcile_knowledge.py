"""What the state says about an invoice, read without changing the file."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from dksync.errors import StateError
from dksync.reconcile.knowledge import NEVER_SENT, Knowledge
from dksync.state.store import State


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_state_of_an_invoice_has_its_why(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = State.open(path)
    with state.atomic():
        state.mark_invoice(1, "1001", "posted", 90001)
        state.mark_invoice(2, "1002", "uncertain", detail="dropped")
        state.mark_invoice(3, "1003", "pending")
        state.reject("invoices", 4, "1004", "customer 10004 has no kennitala")
        state.reject("invoices", 5, "1005", "bad line")
    dropped = next(r for r in state.rejected("invoices") if r.moment_id == 5)
    state.drop_rejected(dropped.id, "handled by hand")
    state.close()
    before = _digest(path)
    known = Knowledge.open(path)
    try:
        assert known.why_missing(1).startswith("dksync posted it as DK+ 90001 (")
        assert known.why_missing(2).startswith("uncertain since 20")
        assert known.why_missing(3).startswith("uncertain since 20")
        assert known.why_missing(4) == "rejected by dksync: customer 10004 has no kennitala"
        assert "handled by hand" in known.why_missing(5) and "bad line" in known.why_missing(5)
        assert known.why_missing(6) == NEVER_SENT
        with pytest.raises(StateError, match="readonly"):  # opened read-only: writes fail
            known._state.mark_invoice(7, "1007", "posted")  # type: ignore[union-attr]
    finally:
        known.close()
    assert _digest(path) == before


def test_no_state_file_means_never_sent_and_none_is_made(tmp_path: Path) -> None:
    known = Knowledge.open(tmp_path / "absent.sqlite")
    assert known.why_missing(1) == NEVER_SENT
    known.close()
    assert list(tmp_path.iterdir()) == []


def test_a_state_of_another_schema_is_refused_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 1")
    connection.close()
    before = _digest(path)
    with pytest.raises(StateError, match="run 'dksync status' once"):
        Knowledge.open(path)
    assert _digest(path) == before
