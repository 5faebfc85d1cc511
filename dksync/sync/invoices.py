"""Invoices: posted and booked exactly once, after their customer, project and products.

The state says ``pending`` before the POST and ``posted`` with the DK+ number after it.
A POST that may have reached DK+ leaves the invoice ``uncertain``: it is resolved by looking
its reference up in DK+ before any new attempt, now or in a later run, and is never posted
blindly again. A DK+ invoice that already carries the reference is adopted.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any

from dksync.errors import Conflict, RecordRejected, UncertainWrite
from dksync.mapping import Mapped, Rejected
from dksync.mapping.invoices import map_invoice, reference, skip_reason
from dksync.outcome import Action, Outcome
from dksync.records import Invoice
from dksync.sync.context import RunContext
from dksync.sync.customers import ensure_customer
from dksync.sync.projects import ensure_project

KIND = "invoices"
PENDING, POSTED, UNCERTAIN = "pending", "posted", "uncertain"


def sync_invoice(ctx: RunContext, invoice: Invoice) -> Outcome:
    """Post one invoice unless it is not eligible or already in DK+; record the outcome."""
    label = reference(invoice) if invoice.number else f"id {invoice.id}"
    with ctx.key_lock(KIND, invoice.id):  # the same invoice twice in flight: one waits
        return ctx.book(
            KIND, invoice.id, label, partial(_sync, ctx, invoice, label), remember=False
        )


def _sync(ctx: RunContext, invoice: Invoice, label: str) -> Outcome:
    why_not = skip_reason(invoice)
    if why_not:
        return Outcome(KIND, invoice.id, label, Action.SKIP, why_not)
    row = ctx.state.invoice(invoice.id)
    if row is not None and row.status == POSTED:
        return Outcome(KIND, invoice.id, label, Action.UNCHANGED, dk_number=str(row.dk_number))
    if row is not None and row.status in (PENDING, UNCERTAIN):
        settle = 2 * ctx.config.dkplus.timeout
        age = row.age_seconds(datetime.now(UTC))
        if age < settle:
            return Outcome(
                KIND,
                invoice.id,
                label,
                Action.UNCERTAIN,
                f"a POST {age:.0f}s ago may still be in flight; looked up in DK+ "
                f"again once {settle:.0f}s have passed",
            )
    if row is not None and row.status in (PENDING, UNCERTAIN):
        adopted = _adopt_existing(ctx, invoice, label)  # a POST may have landed: look first
        if adopted is not None:
            return adopted
    customer = ensure_customer(ctx, invoice.customer_id)
    mapped = map_invoice(
        invoice, customer, ctx.accounts(), ctx.config.customer_rules, ctx.config.invoice_rules
    )
    if isinstance(mapped, Rejected):
        return Outcome(KIND, invoice.id, label, Action.REJECT, mapped.message)
    if row is None or row.status not in (PENDING, UNCERTAIN):
        adopted = _adopt_existing(ctx, invoice, label)
        if adopted is not None:
            return adopted
    if invoice.project_number:
        ensure_project(ctx, invoice.project_id, invoice.project_number)
    _ensure_products(ctx, mapped)
    ctx.require_sales_person()
    outcome = Outcome(
        KIND, invoice.id, label, Action.CREATE, payload=mapped.payload, warnings=mapped.warnings
    )
    if not ctx.dry_run:
        _post(ctx, invoice, mapped, outcome)
    return outcome


def _adopt_existing(ctx: RunContext, invoice: Invoice, label: str) -> Outcome | None:
    """The DK+ invoice that already carries this reference, adopted; None when there is none."""
    found = ctx.dkplus.invoices_by_reference(reference(invoice))
    if not found:
        return None
    numbers = [str(i.get("Number")) for i in found]
    detail = f"already in DK+ as {', '.join(numbers)}: adopted, not posted again"
    if len(found) > 1:
        detail += f" (DK+ holds {len(found)} invoices with this reference: check them)"
    if not ctx.dry_run:
        with ctx.state.transaction():
            ctx.state.mark_invoice(
                invoice.id, reference(invoice), POSTED, _int(found[0].get("Number")), "adopted"
            )
    return Outcome(KIND, invoice.id, label, Action.ADOPT, detail, dk_number=numbers[0])


def _ensure_products(ctx: RunContext, mapped: Mapped) -> None:
    for product in mapped.needs:
        code = str(product["ItemCode"])
        if code.upper() in ctx.known_products:
            continue
        with ctx.key_lock("products", code.upper()):
            _ensure_product(ctx, code, product)


def _ensure_product(ctx: RunContext, code: str, product: dict[str, Any]) -> None:
    """One product code, checked at most once per run (callers hold its key lock)."""
    if code.upper() in ctx.known_products:
        return
    if ctx.dkplus.product(code) is None:
        if not ctx.config.create_missing_products:
            raise RecordRejected(
                f"item code {code} is not a product in DK+ and "
                "invoices.create_missing_products is off: create it in DK+"
            )
        if not ctx.dry_run:
            with suppress(Conflict):  # created meanwhile: it exists, which is all we need
                ctx.dkplus.create_product(product)
        ctx.report.add(Outcome("products", 0, code, Action.CREATE, payload=product))
    ctx.known_products.add(code.upper())


def _post(ctx: RunContext, invoice: Invoice, mapped: Mapped, outcome: Outcome) -> None:
    ref = reference(invoice)
    with ctx.state.transaction():
        ctx.state.mark_invoice(invoice.id, ref, PENDING)
    try:
        answer = ctx.dkplus.post_invoice(mapped.payload)
    except UncertainWrite as exc:
        with ctx.state.transaction():
            ctx.state.mark_invoice(invoice.id, ref, UNCERTAIN, detail=str(exc))
        resolved = _adopt_existing(ctx, invoice, outcome.label)
        if resolved is not None:
            outcome.action, outcome.detail = Action.CREATE, "posted (confirmed by reference)"
            outcome.dk_number = resolved.dk_number
            return
        outcome.action = Action.UNCERTAIN
        outcome.detail = f"{exc}; not in DK+ yet: looked up again before any new attempt"
        return
    except RecordRejected:
        with ctx.state.transaction():
            ctx.state.mark_invoice(invoice.id, ref, "refused")
        raise
    outcome.dk_number = str(answer.get("Number"))
    with ctx.state.transaction():
        ctx.state.mark_invoice(invoice.id, ref, POSTED, _int(answer.get("Number")))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
