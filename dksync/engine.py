"""The sync run: which streams, in which order, and the books (cursors, outcomes, history).

The engine knows no HTTP and no Moment names: it pulls raw objects through the Moment
adapter, hands parsed records to the per-type sync steps, and moves each stream's cursor
only after a complete read, past records that are done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.cursors import CursorTracker, RecentIds, read_from
from dksync.dkplus import DkPlusClient
from dksync.errors import FatalError, NotFound, RecordNotFound, RecordRejected
from dksync.http import RetryPolicy
from dksync.lock import RunLock
from dksync.moment import MomentClient
from dksync.outcome import Action, Outcome, RunReport
from dksync.state import Cursor, State
from dksync.sync.context import RunContext
from dksync.sync.customers import sync_customer
from dksync.sync.invoices import sync_invoice
from dksync.sync.projects import sync_project

log = logging.getLogger("dksync.engine")


@dataclass(frozen=True)
class Stream:
    """One object type: how to sync a parsed record of it."""

    object_type: str
    sync: Callable[[RunContext, Any], Outcome]


STREAMS = (
    Stream("customers", sync_customer),
    Stream("projects", sync_project),
    Stream("invoices", sync_invoice),
)


@dataclass(frozen=True)
class RunOptions:
    only: tuple[str, ...] = ()
    dry_run: bool = False
    since: datetime | None = None
    limit: int | None = None
    keep_unchanged: bool = False


@dataclass(frozen=True)
class Clients:
    moment: MomentClient
    dkplus: DkPlusClient


def connect(config: Config, policy: RetryPolicy | None = None) -> Clients:
    """API clients for the configured services."""
    m, d = config.moment, config.dkplus
    policy = policy or RetryPolicy(max_total_seconds=config.sync.retry_for.total_seconds())
    return Clients(
        MomentClient.connect(
            m.base_url,
            m.company,
            m.api_key.reveal(),
            timeout=m.timeout,
            policy=policy,
            rate_limit=m.rate_limit,
            page_size=m.page_size,
        ),
        DkPlusClient.connect(
            d.base_url, d.token.reveal(), timeout=d.timeout, policy=policy, rate_limit=d.rate_limit
        ),
    )


def run(
    config: Config,
    options: RunOptions,
    clients: Clients | None = None,
    report: RunReport | None = None,
) -> RunReport:
    """One sync run. Errors that stop it end up in ``report.fatal``, never half-recorded."""
    clients = clients or connect(config)
    report = report or RunReport()
    report.dry_run, report.keep_unchanged = options.dry_run, options.keep_unchanged
    with RunLock(config.state_path), _open_state(config) as state:
        run_id = None if options.dry_run else state.start_run()
        ctx = RunContext(config, clients.moment, clients.dkplus, state, report, options.dry_run)
        try:
            for stream in selected(config, options):
                sync_stream(ctx, stream, options)
                ctx.facts_fresh |= stream.object_type == "customers"
                ctx.forget_successes()
        except FatalError as exc:
            report.fatal = exc
        if run_id is not None:
            state.finish_run(run_id, report.outcome_word, report.counts())
    return report


def resync(
    config: Config, object_type: str, number: str, clients: Clients | None = None
) -> RunReport:
    """Fetch one record from Moment by its number and sync it now; cursors stay where they
    are. An invoice already in DK+ is recognised, never posted again."""
    clients = clients or connect(config)
    report = RunReport()
    stream = next(s for s in STREAMS if s.object_type == object_type)
    with RunLock(config.state_path, "resync"), _open_state(config) as state:
        ctx = RunContext(config, clients.moment, clients.dkplus, state, report)
        try:
            raw = _fetch_by_number(clients.moment, state, object_type, number)
            if raw is None:
                raise RecordNotFound(f"Moment has no {object_type[:-1]} numbered {number}")
            report.fetched[object_type] += 1
            key = moment.record_key(raw)
            _sync_raw(ctx, stream, raw, key[1] if key else 0)
            with state.transaction():
                state.add_event("resync", f"{object_type} {number}")
        except FatalError as exc:
            report.fatal = exc
    return report


def _fetch_by_number(client: MomentClient, state: State, object_type: str, number: str) -> Any:
    known = state.moment_id_for(object_type, number)
    if known is not None:
        try:
            return client.get(object_type, known)
        except NotFound:
            pass  # gone under that id: look it up by number below
    return client.find(object_type, number)


@contextmanager
def _open_state(config: Config) -> Iterator[State]:
    state = State.open(config.state_path)
    try:
        yield state
    finally:
        state.close()


def selected(config: Config, options: RunOptions) -> list[Stream]:
    wanted = options.only or config.sync.objects
    return [s for s in STREAMS if s.object_type in wanted]


def sync_stream(ctx: RunContext, stream: Stream, options: RunOptions) -> None:
    """Read one object type from its cursor, sync each record, then move the cursor.

    Moment is read in this thread, page by page; records are synced on up to
    ``dkplus.concurrency`` threads (one with ``--limit``), at most twice that in flight.
    """
    kind = stream.object_type
    start = read_from(
        ctx.state.cursor(kind), ctx.config.sync.lookback, ctx.config.sync.start_from, options.since
    )
    log.info(
        "%s: reading Moment changes since %s", kind, start.isoformat() if start else "the start"
    )
    tracker, seen, worked = CursorTracker(), RecentIds(), 0
    rejected = {row.moment_id for row in ctx.state.rejected(kind)}
    workers = 1 if options.limit is not None else ctx.config.dkplus.concurrency
    with _Writers(workers, tracker) as writers:
        for raw in ctx.moment.changed_since(kind, start):
            cursor = _accept(ctx, kind, raw, start, seen)
            if cursor is None:
                continue
            rejected.discard(cursor.record_id)
            if options.limit is not None and worked >= options.limit:
                tracker.record(cursor, done=False)
                continue
            outcome = writers.submit(partial(_sync_raw, ctx, stream, raw, cursor.record_id), cursor)
            worked += outcome is not None and outcome.action not in (Action.UNCHANGED, Action.SKIP)
    _retry_rejected(ctx, stream, rejected)
    new = tracker.result()
    if new is not None and not ctx.dry_run:
        with ctx.state.transaction():
            ctx.state.move_cursor(kind, new)
        log.info(
            "%s: %d read; cursor now %s (id %d)",
            kind,
            ctx.report.fetched[kind],
            new.modified.isoformat(),
            new.record_id,
        )


def _accept(
    ctx: RunContext, kind: str, raw: Any, start: datetime | None, seen: RecentIds
) -> Cursor | None:
    """The record's cursor key when it is one to sync now; None for a repeat, a record
    outside the asked range (Moment's filter is not trusted), or one without a key."""
    key = moment.record_key(raw)
    if key is None:
        ctx.report.add(
            Outcome(
                kind,
                0,
                moment.record_label(kind, raw),
                Action.REJECT,
                "Moment sent an object without id or lastModifiedDate",
            )
        )
        return None
    cursor = Cursor(*key)
    if (start is not None and cursor.modified < start) or not seen.add(cursor.record_id):
        return None
    ctx.report.fetched[kind] += 1
    return cursor


class _Writers:
    """Runs sync tasks on a bounded pool and feeds each result to the cursor tracker.

    On a fatal error it lets the tasks already in flight finish (each keeps its own books,
    an invoice POST included) and then raises the first error.
    """

    def __init__(self, workers: int, tracker: CursorTracker) -> None:
        self._pool = ThreadPoolExecutor(workers, "dksync-writer") if workers > 1 else None
        self._window = 2 * workers
        self._tracker = tracker
        self._inflight: dict[Future[Outcome], Cursor] = {}

    def __enter__(self) -> _Writers:
        return self

    def submit(self, task: Callable[[], Outcome], cursor: Cursor) -> Outcome | None:
        """Run (or queue) one task; the outcome when it ran here and now."""
        if self._pool is None:
            outcome = task()
            self._tracker.record(cursor, outcome.action.done)
            return outcome
        self._inflight[self._pool.submit(task)] = cursor
        if len(self._inflight) >= self._window:
            self._collect(FIRST_COMPLETED)
        return None

    def _collect(self, when: str) -> None:
        done, _ = wait(self._inflight, return_when=when)
        failure: BaseException | None = None
        for future in done:
            cursor = self._inflight.pop(future)
            error = future.exception()
            if error is None:
                self._tracker.record(cursor, future.result().action.done)
            else:
                failure = failure or error
        if failure is not None:
            wait(self._inflight)
            self._inflight.clear()
            raise failure

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._inflight:
                self._collect(ALL_COMPLETED)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


def _sync_raw(ctx: RunContext, stream: Stream, raw: Any, ident: int) -> Outcome:
    kind = stream.object_type
    try:
        record = moment.parse(kind, raw)
    except RecordRejected as exc:
        outcome = Outcome(kind, ident, moment.record_label(kind, raw), Action.REJECT, str(exc))
        return ctx.record(outcome, remember=kind != "invoices")
    return stream.sync(ctx, record)


def _retry_rejected(ctx: RunContext, stream: Stream, not_read: set[int]) -> None:
    """Try again every rejected record of this type that the read did not bring back:
    someone may have fixed it in Moment or in DK+ since."""
    for row in ctx.state.rejected(stream.object_type):
        if row.moment_id not in not_read or row.moment_id == 0:
            continue
        try:
            raw = ctx.moment.get(stream.object_type, row.moment_id)
        except NotFound:
            outcome = Outcome(
                stream.object_type,
                row.moment_id,
                row.number,
                Action.REJECT,
                "no longer exists in Moment: drop it with 'dksync failures drop'",
            )
            ctx.report.add(outcome)
            continue
        _sync_raw(ctx, stream, raw, row.moment_id)
