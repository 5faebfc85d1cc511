"""The money rules (issue 18): Moment's own signs and totals, unrounded unit prices, one
rounding, one VAT rate per item code, amounts compared as DK keeps them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, localcontext
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dksync.mapping import Mapped, Rejected
from dksync.mapping.customers import CustomerRules
from dksync.mapping.invoices import map_invoice
from dksync.mapping.money import (
    EXACT,
    amount_problem,
    amounts_agree,
    is_amount,
    line_total,
    price_with_surcharge,
    round_half_up,
)
from dksync.reconcile.compare import moments_total
from dksync.records import InvoiceLine
from dksync.sandbox import schema
from tests.unit.test_mapping import ACCOUNTS, CUSTOMER, INVOICE, LINE, RULES

PLAIN = replace(LINE, discount_percent=Decimal(0), surcharge_percent=Decimal(0), line_total=None)


def _lines(*lines: InvoiceLine, credit: bool = False) -> list[dict[str, Any]]:
    invoice = replace(INVOICE, lines=lines, is_credit_note=credit)
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    assert isinstance(result, Mapped), result
    assert schema.errors("InvoiceCreate", result.payload) == []
    booked: list[dict[str, Any]] = result.payload["Lines"]
    return booked


def _line(quantity: str, price: str, total: str | None = None, **more: Any) -> InvoiceLine:
    return replace(
        PLAIN,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        line_total=None if total is None else Decimal(total),
        **more,
    )


def test_every_line_says_its_price_is_without_vat() -> None:
    assert all(x["IncludingVAT"] is False for x in _lines(PLAIN, _line("2", "10")))


def test_credit_note_with_positive_quantities_and_negative_prices_is_negative() -> None:
    booked = _lines(_line("2", "-5000"), _line("1", "-300"), credit=True)
    assert [x["Total"] for x in booked] == [Decimal("-10000.00"), Decimal("-300.00")]
    assert [x["Quantity"] for x in booked] == [Decimal(-2), Decimal(-1)]
    assert all(x["Price"] > 0 for x in booked)


def test_credit_note_without_a_minus_is_refused_not_guessed() -> None:
    invoice = replace(INVOICE, is_credit_note=True, lines=(_line("2", "5000", "10000"),))
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    assert isinstance(result, Rejected)
    assert "credit note 1001 adds up to +10000.00 without VAT" in result.message
    assert "book it in DK+ by hand" in result.message


def test_credit_line_reversing_a_discount_is_booked_as_moment_says() -> None:
    booked = _lines(
        _line("-2", "5000", "-10000"),
        _line("-1", "-1000", "1000"),
        credit=True,
    )
    assert [x["Total"] for x in booked] == [Decimal("-10000.00"), Decimal("1000.00")]
    assert booked[1]["Quantity"] == 1 and booked[1]["Price"] == 1000


def test_moment_line_total_decides_the_sign_on_an_invoice_too() -> None:
    booked = _lines(_line("-1", "-1000", "-1000"), _line("3", "100", "300"))
    assert [x["Total"] for x in booked] == [Decimal("-1000.00"), Decimal("300.00")]
    assert booked[0]["Quantity"] == -1 and booked[0]["Price"] == 1000


def test_unit_price_keeps_its_decimals_and_the_total_is_rounded_once() -> None:
    booked = _lines(_line("10000", "0.125", "1250.00"), _line("3", "0.333"))
    assert booked[0]["Price"] == Decimal("0.125") and booked[0]["Total"] == Decimal("1250.00")
    assert booked[1]["Total"] == Decimal("1.00")  # 0.999 rounded once, not 3 × 0.33
    assert str(booked[0]["Price"]) == "0.125"


def test_surcharge_is_folded_into_the_price_without_rounding() -> None:
    assert price_with_surcharge(Decimal("0.125"), Decimal("12.5")) == Decimal("0.140625")
    assert str(price_with_surcharge(Decimal("18500.00"), Decimal(50))) == "27750.00"


def test_a_total_moment_did_not_compute_is_refused_in_moments_terms() -> None:
    invoice = replace(INVOICE, lines=(_line("10000", "0.125", "1300.00"),))
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    assert isinstance(result, Rejected)
    assert "is 1250.00 in amount, Moment's line total is 1300.00" in result.message


def test_more_than_ten_decimals_is_refused_not_rounded() -> None:
    invoice = replace(INVOICE, lines=(_line("1", "0.12345678901"),))
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    assert isinstance(result, Rejected) and "more than 10 decimals" in result.message


def test_one_item_code_at_two_vat_rates_in_one_invoice_is_refused() -> None:
    invoice = replace(
        INVOICE, lines=(PLAIN, replace(PLAIN, product_number="radgjof", vat_percent=Decimal(11)))
    )
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    assert isinstance(result, Rejected)
    assert "item code radgjof is at 11 % VAT but at 24 % on line 1" in result.message
    assert "a DK+ product has one VAT rate" in result.message


def test_isk_agrees_to_a_krona_a_line_other_currencies_to_a_cent() -> None:
    assert amounts_agree(Decimal("1000.50"), Decimal("1001"), "ISK", 1)
    assert amounts_agree(Decimal("1000.50"), Decimal("1002"), "isk", 2)
    assert not amounts_agree(Decimal("1000.50"), Decimal("1002"), "ISK", 1)
    assert amounts_agree(Decimal("10.50"), Decimal("10.51"), "EUR", 1)
    assert not amounts_agree(Decimal("10.50"), Decimal("10.52"), "EUR", 1)


# --- the property ---------------------------------------------------------------------


def _amount(places: int, top: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(0),
        max_value=Decimal(top),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


@st.composite
def signed_lines(draw: st.DrawFn) -> tuple[InvoiceLine, int]:
    """A line in any sign convention, with Moment's own total (or none), and the sign of
    the amount Moment means (+1 or -1)."""
    quantity = draw(st.integers(0, 4).flatmap(lambda p: _amount(p, 5000)))
    price = draw(st.integers(0, 6).flatmap(lambda p: _amount(p, 100000)))
    discount = draw(st.sampled_from([Decimal(0), Decimal(5), Decimal("12.5"), Decimal(100)]))
    surcharge = draw(st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5")]))
    meant = draw(st.sampled_from([1, -1]))
    on_quantity = draw(st.sampled_from(["quantity", "price", "both"]))
    if on_quantity == "quantity":
        quantity, price = meant * quantity, price
    elif on_quantity == "price":
        quantity, price = quantity, meant * price
    else:  # both negative, or both positive: the product is positive whatever Moment means
        quantity, price = -quantity, -price
    exact = abs(quantity * price) * (1 + surcharge / 100) * (1 - discount / 100)
    total = meant * round_half_up(exact)
    sent = draw(st.sampled_from([total, None])) if on_quantity != "both" else total
    line = InvoiceLine(
        "x", quantity, price, discount, surcharge, Decimal(24), sent, None, "P1", "P1", None
    )
    return line, meant


@given(st.lists(signed_lines(), min_size=1, max_size=5), st.booleans())
def test_booked_line_totals_are_moments_rounded_once(
    drawn: list[tuple[InvoiceLine, int]], credit: bool
) -> None:
    wanted = [_moments_total(line, meant) for line, meant in drawn]
    invoice = replace(INVOICE, lines=tuple(line for line, _ in drawn), is_credit_note=credit)
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    if credit and sum(wanted) > 0:  # a credit note that adds up to more than zero
        assert isinstance(result, Rejected) and "credit note" in result.message
        return
    assert isinstance(result, Mapped), result
    booked = result.payload["Lines"]
    assert [out["Total"] for out in booked] == wanted
    for (line, _), out in zip(drawn, booked, strict=True):
        assert line_total(out["Quantity"], out["Price"], out["Discount"]) == out["Total"]
        assert out["Price"] == abs(line.unit_price) * (1 + line.surcharge_percent / 100)
        assert out["Price"] >= 0 and out["IncludingVAT"] is False
    assert schema.errors("InvoiceCreate", result.payload) == []


def _moments_total(line: InvoiceLine, meant: int) -> Decimal:
    """Moment's line total when it sent one; else its formula, rounded once, with the sign
    Moment means (a line without a total carries it on its quantity or its price)."""
    if line.line_total is not None:
        return line.line_total
    exact = abs(line.quantity * line.unit_price)
    exact *= (1 + line.surcharge_percent / 100) * (1 - line.discount_percent / 100)
    return meant * round_half_up(exact)


@given(st.lists(signed_lines(), min_size=1, max_size=5), st.booleans())
def test_what_is_booked_adds_up_to_what_reconcile_expects(
    drawn: list[tuple[InvoiceLine, int]], credit: bool
) -> None:
    """Two independent readings of Moment's amounts, the mapping's and reconcile's, agree
    to the cent on every invoice dksync sends."""
    invoice = replace(INVOICE, lines=tuple(line for line, _ in drawn), is_credit_note=credit)
    result = map_invoice(invoice, CUSTOMER, ACCOUNTS, CustomerRules(), RULES)
    if isinstance(result, Mapped):
        booked = sum((x["Total"] for x in result.payload["Lines"]), Decimal(0))
        assert booked == moments_total(invoice)
    else:
        assert credit and (moments_total(invoice) or 0) > 0


AMOUNTS = (
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(-(10**16), 10**16),
        st.integers(-16, 16),
    )
    | st.sampled_from([Decimal("1.000000000000"), Decimal("0E-50"), Decimal("1E+3")])
)


@given(AMOUNTS, st.booleans())
def test_the_quick_amount_check_is_amount_problems_answer(value: Decimal, percent: bool) -> None:
    assert is_amount(value, percent=percent) is (
        amount_problem(value, "x", percent=percent) is None
    )


def _in_exact(compute: Any) -> Any:
    """The arithmetic as it was written before EXACT's methods: operators inside
    ``localcontext(EXACT)``; its value, or the class of what it raised."""
    try:
        with localcontext(EXACT):
            return compute()
    except ArithmeticError as exc:
        return type(exc)


def _raised(compute: Any) -> Any:
    try:
        return compute()
    except ArithmeticError as exc:
        return type(exc)


@given(AMOUNTS, AMOUNTS, AMOUNTS)
def test_the_arithmetic_is_what_the_operators_in_exact_gave(
    quantity: Decimal, price: Decimal, percent: Decimal
) -> None:
    """The same values, the same exponents and the same errors, whatever Moment sends."""

    def old_plain(value: Decimal) -> Decimal:
        with localcontext(EXACT):
            exponent = value.normalize().as_tuple().exponent
            places = max(2, -exponent) if isinstance(exponent, int) and value else 2
            return value.quantize(Decimal(1).scaleb(-places))

    old_price = _in_exact(lambda: old_plain(price * (1 + percent / 100)))
    new_price = _raised(lambda: price_with_surcharge(price, percent))
    assert str(new_price) == str(old_price)
    old_exact = _in_exact(lambda: quantity * price * (1 - percent / 100))
    old_total = (
        old_exact if isinstance(old_exact, type) else _raised(lambda: round_half_up(old_exact))
    )
    assert str(_raised(lambda: line_total(quantity, price, percent))) == str(old_total)
