"""Invoices: posted and booked exactly once, after their customer, project and products.

The books mark an invoice ``pending`` before the POST and ``posted`` with the DK+ number
after a confirmed answer. No POST is ever repeated blindly:

- an answer that proves the request has ended (500, 503) → the reference is looked up at
  once; the invoice is posted again only when DK+ holds none;
- a lost answer (timeout, dropped connection, 502, 504, a 2xx without the DK+ number) →
  ``uncertain``; it is settled at the end of the run, once the settle time has passed
  (``settle.py``), and in any later run before anything else happens to it;
- a 400 → DK+ may lack a customer, project or product dksync believed it wrote: those are
  checked, written again when missing, and the invoice sent once more; else it is refused.

A DK+ invoice that already carries the reference is adopted only when its customer and total
match; one Moment number used by two Moment invoices is rejected, naming both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from dksync.errors import Conflict, FatalError, NotFound, RecordRejected, UncertainWrite
from dksync.kinds import InvoiceState, ObjectKind, ReasonCode
from dksync.mapping import Mapped, Rejected
from dksync.mapping.invoices import map_invoice, posted_facts, reference, skip_reason
from dksync.mapping.money import amounts_agree
from dksync.outcome import Action, Outcome
from dksync.records import Invoice
from dksync.sync.context import RunContext
from dksync.sync.customers import ensure_customer
from dksync.sync.products import ensure_products
from dksync.sync.projects import ensure_project
from dksync.sync.settle import Lost

KIND = ObjectKind.INVOICES
MAX_POSTS = 3
"""POSTs of one invoice in one run, each after DK+ answered and a lookup found none."""


def label_of(invoice: Invoice) -> str:
    return reference(invoice) if invoice.number else f"id {invoice.id}"


def sync_invoice(ctx: RunContext, invoice: Invoice) -> Outcome:
    """Post one invoice unless it is not eligible or already in DK+; record the outcome."""
    label = label_of(invoice)
    with ctx.lock(KIND, invoice.id):  # the same invoice twice in flight: one waits
        return ctx.books.take(KIND, invoice.id, label, partial(_decide, ctx, invoice, label))


def _decide(ctx: RunContext, invoice: Invoice, label: str) -> Outcome:
    why_not = skip_reason(invoice)
    if why_not:
        return Outcome(KIND, invoice.id, label, Action.SKIP, why_not)
    row = ctx.books.invoice(invoice.id)
    if row is not None and row.status == InvoiceState.POSTED:
        return _posted_before(ctx, invoice, label, str(row.dk_number))
    ctx.books.refuse_taken(invoice.id, reference(invoice))  # one DK+ invoice per number
    invoice, mapped = prepare(ctx, invoice)
    if row is not None and InvoiceState(row.status).in_flight:
        age = row.age_seconds(datetime.now(UTC))
        if age < ctx.settle.seconds:  # a POST of a run that just died may still land
            outcome = Outcome(KIND, invoice.id, label, Action.CREATE, payload=mapped.payload)
            return ctx.settle.defer(outcome, Lost(invoice, mapped, age), "a POST seconds ago")
    if row is not None and InvoiceState(row.status).in_flight:
        found = ctx.dkplus.invoices_by_reference(reference(invoice))  # after a POST: DK+ itself
    else:  # a state that cannot vouch for a window asks DK+'s whole list, any date
        on = invoice.invoice_date if ctx.window_trusted else None
        found = ctx.dkplus.held_invoices(reference(invoice), on)
    if found:
        return adopt(ctx, invoice, label, mapped, found)
    ensure_products(ctx, mapped)
    ctx.require_sales_person()
    return post(ctx, invoice, label, mapped)


def _posted_before(ctx: RunContext, invoice: Invoice, label: str, dk_number: str) -> Outcome:
    """An invoice dksync posted: unchanged, or, when its customer or total changed in Moment
    since, drift with the fields (DK+ is never changed: the accountant credits it)."""
    outcome = Outcome(KIND, invoice.id, label, Action.UNCHANGED, dk_number=dk_number)
    written, now = ctx.books.written(KIND, invoice.id), posted_facts(invoice)
    then = written.payload if written is not None else None
    if then is None or now is None or then == now:
        return outcome
    outcome.changes = {k: (then.get(k), now[k]) for k in now if then.get(k) != now[k]}
    outcome.action, outcome.code = Action.DRIFT, ReasonCode.DRIFT
    named = ", ".join(f"{k} {a} → {b}" for k, (a, b) in outcome.changes.items())
    outcome.detail = (
        f"changed in Moment after it was posted as DK+ {dk_number} ({named}): DK+ is not "
        "changed; credit it in DK+ and book it again, or change it back in Moment"
    )
    return outcome


def prepare(ctx: RunContext, invoice: Invoice) -> tuple[Invoice, Mapped]:
    """The invoice with its customer and project made to exist in DK+, and its DK+ body."""
    customer = ensure_customer(ctx, invoice.customer_id)
    if invoice.project_id is not None:
        number = ensure_project(ctx, invoice.project_id)
        invoice = replace(invoice, project_number=number)
    elif invoice.project_number:
        raise RecordRejected(
            f"its project {invoice.project_number} has no Moment id to read it by",
            ReasonCode.MALFORMED,
        )
    mapped = map_invoice(
        invoice,
        customer,
        ctx.moment.accounts(),
        ctx.config.customer_rules,
        ctx.config.invoice_rules,
    )
    if isinstance(mapped, Rejected):
        raise RecordRejected(mapped.message, ReasonCode.INVALID_DATA)
    return invoice, mapped


def adopt(
    ctx: RunContext,
    invoice: Invoice,
    label: str,
    mapped: Mapped,
    found: list[dict[str, Any]],
    *,
    ours: bool = False,
) -> Outcome:
    """The DK+ invoice that already carries this reference, taken as this Moment invoice's
    when its customer number and total match (the total as DK keeps it: ``amounts_agree``);
    else the invoice is rejected, not posted. ``ours``: it is the answer to dksync's own
    POST (confirmed by the lookup)."""
    customer, total, lines = _expected(mapped)
    currency = str(mapped.payload.get("Currency") or ctx.config.invoice_rules.default_currency)
    matching = [i for i in found if _matches(i, customer, total, currency, lines)]
    numbers = ", ".join(str(i.get("Number")) for i in found)
    if not matching:
        held = "; ".join(
            f"{i.get('Number')} (customer {i.get('CNumber')}, total {i.get('TotalAmount')})"
            for i in found
        )
        return Outcome(
            KIND,
            invoice.id,
            label,
            Action.REJECT,
            f"DK+ already holds reference {reference(invoice)} as invoice {held}; this Moment "
            f"invoice (id {invoice.id}) is customer {customer}, total {total}: not posted, "
            "not adopted; check DK+ by hand",
            code=ReasonCode.ADOPT_MISMATCH,
        )
    number = str(matching[0].get("Number"))
    action = Action.CREATE if ours else Action.ADOPT
    detail = "posted (confirmed by reference)" if ours else f"already in DK+ as {number}: adopted"
    if len(found) > 1:
        detail += f" (DK+ holds {len(found)} invoices with this reference: {numbers}; check them)"
    return Outcome(
        KIND,
        invoice.id,
        label,
        action,
        detail,
        dk_number=number,
        invoice_state=InvoiceState.POSTED,
        payload=mapped.payload,  # for the ledger: the invoice as dksync would have sent it
        posted=posted_facts(invoice),
    )


def _expected(mapped: Mapped) -> tuple[str, Decimal, int]:
    lines = mapped.payload["Lines"]
    total = sum((Decimal(line["Total"]) for line in lines), Decimal(0))
    return str(mapped.payload["Customer"]["Number"]), total, len(lines)


def _matches(
    found: dict[str, Any], customer: str, total: Decimal, currency: str, lines: int
) -> bool:
    try:
        amount = Decimal(str(found.get("TotalAmount")))
        same_customer = str(found.get("CNumber")) == customer
        return same_customer and amounts_agree(total, amount, currency, lines)
    except (InvalidOperation, ValueError):
        return False


def post(
    ctx: RunContext, invoice: Invoice, label: str, mapped: Mapped, *, may_defer: bool = True
) -> Outcome:
    """POST the invoice, never blindly twice (see the module docstring)."""
    ref = reference(invoice)
    outcome = Outcome(
        KIND, invoice.id, label, Action.CREATE, payload=mapped.payload, warnings=mapped.warnings
    )
    repaired = False
    for _ in range(MAX_POSTS):
        ctx.books.before_post(invoice.id, ref)
        try:
            number = ctx.dkplus.post_invoice(mapped.payload)
        except UncertainWrite as exc:
            if not exc.ended:
                if not may_defer:
                    return _uncertain(outcome, f"{exc}; looked up again in the next run")
                return ctx.settle.defer(outcome, Lost(invoice, mapped, 0.0), str(exc))
            found = ctx.dkplus.invoices_by_reference(ref)
            if found:
                return adopt(ctx, invoice, label, mapped, found, ours=True)
            outcome.detail = f"{exc}; DK+ holds no such invoice: posted again"
            continue
        except (NotFound, Conflict) as exc:  # an answer, so the POST ended: is it there?
            found = ctx.dkplus.invoices_by_reference(ref)
            if found:
                return adopt(ctx, invoice, label, mapped, found)
            return _refused(
                outcome,
                f"{exc}; DK+ holds no invoice with this reference: sent again next run",
                ReasonCode.REFUSED,
            )
        except RecordRejected as exc:
            if repaired or not _repair(ctx, invoice, mapped):
                return _refused(outcome, str(exc), exc.code)
            repaired = True
            outcome.detail = "DK+ lacked what it needs: written again, then posted"
            continue
        outcome.dk_number = number
        if number is not None:
            outcome.invoice_state, outcome.posted = InvoiceState.POSTED, posted_facts(invoice)
        return outcome
    return _refused(
        outcome,
        f"DK+ kept failing ({outcome.detail}); it holds no such invoice: sent again next run",
        ReasonCode.DKPLUS_FAILED,
    )


def _uncertain(outcome: Outcome, detail: str) -> Outcome:
    outcome.action, outcome.code, outcome.detail = Action.UNCERTAIN, ReasonCode.UNCERTAIN, detail
    outcome.invoice_state = InvoiceState.UNCERTAIN
    return outcome


def _refused(outcome: Outcome, detail: str, code: ReasonCode) -> Outcome:
    outcome.action, outcome.code, outcome.detail = Action.REJECT, code, detail
    outcome.invoice_state = InvoiceState.REFUSED
    return outcome


def _repair(ctx: RunContext, invoice: Invoice, mapped: Mapped) -> bool:
    """After a 400: is the customer, project or a product missing in DK+ although dksync
    believed it there? Write again what is missing; True when something was."""
    repaired = False
    customer, project = str(mapped.payload["Customer"]["Number"]), mapped.payload.get("Project")
    ctx.dkplus.forget(ObjectKind.CUSTOMERS, customer)  # ask DK+ itself, not what was learned
    if project:
        ctx.dkplus.forget(ObjectKind.PROJECTS, str(project))
    for product in mapped.needs:
        ctx.dkplus.forget(ObjectKind.PRODUCTS, str(product["ItemCode"]))
    if ctx.dkplus.customer(customer) is None:
        ensure_customer(ctx, invoice.customer_id, recheck=True)
        repaired = True
    if invoice.project_id is not None and project and ctx.dkplus.project(str(project)) is None:
        ensure_project(ctx, invoice.project_id, recheck=True)
        repaired = True
    return ensure_products(ctx, mapped, recheck=True) or repaired


def resolve_lost(ctx: RunContext, lost: Lost, previous: Outcome) -> Outcome:
    """Settle one invoice whose answer was lost: adopt what DK+ holds under its reference,
    else post it again (once; lost again, it stays uncertain for the next run)."""
    invoice, label = lost.invoice, label_of(lost.invoice)

    def decide() -> Outcome:
        found = ctx.dkplus.invoices_by_reference(reference(invoice))
        if found:
            return adopt(ctx, invoice, label, lost.mapped, found, ours=True)
        ensure_products(ctx, lost.mapped)
        return post(ctx, invoice, label, lost.mapped, may_defer=False)

    with ctx.lock(KIND, invoice.id):
        try:
            outcome = decide()
        except FatalError:
            raise
        except Exception as exc:  # the record's boundary, as in ``Books.take``
            outcome = ctx.books.failed(KIND, invoice.id, label, exc)
        return ctx.books.revise(outcome, previous.action)
