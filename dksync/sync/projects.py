"""Projects: create once; a later change in Moment is reported as drift, never written."""

from __future__ import annotations

from functools import partial

from dksync.errors import Conflict, RecordRejected
from dksync.jsonio import fingerprint
from dksync.mapping import Rejected, differences
from dksync.mapping.projects import DRIFT_FIELDS, map_project
from dksync.outcome import Action, Outcome
from dksync.records import Project
from dksync.sync.context import RunContext
from dksync.sync.customers import ensure_customer

KIND = "projects"


def sync_project(ctx: RunContext, project: Project) -> Outcome:
    """Bring one project to DK+ and record the outcome."""
    return ctx.book(KIND, project.id, project.number, partial(_write, ctx, project))


def ensure_project(ctx: RunContext, project_id: int | None, number: str) -> None:
    """Make the invoice's project exist in DK+; ``RecordRejected`` when it cannot. Costs no
    request when this run or the state knows it is there."""
    if number in ctx.known_projects:
        return
    if project_id is None:
        raise RecordRejected(f"its project {number} has no Moment id to read it by")
    with ctx.key_lock(KIND, project_id):
        reason = ctx.results.get((KIND, project_id))
        if reason is None and (
            (KIND, project_id) in ctx.results
            or ctx.state.written_hash(KIND, project_id) is not None
        ):
            ctx.known_projects.add(number)
            return
        if (KIND, project_id) not in ctx.results:
            sync_project(ctx, ctx.moment_project(project_id))
        reason = ctx.results.get((KIND, project_id))
    if reason is not None:
        raise RecordRejected(f"its project {number} is rejected: {reason}")


def _write(ctx: RunContext, project: Project) -> Outcome:
    customer = None
    if project.customer_id is not None:
        customer = ensure_customer(ctx, project.customer_id)
    mapped = map_project(project, customer, ctx.config.customer_rules)
    if isinstance(mapped, Rejected):
        return Outcome(KIND, project.id, project.number, Action.REJECT, mapped.message)
    payload, number = mapped.payload, mapped.payload["Number"]
    digest = fingerprint(payload)
    outcome = Outcome(
        KIND, project.id, project.number, Action.UNCHANGED, payload=payload, dk_number=number
    )
    stored = ctx.state.written_hash(KIND, project.id)
    if stored == digest:
        ctx.known_projects.add(number)
        return outcome
    current = ctx.dkplus.project(number)
    if current is None:
        outcome.action = Action.CREATE
        if not ctx.dry_run:
            try:
                ctx.dkplus.create_project(payload)
            except Conflict:
                outcome.action, outcome.detail = Action.ADOPT, "already in DK+: adopted"
    else:
        _compare(outcome, payload, current, known_before=stored is not None)
    if not ctx.dry_run and outcome.action is not Action.DRIFT:
        with ctx.state.transaction():
            ctx.state.record_written(KIND, project.id, number, digest)
    ctx.known_projects.add(number)
    return outcome


def _compare(
    outcome: Outcome, payload: dict[str, object], current: dict[str, object], known_before: bool
) -> None:
    wanted = {k: v for k, v in payload.items() if k in DRIFT_FIELDS}
    outcome.changes = differences(wanted, current)
    if outcome.changes:
        outcome.action = Action.DRIFT
        fields = ", ".join(outcome.changes)
        outcome.detail = (
            f"differs in DK+ ({fields}); DK+ has no project update: fix it by hand in DK+"
        )
    elif not known_before:
        outcome.action, outcome.detail = Action.ADOPT, "already in DK+: adopted"
