"""The money rules of issue 18, whole runs over real HTTP under each DK+ amount knob.

Moment invoices are planted with the amounts a hostile read found: a credit note with the
minus on its prices and no line totals, a credit line reversing a discount, a unit price
with three decimals, fractional krónur, one item code at two VAT rates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from dksync import jsonio
from dksync.clients import connect
from dksync.dkplus.values import dk_date
from dksync.mapping import invoices as invoice_mapping
from dksync.mapping import kennitala
from dksync.mapping.invoices import skip_reason
from dksync.mapping.money import round_half_up
from dksync.outcome import Action, RunReport
from dksync.reconcile import gather
from dksync.reconcile.compare import ProblemKind, Result, moments_total
from dksync.reconcile.gather import Period
from dksync.records import Invoice, InvoiceLine
from dksync.sandbox.generator import Dataset, generate
from dksync.sandbox.pair import Sandbox
from dksync.sync import run as engine
from tests.conftest import FAST_RETRIES, config_for

INVOICE_POST = "/api/v1/sales/invoice"
HOSTILE = {
    # label: (credit note?, lines as (quantity, unit price, Moment's line total))
    "credit, minus on the prices": (True, (("2", "-5000", None), ("1", "-300", None))),
    "credit reversing a discount": (True, (("-2", "5000", "-10000"), ("-1", "-1000", "1000"))),
    "three-decimal price": (False, (("10000", "0.125", "1250.00"),)),
    "fractional krónur": (False, (("1", "1000.40", "1000.40"), ("3", "0.15", "0.45"))),
}
MOMENTS_TOTALS = {
    "credit, minus on the prices": Decimal("-10300.00"),
    "credit reversing a discount": Decimal("-9000.00"),
    "three-decimal price": Decimal("1250.00"),
    "fractional krónur": Decimal("1000.85"),
}


def _eligible(data: Dataset) -> list[int]:
    """Indexes of invoices dksync posts: final, sendable, customer and number not planted."""
    planted = set(data.planted.values())
    good = {
        c.id
        for c in data.customers
        if c.number not in planted and kennitala.check(c.kennitala).digits and len(c.number) <= 12
    }
    return [
        n
        for n, i in enumerate(data.invoices)
        if skip_reason(i) is None and str(i.number) not in planted and i.customer_id in good
    ]


def _with_lines(invoice: Invoice, credit: bool, amounts: Any) -> Invoice:
    base = replace(invoice.lines[0], discount_percent=Decimal(0), surcharge_percent=Decimal(0))

    def line(quantity: str, price: str, total: str | None) -> InvoiceLine:
        return replace(
            base,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            line_total=None if total is None else Decimal(total),
        )

    return replace(invoice, is_credit_note=credit, lines=tuple(line(*a) for a in amounts))


def _hostile_company(vat_clash: bool = False) -> tuple[Dataset, dict[str, str]]:
    """A small generated company with the hostile invoices planted (label → number); with
    ``vat_clash`` two more invoices use one new item code at 24 % and at 11 %."""
    data = generate(3, 12, 4, 24)
    labels: dict[str, str] = {}
    slots = iter(_eligible(data))
    for label, (credit, amounts) in HOSTILE.items():
        n = next(slots)
        data.invoices[n] = _with_lines(data.invoices[n], credit, amounts)
        labels[label] = str(data.invoices[n].number)
    if vat_clash:
        for label, rate in (("at 24 %", Decimal(24)), ("at 11 %", Decimal(11))):
            n = next(slots)
            invoice = _with_lines(data.invoices[n], False, (("1", "500", "500.00"),))
            clash = replace(invoice.lines[0], product_number="KLASH", vat_percent=rate)
            data.invoices[n] = replace(invoice, lines=(clash,))
            labels[label] = str(invoice.number)
    return data, labels


@pytest.fixture
def hostile() -> Iterator[tuple[Sandbox, dict[str, str]]]:
    data, labels = _hostile_company(vat_clash=True)
    with Sandbox(seed=3, dataset=data) as pair:
        yield pair, labels


def _sync(sb: Sandbox, tmp_path: Path, **dkplus: Any) -> RunReport:
    settings = config_for(sb, tmp_path / "state.sqlite", dkplus=dkplus)
    return engine.run(settings, engine.RunOptions(), connect(settings, policy=FAST_RETRIES))


def _reconcile(sb: Sandbox, tmp_path: Path) -> Result:
    settings = config_for(sb, tmp_path / "state.sqlite")
    dates = [i.invoice_date for i in sb.dataset.invoices]
    sources = connect(settings, FAST_RETRIES)
    return gather.run(settings, Period(min(dates), max(dates)), sources)


def _dk(sb: Sandbox, reference: str) -> dict[str, Any]:
    [found] = [i for i in sb.dkplus.snapshot()["invoices"] if i["Reference"] == reference]
    return found


def _posted_lines(sb: Sandbox) -> list[dict[str, Any]]:
    return [
        line
        for e in sb.dkplus.log
        if e.method == "POST" and e.path == INVOICE_POST
        for line in e.body["Lines"]
    ]


def _vat_clash_outcomes(report: RunReport, labels: dict[str, str]) -> dict[str, Any]:
    wanted = {labels["at 24 %"], labels["at 11 %"]}
    return {
        o.label: o for o in report.outcomes if o.object_type == "invoices" and o.label in wanted
    }


def test_under_a_vat_inclusive_default_dk_books_moments_totals(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sb, labels = hostile
    sb.dkplus.knobs.vat_inclusive_default = True
    report = _sync(sb, tmp_path)
    assert report.fatal is None
    lines = _posted_lines(sb)
    assert lines and all(line["IncludingVAT"] is False for line in lines)
    for label, total in MOMENTS_TOTALS.items():
        assert Decimal(_dk(sb, labels[label])["TotalAmount"]) == total, label
    for index in _eligible(sb.dataset):
        invoice = sb.dataset.invoices[index]
        if str(invoice.number) in (labels["at 24 %"], labels["at 11 %"]):
            continue
        booked = Decimal(_dk(sb, str(invoice.number))["TotalAmount"])
        assert booked == moments_total(invoice), invoice.number
    # the knob bites: the same body without the flag is booked as if VAT were in the price
    products = sb.dkplus.snapshot()["products"]
    body = next(
        e.body
        for e in sb.dkplus.log
        if e.method == "POST"
        and e.path == INVOICE_POST
        and all(products[x["ItemCode"].upper()]["TaxPercent"] == 24 for x in e.body["Lines"])
    )
    kept = Decimal(_dk(sb, body["Reference"])["TotalAmount"])
    unflagged = [{k: v for k, v in line.items() if k != "IncludingVAT"} for line in body["Lines"]]
    guessed = Decimal(sb.dkplus.add_invoice({**body, "Lines": unflagged})["TotalAmount"])
    assert abs(guessed - kept / Decimal("1.24")) <= len(unflagged) * Decimal("0.01")


def test_under_whole_kronur_a_lost_answer_is_adopted_and_reconcile_agrees(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sb, labels = hostile
    sb.dkplus.knobs.isk_whole_kronur = True
    sb.dkplus.knobs.fault_path = INVOICE_POST
    sb.dkplus.knobs.drop_rate = 1.0  # every POST lands in DK+, every answer is lost
    report = _sync(sb, tmp_path)  # lost answers settle after dkplus.settle (1 s here)
    assert report.fatal is None and sb.dkplus.faults.injected["drop"] > 0
    fractional = _dk(sb, labels["fractional krónur"])
    assert [Decimal(x["TotalAmount"]) for x in fractional["Lines"]] == [Decimal(1000), Decimal(0)]
    assert Decimal(fractional["TotalAmount"]) == 1000  # Moment: 1000.85
    assert [o for o in report.outcomes if o.code == "adopt_mismatch"] == []
    [outcome] = [o for o in report.outcomes if o.label == labels["fractional krónur"]]
    assert outcome.action is Action.CREATE and outcome.detail == "posted (confirmed by reference)"
    result = _reconcile(sb, tmp_path)
    assert all(p.kind is not ProblemKind.DIFFERS for p in result.problems), result.problems
    assert labels["fractional krónur"] not in {p.invoice for p in result.problems}
    assert result.matched >= len(MOMENTS_TOTALS)


@pytest.mark.parametrize("concurrency", [1, 8])
def test_one_item_code_is_booked_at_one_vat_rate_in_a_run(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path, concurrency: int
) -> None:
    sb, labels = hostile
    report = _sync(sb, tmp_path, concurrency=concurrency)
    clash = _vat_clash_outcomes(report, labels)
    actions = sorted(o.action.value for o in clash.values())
    assert actions == ["create", "reject"], clash
    [refused] = [o for o in clash.values() if o.action is Action.REJECT]
    [booked] = [o for o in clash.values() if o.action is Action.CREATE]
    rates = {labels["at 24 %"]: "24", labels["at 11 %"]: "11"}
    assert refused.code == "vat_mismatch"
    assert f"item code KLASH is at {rates[refused.label]} % VAT on this invoice" in refused.detail
    assert f"product KLASH, created in this run, is at {rates[booked.label]} %" in refused.detail
    assert "in Moment" in refused.detail
    product = sb.dkplus.snapshot()["products"]["KLASH"]
    assert str(product["TaxPercent"]) == rates[booked.label]


def test_a_dk_product_at_another_rate_rejects_the_line_naming_both(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sb, labels = hostile
    with sb.dkplus.lock:
        sb.dkplus.store.products["KLASH"] = {"ItemCode": "KLASH", "TaxPercent": Decimal(0)}
    report = _sync(sb, tmp_path)
    clash = _vat_clash_outcomes(report, labels)
    assert {o.action for o in clash.values()} == {Action.REJECT}
    detail = clash[labels["at 11 %"]].detail
    assert "item code KLASH is at 11 % VAT on this invoice, but DK+ product KLASH is at 0 %" in (
        detail
    )
    assert {labels["at 24 %"], labels["at 11 %"]}.isdisjoint(
        i["Reference"] for i in sb.dkplus.snapshot()["invoices"]
    )


def test_reconcile_shows_a_mapping_error_as_differs(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mapping that rounds the unit price first (the old bug): 10,000 × 0.125 booked as
    1,300 without a word. ``reconcile`` reads Moment's own total and says it differs."""
    sb, labels = hostile
    number = labels["three-decimal price"]
    index = next(n for n, i in enumerate(sb.dataset.invoices) if str(i.number) == number)
    invoice = sb.dataset.invoices[index]
    no_total = replace(invoice.lines[0], line_total=None)
    sb.moment.change("invoices", invoice.id, lambda i: replace(i, lines=(no_total,)))

    def rounded_first(price: Decimal, surcharge: Decimal) -> Decimal:
        return round_half_up(price * (1 + surcharge / 100))

    monkeypatch.setattr(invoice_mapping, "price_with_surcharge", rounded_first)
    _sync(sb, tmp_path)
    assert Decimal(_dk(sb, number)["TotalAmount"]) == Decimal("1300.00")
    problems = {p.invoice: p for p in _reconcile(sb, tmp_path).problems}
    assert problems[number].kind is ProblemKind.DIFFERS
    assert problems[number].detail == "total without VAT: Moment 1250.00, DK+ 1300.00"


def test_dk_answers_year_one_for_no_due_date_and_dksync_reads_it_as_none(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sb, _ = hostile
    _sync(sb, tmp_path)
    body = next(e.body for e in sb.dkplus.log if e.method == "POST" and e.path == INVOICE_POST)
    assert dk_date(_dk(sb, body["Reference"])["DueDate"]) is not None
    answer = requests.post(
        f"{sb.dkplus.url}/_sandbox/invoice",
        json=json.loads(jsonio.dumps({k: v for k, v in body.items() if k != "DueDate"})),
        timeout=5,
    ).json()
    assert answer["DueDate"] == "0001-01-01T00:00:00" and dk_date(answer["DueDate"]) is None


def test_a_dk_product_that_does_not_say_its_rate_takes_the_first_use_of_the_run(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sb, labels = hostile
    with sb.dkplus.lock:
        sb.dkplus.store.products["KLASH"] = {"ItemCode": "KLASH"}
    report = _sync(sb, tmp_path, concurrency=1)
    clash = _vat_clash_outcomes(report, labels)
    assert sorted(o.action.value for o in clash.values()) == ["create", "reject"]
    [refused] = [o for o in clash.values() if o.action is Action.REJECT]
    assert "product KLASH, as used earlier in this run, is at" in refused.detail
    created = [e.body["ItemCode"] for e in sb.dkplus.log if e.path == "/api/v1/Product"]
    assert created and "KLASH" not in created


def test_reconcile_numbers_customers_as_the_config_does(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    """Under ``customers.number_from: kennitala`` DK+ holds the kennitala as the customer
    number: reconcile puts Moment's invoice customer through the same numbering."""
    sb, _ = hostile
    settings = config_for(sb, tmp_path / "state.sqlite", customers={"number_from": "kennitala"})
    engine.run(settings, engine.RunOptions(), connect(settings, policy=FAST_RETRIES))
    numbers = {i["CNumber"] for i in sb.dkplus.snapshot()["invoices"]}
    assert numbers and all(len(n) == 10 and n.isdigit() for n in numbers)
    dates = [i.invoice_date for i in sb.dataset.invoices]
    result = gather.run(settings, Period(min(dates), max(dates)), connect(settings, FAST_RETRIES))
    assert result.matched >= len(MOMENTS_TOTALS)
    assert [p for p in result.problems if p.kind is not ProblemKind.MISSING] == []


def test_reconcile_follows_customers_link(
    hostile: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    """Invoices of a linked Moment customer are in DK+ under the linked DK+ number:
    reconcile names them by that number too, so they agree."""
    sb, _ = hostile
    held = sb.kennitala_numbered(every=2)
    settings = config_for(sb, tmp_path / "state.sqlite", customers={"link": held})
    engine.run(settings, engine.RunOptions(), connect(settings, policy=FAST_RETRIES))
    linked = {i["CNumber"] for i in sb.dkplus.snapshot()["invoices"]} & set(held.values())
    assert linked, "some invoices went to a linked DK+ customer"
    dates = [i.invoice_date for i in sb.dataset.invoices]
    result = gather.run(settings, Period(min(dates), max(dates)), connect(settings, FAST_RETRIES))
    assert [p for p in result.problems if p.kind is not ProblemKind.MISSING] == []


def test_a_currency_is_booked_as_its_iso_code_or_rejected(tmp_path: Path) -> None:
    """Moment's ``isk`` is the company's ISK, not a foreign currency of that name; a
    currency that is no ISO 4217 code (``ÍSK``) is rejected, never posted as it is."""
    data = generate(3, 12, 4, 24)
    slots = iter(_eligible(data))
    lower, odd = next(slots), next(slots)
    data.invoices[lower] = replace(data.invoices[lower], currency="isk")
    data.invoices[odd] = replace(data.invoices[odd], currency="ÍSK")
    with Sandbox(seed=3, dataset=data) as sb:
        report = _sync(sb, tmp_path)
        assert report.fatal is None
        booked = _dk(sb, str(data.invoices[lower].number))
        assert booked["Currency"] == "ISK"
        assert str(data.invoices[odd].number) not in {
            i["Reference"] for i in sb.dkplus.snapshot()["invoices"]
        }
        label = str(data.invoices[odd].number)
        [outcome] = [o for o in report.outcomes if o.object_type == "invoices" and o.label == label]
        assert outcome.action is Action.REJECT and outcome.code == "invalid_data"
        assert "ÍSK" in (outcome.detail or "")
        result = _reconcile(sb, tmp_path)
        assert str(data.invoices[lower].number) not in {p.invoice for p in result.problems}


def test_a_vat_percent_outside_0_to_100_is_invalid_data_not_a_mismatch(tmp_path: Path) -> None:
    """-24 or 240 % is Moment's data that is wrong: the invoice is rejected as invalid
    data naming the line's VAT percent, no product is made at that rate, and an invoice at
    24 % on the same item code is booked (it clashes with nothing)."""
    data = generate(3, 12, 4, 24)
    slots, numbers = iter(_eligible(data)), {}
    for rate in ("-24", "240", "24"):
        n = next(slots)
        invoice = _with_lines(data.invoices[n], False, (("1", "500", "500.00"),))
        line = replace(invoice.lines[0], product_number="BADVAT", vat_percent=Decimal(rate))
        data.invoices[n] = replace(invoice, lines=(line,))
        numbers[str(invoice.number)] = rate
    with Sandbox(seed=3, dataset=data) as sb:
        report = _sync(sb, tmp_path)
        outcomes = {o.label: o for o in report.outcomes if o.label in numbers}
        for number, rate in numbers.items():
            outcome = outcomes[number]
            if rate == "24":
                assert outcome.action is Action.CREATE, outcome
                continue
            assert (outcome.action, outcome.code) == (Action.REJECT, "invalid_data"), outcome
            assert f"line 1: VAT percent {rate} is not between 0 and 100 %" in outcome.detail
        assert str(sb.dkplus.snapshot()["products"]["BADVAT"]["TaxPercent"]) == "24"
        booked = {i["Reference"] for i in sb.dkplus.snapshot()["invoices"]}
        assert {n for n, r in numbers.items() if r != "24"}.isdisjoint(booked)
