"""Tables for the operator commands (failures, history, status, show), and the words
every table and JSON document uses for counts and kinds. Compact, so they read at 80 columns.
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dksync.kinds import ObjectKind
from dksync.outcome import Action
from dksync.state.rows import RejectedRow

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text


COUNT_WORDS = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.UNCHANGED: "unchanged",
    Action.ADOPT: "adopted",
    Action.SKIP: "skipped",
    Action.DRIFT: "drift",
    Action.REJECT: "rejected",
    Action.UNCERTAIN: "uncertain",
}
READ = "read"
RETRIED = "retried"


def kind_order(kind: str) -> int:
    known = ObjectKind.named(kind)
    return len(ObjectKind) if known is None else known.rank


def singular(kind: str) -> str:
    """ "invoice" for "invoices": how one record of a kind is named, as in 'show invoice 1001'."""
    try:
        return ObjectKind(kind).singular
    except ValueError:
        return kind


def count_words(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts keyed by the words the tables use ("read", "created", ...), whatever words
    they were stored under, so tables, JSON and help say the same."""
    stored = {a.value: word for a, word in COUNT_WORDS.items()} | {"fetched": READ}
    return {
        kind: {stored.get(key, key): value for key, value in row.items()}
        for kind, row in counts.items()
    }


def failure_json(row: RejectedRow) -> dict[str, Any]:
    """A rejected record for JSON, its kind under "object" as in a run's records."""
    document = asdict(row)
    document = {"id": document.pop("id"), "object": document.pop("object_type"), **document}
    return document


def failure_row(document: dict[str, Any]) -> RejectedRow:
    """Back from ``failure_json``."""
    fields = {k: v for k, v in document.items() if k != "object"}
    return RejectedRow(object_type=document["object"], **fields)


def short_time(text: str | None) -> str:
    """ "2026-11-22 08:14Z" for a stored ISO time: ISO 8601 with its zone (UTC), never a
    month-day without its year (Icelanders read 12-01 as the 12th of January)."""
    if not text:
        return "-"
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return text[:16]
    return moment.strftime("%Y-%m-%d %H:%MZ")


def _compact(title: str) -> Table:
    from rich import box
    from rich.table import Table

    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")


def failures_table(
    rows: list[RejectedRow], include_dropped: bool = False, width: int = 80
) -> RenderableType:
    """Rejected records, for ``dksync failures``: one line per record (ID, record, tries,
    first and last seen) with its reason wrapped under it, so it reads at 80 columns;
    dropped ones (``--all``) are marked DROPPED with when and why."""
    from rich.console import Group
    from rich.text import Text

    if not rows:
        return "No rejected records." + ("" if include_dropped else " ('--all' adds dropped ones)")
    names = [f"{singular(r.object_type)} {r.number}" for r in rows]
    name_width = max(len(n) for n in names)
    id_width = max(2, *(len(str(r.id)) for r in rows))
    head = f"{'ID':>{id_width}}  {'record':<{name_width}}  tries  {'first seen':<17}  last seen"
    lines: list[Text] = [Text("Rejected records (times in UTC):", style="bold"), Text(head)]
    indent = " " * (id_width + 2)
    for r, name in zip(rows, names, strict=True):
        lines.append(
            Text(
                f"{r.id:>{id_width}}  {name:<{name_width}}  {r.attempts:>5}  "
                f"{short_time(r.first_seen):<17}  {short_time(r.last_seen)}"
            )
        )
        reason = r.reason
        if r.dropped_at is not None:
            note = f": {r.dropped_note}" if r.dropped_note else ""
            reason = f"DROPPED {short_time(r.dropped_at)}{note}. {reason}"
        wrapped = textwrap.wrap(reason, max(width - len(indent), 30))
        lines.append(
            Text("\n".join(indent + w for w in wrapped), style="dim" if r.dropped_at else "")
        )
    return Group(*lines)


def status_tables(status: dict[str, Any]) -> list[Table]:
    """``dksync status``: cursors and the last run, then what needs attention."""
    from rich import box
    from rich.table import Table

    cursors = _compact(f"dksync status ({status['state_file']}; times in UTC)")
    for column in ("object", "cursor (Moment lastModifiedDate)", "id"):
        cursors.add_column(column)
    last = status["last_run"]
    for kind, cursor in status["cursors"].items():
        cursors.add_row(kind, cursor["note"], "-" if cursor["id"] is None else str(cursor["id"]))
    facts = Table(show_header=False, box=box.SIMPLE, pad_edge=False)
    facts.add_column("what", no_wrap=True)
    facts.add_column("value", overflow="fold")
    facts.add_row("last run", "none yet" if last is None else last_run_text(last))
    facts.add_row("invoices posted", str(status["posted_invoices"]))
    facts.add_row("rejected records", str(len(status["rejected"])))
    running = status["lock"] is not None and status["lock"].get("purpose", "run") == "run"
    in_flight = [i for i in status["uncertain_invoices"] if running and i["status"] == "pending"]
    if in_flight:
        facts.add_row("being posted", ", ".join(i["reference"] for i in in_flight))
    facts.add_row(
        "uncertain invoices",
        ", ".join(
            f"{i['reference']} ({i['status']} since {short_time(i['updated_at'])})"
            for i in status["uncertain_invoices"]
            if i not in in_flight
        )
        or "none",
    )
    facts.add_row("running now", _holder(status["lock"]))
    return [cursors, facts]


def last_run_text(run: dict[str, Any]) -> str:
    """ "2026-12-01 06:06Z → 06:07Z: failed (why); customers 40 read, ..." for one run."""
    ended = short_time(run["finished_at"]) if run["finished_at"] else "…"
    why = f" ({run['error']})" if run.get("error") else ""
    return f"{short_time(run['started_at'])} → {ended}: {run['outcome']}{why}; " + brief(
        run["counts"]
    )


def _holder(lock: dict[str, Any] | None) -> str:
    if lock is None:
        return "no"
    if not lock:
        return "yes (by whom is not known: the state's .lock note was deleted)"
    return (
        f"yes: {lock.get('purpose', 'run')}, pid {lock.get('pid')} on {lock.get('host')} "
        f"since {short_time(lock.get('since'))}"
    )


def brief(counts: dict[str, dict[str, int]]) -> str:
    """ "customers 40 read, 39 created, 1 rejected; ..." in the run's order (products are
    never read from Moment, only created for invoices)."""
    parts = []
    for kind in sorted(counts, key=kind_order):
        row = counts[kind]
        done = [f"{v} {k}" for k, v in row.items() if v and k not in (READ, RETRIED)]
        if row.get(RETRIED):
            done.insert(0, f"{row[RETRIED]} {RETRIED}")
        if kind != ObjectKind.PRODUCTS:
            done.insert(0, f"{row.get(READ, 0)} read")
        if done:
            parts.append(f"{kind} " + ", ".join(done))
    return "; ".join(parts) or "nothing read"


def _took(run: dict[str, Any]) -> str:
    if not run["finished_at"]:
        return "-"
    seconds = (
        datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])
    ).total_seconds()
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"


def history_table(runs: list[dict[str, Any]]) -> Table | str:
    """Past runs, one compact row each: when, how long, outcome, and the counts."""
    if not runs:
        return "No runs yet."
    table = _compact("dksync history (times in UTC)")
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("counts", overflow="fold", ratio=1)
    for run in runs:
        table.add_row(
            str(run["id"]),
            short_time(run["started_at"]),
            _took(run),
            run["outcome"],
            brief(run["counts"]) + (f"; error: {run['error']}" if run.get("error") else ""),
        )
    return table


def record_tables(known: dict[str, Any], width: int = 80) -> list[RenderableType]:
    """``dksync show``: what the state holds about one record."""
    from rich import box
    from rich.table import Table

    name = f"{singular(known['object'])} {known['number']}"
    if known["moment_id"] is None:
        return [f"dksync has no record of {name}: never written, rejected or resynced."]
    facts = Table(title=name, show_header=False, box=box.SIMPLE, title_justify="left")
    facts.add_column("what", no_wrap=True)
    facts.add_column("value", overflow="fold")
    facts.add_row("Moment id", str(known["moment_id"]))
    written = known["written"]
    if written is not None:
        facts.add_row("written to DK+", f"{short_time(written['at'])} as {written['number']}")
    invoice = known["invoice"]
    if invoice is not None:
        facts.add_row("DK+ number", str(invoice["dk_number"] or "-"))
        facts.add_row("state", f"{invoice['status']} since {short_time(invoice['updated_at'])}")
    skipped = known.get("skipped")
    if skipped is not None:
        facts.add_row("skipped", f"{short_time(skipped['at'])}: {skipped['reason']}")
    if written is None and invoice is None:
        facts.add_row("written to DK+", "not yet" if skipped is None else "no (skipped)")
    shown: list[RenderableType] = [facts]
    if known["rejections"]:
        rows = [failure_row(r) for r in known["rejections"]]
        shown.append(failures_table(rows, True, width))
    if known["events"]:
        events = _compact("Events")
        for column in ("at", "what", "detail"):
            events.add_column(column, overflow="fold")
        for event in known["events"]:
            events.add_row(short_time(event["at"]), event["kind"], event["detail"])
        shown.append(events)
    return shown
