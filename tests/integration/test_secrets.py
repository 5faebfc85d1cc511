"""Secrets stay secret: run every command with known secrets, then search everything."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.pair import Sandbox
from tests.helpers import Inbox, free_port

MOMENT_KEY = "moment-key-SECRET-1111"
DKPLUS_TOKEN = "dkplus-token-SECRET-2222"
SMTP_PASSWORD = "smtp-pass-SECRET-3333"
BASIC = base64.b64encode(f"apikey:{MOMENT_KEY}".encode()).decode()
SECRETS = (MOMENT_KEY, DKPLUS_TOKEN, SMTP_PASSWORD, BASIC)


def _commands(config: str, log: str) -> list[list[str]]:
    common = ["-vv", "--log-file", log]
    return [
        [*common, "run", "--dry-run", "-v", "-c", config],
        [*common, "run", "-c", config],
        [*common, "run", "--json", "-c", config],
        [*common, "check", "-c", config],
        [*common, "check", "--json", "-c", config],
        [*common, "status", "--json", "-c", config],
        [*common, "status", "-c", config],
        [*common, "history", "--json", "-c", config],
        [*common, "failures", "--json", "-c", config],
        [*common, "resync", "invoice", "1001", "-c", config],
    ]


@pytest.mark.slow
def test_no_secret_in_any_output_log_state_or_email(tmp_path: Path) -> None:
    inbox = Inbox()
    smtp = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        auth_require_tls=False,
        authenticator=lambda *a: AuthResult(success=True),
    )
    smtp.start()
    token_file = tmp_path / "dkplus-token"
    token_file.write_text(DKPLUS_TOKEN + "\n")
    env = {
        "MOMENT_API_KEY": MOMENT_KEY,
        "DKPLUS_API_TOKEN_FILE": str(token_file),
        "DKSYNC_SMTP_PASSWORD": SMTP_PASSWORD,
        "COLUMNS": "250",
    }
    outputs: list[str] = []
    try:
        with Sandbox(seed=3) as sb:
            sb.moment.api_key, sb.dkplus.token = MOMENT_KEY, DKPLUS_TOKEN
            raw = yaml.safe_load(sb.config_yaml(str(tmp_path / "state.sqlite")))
            del raw["moment"]["api_key"], raw["dkplus"]["token"]
            raw["sync"]["retry_for"] = "1s"
            raw["email"] = {
                "to": ["a@example.is"],
                "from": "d@example.is",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "none",
                "user": "dksync",
            }
            config = tmp_path / "dksync.yaml"
            config.write_text(yaml.safe_dump(raw))
            log = tmp_path / "dksync.log"
            runner = CliRunner(env=env)
            for args in _commands(str(config), str(log)):
                result = runner.invoke(app, args)
                outputs += [result.stdout, result.stderr]
            sb.dkplus.token = "rotated"  # DK+ now refuses our token: the error path
            sb.moment.knobs.error_rate = 1.0  # and Moment keeps failing
            for args in _commands(str(config), str(log))[1:4]:
                result = runner.invoke(app, args)
                outputs += [result.stdout, result.stderr]
    finally:
        smtp.stop()
    joined = "\n".join(outputs)
    assert "refused the token" in joined and "kept failing" in joined, "error paths were run"
    assert [m.original_content or m.content for m in inbox.messages], "a notification was sent"
    log_text = log.read_text()
    assert "DEBUG" in log_text and "reading Moment changes" in log_text
    files = {
        p.name: p.read_bytes()
        for p in tmp_path.iterdir()
        if p.is_file() and p.name not in ("dkplus-token", "dksync.yaml")
    }
    assert {"state.sqlite", "dksync.log"} <= set(files)  # the lock sidecar lives only during a run
    for secret in SECRETS:
        assert secret not in joined
        assert secret not in log_text
        for name, content in files.items():
            assert secret.encode() not in content, name
        assert all(
            secret.encode() not in message
            for message in [m.original_content or m.content for m in inbox.messages]
        )
