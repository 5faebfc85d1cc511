"""Retries over real HTTP: Retry-After honoured, bounded, and never for an unsafe POST."""

from __future__ import annotations

import re

import pytest

from dksync.dkplus.client import DkPlusClient
from dksync.errors import ServiceError, UncertainWrite
from dksync.sandbox.pair import Sandbox
from dksync.transport.http import Endpoint, RetryPolicy

WAITS = re.compile(r"retrying in ([0-9.]+)s")


def _client(sb: Sandbox, policy: RetryPolicy) -> DkPlusClient:
    return DkPlusClient.connect(Endpoint(sb.dkplus.url, 2, policy), sb.dkplus.token)


def test_retry_after_is_honoured(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    sandbox.dkplus.knobs.rate_limit = 1.0
    client = _client(
        sandbox, RetryPolicy(attempts=5, max_total_seconds=30, initial_wait=0.01, max_wait=5)
    )
    caplog.set_level("WARNING", logger="dksync.http")
    assert client.connection() is True
    assert client.connection() is True, "the second call in the same second waits its turn"
    waits = [float(w) for w in WAITS.findall(caplog.text)]
    assert waits == [1.0], "one 429 with Retry-After: 1, then the wait it asked for"
    assert "answered 429" in caplog.text


def test_backoff_without_retry_after_grows_and_the_total_is_bounded(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.dkplus.knobs.error_rate = 1.0
    client = _client(
        sandbox, RetryPolicy(attempts=6, max_total_seconds=30, initial_wait=0.01, max_wait=0.2)
    )
    caplog.set_level("WARNING", logger="dksync.http")
    with pytest.raises(ServiceError, match=r"DK\+ kept failing on GET .* answered 503"):
        client.connection()
    waits = [float(w) for w in WAITS.findall(caplog.text)]
    assert len(waits) == 5 and all(0 < w <= 0.2 + 0.01 for w in waits)
    assert sandbox.dkplus.faults.injected["5xx"] == 6


def test_unsafe_post_is_not_retried_on_5xx(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.update({"error_rate": 1.0, "fault_path": "/api/v1/sales/invoice"})
    client = _client(sandbox, RetryPolicy(attempts=5, initial_wait=0.01, max_wait=0.02))
    with pytest.raises(UncertainWrite):
        client.post_invoice({"Customer": {"Number": "1"}, "SalesPerson": "SALA1"})
    assert len(sandbox.dkplus.requests_to("/api/v1/sales/invoice")) == 1
