"""What one run shares between records: clients, state, caches of what exists in DK+."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.dkplus import DkPlusClient
from dksync.errors import NotFound, RecordRejected
from dksync.moment import MomentClient
from dksync.outcome import Outcome, RunReport
from dksync.records import Customer, FinancialAccount, Project
from dksync.state import State

CACHE_SIZE = 2000


class _Lru(OrderedDict[int, Any]):
    """A small bounded cache, so memory does not grow with the number of records."""

    def remember(self, key: int, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        if len(self) > CACHE_SIZE:
            self.popitem(last=False)
        return value


@dataclass
class RunContext:
    config: Config
    moment: MomentClient
    dkplus: DkPlusClient
    state: State
    report: RunReport
    dry_run: bool = False
    known_customers: set[str] = field(default_factory=set)
    known_projects: set[str] = field(default_factory=set)
    known_products: set[str] = field(default_factory=set)
    synced: dict[tuple[str, int], Outcome] = field(default_factory=dict)
    _customers: _Lru = field(default_factory=_Lru)
    _projects: _Lru = field(default_factory=_Lru)
    _accounts: dict[int, FinancialAccount] | None = None

    def moment_customer(self, ident: int) -> Customer:
        """The Moment customer by id, fetched at most once per run (while cached)."""
        found: Customer | None = self._customers.get(ident)
        if found is None:
            found = self._customers.remember(ident, _fetch(self.moment, "customers", ident))
        return found

    def remember_customer(self, customer: Customer) -> None:
        self._customers.remember(customer.id, customer)

    def moment_project(self, ident: int) -> Project:
        found: Project | None = self._projects.get(ident)
        if found is None:
            found = self._projects.remember(ident, _fetch(self.moment, "projects", ident))
        return found

    def accounts(self) -> Mapping[int, FinancialAccount]:
        """Moment's financial accounts by id, read once per run."""
        if self._accounts is None:
            accounts: dict[int, FinancialAccount] = {}
            for raw in self.moment.all("accounts"):
                try:
                    account: FinancialAccount = moment.parse("accounts", raw)
                except RecordRejected:
                    continue
                accounts[account.id] = account
            self._accounts = accounts
        return self._accounts


def _fetch(client: MomentClient, kind: str, ident: int) -> Any:
    try:
        return moment.parse(kind, client.get(kind, ident))
    except NotFound:
        raise RecordRejected(f"{kind[:-1]} id {ident} does not exist in Moment") from None
    except RecordRejected as exc:
        raise RecordRejected(f"{kind[:-1]} id {ident}: {exc}") from None
