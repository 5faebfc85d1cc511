"""Moment invoice → DK+ ``InvoiceCreate`` body and the products it needs (pure).

Rules: only final invoices that are not marked do-not-transfer; the Moment number goes to
``Reference``; the surcharge is folded into the unit price; every line needs an item code
(the product number, else a code from the line's financial account); the kennitala is
required; a line total that differs from Moment's by more than 0.01 is not posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dksync.mapping import Mapped, MapResult, Payload, Rejected
from dksync.mapping import kennitala as kt
from dksync.mapping.customers import CustomerRules, dk_number
from dksync.mapping.money import CENT, amount_problem, line_total, price_with_surcharge
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


def _line(
    n: int,
    line: InvoiceLine,
    invoice: Invoice,
    accounts: Mapping[int, FinancialAccount],
    rules: InvoiceRules,
) -> tuple[Payload | None, Payload | None, str | None]:
    """(DK+ line, product it needs, reason when it cannot be written)."""
    code, account, reason = item_code(n, line, accounts, rules)
    if code is None:
        return None, None, reason
    reason = _value_problem(n, line)
    if reason:
        return None, None, reason
    quantity = -abs(line.quantity) if invoice.is_credit_note else line.quantity
    price = price_with_surcharge(line.unit_price, line.surcharge_percent)
    total = line_total(quantity, price, line.discount_percent)
    expected = line.line_total
    if expected is not None and invoice.is_credit_note:
        expected = -abs(expected)
    if expected is not None and abs(total - expected) > CENT:
        return (
            None,
            None,
            f"line {n}: total {total} differs from Moment's {expected} by more than 0.01",
        )
    payload: Payload = {
        "ItemCode": code,
        "Text": line.description,
        "Quantity": quantity,
        "Price": price,
        "Discount": line.discount_percent,
        "Total": total,
    }
    vat = line.vat_percent if line.vat_percent is not None else (account and account.vat_percent)
    product: Payload = {
        "ItemCode": code,
        "Description": line.product_name or (account.name if account else "") or line.description,
        "TaxPercent": vat if vat is not None else Decimal(0),
    }
    return payload, product, None


def _value_problem(n: int, line: InvoiceLine) -> str | None:
    """The first value of the line that cannot be money, checked before any arithmetic."""
    checks = (
        amount_problem(line.quantity, f"line {n}: quantity"),
        amount_problem(line.unit_price, f"line {n}: unit price"),
        amount_problem(line.discount_percent, f"line {n}: discount", percent=True),
        amount_problem(line.surcharge_percent, f"line {n}: surcharge", percent=False),
    )
    problem = next((c for c in checks if c), None)
    return f"{problem}: fix it in Moment" if problem else None


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
    if invoice.currency and invoice.currency != rules.default_currency:
        header["Currency"] = invoice.currency
    if invoice.project_number:
        header["Project"] = invoice.project_number
    return header


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
    lines: list[Payload] = []
    products: dict[str, Payload] = {}
    for n, line in enumerate(invoice.lines, start=1):
        payload, product, reason = _line(n, line, invoice, accounts, rules)
        if reason:
            reasons.append(reason)
        if payload is not None and product is not None:
            lines.append(payload)
            products.setdefault(product["ItemCode"].upper(), product)
    if reasons or isinstance(number, Rejected):
        return Rejected(tuple(reasons))
    body = {**_header(invoice, customer, number, rules), "Lines": lines}
    return Mapped(body, tuple(warnings), tuple(products.values()))
