"""What one run shares between records: clients, state, and what is known to exist in DK+.

Records may be synced by several threads at once (``dkplus.concurrency``); everything here
is safe for that. Memory stays flat as runs grow: what an invoice needs of its customer is
read from the state file (``customer_facts``), not kept in RAM, and per-run results are a
number or a short reason per record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.dkplus import DkPlusClient
from dksync.errors import ConfigError, NotFound, RecordRejected
from dksync.moment import MomentClient
from dksync.outcome import Action, Outcome, RunReport
from dksync.records import Customer, CustomerStatus, FinancialAccount, Project
from dksync.state import State

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


@dataclass
class RunContext:
    config: Config
    moment: MomentClient
    dkplus: DkPlusClient
    state: State
    report: RunReport
    dry_run: bool = False
    facts_fresh: bool = False
    known_projects: set[str] = field(default_factory=set)
    known_products: set[str] = field(default_factory=set)
    results: dict[tuple[str, int], str | None] = field(default_factory=dict)
    _dry_facts: dict[int, tuple[str, str, str | None]] = field(default_factory=dict)
    _customers: _Lru = field(default_factory=_Lru)
    _projects: _Lru = field(default_factory=_Lru)
    _accounts: dict[int, FinancialAccount] | None = None
    _sales_person_ok: bool = False
    _locks: dict[str, list[threading.Lock]] = field(
        default_factory=lambda: {
            kind: [threading.Lock() for _ in range(STRIPES)]
            for kind in ("customers", "projects", "products", "invoices")
        }
    )
    _once: threading.Lock = field(default_factory=threading.Lock)

    def key_lock(self, kind: str, key: object) -> threading.Lock:
        """The lock that serialises work on one object of a kind, from a fixed set per kind.

        Deadlock-free: locks are only ever taken in the order invoice, project, customer
        (and product), and a customer's or product's holder never waits for another lock.
        """
        return self._locks[kind][hash(key) % STRIPES]

    def book(
        self,
        kind: str,
        ident: int,
        label: str,
        write: Callable[[], Outcome],
        *,
        remember: bool = True,
    ) -> Outcome:
        """Run one record's sync step, then ``record`` its outcome (a ``RecordRejected``
        from the step becomes a rejection with that reason)."""
        try:
            outcome = write()
        except RecordRejected as exc:
            outcome = Outcome(kind, ident, label, Action.REJECT, str(exc))
        return self.record(outcome, remember=remember)

    def record(self, outcome: Outcome, *, remember: bool = True) -> Outcome:
        """Keep the books for one outcome: a rejection is stored with its reason (not in a
        dry run), the outcome is counted, and for records others depend on (``remember``)
        this run's result is kept: None when in DK+, else why not."""
        rejected = outcome.action is Action.REJECT
        if rejected and not self.dry_run:
            with self.state.transaction():
                self.state.reject(
                    outcome.object_type, outcome.moment_id, outcome.label, outcome.detail
                )
        if remember:
            self.results[(outcome.object_type, outcome.moment_id)] = (
                outcome.detail if rejected else None
            )
        self.report.add(outcome)
        return outcome

    def forget_successes(self) -> None:
        """Drop this run's "in DK+" results once a stream is done: the state answers that
        from now on, so RAM keeps only the reasons of rejected records."""
        self.results = {key: reason for key, reason in self.results.items() if reason}

    def remember_facts(self, customer: Customer) -> None:
        """What an invoice needs of this customer, for the rest of the run and later runs."""
        if self.dry_run:
            self._dry_facts[customer.id] = (customer.number, customer.name, customer.kennitala)
        else:
            self.state.record_customer_facts(
                customer.id, customer.number, customer.name, customer.kennitala
            )

    def known_customer(self, ident: int) -> Customer | None:
        """The customer as last written to DK+, when that is known to be current: synced in
        this run, or the customer stream read all changes in this run."""
        if not (self.facts_fresh or (("customers", ident) in self.results)):
            return None
        facts = self._dry_facts.get(ident) or self.state.customer_facts(ident)
        if facts is None:
            return None
        number, name, kennitala = facts
        return Customer(
            id=ident,
            modified=datetime.min.replace(tzinfo=UTC),
            version=0,
            number=number,
            name=name,
            status=CustomerStatus.ACTIVE,
            kennitala=kennitala,
        )

    def moment_customer(self, ident: int) -> Customer:
        """The Moment customer by id, fetched at most once while it stays cached."""
        found: Customer | None = self._customers.get(ident)
        if found is None:
            found = self._customers.remember(ident, _fetch(self.moment, "customers", ident))
        return found

    def moment_project(self, ident: int) -> Project:
        found: Project | None = self._projects.get(ident)
        if found is None:
            found = self._projects.remember(ident, _fetch(self.moment, "projects", ident))
        return found

    def accounts(self) -> Mapping[int, FinancialAccount]:
        """Moment's financial accounts by id, read once per run."""
        with self._once:
            if self._accounts is None:
                accounts: dict[int, FinancialAccount] = {}
                for raw in self.moment.all("accounts"):
                    if not moment.field_problems("accounts", raw):
                        account: FinancialAccount = moment.parse("accounts", raw)
                        accounts[account.id] = account
                self._accounts = accounts
            return self._accounts

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
    except NotFound:
        raise RecordRejected(f"{kind[:-1]} id {ident} does not exist in Moment") from None
    except RecordRejected as exc:
        raise RecordRejected(f"{kind[:-1]} id {ident}: {exc}") from None
