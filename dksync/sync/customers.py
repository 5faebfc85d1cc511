"""Customers: create when new in DK+, update only the fields that differ, skip when unchanged.

An invoice's or project's customer is made to exist first (``ensure_customer``); a belief that
a customer is in DK+ which DK+ contradicts is forgotten and the customer written again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from dksync.errors import Conflict, NotFound, RecordRejected
from dksync.jsonio import fingerprint
from dksync.kinds import ObjectKind, ReasonCode
from dksync.mapping import Rejected, differences
from dksync.mapping.customers import map_customer
from dksync.outcome import Action, Outcome
from dksync.records import Customer, CustomerStatus
from dksync.sync.context import RunContext

KIND = ObjectKind.CUSTOMERS
_EPOCH = datetime.min.replace(tzinfo=UTC)


def sync_customer(ctx: RunContext, customer: Customer) -> Outcome:
    """Bring one customer to DK+ and record the outcome."""
    with ctx.lock(KIND, customer.id):
        return ctx.books.take(KIND, customer.id, customer.number, partial(_decide, ctx, customer))


def ensure_customer(ctx: RunContext, customer_id: int, *, recheck: bool = False) -> Customer:
    """The invoice's or project's customer, made to exist in DK+ first; ``RecordRejected``
    when it cannot be. Costs no request when this run already knows it is there; ``recheck``
    forgets that belief and asks DK+ again (DK+ said it does not exist)."""
    with ctx.lock(KIND, customer_id):
        if recheck:
            ctx.books.forget(KIND, customer_id)
        standing = ctx.books.standing(KIND, customer_id)
        facts = None if recheck else ctx.books.customer_facts(customer_id)
        if standing is None and facts is None:
            sync_customer(ctx, ctx.moment.customer(customer_id))
            standing = ctx.books.standing(KIND, customer_id)
        if standing is not None and not standing.in_dkplus:
            raise RecordRejected(
                f"its customer is rejected: {standing.reason}", ReasonCode.DEPENDENCY
            )
        facts = facts or ctx.books.customer_facts(customer_id)
    if facts is None:
        return ctx.moment.customer(customer_id)
    number, name, kennitala = facts
    return Customer(customer_id, _EPOCH, 0, number, name, CustomerStatus.ACTIVE, kennitala)


def _decide(ctx: RunContext, customer: Customer) -> Outcome:
    mapped = map_customer(customer, ctx.config.customer_rules)
    if isinstance(mapped, Rejected):
        return Outcome(
            KIND,
            customer.id,
            customer.number,
            Action.REJECT,
            mapped.message,
            code=ReasonCode.INVALID_DATA,
        )
    payload, number = mapped.payload, str(mapped.payload["Number"])
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND,
        customer.id,
        customer.number,
        Action.UNCHANGED,
        payload=payload,
        dk_number=number,
        digest=digest,
        facts=(customer.number, customer.name, customer.kennitala),
    )
    written = ctx.books.written(KIND, customer.id)
    if written is not None and written.payload_hash == digest:
        return outcome
    last = None if written is None else written.payload
    if last is not None and last.get("Number") == number:
        _update_from_last(ctx, outcome, payload, last)
    else:
        _bring_to_dkplus(ctx, outcome, payload)
    return outcome


def _update_from_last(
    ctx: RunContext, outcome: Outcome, payload: dict[str, object], last: dict[str, object]
) -> None:
    """A customer dksync wrote before and that changed in Moment: PUT only the fields that
    changed since, without asking DK+ first (issue 11 C). DK+ answering 404 (the customer
    was deleted there) makes it a create."""
    number = str(payload["Number"])
    outcome.changes = differences(payload, last)
    outcome.action = Action.UPDATE
    changed = {key: payload[key] for key in outcome.changes}
    try:
        ctx.dkplus.update_customer(number, {"Number": number, **changed})
    except NotFound:
        outcome.action, outcome.detail = Action.CREATE, "DK+ no longer had it: created again"
        ctx.dkplus.create_customer(payload)


def _bring_to_dkplus(ctx: RunContext, outcome: Outcome, payload: dict[str, object]) -> None:
    number = str(payload["Number"])
    current = ctx.dkplus.customer(number)
    if current is not None:
        outcome.changes = differences(payload, current)
        if not outcome.changes:
            return
        outcome.action = Action.UPDATE
        try:
            ctx.dkplus.update_customer(number, payload)
            return
        except NotFound:
            outcome.detail = "DK+ no longer had it (404 on update): created again"
    outcome.action = Action.CREATE
    try:
        ctx.dkplus.create_customer(payload)
    except Conflict:
        outcome.action, outcome.detail = Action.UPDATE, "already in DK+: updated"
        ctx.dkplus.update_customer(number, payload)
