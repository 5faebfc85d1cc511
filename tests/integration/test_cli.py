"""The command line, end to end: exit code, what the user sees, and what DK+ and the state hold."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.helpers import config_file, free_port

runner = CliRunner(env={"COLUMNS": "250"})
ANSI = re.compile(r"\x1b\[")


def test_run_with_rejections_exits_1_and_lists_them(sandbox: Sandbox, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "-c", str(config_file(sandbox, tmp_path))])
    assert result.exit_code == 1, result.output
    assert "dksync run" in result.output and "Rejected records" in result.output
    assert "has 13 characters" in result.output
    assert not ANSI.search(result.output), "no colour when stdout is not a terminal"
    state = State.open(tmp_path / "state.sqlite")
    assert state.posted_count() == len(sandbox.dkplus.snapshot()["invoices"]) > 0
    state.close()


def test_clean_data_exits_0(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as clean:
        result = runner.invoke(app, ["run", "-c", str(config_file(clean, tmp_path))])
        assert result.exit_code == 0, result.output
        assert len(clean.dkplus.snapshot()["customers"]) == 10


def test_only_invoices_comma_and_repeat(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = runner.invoke(app, ["run", "--only", "customers,projects", "-c", config])
    assert result.exit_code == 1
    assert sandbox.dkplus.snapshot()["invoices"] == []
    result = runner.invoke(app, ["run", "--only", "invoices", "--only", "customers", "-c", config])
    assert sandbox.dkplus.snapshot()["invoices"]
    bad = runner.invoke(app, ["run", "--only", "orders", "-c", config])
    assert bad.exit_code == 2 and "unknown object type 'orders'" in bad.output


@pytest.mark.parametrize("empty", ["", ",", " , "])
def test_only_naming_no_kind_is_a_usage_error_not_a_run_of_everything(
    sandbox: Sandbox, tmp_path: Path, empty: str
) -> None:
    """'--only $KINDS' with KINDS unset ran every kind (exit 1 here, invoices posted):
    the opposite of the subset asked for."""
    config = str(config_file(sandbox, tmp_path))
    result = runner.invoke(app, ["run", "--only", empty, "-c", config])
    assert result.exit_code == 2 and "names no object type" in result.output, result.output
    assert not sandbox.dkplus.snapshot()["customers"]


def test_json_output_is_one_document(sandbox: Sandbox, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--json", "-c", str(config_file(sandbox, tmp_path))])
    document = json.loads(result.stdout)
    assert document["outcome"] == "rejected" and document["exit_code"] == 1
    assert document["counts"]["invoices"]["created"] > 0
    assert any(r["action"] == "reject" and r["detail"] for r in document["records"])


def test_dry_run_verbose_shows_payloads_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["run", "--dry-run", "-v", "-c", str(config_file(sandbox, tmp_path))]
    )
    assert "What would happen" in result.output and '"SalesPerson": "SALA1"' in result.output
    assert sandbox.dkplus.snapshot()["customers"] == {}
    assert not [e for e in sandbox.dkplus.log if e.method != "GET"]


def test_bad_config_exits_4_naming_the_key(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path, sync={"lookback": "soon"})
    result = runner.invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 4
    assert "sync.lookback: must be a duration" in result.output
    assert "Traceback" not in result.output


def test_missing_config_file_exits_4(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 4 and "cannot read the config file" in result.output


def test_refused_credentials_exit_3_without_the_secret(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path, dkplus={"token": "wrong-token-123"})
    result = runner.invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 3
    assert (
        "DK+ refused the token (check dkplus.token, or DKPLUS_API_TOKEN / DKPLUS_API_TOKEN_FILE"
        in result.output
    )
    assert "wrong-token-123" not in result.output


def test_unreachable_service_exits_3(sandbox: Sandbox, tmp_path: Path) -> None:
    port = free_port()
    config = config_file(sandbox, tmp_path, moment={"base_url": f"http://127.0.0.1:{port}"})
    result = runner.invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 3
    assert f"cannot reach Moment at http://127.0.0.1:{port}: connection refused" in result.output


def test_every_command_has_help() -> None:
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in ("run", "sandbox"):
        assert command in top.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0 and len(sub.output.splitlines()) > 5
    assert "--dry-run" in runner.invoke(app, ["run", "--help"]).output


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dksync", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "run" in done.stdout


def test_sandbox_command_prints_what_it_promises_and_serves(tmp_path: Path) -> None:
    moment_port, dkplus_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dksync",
            "sandbox",
            "--moment-port",
            str(moment_port),
            "--dkplus-port",
            str(dkplus_port),
            "--customers",
            "5",
            "--projects",
            "2",
            "--invoices",
            "4",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    printed: list[str] = []
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].startswith(f"Moment:  http://127.0.0.1:{moment_port}")
        assert lines[1].startswith(f"DK+:     http://127.0.0.1:{dkplus_port}")
        key = lines[3].rsplit(" ", 1)[1].strip()
        token = lines[4].rsplit(" ", 1)[1].strip()
        company = lines[2].rsplit(" ", 1)[1].strip()
        answer = requests.get(
            f"http://127.0.0.1:{moment_port}/api/1.0/companies/{company}/customers",
            auth=("apikey", key),
            timeout=5,
        ).json()
        assert answer["page"]["totalElements"] == 5
        assert requests.get(
            f"http://127.0.0.1:{dkplus_port}/api/v1/company/connection",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        # the Ctrl-C once it says it serves (before that it is an interrupted start)
        while not printed or printed[-1] not in ("Serving until Ctrl-C.\n", ""):
            printed.append(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.stdout is not None
    rest = "".join(printed) + process.stdout.read()
    assert "base_url: http://127.0.0.1" in rest and "Stopped." in rest
    assert process.returncode == 0


@pytest.mark.parametrize("args", [["run", "--since", "yesterday"], ["run", "--limit", "0"]])
def test_bad_options_exit_2(args: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "-c", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
