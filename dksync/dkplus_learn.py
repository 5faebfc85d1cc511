"""Learn in bulk what DK+ already holds, from its lists (issue 11 A; not wired into the run).

A first sync spends one GET per record just to learn whether DK+ has it. The lists answer
that for a whole kind in ``ceil(held / page_size) + 1`` requests, with only the fields
dksync compares (``include``). Each ``learn_*`` function reads one list into a ``Known``:
the objects by key, or, when the list cannot be read (``ListUnavailable``), ``objects``
None and the reason, so the caller goes back to one GET per record for that kind only.
``Known.holds`` answers True / False / None ("ask DK+ one by one").

Crossover (``worth_listing``): listing a kind costs ``ceil(held / page_size) + 1``
requests whatever is written; per-record lookups cost one GET per record to write. So
list when the records to write outnumber the pages DK+'s copy of that kind fills, plus
one. ``held`` is not known before listing: dksync's state (records it wrote of that kind)
gives a lower bound, which makes the rule lean towards listing only when it surely pays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dksync.dkplus_lists import (
    CUSTOMERS,
    PRODUCTS,
    PROJECTS,
    SALES_INVOICES,
    DkPlusLists,
    ListProblem,
    ListUnavailable,
)

# The fields dksync compares or needs, per kind: what a list is asked to ``include``.
CUSTOMER_FIELDS = (
    "Number",
    "Name",
    "Address1",
    "Address2",
    "Address3",
    "ZipCode",
    "CountryCode",
    "Phone",
    "Email",
    "Blocked",
    "PaymentTerm",
    "Modified",
)
PROJECT_FIELDS = ("Number", "Name", "CustomerToBill", "CustomerNameToBill", "Modified")
PRODUCT_FIELDS = ("ItemCode",)
INVOICE_FIELDS = ("Number", "Reference", "InvoiceDate")


@dataclass(frozen=True)
class Known:
    """What one list taught: ``objects`` by key, or None with ``problem`` when the list
    could not be read; ``requests`` is what learning it cost."""

    kind: str
    objects: dict[str, dict[str, Any]] | None
    problem: ListUnavailable | None
    requests: int

    def holds(self, key: str) -> bool | None:
        """Whether DK+ holds ``key``; None when unknown (look it up one by one)."""
        return None if self.objects is None else key in self.objects

    def get(self, key: str) -> dict[str, Any] | None:
        return None if self.objects is None else self.objects.get(key)


def worth_listing(to_write: int, held: int, page_size: int) -> bool:
    """True when reading the whole list costs fewer requests than a GET per record."""
    return to_write > math.ceil(max(0, held) / page_size) + 1


def _learn(
    lists: DkPlusLists,
    kind: str,
    path: str,
    key: str,
    items: Iterable[dict[str, Any]],
    upper: bool = False,
) -> Known:
    before = lists.requests_sent
    try:
        objects = {k.upper() if upper else k: v for k, v in _keyed(path, key, items)}
    except ListUnavailable as exc:
        return Known(kind, None, exc, lists.requests_sent - before)
    return Known(kind, objects, None, lists.requests_sent - before)


def _keyed(
    path: str, key: str, items: Iterable[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Objects by their key field; an object without one makes the whole list unusable."""
    for item in items:
        value = item.get(key)
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise ListUnavailable(path, ListProblem.NOT_A_LIST, f"an object without {key}")
        yield str(value).strip(), item


def learn_customers(lists: DkPlusLists) -> Known:
    """Every DK+ customer by number, with the fields dksync compares."""
    items = lists.customers(include=CUSTOMER_FIELDS)
    return _learn(lists, "customers", CUSTOMERS, "Number", items)


def learn_projects(lists: DkPlusLists) -> Known:
    """Every DK+ project by number, with its name and the customer it bills."""
    items = lists.projects(include=PROJECT_FIELDS)
    return _learn(lists, "projects", PROJECTS, "Number", items)


def learn_products(lists: DkPlusLists) -> Known:
    """Every DK+ product by item code upper-cased (DK+ looks item codes up in any case)."""
    items = lists.products(include=PRODUCT_FIELDS)
    return _learn(lists, "products", PRODUCTS, "ItemCode", items, upper=True)


def learn_invoice_references(lists: DkPlusLists, first: date, last: date) -> Known:
    """The references DK+ holds on invoices dated ``first``..``last`` (a day wider each
    side, as DK+ does not say whether its bounds are inclusive), each with every DK+
    number carrying it: ``{reference: {"Numbers": [...]}}``. An invoice that is not
    here may still be in DK+ under another date: pending and uncertain invoices are
    still looked up one by one."""
    before = lists.requests_sent
    items = lists.sales_invoices(
        created_after=first - timedelta(days=1),
        created_before=last + timedelta(days=1),
        include_lines=False,
        include=INVOICE_FIELDS,
    )
    grouped: dict[str, dict[str, Any]] = {}
    try:
        for number, item in _keyed(SALES_INVOICES, "Number", items):
            reference = str(item.get("Reference") or "").strip()
            if reference:
                grouped.setdefault(reference, {"Numbers": []})["Numbers"].append(number)
    except ListUnavailable as exc:
        return Known("invoices", None, exc, lists.requests_sent - before)
    return Known("invoices", grouped, None, lists.requests_sent - before)
