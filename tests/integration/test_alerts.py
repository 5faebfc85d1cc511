"""Alerts through Apprise: its json:// URL posts to a local server, over real HTTP."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from dksync import config
from dksync.cli import app
from dksync.errors import ConfigError
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.sandbox.receiver import Receiver
from tests.helpers import Inbox, config_file, free_port

runner = CliRunner(env={"COLUMNS": "250"})


def _messages(hook: Receiver) -> list[str]:
    return [json.loads(r.body)["title"] for r in hook.received]


def test_one_message_per_problem_a_reminder_and_one_on_recovery(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 4, 2, 4, plant=False)) as clean, Receiver() as hook:
        url = f"json://127.0.0.1:{hook.url.rsplit(':', 1)[1]}/dksync-hook"
        notify = {"urls": [url], "remind_after": "7d"}
        dead = {"base_url": f"http://127.0.0.1:{free_port()}"}
        down = str(config_file(clean, tmp_path, notify=notify, dkplus=dead))
        for _ in range(2):
            assert runner.invoke(app, ["run", "-q", "-c", down]).exit_code == 3
        assert _messages(hook) == [_messages(hook)[0]]
        assert _messages(hook)[0].startswith("[dksync] run failed: cannot reach DK+")
        assert hook.received[0].path == "/dksync-hook"
        with sqlite3.connect(tmp_path / "state.sqlite") as db:
            db.execute("UPDATE notices SET sent_at = '2026-01-01T00:00:00+00:00'")
        assert runner.invoke(app, ["run", "-q", "-c", down]).exit_code == 3
        assert runner.invoke(app, ["run", "-q", "-c", down]).exit_code == 3
        assert len(hook.received) == 2
        assert _messages(hook)[1].startswith("[dksync] still: run failed")
        up = str(config_file(clean, tmp_path, notify=notify))
        assert runner.invoke(app, ["run", "-q", "-c", up]).exit_code == 0
        assert runner.invoke(app, ["run", "-q", "-c", up]).exit_code == 0
        assert len(hook.received) == 3 and "recovered" in _messages(hook)[2]
        assert clean.dkplus.token not in b"".join(r.body for r in hook.received).decode()


def test_check_notify_tests_every_channel_and_reports_each(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with Receiver() as hook:
            port = hook.url.rsplit(":", 1)[1]
            urls = [f"json://127.0.0.1:{port}/a", f"json://127.0.0.1:{free_port()}/gone"]
            email = {"to": ["a@example.is"], "from": "d@example.is", "host": "127.0.0.1"}
            email |= {"port": smtp.port, "security": "none"}
            path = str(config_file(sandbox, tmp_path, notify={"urls": urls}, email=email))
            result = runner.invoke(app, ["check", "--notify", "--json", "-c", path])
    finally:
        smtp.stop()
    assert result.exit_code == 1
    found = json.loads(result.stdout)["channels"]
    assert [c["sent"] for c in found] == [True, True, False]
    assert found[2]["channel"] == "notify.urls #2 (json)" and "gone" not in result.output
    assert len(inbox.messages) == 1 and _messages(hook) == ["[dksync] test message"]
    assert sandbox.dkplus.snapshot()["invoices"] == [], "--notify only sends test messages"


def test_notify_urls_without_apprise_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {
        "moment": {"company": "acme", "api_key": "k"},
        "dkplus": {"token": "t", "sales_person": "1"},
        "notify": {"urls": ["ntfy://secret-topic"]},
    }
    assert config.from_mapping(raw, {}).notify.urls[0].reveal() == "ntfy://secret-topic"
    with pytest.raises(ConfigError, match="entry 1 is not a URL Apprise knows") as bad:
        config.from_mapping({**raw, "notify": {"urls": ["nosuch://secret-topic"]}}, {})
    assert "secret-topic" not in str(bad.value)
    monkeypatch.setitem(sys.modules, "apprise", None)
    with pytest.raises(ConfigError, match=r"pip install 'dksync\[notify\]'"):
        config.from_mapping(raw, {})
