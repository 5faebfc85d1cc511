"""An operator's day (issue 19): every question answered from the state, without the
secrets; ``--json`` one document on every exit path; a failed run's reason kept; status as
a monitoring probe. Real HTTP to the sandbox, the CLI as a user types it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from dksync import config as config_module
from dksync.cli import app
from dksync.clients import connect
from dksync.ops import check as readiness
from dksync.outcome import Action, Outcome, RunReport
from dksync.records import ExportStatus
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from dksync.state.store import State
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import FIGURES
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})
NO_SECRETS = {
    "MOMENT_API_KEY": None,
    "DKPLUS_API_TOKEN": None,
    "MOMENT_API_KEY_FILE": None,
    "DKPLUS_API_TOKEN_FILE": None,
}


def _invoke(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return runner.invoke(app, list(args), env={**NO_SECRETS, **(env or {})})


def _flat(text: str) -> str:
    """An output without its white space, whatever the table wrapped or folded."""
    return "".join(text.split())


def _referring_config(sb: Sandbox, folder: Path) -> tuple[str, dict[str, str | None]]:
    """A config whose secrets are ``${...}`` references, as ``dksync init`` writes it, and
    the environment that holds them (as only the crontab line would)."""
    path = config_file(
        sb,
        folder,
        moment={"api_key": "${MOMENT_API_KEY}"},
        dkplus={"token": "${DKPLUS_API_TOKEN}"},
    )
    return str(path), {"MOMENT_API_KEY": sb.moment.api_key, "DKPLUS_API_TOKEN": sb.dkplus.token}


def test_read_only_commands_work_without_the_secrets(sandbox: Sandbox, tmp_path: Path) -> None:
    config, secrets = _referring_config(sandbox, tmp_path)
    ran = _invoke("run", "-q", "-c", config, env=secrets)
    assert ran.exit_code == 1, ran.output  # the sandbox plants rejections
    without = _invoke("run", "-c", config)
    assert without.exit_code == 4 and "MOMENT_API_KEY" in without.output

    status = _invoke("status", "--json", "-c", config)
    assert status.exit_code == 0, status.output
    found = json.loads(status.stdout)
    assert found["posted_invoices"] > 0 and found["rejected"]
    history = _invoke("history", "--json", "-c", config)
    assert history.exit_code == 0 and json.loads(history.stdout)[0]["outcome"] == "rejected"
    failures = _invoke("failures", "--json", "-c", config)
    assert failures.exit_code == 0 and len(json.loads(failures.stdout)) == len(found["rejected"])
    invoice = next(str(i) for i in range(1001, 1100) if _shown(config, i))
    shown = _invoke("show", "invoice", invoice, "-c", config)
    assert shown.exit_code == 0 and "DK+ number" in shown.output
    plain = _invoke("status", "-c", config)
    assert plain.exit_code == 0 and "last run" in plain.output
    first = found["rejected"][0]["id"]
    dropped = _invoke("failures", "drop", str(first), "-c", config)
    assert dropped.exit_code == 0 and "Dropped" in dropped.output
    assert _invoke("failures", "undrop", str(first), "-c", config).exit_code == 0
    assert "MOMENT_API_KEY" not in plain.output + shown.output + history.output


def _shown(config: str, number: int) -> bool:
    result = _invoke("show", "invoice", str(number), "--json", "-c", config)
    return result.exit_code == 0 and json.loads(result.stdout)["invoice"] is not None


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "--json", "--max-age", "soon"], 2),
        (["run", "--json", "--only", "orders"], 2),
        (["history", "--json", "--bogus"], 2),
        (["failures", "--json", "--limit", "3"], 2),
        (["run", "--json"], 4),
        (["check", "--json"], 4),
        (["status", "--json"], 4),
        (["resync", "invoice", "1001", "--json"], 4),
        (["reconcile", "--json"], 4),
    ],
)
def test_json_is_one_document_on_usage_and_config_errors(
    args: list[str], code: int, tmp_path: Path
) -> None:
    result = _invoke(*args, "-c", str(tmp_path / "missing.yaml"))
    assert result.exit_code == code, result.output
    document = json.loads(result.stdout)
    assert document["exit_code"] == code and document["error"]


def test_json_error_document_for_an_unusable_state(sandbox: Sandbox, tmp_path: Path) -> None:
    config, _ = _referring_config(sandbox, tmp_path)
    (tmp_path / "state.sqlite").write_bytes(b"this is no database" * 100)
    result = _invoke("history", "--json", "-c", config)
    assert result.exit_code == 5
    assert json.loads(result.stdout)["exit_code"] == 5


def test_a_failed_run_keeps_its_error_and_status_check_says_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config, secrets = _referring_config(sandbox, tmp_path)
    wrong = {**secrets, "DKPLUS_API_TOKEN": "wrong-token-123"}
    failed = _invoke("run", "-c", config, env=wrong)
    assert failed.exit_code == 3, failed.output

    [run] = json.loads(_invoke("history", "--json", "-c", config).stdout)
    assert run["outcome"] == "failed" and "refused the token" in run["error"]
    assert "wrong-token-123" not in json.dumps(run)
    status = _invoke("status", "-c", config)
    assert re.search(r"failed\(.*DK\+refusedthetoken", _flat(status.output))
    history = _invoke("history", "-c", config)
    assert re.search(r"failed.*error:DK\+.*refusedthetoken", _flat(history.output))
    probe = _invoke("status", "--check", "-c", config)
    assert probe.exit_code == 2
    assert probe.stdout.startswith("DKSYNC CRITICAL - run 1 failed at ")
    assert "refused the token" in probe.stdout and probe.stdout.count("\n") == 1

    assert _invoke("run", "-q", "-c", config, env=secrets).exit_code == 1
    warned = _invoke("status", "--check", "--json", "-c", config)
    assert warned.exit_code == 1
    assert json.loads(warned.stdout)["verdict"] == "warning"


def test_status_check_ok_too_old_and_none_yet(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 20, plant=False)) as clean:
        config, secrets = _referring_config(clean, tmp_path)
        none_yet = _invoke("status", "--check", "-c", config)
        assert none_yet.exit_code == 2 and "no run has finished yet" in none_yet.stdout
        assert _invoke("run", "-q", "-c", config, env=secrets).exit_code == 0
        ok = _invoke("status", "--check", "--max-age", "1h", "-c", config)
        assert ok.exit_code == 0 and ok.stdout.startswith("DKSYNC OK - run 1 ended ok at ")
        with sqlite3.connect(tmp_path / "state.sqlite") as db:
            db.execute("UPDATE runs SET finished_at = '2026-01-01T00:00:00+00:00'")
        old = _invoke("status", "--check", "--max-age", "1h", "-c", config)
        assert old.exit_code == 2 and "longer ago than --max-age 1:00:00" in old.stdout
        quiet = _invoke("status", "--check", "-q", "--max-age", "1h", "-c", config)
        assert quiet.exit_code == 2 and quiet.stdout == ""


def test_status_tells_a_going_run_with_its_counts_and_invoices_being_posted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """What a run going now leaves in the state (its counts so far, an invoice marked
    pending before its POST) while it holds the lock, read by another process."""
    config, _ = _referring_config(sandbox, tmp_path)
    path = tmp_path / "state.sqlite"
    state = State.open(path)
    run_id = state.start_run()
    state.note_run_counts(run_id, {"customers": {"fetched": 40, "create": 40}})
    with state.atomic():
        state.mark_invoice(77, "1007", "pending")
    state.close()
    with RunLock(path, "run"):
        going = _invoke("status", "-c", config)
        probe = _invoke("status", "--check", "-c", config)
        going_json = json.loads(_invoke("status", "--json", "-c", config).stdout)["cursors"]
    assert "running; customers 40 read, 40 created" in going.output, going.output
    assert "being posted" in going.output and "1007" in going.output
    assert re.search(r"uncertain invoices +none", going.output)
    assert "in progress: run 1 so far 40 read, 40 created" in going.output
    assert probe.exit_code == 2 and "a run is going now" in probe.stdout
    after = _invoke("status", "-c", config)
    assert "interrupted" in after.output and "1007 (pending since" in after.output
    assert "not moved: run 1 (interrupted) 40 read, 40 created" in after.output
    after_json = json.loads(_invoke("status", "--json", "-c", config).stdout)["cursors"]
    for cursors, table, customers in (
        (going_json, going.output, "in_progress"),
        (after_json, after.output, "not_moved"),
    ):
        assert cursors["customers"]["state"] == customers, cursors
        assert cursors["projects"]["state"] == cursors["invoices"]["state"] == "not_started"
        for kind, cursor in cursors.items():
            assert cursor["modified"] is cursor["id"] is None
            assert re.search(rf"{kind} +{re.escape(cursor['note'])} +-", table), (kind, table)


ACTIONS = ("created", "updated", "unchanged", "adopted", "skipped", "drift", "rejected")


def test_counts_add_up_and_nothing_changed_while_the_queue_waits(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path, sync={"lookback": "0s"}))
    first = _invoke("run", "--json", "-c", config)
    assert first.exit_code == 1
    queue = json.loads(_invoke("failures", "--json", "-c", config).stdout)
    again = _invoke("run", "-c", config)
    assert again.exit_code == 1, "records still rejected"
    assert again.stdout.startswith("Nothing changed in Moment since "), again.stdout
    assert f"{len(queue)} rejected records tried again: {len(queue)} still rejected" in (
        again.stdout
    )
    third = json.loads(_invoke("run", "--json", "-c", config).stdout)
    for document in (json.loads(first.stdout), third):
        for kind in ("customers", "projects", "invoices"):
            row = document["counts"].get(kind, {})
            assert row.get("read", 0) == sum(row.get(a, 0) for a in (*ACTIONS, "uncertain")), (
                kind,
                row,
            )
    retried = {k: r["retried"] for k, r in third["counts"].items() if r.get("retried")}
    assert retried == {
        kind: sum(1 for r in queue if r["object"] == kind) for kind in {r["object"] for r in queue}
    }
    [latest, *_] = json.loads(_invoke("history", "--json", "-c", config).stdout)
    assert latest["counts"]["customers"]["retried"] == retried.get("customers")


def test_show_says_why_an_invoice_was_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    skipped = sandbox.dataset.planted["invoice marked do not transfer"]
    shown = _invoke("show", "invoice", skipped, "-c", config)
    assert shown.exit_code == 0, shown.output
    assert "skipped" in shown.stdout and "do not transfer" in shown.stdout
    assert "no (skipped)" in shown.stdout
    document = json.loads(_invoke("show", "invoice", skipped, "--json", "-c", config).stdout)
    assert "do not transfer" in document["skipped"]["reason"] and document["invoice"] is None
    ident = next(i.id for i in sandbox.dataset.invoices if str(i.number) == skipped)
    sandbox.moment.change(
        "invoices", ident, lambda i: replace(i, export_status=ExportStatus.TO_TRANSFER)
    )
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    sent = json.loads(_invoke("show", "invoice", skipped, "--json", "-c", config).stdout)
    assert sent["skipped"] is None and sent["invoice"]["status"] == "posted"


def test_no_table_before_an_error(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    unknown = _invoke("resync", "invoice", "999999", "-c", config)
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert "Moment has no invoice numbered 999999" in unknown.stderr
    with RunLock(tmp_path / "state.sqlite", "run"):
        locked = _invoke("run", "-c", config)
    assert locked.exit_code == 6 and locked.stdout == "", locked.stdout
    down = str(config_file(sandbox, tmp_path, moment={"base_url": "http://127.0.0.1:9"}))
    unreachable = _invoke("run", "-c", down)
    assert unreachable.exit_code == 3 and unreachable.stdout == ""
    assert "cannot reach Moment" in unreachable.stderr


def test_reconcile_quiet_prints_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    quiet = _invoke("reconcile", "-q", "-c", config)
    assert quiet.exit_code in (0, 1) and quiet.stdout == ""
    loud = _invoke("reconcile", "-c", config)
    assert loud.exit_code == quiet.exit_code and "matched" in loud.stdout


def _held(sb: Sandbox, number: str) -> list[int]:
    return [n for n, i in sb.dkplus.store.invoices.items() if i.get("Reference") == number]


def test_an_invoice_dkplus_lost_is_sent_again_with_force_never_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-q", "-c", config).exit_code == 1
    [first] = _held(sandbox, "1001")
    assert sandbox.dkplus.delete_invoice(first)

    plain = _invoke("resync", "invoice", "1001", "-c", config)
    assert plain.exit_code == 0 and f"already in DK+ as {first}" in plain.stdout
    assert _held(sandbox, "1001") == [], "without --force nothing is sent"
    dry = _invoke("resync", "invoice", "1001", "--force", "--dry-run", "-c", config)
    assert dry.exit_code == 0 and "would send it again" in dry.stdout
    assert _held(sandbox, "1001") == []

    forced = _invoke("resync", "invoice", "1001", "--force", "--json", "-c", config)
    assert forced.exit_code == 0, forced.output
    document = json.loads(forced.stdout)
    assert document["counts"]["invoices"]["created"] == 1
    assert any("DK+ no longer holds invoice 1001" in w for w in document["warnings"])
    [second] = _held(sandbox, "1001")
    assert second != first
    shown = json.loads(_invoke("show", "invoice", "1001", "--json", "-c", config).stdout)
    assert shown["invoice"]["dk_number"] == second and shown["invoice"]["status"] == "posted"
    assert any(e["kind"] == "resend" and str(first) in e["detail"] for e in shown["events"])

    again = _invoke("resync", "invoice", "1001", "--force", "-c", config)
    assert again.exit_code == 0 and f"already in DK+ as {second}" in again.stdout
    assert _held(sandbox, "1001") == [second], "DK+ holds it: never a second post"
    reconciled = _invoke("reconcile", "--json", "-c", config)
    missing = [p for p in json.loads(reconciled.stdout)["problems"] if p["invoice"] == "1001"]
    assert missing == []


def test_reconcile_fix_sends_again_what_dkplus_lost(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 20, plant=False)) as clean:
        config = str(config_file(clean, tmp_path))
        assert _invoke("run", "-q", "-c", config).exit_code == 0
        lost = sorted(clean.dkplus.store.invoices)[:2]
        references = sorted(str(clean.dkplus.store.invoices[n]["Reference"]) for n in lost)
        for number in lost:
            assert clean.dkplus.delete_invoice(number)
        found = _invoke("reconcile", "-c", config)
        assert found.exit_code == 1 and "no longer has it" in _plain(found.stdout)
        fixed = _invoke("reconcile", "--fix", "--json", "-c", config)
        assert fixed.exit_code == 0, fixed.output
        document = json.loads(fixed.stdout)
        assert sorted(f["invoice"] for f in document["fixed"]) == references
        assert all(f["outcome"] == "ok" and f["dk_number"] for f in document["fixed"])
        assert all(len(_held(clean, r)) == 1 for r in references)
        after = _invoke("reconcile", "--fix", "-c", config)
        assert after.exit_code == 0 and "sent again" not in after.stdout
        assert all(len(_held(clean, r)) == 1 for r in references), "never twice"


def _plain(text: str) -> str:
    return " ".join(text.split())


SMALL = ("--customers", "8", "--projects", "3", "--invoices", "10")


def _serve_sandbox(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """``dksync sandbox --write-config`` as a user starts it; what it says up to serving."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dksync", "sandbox", "--write-config", "dksync.yaml", *SMALL],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    said = []
    for _ in range(100):
        said.append(process.stdout.readline())
        if said[-1].startswith("Serving until Ctrl-C") or not said[-1]:
            break
    return process, "".join(said)


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)


def test_a_restarted_sandbox_says_its_dkplus_is_empty_and_fix_resends(tmp_path: Path) -> None:
    config = str(tmp_path / "dksync.yaml")
    process, said = _serve_sandbox(tmp_path)
    try:
        assert "Note:" not in said
        assert _invoke("run", "-q", "-c", config).exit_code in (0, 1)
        posted = json.loads(_invoke("status", "--json", "-c", config).stdout)["posted_invoices"]
        assert posted > 0
    finally:
        _stop(process)
    process, said = _serve_sandbox(tmp_path)
    try:
        assert f"remembers {posted} invoices posted to an earlier one" in _plain(said)
        fixed = _invoke("reconcile", "--fix", "--json", "-c", config)
        document = json.loads(fixed.stdout)
        assert len([f for f in document["fixed"] if f["dk_number"]]) == posted, document
    finally:
        _stop(process)


class _Terminal:
    """The master side of a pseudo-terminal: what a user sees, and what they type."""

    def __init__(self, fd: int) -> None:
        self.fd, self.seen, self._at = fd, "", 0

    def expect(self, text: str) -> None:
        while text not in self.seen[self._at :]:
            ready, _, _ = select.select([self.fd], [], [], 20)
            assert ready, f"waited for {text!r}; the terminal shows {self.seen[self._at :]!r}"
            self.seen += os.read(self.fd, 4096).decode("utf-8", "replace")
        self._at = self.seen.index(text, self._at) + len(text)

    def send(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())


def test_init_asks_again_until_each_answer_is_right(tmp_path: Path) -> None:
    target = tmp_path / "dksync.yaml"
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "dksync", "init", "-o", str(target)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(slave)
    terminal = _Terminal(master)
    try:
        for prompt, answers, complaint in (
            ("Moment address", ["ftp://nowhere", ""], "moment.base_url: must be an http(s) URL"),
            ("Moment company code", ["mycompany", "acme"], "the example's placeholder"),
            ("DK+ API address", [""], ""),
            ("DK+ sales person", ["7"], ""),
            ("First run reads", ["soon", "2027-01-01T00:00:00Z"], "must be an ISO-8601 time"),
            ("State file", [""], ""),
        ):
            for n, answer in enumerate(answers):
                terminal.expect(prompt)
                terminal.send(answer)
                if n + 1 < len(answers):
                    terminal.expect(complaint)
                    terminal.expect("try again")
        terminal.expect("Wrote")
        assert process.wait(timeout=20) == 0
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    assert "[mycompany]" not in terminal.seen, "the placeholder is never offered"
    loaded = config_module.load(target, {"MOMENT_API_KEY": "k", "DKPLUS_API_TOKEN": "t"})
    assert loaded.moment.company == "acme" and loaded.dkplus.sales_person == "7"
    assert loaded.sync.start_from is not None and loaded.sync.start_from.year == 2027


def test_init_refuses_the_placeholder_from_an_option_too(tmp_path: Path) -> None:
    target = tmp_path / "dksync.yaml"
    result = _invoke("init", "-o", str(target), "--company", "mycompany", "--sales-person", "1")
    assert result.exit_code == 4 and "moment.company: 'mycompany' is the example's placeholder" in (
        result.output
    )
    assert not target.exists()


def test_check_names_customers_the_first_run_would_reject(sandbox: Sandbox, tmp_path: Path) -> None:
    first = sorted(sandbox.moment.objects["customers"])[1]
    raw = sandbox.moment.raw("customers", first)
    raw["creditDays"] = 45
    sandbox.moment.put_raw("customers", raw)
    terms = {"customers": {"payment_terms": {0: "stgr", 14: "d15", 30: "d30"}}}  # DK+ has them
    config = str(config_file(sandbox, tmp_path, **terms))
    result = _invoke("check", "--json", "-c", config)
    assert result.exit_code == 1, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    customers = checks["customer data"]
    assert not customers["ok"]
    assert any(
        f"customer {raw['customerNumber']} has 45 credit days, which customers.payment_terms "
        "does not map" in item
        for item in customers["items"]
    ), customers["items"]
    assert any("has 13 characters; DK+ allows at most 12" in i for i in customers["items"])
    ran = json.loads(_invoke("run", "--json", "-c", config).stdout)
    rejected = {r["detail"] for r in ran["records"] if r["object"] == "customers"}
    assert all(any(r in item for item in customers["items"]) for r in rejected), (
        "check knew every customer rejection of the first run"
    )


def test_check_on_300_customers_and_2000_invoices_at_100_ms(tmp_path: Path) -> None:
    """Customers from their list, not one request each; every invoice of the window."""
    with Sandbox(dataset=generate(3, 300, 40, 2000, plant=False)) as big:
        config = str(config_file(big, tmp_path))
        big.moment.knobs.latency_ms = big.dkplus.knobs.latency_ms = 100
        started = time.monotonic()
        result = _invoke("check", "--json", "-c", config)
        seconds = time.monotonic() - started
        requests = len(big.moment.log) + len(big.dkplus.log)
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["invoice data"]["detail"].startswith("2000 invoices since ")
    assert checks["customer data"]["detail"].startswith("300 customers read")
    assert requests < 40, requests
    FIGURES.append(
        f"check, 300 customers + 2000 invoices at 100 ms: {requests} requests, {seconds:.1f} s"
    )


def test_check_says_when_it_scanned_only_part_of_the_window(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = config_module.load(config_file(sandbox, tmp_path), {})
    result = readiness.check(settings, connect(settings), scan_limit=10)
    [invoices] = [c for c in result.checks if c.name == "invoice data"]
    assert invoices.detail.startswith("10 invoices since ")
    assert "the scan stopped there: the window holds more than 10" in invoices.detail
    assert invoices.warning


def test_quiet_prints_nothing_on_stdout_for_every_command(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    commands = [
        ["run"],
        ["run", "--dry-run"],
        ["check"],
        ["check", "--show-sample", "invoices"],
        ["status"],
        ["status", "--check"],
        ["history"],
        ["failures"],
        ["failures", "--all"],
        ["show", "invoice", "1001"],
        ["show", "invoice", "999999"],
        ["resync", "invoice", "1001"],
        ["resync", "invoice", "999999"],
        ["reconcile"],
        ["failures", "drop", "1"],
        ["failures", "undrop", "1"],
        ["init", "-o", str(tmp_path / "new.yaml"), "--company", "acme", "--sales-person", "1"],
    ]
    for args in commands:
        result = _invoke(*args, "-q", "-c", config)
        assert result.stdout == "", (args, result.stdout)
        assert "Traceback" not in result.stderr, args


def test_status_during_and_after_a_real_run_stopped_by_ctrl_c(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A real run, asked about by ``dksync status`` while it posts invoices, then stopped
    by a real SIGINT: status tells it running with its counts, then interrupted with what
    it wrote, the invoice cursor not moved (a stream's cursor moves once it is done)."""
    path = config_file(sandbox, tmp_path, dkplus={"concurrency": 1})
    settings = config_module.load(path, {})
    report = RunReport()
    seen: dict[str, Any] = {}

    def listen(outcome: Outcome) -> None:
        if outcome.object_type == "invoices" and outcome.action is Action.CREATE:
            seen.setdefault("status", _invoke("status", "--json", "-c", str(path)))
            seen.setdefault("table", _invoke("status", "-c", str(path)))
            os.kill(os.getpid(), signal.SIGINT)

    report.listeners.append(listen)
    previous = signal.getsignal(signal.SIGINT)
    try:
        engine.run(settings, RunOptions(), connect(settings), report)
    finally:  # a stopped run leaves Ctrl-C ignored in its process: not in pytest's
        signal.signal(signal.SIGINT, previous)
    assert report.outcome_word == "interrupted"
    going = json.loads(seen["status"].stdout)
    assert going["last_run"]["outcome"] == "running"
    assert going["last_run"]["counts"]["customers"]["read"] == 40, "counts so far"
    assert going["lock"]["purpose"] == "run"
    assert "running; customers 40 read" in _plain(seen["table"].stdout)
    after = _invoke("status", "-c", str(path))
    document = json.loads(_invoke("status", "--json", "-c", str(path)).stdout)
    assert document["last_run"]["outcome"] == "interrupted"
    assert document["posted_invoices"] >= 1
    assert document["cursors"]["invoices"]["state"] == "not_moved"
    assert document["cursors"]["invoices"]["note"].startswith("not moved: run 1 (interrupted)")
    customers = document["cursors"]["customers"]
    assert customers["state"] == "set" and customers["note"] == customers["modified"]
    assert f"customers {customers['modified']} {customers['id']}" in _plain(after.stdout)
    assert re.search(
        r"invoices +not moved: run 1 \(interrupted\) \d+ read, \d+ created", after.stdout
    )


def test_top_level_help_lists_the_exit_codes_and_cuts_no_summary() -> None:
    shown = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["--help"])
    assert shown.exit_code == 0
    codes = shown.stdout.split("Exit codes:", 1)[1]
    for code in ("0", "1", "2", "3", "4", "5", "6", "70", "130"):
        assert re.search(rf"^  {code} ", codes, re.MULTILINE), code
    commands = shown.stdout.split("Commands:", 1)[1].split("Exit codes:", 1)[0]
    assert "..." not in commands and "would send." in _plain(commands)
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())


def test_json_is_one_document_on_every_exit_code_of_a_run(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    seen: dict[int, dict[str, Any]] = {}
    seen[1] = json.loads(_invoke("run", "--json", "-c", config).stdout)
    seen[0] = json.loads(_invoke("status", "--json", "-c", config).stdout)
    with RunLock(tmp_path / "state.sqlite", "run"):
        locked = _invoke("run", "--json", "-c", config)
    seen[locked.exit_code] = json.loads(locked.stdout)
    (tmp_path / "x").mkdir()
    wrong = str(config_file(sandbox, tmp_path / "x", dkplus={"token": "wrong"}))
    refused = _invoke("run", "--json", "-c", wrong)
    seen[refused.exit_code] = json.loads(refused.stdout)
    assert set(seen) == {0, 1, 3, 6}
    assert seen[1]["exit_code"] == 1 and seen[6]["exit_code"] == 6 and seen[3]["exit_code"] == 3
    assert "another dksync run" in seen[6]["error"] and "refused" in seen[3]["error"]


def test_vv_traces_every_http_request_without_bodies_or_secrets(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    log_file = tmp_path / "trace.log"
    traced = _invoke("run", "-vv", "--log-file", str(log_file), "-c", config)
    verbose = _invoke("run", "-v", "-c", config)
    assert traced.exit_code == 1
    lines = [line for line in traced.stderr.splitlines() if " in " in line and " -> " in line]
    assert any(re.search(r"Moment GET /api/\S+\?\S* -> 200 in \d+ ms", x) for x in lines), lines
    assert any(re.search(r"DK\+ GET /api/v1/\S+ -> (200|404) in \d+ ms", x) for x in lines), [
        x for x in lines if "DK+" in x
    ]
    assert not any(" -> 200 in " in x for x in verbose.stderr.splitlines()), "-v has no trace"
    written = log_file.read_text()
    assert written.count(" -> ") >= len(lines), "--log-file gets the same trace"
    for secret in (sandbox.moment.api_key, sandbox.dkplus.token):
        assert secret not in traced.stderr and secret not in written
    assert '"Number"' not in written, "never a body"


KNOB_FLAGS = ("--latency-ms", "5", "--error-rate", "0.25", "--rate-limit", "500")
KNOB_FLAGS += ("--fault", "page_cap=3")


def test_sandbox_flags_set_the_knobs_a_user_wants_to_try(tmp_path: Path) -> None:
    help_text = _plain(CliRunner(env={"COLUMNS": "100"}).invoke(app, ["sandbox", "--help"]).stdout)
    for flag in ("--latency-ms", "--error-rate", "--drop-rate", "--rate-limit", "--fault"):
        assert flag in help_text, flag
    bad = _invoke("sandbox", "--fault", "bogus=1")
    assert bad.exit_code == 2 and "KNOB=VALUE" in bad.output
    process = subprocess.Popen(
        [sys.executable, "-m", "dksync", "sandbox", *SMALL, *KNOB_FLAGS],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    said = [process.stdout.readline() for _ in range(3)]
    try:
        while not said[-1].startswith("Serving until Ctrl-C"):
            said.append(process.stdout.readline())
            assert said[-1], "dksync sandbox stopped"
        dkplus = said[1].split()[1]
        knobs = requests.get(f"{dkplus}/_sandbox/knobs", timeout=5).json()
    finally:
        _stop(process)
    shown = "".join(said)
    assert "Knobs on both servers: latency_ms=5.0, error_rate=0.25, rate_limit=500.0" in shown
    assert "page_cap=3" in shown
    assert knobs["latency_ms"] == 5 and knobs["error_rate"] == 0.25 and knobs["page_cap"] == 3


def test_the_smaller_things_of_an_operators_day(sandbox: Sandbox, tmp_path: Path) -> None:
    config, secrets = _referring_config(sandbox, tmp_path)
    missing = _invoke("run", "-c", config)
    assert missing.exit_code == 4
    assert missing.stderr.count("moment.api_key:") == 1 and "missing" not in missing.stderr
    unwrapped = (
        "  - moment.api_key: refers to ${MOMENT_API_KEY}, which is not set "
        "(nor MOMENT_API_KEY_FILE)"
    )
    assert unwrapped in missing.stderr.splitlines(), "not hard-wrapped off a terminal"
    assert all(line == line.rstrip() for line in missing.stderr.splitlines())
    tabbed = tmp_path / "tabbed.yaml"
    tabbed.write_text("moment:\n\tcompany: acme\n")
    bad = _invoke("status", "-c", str(tabbed))
    assert bad.exit_code == 4 and "found character '\\t'" in bad.stderr
    assert "spaces, not tabs" in bad.stderr
    alias = _invoke("sync")
    assert alias.exit_code == 2 and "Did you mean 'run'?" in alias.output
    token_file = tmp_path / "token"
    token_file.write_text("wrong-token\n")
    refused = _invoke(
        "run",
        "-c",
        config,
        env={**secrets, "DKPLUS_API_TOKEN": None, "DKPLUS_API_TOKEN_FILE": str(token_file)},
    )
    assert refused.exit_code == 3 and "DKPLUS_API_TOKEN_FILE" in refused.stderr
    assert _invoke("run", "-q", "-c", config, env=secrets).exit_code == 1
    rows = json.loads(_invoke("failures", "--json", "-c", config).stdout)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows), "IDs in order"
    ident = str(rows[-1]["id"])
    first = _invoke("failures", "drop", ident, "--note", "paid by hand", "-c", config)
    again = _invoke("failures", "drop", ident, "--note", "second try", "-c", config)
    assert first.exit_code == 0 and again.exit_code == 0
    assert "was dropped already" in _plain(again.stdout) and "paid by hand" in again.stdout
    [dropped] = [
        r
        for r in json.loads(_invoke("failures", "--all", "--json", "-c", config).stdout)
        if str(r["id"]) == ident
    ]
    assert dropped["dropped_note"] == "paid by hand"


def test_check_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(3, 50, 5, 600, plant=False)) as company:
        company.moment.knobs.latency_ms = 100
        config = str(config_file(company, tmp_path))
        master, slave = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "dksync", "check", "--json", "-c", config],
            stdout=subprocess.PIPE,
            stderr=slave,
            env={**os.environ, "COLUMNS": "100"},
        )
        os.close(slave)
        terminal = _Terminal(master)
        try:
            terminal.expect("invoices: ")
            out, _ = process.communicate(timeout=60)
        finally:
            os.close(master)
    assert process.returncode == 0
    assert json.loads(out)["ready"] is True, "stdout stays one document"


def test_json_document_of_a_run_stopped_by_sigint(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.moment.knobs.latency_ms = sandbox.dkplus.knobs.latency_ms = 50
    config = str(config_file(sandbox, tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "dksync", "run", "--json", "-v", "-c", config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the log says when the invoices are being read
        if "invoices: reading Moment changes" in line:
            break
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    document = json.loads(out)
    assert document["exit_code"] == 130 and document["outcome"] == "interrupted"
    [run] = json.loads(_invoke("history", "--json", "-c", config).stdout)
    assert run["outcome"] == "interrupted" and run["counts"]["customers"]["read"] == 40
