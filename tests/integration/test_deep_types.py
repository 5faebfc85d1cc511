"""Answers of the right shape with the wrong type deep inside, through whole runs over real
HTTP: a number written as a string past every bound, an enum field holding a list. Each
ends its own record with a reason naming the field; the others are synced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dksync.outcome import Action, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.conftest import FAST_RETRIES, config_for
from tests.integration.test_hostile_answers import unaccounted


def _run(sb: Sandbox, state: Path) -> RunReport:
    from dksync.clients import connect
    from dksync.sync import run as engine
    from dksync.sync.context import RunOptions

    settings = config_for(sb, state)
    return engine.run(settings, RunOptions(), connect(settings, policy=FAST_RETRIES))


def _rejected(report: RunReport, kind: str) -> dict[int, str]:
    return {
        o.moment_id: o.detail
        for o in report.outcomes
        if o.object_type == kind and o.action is Action.REJECT
    }


def _first_line_with(sb: Sandbox, ident: int, key: str, value: Any) -> dict[str, Any]:
    lines = sb.moment.raw("invoices", ident)["lines"]
    lines[0][key] = value
    return {"lines": lines}


@pytest.mark.parametrize(
    ("kind", "edit", "named"),
    [
        ("customers", lambda sb, i: {"creditDays": "1E+5000"}, "'creditDays'"),
        ("invoices", lambda sb, i: {"invoiceNumber": "1E+5000"}, "'invoiceNumber'"),
        (
            "invoices",
            lambda sb, i: _first_line_with(sb, i, "quantity", "1E+99999"),
            "'lines[0].quantity'",
        ),
        ("invoices", lambda sb, i: {"invoiceState": ["finalized"]}, "'invoiceState'"),
        ("invoices", lambda sb, i: {"invoiceType": {"code": "invoice"}}, "'invoiceType'"),
    ],
)
def test_a_wrong_type_deep_inside_ends_its_record_naming_the_field(
    tmp_path: Path, kind: str, edit: Any, named: str
) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        victim = getattr(sb.dataset, kind)[0]
        sb.moment.patch_raw(kind, victim.id, edit(sb, victim.id))
        report = _run(sb, tmp_path / "state.sqlite")
        assert report.fatal is None, report.fatal
        rejected = _rejected(report, kind)
        assert list(rejected) == [victim.id], rejected
        detail = rejected[victim.id]
        assert named in detail and "Moment data is malformed" in detail, detail
        assert "DK+" not in detail, detail  # the parse failed: no DK+ request is to blame
        created = {o.moment_id for o in report.outcomes if o.action is Action.CREATE}
        others = {r.id for r in getattr(sb.dataset, kind)} - {victim.id}
        assert others <= created  # the others of its kind are written in the same run
        assert unaccounted(sb, tmp_path / "state.sqlite") == []


@pytest.mark.parametrize(
    ("kind", "stamp"),
    [("invoices", "9999-12-31T23:59:59-05:00"), ("customers", "0001-01-01T00:00:00+05:00")],
)
def test_a_record_stamped_at_the_end_of_the_calendar_is_rejected_alone(
    tmp_path: Path, kind: str, stamp: str
) -> None:
    """Its time cannot be moved to UTC: it was an OverflowError in the read (and in the
    sandbox's own filter); now the record is rejected naming the field, the others go on."""
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        victim = getattr(sb.dataset, kind)[0]
        sb.moment.put_raw(kind, {**sb.moment.raw(kind, victim.id), "lastModifiedDate": stamp})
        report = _run(sb, tmp_path / "state.sqlite")
        assert report.fatal is None, report.fatal
        rejected = _rejected(report, kind)
        assert list(rejected) == [victim.id], rejected
        assert (
            f"'lastModifiedDate' should be an ISO-8601 time, got {stamp!r}" in rejected[victim.id]
        )
        assert unaccounted(sb, tmp_path / "state.sqlite") == []


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z"])
def test_a_since_or_start_from_at_the_end_of_the_calendar_is_a_usage_or_config_error(
    tmp_path: Path, stamp: str
) -> None:
    from typer.testing import CliRunner

    from dksync.cli import app
    from tests.helpers import config_file

    runner = CliRunner()
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        since = runner.invoke(
            app, ["run", "--dry-run", "--since", stamp, "-c", str(config_file(sb, tmp_path))]
        )
        assert since.exit_code == 2 and "--since" in since.output, since.output
        config = config_file(sb, tmp_path, sync={"start_from": stamp})
        start = runner.invoke(app, ["run", "--dry-run", "-c", str(config)])
        assert start.exit_code == 4 and "sync.start_from" in start.output, start.output
        assert isinstance(since.exception, SystemExit), since.exception  # no traceback
        assert isinstance(start.exception, SystemExit), start.exception


def _references(sb: Sandbox) -> dict[str, list[int]]:
    held: dict[str, list[int]] = {}
    for number, invoice in sb.dkplus.store.invoices.items():
        held.setdefault(str(invoice.get("Reference")), []).append(int(number))
    return held


@pytest.mark.parametrize(
    "answered",
    [
        '{"Message": "Villa", "Number": 0}',
        '{"Number": true}',
        '{"Number": [90001]}',
        '{"Number": 1.5}',
        '{"Number": "0"}',
        '{"Number": " "}',
        '{"Number": {"Value": 90001}}',
    ],
)
@pytest.mark.parametrize("booked", [False, True])
def test_an_invoice_post_answered_without_an_invoice_number_is_settled_by_reference(
    tmp_path: Path, answered: str, booked: bool
) -> None:
    """A 2xx whose ``Number`` is no invoice number (an error object, 0, a list): it was taken
    as posted, under DK+ number 0 or none. When DK+ had not booked it, the invoice was
    lost (never sent again). Now the POST is uncertain: looked up by reference, adopted
    when there, else posted again; the state holds DK+'s real number."""
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        sb.dkplus.knobs.rewrites = [
            {
                "method": "POST",
                "path": "^/api/v1/sales/invoice$",
                "answer": f"merge:{answered}",
                "write": booked,
                "times": 1,
            }
        ]
        state_path = tmp_path / "state.sqlite"
        settings = config_for(sb, state_path, dkplus={"settle": 0.1})
        from dksync.clients import connect
        from dksync.sync import run as engine
        from dksync.sync.context import RunOptions

        report = engine.run(settings, RunOptions(), connect(settings, policy=FAST_RETRIES))
        assert report.fatal is None and report.exit_code == 0, report.outcomes
        assert unaccounted(sb, state_path) == []
        held = _references(sb)
        state = State.open(state_path)
        try:
            for invoice in sb.dataset.invoices:
                row = state.invoice(invoice.id)
                assert row is not None and row.status == "posted"
                assert held[str(invoice.number)] == [row.dk_number], (invoice.number, row)
        finally:
            state.close()


@pytest.mark.parametrize("knob", ["", "isk_whole_kronur", "vat_inclusive_default"])
def test_a_booked_total_other_than_sent_is_said_at_once_and_never_sent_again(
    tmp_path: Path, knob: str
) -> None:
    """DK+ answers the booked invoice with its TotalAmount: one far from what was sent
    (as DK keeps amounts, ISK in whole krónur) was a plain 'created', found first by a
    month-end reconcile. Now the run warns naming both totals; DK+'s own rounding does not."""
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        if knob:
            setattr(sb.dkplus.knobs, knob, True)
        state_path = tmp_path / "state.sqlite"
        assert _run(sb, state_path).warnings == []  # DK's own rounding is no difference
        victim = sb.dataset.invoices[0]
        sb.moment.put_raw(
            "invoices",
            {**sb.moment.raw("invoices", victim.id), "id": 999_001, "invoiceNumber": 7001},
        )
        sb.moment.patch_raw("invoices", 999_001, {})
        sb.dkplus.knobs.rewrites = [
            {
                "method": "POST",
                "path": "^/api/v1/sales/invoice$",
                "answer": 'merge:{"TotalAmount": 1}',
                "write": True,
            }
        ]
        report = _run(sb, state_path)
        assert report.exit_code == 0 and len(report.warnings) == 1, report.warnings
        assert report.warnings[0].startswith("invoice 7001: DK+ booked it as invoice ")
        assert " at 1 without VAT, but Moment billed " in report.warnings[0]
        sb.dkplus.knobs.rewrites = []
        again = _run(sb, state_path)
        assert again.count("invoices", Action.CREATE) == 0 and again.warnings == []
        assert _references(sb)["7001"] and len(_references(sb)["7001"]) == 1


@pytest.mark.parametrize("total", ["1E+999999999", "NaN", "1e-999999999"])
def test_a_dk_total_past_every_bound_is_dk_s_mismatch_not_moment_s_bad_number(
    tmp_path: Path, total: str
) -> None:
    """An invoice DK+ already holds (booked by another system) with TotalAmount
    "1E+999999999": it was rejected as 'holds a number that cannot be an amount (Overflow):
    fix it in Moment'. It is adopt_mismatch, naming DK+'s total."""
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        state_path = tmp_path / "state.sqlite"
        _run_only(sb, state_path, ("customers", "projects"))
        invoice = sb.dataset.invoices[0]
        sb.dkplus.store.products["X"] = {"ItemCode": "X", "TaxPercent": 24}
        line = {"ItemCode": "X", "Quantity": 1, "Price": 1, "IncludingVAT": False}
        booked = sb.dkplus.add_invoice(
            {
                "Customer": {"Number": str(invoice.customer_number)},
                "SalesPerson": "SALA1",
                "Reference": str(invoice.number),
                "Date": invoice.invoice_date.isoformat(),
                "Lines": [line],
            }
        )
        sb.dkplus.edit_invoice(booked["Number"], {"TotalAmount": total})
        report = _run(sb, state_path)
        rejected = {o.moment_id: o for o in report.with_action(Action.REJECT)}
        assert rejected[invoice.id].code == "adopt_mismatch", rejected[invoice.id].detail
        assert f"total {total}" in rejected[invoice.id].detail
        assert "fix it in Moment" not in rejected[invoice.id].detail


def _run_only(sb: Sandbox, state: Path, kinds: tuple[str, ...]) -> RunReport:
    from dksync.clients import connect
    from dksync.sync import run as engine
    from dksync.sync.context import RunOptions

    settings = config_for(sb, state)
    return engine.run(settings, RunOptions(only=kinds), connect(settings, policy=FAST_RETRIES))


@pytest.mark.parametrize("ident", [0, -7])
def test_two_invoices_under_an_id_that_is_no_id_are_both_rejected_never_one_drift(
    tmp_path: Path, ident: int
) -> None:
    """Two Moment invoices (7001, 7002) both under id 0 (or -7): the first was posted and
    the second reported as its 'drift' (number 7001 -> 7002), exit 0, never posted. An id
    that is not positive is no id: both are rejected, naming it."""
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        for slot, (invoice, number) in enumerate(
            zip(sb.dataset.invoices[:2], (7001, 7002), strict=True)
        ):
            raw = {**sb.moment.raw("invoices", invoice.id), "id": ident, "invoiceNumber": number}
            sb.moment.delete("invoices", invoice.id)
            sb.moment.objects["invoices"][10**9 + slot] = raw  # the store's key is not the id
        report = _run(sb, tmp_path / "state.sqlite")
        rejected = {o.label: o.detail for o in report.with_action(Action.REJECT)}
        assert set(rejected) >= {"7001", "7002"}, rejected
        assert all(
            "'id' should be a positive whole number" in rejected[n] for n in ("7001", "7002")
        )
        assert report.with_action(Action.DRIFT) == []
        assert not {"7001", "7002"} & set(_references(sb))
