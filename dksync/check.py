"""``dksync check``: is this configuration ready for go-live? One screen of plain answers.

It checks the services and the credentials, the sales person, the shape of one Moment
object of each kind (Moment's JSON is partly assumed: this is how a user finds out), and
scans recent invoices for the two data problems that would reject them: a line whose
financial account lacks the code the item-code rule needs, and a customer without a
valid kennitala.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

from dksync import moment
from dksync.config import Config
from dksync.dkplus import DkPlusClient
from dksync.engine import Clients
from dksync.errors import DksyncError
from dksync.mapping import kennitala
from dksync.mapping.invoices import item_code, skip_reason
from dksync.moment import MomentClient
from dksync.records import Customer, FinancialAccount, Invoice

KINDS = ("customers", "projects", "invoices", "accounts", "products")


@dataclass
class CheckItem:
    name: str
    ok: bool
    detail: str
    items: list[str] = field(default_factory=list)


@dataclass
class Readiness:
    checks: list[CheckItem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)


def _attempt(result: Readiness, name: str, probe: Callable[[], CheckItem]) -> bool:
    try:
        item = probe()
    except DksyncError as exc:
        item = CheckItem(name, False, str(exc))
    result.checks.append(item)
    return item.ok


def check(config: Config, clients: Clients, scan_limit: int = 1000) -> Readiness:
    """Every go-live check, in order; later checks are skipped when a service is down."""
    result = Readiness([CheckItem("config", True, f"{config.source or 'the config'} is valid")])
    m, d = clients.moment, clients.dkplus
    moment_up = _attempt(
        result,
        "Moment answers",
        lambda: CheckItem(
            "Moment answers",
            bool(m.sample("customers") is not None),
            f"{config.moment.base_url}, company {config.moment.company}, the API key works",
        ),
    )
    dkplus_up = _attempt(
        result,
        "DK+ answers",
        lambda: CheckItem(
            "DK+ answers", d.connection(), f"{config.dkplus.base_url} company/connection"
        ),
    )
    if dkplus_up:
        _attempt(result, "sales person", lambda: _sales_person(d, config.dkplus.sales_person))
    if moment_up:
        for kind in KINDS:
            _attempt(result, f"Moment {kind}", _shape_of(m, kind))
        _attempt(result, "invoice data", lambda: _scan(config, m, scan_limit))
    return result


def _sales_person(client: DkPlusClient, number: str) -> CheckItem:
    exists = client.sales_person_exists(number)
    verdict = "exists" if exists else "does not exist"
    return CheckItem("sales person", exists, f"'{number}' {verdict} in DK+ (dkplus.sales_person)")


def _shape_of(client: MomentClient, kind: str) -> Callable[[], CheckItem]:
    return lambda: _shape(client, kind)


def _shape(client: MomentClient, kind: str) -> CheckItem:
    sample = client.sample(kind)
    if not sample:
        return CheckItem(f"Moment {kind}", True, "none to look at yet")
    problems = moment.field_problems(kind, sample[0])
    detail = (
        "one object read; every expected field is there"
        if not problems
        else "one object read; these expected fields are missing or of another type"
    )
    return CheckItem(f"Moment {kind}", not problems, detail, problems)


def _scan(config: Config, client: MomentClient, limit: int) -> CheckItem:
    accounts: dict[int, FinancialAccount] = {}
    for raw in client.all("accounts"):
        if not moment.field_problems("accounts", raw):
            account: FinancialAccount = moment.parse("accounts", raw)
            accounts[account.id] = account
    lacking: Counter[str] = Counter()
    customers: dict[int, str] = {}
    read = 0
    for raw in islice(client.changed_since("invoices", config.sync.start_from), limit):
        read += 1
        if moment.field_problems("invoices", raw):
            continue
        invoice: Invoice = moment.parse("invoices", raw)
        if skip_reason(invoice):
            continue
        customers.setdefault(invoice.customer_id, invoice.customer_number)
        for n, line in enumerate(invoice.lines, start=1):
            code, _, reason = item_code(n, line, accounts, config.invoice_rules)
            if code is None and reason:
                lacking[reason.split(" has no product and ", 1)[-1]] += 1
    bad_ids = _customers_without_kennitala(client, customers)
    items = [f"{what} (on {n} line{'s' if n > 1 else ''})" for what, n in sorted(lacking.items())]
    items += bad_ids
    detail = f"{read} invoices since {config.sync.start_from or 'the start'} scanned" + (
        "" if not items else ": these would be rejected"
    )
    return CheckItem("invoice data", not items, detail, items)


def _customers_without_kennitala(client: MomentClient, customers: dict[int, str]) -> list[str]:
    found = []
    for ident, number in sorted(customers.items(), key=lambda kv: kv[1]):
        raw = client.get("customers", ident)
        if moment.field_problems("customers", raw):
            found.append(f"customer {number}: its Moment record is malformed")
            continue
        customer: Customer = moment.parse("customers", raw)
        checked = kennitala.check(customer.kennitala)
        if checked.error:
            found.append(f"customer {number} {checked.error} but has invoices")
    return found
