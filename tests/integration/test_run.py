"""dksync run against the sandbox over real HTTP: the rules of integration.md, end to end."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dksync import jsonio
from dksync.clients import connect
from dksync.mapping import kennitala
from dksync.outcome import Action, RunReport
from dksync.records import ExportStatus, Invoice, InvoiceStatus
from dksync.sandbox import schema
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import FAST_RETRIES, Sync, config_for

ENDPOINT_SCHEMAS = {
    ("POST", "/api/v1/customer"): "Customer",
    ("POST", "/api/v1/project"): "Project",
    ("POST", "/api/v1/Product"): "Product",
    ("POST", "/api/v1/sales/invoice"): "InvoiceCreate",
}


def _writes(sb: Sandbox) -> list[Any]:
    return [e for e in sb.dkplus.log if e.method in ("POST", "PUT", "PATCH", "DELETE")]


def _eligible(sb: Sandbox) -> list[Invoice]:
    planted = set(sb.dataset.planted.values())
    bad_customers = {
        c.id
        for c in sb.dataset.customers
        if c.number in planted or not kennitala.check(c.kennitala).digits
    }
    return [
        i
        for i in sb.dataset.invoices
        if i.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
        and i.export_status is not ExportStatus.DO_NOT_TRANSFER
        and str(i.number) not in planted
        and i.customer_id not in bad_customers
    ]


def _by_reference(sb: Sandbox) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for invoice in sb.dkplus.snapshot()["invoices"]:
        found.setdefault(invoice["Reference"], []).append(invoice)
    return found


def test_first_full_sync_writes_everything_eligible_once(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    report = sync()
    assert report.fatal is None
    store = sandbox.dkplus.snapshot()
    good = [c for c in sandbox.dataset.customers if len(c.number) <= 12]
    assert set(store["customers"]) == {c.number for c in good}
    sample = good[0]
    written = store["customers"][sample.number]
    assert written["Name"] == sample.name and written["Address3"] == sample.address.city
    assert written["ZipCode"] == sample.address.postal_code and written["CountryCode"] == "IS"
    assert set(store["projects"]) == {
        p.number for p in sandbox.dataset.projects if len(p.customer_number or "") <= 12
    }
    by_ref = _by_reference(sandbox)
    eligible = _eligible(sandbox)
    assert sorted(by_ref) == sorted(str(i.number) for i in eligible)
    assert all(len(v) == 1 for v in by_ref.values()), "every invoice exactly once"
    assert set(store["booked"]) == {i["Number"] for i in store["invoices"]}
    state = State.open(tmp_path / "state.sqlite")
    for invoice in eligible:
        row = state.invoice(invoice.id)
        assert row is not None and row.status == "posted"
        assert row.dk_number == by_ref[str(invoice.number)][0]["Number"]
    state.close()


def test_every_body_sent_validates_against_the_contract(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    contract = schema.contract()
    checked = 0
    for entry in _writes(sandbox):
        path = entry.path if not entry.path.startswith("/api/v1/customer/") else "PUT customer"
        name = ENDPOINT_SCHEMAS.get((entry.method, path), "CustomerUpdate")
        body = jsonio.loads(jsonio.dumps(entry.body))
        as_json = __import__("json").loads(jsonio.dumps(body))
        jsonschema.validate(as_json, {**contract, "$ref": f"#/definitions/{name}"})
        checked += 1
    assert checked > 100


def test_second_run_writes_nothing(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    before = len(_writes(sandbox))
    report = sync()
    assert len(_writes(sandbox)) == before
    assert report.count("invoices", Action.CREATE) == 0
    assert report.count("customers", Action.CREATE) == 0


def test_changed_customer_is_updated_and_only_that_one(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    target = sandbox.dataset.customers[0]
    sandbox.moment.change("customers", target.id, lambda c: replace(c, phone="+354 555 0000"))
    before = len(_writes(sandbox))
    report = sync()
    new_writes = _writes(sandbox)[before:]
    assert [(e.method, e.path) for e in new_writes] == [
        ("PUT", f"/api/v1/customer/{target.number}")
    ]
    assert sandbox.dkplus.snapshot()["customers"][target.number]["Phone"] == "+354 555 0000"
    updated = report.with_action(Action.UPDATE)
    assert [o.label for o in updated] == [target.number]
    assert updated[0].changes == {"Phone": (target.phone, "+354 555 0000")}


def test_changed_project_is_drift_and_not_written(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    project = sandbox.dataset.projects[0]
    sandbox.moment.change("projects", project.id, lambda p: replace(p, name="Nýtt nafn"))
    before = len(_writes(sandbox))
    report = sync()
    assert _writes(sandbox)[before:] == []
    drift = report.with_action(Action.DRIFT)
    assert [o.label for o in drift] == [project.number]
    assert drift[0].changes == {"Name": (project.name, "Nýtt nafn")}
    assert "fix it by hand in DK+" in drift[0].detail
    assert sandbox.dkplus.snapshot()["projects"][project.number]["Name"] == project.name


def test_invoice_customer_project_and_products_created_first_under_only_invoices(
    sandbox: Sandbox, sync: Sync
) -> None:
    report = sync(only=("invoices",))
    assert report.fatal is None
    log = [(e.method, e.path, e.body) for e in _writes(sandbox)]
    first_invoice = next(i for i, e in enumerate(log) if e[1] == "/api/v1/sales/invoice")
    body = log[first_invoice][2]
    earlier = log[:first_invoice]
    assert ("POST", "/api/v1/customer") in [(m, p) for m, p, _ in earlier]
    assert any(
        p == "/api/v1/customer" and b["Number"] == body["Customer"]["Number"] for _, p, b in earlier
    )
    codes = {line["ItemCode"].upper() for line in body["Lines"]}
    created = {b["ItemCode"].upper() for _, p, b in earlier if p == "/api/v1/Product"}
    assert codes <= created, "missing products are created before the invoice"
    assert report.count("products", Action.CREATE) == len(sandbox.dkplus.snapshot()["products"])


def test_surcharge_and_discount_land_right_in_dkplus(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    by_ref = _by_reference(sandbox)
    checked = 0
    for invoice in _eligible(sandbox):
        dk = by_ref[str(invoice.number)][0]
        for line, dk_line in zip(invoice.lines, dk["Lines"], strict=True):
            price = (line.unit_price * (1 + line.surcharge_percent / 100)).quantize(Decimal("0.01"))
            assert Decimal(dk_line["UnitPrice"]) == price
            assert Decimal(dk_line["Quantity"]) == line.quantity
            assert Decimal(dk_line["Discount"]) == line.discount_percent
            assert Decimal(dk_line["TotalAmount"]) == line.line_total
            checked += bool(line.surcharge_percent and line.discount_percent)
    assert checked >= 1, "the data must hold a line with both a surcharge and a discount"


def test_credit_note_posted_with_negative_quantities(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    credit = [i for i in _eligible(sandbox) if i.is_credit_note]
    assert credit
    dk = _by_reference(sandbox)[str(credit[0].number)][0]
    assert all(Decimal(line["Quantity"]) < 0 for line in dk["Lines"])
    assert Decimal(dk["TotalAmount"]) < 0


def test_drafts_and_do_not_transfer_are_skipped(sandbox: Sandbox, sync: Sync) -> None:
    report = sync()
    skipped = {o.moment_id: o.detail for o in report.with_action(Action.SKIP)}
    drafts = [
        i
        for i in sandbox.dataset.invoices
        if i.status in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
    ]
    blocked = [
        i
        for i in sandbox.dataset.invoices
        if i.export_status is ExportStatus.DO_NOT_TRANSFER and i not in drafts
    ]
    assert drafts and blocked
    assert {i.id for i in drafts + blocked} == set(skipped)
    assert "do not transfer" in skipped[blocked[0].id]
    refs = _by_reference(sandbox)
    assert not any(str(i.number) in refs for i in blocked)


def test_bad_records_rejected_with_reasons_and_the_rest_written(
    sandbox: Sandbox, sync: Sync
) -> None:
    report = sync()
    assert report.exit_code == 1
    rejected = {o.label: o.detail for o in report.with_action(Action.REJECT)}
    planted = sandbox.dataset.planted
    assert "at most 12" in rejected[planted["customer number over 12 characters"]]
    assert "has no kennitala" in rejected[planted["invoice for customer without kennitala"]]
    assert "not 10 digits" in rejected[planted["invoice for customer with malformed kennitala"]]
    no_code = rejected[planted["invoice line with no item code source"]]
    assert "financial account 3900" in no_code and "accounting VAT code" in no_code
    assert len(_by_reference(sandbox)) == len(_eligible(sandbox))


def test_missing_sales_person_stops_invoices_with_a_clear_message(
    sandbox: Sandbox, sync: Sync
) -> None:
    sandbox.dkplus.remove_sales_person("SALA1")
    report = sync()
    assert report.fatal is not None and report.exit_code == 4
    assert "sales person 'SALA1' does not exist in DK+" in str(report.fatal)
    assert "no invoice was sent" in str(report.fatal)
    assert sandbox.dkplus.snapshot()["invoices"] == []
    assert sandbox.dkplus.snapshot()["customers"], "customers still went first"


def test_dry_run_changes_nothing_and_shows_the_plan(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sync(only=("customers",))
    state_file = tmp_path / "state.sqlite"
    target = sandbox.dataset.customers[1]
    sandbox.moment.change("customers", target.id, lambda c: replace(c, name="Nýtt ehf."))
    store_before, state_before = sandbox.dkplus.snapshot(), state_file.read_bytes()
    writes_before = len(_writes(sandbox))
    report = sync(dry_run=True)
    assert len(_writes(sandbox)) == writes_before
    assert sandbox.dkplus.snapshot() == store_before
    assert state_file.read_bytes() == state_before
    update = [o for o in report.with_action(Action.UPDATE)]
    assert [o.label for o in update] == [target.number]
    assert update[0].changes["Name"] == (target.name, "Nýtt ehf.")
    planned = report.with_action(Action.CREATE)
    assert any(o.object_type == "invoices" and o.payload for o in planned)
    assert any(o.object_type == "projects" for o in planned)


def test_unreliable_filter_and_sort_change_nothing(sandbox: Sandbox, sync: Sync) -> None:
    sandbox.moment.knobs.unreliable_order = True
    report = sync()
    assert report.fatal is None
    assert len(_by_reference(sandbox)) == len(_eligible(sandbox))
    before = len(_writes(sandbox))
    sync()
    assert len(_writes(sandbox)) == before


def test_small_pages_read_everything(sandbox: Sandbox, tmp_path: Path, sync: Sync) -> None:
    settings = config_for(sandbox, tmp_path / "state.sqlite", moment={"page_size": 3})
    report = sync(settings)
    assert report.fetched["invoices"] == 60 and report.fetched["customers"] == 40


def test_a_fixed_record_leaves_the_rejected_queue(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sync()
    bad = next(c for c in sandbox.dataset.customers if len(c.number) > 12)
    state = State.open(tmp_path / "state.sqlite")
    assert [r.number for r in state.rejected("customers")] == [bad.number]
    state.close()
    sandbox.moment.change("customers", bad.id, lambda c: replace(c, number="10999"))
    report = sync()
    assert any(o.label == "10999" for o in report.with_action(Action.CREATE))
    state = State.open(tmp_path / "state.sqlite")
    assert state.rejected("customers") == []
    state.close()


def test_limit_defers_the_rest_without_losing_it(sandbox: Sandbox, sync: Sync) -> None:
    first = sync(only=("customers",), limit=5)
    assert first.count("customers", Action.CREATE) == 5
    second = sync(only=("customers",))
    assert second.count("customers", Action.CREATE) == 34
    assert len(sandbox.dkplus.snapshot()["customers"]) == 39


def test_since_rereads_without_moving_the_cursor_back(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sync(only=("customers",))
    state = State.open(tmp_path / "state.sqlite")
    cursor = state.cursor("customers")
    state.close()
    report = sync(only=("customers",), since=sandbox.dataset.epoch)
    assert report.fetched["customers"] == 40
    state = State.open(tmp_path / "state.sqlite")
    assert state.cursor("customers") == cursor
    state.close()


@pytest.mark.parametrize("kind", ["customers", "invoices"])
def test_server_errors_on_safe_requests_are_retried(
    sandbox: Sandbox, sync: Sync, kind: str
) -> None:
    sandbox.moment.knobs.error_rate = 0.3
    sandbox.dkplus.knobs.burst_rate = 0.05
    report = sync(only=(kind,))
    assert report.fatal is None
    assert sandbox.moment.faults.injected["5xx"] > 0


def test_invoice_post_answered_5xx_is_not_retried(sandbox: Sandbox, sync: Sync) -> None:
    sync(only=("customers", "projects"))
    sandbox.dkplus.knobs.error_rate = 1.0
    report: RunReport = sync(only=("invoices",), limit=1)
    posts = [e for e in sandbox.dkplus.log if e.path == "/api/v1/sales/invoice"]
    assert report.fatal is not None or report.with_action(Action.UNCERTAIN)
    assert len(posts) <= 1


def test_concurrent_invoices_create_each_dependency_once(
    sandbox: Sandbox, tmp_path: Path, sync: Sync
) -> None:
    settings = config_for(sandbox, tmp_path / "state.sqlite", dkplus={"concurrency": 8})
    report = sync(settings, only=("invoices",))
    assert report.fatal is None
    for path, key in (
        ("/api/v1/customer", "Number"),
        ("/api/v1/Product", "ItemCode"),
        ("/api/v1/project", "Number"),
    ):
        created = [e.body[key] for e in _writes(sandbox) if e.method == "POST" and e.path == path]
        assert created and len(created) == len(set(created)), f"{path}: something created twice"
    assert set(_by_reference(sandbox)) == {str(i.number) for i in _eligible(sandbox)}
    gets = [e.path for e in sandbox.dkplus.log if e.method == "GET" and "/customer/" in e.path]
    assert len(gets) == len(set(gets)), "at most one existence check per customer"


def test_no_change_run_makes_no_dkplus_request(tmp_path: Path) -> None:

    with Sandbox(dataset=generate(4, 20, 6, 40, plant=False)) as clean:
        settings = config_for(clean, tmp_path / "state.sqlite")

        def run() -> RunReport:
            return engine.run(settings, RunOptions(), connect(settings, policy=FAST_RETRIES))

        assert run().exit_code == 0
        dk_before, moment_before = len(clean.dkplus.log), len(clean.moment.log)
        second = run()
        assert second.exit_code == 0
        assert clean.dkplus.log[dk_before:] == []
        paths = [e.path.rsplit("/", 1)[1] for e in clean.moment.log[moment_before:]]
        assert sorted(paths) == ["customers", "invoices", "projects"], "one list per stream"
