"""dksync's own view of the Moment records it syncs, free of Moment's JSON names.

The Moment adapter (``dksync.moment``) is the only place that turns Moment JSON into these
and back; the pure mapping modules and the engine only ever see these types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class CustomerStatus(enum.Enum):
    ACTIVE = "active"
    POTENTIAL = "potential"
    BLOCKED = "blocked"
    INACTIVE = "inactive"


class InvoiceStatus(enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    FINALIZED = "finalized"
    SENT = "sent"
    PAID = "paid"


class ExportStatus(enum.Enum):
    TO_TRANSFER = "to_transfer"
    TRANSFERRED = "transferred"
    DO_NOT_TRANSFER = "do_not_transfer"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country_code: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    modified: datetime
    version: int
    number: str
    name: str
    status: CustomerStatus
    kennitala: str | None = None
    phone: str | None = None
    email: str | None = None
    address: Address = Address()
    credit_days: int | None = None


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    modified: datetime
    version: int
    number: str
    name: str
    status: str
    customer_id: int | None
    customer_number: str | None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)
    surcharge_percent: Decimal = Decimal(0)
    vat_percent: Decimal | None = None
    line_total: Decimal | None = None
    product_id: int | None = None
    product_number: str | None = None
    product_name: str | None = None
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """A Moment invoice. References carry Moment ids; their numbers may be None when Moment
    sent only the id (a flat reference) and the number could not be learnt."""

    id: int
    modified: datetime
    version: int
    number: int
    status: InvoiceStatus
    export_status: ExportStatus
    is_credit_note: bool
    credited_number: int | None
    invoice_date: date
    due_date: date | None
    currency: str | None
    customer_id: int
    customer_number: str | None
    project_number: str | None
    lines: tuple[InvoiceLine, ...]
    project_id: int | None = None


@dataclass(frozen=True, slots=True)
class FinancialAccount:
    id: int
    number: str
    name: str
    vat_percent: Decimal | None
    vat_code: str | None
    revenue_class: str | None


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    number: str
    name: str
    unit_price: Decimal | None
    account_id: int | None
