"""dksync records → Moment JSON, for the sandbox server only.

Beside the nested shape dksync guessed first, it can answer the other shapes the spec
warns about: flat references (``customerId`` + ``customerName``, no number) and fields
under other names (the inverse of ``moment.field_names``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from dksync.moment.fieldnames import FieldNames, get_path, has_path
from dksync.moment.names import (
    CREATED,
    ID,
    LINES,
    MODIFIED,
    OBJECT_OF_KIND,
    REF_ACCOUNT,
    REF_CUSTOMER,
    REF_PRODUCT,
    REF_PROJECT,
    VERSION,
)
from dksync.moment.parsing import EXPORT_STATES, INVOICE_TYPES, format_instant
from dksync.records import Customer, FinancialAccount, Invoice, InvoiceLine, Product, Project


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _meta_json(ident: int, modified: datetime, version: int) -> dict[str, Any]:
    return {
        ID: ident,
        CREATED: format_instant(modified),
        MODIFIED: format_instant(modified),
        VERSION: version,
    }


def encode_customer(c: Customer) -> dict[str, Any]:
    a = c.address
    return {
        **_meta_json(c.id, c.modified, c.version),
        "customerNumber": c.number,
        "name": c.name,
        "customerState": c.status.value,
        "organizationNumber": c.kennitala,
        "phone": c.phone,
        "email": c.email,
        "address": {
            "addressLine1": a.line1,
            "addressLine2": a.line2,
            "postalCode": a.postal_code,
            "city": a.city,
            "countryCode": a.country_code,
        },
        "creditDays": c.credit_days,
    }


def encode_project(p: Project) -> dict[str, Any]:
    customer = (
        None
        if p.customer_id is None
        else {"id": p.customer_id, "customerNumber": p.customer_number}
    )
    return {
        **_meta_json(p.id, p.modified, p.version),
        "projectNumber": p.number,
        "name": p.name,
        "projectState": p.status,
        "customer": customer,
    }


def _encode_line(index: int, line: InvoiceLine) -> dict[str, Any]:
    product = None
    if line.product_number is not None or line.product_id is not None:
        product = {
            "id": line.product_id,
            "productNumber": line.product_number,
            "name": line.product_name,
        }
    account = None if line.account_id is None else {"id": line.account_id}
    return {
        "id": index + 1,
        "lineNumber": index + 1,
        "description": line.description,
        "quantity": _money(line.quantity),
        "unitPrice": _money(line.unit_price),
        "discountPercent": _money(line.discount_percent),
        "surchargePercent": _money(line.surcharge_percent),
        "product": product,
        "financialAccount": account,
        "vatPercent": _money(line.vat_percent),
        "lineTotal": _money(line.line_total),
    }


def _key_for(options: Mapping[str, Any], value: Any) -> str:
    return next(k for k, v in options.items() if v == value)


def encode_invoice(i: Invoice) -> dict[str, Any]:
    project = (
        None
        if i.project_number is None and i.project_id is None
        else {"id": i.project_id, "projectNumber": i.project_number}
    )
    return {
        **_meta_json(i.id, i.modified, i.version),
        "invoiceNumber": i.number or None,
        "invoiceState": i.status.value,
        "invoiceType": _key_for(INVOICE_TYPES, i.is_credit_note),
        "creditedInvoiceNumber": i.credited_number,
        "accountingExportState": _key_for(EXPORT_STATES, i.export_status),
        "invoiceDate": i.invoice_date.isoformat(),
        "dueDate": i.due_date.isoformat() if i.due_date else None,
        "currencyCode": i.currency,
        "customer": {"id": i.customer_id, "customerNumber": i.customer_number},
        "project": project,
        LINES: [_encode_line(n, line) for n, line in enumerate(i.lines)],
    }


def encode_account(a: FinancialAccount, modified: datetime) -> dict[str, Any]:
    return {
        **_meta_json(a.id, modified, 1),
        "accountNumber": a.number,
        "name": a.name,
        "financialAccountCategory": "sales",
        "currentVatPercentage": _money(a.vat_percent),
        "externalTaxCode": a.vat_code,
        "externalRevenueClass": a.revenue_class,
    }


def encode_product(p: Product, modified: datetime) -> dict[str, Any]:
    account = None if p.account_id is None else {"id": p.account_id}
    return {
        **_meta_json(p.id, modified, 1),
        "productNumber": p.number,
        "name": p.name,
        "unitPrice": _money(p.unit_price),
        "financialAccount": account,
    }


# --- other shapes a real account may answer in -----------------------------------------

_REFS = {
    "projects": (REF_CUSTOMER,),
    "invoices": (REF_CUSTOMER, REF_PROJECT),
    "products": (REF_ACCOUNT,),
    "line": (REF_PRODUCT, REF_ACCOUNT),
}


def flatten(kind: str, raw: dict[str, Any], names: Mapping[tuple[str, int], str]) -> Any:
    """``raw`` with every nested reference made flat: ``customerId`` and ``customerName``
    (the name from ``names``, keyed by (kind, id), when known), no number."""
    result = _flat(raw, _REFS.get(kind, ()), names)
    if kind == "invoices" and isinstance(result.get(LINES), list):
        result[LINES] = [_flat(line, _REFS["line"], names) for line in result[LINES]]
    return result


def _flat(
    raw: dict[str, Any],
    refs: tuple[tuple[str, str, str, str, str], ...],
    names: Mapping[tuple[str, int], str],
) -> dict[str, Any]:
    result = dict(raw)
    for nested_name, _, flat_id, flat_name, kind in refs:
        nested = result.pop(nested_name, None)
        ident = nested.get(ID) if isinstance(nested, Mapping) else None
        result[flat_id] = ident
        if ident is not None:
            result[flat_name] = (nested or {}).get("name") or names.get((kind, ident))
    return result


def rename(kind: str, raw: dict[str, Any], renamed: FieldNames) -> Any:
    """``raw`` as an account that spells fields as ``renamed`` says (the inverse of
    ``FieldNames.apply``): each expected name moved to the account's name."""
    result = _moved(raw, renamed.by_object.get(OBJECT_OF_KIND[kind], {}))
    lines = renamed.by_object.get("line")
    if kind == "invoices" and lines and isinstance(result.get(LINES), list):
        result[LINES] = [_moved(line, lines) for line in result[LINES]]
    return result


def _moved(raw: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    result = dict(raw)
    for expected, actual in renames.items():
        if "." in expected or "." in actual or not has_path(raw, expected):
            continue  # the sandbox renames top-level fields only
        result.pop(expected)
        result[actual] = get_path(raw, expected)
    return result
