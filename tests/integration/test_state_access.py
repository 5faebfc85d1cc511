"""The state read in place while a run writes, its history bounded, and its online backup."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from dksync.state.store import State
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def _a_posted_invoice(state_path: Path) -> str:
    with sqlite3.connect(state_path) as db:
        return str(db.execute("SELECT reference FROM invoices LIMIT 1").fetchone()[0])


def test_status_history_and_show_work_while_a_run_writes_and_change_no_byte(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-c", config).exit_code == 1  # the sandbox plants rejections
    state_path = tmp_path / "state.sqlite"
    number = _a_posted_invoice(state_path)
    with RunLock(state_path, "run"):
        writer = sqlite3.connect(state_path, isolation_level=None)
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # what it writes stays in its log
        writer.execute("INSERT INTO runs (started_at) VALUES ('2026-12-01T09:00:00+00:00')")
        writer.execute("BEGIN IMMEDIATE")  # and it is in the middle of writing more
        writer.execute("INSERT INTO runs (started_at) VALUES ('2026-12-01T09:01:00+00:00')")
        wal = state_path.with_name("state.sqlite-wal")
        before = (_digest(state_path), _digest(wal))
        status = _invoke("status", "--json", "-c", config)
        history = _invoke("history", "--json", "-c", config)
        show = _invoke("show", "invoice", number, "--json", "-c", config)
        after = (_digest(state_path), _digest(wal))
        writer.execute("ROLLBACK")
        writer.close()
    assert (status.exit_code, history.exit_code, show.exit_code) == (0, 0, 0), status.output
    assert after == before, "a read-only command wrote to the state or its log"
    runs = json.loads(history.stdout)
    assert [r["started_at"] for r in runs][:1] == ["2026-12-01T09:00:00+00:00"]
    assert runs[0]["outcome"] == "running"  # the newest, unfinished, while a run holds the lock
    assert json.loads(status.stdout)["lock"]["purpose"] == "run"
    assert json.loads(show.stdout)["invoice"]["reference"] == number


def test_read_only_commands_leave_no_side_file(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-c", config).exit_code == 1
    before = _files(tmp_path)
    for command in (["status"], ["history"], ["failures"], ["show", "customer", "1"]):
        assert _invoke(*command, "-c", config).exit_code in (0, 1)
    assert _invoke("run", "--dry-run", "-c", config).exit_code == 1
    assert _files(tmp_path) == before


def test_a_run_forgets_history_beyond_what_is_kept(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path, state={"keep_history": "0s", "keep_runs": 2}))
    for _ in range(4):
        assert _invoke("run", "-q", "-c", config).exit_code == 1
    runs = json.loads(_invoke("history", "--json", "-c", config).stdout)
    assert [r["id"] for r in runs] == [4, 3]


def test_history_keeps_a_year_and_always_the_last_runs(tmp_path: Path) -> None:
    state = State.open(tmp_path / "state.sqlite")
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    for n in range(30):
        run = state.start_run()
        state.finish_run(run, "ok", {})
        if n < 20:
            state._sql("UPDATE runs SET started_at = ? WHERE id = ?", (old, run))
    assert state.prune_history(timedelta(days=365), 25) == 5  # 20 old, 5 of them not last 25
    assert [r["id"] for r in state.runs(100)][-1] == 6
    assert state.prune_history(timedelta(days=365), 1) == 15  # the recent 10 stay
    assert len(state.runs(100)) == 10
    state.close()


def test_state_backup_is_a_consistent_copy_while_a_run_writes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-c", config).exit_code == 1
    state_path = tmp_path / "state.sqlite"
    writer = sqlite3.connect(state_path, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO runs (started_at) VALUES ('2026-12-01T09:00:00+00:00')")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO runs (started_at) VALUES ('2026-12-01T09:01:00+00:00')")
    target = tmp_path / "backups" / "state-copy.sqlite"
    done = _invoke("state", "backup", str(target), "-c", config)
    writer.execute("ROLLBACK")
    writer.close()
    assert done.exit_code == 0, done.output
    assert "Backed up" in done.stdout
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        started = [r[0] for r in copy.execute("SELECT started_at FROM runs ORDER BY id")]
    assert started[-1] == "2026-12-01T09:00:00+00:00"  # committed: in; uncommitted: not
    assert not target.with_name("state-copy.sqlite.partial").exists()


def test_state_backup_without_a_state_or_onto_itself_is_a_state_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    missing = _invoke("state", "backup", str(tmp_path / "copy.sqlite"), "-c", config)
    assert missing.exit_code == 5 and "nothing to back up" in missing.output
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    itself = _invoke("state", "backup", str(tmp_path / "state.sqlite"), "-c", config)
    assert itself.exit_code == 2 and "would destroy the state" in itself.output


@pytest.mark.parametrize("target", ["state.sqlite-wal", "state.sqlite.lineage", "dksync.yaml", "."])
def test_state_backup_never_replaces_the_state_s_companions_the_config_or_a_folder(
    sandbox: Sandbox, tmp_path: Path, target: str
) -> None:
    """The backup replaced whatever PATH was: a live -wal (losing what it holds), the
    .lineage, the config (a typo of the .sqlite name), and as root even a device (run as
    root, 'state backup /dev/full' put a SQLite file where the device was). Each is now
    refused, exit 2, and left as it was; an earlier backup is still replaced."""
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    path = tmp_path / target
    if not path.exists():
        path.write_bytes(b"x")
    before = path.read_bytes() if path.is_file() else None
    refused = _invoke("state", "backup", str(path), "-c", config)
    assert refused.exit_code == 2, refused.output
    assert (path.read_bytes() if path.is_file() else None) == before
    earlier = tmp_path / "earlier.sqlite"
    assert _invoke("state", "backup", str(earlier), "-c", config).exit_code == 0
    again = _invoke("state", "backup", str(earlier), "-c", config)
    assert again.exit_code == 0 and "Backed up" in again.stdout
