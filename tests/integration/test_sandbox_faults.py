"""The fault knobs produce exactly the faults they name, reproducibly from the seed."""

from __future__ import annotations

import pytest
import requests

from dksync.sandbox.dkplus_server import DkPlusServer
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.pair import Sandbox


def _post_customer(sb: Sandbox, number: str) -> requests.Response:
    return requests.post(
        f"{sb.dkplus.url}/api/v1/customer",
        json={"Number": number},
        headers={"Authorization": f"Bearer {sb.dkplus.token}"},
        timeout=5,
    )


def test_error_rate_answers_5xx_before_any_write(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.error_rate = 1.0
    reply = _post_customer(sandbox, "C1")
    assert reply.status_code == 503
    assert sandbox.dkplus.snapshot()["customers"] == {}
    assert sandbox.dkplus.faults.injected["5xx"] == 1


def test_drop_rate_writes_then_closes_without_answer(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.drop_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        _post_customer(sandbox, "C1")
    assert "C1" in sandbox.dkplus.snapshot()["customers"], "the write must have happened"
    assert sandbox.dkplus.faults.injected["drop"] == 1
    get = requests.get(
        f"{sandbox.dkplus.url}/api/v1/customer/C1",
        headers={"Authorization": f"Bearer {sandbox.dkplus.token}"},
        timeout=5,
    )
    assert get.status_code == 200, "reads are never dropped"


def test_burst_of_429s_has_its_length(sandbox: Sandbox) -> None:
    sandbox.moment.knobs.burst_rate = 1.0
    sandbox.moment.knobs.burst_length = 3
    url = f"{sandbox.moment.url}/api/1.0/companies/{sandbox.moment.company}/customers"
    statuses = [
        requests.get(url, auth=("apikey", sandbox.moment.api_key), timeout=5) for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [429, 429, 429]
    assert statuses[0].headers["Retry-After"] == "1"
    sandbox.moment.knobs.burst_rate = 0.0
    ok = requests.get(url, auth=("apikey", sandbox.moment.api_key), timeout=5)
    assert ok.status_code == 200


def test_latency_makes_a_short_client_timeout_expire(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.latency_ms = 400
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{sandbox.dkplus.url}/api/v1/company/connection",
            headers={"Authorization": f"Bearer {sandbox.dkplus.token}"},
            timeout=0.1,
        )


def _statuses(seed: int) -> list[int]:
    with DkPlusServer(seed=seed, knobs=Knobs(error_rate=0.5)) as server:
        assert isinstance(server, DkPlusServer)
        headers = {"Authorization": f"Bearer {server.token}"}
        return [
            requests.get(
                f"{server.url}/api/v1/company/connection", headers=headers, timeout=5
            ).status_code
            for _ in range(30)
        ]


def test_same_seed_same_faults() -> None:
    first, again, other = _statuses(7), _statuses(7), _statuses(8)
    assert first == again
    assert first != other
    assert 503 in first and 200 in first
