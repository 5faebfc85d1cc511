"""What the sync steps of one run share: the config, the Moment reads, the DK+ client (or its
dry-run twin), the books, and per-record locks.

Records may be synced by several threads at once (``dkplus.concurrency``); everything here
is safe for that. The context holds no per-record results: the books do.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.dkplus.api import DkPlusApi
from dksync.errors import ConfigError, NotFound, PermissionDenied, RecordRejected
from dksync.kinds import ObjectKind, ReasonCode
from dksync.moment import MomentClient
from dksync.records import Customer, FinancialAccount, Project
from dksync.sync.books import Books
from dksync.sync.settle import Settle

CACHE_SIZE = 500
STRIPES = 64


class _Lru:
    """A small bounded, thread-safe cache, so memory does not grow with the run."""

    def __init__(self) -> None:
        self._items: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: int) -> Any:
        with self._lock:
            return self._items.get(key)

    def remember(self, key: int, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)
        return value


class MomentReads:
    """Moment records the steps need by id (an invoice's customer and project), fetched at
    most once while cached, and the financial accounts, read once per run."""

    def __init__(self, client: MomentClient) -> None:
        self.client = client
        self._customers = _Lru()
        self._projects = _Lru()
        self._accounts: dict[int, FinancialAccount] | None = None
        self._once = threading.Lock()

    def customer(self, ident: int) -> Customer:
        found: Customer | None = self._customers.get(ident)
        if found is None:
            found = self._customers.remember(ident, _fetch(self.client, "customers", ident))
        return found

    def project(self, ident: int) -> Project:
        found: Project | None = self._projects.get(ident)
        if found is None:
            found = self._projects.remember(ident, _fetch(self.client, "projects", ident))
        return found

    def changed_since(self, kind: str, since: datetime | None) -> moment.ListRead:
        """The stream's read: raw objects changed at or after ``since``."""
        return self.client.changed_since(kind, since)

    def raw(self, kind: str, ident: int) -> Any:
        """One raw object by id, as a stream would have read it; ``NotFound`` when gone."""
        return self.client.get(kind, ident)

    def accounts(self) -> Mapping[int, FinancialAccount]:
        """Moment's financial accounts by id (account numbers are not unique)."""
        with self._once:
            if self._accounts is None:
                self._accounts = self.client.accounts()
            return self._accounts


class KeyLocks:
    """Serialises work on one object of a kind, from a fixed set of locks per kind.

    Deadlock-free: locks are only ever taken in the order invoice, project, customer (and
    product), and a customer's or product's holder never waits for another lock.
    """

    def __init__(self) -> None:
        self._locks = {kind: [threading.RLock() for _ in range(STRIPES)] for kind in ObjectKind}

    def __call__(self, kind: ObjectKind, key: object) -> threading.RLock:
        return self._locks[kind][hash(key) % STRIPES]


class ProductRates:
    """The VAT rate each item code has in DK+ this run (None: DK+ did not say)."""

    def __init__(self) -> None:
        self._rates: dict[str, tuple[Decimal | None, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Decimal | None, str] | None:
        with self._lock:
            return self._rates.get(key)

    def set(self, key: str, rate: Decimal | None, source: str) -> None:
        with self._lock:
            self._rates[key] = (rate, source)

    def drop(self, key: str) -> None:
        with self._lock:
            self._rates.pop(key, None)


@dataclass
class RunContext:
    config: Config
    moment: MomentReads
    dkplus: DkPlusApi
    books: Books
    settle: Settle
    lock: KeyLocks = field(default_factory=KeyLocks)
    product_rates: ProductRates = field(default_factory=ProductRates)
    window_trusted: bool = True
    """Whether a DK+ list's "not there" may decide a first POST (``state.lineage``)."""
    clock_warned: bool = False
    """Whether a stale Moment clock was told already (once per run, not per stream)."""
    read_all_invoices: bool = False
    """Whether this run read the invoices stream whole from the start of Moment's history."""
    _sales_person_ok: bool = False
    _once: threading.Lock = field(default_factory=threading.Lock)
    _terms: tuple[frozenset[str] | None] | None = None
    _terms_once: threading.Lock = field(default_factory=threading.Lock)

    def company_terms(self) -> frozenset[str] | None:
        """The DK+ company's payment term codes, read once per run before the first
        customer with a term is written; None when this DK+ cannot list them (no such list,
        or the token may not read it: said as a warning, the customers are still written)."""
        with self._terms_once:
            if self._terms is None:
                try:
                    codes = self.dkplus.payment_terms()
                except PermissionDenied as exc:
                    self.books.report.warn(f"payment terms not checked against DK+: {exc}")
                    codes = None
                self._terms = (None if codes is None else frozenset(codes),)
            return self._terms[0]

    def require_sales_person(self) -> None:
        """Checked once, before the first invoice is sent; ``ConfigError`` stops the run."""
        with self._once:
            if self._sales_person_ok:
                return
            number = self.config.dkplus.sales_person
            if not self.dkplus.sales_person_exists(number):
                raise ConfigError(
                    f"dkplus.sales_person: sales person '{number}' does not exist in DK+; no "
                    "invoice was sent. Create it in DK+ or fix the config"
                )
            self._sales_person_ok = True


def _fetch(client: MomentClient, kind: str, ident: int) -> Any:
    try:
        return moment.parse(kind, client.get(kind, ident))
    except NotFound as exc:
        raise RecordRejected(
            f"{ObjectKind(kind).singular} id {ident} does not exist in Moment",
            ReasonCode.NOT_IN_MOMENT,
        ) from exc
    except RecordRejected as exc:
        raise RecordRejected(f"{ObjectKind(kind).singular} id {ident}: {exc}", exc.code) from exc


@dataclass(frozen=True)
class RunOptions:
    only: tuple[str, ...] = ()
    dry_run: bool = False
    since: datetime | None = None
    limit: int | None = None
    keep_unchanged: bool = False
    on_locked: Callable[[], None] | None = None
    """Called once the run holds its lock (the heartbeat's start ping)."""
    wait_lock: float = 0.0
    """Seconds to wait for another run's lock before giving up (exit 6)."""
