"""One stream per object kind: read it from its cursor, sync each record, settle lost
answers, move the cursor past what is done."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.errors import FatalError, RecordRejected
from dksync.kinds import ObjectKind, ReasonCode
from dksync.outcome import Action, Outcome
from dksync.state.rows import Cursor
from dksync.sync.context import RunContext, RunOptions
from dksync.sync.cursors import CursorTracker, read_from, safe_cursor
from dksync.sync.customers import sync_customer
from dksync.sync.invoices import resolve_lost, sync_invoice
from dksync.sync.projects import sync_project
from dksync.sync.signals import StopSignal
from dksync.sync.writers import Writers
from dksync.transport.trail import forget_endpoint

log = logging.getLogger("dksync.engine")


@dataclass(frozen=True)
class Stream:
    """One object kind: how to sync a parsed record of it."""

    kind: ObjectKind
    sync: Callable[[RunContext, Any], Outcome]

    @property
    def object_type(self) -> str:
        return self.kind.value


STREAMS = (
    Stream(ObjectKind.CUSTOMERS, sync_customer),
    Stream(ObjectKind.PROJECTS, sync_project),
    Stream(ObjectKind.INVOICES, sync_invoice),
)


def selected(config: Config, options: RunOptions) -> list[Stream]:
    wanted = options.only or config.sync.objects
    return [s for s in STREAMS if s.object_type in wanted]


@dataclass(frozen=True)
class Opened:
    """A stream about to be synced: where its cursor stood, where its read starts, the read."""

    stream: Stream
    stored: Cursor | None
    start: datetime | None
    read: moment.ListRead


def open_streams(ctx: RunContext, streams: list[Stream], options: RunOptions) -> list[Opened]:
    """Each stream's read from its cursor, its first page asked for at once: the first
    answers of all kinds come back together. A stream moves only its own cursor, so where
    each starts is the same now as when its turn comes."""
    opened = [_open(ctx, stream, options) for stream in streams]
    for each in opened:
        each.read.start()
    return opened


def _open(ctx: RunContext, stream: Stream, options: RunOptions) -> Opened:
    kind = stream.object_type
    stored = ctx.books.cursor(kind)
    start = read_from(stored, ctx.config.sync.lookback, ctx.config.sync.start_from, options.since)
    return Opened(stream, stored, start, ctx.moment.changed_since(kind, start))


def sync_stream(ctx: RunContext, opened: Opened, options: RunOptions, stop: StopSignal) -> None:
    """Sync each record the stream's read brings, settle lost answers, then move the
    cursor past what is done.

    Moment is read in this thread, page by page; records are synced on up to
    ``dkplus.concurrency`` threads (one with ``--limit``), at most twice that in flight; with
    ``auto`` as many in flight as DK+'s rate and measured latency call for.
    A stop signal ends the read; the writes in flight finish; the cursor does not move.
    """
    stream, stored, start, read = opened.stream, opened.stored, opened.start, opened.read
    kind = stream.object_type
    log.info(
        "%s: reading Moment changes since %s", kind, start.isoformat() if start else "the start"
    )
    ctx.books.begin_stream(stream.kind)
    tracker, worked, limited = CursorTracker(), 0, False
    rejected = {row.moment_id for row in ctx.books.waiting(kind)}
    workers = 1 if options.limit is not None else ctx.workers()
    with Writers(workers, tracker) as writers:
        for raw in read:
            if stop():
                break
            cursor = _accept(ctx, kind, raw, start)
            if cursor is None:
                rejected.discard(moment.record_id(raw) or 0)
                continue
            rejected.discard(cursor.record_id)
            if options.limit is not None and worked >= options.limit:
                tracker.record(cursor, done=False)
                limited = True
                continue
            outcome = writers.submit(partial(sync_raw, ctx, stream, raw, cursor.record_id), cursor)
            worked += outcome is not None and outcome.action not in (Action.UNCHANGED, Action.SKIP)
    if not stop():
        _retry_rejected(ctx, stream, rejected)
    writers.settled(ctx.settle.drain(partial(resolve_lost, ctx), stop))
    _tell(ctx, read)
    whole = read.complete and not (stop() or limited or options.since is not None)
    if stream.kind is ObjectKind.INVOICES and start is None and whole:
        ctx.read_all_invoices = True
    ctx.books.end_stream(stream.kind, read_whole=whole)
    _move_cursor(ctx, kind, tracker, read, moved=not stop() and _covers(stored, options.since))


def _tell(ctx: RunContext, read: moment.ListRead) -> None:
    """What the read says a person should know; a stale Moment clock once per run."""
    clock = read.clock_note
    for warning in [*read.warnings, *([clock] if clock and not ctx.clock_warned else [])]:
        log.warning("%s", warning)
        ctx.books.report.warn(warning)
    ctx.clock_warned = ctx.clock_warned or clock is not None


def _covers(stored: Cursor | None, since: datetime | None) -> bool:
    """Whether a read from ``--since`` covers everything after the stored cursor: only then
    may the cursor move (a later ``--since`` leaves records unread below it)."""
    return since is None or (stored is not None and since <= stored.modified)


def _move_cursor(
    ctx: RunContext, kind: str, tracker: CursorTracker, read: moment.ListRead, moved: bool
) -> None:
    """Only below a point under which everything was read (see ``cursors.safe_cursor``)."""
    new = safe_cursor(tracker, read)
    if new is None or not moved or ctx.books.report.dry_run:
        return
    ctx.books.move_cursor(kind, new)
    log.info(
        "%s: %d read; cursor now %s (id %d)",
        kind,
        ctx.books.report.fetched[kind],
        new.modified.isoformat(),
        new.record_id,
    )


def _accept(ctx: RunContext, kind: str, raw: Any, start: datetime | None) -> Cursor | None:
    """The record's cursor key when it is one to sync now; None for a record outside the
    asked range (Moment's filter is not trusted) or one without a key (kept in the rejected
    queue under its id, or under a stable stand-in when it has none). Repeats never come
    here: the read hands out each version of an object once."""
    key = moment.record_key(raw)
    if key is None:
        label = moment.record_label(kind, raw)
        ctx.books.record(
            Outcome(
                kind,
                moment.record_id(raw) or unidentified(label),
                label,
                Action.REJECT,
                "Moment sent an object without a readable id or lastModifiedDate: "
                + "; ".join(moment.key_problems(raw)),
                code=ReasonCode.MALFORMED,
            )
        )
        return None
    cursor = Cursor(*key)
    if start is not None and cursor.modified < start:
        return None
    ctx.books.report.fetched[kind] += 1
    ctx.books.report.read_one()
    return cursor


def unidentified(label: str) -> int:
    """A stand-in key for a record Moment sent without an id: negative (no Moment id is),
    stable across runs, so the record has one place in the rejected queue."""
    return -1 - zlib.crc32(label.encode("utf-8"))


def sync_raw(ctx: RunContext, stream: Stream, raw: Any, ident: int) -> Outcome:
    """Parse and sync one record; whatever fails outside its step's own boundary (the
    parse, the locks) ends this record only, as inside it (``Books.take``)."""
    kind = stream.object_type
    label = moment.record_label(kind, raw)
    forget_endpoint()  # a parse failure names no request (the last was another record's)
    try:
        record = moment.parse(kind, raw)
    except FatalError:
        raise
    except RecordRejected as exc:
        return ctx.books.record(
            Outcome(kind, ident, label, Action.REJECT, str(exc), code=ReasonCode.MALFORMED)
        )
    except Exception as exc:
        return ctx.books.record(ctx.books.failed(stream.kind, ident, label, exc))
    return stream.sync(ctx, record)


def _retry_rejected(ctx: RunContext, stream: Stream, not_read: set[int]) -> None:
    """Try again every rejected record of this kind that the read did not bring back:
    someone may have fixed it in DK+ since (a change in Moment brings it back in the read).
    They are read in one list request per hundred, through Moment's id filter; when Moment
    ignores that filter they wait for their next change in Moment (or 'dksync resync'):
    never one GET per record per run."""
    rows = [
        row
        for row in ctx.books.waiting(stream.object_type)
        if row.moment_id in not_read and row.moment_id > 0  # no id to fetch it by
    ]
    if not rows:
        return
    found = ctx.moment.by_ids(stream.object_type, [row.moment_id for row in rows])
    if found is None:
        log.info(
            "%s: %d rejected records are tried again when they change in Moment",
            stream.object_type,
            len(rows),
        )
        return
    for row in rows:
        ctx.books.report.retry(stream.object_type, row.moment_id)
        raw = found.get(row.moment_id)
        if raw is None:
            ctx.books.report.add(
                Outcome(
                    stream.object_type,
                    row.moment_id,
                    row.number,
                    Action.REJECT,
                    "no longer exists in Moment: drop it with 'dksync failures drop'",
                    code=ReasonCode.GONE,
                )
            )
            continue
        sync_raw(ctx, stream, raw, row.moment_id)
