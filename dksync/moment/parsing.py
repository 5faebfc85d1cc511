"""Moment JSON → dksync's records, with every problem named in plain words.

References come nested (``customer: {id, customerNumber}``) or flat (``customerId``, no
number): both are read, and a record then carries the id with its number when known. The
client (``client.py``) fills in numbers it can learn before anything parses an object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dksync.errors import RecordRejected
from dksync.moment.fields import FieldReader
from dksync.moment.fields import parse_instant as parse_instant
from dksync.moment.names import (
    ID,
    LINES,
    MODIFIED,
    NUMBER_FIELDS,
    REF_ACCOUNT,
    REF_CUSTOMER,
    REF_PRODUCT,
    REF_PROJECT,
    VERSION,
)
from dksync.records import (
    Address,
    Customer,
    CustomerStatus,
    ExportStatus,
    FinancialAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Product,
    Project,
)

CUSTOMER_STATES = {s.value: s for s in CustomerStatus}
INVOICE_STATES = {s.value: s for s in InvoiceStatus}
EXPORT_STATES = {
    "toTransfer": ExportStatus.TO_TRANSFER,
    "transferred": ExportStatus.TRANSFERRED,
    "doNotTransfer": ExportStatus.DO_NOT_TRANSFER,
}
INVOICE_TYPES = {"invoice": False, "creditNote": True}


def format_instant(moment: datetime) -> str:
    """UTC with milliseconds and ``Z``, as Moment writes it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _meta(r: FieldReader) -> tuple[int, datetime, int]:
    return (
        r.integer(ID) or 0,
        r.instant(MODIFIED) or datetime.min.replace(tzinfo=UTC),
        r.integer(VERSION, required=False) or 0,
    )


def reference(
    r: FieldReader, ref: tuple[str, str, str, str, str], required: bool = False
) -> tuple[int | None, str | None, str | None]:
    """(id, number, name) of a reference in either shape; all None when there is none."""
    nested_name, number_name, flat_id, flat_name, _ = ref
    nested = r.nested(nested_name, required=False)
    if nested is not None:
        ident = nested.integer(ID, required=False)
        number = nested.text(number_name, required=False)
        if ident is None and number is None:
            r.problems.append(f"field '{r.prefix}{nested_name}' has neither id nor number")
        return ident, number, nested.text("name", required=False)
    ident = r.integer(flat_id, required=False)
    if ident is None and required:
        r.problems.append(
            f"field '{r.prefix}{nested_name}' is missing (expected an object "
            f"{{id, {number_name}}} or '{flat_id}')"
        )
    return ident, None, r.text(flat_name, required=False) if ident is not None else None


def _read_customer(r: FieldReader) -> Customer:
    ident, modified, version = _meta(r)
    address = r.nested("address", required=False) or FieldReader({}, r.problems)
    return Customer(
        id=ident,
        modified=modified,
        version=version,
        number=r.text("customerNumber") or "",
        name=r.text("name") or "",
        status=r.choice("customerState", CUSTOMER_STATES, CustomerStatus.ACTIVE),
        kennitala=r.text("organizationNumber", required=False),
        phone=r.text("phone", required=False),
        email=r.text("email", required=False),
        address=Address(
            line1=address.text("addressLine1", required=False),
            line2=address.text("addressLine2", required=False),
            postal_code=address.text("postalCode", required=False),
            city=address.text("city", required=False),
            country_code=address.text("countryCode", required=False),
        ),
        credit_days=r.integer("creditDays", required=False),
    )


def _read_project(r: FieldReader) -> Project:
    ident, modified, version = _meta(r)
    customer_id, customer_number, _ = reference(r, REF_CUSTOMER)
    return Project(
        id=ident,
        modified=modified,
        version=version,
        number=r.text("projectNumber") or "",
        name=r.text("name") or "",
        status=r.text("projectState", required=False) or "",
        customer_id=customer_id,
        customer_number=customer_number,
    )


def _read_line(r: FieldReader) -> InvoiceLine:
    product_id, product_number, product_name = reference(r, REF_PRODUCT)
    account_id, _, _ = reference(r, REF_ACCOUNT)
    return InvoiceLine(
        description=r.text("description", required=False) or "",
        quantity=r.decimal("quantity") or Decimal(0),
        unit_price=r.decimal("unitPrice") or Decimal(0),
        discount_percent=r.decimal("discountPercent", required=False) or Decimal(0),
        surcharge_percent=r.decimal("surchargePercent", required=False) or Decimal(0),
        vat_percent=r.decimal("vatPercent", required=False),
        line_total=r.decimal("lineTotal", required=False),
        product_id=product_id,
        product_number=product_number,
        product_name=product_name,
        account_id=account_id,
    )


def _read_invoice(r: FieldReader) -> Invoice:
    ident, modified, version = _meta(r)
    customer_id, customer_number, _ = reference(r, REF_CUSTOMER, required=True)
    project_id, project_number, _ = reference(r, REF_PROJECT)
    raw_lines = r.raw.get(LINES)
    if not isinstance(raw_lines, list):
        r.problems.append(f"field '{LINES}' is missing (expected a list of lines)")
        raw_lines = []
    lines = tuple(
        _read_line(FieldReader(line, r.problems, f"{LINES}[{i}]."))
        for i, line in enumerate(raw_lines)
    )
    if customer_id is None and "customer" in r.raw:
        r.problems.append("field 'customer.id' is missing (expected a whole number)")
    return Invoice(
        id=ident,
        modified=modified,
        version=version,
        number=r.integer("invoiceNumber", required=False) or 0,
        status=r.choice("invoiceState", INVOICE_STATES),
        export_status=r.choice("accountingExportState", EXPORT_STATES, ExportStatus.TO_TRANSFER),
        is_credit_note=r.choice("invoiceType", INVOICE_TYPES, False),
        credited_number=r.integer("creditedInvoiceNumber", required=False),
        invoice_date=r.day("invoiceDate") or date.min,
        due_date=r.day("dueDate", required=False),
        currency=r.text("currencyCode", required=False),
        customer_id=customer_id or 0,
        customer_number=customer_number,
        project_id=project_id,
        project_number=project_number,
        lines=lines,
    )


def _read_account(r: FieldReader) -> FinancialAccount:
    return FinancialAccount(
        id=r.integer(ID) or 0,
        number=r.text("accountNumber") or "",
        name=r.text("name", required=False) or "",
        vat_percent=r.decimal("currentVatPercentage", required=False),
        vat_code=r.text("externalTaxCode", required=False),
        revenue_class=r.text("externalRevenueClass", required=False),
    )


def _read_product(r: FieldReader) -> Product:
    account_id, _, _ = reference(r, REF_ACCOUNT)
    return Product(
        id=r.integer(ID) or 0,
        number=r.text("productNumber") or "",
        name=r.text("name", required=False) or "",
        unit_price=r.decimal("unitPrice", required=False),
        account_id=account_id,
    )


READERS: dict[str, Callable[[FieldReader], Any]] = {
    "customers": _read_customer,
    "projects": _read_project,
    "invoices": _read_invoice,
    "accounts": _read_account,
    "products": _read_product,
}


def field_problems(kind: str, raw: Any) -> list[str]:
    """Every expected field of a Moment object that is missing or of another type."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        return [f"expected a JSON object, got {type(raw).__name__}"]
    READERS[kind](FieldReader(raw, problems))
    return problems


def parse(kind: str, raw: Any) -> Any:
    """Moment JSON → record; ``RecordRejected`` names every field that is wrong."""
    problems: list[str] = []
    record = READERS[kind](FieldReader(raw, problems))
    if problems:
        raise RecordRejected("Moment data is malformed: " + "; ".join(problems))
    return record


def record_key(raw: Any) -> tuple[datetime, int] | None:
    """The cursor key (last modified, id) of a raw object, or None when it has none."""
    problems: list[str] = []
    key = _key(raw, problems)
    return None if problems else key


def key_problems(raw: Any) -> list[str]:
    """Why a raw object has no cursor key, in words (``record_key`` is None), for its
    rejection: ``field 'lastModifiedDate' should be an ISO-8601 time, got '9999-...'``."""
    problems: list[str] = []
    _key(raw, problems)
    return problems


def _key(raw: Any, problems: list[str]) -> tuple[datetime, int] | None:
    """Moment's ids are positive: 0 or a negative one is no id (two objects holding one
    would be taken for one record, and dksync's stand-in keys are negative)."""
    reader = FieldReader(raw, problems)
    ident, modified = reader.integer(ID), reader.instant(MODIFIED)
    if ident is not None and ident <= 0:
        problems.append(f"field '{ID}' should be a positive whole number, got {ident}")
        ident = None
    return None if ident is None or modified is None else (modified, ident)


def may_be_due(raw: Any, first: date, last: date) -> bool:
    """Whether an invoice that cannot be parsed may still be a final one of ``first`` to
    ``last``: False only when what can be read of it (its state, export state or date)
    rules it out. Reconcile reports the others as unreadable, never as agreeing."""
    reader = FieldReader(raw, [])
    status = reader.choice("invoiceState", INVOICE_STATES, InvoiceStatus.FINALIZED)
    export = reader.choice("accountingExportState", EXPORT_STATES, ExportStatus.TO_TRANSFER)
    day = reader.day("invoiceDate", required=False)
    if status in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED):
        return False
    if export is ExportStatus.DO_NOT_TRANSFER:
        return False
    return day is None or first <= day <= last


def record_id(raw: Any) -> int | None:
    """The Moment id of a raw object when it has a readable one (its time may not be)."""
    ident = FieldReader(raw, []).integer(ID)
    return ident if ident is not None and ident > 0 else None


def record_label(kind: str, raw: Any) -> str:
    """The number an operator knows a raw object by (customer, project or invoice number)."""
    value = raw.get(NUMBER_FIELDS[kind]) if isinstance(raw, Mapping) else None
    label = (
        str(value)
        if value is not None
        else f"id {raw.get(ID) if isinstance(raw, Mapping) else '?'}"
    )
    return printable(label)


def printable(text: str) -> str:
    """``text`` with any lone UTF-16 surrogate written as its escape (``\\ud800``), so a
    label Moment garbled can still be stored, printed and looked up."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
