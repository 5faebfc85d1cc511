"""The environment's proxy settings are honoured, read once per client rather than twice
per request: the sandbox stands in for the proxy (it answers absolute-form requests)."""

from __future__ import annotations

import pytest

from dksync.errors import DksyncError
from dksync.moment import MomentClient
from dksync.sandbox.pair import Sandbox
from dksync.transport.http import Endpoint, RetryPolicy

ONCE = RetryPolicy(attempts=1, max_total_seconds=1, initial_wait=0.01, max_wait=0.01)
NOWHERE = "http://moment.invalid"


def _client(sandbox: Sandbox) -> MomentClient:
    return MomentClient.connect(
        Endpoint(NOWHERE, policy=ONCE), sandbox.moment.company, sandbox.moment.api_key
    )


def _proxy_env(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, no_proxy: str) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", sandbox.moment.url)
    monkeypatch.setenv("no_proxy", no_proxy)


def test_requests_go_through_the_proxy_the_environment_names(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _proxy_env(monkeypatch, sandbox, "")
    client = _client(sandbox)
    monkeypatch.delenv("http_proxy")  # read when the client was made, not per request
    assert len(client.sample("customers")) == 1
    assert any(e.path.endswith("/customers") for e in sandbox.moment.log)


def test_no_proxy_is_honoured(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    _proxy_env(monkeypatch, sandbox, "moment.invalid")
    with pytest.raises(DksyncError):
        _client(sandbox).sample("customers")
    assert sandbox.moment.log == []
