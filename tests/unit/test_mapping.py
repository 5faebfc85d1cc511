"""Pure mapping: unit tests for each rule and property tests over generated records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from dksync.mapping import Mapped, Rejected, differences, kennitala
from dksync.mapping.customers import CustomerRules, map_customer
from dksync.mapping.invoices import InvoiceRules, map_invoice, skip_reason
from dksync.mapping.money import line_total, round_half_up
from dksync.mapping.projects import map_project
from dksync.records import (
    Address,
    Customer,
    CustomerStatus,
    ExportStatus,
    FinancialAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Project,
)
from dksync.sandbox import schema

NOW = datetime(2026, 11, 20, tzinfo=UTC)
CUSTOMER = Customer(
    1,
    NOW,
    1,
    "10001",
    "Kaffibrennslan ehf.",
    CustomerStatus.ACTIVE,
    "530269-2619",
    "+354 555 1234",
    "a@example.is",
    Address("Laugavegur 1", None, "101", "Reykjavík", "IS"),
    14,
)
ACCOUNTS = {
    1: FinancialAccount(1, "3000", "Sala þjónustu", Decimal(24), "S24", "VINNA"),
    2: FinancialAccount(2, "3900", "Ýmsar tekjur", None, None, None),
}
RULES = InvoiceRules(sales_person="SALA1")
LINE = InvoiceLine(
    "Ráðgjöf",
    Decimal("7.5"),
    Decimal("18500.00"),
    Decimal(10),
    Decimal(50),
    Decimal(24),
    Decimal("187312.50"),
    77,
    "RADGJOF",
    "Ráðgjöf",
    None,
)
INVOICE = Invoice(
    9,
    NOW,
    1,
    1001,
    InvoiceStatus.FINALIZED,
    ExportStatus.TO_TRANSFER,
    False,
    None,
    date(2026, 11, 1),
    date(2026, 11, 15),
    "ISK",
    1,
    "10001",
    "1042",
    (LINE,),
)


def _invoice(**changes: Any) -> Mapped | Rejected:
    return map_invoice(replace(INVOICE, **changes), CUSTOMER, ACCOUNTS, CustomerRules(), RULES)


def _body(result: Mapped | Rejected) -> dict[str, Any]:
    assert isinstance(result, Mapped), result
    return result.payload


def _has_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(v) for v in value)
    return isinstance(value, float)


# --- customers ---------------------------------------------------------------------------


def test_customer_fields_and_address_layout() -> None:
    body = _body(map_customer(CUSTOMER, CustomerRules(payment_terms={14: "d14"})))
    assert body == {
        "Number": "10001",
        "Name": "Kaffibrennslan ehf.",
        "Address1": "Laugavegur 1",
        "Address2": "",
        "Address3": "Reykjavík",
        "ZipCode": "101",
        "CountryCode": "IS",
        "Phone": "+354 555 1234",
        "Email": "a@example.is",
        "Blocked": False,
        "PaymentTerm": "d14",
        "SSNumber": "5302692619",
    }
    assert schema.errors("Customer", body) == []


@given(st.text(alphabet="0123456789- ", max_size=13) | st.none())
def test_ssnumber_is_ten_digits_of_a_usable_kennitala_or_absent(written: str | None) -> None:
    """``SSNumber`` is sent exactly when the kennitala is usable (a failed check digit, as
    issued since February 2026, included), always as 10 digits without the dash."""
    body = _body(map_customer(replace(CUSTOMER, kennitala=written), CustomerRules()))
    checked = kennitala.check(written)
    assert body.get("SSNumber") == checked.digits
    assert schema.errors("Customer", body) == []


def test_ssnumber_kept_for_a_kennitala_without_a_valid_check_digit() -> None:
    body = _body(map_customer(replace(CUSTOMER, kennitala="530269-2629"), CustomerRules()))
    assert body["SSNumber"] == "5302692629"


def test_link_makes_a_moment_customer_use_the_dk_customer_everywhere() -> None:
    rules = CustomerRules(link={"10001": "530269-2619"})
    assert _body(map_customer(CUSTOMER, rules))["Number"] == "530269-2619"
    invoice = map_invoice(INVOICE, CUSTOMER, ACCOUNTS, rules, RULES)
    assert _body(invoice)["Customer"]["Number"] == "530269-2619"


def test_customer_status_maps_to_blocked() -> None:
    for status, blocked in [
        (CustomerStatus.ACTIVE, False),
        (CustomerStatus.POTENTIAL, False),
        (CustomerStatus.BLOCKED, True),
        (CustomerStatus.INACTIVE, True),
    ]:
        assert (
            _body(map_customer(replace(CUSTOMER, status=status), CustomerRules()))["Blocked"]
            is blocked
        )


def test_customer_number_over_12_is_rejected_not_truncated() -> None:
    result = map_customer(replace(CUSTOMER, number="1234567890123"), CustomerRules())
    assert isinstance(result, Rejected) and "13 characters" in result.message


def test_unmapped_credit_days_are_rejected_with_the_key() -> None:
    result = map_customer(replace(CUSTOMER, credit_days=45), CustomerRules({14: "d14"}))
    assert isinstance(result, Rejected) and "customers.payment_terms" in result.message


def test_kennitala_as_customer_number_is_used_everywhere() -> None:
    rules = CustomerRules(number_from="kennitala")
    assert _body(map_customer(CUSTOMER, rules))["Number"] == "5302692619"
    invoice = map_invoice(INVOICE, CUSTOMER, ACCOUNTS, rules, RULES)
    assert _body(invoice)["Customer"]["Number"] == "5302692619"
    project = Project(5, NOW, 1, "1042", "Vefur", "inProgress", 1, "10001")
    assert _body(map_project(project, CUSTOMER, rules))["CustomerToBill"] == "5302692619"


def test_differences_treat_empty_and_missing_alike() -> None:
    assert differences({"Address2": "", "Name": "A"}, {"Name": "A"}) == {}
    assert differences({"Name": "B"}, {"Name": "A"}) == {"Name": ("A", "B")}


# --- projects ----------------------------------------------------------------------------


def test_project_bills_its_customer() -> None:
    project = Project(5, NOW, 1, "1042", "Vefur", "inProgress", 1, "10001")
    body = _body(map_project(project, CUSTOMER, CustomerRules()))
    assert body == {
        "Number": "1042",
        "Name": "Vefur",
        "CustomerToBill": "10001",
        "CustomerNameToBill": "Kaffibrennslan ehf.",
    }
    assert schema.errors("Project", body) == []


# --- invoices ----------------------------------------------------------------------------


def test_invoice_header_and_line() -> None:
    body = _body(_invoice())
    assert body["Customer"] == {
        "Number": "10001",
        "Name": "Kaffibrennslan ehf.",
        "SSN": "5302692619",
    }
    assert body["Reference"] == "1001" and body["SalesPerson"] == "SALA1"
    assert body["Project"] == "1042" and body["Date"] == "2026-11-01"
    assert "Currency" not in body
    assert body["Lines"] == [
        {
            "ItemCode": "RADGJOF",
            "Text": "Ráðgjöf",
            "Quantity": Decimal("7.5"),
            "Price": Decimal("27750.00"),
            "IncludingVAT": False,
            "Discount": Decimal(10),
            "Total": Decimal("187312.50"),
        }
    ]
    assert schema.errors("InvoiceCreate", body) == []


def test_foreign_currency_is_sent() -> None:
    assert _body(_invoice(currency="EUR"))["Currency"] == "EUR"


def test_item_code_from_account_vat_code_or_revenue_class() -> None:
    line = replace(LINE, product_number=None, product_id=None, product_name=None, account_id=1)
    assert _body(_invoice(lines=(line,)))["Lines"][0]["ItemCode"] == "S24"
    by_class = map_invoice(
        replace(INVOICE, lines=(line,)),
        CUSTOMER,
        ACCOUNTS,
        CustomerRules(),
        replace(RULES, item_code_from="revenue_class"),
    )
    assert _body(by_class)["Lines"][0]["ItemCode"] == "VINNA"
    assert isinstance(by_class, Mapped) and by_class.needs[0]["Description"] == "Sala þjónustu"


def test_line_without_code_source_names_the_account() -> None:
    line = replace(LINE, product_number=None, account_id=2)
    result = _invoice(lines=(line,))
    assert isinstance(result, Rejected)
    assert "financial account 3900 (Ýmsar tekjur) has no accounting VAT code" in result.message


def test_missing_kennitala_rejects_and_bad_check_digit_warns() -> None:
    no_id = map_invoice(
        INVOICE, replace(CUSTOMER, kennitala=None), ACCOUNTS, CustomerRules(), RULES
    )
    assert isinstance(no_id, Rejected) and "has no kennitala" in no_id.message
    warned = map_invoice(
        INVOICE, replace(CUSTOMER, kennitala="530269-2609"), ACCOUNTS, CustomerRules(), RULES
    )
    assert isinstance(warned, Mapped) and "mod-11" in warned.warnings[0]


def test_line_total_that_differs_from_moment_is_not_posted() -> None:
    result = _invoice(lines=(replace(LINE, line_total=Decimal("187312.52")),))
    assert isinstance(result, Rejected) and "differ by more than 0.01" in result.message
    assert "Moment's line total is 187312.52" in result.message


def test_credit_note_quantities_are_negative() -> None:
    credit = replace(LINE, quantity=-LINE.quantity, line_total=-(LINE.line_total or 0))
    body = _body(_invoice(is_credit_note=True, lines=(credit,)))
    assert body["Lines"][0]["Quantity"] == Decimal("-7.5")
    assert body["Lines"][0]["Total"] == Decimal("-187312.50")


def test_skip_reasons() -> None:
    assert skip_reason(INVOICE) is None
    assert skip_reason(replace(INVOICE, status=InvoiceStatus.DRAFT)) is not None
    assert skip_reason(replace(INVOICE, status=InvoiceStatus.APPROVED)) is not None
    blocked = skip_reason(replace(INVOICE, export_status=ExportStatus.DO_NOT_TRANSFER))
    assert blocked is not None and "do not transfer" in blocked


# --- properties --------------------------------------------------------------------------

money = st.decimals(
    min_value=Decimal("-100000"),
    max_value=Decimal("100000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
quantities = st.decimals(
    min_value=Decimal("-500"),
    max_value=Decimal("500"),
    places=3,
    allow_nan=False,
    allow_infinity=False,
)
percents = st.decimals(
    min_value=Decimal(0), max_value=Decimal(100), places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def lines(draw: st.DrawFn) -> InvoiceLine:
    has_product = draw(st.booleans())
    return InvoiceLine(
        description=draw(st.text(max_size=20)),
        quantity=draw(quantities),
        unit_price=draw(money),
        discount_percent=draw(percents),
        surcharge_percent=draw(
            st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5"), Decimal(50)])
        ),
        vat_percent=Decimal(24),
        line_total=None,
        product_number="P1" if has_product else None,
        account_id=None if has_product else 1,
    )


@given(lines())
def test_every_line_total_is_quantity_times_price_less_discount(line: InvoiceLine) -> None:
    body = _body(_invoice(lines=(line,)))
    out = body["Lines"][0]
    expected = round_half_up(out["Quantity"] * out["Price"] * (1 - out["Discount"] / 100))
    assert out["Total"] == expected == line_total(out["Quantity"], out["Price"], out["Discount"])
    assert out["Price"] == abs(line.unit_price * (1 + line.surcharge_percent / 100))
    assert abs(out["Quantity"]) == abs(line.quantity) and out["IncludingVAT"] is False
    assert not _has_float(body)
    assert schema.errors("InvoiceCreate", body) == []


@given(lines(), st.sampled_from([Decimal(10), Decimal(25), Decimal(50)]))
@example(  # worth 0.00 without the surcharge, -0.01 with it: the quantity's sign is Moment's
    InvoiceLine(
        description="",
        quantity=Decimal("0.007"),
        unit_price=Decimal("-0.48"),
        discount_percent=Decimal("0.00"),
        surcharge_percent=Decimal("0"),
        vat_percent=Decimal("24"),
        line_total=None,
        product_id=None,
        product_number=None,
        product_name=None,
        account_id=1,
    ),
    Decimal(50),
)
def test_a_surcharge_changes_only_the_price(line: InvoiceLine, surcharge: Decimal) -> None:
    plain = _body(_invoice(lines=(replace(line, surcharge_percent=Decimal(0)),)))["Lines"][0]
    marked = _body(_invoice(lines=(replace(line, surcharge_percent=surcharge),)))["Lines"][0]
    assert {k: v for k, v in plain.items() if k not in ("Price", "Total")} == {
        k: v for k, v in marked.items() if k not in ("Price", "Total")
    }
    assert abs(marked["Quantity"]) == abs(line.quantity)


@given(st.text(min_size=1, max_size=20).filter(str.strip), st.text(max_size=30))
def test_customer_numbers_up_to_12_map_and_longer_reject(number: str, name: str) -> None:
    result = map_customer(replace(CUSTOMER, number=number, name=name or "x"), CustomerRules())
    if len(number.strip()) > 12:
        assert isinstance(result, Rejected)
    elif isinstance(result, Mapped):
        assert result.payload["Number"] == number.strip()
        assert schema.errors("Customer", result.payload) == []


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).filter(
        lambda v: not Decimal(0) <= v <= Decimal(100)
    ),
    st.booleans(),
)
def test_a_vat_percent_outside_0_to_100_rejects_the_line_naming_it(
    vat: Decimal, on_account: bool
) -> None:
    """The line's own VAT percent, or its financial account's when it has none."""
    if on_account:
        accounts = {1: replace(ACCOUNTS[1], vat_percent=vat)}
        line = replace(LINE, product_number=None, account_id=1, vat_percent=None)
        named = "line 1: VAT percent of financial account 3000"
    else:
        accounts, line, named = ACCOUNTS, replace(LINE, vat_percent=vat), "line 1: VAT percent"
    result = map_invoice(
        replace(INVOICE, lines=(line,)), CUSTOMER, accounts, CustomerRules(), RULES
    )
    assert isinstance(result, Rejected) and named in result.message, result
    assert _body(_invoice(lines=(replace(LINE, vat_percent=Decimal(100)),)))
