"""Customers: create when new in DK+, update when a field of dksync's differs (writing the
whole record back, so DK+'s own fields are kept), skip when unchanged. Never a second debtor:
a kennitala DK+ holds under another number, or another Moment customer holds (claimed in the
state), is rejected before any write, unless linked (``customers.link``) to that debtor: then
its invoices go there and the debtor is written from the other customer only. The payment
term must be one of the company's.

An invoice's or project's customer is made to exist first (``ensure_customer``); a belief that
a customer is in DK+ which DK+ contradicts is forgotten and the customer written again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from dksync.errors import Conflict, NotFound, RecordRejected
from dksync.jsonio import fingerprint
from dksync.kinds import ObjectKind, ReasonCode
from dksync.mapping import Rejected, differences
from dksync.mapping.customers import map_customer
from dksync.outcome import Action, Outcome
from dksync.records import Customer, CustomerStatus
from dksync.sync.context import RunContext

KIND = ObjectKind.CUSTOMERS
READ_ONLY = frozenset({"RecordID", "Modified", "BalanceAmount"})
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
    written = ctx.books.written(KIND, customer.id)
    if written is not None and written.number != number:
        _refuse_renumber(ctx, customer, written.number, number)
    facts = (customer.number, customer.name, customer.kennitala)
    shared = _claim(ctx, customer, number, facts)
    if shared is not None:
        return shared
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND,
        customer.id,
        customer.number,
        Action.UNCHANGED,
        payload=payload,
        dk_number=number,
        digest=digest,
        facts=facts,
    )
    if written is not None and written.payload_hash == digest:
        return outcome
    _require_term(ctx, customer, payload)
    if isinstance(payload.get("SSNumber"), str):
        ctx.books.claim_kennitala(str(payload["SSNumber"]), customer.id, customer.number)
    current = ctx.dkplus.customer(number)
    if current is None:
        _create(ctx, outcome, customer, payload)
    else:
        _update(ctx, outcome, payload, current)
    return outcome


def _refuse_renumber(ctx: RunContext, customer: Customer, before: str, number: str) -> None:
    """A Moment customer dksync wrote as ``before`` that now maps to another DK+ number (its
    number changed in Moment, or its kennitala under ``customers.number_from: kennitala``)
    would become a second DK+ debtor for one company, its balance split between them: it
    is rejected until ``customers.link`` says which DK+ customer to write it to (a link is
    that decision, so a linked number passes)."""
    if customer.number.strip() in ctx.config.customer_rules.link:
        return
    raise RecordRejected(
        f"Moment customer id {customer.id} was written to DK+ as customer {before}; it is "
        f"now {number}, and creating {number} would make a second DK+ debtor for it. Keep "
        f"writing it to {before} with customers.link: {{{customer.number.strip()}: {before}}}"
        f", or link it to {number} to start the new debtor",
        ReasonCode.KENNITALA_TAKEN,
    )


def _claim(
    ctx: RunContext, customer: Customer, number: str, facts: tuple[str, str, str | None]
) -> Outcome | None:
    """Claim the DK+ number for this Moment customer (one Moment customer per DK+ number);
    None when it is this one's to write. Held by another Moment customer, it is refused,
    unless ``customers.link`` names it on purpose: then this one's invoices go to that
    debtor and no DK+ customer is written from it."""
    try:
        ctx.books.claim_number(KIND, number, customer.id)
    except RecordRejected:
        if customer.number.strip() not in ctx.config.customer_rules.link:
            raise
        return Outcome(  # linked on purpose to a debtor another Moment customer writes
            KIND,
            customer.id,
            customer.number,
            Action.UNCHANGED,
            _shared(number),
            dk_number=number,
            facts=facts,
        )
    return None


def _shared(number: str) -> str:
    return (
        f"linked to DK+ customer {number}, which another Moment customer writes: not written "
        "from this one, its invoices go to that debtor"
    )


def _require_term(ctx: RunContext, customer: Customer, payload: dict[str, object]) -> None:
    """A term code the DK+ company lacks is refused or lost by DK: rejected here instead."""
    term = payload.get("PaymentTerm")
    if term is None:
        return
    codes = ctx.company_terms()
    if codes is not None and term not in codes:
        raise RecordRejected(
            f"customer {customer.number}: payment term '{term}' ({customer.credit_days} credit "
            f"days) is not one of the DK+ company's terms ({', '.join(sorted(codes))}): fix "
            "customers.payment_terms or add the term in DK+",
            ReasonCode.PAYMENT_TERM,
        )


def whole_record(current: Mapping[str, Any], payload: Mapping[str, object]) -> dict[str, Any]:
    """What DK+ holds with only dksync's fields changed: right whether DK's PUT is partial
    or replaces the record (then what an accountant set, such as ``LedgerCode``, ``Group``,
    ``SendTo`` or contacts, is kept). Read-only fields are left out."""
    kept = {k: v for k, v in current.items() if k not in READ_ONLY}
    return {**kept, **payload}


def _update(
    ctx: RunContext, outcome: Outcome, payload: dict[str, object], current: dict[str, Any]
) -> None:
    """PUT the whole record back when a field of dksync's differs; DK+ answering 404 (the
    customer was deleted meanwhile) makes it a create."""
    number = str(payload["Number"])
    outcome.changes = differences(payload, current)
    if not outcome.changes:
        return
    outcome.action = Action.UPDATE
    body = whole_record(current, payload)
    try:
        _send(ctx, outcome, partial(ctx.dkplus.update_customer, number), body, current)
    except NotFound:
        outcome.action, outcome.detail = Action.CREATE, "DK+ no longer had it: created again"
        try:
            _send(ctx, outcome, ctx.dkplus.create_customer, payload)
        except Conflict as exc:
            raise _deleted_in_dkplus(number) from exc


def _create(
    ctx: RunContext, outcome: Outcome, customer: Customer, payload: dict[str, object]
) -> None:
    """POST a customer DK+ does not hold under its number, unless DK+ holds its kennitala
    under another number (a second debtor for one company): that is rejected, naming the
    DK+ customer to link (``customers.link``)."""
    number = str(payload["Number"])
    digits = payload.get("SSNumber")
    if isinstance(digits, str):
        others = [
            n
            for n in ctx.dkplus.kennitala_holders(digits)
            if n != number and not ctx.books.state.wrote_number(KIND, n)
        ]
        if others:
            raise RecordRejected(
                f"DK+ already holds kennitala {digits} as customer {', '.join(others)}; "
                f"creating {number} would make a second debtor. Use that customer with "
                f"customers.link: {{{customer.number}: {others[0]}}} (or renumber it in DK+)",
                ReasonCode.KENNITALA_TAKEN,
            )
    outcome.action = Action.CREATE
    try:
        _send(ctx, outcome, ctx.dkplus.create_customer, payload)
    except Conflict:
        current = ctx.dkplus.customer(number) or {}
        outcome.action, outcome.detail = Action.UPDATE, "already in DK+: updated"
        body = whole_record(current, payload)
        try:
            _send(ctx, outcome, partial(ctx.dkplus.update_customer, number), body, current)
        except NotFound as exc:
            raise _deleted_in_dkplus(number) from exc


def _deleted_in_dkplus(number: str) -> RecordRejected:
    """DK+ answers 409 to creating the customer and 404 to updating it: this customer
    alone is rejected, with what to do."""
    return RecordRejected(
        f"DK+ answers 409 (exists) to creating customer {number} and 404 (not found) to "
        "updating it: it is probably deleted in DK+ while its number stays taken. Restore "
        "it in DK+ (or give the Moment customer another number)",
        ReasonCode.REFUSED,
    )


def _send(
    ctx: RunContext,
    outcome: Outcome,
    write: Callable[[Mapping[str, Any]], object],
    body: Mapping[str, Any],
    held: Mapping[str, Any] | None = None,
) -> None:
    """Write ``body``; a DK refusal of its kennitala never costs the customer (nor its
    invoices): it is written again without dksync's ``SSNumber`` (keeping the one DK+
    ``held``, if any, which a replacing PUT would otherwise blank), with a warning."""
    try:
        write(body)
    except RecordRejected as exc:
        kept = (held or {}).get("SSNumber")
        if "SSNumber" not in body or not _names_kennitala(str(exc)) or kept == body["SSNumber"]:
            raise
        again = {k: v for k, v in body.items() if k != "SSNumber"}
        write({**again, "SSNumber": kept} if kept else again)
        warning = f"DK+ refused its kennitala {body['SSNumber']} ({exc}): written without SSNumber"
        outcome.warnings = (*outcome.warnings, warning)
        ctx.books.warn(KIND, outcome.label, warning)


def _names_kennitala(message: str) -> bool:
    lowered = message.lower()
    return "ssnumber" in lowered or "kennitala" in lowered
