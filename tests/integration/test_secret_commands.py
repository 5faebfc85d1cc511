"""Secrets from a command: one that succeeds, one that fails, one that hangs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync import config
from dksync.cli import app
from dksync.errors import ConfigError
from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})
SECRET = "s3cr3t-from-the-vault"


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _raw(command: Any) -> dict[str, Any]:
    return {
        "moment": {"company": "acme", "api_key": "k"},
        "dkplus": {"token_command": command, "sales_person": "1"},
    }


def test_a_command_that_succeeds_gives_the_secret_and_runs_a_sync(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    loaded = config.from_mapping(_raw(_python(f"print({SECRET!r})")), {})
    assert loaded.dkplus.token.reveal() == SECRET
    printing = _python(f"print({sandbox.dkplus.token!r})")
    path = config_file(sandbox, tmp_path, dkplus={"token": None, "token_command": printing})
    result = runner.invoke(app, ["run", "-q", "-c", str(path)])
    assert result.exit_code == 1 and sandbox.dkplus.snapshot()["invoices"]


def test_a_command_that_fails_names_the_key_and_status_never_the_output() -> None:
    failing = _python(f"import sys; print({SECRET!r}); sys.stderr.write({SECRET!r}); sys.exit(3)")
    with pytest.raises(ConfigError) as caught:
        config.from_mapping(_raw(failing), {})
    message = str(caught.value)
    assert "dkplus.token_command: exited with status 3" in message and SECRET not in message
    with pytest.raises(ConfigError, match="cannot run 'no-such-vault-tool'"):
        config.from_mapping(_raw("no-such-vault-tool get dksync"), {})
    with pytest.raises(ConfigError, match="printed nothing"):
        config.from_mapping(_raw(_python("pass")), {})
    with pytest.raises(ConfigError, match="must be a command"):
        config.from_mapping(_raw({"timeout": 5}), {})


def test_a_command_that_hangs_is_stopped_at_its_timeout() -> None:
    hanging = {"command": _python("import time; time.sleep(60)"), "timeout": 0.5}
    with pytest.raises(ConfigError, match=r"token_command: gave no answer within 0.5 s"):
        config.from_mapping(_raw(hanging), {})


def test_a_string_command_is_split_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "never"
    text = f"{sys.executable} -c 'print(\"{SECRET}\")' ; touch {marker}"
    loaded = config.from_mapping(_raw(text), {})
    assert loaded.dkplus.token.reveal() == SECRET and not marker.exists()


def test_commands_that_read_the_state_only_never_run_a_secret_command(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A password manager locked (its command fails) leaves the operator's look at the
    state whole: ledger, status, history, failures, show and state backup work, and none
    of them runs the command; a run still needs it and says so (exit 4)."""
    synced = config_file(sandbox, tmp_path)
    assert runner.invoke(app, ["run", "-q", "-c", str(synced)]).exit_code == 1
    marker = tmp_path / "the command ran"
    failing = _python(f"open({str(marker)!r}, 'a').close(); raise SystemExit(3)")
    locked = str(
        config_file(
            sandbox,
            tmp_path,
            moment={"api_key": None, "api_key_command": failing},
            dkplus={"token": None, "token_command": failing},
        )
    )
    for command in (
        ["ledger", "--json"],
        ["status", "--json"],
        ["history", "--json"],
        ["failures", "--json"],
        ["show", "invoice", str(sandbox.dataset.invoices[0].number)],
        ["state", "backup", str(tmp_path / "copy.sqlite")],
    ):
        result = runner.invoke(app, [*command, "-c", locked])
        assert result.exit_code in (0, 1) and "token_command" not in result.output, command
        assert not marker.exists(), f"{command} ran a secret command"
    assert json.loads(runner.invoke(app, ["ledger", "--json", "-c", locked]).stdout)["invoices"]
    ran = runner.invoke(app, ["run", "-c", locked])
    assert ran.exit_code == 4 and "dkplus.token_command: exited with status 3" in ran.output
    assert marker.exists()
