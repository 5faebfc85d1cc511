"""Issue 9: the books hold whatever the services answer. Each test runs the whole sync over
real HTTP against the sandbox, whose ``rewrites`` knob answers as a broken DK+ or a proxy
before it would: HTML, an empty body or ``{}`` with 200, a 404 for "no match", lost answers.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import dksync
from dksync.clients import connect
from dksync.errors import ServiceError
from dksync.mapping.invoices import skip_reason
from dksync.outcome import Action
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import Sync, config_for
from tests.helpers import config_file

INVOICE_POST = "^/api/v1/sales/invoice$"
REFERENCE = "^/api/v1/sales/invoice/reference/"


def _references(sb: Sandbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for invoice in sb.dkplus.snapshot()["invoices"]:
        counts[invoice["Reference"]] = counts.get(invoice["Reference"], 0) + 1
    return counts


def _posts(sb: Sandbox) -> int:
    return len([e for e in sb.dkplus.log if e.method == "POST" and e.path.endswith("/invoice")])


def _eligible(sb: Sandbox) -> dict[int, str]:
    """{Moment id: reference} of the invoices that are to reach DK+ (final, to transfer)."""
    return {i.id: str(i.number) for i in sb.dataset.invoices if skip_reason(i) is None}


def unaccounted(sb: Sandbox, state_path: Path) -> list[str]:
    """Never lose, never duplicate: every eligible invoice is in DK+ exactly once, or in the
    rejected queue with a reason. The problems found (none when all is well)."""
    held = _references(sb)
    state = State.open(state_path)
    rejected = {r.moment_id: r.reason for r in state.rejected("invoices")}
    state.close()
    problems = [f"{ref} is in DK+ {n} times" for ref, n in held.items() if n > 1]
    for ident, ref in _eligible(sb).items():
        if held.get(ref) != 1 and not rejected.get(ident):
            problems.append(f"invoice {ref} (id {ident}) is neither in DK+ nor rejected")
    return problems


def _rewrite(sb: Sandbox, *rules: dict[str, Any]) -> None:
    sb.dkplus.knobs.rewrites = [dict(rule) for rule in rules]


def test_customer_create_answered_with_html_is_never_taken_as_created(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    _rewrite(sandbox, {"method": "POST", "path": "^/api/v1/customer$", "answer": "html"})
    failed = sync(only=("customers",))
    assert isinstance(failed.fatal, ServiceError) and failed.exit_code == 3
    assert "POST /api/v1/customer" in str(failed.fatal) and "HTML" in str(failed.fatal)
    state = State.open(tmp_path / "state.sqlite")
    assert state.written("customers", sandbox.dataset.customers[0].id) is None
    assert state.runs()[0]["outcome"] == "failed", "the run is finished in history"
    state.close()
    _rewrite(sandbox)
    report = sync()
    assert report.fatal is None
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []


def test_customer_create_answered_with_html_once_is_retried_and_lands_once(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    _rewrite(
        sandbox,
        {"method": "POST", "path": "^/api/v1/customer$", "answer": "html", "times": 1},
    )
    report = sync()
    assert report.fatal is None
    customers = sandbox.dkplus.snapshot()["customers"]
    assert customers and all(number == c["Number"] for number, c in customers.items())
    creates = [e for e in sandbox.dkplus.log if e.method == "POST" and e.path == "/api/v1/customer"]
    assert len(creates) == len(customers) + 1, "the one answered with HTML was sent again"
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []


@pytest.mark.parametrize("answer", ["html", "empty", "object"])
def test_reference_lookup_that_breaks_the_contract_stops_without_posting(
    sandbox: Sandbox, sync: Sync, answer: str
) -> None:
    sync(only=("customers", "projects"))
    lookups = "^/api/v1/sales/invoice/(reference|page)/"  # one by one, and the list
    _rewrite(sandbox, {"method": "GET", "path": lookups, "answer": answer})
    report = sync(only=("invoices",))
    assert isinstance(report.fatal, ServiceError)
    assert "/sales/invoice/reference/" in str(report.fatal)
    assert _posts(sandbox) == 0, "a lookup that is not a list is never 'not in DK+'"


@pytest.mark.parametrize("answer", ["html", "object", "404"])
def test_a_dkplus_list_that_is_not_a_list_falls_back_to_one_lookup_per_record(
    sandbox: Sandbox, sync: Sync, tmp_path: Path, answer: str
) -> None:
    _rewrite(sandbox, {"method": "GET", "path": "^/api/v1/.*/page/", "answer": answer})
    report = sync()
    assert report.fatal is None and report.count("invoices", Action.CREATE) > 0
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []
    one_by_one = [e for e in sandbox.dkplus.log if "/sales/invoice/reference/" in e.path]
    assert len(one_by_one) >= report.count("invoices", Action.CREATE)


def test_reference_lookup_answering_404_means_none(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    _rewrite(sandbox, {"method": "GET", "path": REFERENCE, "answer": "404"})
    report = sync()
    assert report.fatal is None
    assert report.count("invoices", Action.CREATE) > 0
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []


def test_invoice_post_answered_empty_object_is_settled_and_posted_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """200 ``{}`` with nothing written: uncertain, settled at the end of the run (looked up:
    absent), posted again, so every invoice is in DK+ exactly once after one run."""
    settings = config_for(sandbox, tmp_path / "state.sqlite", dkplus={"timeout": 0.3})
    _rewrite(sandbox, {"method": "POST", "path": INVOICE_POST, "answer": "object", "times": 2})
    report = engine.run(settings, RunOptions(), connect(settings))
    assert report.fatal is None and report.with_action(Action.UNCERTAIN) == []
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []
    state = State.open(tmp_path / "state.sqlite")
    assert state.invoices_with_status("uncertain") == []
    assert all(row.dk_number for row in state.invoices_with_status("posted"))
    state.close()


def test_dropped_post_then_empty_lookup_never_posts_twice(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = config_for(sandbox, tmp_path / "state.sqlite", dkplus={"timeout": 0.3})
    sandbox.dkplus.knobs.fault_path = "/api/v1/sales/invoice"
    sandbox.dkplus.knobs.drop_rate = 1.0
    _rewrite(sandbox, {"method": "GET", "path": REFERENCE, "answer": "empty", "times": 3})
    report = engine.run(settings, RunOptions(), connect(settings))
    assert report.fatal is None and report.with_action(Action.UNCERTAIN) == []
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []


def test_poison_values_reject_one_invoice_and_the_others_flow(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    posted = sync(dry_run=True, keep_unchanged=True).with_action(Action.CREATE)
    would = {o.moment_id for o in posted if o.object_type == "invoices"}
    target = next(i for i in sandbox.dataset.invoices if i.id in would)
    line = replace(target.lines[0], unit_price=Decimal("1e30"), quantity=Decimal("1e25"))
    sandbox.moment.change("invoices", target.id, lambda i: replace(i, lines=(line,)))
    report = sync()
    [poisoned] = [o for o in report.with_action(Action.REJECT) if o.moment_id == target.id]
    assert poisoned.code == "invalid_data" and "out of range" in poisoned.detail
    assert report.count("invoices", Action.CREATE) == len(would) - 1
    assert unaccounted(sandbox, tmp_path / "state.sqlite") == []
    state = State.open(tmp_path / "state.sqlite")
    assert state.cursor("invoices") is not None, "the cursor moved on"
    assert target.id in {r.moment_id for r in state.rejected("invoices")}
    state.close()


def test_second_moment_invoice_with_a_posted_number_is_rejected_naming_both(
    sandbox: Sandbox, sync: Sync
) -> None:
    first_run = sync()
    posted = {o.moment_id for o in first_run.with_action(Action.CREATE)}
    first = next(
        i for i in sandbox.dataset.invoices if i.id in posted and i.id in _eligible(sandbox)
    )
    copy_raw = copy.deepcopy(sandbox.moment.raw("invoices", first.id))
    copy_raw["id"] = 990001
    other = next(c for c in sandbox.dataset.customers if c.id != first.customer_id)
    copy_raw["customer"] = {"id": other.id, "customerNumber": other.number}
    copy_raw["lastModifiedDate"] = "2099-01-01T00:00:00.000Z"
    sandbox.moment.put_raw("invoices", copy_raw)
    report = sync(only=("invoices",))
    [rejected] = [o for o in report.with_action(Action.REJECT) if o.moment_id == 990001]
    assert rejected.code == "duplicate_number"
    assert str(first.id) in rejected.detail and "990001" in rejected.detail
    assert _references(sandbox)[str(first.number)] == 1


def test_customer_deleted_in_dkplus_is_written_again_before_its_invoice(
    sandbox: Sandbox, sync: Sync
) -> None:
    """Issue 9 C: DK+ refuses the invoice (400: unknown customer) although dksync wrote the
    customer; dksync checks, creates the customer again and posts the invoice, in one run."""
    would = {o.moment_id for o in sync(dry_run=True).with_action(Action.CREATE)}
    sync(only=("customers", "projects"))
    invoice = next(i for i in sandbox.dataset.invoices if i.id in would)
    customer = next(c for c in sandbox.dataset.customers if c.id == invoice.customer_id)
    with sandbox.dkplus.lock:
        del sandbox.dkplus.store.customers[customer.number]
    report = sync(only=("invoices",))
    assert customer.number in sandbox.dkplus.snapshot()["customers"]
    assert _references(sandbox).get(str(invoice.number)) == 1
    assert not [o for o in report.with_action(Action.REJECT) if o.moment_id == invoice.id]


def _customer_writes(sandbox: Sandbox) -> list[object]:
    return [e for e in sandbox.dkplus.requests_to("/customer") if e.method != "GET"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_reading_finishes_writes_and_records_the_run(
    sandbox: Sandbox, tmp_path: Path, signum: int, code: int
) -> None:
    """Issue 9 H: SIGINT/SIGTERM (twice, as an impatient user does) → the writes in flight
    finish, the summary is printed, history says interrupted, exit 130/143, no traceback."""
    config = config_file(sandbox, tmp_path)
    sandbox.dkplus.knobs.latency_ms = 150
    child = subprocess.Popen(
        [sys.executable, "-m", "dksync", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    deadline = time.monotonic() + 30
    while not _customer_writes(sandbox) and time.monotonic() < deadline:  # one under way
        time.sleep(0.05)
    child.send_signal(signum)
    time.sleep(0.1)
    child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    assert child.returncode == code, err
    assert "Traceback" not in out + err
    assert "interrupted" in (out + err).lower()
    state = State.open(tmp_path / "state.sqlite")
    [last] = state.runs(1)
    assert last["outcome"] == "interrupted" and last["finished_at"]
    written = last["counts"]["customers"]["create"]
    assert written == len(sandbox.dkplus.snapshot()["customers"]) > 0, "true counts"
    assert state.cursor("customers") is None, "an interrupted read does not move the cursor"
    state.close()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_until_the_process_is_gone_keep_the_interrupted_exit_code(
    sandbox: Sandbox, tmp_path: Path, signum: int, code: int
) -> None:
    """A service manager that repeats SIGTERM every few milliseconds until the process is
    gone: one lands during the interpreter's shutdown, where Python has put the default
    handlers back; the process must still end with 130/143, not be killed by the signal."""
    config = config_file(sandbox, tmp_path)
    sandbox.dkplus.knobs.latency_ms = 100
    child = subprocess.Popen(
        [sys.executable, "-m", "dksync", "-q", "run", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not _customer_writes(sandbox) and time.monotonic() < deadline:
        time.sleep(0.02)
    sent = 0
    while child.poll() is None and time.monotonic() < deadline:
        child.send_signal(signum)
        sent += 1
        time.sleep(0.005)
    err = child.stderr.read() if child.stderr else ""
    assert child.wait(timeout=30) == code, (sent, err)
    assert "Traceback" not in err


PACKAGE = str(Path(dksync.__file__).parent)
"""Where dksync's own modules are: a traceback through none of them is Python's start-up."""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_at_any_moment_of_start_up_is_no_traceback(
    sandbox: Sandbox, tmp_path: Path, signum: int, code: int
) -> None:
    """Ctrl-C or SIGTERM while dksync is still loading, reading its config or opening the
    state (before the run handles signals): no traceback, and the interrupted exit code or
    the signal's own death (SIGTERM before the run), which a shell reports as the same
    130/143. Once the run reads Moment, exactly 130/143. A signal during the interpreter's
    own start-up (its ``site`` module, streams, or runpy finding ``dksync``: a traceback
    naming no dksync file) is Python's to report."""
    config = config_file(sandbox, tmp_path)
    sandbox.moment.knobs.latency_ms = 300
    command = [sys.executable, "-m", "dksync", "-q", "run", "-c", str(config)]
    for delay in (0.01, 0.03, 0.05, 0.08, 0.12, 0.18, 0.25, None):
        child = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        if delay is None:  # the last one once the run is reading Moment
            deadline = time.monotonic() + 30
            while not sandbox.moment.at_once and time.monotonic() < deadline:
                time.sleep(0.005)
        else:
            time.sleep(delay)
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
        if "Traceback" in err and PACKAGE not in err:
            continue  # Python itself was not up yet (its site module, streams, runpy)
        assert "Traceback" not in err, (delay, err)
        assert child.returncode in ({code} if delay is None else {code, -signum}), (delay, err)


def test_customer_facts_are_fresh_only_after_the_customers_stream_was_read_whole(
    sandbox: Sandbox, sync: Sync
) -> None:
    """Issue 9 K: after a --limit read of customers, an invoice does not take its
    customer's name from the state: the customer is read from Moment and written first."""
    first = sync()
    posted = {o.moment_id for o in first.with_action(Action.CREATE)}
    template = next(i for i in sandbox.dataset.invoices if i.id in posted)
    customer = next(c for c in sandbox.dataset.customers if c.id == template.customer_id)
    other = next(c for c in sandbox.dataset.customers if c.id != customer.id and c.kennitala)
    sandbox.moment.change("customers", other.id, lambda c: replace(c, phone="+354 000 0000"))
    sandbox.moment.change("customers", customer.id, lambda c: replace(c, name="Nýtt nafn ehf."))
    raw = copy.deepcopy(sandbox.moment.raw("invoices", template.id))
    raw["id"], raw["invoiceNumber"] = 990002, 990002
    raw["lastModifiedDate"] = "2099-01-01T00:00:00.000Z"
    sandbox.moment.put_raw("invoices", raw)
    sync(limit=1)
    [booked] = [i for i in sandbox.dkplus.snapshot()["invoices"] if i["Reference"] == "990002"]
    assert booked["CName"] == "Nýtt nafn ehf."


@pytest.mark.parametrize("answer", ["html", "empty", "object", "list"])
def test_a_moment_list_that_is_not_its_envelope_stops_the_run_naming_the_path(
    sandbox: Sandbox, sync: Sync, tmp_path: Path, answer: str
) -> None:
    sandbox.moment.knobs.rewrites = [{"method": "GET", "path": "/invoices$", "answer": answer}]
    report = sync()
    assert isinstance(report.fatal, ServiceError) and report.exit_code == 3
    assert "/invoices" in str(report.fatal) and "envelope" in str(report.fatal)
    assert _posts(sandbox) == 0
    state = State.open(tmp_path / "state.sqlite")
    assert state.cursor("invoices") is None and state.runs(1)[0]["outcome"] == "failed"
    state.close()
