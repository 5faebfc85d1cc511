"""Rendering a run for people (per-record lines and a summary table) and for programs (one
JSON document); ``dksync check``'s table. The operator commands' tables are in tables.py."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

from dksync.cli.tables import COUNT_WORDS, READ, RETRIED, brief, count_words, kind_order, singular
from dksync.ops.check_item import Readiness
from dksync.outcome import Action, Outcome, RunReport

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from dksync.ops.check_item import Readiness

# rich is imported by the functions that draw: a ``-q`` cron run draws nothing.

STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REJECT: "red",
    Action.DRIFT: "magenta",
    Action.UNCERTAIN: "red bold",
    Action.ADOPT: "cyan",
}
MAX_LISTED = 20


def action_words(action: Action, dry_run: bool) -> str:
    """How one record's action reads: "created", or "would create" in a dry run."""
    if not dry_run or action in (Action.UNCHANGED, Action.DRIFT, Action.UNCERTAIN):
        return COUNT_WORDS.get(action, action.value)
    return f"would {action.value}"


def summary_table(report: RunReport, command: str = "run") -> Table:
    """Counts per object type; only the columns with something in them, so it fits 80
    columns."""
    from rich import box
    from rich.table import Table

    title = f"dksync {command}" + (" --dry-run: nothing was written" if report.dry_run else "")
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, min_width=len(title))
    table.add_column("object")
    table.add_column(READ, justify="right")
    retried = any(report.retried.values())
    if retried:
        table.add_column(RETRIED, justify="right")
    kinds = sorted({t for t, _ in report.tally} | set(report.fetched), key=kind_order)
    columns = [a for a in COUNT_WORDS if any(report.count(k, a) for k in kinds)]
    for action in columns:
        table.add_column(COUNT_WORDS[action], justify="right", no_wrap=True)
    for kind in kinds:
        cells = [str(report.count(kind, action)) for action in columns]
        if retried:
            cells.insert(0, str(report.retried[kind]))
        table.add_row(kind, str(report.fetched[kind]) if kind in report.fetched else "-", *cells)
    return table


def _number_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def print_outcomes(
    console: Console, title: str, outcomes: list[Outcome], dry_run: bool, verbose: bool = False
) -> None:
    """One line per record, sorted by object and number: object, number, what happens, and
    the detail wrapped under itself; with ``verbose`` the payload indented below."""
    from rich.text import Text

    rows = sorted(outcomes, key=lambda o: (kind_order(o.object_type), _number_key(o.label)))
    number_width = min(max(len(o.label) for o in rows), 14)
    action_width = max(len(action_words(o.action, dry_run)) for o in rows)
    console.print(Text(title, style="bold"))
    for o in rows:
        words = action_words(o.action, dry_run)
        head = f"{singular(o.object_type):<8} {o.label:<{number_width}} "
        line = Text(head)
        line.append(f"{words:<{action_width}}", style=STYLE.get(o.action, ""))
        indent = " " * (len(head) + action_width + 2)
        detail = _detail(o)
        if detail:
            width = max(console.width - len(indent), 30)
            wrapped = textwrap.wrap(detail, width) or [""]
            line.append("  " + wrapped[0] + "".join(f"\n{indent}{w}" for w in wrapped[1:]))
        console.print(line, soft_wrap=True)
        if verbose and o.payload is not None:
            payload = json.dumps(o.payload, indent=2, ensure_ascii=False, default=str)
            console.print(Text(textwrap.indent(payload, "    ")), soft_wrap=True)


def _detail(o: Outcome) -> str:
    detail = o.detail
    if o.changes:
        detail = "; ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in o.changes.items()) + (
            f" ({o.detail})" if o.detail else ""
        )
    if not detail and o.dk_number and o.action in (Action.UNCHANGED, Action.ADOPT):
        detail = f"already in DK+ as {o.dk_number}"
    if o.warnings:
        detail += (" " if detail else "") + "warning: " + "; ".join(o.warnings)
    return detail


def render(
    report: RunReport,
    console: Console,
    verbose: bool = False,
    since: str | None = None,
    listed: bool = False,
    command: str = "run",
) -> None:
    """The per-record plan (dry run), the summary, then what needs a person's attention.
    ``listed`` lists every record kept, ``verbose`` also their payloads. When nothing
    changed in Moment, one sentence instead of empty tables; when the run stopped before
    it read anything, nothing (the error alone is said, on stderr)."""
    if report.fatal is not None and not (report.tally or report.fetched):
        _warnings(console, report)
        return
    if nothing_changed(report) and not (verbose or listed):
        when = f" since {since}" if since else ""
        done = "nothing would be written" if report.dry_run else "nothing was written"
        again = sum(report.fetched.values()) - sum(report.retried.values())
        read = f" ({again} read again, unchanged)" if again else ""
        console.print(
            f"Nothing changed in Moment{when}{read}: {done}.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        _queue(console, report)
        _warnings(console, report)
        return
    if report.dry_run and report.outcomes:
        print_outcomes(console, "What would happen:", report.outcomes, True, verbose)
    elif (verbose or listed) and report.outcomes:
        print_outcomes(console, "What happened:", report.outcomes, False)
    console.print(summary_table(report, command))
    _warnings(console, report)
    if report.dry_run:
        return
    for title, action in (
        ("Rejected records", Action.REJECT),
        ("Project drift", Action.DRIFT),
        ("Uncertain invoices", Action.UNCERTAIN),
    ):
        attention = report.with_action(action)
        if attention and not (verbose or listed):
            print_outcomes(console, f"{title}:", attention, False)


def _queue(console: Console, report: RunReport) -> None:
    """The rejected queue, said apart from Moment's changes: what was tried again."""
    tried = sum(report.retried.values())
    if not tried:
        return
    still = sum(n for (_, a), n in report.retried_tally.items() if a is Action.REJECT)
    console.print(
        f"{tried} rejected record{'s' if tried > 1 else ''} tried again: {still} still "
        "rejected ('dksync failures' lists them).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _warnings(console: Console, report: RunReport) -> None:
    from rich.markup import escape

    for warning in report.warnings:
        console.print("[yellow]warning:[/] " + escape(warning), highlight=False)


def nothing_changed(report: RunReport) -> bool:
    """Whether the run found nothing to write and nothing for a person to look at (the
    records read again inside ``sync.lookback`` were unchanged, or drafts)."""
    quiet = (Action.UNCHANGED, Action.SKIP)
    return report.fatal is None and all(a in quiet for a in report.fresh_actions())


def outcome_line(report: RunReport, command: str = "run") -> str:
    """The one line a log file ends with: outcome, counts, and the rejected records."""
    words = f"{command} --dry-run " if report.dry_run else f"{command} "
    line = f"{words}finished: {report.outcome_word} (exit {report.exit_code}); "
    line += brief(count_words(report.counts()))
    if report.fatal is not None:
        line += f"; error: {report.fatal}"
    rejected = report.with_action(Action.REJECT, Action.UNCERTAIN)
    if rejected:
        shown = ", ".join(
            f"{singular(o.object_type)} {o.label} ({o.detail or o.action.value})"
            for o in rejected[:MAX_LISTED]
        )
        more = f" and {len(rejected) - MAX_LISTED} more" if len(rejected) > MAX_LISTED else ""
        line += f"; needs attention: {shown}{more}"
    return line


def as_json(report: RunReport) -> dict[str, Any]:
    """The run as one JSON-ready document (shape documented in the README)."""
    return {
        "dry_run": report.dry_run,
        "outcome": report.outcome_word,
        "exit_code": report.exit_code,
        "error": str(report.fatal) if report.fatal else None,
        "counts": count_words(report.counts()),
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


def readiness_table(readiness: Readiness) -> Table:
    """``dksync check``: one row per check, with what is wrong listed under it."""
    from rich.markup import escape
    from rich.table import Table

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
