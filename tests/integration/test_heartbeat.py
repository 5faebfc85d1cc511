"""The heartbeat over real HTTP: a local server receives the Healthchecks pings."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.sandbox.receiver import Receiver
from dksync.state.lock import RunLock
from tests.helpers import config_file, free_port

runner = CliRunner(env={"COLUMNS": "250"})
CHECK = "/b1b2c3d4-0000-4000-8000-000000000001"


def test_start_then_success_or_exit_code_with_the_outcome_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with Receiver() as monitor:
        url = monitor.url + CHECK
        rejected = config_file(sandbox, tmp_path, monitor={"ping_url": url})
        assert runner.invoke(app, ["run", "-q", "-c", str(rejected)]).exit_code == 1
        assert monitor.paths() == [f"{CHECK}/start", f"{CHECK}/1"]
        body = monitor.received[-1].body.decode()
        assert body.startswith("run finished: rejected (exit 1)") and len(body) <= 10_000
        assert sandbox.dkplus.token not in body and sandbox.moment.api_key not in body
        lenient = config_file(
            sandbox, tmp_path, monitor={"ping_url": url, "rejected_is_failure": False}
        )
        assert runner.invoke(app, ["run", "-q", "-c", str(lenient)]).exit_code == 1
        assert monitor.paths()[2:] == [f"{CHECK}/start", CHECK]


def test_clean_run_pings_success_and_dry_run_or_lock_ping_nothing(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 4, 2, 4, plant=False)) as clean, Receiver() as monitor:
        config = config_file(clean, tmp_path, monitor={"ping_url": monitor.url + CHECK})
        assert runner.invoke(app, ["run", "--dry-run", "-q", "-c", str(config)]).exit_code == 0
        assert monitor.paths() == []
        with RunLock(tmp_path / "state.sqlite"):
            assert runner.invoke(app, ["run", "-q", "-c", str(config)]).exit_code == 6
        assert runner.invoke(app, ["check", "-q", "-c", str(config)]).exit_code == 0
        assert monitor.paths() == []
        assert runner.invoke(app, ["run", "-q", "-c", str(config)]).exit_code == 0
        assert monitor.paths() == [f"{CHECK}/start", CHECK]
        assert monitor.received[-1].body.startswith(b"run finished: ok (exit 0)")


def test_a_dead_or_failing_monitor_changes_nothing(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 4, 2, 4, plant=False)) as clean:
        dead = f"http://127.0.0.1:{free_port()}{CHECK}"
        config = config_file(clean, tmp_path, monitor={"ping_url": dead})
        result = runner.invoke(app, ["run", "-c", str(config)])
        assert result.exit_code == 0, result.output
        assert "the monitor did not get the ping" in result.stderr
        assert CHECK not in result.stderr, "the ping URL is a secret of sorts"
        assert clean.dkplus.snapshot()["invoices"]
        with Receiver(status=500) as failing:
            config = config_file(clean, tmp_path, monitor={"ping_url": failing.url + CHECK})
            result = runner.invoke(app, ["run", "-c", str(config)])
            assert result.exit_code == 0 and "did not get the ping" in result.stderr
            assert failing.paths().count(f"{CHECK}/start") == 3, "two retries"
