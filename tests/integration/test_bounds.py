"""Issue 17, bounds at every edge: a trickled answer, a gzip bomb and numbers with absurd
exponents, each over real HTTP against the sandbox's knobs, one request and a whole run.
Every test keeps its own wall time short with small timeouts, and reports it."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dksync.clients import connect
from dksync.dkplus.client import DkPlusClient
from dksync.errors import ServiceError, UncertainWrite
from dksync.jsonio import Literal
from dksync.moment.names import LINES
from dksync.outcome import Action, RunReport
from dksync.sandbox.pair import Sandbox
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from dksync.transport.body import MAX_ANSWER_BYTES
from dksync.transport.http import Endpoint, RetryPolicy
from tests.conftest import FIGURES, config_for

QUICK = RetryPolicy(attempts=3, max_total_seconds=1, initial_wait=0.01, max_wait=0.05)
CUSTOMER = {"Number": "77001", "Name": "Prófun ehf."}


@contextmanager
def timed(what: str) -> Iterator[list[float]]:
    """The wall time of the block, reported under ``figures``."""
    took: list[float] = []
    started = time.monotonic()
    yield took
    took.append(time.monotonic() - started)
    FIGURES.append(f"bounds: {what}: {took[0]:.2f} s")


def _client(sb: Sandbox, timeout: float) -> DkPlusClient:
    return DkPlusClient.connect(Endpoint(sb.dkplus.url, timeout, QUICK), sb.dkplus.token)


def _invoice(sb: Sandbox) -> dict[str, Any]:
    _client(sb, 2).create_customer(CUSTOMER)
    return {
        "Customer": {"Number": CUSTOMER["Number"]},
        "Reference": "BOUND-1",
        "SalesPerson": sb.sales_person,
        "Lines": [],
    }


def _run(sb: Sandbox, state: Path, **sections: dict[str, Any]) -> RunReport:
    settings = config_for(sb, state, **sections)
    return engine.run(settings, RunOptions(), connect(settings, policy=QUICK))


def test_a_trickled_answer_ends_at_the_deadline_retried_for_a_read_uncertain_for_a_post(
    sandbox: Sandbox,
) -> None:
    """One byte every 20 ms: each read of a socket gets a byte long before the per-read
    timeout, so only a total deadline ends the request (an answer of ~200 bytes: 4 s)."""
    body = _invoice(sandbox)
    sandbox.dkplus.knobs.trickle_ms = 20
    with (
        timed("a trickled GET, timeout 0.5 s, 3 attempts"),
        pytest.raises(ServiceError, match="no answer in time"),
    ):
        _client(sandbox, 0.5).connection()
    with (
        timed("a trickled invoice POST, timeout 0.5 s") as took,
        pytest.raises(UncertainWrite, match="after the request was sent"),
    ):
        _client(sandbox, 0.5).post_invoice(body)
    assert took[0] < 2, "one deadline, no retry of a write that may have happened"
    assert len(sandbox.dkplus.snapshot()["invoices"]) == 1, "carried out: hence uncertain"


@pytest.mark.parametrize("service", ["moment", "dkplus"])
def test_a_run_against_a_trickling_service_ends_within_its_budget(
    sandbox: Sandbox, tmp_path: Path, service: str
) -> None:
    getattr(sandbox, service).knobs.trickle_ms = 20
    with timed(f"a whole run against a trickling {service}, timeout 0.5 s") as took:
        report = _run(sandbox, tmp_path / "state.sqlite", **{service: {"timeout": 0.5}})
    assert isinstance(report.fatal, ServiceError), report.fatal
    assert "no answer in time" in str(report.fatal)
    assert took[0] < 10


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_gzip_bomb_is_refused_while_it_inflates(sandbox: Sandbox) -> None:
    """About 2 MB on the wire that would inflate to 2 GB: refused at 32 MB."""
    body = _invoice(sandbox)
    sandbox.dkplus.knobs.gzip_bomb_mb = 2048
    before = _peak_rss_mb()
    with (
        timed("a 2 GB gzip bomb to a GET, 3 attempts"),
        pytest.raises(ServiceError, match=f"answered more than {MAX_ANSWER_BYTES // 2**20} MB"),
    ):
        _client(sandbox, 5).connection()
    with pytest.raises(UncertainWrite, match="the write may or may not have happened"):
        _client(sandbox, 5).post_invoice(body)
    grown = _peak_rss_mb() - before
    FIGURES.append(f"bounds: peak RSS grew {grown:.0f} MB under a 2 GB gzip bomb")
    assert grown < 100


def test_a_run_against_a_moment_that_answers_a_gzip_bomb_stops_with_a_bad_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.moment.knobs.gzip_bomb_mb = 1024
    with timed("a whole run against a Moment answering a 1 GB gzip bomb"):
        report = _run(sandbox, tmp_path / "state.sqlite")
    assert isinstance(report.fatal, ServiceError)
    assert "answered more than" in str(report.fatal)
    assert sandbox.dkplus.snapshot()["invoices"] == []


def test_absurd_exponents_reject_their_records_and_the_others_flow(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """``creditDays: 1E+999999999`` (``int()`` of it would spin for minutes) and a quantity
    of ``1E-999999999`` (written out, a gigabyte): each rejects its record with a reason."""
    customer = sandbox.dataset.customers[0]
    sandbox.moment.patch_raw("customers", customer.id, {"creditDays": Literal("1E+999999999")})
    invoice = next(i for i in sandbox.dataset.invoices if i.customer_id != customer.id)
    lines = sandbox.moment.raw("invoices", invoice.id)[LINES]
    lines[0]["quantity"] = Literal("1E-999999999")
    sandbox.moment.patch_raw("invoices", invoice.id, {LINES: lines})
    with timed("a whole run with absurd exponents in two records"):
        report = _run(sandbox, tmp_path / "state.sqlite")
    assert report.fatal is None
    rejected = {(o.object_type, o.moment_id): o.detail for o in report.with_action(Action.REJECT)}
    assert "creditDays" in rejected[("customers", customer.id)]
    assert "out of bounds" in rejected[("customers", customer.id)]
    assert "quantity" in rejected[("invoices", invoice.id)]
    absurd = [
        key for key, detail in rejected.items() if key[0] == "customers" and "bounds" in detail
    ]
    assert absurd == [("customers", customer.id)]
    assert report.count("customers", Action.CREATE) > len(sandbox.dataset.customers) / 2
    posted = sandbox.dkplus.snapshot()["invoices"]
    assert posted and str(invoice.number) not in {i["Reference"] for i in posted}
    assert max(len(str(line["Quantity"])) for i in posted for line in i["Lines"]) < 30


def test_the_absurd_numbers_knob_reaches_every_record_and_none_is_posted_absurd(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.moment.knobs.absurd_numbers = {"quantity": "-0.5E-999999999"}
    with timed("a whole run where every line quantity is -0.5E-999999999"):
        report = _run(sandbox, tmp_path / "state.sqlite")
    assert report.fatal is None
    assert sandbox.dkplus.snapshot()["invoices"] == []
    assert report.count("invoices", Action.REJECT) > 0
    customers = [o for o in report.with_action(Action.REJECT) if o.object_type == "customers"]
    assert not [o for o in customers if "bounds" in o.detail]
