"""Moment invoice → DK+ ``InvoiceCreate`` body and the products it needs (pure).

Rules: only final invoices that are not marked do-not-transfer; the Moment number goes to
``Reference``; the surcharge is folded into the unit price; every line needs an item code
(the product number, else a code from the line's financial account); the kennitala is
required; every line says its price is without VAT, at a VAT percent from 0 to 100; a
line's sign is Moment's (see ``_amounts``); a line total that differs from Moment's by more
than 0.01 is not posted; an item code is used at one VAT rate only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dksync.mapping import Mapped, MapResult, Payload, Rejected
from dksync.mapping import kennitala as kt
from dksync.mapping.customers import CustomerRules, dk_number
from dksync.mapping.money import (
    CENT,
    amount_problem,
    is_amount,
    line_total,
    price_with_surcharge,
)
from dksync.records import (
    Customer,
    ExportStatus,
    FinancialAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)

DRAFT_STATES = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.APPROVED})


@dataclass(frozen=True, slots=True)
class InvoiceRules:
    """Invoice settings from the config."""

    sales_person: str
    item_code_from: Literal["vat_code", "revenue_class"] = "vat_code"
    default_currency: str = "ISK"


def skip_reason(invoice: Invoice) -> str | None:
    """Why an invoice is not for DK+ (draft, do-not-transfer), or None when it is."""
    if invoice.status in DRAFT_STATES:
        return f"{invoice.status.value}: not final in Moment yet"
    if invoice.export_status is ExportStatus.DO_NOT_TRANSFER:
        return "marked 'do not transfer to accounting' in Moment"
    return None


def posted_facts(invoice: Invoice) -> dict[str, str] | None:
    """What of a Moment invoice DK+ must keep once posted: its customer and its total
    without VAT, from Moment's own amounts. A later difference is drift: DK+ is never
    changed, the accountant credits it. None when the amounts cannot be reckoned."""
    try:
        total = sum(
            (
                line_total(
                    line.quantity,
                    price_with_surcharge(line.unit_price, line.surcharge_percent),
                    line.discount_percent,
                )
                for line in invoice.lines
            ),
            Decimal(0),
        )
    except ArithmeticError:
        return None
    customer = invoice.customer_number or f"id {invoice.customer_id}"
    return {"customer": customer, "total": str(total)}


def reference(invoice: Invoice) -> str:
    """The DK+ ``Reference`` that ties a DK+ invoice to its Moment number."""
    return str(invoice.number)


def item_code(
    n: int, line: InvoiceLine, accounts: Mapping[int, FinancialAccount], rules: InvoiceRules
) -> tuple[str | None, FinancialAccount | None, str | None]:
    """(item code, account used, reason when none): the product number, else the code the
    configured rule takes from the line's financial account."""
    if line.product_number:
        return line.product_number, None, None
    if line.account_id is None:
        return None, None, f"line {n} has no product and no financial account"
    account = accounts.get(line.account_id)
    if account is None:
        return None, None, f"line {n}: financial account id {line.account_id} is unknown in Moment"
    code = account.vat_code if rules.item_code_from == "vat_code" else account.revenue_class
    if code:
        return code, account, None
    what = "accounting VAT code" if rules.item_code_from == "vat_code" else "revenue class"
    return (
        None,
        account,
        (
            f"line {n} has no product and financial account {account.number} ({account.name}) "
            f"has no {what}: set it on that account in Moment"
        ),
    )


@dataclass(frozen=True, slots=True)
class _Line:
    """One line as booked: its DK+ body and the product it needs."""

    payload: dict[str, Any]
    product: Payload


def _line(
    n: int, line: InvoiceLine, accounts: Mapping[int, FinancialAccount], rules: InvoiceRules
) -> _Line | str:
    """The DK+ line (signed as Moment's amounts say), or why it cannot be written."""
    code, account, reason = item_code(n, line, accounts, rules)
    if code is None:
        return reason or f"line {n} has no item code"
    reason = _value_problem(n, line)
    if reason:
        return reason
    booked = _amounts(n, line)
    if isinstance(booked, str):
        return booked
    quantity, price, total = booked
    payload: dict[str, Any] = {
        "ItemCode": code,
        "Text": line.description,
        "Quantity": quantity,
        "Price": price,
        "IncludingVAT": False,  # Moment's amounts are without VAT: never leave DK to guess
        "Discount": line.discount_percent,
        "Total": total,
    }
    vat = _vat(n, line, account)
    if isinstance(vat, str):
        return vat
    product: Payload = {
        "ItemCode": code,
        "Description": line.product_name or (account.name if account else "") or line.description,
        "TaxPercent": vat,
    }
    return _Line(payload, product)


def _vat(n: int, line: InvoiceLine, account: FinancialAccount | None) -> Decimal | str:
    """The line's VAT percent (its own, else its financial account's, else none), or why it
    is no rate: outside 0..100 it is Moment's data that is wrong, not a product's rate that
    differs, so it is never compared with another line's or a DK+ product's."""
    if line.vat_percent is not None:
        vat, whose = line.vat_percent, ""
    elif account is not None and account.vat_percent is not None:
        vat, whose = account.vat_percent, f" of financial account {account.number}"
    else:
        return Decimal(0)
    if is_amount(vat, percent=True):
        return vat
    return f"{amount_problem(vat, f'line {n}: VAT percent{whose}', percent=True)}: fix it in Moment"


def _amounts(n: int, line: InvoiceLine) -> tuple[Decimal, Decimal, Decimal] | str:
    """(quantity, unit price, total) to book, or why not.

    The sign is Moment's: its line total's when it sends one, else that of quantity × price,
    whatever sign convention the two follow (a credit line may carry its minus on either, or
    reverse a discount with both negative). DK+ gets a positive unrounded unit price and the
    sign on the quantity; the total is that product, rounded once, and must be Moment's."""
    price = price_with_surcharge(line.unit_price, line.surcharge_percent)
    magnitude = line_total(abs(line.quantity), abs(price), line.discount_percent)
    if line.line_total is not None:
        negative = line.line_total < 0
    else:
        negative = (line.quantity < 0) != (price < 0)
    sign = -1 if negative else 1
    quantity = sign * abs(line.quantity)  # Moment's sign, even on a line worth 0.00
    total = sign * magnitude if magnitude else magnitude  # never "-0.00"
    expected = line.line_total
    if expected is not None and abs(total - expected) > CENT:
        return (
            f"line {n}: quantity {line.quantity} × price {price} less {line.discount_percent} % "
            f"is {magnitude} in amount, Moment's line total is {expected}: they differ by more "
            "than 0.01; fix the line in Moment"
        )
    return quantity, abs(price), total


def _credit_problem(invoice: Invoice, lines: list[dict[str, Any]]) -> str | None:
    """Moment signs a credit note's amounts itself (on quantities, prices or line totals);
    one that adds up to more than zero carries no sign dksync can trust, so it is not
    guessed either way."""
    total = sum((x["Total"] for x in lines), Decimal(0))
    if not invoice.is_credit_note or total <= 0:
        return None
    return (
        f"credit note {invoice.number} adds up to +{total} without VAT: its amounts carry no "
        "minus, so whether it credits or charges cannot be told. Not posted: check it in "
        "Moment, and book it in DK+ by hand if it is right"
    )


def _value_problem(n: int, line: InvoiceLine) -> str | None:
    """The first value of the line that cannot be money, checked before any arithmetic
    (quickly when all can be, as nearly every line's can: words only for a problem)."""
    if (
        is_amount(line.quantity)
        and is_amount(line.unit_price)
        and is_amount(line.discount_percent, percent=True)
        and is_amount(line.surcharge_percent)
        and (line.line_total is None or is_amount(line.line_total))
    ):
        return None
    checks = (
        amount_problem(line.quantity, f"line {n}: quantity"),
        amount_problem(line.unit_price, f"line {n}: unit price"),
        amount_problem(line.discount_percent, f"line {n}: discount", percent=True),
        amount_problem(line.surcharge_percent, f"line {n}: surcharge", percent=False),
        None if line.line_total is None else amount_problem(line.line_total, f"line {n}: total"),
    )
    problem = next((c for c in checks if c), None)
    return f"{problem}: fix it in Moment" if problem else None


def _same_rate(n: int, product: Payload, products: Mapping[str, tuple[int, Payload]]) -> str | None:
    """DK+ books one VAT rate per product: a second line using an item code at another rate
    is a reason, naming both."""
    first = products.get(str(product["ItemCode"]).upper())
    if first is None or first[1]["TaxPercent"] == product["TaxPercent"]:
        return None
    return (
        f"line {n}: item code {product['ItemCode']} is at {product['TaxPercent']} % VAT but at "
        f"{first[1]['TaxPercent']} % on line {first[0]}; a DK+ product has one VAT rate: give "
        "one of the lines another product (or fix its VAT) in Moment"
    )


def _header(invoice: Invoice, customer: Customer, number: str, rules: InvoiceRules) -> Payload:
    header: dict[str, Any] = {
        "Customer": {
            "Number": number,
            "Name": customer.name,
            "SSN": kt.normalise(customer.kennitala or ""),
        },
        "SalesPerson": rules.sales_person,
        "Reference": reference(invoice),
        "Date": invoice.invoice_date.isoformat(),
    }
    if invoice.due_date is not None:
        header["DueDate"] = invoice.due_date.isoformat()
    currency = currency_code(invoice.currency)
    if currency and currency != currency_code(rules.default_currency):
        header["Currency"] = currency
    if invoice.project_number:
        header["Project"] = invoice.project_number
    return header


def currency_code(text: str | None) -> str | None:
    """A currency as DK+ knows it: three letters A-Z (ISO 4217), whatever case Moment uses,
    so ``isk`` is the company's ISK and not a foreign currency of that name; None for none
    (the company's own) and for what is no code (``ÍSK``, ``kr.``): see ``map_invoice``."""
    code = (text or "").strip().upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else None


def map_invoice(
    invoice: Invoice,
    customer: Customer,
    accounts: Mapping[int, FinancialAccount],
    customer_rules: CustomerRules,
    rules: InvoiceRules,
) -> MapResult:
    """The booked-invoice body and the DK+ products its lines need, or why it cannot be sent."""
    reasons: list[str] = []
    warnings: list[str] = []
    checked = kt.check(customer.kennitala)
    if checked.error:
        reasons.append(f"customer {customer.number} {checked.error}: fix it in Moment")
    elif checked.warning:
        warnings.append(checked.warning)
    number = dk_number(customer, customer_rules)
    if isinstance(number, Rejected):
        reasons.extend(number.reasons)
    if not invoice.number:
        reasons.append(f"invoice id {invoice.id} is final but has no invoice number")
    if not invoice.lines:
        reasons.append("the invoice has no lines")
    given = (invoice.currency or "").strip()
    if given and currency_code(given) is None:
        reasons.append(f"its currency {given[:20]!r} is no ISO 4217 code: fix it in Moment")
    lines: list[dict[str, Any]] = []
    products: dict[str, tuple[int, Payload]] = {}
    for n, line in enumerate(invoice.lines, start=1):
        booked = _line(n, line, accounts, rules)
        reason = booked if isinstance(booked, str) else _same_rate(n, booked.product, products)
        if reason:
            reasons.append(reason)
        elif isinstance(booked, _Line):
            lines.append(booked.payload)
            products.setdefault(str(booked.product["ItemCode"]).upper(), (n, booked.product))
    credit = None if reasons else _credit_problem(invoice, lines)
    if credit:
        reasons.append(credit)
    if reasons or isinstance(number, Rejected):
        return Rejected(tuple(reasons))
    body = {**_header(invoice, customer, number, rules), "Lines": lines}
    return Mapped(body, tuple(warnings), tuple(p for _, p in products.values()))
