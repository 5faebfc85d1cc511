"""Logs for machines: JSON lines, and journald's level prefixes when stderr is the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def test_json_lines_name_time_level_company_and_run(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = runner.invoke(app, ["run", "-v", "--log-format", "json", "-c", config])
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert len(lines) > 3 and len(lines) == len(result.stderr.splitlines())
    assert {"time", "level", "logger", "company", "message"} <= set(lines[0])
    assert {line["company"] for line in lines} == {sandbox.moment.company}
    assert lines[-1]["message"].startswith("run finished: rejected") and lines[-1]["run_id"] == 1
    assert lines[-1]["time"].endswith("+00:00") and lines[-1]["level"] == "info"
    assert sandbox.dkplus.token not in result.stderr
    assert sandbox.moment.api_key not in result.stderr


def test_journal_stream_adds_syslog_levels(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path, dkplus={"base_url": "http://127.0.0.1:9"}))
    journal = tmp_path / "journal"
    with journal.open("wb") as stream:
        found = os.fstat(stream.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{found.st_dev}:{found.st_ino}"}
        code = subprocess.run(
            [sys.executable, "-m", "dksync", "-q", "-c", config, "run"], stderr=stream, env=env
        ).returncode
    lines = journal.read_text().splitlines()
    assert code == 3 and lines and all(line[:3] in ("<3>", "<4>") for line in lines)
    assert any(line.startswith("<3>dksync: cannot reach DK+") for line in lines)
    with journal.open("wb") as elsewhere:
        env = {**os.environ, "JOURNAL_STREAM": "1:2"}
        subprocess.run(
            [sys.executable, "-m", "dksync", "-q", "-c", config, "run"], stderr=elsewhere, env=env
        )
    assert not journal.read_text().startswith("<")
