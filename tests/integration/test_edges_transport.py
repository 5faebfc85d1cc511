"""The transport boundary: every ``requests`` failure is a dksync error, a dead address
fails fast and by name, and no answer can put a credential into dksync's hands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dksync.dkplus import client as dkplus
from dksync.dkplus.client import API, DkPlusClient
from dksync.errors import ConfigError, RecordRejected, ServiceError, UncertainWrite
from dksync.sandbox.pair import Sandbox
from dksync.transport.http import Endpoint, RetryPolicy, Transport
from tests.conftest import FIGURES
from tests.helpers import config_file, free_port

QUICK = RetryPolicy(attempts=4, max_total_seconds=3, initial_wait=0.01, max_wait=0.05)
INVOICE_POST = f"{API}/sales/invoice"
CUSTOMER = {"Number": "77001", "Name": "Prófun ehf."}


def _client(sb: Sandbox, policy: RetryPolicy = QUICK, timeout: float = 2) -> DkPlusClient:
    return DkPlusClient.connect(Endpoint(sb.dkplus.url, timeout, policy), sb.dkplus.token)


def _invoice(sb: Sandbox) -> dict[str, Any]:
    client = _client(sb)
    client.create_customer(CUSTOMER)
    return {
        "Customer": {"Number": CUSTOMER["Number"]},
        "Reference": "EDGE-1",
        "SalesPerson": sb.sales_person,
        "Lines": [],
    }


def _dksync(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dksync", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "250"},
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://127.0.0.1:{port}", "connection refused"),
        ("http://dksync-no-such-host.invalid:{port}", "unknown host name"),
    ],
)
def test_a_dead_address_fails_within_seconds_naming_it(
    sandbox: Sandbox, tmp_path: Path, base_url: str, reason: str
) -> None:
    """With ``retry_for: 2m`` (the long budget for "try later"), a refused connection or an
    unknown host still ends after a few quick tries."""
    url = base_url.format(port=free_port())
    config = config_file(sandbox, tmp_path, dkplus={"base_url": url}, sync={"retry_for": "2m"})
    done, seconds = _dksync("run", "-c", str(config))
    assert done.returncode == 3, done.stderr
    assert f"dksync: cannot reach DK+ at {url}: {reason}" in done.stderr
    assert "Traceback" not in done.stderr
    attempts = {int(n) for n in re.findall(r"\(attempt (\d+)\)", done.stderr)}
    assert attempts == {2, 3}, "three tries a request (the run has several in flight)"
    assert seconds < 30
    FIGURES.append(f"edges: 'dksync run' against {reason}: exit 3 after {seconds:.1f} s")


def test_https_to_a_plain_http_port_fails_fast_as_a_tls_handshake(sandbox: Sandbox) -> None:
    body = _invoice(sandbox)
    url = sandbox.dkplus.url.replace("http://", "https://")
    slow = RetryPolicy(attempts=20, max_total_seconds=120, initial_wait=0.01, max_wait=0.05)
    client = DkPlusClient.connect(Endpoint(url, policy=slow), sandbox.dkplus.token)
    for call in (client.connection, lambda: client.post_invoice(body)):
        with pytest.raises(ServiceError) as caught:
            call()
        expected = f"cannot reach DK+ at {url}: the TLS handshake failed ("
        assert str(caught.value).startswith(expected)
    assert sandbox.dkplus.snapshot()["invoices"] == [], "the POST never left"


def test_once_nothing_answers_later_calls_fail_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = DkPlusClient.connect(Endpoint(url, policy=QUICK), "tok-1234")
    caplog.set_level("WARNING", logger="dksync.http")
    for _ in range(3):
        with pytest.raises(ServiceError, match=f"cannot reach DK\\+ at {url}: connection refused"):
            client.connection()
    assert caplog.text.count("retrying") == 2, "three tries for the first call, none after"


def test_a_try_later_answer_still_gets_the_long_budget(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.error_rate = 1.0
    policy = RetryPolicy(attempts=6, max_total_seconds=30, initial_wait=0.01, max_wait=0.02)
    with pytest.raises(ServiceError, match="answered 503"):
        _client(sandbox, policy).connection()
    assert len(sandbox.dkplus.requests_to("/company/connection")) == 6


@pytest.mark.parametrize("fault", ["broken_chunks", "bad_gzip"])
def test_a_broken_answer_to_a_read_is_retried_then_a_service_error(
    sandbox: Sandbox, fault: str
) -> None:
    sandbox.dkplus.knobs.transport_fault = fault
    with pytest.raises(ServiceError, match="the answer broke off or could not be decoded"):
        _client(sandbox).connection()
    assert len(sandbox.dkplus.requests_to("/company/connection")) == QUICK.attempts


@pytest.mark.parametrize("fault", ["broken_chunks", "bad_gzip"])
def test_a_broken_answer_to_an_invoice_post_is_uncertain_never_repeated(
    sandbox: Sandbox, fault: str
) -> None:
    body = _invoice(sandbox)
    sandbox.dkplus.knobs.update({"transport_fault": fault, "fault_path": INVOICE_POST})
    with pytest.raises(UncertainWrite, match="after the request was sent"):
        _client(sandbox).post_invoice(body)
    assert len(sandbox.dkplus.requests_to(INVOICE_POST)) == 1
    assert [i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"]] == ["EDGE-1"]


def test_json_nested_past_the_parser_depth_is_text_not_a_crash(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.transport_fault = "deep_json"
    answer = Transport(
        "DK+",
        Endpoint(sandbox.dkplus.url, policy=QUICK),
        dkplus.classify,
        {"Authorization": f"Bearer {sandbox.dkplus.token}"},
    ).get(f"{API}/company/connection")
    assert answer == "[" * 500, "kept as (cut) text for the contract checks to refuse"


def test_a_redirect_loop_is_a_service_error_for_a_read_and_uncertain_for_a_post(
    sandbox: Sandbox,
) -> None:
    body = _invoice(sandbox)
    sandbox.dkplus.knobs.transport_fault = "redirect_loop"
    with pytest.raises(ServiceError, match="redirects in a loop; check its base_url"):
        _client(sandbox).connection()
    with pytest.raises(UncertainWrite, match="too many redirects"):
        _client(sandbox).post_invoice(body)
    assert sandbox.dkplus.snapshot()["invoices"] == []


def test_no_answer_in_time_is_retried_for_a_read_and_uncertain_for_a_post(
    sandbox: Sandbox,
) -> None:
    body = _invoice(sandbox)
    sandbox.dkplus.knobs.update({"slow_rate": 1.0, "slow_ms": 800})
    with pytest.raises(ServiceError, match="no answer in time"):
        _client(sandbox, timeout=0.3).connection()
    with pytest.raises(UncertainWrite, match="no answer in time after the request was sent"):
        _client(sandbox, timeout=0.3).post_invoice(body)


def test_a_credential_that_cannot_be_a_header_is_a_config_error_without_its_value(
    sandbox: Sandbox,
) -> None:
    client = DkPlusClient.connect(
        Endpoint(sandbox.dkplus.url, policy=QUICK), "tok-SECRET-5555\nline2"
    )
    with pytest.raises(ConfigError) as caught:
        client.connection()
    assert "a credential cannot be sent in an HTTP header" in str(caught.value)
    assert "SECRET" not in str(caught.value) and "line2" not in str(caught.value)


def test_a_url_requests_cannot_use_is_a_config_error() -> None:
    transport = Transport(
        "DK+", Endpoint("http://" + "a" * 70 + ".is", policy=QUICK), dkplus.classify, {}
    )
    with pytest.raises(ConfigError, match="check its base_url"):
        transport.get("/x")


def test_an_echoed_token_never_reaches_an_exception(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.echo_credentials = True
    client = _client(sandbox)
    with pytest.raises(RecordRejected) as caught:
        client.create_project({"Number": "P-1", "Customer": "no-such-customer"})
    text = str(caught.value)
    assert text.endswith("(sent with ***)"), "the echo came back, scrubbed"
    assert sandbox.dkplus.token not in text


@pytest.mark.slow
def test_a_full_run_under_broken_invoice_answers_posts_each_invoice_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_file(sandbox, tmp_path)
    for fault in ("broken_chunks", "bad_gzip", "redirect_loop"):
        sandbox.dkplus.knobs.update({"transport_fault": fault, "fault_path": INVOICE_POST})
        done, _ = _dksync("run", "-c", str(config))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
    sandbox.dkplus.knobs.update({"transport_fault": "", "fault_path": ""})
    for _ in range(2):
        done, _ = _dksync("run", "-c", str(config))
    status, _ = _dksync("status", "--json", "-c", str(config))
    assert json.loads(status.stdout)["uncertain_invoices"] == []
    references = Counter(i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"])
    assert references and max(references.values()) == 1
