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
it), each window read once; or, when the state cannot vouch that a window's "not there"
is safe (a new, restored or copied state: ``state/lineage.py``), from DK+'s whole invoice
list, every date, read once: an invoice dated anywhere is in it.

A list that is missing (404/405), refused, or answers something that is not a list is not
"empty": that kind falls back to one GET per record for the rest of the run, said at -v.
Pending and uncertain invoices are always looked up one by one (``fresh=True``).

Customers are listed whole (no ``include``): an update writes the whole record back (DK's
PUT may replace it), so what was learned must be all DK+ holds. The learned customers also
answer which DK+ customers hold a kennitala (by ``SSNumber`` or by a kennitala-shaped
number, with or without the dash) before a customer is created.

Memory stays flat in the data size: a learned object is kept as its compact JSON text (a
fraction of a dict's size), and what this run writes is not kept: a listed key it updates
is marked held, a customer or project it creates adds nothing (a key the list lacks that
the state says dksync wrote is asked from DK+), a product (few, not in the state) is marked.
A window keeps only the references the state does not hold (those are decided from the
state first), windows never overlap, and lists are read outside the lock: a lookup of a
kind or window being read waits for it, the others go on.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from dksync import jsonio
from dksync.dkplus.api import Booked, DkPlusApi
from dksync.dkplus.lists import DkPlusLists
from dksync.errors import ListProblem, ListUnavailable
from dksync.kinds import ObjectKind
from dksync.mapping.kennitala import normalise

log = logging.getLogger("dksync.learned")

MIN_LOOKUPS = 3
WINDOW = timedelta(days=45)
EVERY_DATE = (date.min, date.max)
"""The window of a lookup that may not trust dates: DK+'s whole invoice list."""
PROJECT_FIELDS = ("Number", "Name", "CustomerToBill", "CustomerNameToBill")
PRODUCT_FIELDS = ("ItemCode", "TaxPercent")
INVOICE_FIELDS = ("Number", "Reference", "InvoiceDate", "CNumber", "TotalAmount")

Objects = dict[str, str | None]
"""Learned objects by key as compact JSON text, or None for a key this run wrote (held in
DK+; its fields are asked from DK+ when needed)."""

Wrote = Callable[[ObjectKind, str], bool]
"""Whether dksync's state says it wrote a record of this kind under this DK+ key."""


class _Kind:
    """One kind's learning: lookups so far, and once learned the objects by key (or None
    with the reason the list could not be read)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.lookups = 0
        self.objects: Objects | None = None
        self.unavailable: str | None = None
        self.direct: set[str] = set()
        self.reading: threading.Event | None = None
        self.held_meanwhile: set[str] = set()


class ListedDkPlus:
    """The DK+ client, with lookups answered from lists once that pays (see module doc)."""

    def __init__(
        self,
        client: DkPlusApi,
        lists: DkPlusLists,
        written: Mapping[str, int],
        known: Callable[[str], bool] = lambda reference: False,
        wrote: Wrote = lambda kind, key: False,
    ) -> None:
        """``written``: records per kind dksync's state says it wrote; ``known``: whether
        the state already holds an invoice with this reference (a window does not keep
        it: it is never asked here); ``wrote``: whether the state says dksync wrote this
        customer or project (a key the list lacks is then asked from DK+)."""
        self._client = client
        self._known = known
        self._wrote = wrote
        self._lists = lists
        self._lock = threading.RLock()
        page = lists.page_size
        self._kinds = {
            kind: _Kind(max(MIN_LOOKUPS, 1 + math.ceil(written.get(kind, 0) / page)))
            for kind in ObjectKind
        }
        self._kennitala: dict[str, set[str]] = {}
        self._windows: list[tuple[date, date]] = []
        self._pending: list[tuple[date, date, threading.Event]] = []
        self._references: dict[str, list[str]] = {}

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
        if self._learned(ObjectKind.CUSTOMERS, state, self._customers):
            with self._lock:
                return sorted(self._kennitala.get(digits, ()))
        return self._client.kennitala_holders(digits)

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]:
        """Always asked one by one: after a POST, only DK+ itself can say."""
        return self._client.invoices_by_reference(reference)

    def held_invoices(self, reference: str, on: date | None) -> list[dict[str, Any]]:
        """DK+'s invoices with this reference, before a first POST: from the learned window
        of invoice dates holding ``on`` (None: the whole list, any date) once lists pay,
        else one by one. A window is read outside the lock (other lookups go on); a lookup
        in a window being read waits."""
        state = self._kinds[ObjectKind.INVOICES]
        while True:
            with self._lock:
                if self._covered(on):
                    held = self._references.get(reference, [])
                    return [jsonio.loads(text) for text in held]
                if state.unavailable is not None:
                    break
                pending = next((e for f, t, e in self._pending if _holds((f, t), on)), None)
                mine = pending is None
                if pending is None:
                    state.lookups += 1
                    if state.lookups <= state.threshold:
                        break
                    first, last = self._gap(on)
                    pending = threading.Event()
                    self._pending.append((first, last, pending))
            if mine:
                self._learn_window(first, last, pending)
            else:
                pending.wait()
        return self._client.invoices_by_reference(reference)

    # --- writes: passed on, and what they wrote is now known to be held ---------------------

    def create_customer(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_customer(body)
        self._held(ObjectKind.CUSTOMERS, str(body["Number"]))
        return answer

    def update_customer(self, number: str, body: Mapping[str, Any]) -> Any:
        answer = self._client.update_customer(number, body)
        self._held(ObjectKind.CUSTOMERS, number)
        return answer

    def create_project(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_project(body)
        self._held(ObjectKind.PROJECTS, str(body["Number"]))
        return answer

    def update_project(self, number: str, body: Mapping[str, Any]) -> Any:
        answer = self._client.update_project(number, body)
        self._held(ObjectKind.PROJECTS, number)
        return answer

    def create_product(self, body: Mapping[str, Any]) -> Any:
        answer = self._client.create_product(body)
        self._held(ObjectKind.PRODUCTS, str(body["ItemCode"]).upper())
        return answer

    def post_invoice(self, body: Mapping[str, Any]) -> Booked | None:
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
        if self._learned(kind, state, learn):
            with self._lock:
                objects = None if key in state.direct else state.objects  # None: ask DK+
                text, missing = (objects or {}).get(key), objects is not None and key not in objects
            if text is not None:
                found: dict[str, Any] = jsonio.loads(text)
                return found
            if missing and (kind is ObjectKind.PRODUCTS or not self._wrote(kind, key)):
                return None
        return one(key)

    def _learned(
        self, kind: ObjectKind, state: _Kind, learn: Callable[[], Iterable[dict[str, Any]]]
    ) -> bool:
        """Whether the kind's list is learned, reading it now when that pays. The list is
        read outside the lock; a lookup of the kind meanwhile waits for it."""
        with self._lock:
            if state.objects is not None or state.unavailable is not None:
                return state.objects is not None
            reading, mine = state.reading, state.reading is None
            if reading is None:
                state.lookups += 1
                if state.lookups <= state.threshold:
                    return False
                reading = state.reading = threading.Event()
        if mine:
            self._learn(kind, state, learn, reading)
        else:
            reading.wait()
        with self._lock:
            return state.objects is not None

    def _learn(
        self,
        kind: ObjectKind,
        state: _Kind,
        learn: Callable[[], Iterable[dict[str, Any]]],
        done: threading.Event,
    ) -> None:
        """Read the kind's list; whatever happens, lookups waiting for it go on after."""
        try:
            objects = self._read(kind, state, learn)
            with self._lock:
                if objects is None:
                    return
                for held in state.held_meanwhile:
                    _mark(kind, objects, held)
                state.objects, state.held_meanwhile = objects, set()
            log.info("%s: learned %d from the DK+ list", kind.value, len(objects))
        finally:
            with self._lock:
                state.reading = None if state.objects is None else state.reading
            done.set()

    def _read(
        self, kind: ObjectKind, state: _Kind, learn: Callable[[], Iterable[dict[str, Any]]]
    ) -> Objects | None:
        key = "ItemCode" if kind is ObjectKind.PRODUCTS else "Number"
        objects: Objects = {}
        try:
            for item in learn():
                value = item.get(key)
                if value in (None, ""):
                    raise ListUnavailable(
                        kind.value, ListProblem.NOT_A_LIST, f"an object without {key}"
                    )
                name = str(value).strip().upper() if key == "ItemCode" else str(value)
                objects[name] = jsonio.dumps(item)
                if kind is ObjectKind.CUSTOMERS:
                    self._index_kennitala(name, item)
        except ListUnavailable as exc:
            with self._lock:
                state.unavailable = str(exc)
            log.info("%s: %s; one GET per record instead", kind.value, exc)
            return None
        return objects

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

    def _covered(self, on: date | None) -> bool:
        return any(_holds(window, on) for window in self._windows)

    def _gap(self, on: date | None) -> tuple[date, date]:
        """±``WINDOW`` around ``on``, cut where a learned or pending window begins: windows
        never overlap, so no invoice is read twice (callers hold the lock). Every date when
        ``on`` is None (a run reads either windows or the whole list, never both)."""
        if on is None:
            return EVERY_DATE
        first, last = on - WINDOW, on + WINDOW
        taken = [(f, t) for f, t in self._windows] + [(f, t) for f, t, _ in self._pending]
        for begins, ends in taken:
            if ends < on:
                first = max(first, ends + timedelta(days=1))
            elif begins > on:
                last = min(last, begins - timedelta(days=1))
        return first, last

    def _learn_window(self, first: date, last: date, done: threading.Event) -> None:
        """Read one window of invoice dates; whatever happens, lookups waiting go on after."""
        try:
            found = self._read_window(first, last)
            with self._lock:
                if found is None:
                    return
                for reference, items in found.items():
                    held = self._references.setdefault(reference, [])
                    known = set(held)  # the bounds are widened by a day: a neighbour's
                    held.extend(text for text in items if text not in known)  # not twice
                self._windows.append((first, last))
            log.info("invoices: learned %d references dated %s..%s", len(found), first, last)
        finally:
            with self._lock:
                self._pending = [p for p in self._pending if p[2] is not done]
            done.set()

    def _read_window(self, first: date, last: date) -> dict[str, list[str]] | None:
        found: dict[str, list[str]] = {}
        whole = (first, last) == EVERY_DATE  # no bounds at all, never date.min - 1 day
        try:
            for item in self._lists.sales_invoices(
                created_after=None if whole else first - timedelta(days=1),
                created_before=None if whole else last + timedelta(days=1),
                include_lines=False,
                include=INVOICE_FIELDS,
            ):
                reference = str(item.get("Reference") or "").strip()
                if item.get("Number") in (None, ""):
                    raise ListUnavailable(
                        "sales invoices", ListProblem.NOT_A_LIST, "an invoice without Number"
                    )
                if reference and not self._known(reference):
                    found.setdefault(reference, []).append(jsonio.dumps(item))
        except ListUnavailable as exc:
            with self._lock:
                self._kinds[ObjectKind.INVOICES].unavailable = str(exc)
            log.info("invoices: %s; one lookup per reference instead", exc)
            return None
        return found

    def _held(self, kind: ObjectKind, key: str) -> None:
        """This run wrote ``key``: DK+ holds it. Its body is not kept (the state keeps what
        dksync wrote); a later lookup asks DK+ for it."""
        with self._lock:
            state = self._kinds[kind]
            if state.objects is not None:
                _mark(kind, state.objects, key)
            elif state.reading is not None:
                state.held_meanwhile.add(key)


def _mark(kind: ObjectKind, objects: Objects, key: str) -> None:
    """Mark a key this run wrote held: a listed one loses its (now stale) text; a customer
    or project the list lacks adds nothing (the state records the write, ``wrote``
    answers it); a product, which the state does not record, is added."""
    if key in objects or kind is ObjectKind.PRODUCTS:
        objects[key] = None


def _holds(window: tuple[date, date], on: date | None) -> bool:
    """Whether a learned window answers a lookup of ``on`` (None: only the whole list)."""
    return window == EVERY_DATE if on is None else window[0] <= on <= window[1]
