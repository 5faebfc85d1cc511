"""Rendering a run for people (rich tables) and for programs (one JSON document)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dksync import jsonio
from dksync.check import Readiness
from dksync.outcome import Action, Outcome, RunReport
from dksync.state import RejectedRow

SUMMARY_COLUMNS = (
    ("created", Action.CREATE, True),
    ("updated", Action.UPDATE, True),
    ("unchanged", Action.UNCHANGED, True),
    ("skipped", Action.SKIP, True),
    ("rejected", Action.REJECT, True),
    ("adopted", Action.ADOPT, False),
    ("drift", Action.DRIFT, False),
    ("uncertain", Action.UNCERTAIN, False),
)
ORDER = ("customers", "projects", "products", "invoices")
STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REJECT: "red",
    Action.DRIFT: "magenta",
    Action.UNCERTAIN: "red bold",
    Action.ADOPT: "cyan",
}


def summary_table(report: RunReport) -> Table:
    title = "dksync dry run: nothing was written" if report.dry_run else "dksync run"
    table = Table(title=title)
    table.add_column("object")
    table.add_column("fetched", justify="right")
    kinds = sorted({t for t, _ in report.tally} | set(report.fetched), key=_order)
    columns = [
        (name, action)
        for name, action, always in SUMMARY_COLUMNS
        if always or any(report.count(k, action) for k in kinds)
    ]
    for name, _ in columns:
        table.add_column(name, justify="right")
    for kind in kinds:
        cells = [str(report.count(kind, action)) for _, action in columns]
        table.add_row(kind, str(report.fetched[kind]) if kind in report.fetched else "-", *cells)
    return table


def _order(kind: str) -> int:
    return ORDER.index(kind) if kind in ORDER else len(ORDER)


def outcome_table(title: str, outcomes: list[Outcome], verbose: bool = False) -> Table:
    table = Table(title=title, show_lines=verbose)
    for column in ("object", "number", "action", "detail"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        detail = o.detail
        if o.changes:
            detail = "; ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in o.changes.items()) + (
                f" ({o.detail})" if o.detail else ""
            )
        if o.warnings:
            detail += (" " if detail else "") + "warning: " + "; ".join(o.warnings)
        if verbose and o.payload is not None:
            detail += ("\n" if detail else "") + jsonio.dumps(o.payload)
        style = STYLE.get(o.action, "")
        table.add_row(
            o.object_type,
            o.label,
            f"[{style}]{o.action.value}[/]" if style else o.action.value,
            detail,
        )
    return table


def render(report: RunReport, console: Console, verbose: bool = False) -> None:
    """The per-record plan (dry run), the summary, then what needs a person's attention."""
    if report.dry_run and report.outcomes:
        console.print(outcome_table("What would happen", report.outcomes, verbose))
    elif verbose and report.outcomes:
        console.print(outcome_table("What happened", report.outcomes, verbose))
    console.print(summary_table(report))
    for warning in report.warnings:
        console.print("[yellow]warning:[/] " + escape(warning), highlight=False)
    for title, action in (
        ("Rejected records", Action.REJECT),
        ("Project drift", Action.DRIFT),
        ("Uncertain invoices", Action.UNCERTAIN),
    ):
        listed = report.with_action(action)
        if listed and not report.dry_run:
            console.print(outcome_table(title, listed))


def as_json(report: RunReport) -> dict[str, Any]:
    """The run as one JSON-ready document (shape documented in the README)."""
    return {
        "dry_run": report.dry_run,
        "outcome": report.outcome_word,
        "exit_code": report.exit_code,
        "error": str(report.fatal) if report.fatal else None,
        "counts": report.counts(),
        "warnings": list(report.warnings),
        "records": [_outcome_json(o) for o in report.outcomes],
    }


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "object": o.object_type,
        "moment_id": o.moment_id,
        "number": o.label,
        "action": o.action.value,
        "detail": o.detail,
        "dk_number": o.dk_number,
        "changes": {k: {"dkplus": old, "wanted": new} for k, (old, new) in o.changes.items()},
        "warnings": list(o.warnings),
        "payload": o.payload,
    }


def failures_table(rows: list[RejectedRow]) -> Table:
    """Rejected records, for ``dksync failures``."""
    table = Table(title="Rejected records" if rows else "No rejected records")
    for column in ("ID", "object", "number", "reason", "attempts", "first seen", "last seen"):
        table.add_column(column, overflow="fold")
    for r in rows:
        reason = r.reason if r.dropped_at is None else f"{r.reason} [dropped: {r.dropped_note}]"
        table.add_row(
            str(r.id),
            r.object_type,
            r.number,
            reason,
            str(r.attempts),
            r.first_seen[:19],
            r.last_seen[:19],
        )
    return table


def readiness_table(readiness: Readiness) -> Table:
    """``dksync check``: one row per check, with what is wrong listed under it."""
    verdict = "ready for go-live" if readiness.ready else "NOT ready for go-live"
    if readiness.warnings:
        verdict += f" ({readiness.warnings} warning{'s' if readiness.warnings > 1 else ''})"
    table = Table(title=f"dksync check: {verdict}", show_lines=True)
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    for item in readiness.checks:
        detail = item.detail + "".join(f"\n- {line}" for line in item.items)
        result = "[red]FAIL[/]" if not item.ok else "[green]ok[/]"
        if item.ok and item.warning:
            result = "[red]FAIL[/]" if readiness.strict else "[yellow]warning[/]"
        table.add_row(item.name, result, escape(detail))
    return table


def status_tables(status: dict[str, Any]) -> list[Table]:
    """``dksync status``: cursors and the last run, then what needs attention."""
    cursors = Table(title=f"dksync status ({status['state_file']})")
    for column in ("object", "cursor (Moment lastModifiedDate)", "id"):
        cursors.add_column(column)
    for kind, cursor in status["cursors"].items():
        cursors.add_row(
            kind,
            cursor["modified"] if cursor else "not started",
            str(cursor["id"]) if cursor else "-",
        )
    facts = Table(show_header=False)
    facts.add_column("what")
    facts.add_column("value", overflow="fold")
    last = status["last_run"]
    facts.add_row(
        "last run",
        "none yet"
        if last is None
        else f"{last['started_at']} → {last['finished_at'] or 'did not finish'}: "
        f"{last['outcome'] or 'interrupted'}; " + _brief(last["counts"]),
    )
    facts.add_row("invoices posted", str(status["posted_invoices"]))
    facts.add_row("rejected records", str(len(status["rejected"])))
    facts.add_row(
        "uncertain invoices",
        ", ".join(
            f"{i['reference']} ({i['status']} since {i['updated_at'][:19]})"
            for i in status["uncertain_invoices"]
        )
        or "none",
    )
    lock = status["lock"]
    facts.add_row(
        "running now",
        "no"
        if lock is None
        else f"yes: pid {lock.get('pid')} on {lock.get('host')} since {lock.get('since')}"
        if lock
        else "yes (by whom is not known: the state's .lock note was deleted)",
    )
    return [cursors, facts]


def _brief(counts: dict[str, dict[str, int]]) -> str:
    parts = []
    for kind, row in counts.items():
        done = ", ".join(f"{k} {v}" for k, v in row.items() if v and k != "fetched")
        parts.append(f"{kind}: {row.get('fetched', 0)} read" + (f", {done}" if done else ""))
    return "; ".join(parts) or "nothing read"


def history_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="dksync history" if runs else "dksync history: no runs yet")
    for column in ("run", "started", "finished", "outcome", "counts"):
        table.add_column(column, overflow="fold")
    for run in runs:
        table.add_row(
            str(run["id"]),
            run["started_at"][:19],
            (run["finished_at"] or "-")[:19],
            run["outcome"] or "interrupted",
            _brief(run["counts"]),
        )
    return table
