"""Customers: create when new in DK+, update only the fields that differ, skip when unchanged."""

from __future__ import annotations

from functools import partial

from dksync.errors import Conflict, RecordRejected
from dksync.jsonio import fingerprint
from dksync.mapping import Rejected, differences
from dksync.mapping.customers import map_customer
from dksync.outcome import Action, Outcome
from dksync.records import Customer
from dksync.sync.context import RunContext

KIND = "customers"


def sync_customer(ctx: RunContext, customer: Customer) -> Outcome:
    """Bring one customer to DK+ and record the outcome."""
    return ctx.book(KIND, customer.id, customer.number, partial(_write, ctx, customer))


def ensure_customer(ctx: RunContext, customer_id: int) -> Customer:
    """The invoice's or project's customer, made to exist in DK+ first; ``RecordRejected``
    when it cannot be. Costs no request when this run already knows it is there."""
    with ctx.key_lock(KIND, customer_id):
        known = ctx.known_customer(customer_id)
        if known is not None and ctx.results.get((KIND, customer_id)) is None:
            return known
        if (KIND, customer_id) not in ctx.results:
            customer = ctx.moment_customer(customer_id)
            sync_customer(ctx, customer)
        reason = ctx.results.get((KIND, customer_id))
        if reason is not None:
            raise RecordRejected(f"its customer is rejected: {reason}")
        return ctx.known_customer(customer_id) or ctx.moment_customer(customer_id)


def _write(ctx: RunContext, customer: Customer) -> Outcome:
    mapped = map_customer(customer, ctx.config.customer_rules)
    if isinstance(mapped, Rejected):
        return Outcome(KIND, customer.id, customer.number, Action.REJECT, mapped.message)
    payload, number = mapped.payload, mapped.payload["Number"]
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND, customer.id, customer.number, Action.UNCHANGED, payload=payload, dk_number=number
    )
    if ctx.state.written_hash(KIND, customer.id) != digest:
        _bring_to_dkplus(ctx, outcome, payload)
    if not ctx.dry_run:
        with ctx.state.transaction():
            ctx.state.record_written(KIND, customer.id, number, digest)
            ctx.remember_facts(customer)
    else:
        ctx.remember_facts(customer)
    return outcome


def _bring_to_dkplus(ctx: RunContext, outcome: Outcome, payload: dict[str, object]) -> None:
    number = str(payload["Number"])
    current = ctx.dkplus.customer(number)
    if current is None:
        outcome.action = Action.CREATE
        if not ctx.dry_run:
            try:
                ctx.dkplus.create_customer(payload)
            except Conflict:
                outcome.action, outcome.detail = Action.UPDATE, "already in DK+: updated"
                ctx.dkplus.update_customer(number, payload)
        return
    outcome.changes = differences(payload, current)
    if outcome.changes:
        outcome.action = Action.UPDATE
        if not ctx.dry_run:
            ctx.dkplus.update_customer(number, payload)
