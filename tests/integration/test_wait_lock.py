"""``run --wait-lock``: wait for another run's lock, then run or exit 6."""

from __future__ import annotations

import threading
from pathlib import Path

from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def test_wait_lock_runs_once_the_other_run_is_done(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    other = RunLock(tmp_path / "state.sqlite").__enter__()
    release = threading.Timer(0.5, other.__exit__, (None, None, None))
    release.start()
    try:
        result = runner.invoke(app, ["run", "-q", "--wait-lock", "2m", "-c", config])
    finally:
        release.join()
    assert result.exit_code == 1 and sandbox.dkplus.snapshot()["invoices"]


def test_wait_lock_gives_up_with_exit_6(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    with RunLock(tmp_path / "state.sqlite"):
        result = runner.invoke(app, ["run", "-q", "--wait-lock", "1s", "-c", config])
    assert result.exit_code == 6 and "another dksync run" in result.stderr
    assert sandbox.dkplus.snapshot()["invoices"] == []
    bad = runner.invoke(app, ["run", "--wait-lock", "soon", "-c", config])
    assert bad.exit_code == 2 and "--wait-lock" in bad.output
