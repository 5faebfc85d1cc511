"""A local DK+ API: the endpoints dksync uses, with DK+'s answers and validations.

Faithful where it matters to dksync: creates answer 200 with the object, unknown keys 404,
duplicate numbers 409, validation failures 400 ``{"Message": ...}``, DK+ assigns invoice
numbers and does not keep references unique. The lists and the project update of the 2026
Swagger are in ``dkplus_lists``, with their knobs (``DkPlusKnobs``). Stricter than the
real API in one way on purpose: a body that breaks the contract schema (an unknown field,
say) is refused, so dksync's own mistakes show.
"""

from __future__ import annotations

import base64
import copy
import itertools
import secrets
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dksync.mapping.money import HUNDRED, line_total, round_half_up
from dksync.sandbox import dkplus_company, dkplus_lists, schema
from dksync.sandbox.dkplus_lists import DkPlusKnobs
from dksync.sandbox.httpd import SandboxServer
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.messages import BadRequest, Handler, Reply, Request

API = "/api/v1"
SEG = "([^/]+)"
NO_DATE = "0001-01-01T00:00:00"
"""DK's "no date" in an answer (``calculate`` answers it for an invoice sent without one)."""
STORED_PRICE = Decimal("1E-10")
"""DK stores a unit price it computed to 10 decimals (64257.0281124498 in a live answer)."""


class DkPlusStore:
    """What the fake DK+ company holds. Keys: numbers, item codes upper-cased."""

    def __init__(self, first_invoice_number: int = 90001) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.sales_persons: dict[str, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.by_reference: dict[str | None, list[int]] = {}
        self.booked: set[int] = set()
        self._numbers = itertools.count(first_invoice_number)
        self._record_ids = itertools.count(1)

    def next_invoice_number(self) -> int:
        return next(self._numbers)

    def stamp(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["RecordID"] = next(self._record_ids)
        obj["Modified"] = datetime.now(UTC).isoformat(timespec="seconds")
        return obj

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "customers": self.customers,
                "projects": self.projects,
                "products": self.products,
                "sales_persons": self.sales_persons,
                "invoices": [self.invoices[n] for n in sorted(self.invoices)],
                "booked": sorted(self.booked),
            }
        )


def _valid(definition: str, body: Any) -> dict[str, Any]:
    problems = schema.errors(definition, body)
    if problems:
        raise BadRequest(400, "The request is invalid: " + "; ".join(problems))
    result: dict[str, Any] = body
    return result


def price_invoice(
    store: DkPlusStore, body: dict[str, Any], knobs: DkPlusKnobs | None = None
) -> dict[str, Any]:
    """The invoice model DK+ answers for a create body: lines priced, totals summed. DK
    answers ``DueDate`` 0001-01-01 when none was sent."""
    knobs = knobs or DkPlusKnobs()
    customer = store.customers.get(body["Customer"]["Number"])
    if customer is None:
        raise BadRequest(400, f"Customer {body['Customer']['Number']} does not exist")
    if body["SalesPerson"] not in store.sales_persons:
        raise BadRequest(400, f"Sales person {body['SalesPerson']} does not exist")
    if body.get("Project") and body["Project"] not in store.projects:
        raise BadRequest(400, f"Project {body['Project']} does not exist")
    currency = body.get("Currency") or "ISK"
    whole = knobs.isk_whole_kronur and currency.upper() == "ISK"
    lines = [
        _price_line(store, n, line, knobs.vat_inclusive_default, whole)
        for n, line in enumerate(body.get("Lines") or [], 1)
    ]
    total = sum((line["TotalAmount"] for line in lines), Decimal(0))
    with_tax = sum((line["TotalAmountWithTax"] for line in lines), Decimal(0))
    return {
        "Number": 0,
        "CNumber": customer["Number"],
        "CName": body["Customer"].get("Name") or customer.get("Name"),
        "CSSNumber": body["Customer"].get("SSN"),
        "InvoiceDate": body.get("Date"),
        "DueDate": body.get("DueDate") or NO_DATE,
        "Reference": body.get("Reference"),
        "SalePerson": body["SalesPerson"],
        "Project": body.get("Project"),
        "Currency": currency,
        "TotalAmount": total,
        "TotalAmountWithTax": with_tax,
        "Lines": lines,
    }


def _price_line(
    store: DkPlusStore, n: int, line: dict[str, Any], inclusive_default: bool, whole: bool
) -> dict[str, Any]:
    """One line as DK books it: a VAT-inclusive price (``IncludingVAT`` true, or left out
    under the ``vat_inclusive_default`` knob) is divided by 1 + VAT; ISK totals in whole
    krónur under ``isk_whole_kronur``."""
    product = store.products.get(line["ItemCode"].upper())
    if product is None:
        raise BadRequest(400, f"Line {n}: ItemCode {line['ItemCode']} does not exist")
    quantity = Decimal(line.get("Quantity") or 0)
    given = line.get("Price")
    price = Decimal(given if given is not None else product.get("UnitPrice1") or 0)
    discount = Decimal(line.get("Discount") or 0)
    tax = Decimal(product.get("TaxPercent") or 0)
    including = line.get("IncludingVAT")
    if including or (including is None and inclusive_default):
        price = round_half_up(price / (1 + tax / HUNDRED), STORED_PRICE)
    total = line_total(quantity, price, discount)
    if whole:
        total = round_half_up(total, Decimal(1))
    return {
        "SequenceNumber": n,
        "ItemCode": product["ItemCode"],
        "Text": line.get("Text"),
        "Quantity": quantity,
        "UnitPrice": price,
        "UnitPriceWithTax": round_half_up(price * (1 + tax / HUNDRED)),
        "Discount": discount,
        "DiscountAmount": round_half_up(quantity * price) - total,
        "TotalAmount": total,
        "TotalAmountWithTax": round_half_up(total * (1 + tax / HUNDRED)),
    }


class DkPlusServer(SandboxServer):
    """The fake DK+ API. ``token`` is the bearer token it accepts."""

    name = "dkplus"

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 0,
        knobs: Knobs | None = None,
        token: str | None = None,
        sales_persons: tuple[str, ...] = ("SALA1",),
    ) -> None:
        if not isinstance(knobs, DkPlusKnobs):
            knobs = DkPlusKnobs(**asdict(knobs or Knobs()))
        super().__init__(port=port, seed=seed, knobs=knobs)
        self.dkplus_knobs = knobs
        self.token = token or secrets.token_hex(16)
        self.store = DkPlusStore()
        for number in sales_persons:
            self.add_sales_person(number)
        self._register()

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        """Every API route answers 401 for a module the token lacks (``denied_modules``)."""
        super().add_route(method, pattern, dkplus_company.guard(self, handler))

    def authenticate(self, headers: Any) -> str | None:
        auth = headers.get("Authorization") or ""
        return "token" if auth == f"Bearer {self.token}" else None

    # --- Python admin ----------------------------------------------------------------------

    def add_sales_person(self, number: str) -> None:
        with self.lock:
            self.store.sales_persons[number] = {
                "Number": number,
                "Employee": number,
                "NameOnSalesOrders": f"Sölumaður {number}",
            }

    def remove_sales_person(self, number: str) -> None:
        with self.lock:
            self.store.sales_persons.pop(number, None)

    def add_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A customer already in DK+ (typed by hand, numbered as its users chose)."""
        return dkplus_company.add_customer(self, _valid("Customer", body))

    def add_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        """Book an invoice as another system would (e.g. Moment's built-in integration)."""
        with self.lock:
            return self._create_invoice(_valid("InvoiceCreate", body), booked=True)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return self.store.snapshot()

    def delete_invoice(self, number: int) -> bool:
        """Delete one invoice by hand, as a DK+ user may (False when there is none)."""
        with self.lock:
            invoice = self.store.invoices.pop(number, None)
            if invoice is None:
                return False
            self.store.by_reference[invoice.get("Reference")].remove(number)
            self.store.booked.discard(number)
            return True

    def edit_invoice(self, number: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Overwrite fields of one invoice by hand (a total, a date, the customer...)."""
        with self.lock:
            invoice = self.store.invoices.get(number)
            if invoice is None:
                return None
            old_reference = invoice.get("Reference")
            invoice.update(changes)
            invoice["Modified"] = datetime.now(UTC).isoformat(timespec="seconds")
            if invoice.get("Reference") != old_reference:
                self.store.by_reference[old_reference].remove(number)
                self.store.by_reference.setdefault(invoice.get("Reference"), []).append(number)
            return copy.deepcopy(invoice)

    # --- routes -------------------------------------------------------------------------------

    def _register(self) -> None:
        dkplus_lists.register(self)
        dkplus_company.register(self)
        add = self.add_route
        add("GET", f"{API}/company/connection", lambda r: Reply(200, True))
        add("GET", f"{API}/customer/{SEG}", lambda r: self._get(self.store.customers, r.params[0]))
        add("POST", f"{API}/customer", self._create_customer)
        add("PUT", f"{API}/customer/{SEG}", self._update_customer)
        add("GET", f"{API}/project/{SEG}", lambda r: self._get(self.store.projects, r.params[0]))
        add("POST", f"{API}/project", self._create_project)
        add("GET", f"{API}/[Pp]roduct/{SEG}", self._get_product)
        add("POST", f"{API}/[Pp]roduct", self._create_product)
        add(
            "GET",
            f"{API}/sales/person/{SEG}",
            lambda r: self._get(self.store.sales_persons, r.params[0]),
        )
        add("POST", f"{API}/sales/invoice", self._post_invoice)
        add("PATCH", f"{API}/sales/invoice/calculate", self._calculate)
        add("GET", f"{API}/sales/invoice/reference/{SEG}/{SEG}/{SEG}", self._by_reference)
        add("GET", f"{API}/sales/invoice/([0-9]+)", self._get_invoice)
        self.add_admin("GET", "/store", lambda r: Reply(200, self.snapshot()))
        self.add_admin("POST", "/salesperson", self._admin_sales_person)
        self.add_admin("POST", "/invoice", lambda r: Reply(200, self.add_invoice(r.body)))
        self.add_admin("DELETE", "/invoice/([0-9]+)", self._admin_delete_invoice)
        self.add_admin("PATCH", "/invoice/([0-9]+)", self._admin_edit_invoice)

    def _get(self, table: dict[Any, dict[str, Any]], key: Any) -> Reply:
        with self.lock:
            found = table.get(key)
            if found is None:
                return Reply(404, {"Message": f"{key} was not found"})
            return Reply(200, copy.deepcopy(found))

    def _create(
        self, table: dict[str, dict[str, Any]], key: str, body: dict[str, Any], what: str
    ) -> Reply:
        with self.lock:
            if key in table:
                return Reply(409, {"Message": f"{what} {body.get('Number') or key} already exists"})
            table[key] = self.store.stamp(copy.deepcopy(body))
            return Reply(200, copy.deepcopy(table[key]))

    def _create_customer(self, r: Request) -> Reply:
        body = _valid("Customer", r.body)
        dkplus_company.check_customer(self, body)
        reply = self._create(self.store.customers, body["Number"], body, "Customer")
        if reply.status == 200:
            with self.lock:
                dkplus_company.created(self, self.store.customers[body["Number"]])
        return reply

    def _update_customer(self, r: Request) -> Reply:
        body = _valid("CustomerUpdate", r.body)
        dkplus_company.check_customer(self, body)
        with self.lock:
            current = self.store.customers.get(r.params[0])
            if current is None:
                return Reply(404, {"Message": f"Customer {r.params[0]} was not found"})
            dkplus_company.update_customer(self, current, body)
            self.store.stamp(current)
            return Reply(200, copy.deepcopy(current))

    def _create_project(self, r: Request) -> Reply:
        body = _valid("Project", r.body)
        with self.lock:
            bill_to = body.get("CustomerToBill")
            if bill_to and bill_to not in self.store.customers:
                raise BadRequest(400, f"Customer {bill_to} does not exist")
            return self._create(self.store.projects, body["Number"], body, "Project")

    def _get_product(self, r: Request) -> Reply:
        code = r.params[0]
        if r.query.get("isBase64", "").lower() == "true":
            code = base64.b64decode(code).decode()
        return self._get(self.store.products, code.upper())

    def _create_product(self, r: Request) -> Reply:
        body = _valid("Product", r.body)
        return self._create(self.store.products, body["ItemCode"].upper(), body, "Product")

    def _post_invoice(self, r: Request) -> Reply:
        body = _valid("InvoiceCreate", r.body)
        with self.lock:
            booked = r.query.get("post", "").lower() == "true"
            return Reply(200, self._create_invoice(body, booked))

    def _create_invoice(self, body: dict[str, Any], booked: bool) -> dict[str, Any]:
        invoice = price_invoice(self.store, body, self.dkplus_knobs)
        invoice["Number"] = self.store.next_invoice_number()
        invoice["Modified"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.store.invoices[invoice["Number"]] = invoice
        self.store.by_reference.setdefault(invoice.get("Reference"), []).append(invoice["Number"])
        if booked:
            self.store.booked.add(invoice["Number"])
        return copy.deepcopy(invoice)

    def _calculate(self, r: Request) -> Reply:
        body = _valid("InvoiceCreate", r.body)
        with self.lock:
            return Reply(200, price_invoice(self.store, body, self.dkplus_knobs))

    def _by_reference(self, r: Request) -> Reply:
        reference, page, count = r.params
        if not (page.isdigit() and count.isdigit()) or int(page) < 1:
            raise BadRequest(400, "page and count must be positive numbers")
        with self.lock:
            found = [self.store.invoices[n] for n in self.store.by_reference.get(reference, [])]
        start = (int(page) - 1) * int(count)
        return Reply(200, copy.deepcopy(found[start : start + int(count)]))

    def _get_invoice(self, r: Request) -> Reply:
        return self._get(self.store.invoices, int(r.params[0]))

    def _admin_delete_invoice(self, r: Request) -> Reply:
        if not self.delete_invoice(int(r.params[0])):
            return Reply(404, {"Message": f"Invoice {r.params[0]} was not found"})
        return Reply(200, True)

    def _admin_edit_invoice(self, r: Request) -> Reply:
        if not isinstance(r.body, dict):
            raise BadRequest(400, "body must be an object of the fields to overwrite")
        edited = self.edit_invoice(int(r.params[0]), r.body)
        if edited is None:
            return Reply(404, {"Message": f"Invoice {r.params[0]} was not found"})
        return Reply(200, edited)

    def _admin_sales_person(self, r: Request) -> Reply:
        number = (r.body or {}).get("Number")
        if not isinstance(number, str):
            raise BadRequest(400, 'body must be {"Number": "..."}')
        self.add_sales_person(number)
        return Reply(200, self.store.sales_persons[number])
