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
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from typing import Any

from dksync import logformat, moment
from dksync.clients import Clients, connect
from dksync.config import Config
from dksync.dkplus.api import DkPlusApi
from dksync.dkplus.dry import DryDkPlus
from dksync.dkplus.learned import ListedDkPlus
from dksync.errors import (
    FatalError,
    InternalError,
    Interrupted,
    NotFound,
    RecordNotFound,
)
from dksync.kinds import InvoiceState, ObjectKind
from dksync.moment import MomentClient
from dksync.outcome import RunReport
from dksync.state import lineage
from dksync.state.access import open_read_only
from dksync.state.lock import RunLock
from dksync.state.store import State
from dksync.sync.books import Books
from dksync.sync.context import MomentReads, RunContext, RunOptions
from dksync.sync.drybooks import DryBooks
from dksync.sync.invoices import resolve_lost
from dksync.sync.live import LiveCounts
from dksync.sync.settle import Settle
from dksync.sync.signals import StopSignal
from dksync.sync.streams import STREAMS, open_streams, selected, sync_raw, sync_stream

log = logging.getLogger("dksync.engine")


Notifier = Callable[[Config, RunReport], object]


def run(
    config: Config,
    options: RunOptions,
    clients: Clients | None = None,
    report: RunReport | None = None,
    notifier: Notifier | None = None,
) -> RunReport:
    """One sync run. Whatever happens it ends with ``report`` complete: a failure is in
    ``report.fatal`` (with its exit code), and the run is finished in the history. The
    ``notifier`` (the email) runs last, still under the run's lock."""
    report = report or RunReport()
    report.dry_run, report.keep_unchanged = options.dry_run, options.keep_unchanged
    stop = StopSignal()
    with stop.installed(), _boundary(report, stop):
        clients = clients or connect(config)
        with _lock(config, options.dry_run, wait=options.wait_lock), _locked(options):
            with _boundary(report, stop), _open_state(config, options.dry_run) as state:
                _sync_all(config, clients, state, report, options, stop)
            if notifier is not None:
                _notify(notifier, config, report)
    return report


def _sync_all(
    config: Config,
    clients: Clients,
    state: State,
    report: RunReport,
    options: RunOptions,
    stop: StopSignal,
) -> None:
    """Every selected stream, the run finished in the history whatever happens."""
    run_id = None if options.dry_run else state.start_run()
    logformat.bind(run_id=run_id)
    notes = None if run_id is None else LiveCounts(state, run_id, report)
    if notes is not None:
        report.readers.append(notes.maybe)
    ctx: RunContext | None = None
    try:
        with _boundary(report, stop):
            ctx = _context(config, clients, state, report, options.dry_run)
            for stream in open_streams(ctx, selected(config, options), options):
                sync_stream(ctx, stream, options, stop)
                if notes is not None:
                    notes.now()
    finally:
        if run_id is not None:
            error = None if report.fatal is None else str(report.fatal)
            state.finish_run(run_id, report.outcome_word, report.counts(), error)
            state.prune_history(config.history.keep_for, config.history.keep_runs)
            if ctx is not None:
                lineage.finish(state, trusted=ctx.window_trusted or ctx.read_all_invoices)


def _notify(notifier: Notifier, config: Config, report: RunReport) -> None:
    """The notification, inside the run's lock (a run refused by the lock never gets here:
    it sends nothing and writes nothing). Its own failure is a warning, not the run's."""
    try:
        notifier(config, report)
    except Exception as exc:  # the email must never end the run with a traceback
        log.debug("notification failed", exc_info=True)
        text = f"the notification could not be sent ({type(exc).__name__}: {exc})"
        log.warning("%s", text)
        report.warn(text)


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
        dkplus = ListedDkPlus(
            direct,
            clients.lists,
            state.written_counts(),
            known=lambda reference: state.reference_holder(reference, 0) is not None,
            wrote=lambda kind, key: state.wrote_number(kind, key),
        )
    settle = Settle(config.dkplus.settle_seconds)
    trusted = lineage.window_trusted(state, dry_run=dry_run)
    if not trusted:
        log.info(
            "invoices: this state file is new, restored or copied; first POSTs are "
            "checked against DK+'s whole invoice list, not a window of dates"
        )
    clients.moment.known_number = partial(_stored_number, state)
    moment_reads, direct_client = MomentReads(clients.moment), clients.dkplus
    return RunContext(
        config,
        moment_reads,
        dkplus,
        books,
        settle,
        window_trusted=trusted,
        latency=lambda: direct_client.latency,
    )


def _stored_number(state: State, kind: str, ident: int) -> str | None:
    """A project's number as dksync wrote it (its Moment number), so the Moment reader's
    bounded cache of numbers need not hold every project of a big run."""
    row = state.written(kind, ident) if kind == ObjectKind.PROJECTS else None
    return None if row is None else row.number


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
                raise RecordNotFound(
                    f"Moment has no {ObjectKind(object_type).singular} numbered {number}"
                )
            report.fetched[object_type] += 1
            key = moment.record_key(raw)
            ident = key[1] if key else 0
            if force and stream.kind is ObjectKind.INVOICES and ident:
                _forget_if_lost(ctx, ident, number)
            sync_raw(ctx, stream, raw, ident)
            ctx.settle.drain(partial(resolve_lost, ctx), stop)
            if not dry_run:
                with state.atomic():
                    state.add_event("resync", f"{object_type} {number}")
    return report


def _forget_if_lost(ctx: RunContext, moment_id: int, number: str) -> None:
    """``resync --force``: an invoice the state says is posted, which DK+ no longer holds
    (deleted by hand, a sandbox restarted), is forgotten so it is sent again, but only once
    DK+ itself, asked by reference, answered that it holds none. Never when it holds one,
    and never on an answer that is not the contract (that stops the resync)."""
    row = ctx.books.invoice(moment_id)
    if row is None or row.status != InvoiceState.POSTED:
        return
    if ctx.dkplus.invoices_by_reference(row.reference):
        return
    lost = f"DK+ no longer holds invoice {number} (dksync posted it as DK+ {row.dk_number})"
    again = "would send it again" if ctx.books.report.dry_run else "sending it again"
    log.warning("%s: %s", lost, again)
    ctx.books.report.warn(f"{lost}: {again}")
    ctx.books.forget_invoice(
        moment_id, f"invoices {number} sent again: DK+ no longer held DK+ {row.dk_number}"
    )


def _fetch_by_number(client: MomentClient, state: State, object_type: str, number: str) -> Any:
    known = state.moment_id_for(object_type, number)
    if known is not None:
        try:
            return client.get(object_type, known)
        except NotFound:
            pass  # gone under that id: look it up by number below
    return client.find(object_type, number)


def _lock(
    config: Config, dry_run: bool, purpose: str = "run", wait: float = 0.0
) -> AbstractContextManager[object]:
    """The run lock; a dry run takes none, since it writes nothing (not even the lock file)."""
    return nullcontext() if dry_run else RunLock(config.state_path, purpose, wait=wait)


@contextmanager
def _locked(options: RunOptions) -> Iterator[None]:
    if options.on_locked is not None:
        options.on_locked()
    yield


@contextmanager
def _open_state(config: Config, dry_run: bool = False) -> Iterator[State]:
    """The state file; for a dry run opened read-only in place (a write through it fails)."""
    state = open_read_only(config.state_path) if dry_run else State.open(config.state_path)
    try:
        yield state
    finally:
        state.close()
