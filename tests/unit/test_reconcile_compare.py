"""The reconciliation's pure judgement: unit tests per rule, properties over generated books."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync.errors import MalformedListing
from dksync.reconcile.compare import (
    Booked,
    Expected,
    ProblemKind,
    booked,
    expected,
    reconcile,
)
from tests.unit.test_mapping import INVOICE, LINE

WANT = Expected("1001", "10001", date(2026, 11, 1), "ISK", Decimal("187312.50"), 1, "never sent")
HAVE = Booked("90001", "1001", "10001", date(2026, 11, 1), "ISK", Decimal("187312.50"))


def test_expected_is_moments_own_numbers() -> None:
    assert expected(INVOICE, "10001", "ISK", "never sent") == WANT
    without = replace(LINE, line_total=None)
    assert expected(replace(INVOICE, lines=(without,)), "10001", "ISK", "x").total == WANT.total


def test_expected_does_not_come_from_the_mapping() -> None:
    """A line Moment totals at +1000 whatever its quantity and price say, and a credit note
    whose quantity disagrees with its line total: Moment's line totals, as Moment signs
    them, not what a mapping makes of them."""
    reversal = replace(LINE, quantity=Decimal(-1), unit_price=Decimal(-1000))
    reversal = replace(reversal, line_total=Decimal(1000), surcharge_percent=Decimal(0))
    reversal = replace(reversal, discount_percent=Decimal(0))
    want = expected(replace(INVOICE, lines=(LINE, reversal)), "10001", "ISK", "x")
    assert want.total == Decimal("188312.50") and want.lines == 2
    credit = replace(INVOICE, is_credit_note=True, lines=(replace(LINE, quantity=Decimal(2)),))
    credited = expected(credit, "10001", "isk", "x")
    assert credited.total == Decimal("187312.50") and credited.currency == "ISK"


def test_an_invoice_without_usable_amounts_is_unreadable_never_matched() -> None:
    """Issue 17: what cannot be compared whole never counts as agreeing; what can be
    compared (date, currency) is still named."""
    broken = replace(LINE, line_total=None, unit_price=Decimal("NaN"))
    want = expected(replace(INVOICE, lines=(broken,)), None, "ISK", "rejected by dksync: x")
    assert want.total is None and want.customer is None and want.invoice_date == date(2026, 11, 1)
    other = replace(HAVE, customer="77777", total=Decimal(1))
    (problem,) = reconcile([want], [other]).problems
    assert problem.kind is ProblemKind.UNREADABLE and "no usable amount" in problem.detail
    assert reconcile([want], [other]).matched == 0
    (problem,) = reconcile([want], [replace(other, currency="EUR")]).problems
    assert problem.detail.endswith("currency: Moment ISK, DK+ EUR")
    (problem,) = reconcile([want], []).problems
    assert problem.kind is ProblemKind.MISSING


def test_one_equal_copy_matches() -> None:
    assert reconcile([WANT], [HAVE]) == reconcile([WANT], [HAVE, replace(HAVE, reference="9")])
    assert reconcile([WANT], [HAVE]).matched == 1 and not reconcile([WANT], [HAVE]).problems


def test_missing_says_why() -> None:
    (problem,) = reconcile([WANT], [replace(HAVE, reference="1002")]).problems
    assert (problem.kind, problem.invoice, problem.dk_numbers, problem.detail) == (
        ProblemKind.MISSING,
        "1001",
        (),
        "never sent",
    )


def test_duplicates_list_every_number_in_order() -> None:
    copies = [replace(HAVE, number=n) for n in ("90010", "90002", "100")]
    (problem,) = reconcile([WANT], copies).problems
    assert problem.kind is ProblemKind.DUPLICATE
    assert problem.dk_numbers == ("100", "90002", "90010")


def test_differs_names_each_field_with_both_values() -> None:
    other = Booked("90001", "1001", "10002", date(2026, 11, 2), "EUR", Decimal("187000"))
    (problem,) = reconcile([WANT], [other]).problems
    assert problem.kind is ProblemKind.DIFFERS and problem.dk_numbers == ("90001",)
    assert problem.detail == (
        "customer number: Moment 10001, DK+ 10002; invoice date: Moment 2026-11-01, DK+ "
        "2026-11-02; currency: Moment ISK, DK+ EUR; total without VAT: Moment 187312.50, "
        "DK+ 187000"
    )


@pytest.mark.parametrize(
    ("currency", "lines", "delta", "agree"),
    [
        ("ISK", 1, "0.50", True),
        ("ISK", 1, "-1", True),
        ("ISK", 1, "1.01", False),
        ("ISK", 3, "-3", True),
        ("ISK", 3, "3.5", False),
        ("EUR", 1, "0.01", True),
        ("EUR", 1, "0.02", False),
        ("EUR", 3, "0.03", True),
        ("EUR", 3, "-0.04", False),
    ],
)
def test_totals_agree_as_dk_keeps_them(currency: str, lines: int, delta: str, agree: bool) -> None:
    want = replace(WANT, lines=lines, currency=currency)
    have = replace(HAVE, total=HAVE.total + Decimal(delta) if HAVE.total else None)
    assert (reconcile([want], [replace(have, currency=currency)]).matched == 1) is agree


def test_dk_s_no_date_is_none() -> None:
    raw = {"Number": 1, "Reference": "1001", "InvoiceDate": "0001-01-01T00:00:00"}
    assert booked(raw, "ISK").invoice_date is None


def test_listed_invoices_are_read_strictly() -> None:
    raw = {
        "Number": 90001,
        "Reference": 1001,
        "CNumber": "10001",
        "InvoiceDate": "2026-11-01T00:00:00",
        "TotalAmount": "187312.5",
    }
    assert booked(raw, "isk") == replace(HAVE, total=Decimal("187312.5"))
    assert booked({**raw, "TotalAmount": None}, "ISK").total is None
    for broken in (
        {"Reference": "1"},
        {**raw, "Number": True},
        {**raw, "InvoiceDate": "yesterday"},
        {**raw, "TotalAmount": "lots"},
        {**raw, "TotalAmount": "NaN"},
        {**raw, "TotalAmount": False},
        {**raw, "TotalAmount": "1E+999999999"},  # passed, then overflowed the comparison
        {**raw, "TotalAmount": "9" * 60},
        {**raw, "Reference": ["1001"]},
    ):
        with pytest.raises(MalformedListing):
            booked(broken, "ISK")


def test_a_copy_without_a_total_differs() -> None:
    (problem,) = reconcile([WANT], [replace(HAVE, total=None)]).problems
    assert problem.detail == "total without VAT: Moment 187312.50, DK+ (none)"


money = st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False)


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Expected], list[Booked]]:
    """Distinct Moment invoices and, for each, 0, 1 or 2 DK+ copies, some altered."""
    numbers = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=25))
    wanted, listed, serial = [], [], 0
    for number in numbers:
        want = Expected(
            str(number),
            draw(st.sampled_from(["10001", "10002"])),
            date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 30))),
            "ISK",
            draw(money),
            draw(st.integers(1, 5)),
            "never sent",
        )
        wanted.append(want)
        for _ in range(draw(st.integers(0, 2))):
            serial += 1
            copy = Booked(
                str(serial), want.invoice, want.customer, want.invoice_date, "ISK", want.total
            )
            if draw(st.booleans()):
                copy = replace(copy, total=(want.total or 0) + draw(money))
            listed.append(copy)
    return wanted, listed


@given(books())
def test_each_moment_invoice_is_matched_or_has_exactly_one_problem(
    data: tuple[list[Expected], list[Booked]],
) -> None:
    wanted, listed = data
    result = reconcile(wanted, listed)
    assert result.matched + len(result.problems) == len(wanted)
    assert len({p.invoice for p in result.problems}) == len(result.problems)
    copies: dict[str, list[Booked]] = {}
    for item in listed:
        copies.setdefault(item.reference, []).append(item)
    for problem in result.problems:
        found = copies.get(problem.invoice, [])
        kind = {0: ProblemKind.MISSING, 1: ProblemKind.DIFFERS}.get(
            len(found), ProblemKind.DUPLICATE
        )
        assert problem.kind is kind
        assert problem.dk_numbers == tuple(sorted((b.number for b in found), key=int))


@given(books())
def test_dk_holding_exactly_what_was_sent_agrees(data: tuple[list[Expected], list[Booked]]) -> None:
    wanted, _ = data
    exact = [
        Booked(str(n), w.invoice, w.customer, w.invoice_date, w.currency, w.total)
        for n, w in enumerate(wanted)
    ]
    result = reconcile(wanted, exact)
    assert result.matched == len(wanted) and result.problems == ()


@given(books(), st.lists(st.integers(10**7, 10**8), max_size=5))
def test_dk_invoices_of_no_moment_invoice_change_nothing(
    data: tuple[list[Expected], list[Booked]], strangers: list[int]
) -> None:
    wanted, listed = data
    extra = [replace(HAVE, number=f"X{n}", reference=str(n)) for n in strangers]
    assert reconcile(wanted, listed + extra) == reconcile(wanted, listed)


@given(money, st.integers(1, 20), st.integers(-3000, 3000), st.sampled_from(["ISK", "EUR"]))
def test_the_tolerance_is_a_krona_or_a_cent_per_line(
    total: Decimal, lines: int, cents: int, currency: str
) -> None:
    want = replace(WANT, total=total, lines=lines, currency=currency)
    have = replace(HAVE, total=total + Decimal(cents) / 100, currency=currency)
    per_line = 100 if currency == "ISK" else 1
    assert (reconcile([want], [have]).matched == 1) is (abs(cents) <= lines * per_line)
