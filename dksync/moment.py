"""The Moment adapter: the ONLY module that knows Moment's paths, parameters and JSON names.

Much of Moment's JSON shape is assumed (see the spec). Everything assumed lives here, in
both directions: ``parse_*`` turns Moment JSON into ``records`` for the sync, ``encode_*``
turns records back into Moment JSON for the sandbox server, so a correction found against
a live account is a change to this one file. ``field_problems`` lists, in plain words, what
a live object lacks (used by ``dksync check``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dksync.errors import FatalError, RecordRejected
from dksync.fields import FieldReader
from dksync.fields import parse_instant as parse_instant
from dksync.http import Kind, Pacer, RetryPolicy, Transport, Verdict, retry_after_seconds
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

API_PREFIX = "/api/1.0/companies/{company}"
API_USER = "apikey"
ENTITY_PATHS = {
    "customers": "customers",
    "projects": "projects",
    "invoices": "invoices",
    "accounts": "financialAccounts",
    "products": "products",
}
ID, CREATED, MODIFIED, VERSION = "id", "createdDate", "lastModifiedDate", "version"
PARAM_PAGE, PARAM_SIZE, PARAM_SORT = "page", "size", "sort"
PARAM_FROM, PARAM_TO = "lastModifiedDateFrom", "lastModifiedDateTo"
SORT_ASCENDING = "lastModifiedDate,asc"
ENVELOPE_CONTENT, ENVELOPE_PAGE = "content", "page"

_CUSTOMER_STATES = {s.value: s for s in CustomerStatus}
_INVOICE_STATES = {s.value: s for s in InvoiceStatus}
_EXPORT_STATES = {
    "toTransfer": ExportStatus.TO_TRANSFER,
    "transferred": ExportStatus.TRANSFERRED,
    "doNotTransfer": ExportStatus.DO_NOT_TRANSFER,
}
_INVOICE_TYPES = {"invoice": False, "creditNote": True}


# --- time in Moment's format -------------------------------------------------------------


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


# --- Moment JSON → records -----------------------------------------------------------------


def _read_customer(r: FieldReader) -> Customer:
    ident, modified, version = _meta(r)
    address = r.nested("address", required=False) or FieldReader({}, r.problems)
    return Customer(
        id=ident,
        modified=modified,
        version=version,
        number=r.text("customerNumber") or "",
        name=r.text("name") or "",
        status=r.choice("customerState", _CUSTOMER_STATES, CustomerStatus.ACTIVE),
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
    customer = r.nested("customer", required=False)
    return Project(
        id=ident,
        modified=modified,
        version=version,
        number=r.text("projectNumber") or "",
        name=r.text("name") or "",
        status=r.text("projectState", required=False) or "",
        customer_id=customer.integer("id") if customer else None,
        customer_number=customer.text("customerNumber") if customer else None,
    )


def _read_line(r: FieldReader) -> InvoiceLine:
    product = r.nested("product", required=False)
    account = r.nested("financialAccount", required=False)
    return InvoiceLine(
        description=r.text("description", required=False) or "",
        quantity=r.decimal("quantity") or Decimal(0),
        unit_price=r.decimal("unitPrice") or Decimal(0),
        discount_percent=r.decimal("discountPercent", required=False) or Decimal(0),
        surcharge_percent=r.decimal("surchargePercent", required=False) or Decimal(0),
        vat_percent=r.decimal("vatPercent", required=False),
        line_total=r.decimal("lineTotal", required=False),
        product_id=product.integer("id", required=False) if product else None,
        product_number=product.text("productNumber") if product else None,
        product_name=product.text("name", required=False) if product else None,
        account_id=account.integer("id") if account else None,
    )


def _read_invoice(r: FieldReader) -> Invoice:
    ident, modified, version = _meta(r)
    customer = r.nested("customer") or FieldReader({}, r.problems)
    project = r.nested("project", required=False)
    raw_lines = r.raw.get("lines")
    if not isinstance(raw_lines, list):
        r.problems.append("field 'lines' is missing (expected a list of lines)")
        raw_lines = []
    lines = tuple(
        _read_line(FieldReader(line, r.problems, f"lines[{i}]."))
        for i, line in enumerate(raw_lines)
    )
    return Invoice(
        id=ident,
        modified=modified,
        version=version,
        number=r.integer("invoiceNumber", required=False) or 0,
        status=r.choice("invoiceState", _INVOICE_STATES),
        export_status=r.choice("accountingExportState", _EXPORT_STATES, ExportStatus.TO_TRANSFER),
        is_credit_note=r.choice("invoiceType", _INVOICE_TYPES, False),
        credited_number=r.integer("creditedInvoiceNumber", required=False),
        invoice_date=r.day("invoiceDate") or date.min,
        due_date=r.day("dueDate", required=False),
        currency=r.text("currencyCode", required=False),
        customer_id=customer.integer("id") or 0,
        customer_number=customer.text("customerNumber") or "",
        project_id=project.integer("id", required=False) if project else None,
        project_number=project.text("projectNumber") if project else None,
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
    account = r.nested("financialAccount", required=False)
    return Product(
        id=r.integer(ID) or 0,
        number=r.text("productNumber") or "",
        name=r.text("name", required=False) or "",
        unit_price=r.decimal("unitPrice", required=False),
        account_id=account.integer("id", required=False) if account else None,
    )


_READERS: dict[str, Callable[[FieldReader], Any]] = {
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
    _READERS[kind](FieldReader(raw, problems))
    return problems


def parse(kind: str, raw: Any) -> Any:
    """Moment JSON → record; ``RecordRejected`` names every field that is wrong."""
    problems: list[str] = []
    record = _READERS[kind](FieldReader(raw, problems))
    if problems:
        raise RecordRejected("Moment data is malformed: " + "; ".join(problems))
    return record


def parse_customer(raw: Any) -> Customer:
    result: Customer = parse("customers", raw)
    return result


def parse_project(raw: Any) -> Project:
    result: Project = parse("projects", raw)
    return result


def parse_invoice(raw: Any) -> Invoice:
    result: Invoice = parse("invoices", raw)
    return result


def record_key(raw: Any) -> tuple[datetime, int] | None:
    """The cursor key (last modified, id) of a raw object, or None when it has none."""
    problems: list[str] = []
    reader = FieldReader(raw, problems)
    ident, modified = reader.integer(ID), reader.instant(MODIFIED)
    if problems or ident is None or modified is None:
        return None
    return modified, ident


def record_label(kind: str, raw: Any) -> str:
    """The number an operator knows a raw object by (customer, project or invoice number)."""
    field = {"customers": "customerNumber", "projects": "projectNumber"}.get(kind, "invoiceNumber")
    value = raw.get(field) if isinstance(raw, Mapping) else None
    return (
        str(value)
        if value is not None
        else f"id {raw.get(ID) if isinstance(raw, Mapping) else '?'}"
    )


# --- records → Moment JSON (for the sandbox) ---------------------------------------------


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
    if line.product_number is not None:
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
        if i.project_number is None
        else {"id": i.project_id, "projectNumber": i.project_number}
    )
    return {
        **_meta_json(i.id, i.modified, i.version),
        "invoiceNumber": i.number or None,
        "invoiceState": i.status.value,
        "invoiceType": _key_for(_INVOICE_TYPES, i.is_credit_note),
        "creditedInvoiceNumber": i.credited_number,
        "accountingExportState": _key_for(_EXPORT_STATES, i.export_status),
        "invoiceDate": i.invoice_date.isoformat(),
        "dueDate": i.due_date.isoformat() if i.due_date else None,
        "currencyCode": i.currency,
        "customer": {"id": i.customer_id, "customerNumber": i.customer_number},
        "project": project,
        "lines": [_encode_line(n, line) for n, line in enumerate(i.lines)],
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


# --- the HTTP client -----------------------------------------------------------------------


def classify(status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
    """Moment's answers: what each status means for dksync."""
    if 200 <= status < 300:
        return Verdict(Kind.OK)
    if status == 404:
        return Verdict(Kind.NOT_FOUND)
    if status in (401, 403):
        return Verdict(Kind.FATAL, "Moment refused the API key (check moment.api_key)")
    if status == 429 or status >= 500:
        return Verdict(Kind.RETRY, retry_after=retry_after_seconds(headers))
    return Verdict(Kind.FATAL, f"Moment answered {status}")


class MomentClient:
    """Reads Moment: changed-since lists in pages, single objects by id."""

    def __init__(self, transport: Transport, company: str, page_size: int = 200) -> None:
        self._transport = transport
        self._prefix = API_PREFIX.format(company=company)
        self._page_size = page_size

    @classmethod
    def connect(
        cls,
        base_url: str,
        company: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        rate_limit: float | None = None,
        page_size: int = 200,
    ) -> MomentClient:
        token = base64.b64encode(f"{API_USER}:{api_key}".encode()).decode()
        transport = Transport(
            name="Moment",
            base_url=base_url,
            classify=classify,
            headers={"Authorization": f"Basic {token}"},
            timeout=timeout,
            policy=policy,
            pacer=Pacer(rate_limit),
        )
        return cls(transport, company, page_size)

    @property
    def requests_sent(self) -> int:
        return self._transport.requests_sent

    def _path(self, kind: str, ident: int | None = None) -> str:
        path = f"{self._prefix}/{ENTITY_PATHS[kind]}"
        return path if ident is None else f"{path}/{ident}"

    def get(self, kind: str, ident: int) -> Any:
        """One raw object by id (``NotFound`` when Moment has none)."""
        return self._transport.get(self._path(kind, ident))

    def changed_since(self, kind: str, since: datetime | None) -> Iterator[Any]:
        """Raw objects changed at or after ``since``, as Moment returns them.

        Pages by key: each request starts at the newest time seen so far, so an object
        changed during the read moves ahead and is read again instead of shifting another
        object out of an offset page. When that makes no progress (Moment ignored the
        filter, or a whole page shares one time) it falls back to offset paging for the
        rest of the read. Objects may come twice: the caller de-duplicates and re-checks.
        """
        bound, page, by_offset = since, 0, False
        while True:
            content, total_pages = self._page(kind, bound, page)
            yield from content
            last_page = page + 1 >= total_pages if total_pages is not None else False
            if not content or len(content) < self._page_size or last_page:
                return
            newest = max((k[0] for k in map(record_key, content) if k), default=None)
            if by_offset or newest is None or (bound is not None and newest <= bound):
                by_offset, page = True, page + 1
            else:
                bound, page = newest, 0

    def _page(self, kind: str, since: datetime | None, page: int) -> tuple[list[Any], int | None]:
        params: dict[str, Any] = {
            PARAM_SORT: SORT_ASCENDING,
            PARAM_SIZE: self._page_size,
            PARAM_PAGE: page,
        }
        if since is not None:
            params[PARAM_FROM] = format_instant(since)
        return _unwrap(self._transport.get(self._path(kind), params))

    def sample(self, kind: str, count: int = 1) -> list[Any]:
        """The first few objects of a kind, for ``dksync check``."""
        content, _ = _unwrap(
            self._transport.get(self._path(kind), {PARAM_PAGE: 0, PARAM_SIZE: count})
        )
        return content

    def find(self, kind: str, number: str) -> Any:
        """The raw object whose number (customer, project or invoice) is ``number``, or
        None. Reads the whole list: Moment has no lookup by number."""
        return next((raw for raw in self.all(kind) if record_label(kind, raw) == number), None)

    def all(self, kind: str) -> Iterator[Any]:
        """Every object of a kind (used for the small reference lists such as accounts)."""
        return self.changed_since(kind, None)


def _unwrap(envelope: Any) -> tuple[list[Any], int | None]:
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get(ENVELOPE_CONTENT), list):
        raise FatalError("Moment answered a list without the expected {content, page} envelope")
    page = envelope.get(ENVELOPE_PAGE)
    total = page.get("totalPages") if isinstance(page, Mapping) else None
    return envelope[ENVELOPE_CONTENT], total if isinstance(total, int) else None
