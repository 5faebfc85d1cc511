"""Customers: create when new in DK+, update only the fields that differ, skip when unchanged."""

from __future__ import annotations

from dksync.errors import Conflict, RecordRejected
from dksync.jsonio import fingerprint
from dksync.mapping import Rejected, differences
from dksync.mapping.customers import map_customer
from dksync.outcome import Action, Outcome
from dksync.records import Customer
from dksync.sync.context import RunContext

KIND = "customers"


def sync_customer(ctx: RunContext, customer: Customer) -> Outcome:
    """Bring one customer to DK+ (once per run) and record the outcome."""
    done = ctx.synced.get((KIND, customer.id))
    if done is not None:
        return done
    ctx.remember_customer(customer)
    try:
        outcome = _write(ctx, customer)
    except RecordRejected as exc:
        outcome = Outcome(KIND, customer.id, customer.number, Action.REJECT, str(exc))
    if outcome.action is Action.REJECT and not ctx.dry_run:
        with ctx.state.transaction():
            ctx.state.reject(KIND, customer.id, customer.number, outcome.detail)
    ctx.synced[(KIND, customer.id)] = outcome
    ctx.report.add(outcome)
    return outcome


def ensure_customer(ctx: RunContext, customer_id: int) -> Customer:
    """Make the Moment customer exist in DK+; ``RecordRejected`` when it cannot."""
    customer = ctx.moment_customer(customer_id)
    outcome = sync_customer(ctx, customer)
    if outcome.action is Action.REJECT:
        raise RecordRejected(f"its customer {customer.number} is rejected: {outcome.detail}")
    return customer


def _write(ctx: RunContext, customer: Customer) -> Outcome:
    mapped = map_customer(customer, ctx.config.customer_rules)
    if isinstance(mapped, Rejected):
        return Outcome(KIND, customer.id, customer.number, Action.REJECT, mapped.message)
    payload, number = mapped.payload, mapped.payload["Number"]
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND, customer.id, customer.number, Action.UNCHANGED, payload=payload, dk_number=number
    )
    if ctx.state.written_hash(KIND, customer.id) == digest:
        ctx.known_customers.add(number)
        return outcome
    current = ctx.dkplus.customer(number)
    if current is None:
        outcome.action = Action.CREATE
        if not ctx.dry_run:
            try:
                ctx.dkplus.create_customer(payload)
            except Conflict:
                outcome.action, outcome.detail = Action.UPDATE, "already in DK+: updated"
                ctx.dkplus.update_customer(number, payload)
    else:
        outcome.changes = differences(payload, current)
        if outcome.changes:
            outcome.action = Action.UPDATE
            if not ctx.dry_run:
                ctx.dkplus.update_customer(number, payload)
    if not ctx.dry_run:
        with ctx.state.transaction():
            ctx.state.record_written(KIND, customer.id, number, digest)
    ctx.known_customers.add(number)
    return outcome
