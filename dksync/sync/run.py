"""The sync run, top to bottom as it happens: lock, open the books, for each stream read
Moment from its cursor and sync each record, settle lost answers, move the cursor; then
finish the run in its history, whatever happened.

The engine knows no HTTP and no Moment names: it pulls raw objects through the Moment
adapter, hands parsed records to the per-kind sync steps, and lets the books record every
outcome. Nothing escapes ``run``: a failure ends up in ``report.fatal`` with its exit code.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import FrameType, TracebackType
from typing import Any

from dksync import moment
from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.dkplus.dry import DkPlusApi, DryDkPlus
from dksync.dkplus.learned import ListedDkPlus
from dksync.dkplus.lists import DkPlusLists
from dksync.errors import (
    FatalError,
    InternalError,
    Interrupted,
    NotFound,
    RecordNotFound,
    RecordRejected,
)
from dksync.kinds import InvoiceState, ObjectKind, ReasonCode
from dksync.moment import MomentClient
from dksync.outcome import Action, Outcome, RunReport
from dksync.state.lock import RunLock
from dksync.state.store import Cursor, State
from dksync.sync.books import Books, DryBooks
from dksync.sync.context import MomentReads, RunContext
from dksync.sync.cursors import CursorTracker, RecentIds, read_from, safe_cursor
from dksync.sync.customers import sync_customer
from dksync.sync.invoices import resolve_lost, sync_invoice
from dksync.sync.projects import sync_project
from dksync.sync.settle import Settle
from dksync.transport.http import Pacer, RetryPolicy

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
    lists: DkPlusLists


def connect(config: Config, policy: RetryPolicy | None = None) -> Clients:
    """API clients for the configured services; DK+'s client and lists share one pace."""
    m, d = config.moment, config.dkplus
    policy = policy or RetryPolicy(max_total_seconds=config.sync.retry_for.total_seconds())
    pacer = Pacer(d.rate_limit)
    token = d.token.reveal()
    return Clients(
        MomentClient.connect(
            m.base_url,
            m.company,
            m.api_key.reveal(),
            timeout=m.timeout,
            policy=policy,
            rate_limit=m.rate_limit,
            page_size=m.page_size,
            field_names=m.field_names,
        ),
        DkPlusClient.connect(d.base_url, token, timeout=d.timeout, policy=policy, pacer=pacer),
        DkPlusLists.connect(d.base_url, token, timeout=d.timeout, policy=policy, pacer=pacer),
    )


class StopSignal:
    """Set by SIGINT or SIGTERM: stop reading, finish the writes in flight, then stop.
    Several Ctrl-C are one request to stop (no ``KeyboardInterrupt`` traceback)."""

    def __init__(self) -> None:
        self.signal_number: int | None = None

    def __call__(self) -> bool:
        return self.signal_number is not None

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal_number is None:
            log.warning("stopping: finishing the writes in flight (signal %d)", number)
        self.signal_number = self.signal_number or number

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Handle SIGINT and SIGTERM while the run lasts (only the main thread can)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def check(self) -> None:
        if self.signal_number is not None:
            raise Interrupted(self.signal_number)


def run(
    config: Config,
    options: RunOptions,
    clients: Clients | None = None,
    report: RunReport | None = None,
) -> RunReport:
    """One sync run. Whatever happens it ends with ``report`` complete: a failure is in
    ``report.fatal`` (with its exit code), and the run is finished in the history."""
    report = report or RunReport()
    report.dry_run, report.keep_unchanged = options.dry_run, options.keep_unchanged
    stop = StopSignal()
    with stop.installed(), _boundary(report, stop):
        clients = clients or connect(config)
        with _lock(config, options.dry_run), _open_state(config, options.dry_run) as state:
            run_id = None if options.dry_run else state.start_run()
            notes = None if run_id is None else LiveCounts(state, run_id, report)
            try:
                with _boundary(report, stop):
                    ctx = _context(config, clients, state, report, options.dry_run)
                    for stream in selected(config, options):
                        sync_stream(ctx, stream, options, stop, notes)
            finally:
                if run_id is not None:
                    error = None if report.fatal is None else str(report.fatal)
                    state.finish_run(run_id, report.outcome_word, report.counts(), error)
    return report


class LiveCounts:
    """Keeps a going run's counts in its history row, at most every ``every`` seconds and
    at the end of each stream, so ``status`` tells a running run's progress and a run
    killed outright leaves what it did."""

    every = 2.0

    def __init__(self, state: State, run_id: int, report: RunReport) -> None:
        self._state, self._run_id, self._report = state, run_id, report
        self._last = time.monotonic()

    def maybe(self) -> None:
        if time.monotonic() - self._last >= self.every:
            self.now()

    def now(self) -> None:
        self._last = time.monotonic()
        self._state.note_run_counts(self._run_id, self._report.counts())


@contextmanager
def _boundary(report: RunReport, stop: StopSignal) -> Iterator[None]:
    """Nothing passes: a fatal error, an interruption or an error dksync has no rule for is
    kept in the report (the first one wins), never raised."""
    try:
        yield
        stop.check()
    except FatalError as exc:
        report.fatal = report.fatal or exc
    except KeyboardInterrupt:
        report.fatal = report.fatal or Interrupted(signal.SIGINT)
    except Exception as exc:  # the last line of defence: no traceback, ever
        log.debug("unexpected error", exc_info=True)
        report.fatal = report.fatal or InternalError(
            f"unexpected error ({type(exc).__name__}); the run was stopped and recorded. "
            "Run again with -vv --log-file to see the details"
        )


def _context(
    config: Config, clients: Clients, state: State, report: RunReport, dry_run: bool
) -> RunContext:
    books = DryBooks(state, report) if dry_run else Books(state, report)
    direct = DryDkPlus(clients.dkplus) if dry_run else clients.dkplus
    dkplus: DkPlusApi = direct
    if config.dkplus.use_lists:
        dkplus = ListedDkPlus(direct, clients.lists, state.written_counts())
    settle = Settle(2 * config.dkplus.timeout)
    return RunContext(config, MomentReads(clients.moment), dkplus, books, settle)


def resync(
    config: Config,
    object_type: str,
    number: str,
    clients: Clients | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> RunReport:
    """Fetch one record from Moment by its number and sync it now; cursors stay where they
    are. An invoice already in DK+ is recognised, never posted again; with ``force`` one
    the state says is posted is looked up in DK+ and sent again if DK+ holds none."""
    report = RunReport(dry_run=dry_run, keep_unchanged=True)
    stream = next(s for s in STREAMS if s.object_type == object_type)
    stop = StopSignal()
    with stop.installed(), _boundary(report, stop):
        clients = clients or connect(config)
        with _lock(config, dry_run, "resync"), _open_state(config, dry_run) as state:
            ctx = _context(config, clients, state, report, dry_run)
            raw = _fetch_by_number(clients.moment, state, object_type, number)
            if raw is None:
                raise RecordNotFound(f"Moment has no {object_type[:-1]} numbered {number}")
            report.fetched[object_type] += 1
            key = moment.record_key(raw)
            ident = key[1] if key else 0
            if force and stream.kind is ObjectKind.INVOICES and ident:
                _forget_if_lost(ctx, ident, number)
            _sync_raw(ctx, stream, raw, ident)
            ctx.settle.drain(partial(resolve_lost, ctx), stop)
            with state.transaction():
                state.add_event("resync", f"{object_type} {number}")
    return report


def _forget_if_lost(ctx: RunContext, moment_id: int, number: str) -> None:
    """``resync --force``: an invoice the state says is posted, which DK+ no longer holds
    (deleted by hand, a sandbox restarted), is forgotten so it is sent again, but only once
    DK+ itself, asked by reference, answered that it holds none. Never when it holds one,
    and never on an answer that is not the contract (that stops the resync)."""
    state = ctx.books.state
    row = state.invoice(moment_id)
    if row is None or row.status != InvoiceState.POSTED:
        return
    if ctx.dkplus.invoices_by_reference(row.reference):
        return
    lost = f"DK+ no longer holds invoice {number} (dksync posted it as DK+ {row.dk_number})"
    again = "would send it again" if ctx.books.report.dry_run else "sending it again"
    log.warning("%s: %s", lost, again)
    ctx.books.report.warn(f"{lost}: {again}")
    with state.transaction():  # a dry run's state is an in-memory copy
        state.forget_invoice(moment_id)
        state.add_event(
            "resend", f"invoices {number} sent again: DK+ no longer held DK+ {row.dk_number}"
        )


def _fetch_by_number(client: MomentClient, state: State, object_type: str, number: str) -> Any:
    known = state.moment_id_for(object_type, number)
    if known is not None:
        try:
            return client.get(object_type, known)
        except NotFound:
            pass  # gone under that id: look it up by number below
    return client.find(object_type, number)


def _lock(config: Config, dry_run: bool, purpose: str = "run") -> AbstractContextManager[object]:
    """The run lock; a dry run takes none, since it writes nothing (not even the lock file)."""
    return nullcontext() if dry_run else RunLock(config.state_path, purpose)


@contextmanager
def _open_state(config: Config, dry_run: bool = False) -> Iterator[State]:
    """The state file, or for a dry run an in-memory copy of it that is thrown away."""
    state = State.snapshot(config.state_path) if dry_run else State.open(config.state_path)
    try:
        yield state
    finally:
        state.close()


def selected(config: Config, options: RunOptions) -> list[Stream]:
    wanted = options.only or config.sync.objects
    return [s for s in STREAMS if s.object_type in wanted]


def sync_stream(
    ctx: RunContext,
    stream: Stream,
    options: RunOptions,
    stop: StopSignal,
    notes: LiveCounts | None = None,
) -> None:
    """Read one kind from its cursor, sync each record, settle lost answers, then move the
    cursor past what is done.

    Moment is read in this thread, page by page; records are synced on up to
    ``dkplus.concurrency`` threads (one with ``--limit``), at most twice that in flight.
    A stop signal ends the read; the writes in flight finish; the cursor does not move.
    """
    kind = stream.object_type
    start = read_from(
        ctx.books.state.cursor(kind),
        ctx.config.sync.lookback,
        ctx.config.sync.start_from,
        options.since,
    )
    log.info(
        "%s: reading Moment changes since %s", kind, start.isoformat() if start else "the start"
    )
    tracker, seen, worked, limited = CursorTracker(), RecentIds(), 0, False
    rejected = {row.moment_id for row in ctx.books.state.rejected(kind)}
    workers = 1 if options.limit is not None else ctx.config.dkplus.concurrency
    read = ctx.moment.client.changed_since(kind, start)
    with _Writers(workers, tracker) as writers:
        for raw in read:
            if stop():
                break
            cursor = _accept(ctx, kind, raw, start, seen)
            if notes is not None:
                notes.maybe()
            if cursor is None:
                continue
            rejected.discard(cursor.record_id)
            if options.limit is not None and worked >= options.limit:
                tracker.record(cursor, done=False)
                limited = True
                continue
            outcome = writers.submit(partial(_sync_raw, ctx, stream, raw, cursor.record_id), cursor)
            worked += outcome is not None and outcome.action not in (Action.UNCHANGED, Action.SKIP)
    if not stop():
        _retry_rejected(ctx, stream, rejected)
    writers.settled(ctx.settle.drain(partial(resolve_lost, ctx), stop))
    for warning in read.warnings:
        log.warning("%s", warning)
        ctx.books.report.warn(warning)
    whole = read.complete and not (stop() or limited or options.since is not None)
    ctx.books.end_stream(stream.kind, read_whole=whole)
    _move_cursor(ctx, kind, tracker, read, moved=not stop())
    if notes is not None:
        notes.now()


def _move_cursor(
    ctx: RunContext, kind: str, tracker: CursorTracker, read: moment.ListRead, moved: bool
) -> None:
    """Only below a point under which everything was read (see ``cursors.safe_cursor``)."""
    new = safe_cursor(tracker, read)
    if new is None or not moved or ctx.books.report.dry_run:
        return
    with ctx.books.state.transaction():
        ctx.books.state.move_cursor(kind, new)
    log.info(
        "%s: %d read; cursor now %s (id %d)",
        kind,
        ctx.books.report.fetched[kind],
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
        ctx.books.record(
            Outcome(
                kind,
                0,
                moment.record_label(kind, raw),
                Action.REJECT,
                "Moment sent an object without id or lastModifiedDate",
                code=ReasonCode.MALFORMED,
            )
        )
        return None
    cursor = Cursor(*key)
    if (start is not None and cursor.modified < start) or not seen.add(cursor):
        return None
    ctx.books.report.fetched[kind] += 1
    return cursor


class _Writers:
    """Runs sync tasks on a bounded pool and feeds each result to the cursor tracker.

    An uncertain invoice's key waits (``settled``) until the end of the stream says whether
    it was settled. On a fatal error the tasks already in flight finish (each keeps its own
    books, an invoice POST included) and then the first error is raised.
    """

    def __init__(self, workers: int, tracker: CursorTracker) -> None:
        self._pool = ThreadPoolExecutor(workers, "dksync-writer") if workers > 1 else None
        self._window = 2 * workers
        self._tracker = tracker
        self._inflight: dict[Future[Outcome], Cursor] = {}
        self._waiting: dict[int, Cursor] = {}

    def __enter__(self) -> _Writers:
        return self

    def submit(self, task: Callable[[], Outcome], cursor: Cursor) -> Outcome | None:
        """Run (or queue) one task; the outcome when it ran here and now."""
        if self._pool is None:
            outcome = task()
            self._done(cursor, outcome)
            return outcome
        self._inflight[self._pool.submit(task)] = cursor
        if len(self._inflight) >= self._window:
            self._collect(FIRST_COMPLETED)
        return None

    def _done(self, cursor: Cursor, outcome: Outcome) -> None:
        if outcome.action is Action.UNCERTAIN:
            self._waiting[cursor.record_id] = cursor
        else:
            self._tracker.record(cursor, outcome.action.done)

    def settled(self, results: dict[int, Action]) -> None:
        """The final actions of the uncertain ones after settling."""
        for ident, cursor in self._waiting.items():
            action = results.get(ident, Action.UNCERTAIN)
            self._tracker.record(cursor, action.done)
        self._waiting.clear()

    def _collect(self, when: str) -> None:
        done, _ = wait(self._inflight, return_when=when)
        failure: BaseException | None = None
        for future in done:
            cursor = self._inflight.pop(future)
            error = future.exception()
            if error is None:
                self._done(cursor, future.result())
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
        label = moment.record_label(kind, raw)
        return ctx.books.record(
            Outcome(kind, ident, label, Action.REJECT, str(exc), code=ReasonCode.MALFORMED)
        )
    return stream.sync(ctx, record)


def _retry_rejected(ctx: RunContext, stream: Stream, not_read: set[int]) -> None:
    """Try again every rejected record of this kind that the read did not bring back:
    someone may have fixed it in Moment or in DK+ since."""
    for row in ctx.books.state.rejected(stream.object_type):
        if row.moment_id not in not_read or row.moment_id == 0:
            continue
        ctx.books.report.retry(stream.object_type, row.moment_id)
        try:
            raw = ctx.moment.client.get(stream.object_type, row.moment_id)
        except NotFound:
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
        _sync_raw(ctx, stream, raw, row.moment_id)
