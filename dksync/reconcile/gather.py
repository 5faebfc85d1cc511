"""The reconciliation's shell: read Moment, DK+ and dksync's state, then compare (pure).

Reads only, ever: Moment through its lists, DK+ through its sales-invoice list (a handful
of pages for a month, not one GET per invoice), the state file opened read-only. No DK+
write, no cursor moved, no run recorded. When DK+ has no usable invoice list it falls
back to one lookup per invoice by reference, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from dksync import moment
from dksync.clients import Clients
from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.dkplus.lists import DkPlusLists
from dksync.errors import ListUnavailable, MalformedListing, RecordRejected, ServiceError
from dksync.mapping import MapResult, Rejected
from dksync.mapping.customers import dk_number
from dksync.mapping.invoices import map_invoice, skip_reason
from dksync.moment import MomentClient
from dksync.reconcile.compare import (
    DK_FIELDS,
    Booked,
    Expected,
    Problem,
    ProblemKind,
    Result,
    booked,
    expected,
    reconcile,
)
from dksync.reconcile.knowledge import NEVER_SENT, Knowledge
from dksync.records import Customer, FinancialAccount, Invoice

log = logging.getLogger("dksync.reconcile")
Tick = Callable[[str], None]  # called once per object read, with what is being read


@dataclass(frozen=True, slots=True)
class Period:
    """Invoice dates from ``start`` to ``end``, both included."""

    start: date
    end: date


def run(config: Config, period: Period, sources: Clients, tick: Tick | None = None) -> Result:
    """Every final Moment invoice of the period against DK+'s sales invoices."""
    tick = tick or (lambda what: None)
    invoices, unreadable = final_invoices(sources.moment, period, tick)
    customers = _customers(sources.moment, {i.customer_id for i in invoices}, tick)
    accounts = sources.moment.accounts()
    knowledge = Knowledge.open(config.state_path)
    try:
        wanted = [_expected(config, i, customers, accounts, knowledge) for i in invoices]
    finally:
        knowledge.close()
    listed = dk_invoices(sources, period, [w.invoice for w in wanted], config, tick)
    return reconcile(wanted, listed, unreadable)


def final_invoices(
    client: MomentClient, period: Period, tick: Tick
) -> tuple[list[Invoice], list[Problem]]:
    """Moment's invoices of the period that are to be in DK+ (final, not do-not-transfer),
    each once (a list read may yield an invoice twice when it changes meanwhile); and, as
    problems, those that cannot be read unless what can be read rules them out."""
    found: dict[int, Invoice] = {}
    unreadable: dict[str, Problem] = {}
    for raw in client.all("invoices"):
        tick("Moment invoices")
        try:
            invoice: Invoice = moment.parse("invoices", raw)
        except RecordRejected as exc:
            label = moment.record_label("invoices", raw)
            if moment.may_be_due(raw, period.start, period.end):
                detail = f"Moment sent it in a shape dksync cannot read, so not compared: {exc}"
                unreadable[label] = Problem(ProblemKind.UNREADABLE, label, (), detail)
            continue
        if skip_reason(invoice) is None and period.start <= invoice.invoice_date <= period.end:
            kept = found.get(invoice.id)
            if kept is None or kept.modified <= invoice.modified:
                found[invoice.id] = invoice
    return sorted(found.values(), key=lambda i: i.number), list(unreadable.values())


def _customers(client: MomentClient, wanted: set[int], tick: Tick) -> dict[int, Customer]:
    """The invoices' customers, from Moment's customer list (one read, not one GET each)."""
    found: dict[int, Customer] = {}
    if not wanted:
        return found
    for raw in client.all("customers"):
        tick("Moment customers")
        key = moment.record_key(raw)
        if key is not None and key[1] in wanted:
            try:
                customer: Customer = moment.parse("customers", raw)
            except RecordRejected as exc:
                label = moment.record_label("customers", raw)
                log.warning("Moment customer %s cannot be read: %s", label, exc)
                continue
            found[customer.id] = customer
    return found


def _expected(
    config: Config,
    invoice: Invoice,
    customers: dict[int, Customer],
    accounts: dict[int, FinancialAccount],
    knowledge: Knowledge,
) -> Expected:
    """Moment's own numbers for the invoice; the mapping is asked only why an invoice
    dksync never sent would be rejected."""
    why = knowledge.why_missing(invoice.id)
    customer = customers.get(invoice.customer_id)
    if why == NEVER_SENT:
        mapped: MapResult = Rejected(
            (f"its customer (Moment id {invoice.customer_id}) cannot be read from Moment",)
        )
        if customer is not None:
            rules = config.customer_rules
            mapped = map_invoice(invoice, customer, accounts, rules, config.invoice_rules)
        if isinstance(mapped, Rejected):
            why += f": dksync rejects it ({mapped.message})"
    number = _customer_number(config, invoice, customer)
    return expected(invoice, number, config.invoice_rules.default_currency, why)


def _customer_number(config: Config, invoice: Invoice, customer: Customer | None) -> str | None:
    """The DK+ customer number Moment's invoice names: the invoice's own customer number,
    put through the config's numbering (``customers.number_from`` and the like, the one
    translation the customers step uses too); None when Moment cannot tell."""
    named = (invoice.customer_number or (customer.number if customer else None) or "").strip()
    if customer is None:
        return None if config.customer_rules.number_from == "kennitala" else named or None
    number = dk_number(replace(customer, number=named or customer.number), config.customer_rules)
    return (named or None) if isinstance(number, Rejected) else number


def dk_invoices(
    sources: Clients, period: Period, references: list[str], config: Config, tick: Tick
) -> list[Booked]:
    """DK+'s sales invoices that carry one of ``references``, from its list of the period
    (a day wider on each side: whether DK+'s bounds include the day is not published), or
    per reference when there is no usable list."""
    currency, wanted = config.invoice_rules.default_currency, set(references)
    try:
        listed = _listed(sources.lists, period, tick)
    except ListUnavailable as exc:
        log.warning("%s: looking %d invoices up one by one instead", exc, len(references))
        listed = _by_reference(sources.dkplus, references, tick)
    try:
        found = (booked(raw, currency) for raw in listed)
        return [item for item in found if item.reference in wanted]
    except MalformedListing as exc:
        message = f"DK+ answered a sales invoice list that is not as documented: {exc}"
        raise ServiceError(message) from exc


def _listed(lists: DkPlusLists, period: Period, tick: Tick) -> list[dict[str, Any]]:
    """The whole list read before anything is used: a list that fails halfway is dropped
    entirely for the one-by-one way, never used in part."""
    pages = lists.sales_invoices(
        created_after=period.start - timedelta(days=1),
        created_before=period.end + timedelta(days=1),
        include_lines=False,
        include=DK_FIELDS,
    )
    return list(_ticking(pages, tick, "DK+ invoices"))


def _by_reference(
    client: DkPlusClient, references: Iterable[str], tick: Tick
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ref in references:
        tick("DK+ invoices (one by one)")
        found.extend(i for i in client.invoices_by_reference(ref) if _same(i, ref))
    return found


def _same(raw: Any, ref: str) -> bool:
    return isinstance(raw, dict) and str(raw.get("Reference") or "").strip() == ref


def _ticking(items: Iterable[dict[str, Any]], tick: Tick, what: str) -> Iterator[dict[str, Any]]:
    for item in items:
        tick(what)
        yield item
