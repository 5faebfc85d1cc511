"""Projects: create once; a later change in Moment is reported as drift, never written.

An invoice's project is made to exist first (``ensure_project``), found by its Moment id, so
an invoice that names its project only by id (Moment's flat references) still gets its number.
"""

from __future__ import annotations

from functools import partial

from dksync.errors import Conflict, NotFound, RecordRejected
from dksync.jsonio import fingerprint
from dksync.kinds import ObjectKind, ReasonCode
from dksync.mapping import Rejected, differences
from dksync.mapping.projects import DRIFT_FIELDS, map_project
from dksync.outcome import Action, Outcome
from dksync.records import Project
from dksync.sync.context import RunContext
from dksync.sync.customers import ensure_customer

KIND = ObjectKind.PROJECTS


def sync_project(ctx: RunContext, project: Project) -> Outcome:
    """Bring one project to DK+ and record the outcome."""
    with ctx.lock(KIND, project.id):
        return ctx.books.take(KIND, project.id, project.number, partial(_decide, ctx, project))


def ensure_project(ctx: RunContext, project_id: int, *, recheck: bool = False) -> str:
    """The DK+ number of an invoice's project, made to exist in DK+ first; ``RecordRejected``
    when it cannot be. Costs no request when this run or the state knows it is there;
    ``recheck`` forgets that belief and asks DK+ again."""
    with ctx.lock(KIND, project_id):
        if recheck:
            ctx.books.forget(KIND, project_id)
        standing = ctx.books.standing(KIND, project_id)
        known = ctx.books.written_number(KIND, project_id)
        if standing is None and known is not None:
            return known
        if standing is None:
            sync_project(ctx, ctx.moment.project(project_id))
            standing = ctx.books.standing(KIND, project_id)
    if standing is None or not standing.in_dkplus or standing.number is None:
        reason = standing.reason if standing else "it could not be read"
        raise RecordRejected(
            f"its project (id {project_id}) is rejected: {reason}", ReasonCode.DEPENDENCY
        )
    return standing.number


def _decide(ctx: RunContext, project: Project) -> Outcome:
    customer = None
    if project.customer_id is not None:
        customer = ensure_customer(ctx, project.customer_id)
    mapped = map_project(project, customer, ctx.config.customer_rules)
    if isinstance(mapped, Rejected):
        return Outcome(
            KIND,
            project.id,
            project.number,
            Action.REJECT,
            mapped.message,
            code=ReasonCode.INVALID_DATA,
        )
    payload, number = mapped.payload, str(mapped.payload["Number"])
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND,
        project.id,
        project.number,
        Action.UNCHANGED,
        payload=payload,
        dk_number=number,
        digest=digest,
    )
    written = ctx.books.written(KIND, project.id)
    stored = None if written is None else written.payload_hash
    if stored == digest:
        return outcome
    last = None if written is None else written.payload
    if last is not None and last.get("Number") == number:
        current: dict[str, object] | None = last  # what dksync wrote is what DK+ holds
    else:
        current = ctx.dkplus.project(number)
    if current is None:
        _create(ctx, project, outcome, payload)
    else:
        _compare(outcome, payload, current, known_before=stored is not None)
        if outcome.action is Action.DRIFT and ctx.config.update_projects:
            _update(ctx, outcome, payload)
    return outcome


def _update(ctx: RunContext, outcome: Outcome, payload: dict[str, object]) -> None:
    """``projects.update``: carry a changed name or customer to DK+ with the 2026 project
    PUT; a DK+ without it (404, 405) keeps the drift report, with a note."""
    wanted = {k: v for k, v in payload.items() if k in DRIFT_FIELDS or k == "Number"}
    try:
        ctx.dkplus.update_project(str(payload["Number"]), wanted)
    except (NotFound, RecordRejected) as exc:
        outcome.detail += f" (projects.update is on, but DK+ refused the update: {exc})"
        return
    outcome.action, outcome.code = Action.UPDATE, None
    outcome.digest = fingerprint(payload)
    outcome.detail = "updated in DK+ (projects.update)"


def _create(
    ctx: RunContext, project: Project, outcome: Outcome, payload: dict[str, object]
) -> None:
    """POST the project. A 400 may mean its customer is not in DK+ although dksync believed
    it wrote it: then the customer is checked, written again, and the project sent once more."""
    outcome.action = Action.CREATE
    try:
        ctx.dkplus.create_project(payload)
    except Conflict:
        outcome.action, outcome.detail = Action.ADOPT, "already in DK+: adopted"
    except RecordRejected:
        if project.customer_id is None or not _customer_was_missing(ctx, project.customer_id):
            raise
        ctx.dkplus.create_project(payload)
        outcome.detail = "its customer was missing in DK+: created it again first"


def _customer_was_missing(ctx: RunContext, customer_id: int) -> bool:
    """True when DK+ lacked the customer and it has now been written again."""
    number = ctx.books.standing(ObjectKind.CUSTOMERS, customer_id)
    if number is not None and number.number and ctx.dkplus.customer(number.number) is not None:
        return False
    ensure_customer(ctx, customer_id, recheck=True)
    return True


def _compare(
    outcome: Outcome, payload: dict[str, object], current: dict[str, object], known_before: bool
) -> None:
    wanted = {k: v for k, v in payload.items() if k in DRIFT_FIELDS}
    outcome.changes = differences(wanted, current)
    if outcome.changes:
        outcome.action, outcome.code, outcome.digest = Action.DRIFT, ReasonCode.DRIFT, None
        fields = ", ".join(outcome.changes)
        outcome.detail = (
            f"differs in DK+ ({fields}); DK+ has no project update: fix it by hand in DK+"
        )
    elif not known_before:
        outcome.action, outcome.detail = Action.ADOPT, "already in DK+: adopted"
