"""Operating dksync: check, status, history, JSON, logging, progress, init, notifications."""

from __future__ import annotations

import email.policy
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from dksync import moment
from dksync.cli import app
from dksync.cli.progress import RunProgress
from dksync.outcome import Action, Outcome, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from dksync.state.store import State
from tests.helpers import Inbox, config_file, free_port

runner = CliRunner(env={"COLUMNS": "250"})


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


# --- check ----------------------------------------------------------------------------


def test_check_finds_what_would_be_rejected(sandbox: Sandbox, tmp_path: Path) -> None:
    """Records the first run would reject fail the check (exit 1), each listed."""
    config = str(config_file(sandbox, tmp_path))
    result = _invoke("check", "-c", config)
    assert result.exit_code == 1, result.output
    assert "NOT ready for go-live" in result.output
    assert "financial account 3900 (Ýmsar tekjur) has no accounting VAT code" in result.output
    assert "customer 10004 has no kennitala but has invoices" in result.output
    assert "customer number '1000100010001' has 13 characters" in result.output
    assert "'SALA1' exists in DK+" in result.output


def test_check_ready_on_clean_data_and_json(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 20, plant=False)) as clean:
        result = _invoke("check", "--json", "-c", str(config_file(clean, tmp_path)))
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["ready"] is True
        names = [c["name"] for c in document["checks"]]
        assert names[:4] == ["config", "Moment answers", "DK+ answers", "sales person"]
        assert {"Moment customers", "Moment invoices", "Moment accounts", "invoice data"} <= set(
            names
        )


def test_check_names_malformed_moment_fields_in_plain_words(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first = sorted(sandbox.moment.objects["customers"])[0]
    raw = sandbox.moment.raw("customers", first)
    del raw["customerNumber"]
    raw["creditDays"] = "fourteen"
    sandbox.moment.put_raw("customers", raw)
    result = _invoke("check", "-c", str(config_file(sandbox, tmp_path)))
    assert result.exit_code == 1
    assert "field 'customerNumber' is missing (expected text)" in result.output
    assert "field 'creditDays' should be a whole number, got 'fourteen'" in result.output


def test_check_reports_bad_credentials_and_missing_sales_person(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.dkplus.remove_sales_person("SALA1")
    config = config_file(sandbox, tmp_path, moment={"api_key": "wrong-key"})
    result = _invoke("check", "-c", str(config))
    assert result.exit_code == 1
    assert "Moment refused the API key (check moment.api_key, or MOMENT_API_KEY" in result.output
    assert "'SALA1' does not exist in DK+" in result.output


# --- status and history ---------------------------------------------------------------


def test_status_after_runs_and_while_locked(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    empty = _invoke("status", "-c", config)
    assert empty.exit_code == 0 and "not started" in empty.output
    _invoke("run", "-c", config)
    state = State.open(tmp_path / "state.sqlite")
    with state.atomic():
        state.mark_invoice(999, "4242", "uncertain", detail="test")
    state.close()
    with RunLock(tmp_path / "state.sqlite"):
        document = json.loads(_invoke("status", "--json", "-c", config).stdout)
        shown = _invoke("status", "-c", config).output
    for kind in ("customers", "projects", "invoices"):
        assert document["cursors"][kind]["state"] == "set", document["cursors"]
        assert document["cursors"][kind]["modified"] and document["cursors"][kind]["id"]
    assert document["last_run"]["outcome"] == "rejected"
    assert document["last_run"]["counts"]["invoices"]["created"] > 0
    assert len(document["rejected"]) == 9
    assert [i["reference"] for i in document["uncertain_invoices"]] == ["4242"]
    assert document["lock"]["pid"] > 0
    assert "4242 (uncertain since" in shown and "running now" in shown and "yes: run, pid" in shown


def test_history_lists_runs_newest_first(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    for _ in range(3):
        _invoke("run", "-c", config)
    runs = json.loads(_invoke("history", "--json", "--limit", "2", "-c", config).stdout)
    assert [r["id"] for r in runs] == [3, 2]
    assert runs[1]["counts"]["invoices"]["created"] == 0
    shown = _invoke("history", "-c", config).output
    assert "dksync history" in shown and "rejected" in shown


def test_failures_json(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    _invoke("run", "-c", config)
    rows = json.loads(_invoke("failures", "--json", "-c", config).stdout)
    assert {r["object"] for r in rows} == {"customers", "invoices"}
    assert all(r["reason"] and r["attempts"] == 1 for r in rows)


# --- logging and progress -------------------------------------------------------------


def test_log_levels_and_log_file(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    log_file = tmp_path / "dksync.log"
    result = _invoke("-v", "--log-file", str(log_file), "run", "-c", config)
    assert "reading Moment changes since" in result.stderr
    assert "cursor now" in log_file.read_text()
    quiet = _invoke("-q", "run", "-c", config)
    assert "reading Moment changes" not in quiet.stderr


def test_plain_progress_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    report = RunReport()
    caplog.set_level(logging.INFO, logger="dksync.progress")
    with RunProgress(report, terminal=False, every_seconds=0):
        report.fetched["customers"] = 2
        report.add(Outcome("customers", 1, "10001", Action.CREATE))
        report.add(Outcome("customers", 2, "10002", Action.UNCHANGED))
    assert "progress: customers: 2 read, 1 done, 1 written" in caplog.text
    assert "progress: customers: 2 read, 2 done, 1 written" in caplog.text


def test_progress_bar_on_a_terminal_runs_and_leaves_no_listener() -> None:
    report = RunReport()
    with RunProgress(report, terminal=True):
        report.add(Outcome("invoices", 1, "1001", Action.CREATE))
    assert report.listeners == []


# --- init --------------------------------------------------------------------------------


def test_init_from_flags_writes_a_valid_commentedconfig_file(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "dksync.yaml"
    result = _invoke(
        "init",
        "-o",
        str(target),
        "--company",
        "acme",
        "--sales-person",
        "7",
        "--start-from",
        "2027-01-01T00:00:00Z",
    )
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert '  company: "acme"' in text and "# The company code seen" in text
    assert "${MOMENT_API_KEY}" in text, "no secret is written"
    from dksync import config

    loaded = config.load(target, {"MOMENT_API_KEY": "k", "DKPLUS_API_TOKEN": "t"})
    assert loaded.moment.company == "acme" and loaded.dkplus.sales_person == "7"
    again = _invoke("init", "-o", str(target), "--company", "x", "--sales-person", "1")
    assert again.exit_code == 4 and "already exists; pass --force" in again.output
    forced = _invoke("init", "-o", str(target), "--company", "x", "--sales-person", "1", "--force")
    assert forced.exit_code == 0 and '  company: "x"' in target.read_text()


def test_init_without_a_terminal_needs_the_flags(tmp_path: Path) -> None:
    result = _invoke("init", "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 2 and "--company" in result.output
    bad = _invoke(
        "init",
        "-o",
        str(tmp_path / "y.yaml"),
        "--company",
        "a",
        "--sales-person",
        "1",
        "--start-from",
        "soon",
    )
    assert bad.exit_code == 4 and "sync.start_from" in bad.output
    assert not (tmp_path / "y.yaml").exists()


def test_shipped_example_is_the_repository_example() -> None:
    root = Path(__file__).parents[2]
    assert (root / "dksync" / "config.example.yaml").read_text() == (
        root / "config.example.yaml"
    ).read_text()


def test_shell_completion_is_offered() -> None:
    assert "--install-completion" in _invoke("--help").output


# --- notifications -------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _subjects(inbox: Inbox) -> list[str]:
    parse = BytesParser(policy=email.policy.default).parsebytes
    return [str(parse(envelope.content)["Subject"]) for envelope in inbox.messages]


def test_one_email_per_failure_and_one_on_recovery(
    smtp: tuple[Controller, Inbox], tmp_path: Path
) -> None:
    controller, inbox = smtp
    with Sandbox(dataset=generate(5, 8, 3, 12, plant=False)) as clean:
        config = str(
            config_file(
                clean,
                tmp_path,
                email={
                    "to": ["bokhald@example.is"],
                    "from": "dksync@example.is",
                    "host": "127.0.0.1",
                    "port": controller.port,
                    "security": "none",
                },
            )
        )
        clean.dkplus.remove_sales_person("SALA1")
        assert _invoke("run", "-c", config).exit_code == 4
        assert _invoke("run", "-c", config).exit_code == 4
        [failed] = _subjects(inbox)
        assert failed.startswith(
            "[dksync] run failed: dkplus.sales_person: sales person 'SALA1' does not exist in DK+"
        )
        clean.dkplus.add_sales_person("SALA1")
        assert _invoke("run", "-c", config).exit_code == 0
        assert _invoke("run", "-c", config).exit_code == 0
        assert _subjects(inbox)[1:] == ["[dksync] recovered: the last run wrote everything"]
        customer = clean.dataset.customers[0]
        clean.moment.change("customers", customer.id, lambda c: replace(c, number="X" * 13))
        assert _invoke("run", "-c", config).exit_code == 1
        assert _invoke("run", "-c", config).exit_code == 1
        assert _subjects(inbox)[2:] == ["[dksync] 1 record(s) need attention"]
        message = BytesParser(policy=email.policy.default).parsebytes(inbox.messages[2].content)
        body = message.get_body().get_content()  # type: ignore[union-attr]
        assert "has 13 characters" in body and "dksync failures" in body
        assert len(inbox.messages) == 3
        assert all(m.rcpt_tos == ["bokhald@example.is"] for m in inbox.messages)


def test_email_login_with_password_from_a_file(tmp_path: Path) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"smtp-secret-123")

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        password_file = tmp_path / "smtp-password"
        password_file.write_text("smtp-secret-123\n")
        with Sandbox(dataset=generate(5, 4, 1, 3, plant=False)) as clean:
            clean.dkplus.remove_sales_person("SALA1")
            config = str(
                config_file(
                    clean,
                    tmp_path,
                    email={
                        "to": ["a@example.is"],
                        "from": "d@example.is",
                        "host": "127.0.0.1",
                        "port": controller.port,
                        "security": "none",
                        "user": "dksync",
                        "password_file": str(password_file),
                    },
                )
            )
            _invoke("run", "-c", config)
        assert seen == [(b"dksync", b"smtp-secret-123")]
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_unreachable_smtp_is_logged_and_retried_next_run(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 4, 1, 3, plant=False)) as clean:
        clean.dkplus.remove_sales_person("SALA1")
        config = str(
            config_file(
                clean,
                tmp_path,
                email={
                    "to": ["a@example.is"],
                    "from": "d@example.is",
                    "host": "127.0.0.1",
                    "port": 9,
                    "security": "none",
                },
            )
        )
        result = _invoke("run", "-c", config)
        assert result.exit_code == 4
        assert "could not send the notification email via 127.0.0.1:9" in result.stderr
        state = State.open(tmp_path / "state.sqlite")
        assert state.last_notice("email") is None, "not recorded as sent"
        state.close()


def test_moment_names_stay_in_the_adapter() -> None:
    """Every Moment JSON name the sync uses is spelled in the dksync.moment package only."""
    names = {
        "customerNumber",
        "lastModifiedDate",
        "organizationNumber",
        "invoiceNumber",
        "accountingExportState",
        "externalTaxCode",
        "surchargePercent",
        "projectNumber",
    }
    root = Path(__file__).parents[2] / "dksync"
    for path in root.rglob("*.py"):
        if "moment" in path.parts or "sandbox" in path.parts:
            continue
        text = path.read_text()
        assert not [n for n in names if f'"{n}"' in text], path
    adapter = "".join(p.read_text() for p in (root / "moment").glob("*.py"))
    assert all(f'"{n}"' in adapter for n in names)
    assert moment.ENTITY_PATHS["accounts"] == "financialAccounts"
