"""Never lose, never duplicate: each fault path of issue 4, over real HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.clients import connect
from dksync.outcome import Action
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock, holder
from dksync.state.migrations import MIGRATIONS
from dksync.state.store import State
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import FAST_RETRIES, Sync, config_for

INVOICE_POST = "/api/v1/sales/invoice"
runner = CliRunner(env={"COLUMNS": "250"})


def _references(sb: Sandbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for invoice in sb.dkplus.snapshot()["invoices"]:
        counts[invoice["Reference"]] = counts.get(invoice["Reference"], 0) + 1
    return counts


def _posts(sb: Sandbox) -> list[Any]:
    return [e for e in sb.dkplus.log if e.method == "POST" and e.path == INVOICE_POST]


def _state(tmp_path: Path) -> State:
    return State.open(tmp_path / "state.sqlite")


def test_post_dropped_after_the_write_is_confirmed_by_reference(
    sandbox: Sandbox, sync: Sync
) -> None:
    sandbox.dkplus.knobs.fault_path = INVOICE_POST
    sandbox.dkplus.knobs.drop_rate = 1.0
    report = sync()
    assert sandbox.dkplus.faults.injected["drop"] == len(_posts(sandbox)) > 0
    assert set(_references(sandbox).values()) == {1}, "each invoice exactly once"
    assert report.with_action(Action.UNCERTAIN) == []
    confirmed = [o for o in report.with_action(Action.CREATE) if o.object_type == "invoices"]
    assert confirmed and all("confirmed by reference" in o.detail for o in confirmed)


def test_post_answered_503_is_looked_up_at_once_then_posted_again(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    """A 503 proves the request ended: look the reference up at once, POST again only when
    DK+ has none, all in the same run (issue 9 D)."""
    sandbox.dkplus.knobs.rewrites = [
        {"method": "POST", "path": "^/api/v1/sales/invoice$", "answer": "503", "times": 2}
    ]
    report = sync()
    assert report.with_action(Action.UNCERTAIN) == [] and report.exit_code == 1  # planted
    posted = [o for o in report.with_action(Action.CREATE) if o.object_type == "invoices"]
    assert set(_references(sandbox).values()) == {1}
    assert len(_references(sandbox)) == len(posted)
    assert len(_posts(sandbox)) == len(posted) + 2, "two refused POSTs, each posted again"
    lookups = [e for e in sandbox.dkplus.log if "/sales/invoice/reference/" in e.path]
    assert len(lookups) >= 2, "after each 503 the reference is asked one by one"


def test_post_answered_500_after_writing_is_adopted_not_posted_twice(
    sandbox: Sandbox, sync: Sync
) -> None:
    sandbox.dkplus.knobs.rewrites = [
        {"method": "POST", "path": "^/api/v1/sales/invoice$", "answer": "500", "write": True}
    ]
    report = sync()
    posted = [o for o in report.with_action(Action.CREATE) if o.object_type == "invoices"]
    assert posted and all(o.detail == "posted (confirmed by reference)" for o in posted)
    assert set(_references(sandbox).values()) == {1}
    assert len(_posts(sandbox)) == len(posted), "never a second POST"


def test_dkplus_failing_every_post_leaves_them_refused_with_a_reason(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sandbox.dkplus.knobs.rewrites = [
        {"method": "POST", "path": "^/api/v1/sales/invoice$", "answer": "503"}
    ]
    first = sync(only=("invoices",))
    failed = [o for o in first.with_action(Action.REJECT) if o.code == "dkplus_failed"]
    assert failed and _references(sandbox) == {}
    sandbox.dkplus.knobs.rewrites = []
    second = sync(only=("invoices",))
    again = {o.moment_id for o in second.with_action(Action.CREATE) if o.object_type == "invoices"}
    assert {o.moment_id for o in failed} <= again
    assert set(_references(sandbox).values()) == {1}


def test_post_that_timed_out_is_settled_in_the_same_run(sandbox: Sandbox, tmp_path: Path) -> None:
    """A lost answer waits out the settle time at the end of the run, then is looked up:
    the write that landed meanwhile is confirmed, never posted again (issue 9 D)."""
    settings = config_for(sandbox, tmp_path / "state.sqlite", dkplus={"timeout": 0.3})
    sandbox.dkplus.knobs.fault_path = INVOICE_POST
    sandbox.dkplus.knobs.slow_rate = 1.0
    sandbox.dkplus.knobs.slow_ms = 450  # DK+ writes after dksync stopped waiting
    report = engine.run(
        settings,
        RunOptions(only=("invoices",), limit=1),
        connect(settings, policy=FAST_RETRIES),
    )
    assert report.with_action(Action.UNCERTAIN) == []
    [created] = [o for o in report.with_action(Action.CREATE) if o.object_type == "invoices"]
    assert created.detail == "posted (confirmed by reference)"
    assert _references(sandbox) == {created.label: 1}
    assert len(_posts(sandbox)) == 1
    state = _state(tmp_path)
    assert [r.moment_id for r in state.invoices_with_status("posted")] == [created.moment_id]
    state.close()


def test_invoice_already_in_dkplus_is_adopted_not_duplicated(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    preview = sync(dry_run=True, keep_unchanged=True)
    [wanted] = [o for o in preview.outcomes if o.object_type == "invoices" and o.label == "1001"]
    assert wanted.payload is not None
    sync(only=("customers", "projects"))
    dkplus = connect(config_for(sandbox, tmp_path / "state.sqlite")).dkplus
    for product in preview.outcomes:
        if product.object_type == "products" and product.payload:
            dkplus.create_product(product.payload)
    sandbox.dkplus.add_invoice(wanted.payload)
    report = sync(only=("invoices",))
    adopted = [o for o in report.with_action(Action.ADOPT) if o.label == "1001"]
    assert adopted and "adopted" in adopted[0].detail
    assert _references(sandbox)["1001"] == 1
    assert not [e for e in _posts(sandbox) if e.body["Reference"] == "1001"]


def test_invoice_in_dkplus_with_another_customer_is_not_adopted(
    sandbox: Sandbox, sync: Sync
) -> None:
    """Issue 9 G: adoption checks the customer number and the total."""
    sync(only=("customers", "projects"))
    eligible = next(i for i in sandbox.dataset.invoices if i.number == 1001)
    other = next(c for c in sandbox.dataset.customers if c.id != eligible.customer_id)
    sandbox.dkplus.add_invoice(
        {
            "Customer": {"Number": other.number},
            "SalesPerson": "SALA1",
            "Reference": "1001",
            "Lines": [],
        }
    )
    report = sync(only=("invoices",))
    [rejected] = [o for o in report.with_action(Action.REJECT) if o.label == "1001"]
    assert rejected.code == "adopt_mismatch" and other.number in rejected.detail
    assert _references(sandbox)["1001"] == 1, "not posted beside the other one"


@pytest.mark.parametrize(
    ("path", "kind", "action", "words"),
    [
        ("/api/v1/customer", "customers", Action.UPDATE, "already in DK+: updated"),
        ("/api/v1/project", "projects", Action.ADOPT, "already in DK+: adopted"),
    ],
)
def test_create_that_collides_is_resolved(
    sandbox: Sandbox, sync: Sync, path: str, kind: str, action: Action, words: str
) -> None:
    sandbox.dkplus.knobs.fault_path = path
    sandbox.dkplus.knobs.drop_rate = 1.0  # written, no answer: the retry then gets 409
    report = sync(only=("customers", "projects"))
    assert report.fatal is None
    assert any(e.status == 409 for e in sandbox.dkplus.log if e.path == path)
    resolved = [o for o in report.with_action(action) if o.object_type == kind]
    assert resolved and all(o.detail == words for o in resolved)
    assert report.count(kind, Action.REJECT) == (1 if kind == "customers" else 0)


def test_product_create_that_collides_is_resolved(sandbox: Sandbox, sync: Sync) -> None:
    sandbox.dkplus.knobs.fault_path = "/api/v1/Product"
    sandbox.dkplus.knobs.drop_rate = 1.0
    report = sync()
    assert report.fatal is None
    assert any(e.status == 409 for e in sandbox.dkplus.log if e.path == "/api/v1/Product")
    assert sandbox.dkplus.snapshot()["products"]
    assert set(_references(sandbox).values()) == {1}


def test_rejected_queue_counts_attempts_and_drop_is_recorded(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    config = tmp_path / "dksync.yaml"
    config.write_text(sandbox.config_yaml(str(tmp_path / "state.sqlite")))
    sync()
    sync()
    state = _state(tmp_path)
    rows = state.rejected()
    state.close()
    assert rows and all(r.attempts == 2 for r in rows)
    listed = runner.invoke(app, ["failures", "-c", str(config)])
    assert listed.exit_code == 0 and "has 13 characters" in listed.output
    target = next(r for r in rows if r.object_type == "customers")
    dropped = runner.invoke(
        app, ["failures", "drop", str(target.id), "--note", "closed account", "-c", str(config)]
    )
    assert dropped.exit_code == 0 and "will not be retried" in dropped.output
    before = len(sandbox.moment.log)
    sync(only=("customers",))
    fetched_again = [
        e for e in sandbox.moment.log[before:] if e.path.endswith(f"/customers/{target.moment_id}")
    ]
    assert fetched_again == [], "a dropped record is not retried"
    state = _state(tmp_path)
    assert target.id not in {r.id for r in state.rejected()}
    [kept] = [r for r in state.rejected(include_dropped=True) if r.id == target.id]
    assert kept.dropped_note == "closed account" and kept.dropped_at
    assert any(kind == "drop" and "closed account" in detail for _, kind, detail in state.events())
    state.close()
    missing = runner.invoke(app, ["failures", "drop", "9999", "-c", str(config)])
    assert missing.exit_code == 1 and "no rejected record has ID 9999" in missing.output


def test_resync_one_invoice_once(sandbox: Sandbox, sync: Sync, tmp_path: Path) -> None:
    config = tmp_path / "dksync.yaml"
    config.write_text(sandbox.config_yaml(str(tmp_path / "state.sqlite")))
    first = runner.invoke(app, ["resync", "invoice", "1001", "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert _references(sandbox) == {"1001": 1}
    again = runner.invoke(app, ["resync", "invoice", "1001", "-c", str(config)])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert _references(sandbox) == {"1001": 1}
    state = _state(tmp_path)
    assert state.cursor("invoices") is None, "resync moves no cursor"
    state.close()
    unknown = runner.invoke(app, ["resync", "invoice", "99999", "-c", str(config)])
    assert unknown.exit_code == 1 and "no invoice numbered 99999" in unknown.output


def test_resync_customer_after_a_change(sandbox: Sandbox, sync: Sync, tmp_path: Path) -> None:
    config = tmp_path / "dksync.yaml"
    config.write_text(sandbox.config_yaml(str(tmp_path / "state.sqlite")))
    sync(only=("customers",))
    target = sandbox.dataset.customers[2]
    sandbox.moment.change("customers", target.id, lambda c: replace(c, name="Endurnefnt ehf."))
    result = runner.invoke(app, ["resync", "customer", target.number, "-c", str(config)])
    assert result.exit_code == 0 and "update" in result.output
    assert sandbox.dkplus.snapshot()["customers"][target.number]["Name"] == "Endurnefnt ehf."


def test_second_run_exits_at_once_while_the_lock_is_held(sandbox: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "dksync.yaml"
    config.write_text(sandbox.config_yaml(str(tmp_path / "state.sqlite")))
    with RunLock(tmp_path / "state.sqlite"):
        assert holder(tmp_path / "state.sqlite")["pid"] == os.getpid()
        result = runner.invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 6
    assert "another dksync run is using this state" in result.output
    assert f"pid {os.getpid()}" in result.output
    assert sandbox.moment.log == [], "it did nothing"
    assert holder(tmp_path / "state.sqlite") is None


def test_lock_of_a_killed_process_does_not_block(sandbox: Sandbox, tmp_path: Path) -> None:
    state_path = tmp_path / "state.sqlite"
    code = (
        "import sys, time; from pathlib import Path; from dksync.state.lock import RunLock\n"
        f"lock = RunLock(Path({str(state_path)!r})).__enter__()\n"
        "print('held', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    assert holder(state_path) is not None
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert holder(state_path) is None
    config = tmp_path / "dksync.yaml"
    config.write_text(sandbox.config_yaml(str(state_path)))
    assert runner.invoke(app, ["run", "-c", str(config)]).exit_code == 1


def test_state_from_an_older_dksync_is_migrated_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(";".join(MIGRATIONS[0]) + "; PRAGMA user_version = 1;")
    db.execute("INSERT INTO cursors VALUES ('invoices', '2026-05-01T00:00:00+00:00', 7, 'x')")
    db.execute("INSERT INTO rejected VALUES ('customers', 3, '10004', 'bad', 2, 'a', 'b', NULL)")
    db.execute(
        "INSERT INTO invoices VALUES (9, '1001', 'posted', 90001, '', '2026-05-01T00:00:00+00:00')"
    )
    db.commit()
    db.close()
    state = State.open(path)
    assert state.schema_version == len(MIGRATIONS)
    cursor = state.cursor("invoices")
    assert cursor is not None and cursor.record_id == 7
    [row] = state.rejected()
    assert (row.number, row.attempts, row.dropped_note) == ("10004", 2, None)
    invoice = state.invoice(9)
    assert invoice is not None and invoice.dk_number == 90001
    state.close()
