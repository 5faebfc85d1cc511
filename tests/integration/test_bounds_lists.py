"""Issue 17, bounds at every edge: lists that never end (Moment's and DK+'s) and a signal's
wait, over real HTTP against the sandbox's knobs; the signal tests run ``python -m dksync``
as cron would and send it SIGTERM while the sandbox trickles or never ends a list."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from dksync.mapping.invoices import skip_reason
from dksync.outcome import Action
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.conftest import FIGURES
from tests.helpers import config_file
from tests.integration.test_bounds import _run, timed

INVOICE_POST = "/api/v1/sales/invoice"


def test_an_endless_moment_list_stops_at_its_page_bound_with_a_warning_and_a_safe_cursor(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.moment.knobs.endless_list = "customers"
    state_path = tmp_path / "state.sqlite"
    with timed("a run over an endless Moment list, max_pages 4 of 5"):
        report = _run(
            sandbox,
            state_path,
            moment={"max_pages": 4, "page_size": 5},
            sync={"objects": ["customers"]},
        )
    assert report.fatal is None
    assert [w for w in report.warnings if "stopped after 4 pages" in w], report.warnings
    lists = [e for e in sandbox.moment.log if e.path.endswith("/customers")]
    assert len(lists) == 4
    assert report.count("customers", Action.CREATE) == 20, "what was read is synced"
    state = State.open(state_path)
    cursor = state.cursor("customers")
    state.close()
    numbers = [int(c["Number"]) for c in sandbox.dkplus.snapshot()["customers"].values()]
    last_read = 900_000_000 + max(numbers) - 900_000  # the sandbox's invented ids and numbers
    assert cursor is not None, "the cursor moves past what was read, so the next run goes on"
    assert cursor.record_id < last_read, "and never as far as the last record read"


def test_an_endless_dkplus_list_is_given_up_for_one_request_per_record(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.dkplus.dkplus_knobs.lists_endless = True
    with timed("a run while every DK+ list never ends, list_max_pages 3"):
        report = _run(sandbox, tmp_path / "state.sqlite", dkplus={"list_max_pages": 3})
    assert report.fatal is None
    pages = Counter(e.path.split("/page/")[0] for e in sandbox.dkplus.log if "/page/" in e.path)
    assert pages and max(pages.values()) <= 3, pages
    eligible = {str(i.number) for i in sandbox.dataset.invoices if skip_reason(i) is None}
    held = Counter(i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"])
    assert set(held) <= eligible and set(held.values()) == {1}
    assert report.count("invoices", Action.CREATE) == len(held) > 0


def _start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dksync", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def _until(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition(), "the run never got there"


def _terminate(child: subprocess.Popen[str], what: str) -> tuple[str, float]:
    """SIGTERM, then the seconds until the process ended (and its output)."""
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    took = time.monotonic() - started
    FIGURES.append(f"bounds: SIGTERM {what}: exit {child.returncode} after {took:.2f} s")
    assert child.returncode == 143, err
    assert "Traceback" not in out + err
    return out + err, took


def test_sigterm_while_dkplus_trickles_an_invoice_answer_ends_within_the_deadline(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The invoice POSTs are carried out and their answers trickled a byte per 50 ms
    (minutes for a whole answer): the run ends within ``dkplus.timeout`` of the signal, the
    unfinished POSTs are left uncertain, and the next run settles them without a duplicate."""
    config = config_file(sandbox, tmp_path, dkplus={"timeout": 1})
    sandbox.dkplus.knobs.update({"trickle_ms": 50, "fault_path": INVOICE_POST})
    child = _start(config)
    _until(lambda: [e for e in sandbox.dkplus.log if e.path == INVOICE_POST])
    _, took = _terminate(child, "while DK+ trickles invoice answers, timeout 1 s")
    assert took < 4
    state = State.open(tmp_path / "state.sqlite")
    left = state.invoices_with_status("pending") + state.invoices_with_status("uncertain")
    state.close()
    assert left, "the POSTs whose answers did not come in time are left for the next run"
    sandbox.dkplus.knobs.update({"trickle_ms": 0.0, "fault_path": ""})
    with timed("the next run, settling what the signal left"):
        done = subprocess.run(
            [sys.executable, "-m", "dksync", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode in (0, 1), done.stderr
    held = Counter(i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"])
    eligible = {str(i.number) for i in sandbox.dataset.invoices if skip_reason(i) is None}
    assert set(held.values()) == {1}, "never a duplicate"
    state = State.open(tmp_path / "state.sqlite")
    rejected = {r.number for r in state.rejected("invoices")}
    state.close()
    assert eligible <= set(held) | rejected, "never lost"


def test_sigterm_during_an_endless_moment_list_stops_the_read(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.moment.knobs.endless_list = "customers"
    config = config_file(sandbox, tmp_path, moment={"page_size": 5})
    child = _start(config)
    _until(lambda: len([e for e in sandbox.moment.log if e.path.endswith("/customers")]) > 3)
    output, took = _terminate(child, "during an endless Moment list")
    assert took < 4 and "interrupted" in output.lower()
    state = State.open(tmp_path / "state.sqlite")
    assert state.cursor("customers") is None, "an interrupted read does not move the cursor"
    state.close()
