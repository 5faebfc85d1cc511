"""``metrics.textfile``: a Prometheus text file for node-exporter's textfile collector,
written after every run with ``prometheus_client`` (never hand-written exposition).

Every series carries a ``company`` label. Several companies (a folder, or several configs)
may share one file: each writer takes an exclusive lock on ``<file>.lock``, reads the file
back with ``prometheus_client``'s parser, keeps every other company's samples, replaces
its own, and writes the whole file atomically (a temporary file renamed over it). So
companies running at once under ``--jobs`` never lose each other's series, and a scraper
never reads half a file. A file that cannot be written is a warning: the run's exit code
stays its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dksync.cli.tables import count_words
from dksync.errors import DksyncError
from dksync.outcome import RunReport
from dksync.state.lock import platform_lock
from dksync.state.store import State

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger("dksync.metrics")
LOCK_WAIT_SECONDS = 30.0

SERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dksync_last_run_timestamp_seconds": ("When the last run ended (Unix time).", ()),
    "dksync_last_success_timestamp_seconds": ("When the last run with exit 0 ended.", ()),
    "dksync_last_run_exit_code": ("The exit code of the last run.", ()),
    "dksync_last_run_duration_seconds": ("How long the last run took.", ()),
    "dksync_records": ("Records of the last run by kind and action.", ("kind", "action")),
    "dksync_rejected_records": ("Records in the rejected queue (not dropped).", ()),
    "dksync_uncertain_invoices": ("Invoices whose POST may or may not have reached DK+.", ()),
}


@dataclass(frozen=True)
class RunFacts:
    """What one run leaves for the metrics."""

    company: str
    exit_code: int
    ended: float
    duration: float


def after_run(path: Path, state_path: Path, facts: RunFacts, report: RunReport) -> None:
    """Write this company's series into ``path``; a failure is logged, never raised.
    (``prometheus_client`` is imported here: a run without metrics never loads it.)"""
    from prometheus_client.exposition import write_to_textfile

    try:
        with _locked(path):
            others = _read_others(path, facts.company)
            registry = _registry(others, facts, report, _queues(state_path))
            path.parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(str(path), registry)
    except (OSError, ValueError, DksyncError) as exc:
        log.warning("cannot write the metrics file %s (%s); the run is not affected", path, exc)


Samples = list[tuple[str, dict[str, str], float]]


def _read_others(path: Path, company: str) -> tuple[Samples, float | None]:
    """Every other company's samples of our series, and this company's last success."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], None
    kept: Samples = []
    success: float | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name not in SERIES:
                continue
            if sample.labels.get("company") != company:
                kept.append((sample.name, dict(sample.labels), sample.value))
            elif sample.name == "dksync_last_success_timestamp_seconds":
                success = sample.value
    return kept, success


def _queues(state_path: Path) -> tuple[int, int] | None:
    """Rejected records and uncertain invoices after the run, from a read-only copy."""
    try:
        state = State.snapshot(state_path)
    except DksyncError:
        return None
    try:
        waiting = sum(len(state.invoices_with_status(s)) for s in ("pending", "uncertain"))
        return len(state.rejected()), waiting
    finally:
        state.close()


def _registry(
    found: tuple[Samples, float | None],
    facts: RunFacts,
    report: RunReport,
    queues: tuple[int, int] | None,
) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    gauges = {
        name: Gauge(name, text, ("company", *labels), registry=registry)
        for name, (text, labels) in SERIES.items()
    }
    others, success = found
    for name, labels, value in others:
        gauges[name].labels(**labels).set(value)
    mine = {"company": facts.company}
    if facts.exit_code == 0:
        success = facts.ended
    gauges["dksync_last_run_timestamp_seconds"].labels(**mine).set(facts.ended)
    if success is not None:
        gauges["dksync_last_success_timestamp_seconds"].labels(**mine).set(success)
    gauges["dksync_last_run_exit_code"].labels(**mine).set(facts.exit_code)
    gauges["dksync_last_run_duration_seconds"].labels(**mine).set(facts.duration)
    for kind, row in count_words(report.counts()).items():
        for action, count in row.items():
            gauges["dksync_records"].labels(**mine, kind=kind, action=action).set(count)
    if queues is not None:
        gauges["dksync_rejected_records"].labels(**mine).set(queues[0])
        gauges["dksync_uncertain_invoices"].labels(**mine).set(queues[1])
    return registry


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive kernel lock on ``<file>.lock`` (never on the file itself, which is
    replaced by a rename), waited for up to ``LOCK_WAIT_SECONDS``."""
    sidecar = path.with_name(path.name + ".lock")
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    lock = platform_lock()
    fd = os.open(sidecar, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not lock.acquire(fd, exclusive=True):
            if time.monotonic() > deadline:
                raise OSError(f"{sidecar} stayed locked for {LOCK_WAIT_SECONDS:.0f} s")
            time.sleep(0.05)
        try:
            yield
        finally:
            lock.release(fd)
    finally:
        os.close(fd)
