"""``dksync check``: is this configuration ready for go-live? One screen of plain answers.

It judges the setup: the config, both services and their credentials, the Moment company
code, the DK+ sales person, and the shape of one Moment object of each kind (Moment's JSON
is partly assumed: this is how a user finds out, with ready-to-paste ``field_names`` lines
for what is missing). Any of those wrong fails the check. Then it scans recent invoices
for data that would be rejected (a line whose financial account lacks its code, a customer
without a valid kennitala): those are warnings, for a person to fix in Moment, and fail
the check only with ``--strict``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from dksync import moment
from dksync.clients import Clients
from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.errors import DksyncError
from dksync.mapping import kennitala
from dksync.mapping.invoices import item_code, skip_reason
from dksync.moment import MomentClient
from dksync.moment.shape import inspect, value_kind
from dksync.records import Customer, Invoice

KINDS = ("customers", "projects", "invoices", "accounts", "products")


@dataclass
class CheckItem:
    """One check. ``ok`` False fails the check; ``warning`` marks a data problem that
    fails it only under ``--strict``."""

    name: str
    ok: bool
    detail: str
    items: list[str] = field(default_factory=list)
    warning: bool = False


@dataclass
class Readiness:
    checks: list[CheckItem] = field(default_factory=list)
    strict: bool = False

    @property
    def warnings(self) -> int:
        return sum(1 for c in self.checks if c.warning)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks) and not (self.strict and self.warnings)


def _attempt(result: Readiness, name: str, probe: Callable[[], CheckItem]) -> bool:
    try:
        item = probe()
    except DksyncError as exc:
        item = CheckItem(name, False, str(exc))
    result.checks.append(item)
    return item.ok


def check(
    config: Config, clients: Clients, scan_limit: int = 1000, strict: bool = False
) -> Readiness:
    """Every go-live check, in order; later checks are skipped when a service is down."""
    result = Readiness(
        [CheckItem("config", True, f"{config.source or 'the config'} is valid")], strict
    )
    m, d = clients.moment, clients.dkplus
    moment_up = _attempt(result, "Moment answers", lambda: _moment_answers(config, m))
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
        _attempt(result, "first run", lambda: _start_from(config, m))
        _attempt(result, "invoice data", lambda: _scan(config, m, scan_limit))
    return result


def _moment_answers(config: Config, client: MomentClient) -> CheckItem:
    """Moment answers a list with the key and company code (a 404 names the company)."""
    client.sample("customers")
    return CheckItem(
        "Moment answers",
        True,
        f"{config.moment.base_url}, company {config.moment.company}, the API key works",
    )


def _sales_person(client: DkPlusClient, number: str) -> CheckItem:
    exists = client.sales_person_exists(number)
    verdict = "exists" if exists else "does not exist"
    return CheckItem("sales person", exists, f"'{number}' {verdict} in DK+ (dkplus.sales_person)")


def _shape_of(client: MomentClient, kind: str) -> Callable[[], CheckItem]:
    return lambda: _shape(client, kind)


def _shape(client: MomentClient, kind: str) -> CheckItem:
    name = f"Moment {kind}"
    sample = client.sample(kind)
    if not sample:
        return CheckItem(name, True, "none to look at yet")
    shape, note = inspect(kind, sample[0], client.names), ""
    if shape.problems or shape.missing:
        fuller = _with_include_base(client, kind)
        if fuller is not None:
            richer = inspect(kind, fuller, client.names)
            if len(richer.missing) < len(shape.missing):
                note = "; some fields come only with /include/base, which dksync does not ask for"
    items = [f"missing or of another type: {p}" for p in shape.problems]
    items += [f"expected but not sent: {m}" for m in shape.missing]
    items += [f"likely: paste under moment.field_names:  {s}" for s in shape.suggestions]
    items += [f"sent but not read by dksync: {u}" for u in shape.unread]
    if shape.problems:
        detail = "one object read; fields dksync needs are missing or of another type" + note
        return CheckItem(name, False, detail, items)
    if shape.missing:
        detail = "one object read; optional fields are missing (their values stay empty)" + note
        return CheckItem(name, True, detail, items, warning=True)
    return CheckItem(name, True, "one object read; every expected field is there", items)


def _with_include_base(client: MomentClient, kind: str) -> Any:
    try:
        fuller = client.sample(kind, include_base=True)
    except DksyncError:
        return None  # the entity does not take includes
    return fuller[0] if fuller else None


def _start_from(config: Config, client: MomentClient) -> CheckItem:
    start, now = config.sync.start_from, client.server_now()
    if start is not None and start > now:
        return CheckItem(
            "first run",
            True,
            f"sync.start_from {moment.format_instant(start)} is in the future (Moment's clock "
            f"says {moment.format_instant(now)}): the first run reads nothing",
            warning=True,
        )
    where = moment.format_instant(start) if start else "the start of Moment's records"
    return CheckItem("first run", True, f"the first run reads changes since {where}")


def _scan(config: Config, client: MomentClient, limit: int) -> CheckItem:
    """Recent invoices' data that would be rejected: warnings, not setup failures."""
    accounts = client.accounts()
    lacking: Counter[str] = Counter()
    customers: set[int] = set()
    read = 0
    for raw in islice(client.changed_since("invoices", config.sync.start_from), limit):
        read += 1
        if moment.field_problems("invoices", raw):
            continue
        invoice: Invoice = moment.parse("invoices", raw)
        if skip_reason(invoice):
            continue
        customers.add(invoice.customer_id)
        for n, line in enumerate(invoice.lines, start=1):
            code, _, reason = item_code(n, line, accounts, config.invoice_rules)
            if code is None and reason:
                lacking[reason.split(" has no product and ", 1)[-1]] += 1
    items = [f"{what} (on {n} line{'s' if n > 1 else ''})" for what, n in sorted(lacking.items())]
    items += _customers_without_kennitala(client, customers)
    since = moment.format_instant(config.sync.start_from) if config.sync.start_from else None
    detail = f"{read} invoices since {since or 'the start'} scanned"
    if read == 0:
        detail += ": none to look at, so nothing about the data is known yet"
    elif items:
        detail += ": these would be rejected until fixed in Moment"
    return CheckItem("invoice data", True, detail, items, warning=bool(items) or read == 0)


def _customers_without_kennitala(client: MomentClient, customers: set[int]) -> list[str]:
    found = []
    for ident in sorted(customers):
        raw = client.get("customers", ident)
        if moment.field_problems("customers", raw):
            found.append(f"customer id {ident}: its Moment record is malformed")
            continue
        customer: Customer = moment.parse("customers", raw)
        checked = kennitala.check(customer.kennitala)
        if checked.error:
            found.append(f"customer {customer.number} {checked.error} but has invoices")
    return found


def masked_sample(client: MomentClient, kind: str) -> Any:
    """One object of a kind with every value replaced by its kind ("text", "number", ...),
    so a user can share its shape without sharing data; None when there is none."""
    sample = client.sample(kind)
    return mask(sample[0]) if sample else None


def mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value[:1]] + (
            [f"... {len(value) - 1} more"] if len(value) > 1 else []
        )
    return value_kind(value) if value is not None else None
