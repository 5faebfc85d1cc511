"""What DK+ holds, learned in bulk from its lists, so a big run does not spend one GET per
record just to ask "is it there?" (issue 11).

``ListedDkPlus`` wraps the DK+ client (or its dry-run twin) and answers the steps' lookups
(customer, project, product, invoices by reference) from a list read once per run, with
only the fields dksync compares. The steps do not change: they ask, and get the answer a
GET would have given.

The crossover rule: a kind is looked up one GET per record for its first ``K`` lookups in a
run, where ``K = max(3, 1 + ceil(H / P))``, ``H`` the records of that kind dksync's state
says it wrote (a lower bound on what DK+ holds) and ``P`` the list page size; the next
lookup reads the whole list, which costs ``ceil(held / P) + 1`` requests (the last page is
the empty one that proves the end). So a run with a few records to write never lists, and a
big one pays at most ``K`` GETs before the list pays for itself. Invoice references are
learned for a window of invoice dates (±``WINDOW`` days around the invoice that triggers
it), each window read once.

A list that is missing (404/405), refused, or answers something that is not a list is not
"empty": that kind falls back to one GET per record for the rest of the run, said at -v.
Pending and uncertain invoices are always looked up one by one (``fresh=True``).

Customers are listed whole (no ``include``): an update writes the whole record back (DK's
PUT may replace it), so what was learned must be all DK+ holds. The learned customers also
answer which DK+ customers hold a kennitala (by ``SSNumber`` or by a kennitala-shaped
number, with or without the dash) before a customer is created.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from dksync.dkplus.api import DkPlusApi
from dksync.dkplus.lists import DkPlusLists
from dksync.errors import ListProblem, ListUnavailable
from dksync.kinds import ObjectKind
from dksync.mapping.kennitala import normalise

log = logging.getLogger("dksync.learned")

MIN_LOOKUPS = 3
WINDOW = timedelta(days=45)
PROJECT_FIELDS = ("Number", "Name", "CustomerToBill", "CustomerNameToBill")
PRODUCT_FIELDS = ("ItemCode", "TaxPercent")
INVOICE_FIELDS = ("Number", "Reference", "InvoiceDate", "CNumber", "TotalAmount")

Objects = dict[str, dict[str, Any]]


class _Kind:
    """One kind's learning: lookups so far, and once learned the objects by key (or None
    with the reason the list could not be read)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.lookups = 0
        self.objects: Objects | None = None
        self.unavailable: str | None = None
        self.direct: set[str] = set()


class ListedDkPlus:
    """The DK+ client, with lookups answered from lists once that pays (see module doc)."""

    def __init__(
        self,
        client: DkPlusApi,
        lists: DkPlusLists,
        written: Mapping[str, int],
    ) -> None:
        self._client = client
        self._lists = lists
        self._lock = threading.RLock()
        page = lists.page_size
        self._kinds = {
            kind: _Kind(max(MIN_LOOKUPS, 1 + math.ceil(written.get(kind, 0) / page)))
            for kind in ObjectKind
        }
        self._kennitala: dict[str, set[str]] = {}
        self._windows: list[tuple[date, date]] = []
        self._references: dict[str, list[dict[str, Any]]] = {}

    # --- lookups ------------------------------------------------------------------------

    def customer(self, number: str) -> dict[str, Any] | None:
        return self._lookup(ObjectKind.CUSTOMERS, number, self._client.customer, self._customers)

    def project(self, number: str) -> dict[str, Any] | None:
        return self._lookup(ObjectKind.PROJECTS, number, self._client.project, self._projects)

    def product(self, item_code: str) -> dict[str, Any] | None:
        return self._lookup(
            ObjectKind.PRODUCTS, item_code.upper(), self._client.product, self._products
        )

    def sales_person_exists(self, number: str) -> bool:
        return self._client.sales_person_exists(number)

    def payment_terms(self) -> list[str] | None:
        return self._client.payment_terms()

    def kennitala_holders(self, digits: str) -> list[str]:
        """DK+ customers holding this kennitala: from the learned list (any number, by
        ``SSNumber`` too) once it pays, like any customer lookup; else by number."""
        state = self._kinds[ObjectKind.CUSTOMERS]
        with self._lock:
            if state.objects is None and state.unavailable is None:
                state.lookups += 1
                if state.lookups > state.threshold:
                    self._learn(ObjectKind.CUSTOMERS, state, self._customers)
            if state.objects is not None:
                return sorted(self._kennitala.get(digits, ()))
        return self._client.kennitala_holders(digits)

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]:
        """Always asked one by one: after a POST, only DK+ itself can say."""
        return self._client.invoices_by_reference(reference)

    def held_invoices(self, reference: str, on: date) -> list[dict[str, Any]]:
        """DK+'s invoices with this reference, before a first POST: from the learned window
        of invoice dates holding ``on`` once lists pay, else one by one."""
        state = self._kinds[ObjectKind.INVOICES]
        with self._lock:
            if state.unavailable is None and not self._covered(on):
                state.lookups += 1
                if state.lookups > state.threshold:
                    self._learn_window(on)
            if self._covered(on):
                return list(self._references.get(reference, []))
        return self._client.invoices_by_reference(reference)

    # --- writes: passed on, and what they wrote is now known to be held ---------------------

    def create_customer(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_customer(body)
        self._held(ObjectKind.CUSTOMERS, str(body["Number"]), body)
        return answer

    def update_customer(self, number: str, body: Mapping[str, Any]) -> Any:
        answer = self._client.update_customer(number, body)
        self._held(ObjectKind.CUSTOMERS, number, body)
        return answer

    def create_project(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_project(body)
        self._held(ObjectKind.PROJECTS, str(body["Number"]), body)
        return answer

    def update_project(self, number: str, body: Mapping[str, Any]) -> Any:
        answer = self._client.update_project(number, body)
        self._held(ObjectKind.PROJECTS, number, body)
        return answer

    def create_product(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_product(body)
        self._held(ObjectKind.PRODUCTS, str(body["ItemCode"]).upper(), body)
        return answer

    def post_invoice(self, body: Mapping[str, Any]) -> str | None:
        return self._client.post_invoice(body)

    def forget(self, kind: ObjectKind, key: str) -> None:
        """DK+ contradicted what was learned (a 400 after dksync wrote the record): this
        key is asked one by one from now on."""
        with self._lock:
            self._kinds[kind].direct.add(key.upper() if kind is ObjectKind.PRODUCTS else key)

    # --- learning -----------------------------------------------------------------------

    def _lookup(
        self,
        kind: ObjectKind,
        key: str,
        one: Callable[[str], dict[str, Any] | None],
        learn: Callable[[], Iterable[dict[str, Any]]],
    ) -> dict[str, Any] | None:
        state = self._kinds[kind]
        with self._lock:
            if state.objects is None and state.unavailable is None:
                state.lookups += 1
                if state.lookups > state.threshold:
                    self._learn(kind, state, learn)
            if state.objects is not None and key not in state.direct:
                return state.objects.get(key)
        return one(key)

    def _learn(
        self, kind: ObjectKind, state: _Kind, learn: Callable[[], Iterable[dict[str, Any]]]
    ) -> None:
        key = "ItemCode" if kind is ObjectKind.PRODUCTS else "Number"
        try:
            objects: Objects = {}
            for item in learn():
                value = item.get(key)
                if value in (None, ""):
                    raise ListUnavailable(
                        kind.value, ListProblem.NOT_A_LIST, f"an object without {key}"
                    )
                objects[str(value).strip().upper() if key == "ItemCode" else str(value)] = item
        except ListUnavailable as exc:
            state.unavailable = str(exc)
            log.info("%s: %s; one GET per record instead", kind.value, exc)
            return
        state.objects = objects
        if kind is ObjectKind.CUSTOMERS:
            for number, item in objects.items():
                self._index_kennitala(number, item)
        log.info("%s: learned %d from the DK+ list", kind.value, len(objects))

    def _index_kennitala(self, number: str, item: Mapping[str, Any]) -> None:
        """Index a DK+ customer by its ``SSNumber`` and by a kennitala-shaped number."""
        for text in (item.get("SSNumber"), number):
            digits = normalise(str(text or "").strip())
            if len(digits) == 10 and digits.isdigit():
                self._kennitala.setdefault(digits, set()).add(number)

    def _customers(self) -> Iterable[dict[str, Any]]:
        return self._lists.customers()

    def _projects(self) -> Iterable[dict[str, Any]]:
        return self._lists.projects(include=PROJECT_FIELDS)

    def _products(self) -> Iterable[dict[str, Any]]:
        return self._lists.products(include=PRODUCT_FIELDS)

    def _covered(self, on: date) -> bool:
        return any(first <= on <= last for first, last in self._windows)

    def _learn_window(self, on: date) -> None:
        first, last = on - WINDOW, on + WINDOW
        found: dict[str, list[dict[str, Any]]] = {}
        try:
            for item in self._lists.sales_invoices(
                created_after=first - timedelta(days=1),
                created_before=last + timedelta(days=1),
                include_lines=False,
                include=INVOICE_FIELDS,
            ):
                reference = str(item.get("Reference") or "").strip()
                if item.get("Number") in (None, ""):
                    raise ListUnavailable(
                        "sales invoices", ListProblem.NOT_A_LIST, "an invoice without Number"
                    )
                if reference:
                    found.setdefault(reference, []).append(item)
        except ListUnavailable as exc:
            self._kinds[ObjectKind.INVOICES].unavailable = str(exc)
            log.info("invoices: %s; one lookup per reference instead", exc)
            return
        for reference, items in found.items():
            self._references.setdefault(reference, []).extend(items)
        self._windows.append((first, last))
        log.info("invoices: learned %d references dated %s..%s", len(found), first, last)

    def _held(self, kind: ObjectKind, key: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            objects = self._kinds[kind].objects
            if objects is not None:
                objects[key] = {**objects.get(key, {}), **body}
