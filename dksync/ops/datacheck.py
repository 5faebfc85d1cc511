"""``dksync check``'s look at the data: which records the first run would reject, known
before go-live from Moment's lists alone.

Customers are judged by the very mapping a run uses (numbers DK+ cannot hold, credit days
``customers.payment_terms`` does not map, missing names), by a kennitala another of them
has (a second debtor) and, for those with invoices, by their kennitala; invoices by the
item-code rule. Customers come from Moment's customer list, read once (a page per
``moment.page_size`` customers), never one request each. Every invoice in the go-live
window is scanned, up to ``limit``; past it the check says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.mapping import Rejected, kennitala
from dksync.mapping.customers import dk_number, map_customer
from dksync.mapping.invoices import item_code, skip_reason
from dksync.moment import MomentClient
from dksync.records import Customer, Invoice

Tick = Callable[[str], None]
Holders = dict[str, tuple[str, str]]
"""Kennitala → (Moment number, DK+ number) of the first customer seen with it."""
SCAN_LIMIT = 100_000
"""Invoices scanned at most; a window with more is said to be scanned in part."""


@dataclass
class Findings:
    """What the scan found: the records that would be rejected, and how much was read."""

    invoices: int = 0
    complete: bool = True
    customers: int = 0
    invoice_items: list[str] = field(default_factory=list)
    customer_items: list[str] = field(default_factory=list)


def scan(config: Config, client: MomentClient, limit: int, tick: Tick) -> Findings:
    """Invoices of the window, then the customers the first run would write."""
    found = Findings()
    start = config.sync.start_from
    accounts = client.accounts()
    lacking: Counter[str] = Counter()
    with_invoices: set[int] = set()
    for invoice in _invoices(client, start, limit, found, tick):
        with_invoices.add(invoice.customer_id)
        for n, line in enumerate(invoice.lines, start=1):
            code, _, reason = item_code(n, line, accounts, config.invoice_rules)
            if code is None and reason:
                lacking[reason.split(" has no product and ", 1)[-1]] += 1
    found.invoice_items += [
        f"{what} (on {n} line{'s' if n > 1 else ''})" for what, n in sorted(lacking.items())
    ]
    found.customer_items = _customers(config, client, start, with_invoices, found, tick)
    return found


def _invoices(
    client: MomentClient, start: datetime | None, limit: int, found: Findings, tick: Tick
) -> Iterator[Invoice]:
    """The final, to-be-transferred invoices of the window, parsed; ``found`` counts them,
    notes when ``limit`` cut the scan short, and names each malformed one that may be final
    (it was skipped without a word: 'invoice data ok' while the run would reject it)."""
    for raw in client.changed_since("invoices", start):
        if found.invoices >= limit:
            found.complete = False
            return
        found.invoices += 1
        tick("invoices")
        problems = moment.field_problems("invoices", raw)
        if problems:  # the run rejects it as malformed: said here, as for a customer
            if moment.may_be_due(raw, date.min, date.max):
                label = moment.record_label("invoices", raw)
                found.invoice_items.append(
                    f"invoice {label}: its Moment record is malformed ({problems[0]})"
                )
            continue
        invoice: Invoice = moment.parse("invoices", raw)
        if not skip_reason(invoice):
            yield invoice


def _customers(
    config: Config,
    client: MomentClient,
    start: datetime | None,
    with_invoices: set[int],
    found: Findings,
    tick: Tick,
) -> list[str]:
    """Why each customer the first run would write (changed in the window, or on an
    invoice) would be rejected; from one read of the customer list."""
    items: list[str] = []
    seen: set[int] = set()
    holders: Holders = {}
    for raw in client.changed_since("customers", None):
        found.customers += 1
        tick("customers")
        key = moment.record_key(raw)
        if key is None:
            continue
        modified, ident = key
        seen.add(ident)
        if ident in with_invoices or start is None or modified >= start:
            items += _customer_problems(config, raw, ident, ident in with_invoices, holders)
    for ident in sorted(with_invoices - seen):  # not in the list: Moment's list is not trusted
        items += _customer_problems(config, client.get("customers", ident), ident, True, holders)
    return items


def _customer_problems(
    config: Config, raw: Any, ident: int, has_invoices: bool, holders: Holders
) -> list[str]:
    if moment.field_problems("customers", raw):
        return [f"customer id {ident}: its Moment record is malformed"]
    customer: Customer = moment.parse("customers", raw)
    mapped = map_customer(customer, config.customer_rules)
    problems = list(mapped.reasons) if isinstance(mapped, Rejected) else []
    checked = kennitala.check(customer.kennitala)
    if has_invoices and checked.error:
        problems.append(f"customer {customer.number} {checked.error} but has invoices")
    number = dk_number(customer, config.customer_rules)
    if checked.digits and isinstance(number, str):
        problems += _shared_kennitala(customer.number, number, checked.digits, holders)
    return problems


def _shared_kennitala(label: str, number: str, digits: str, holders: Holders) -> list[str]:
    """A second Moment customer with a kennitala another has: a run writes the first it
    reaches and rejects the other (``kennitala_taken``), unless it is linked to the
    other's DK+ customer (one debtor on purpose)."""
    held = holders.setdefault(digits, (label, number))
    if held[1] == number:
        return []
    return [
        f"customers {held[0]} and {label} share kennitala {digits}: a run writes one and "
        "rejects the other as kennitala_taken (a second debtor); merge them in Moment, or "
        f"link one to the other's DK+ customer (customers.link: {{{label}: {held[1]}}})"
    ]
