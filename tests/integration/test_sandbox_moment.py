"""The Moment sandbox answers as moment-api.md says, over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from dksync import moment as m
from dksync.sandbox.pair import Sandbox


def _get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    url = f"{sb.moment.url}/api/1.0/companies/{sb.moment.company}/{path}"
    return requests.get(url, params=params, auth=("apikey", sb.moment.api_key), timeout=5)


def test_wrong_or_missing_key_is_401(sandbox: Sandbox) -> None:
    url = f"{sandbox.moment.url}/api/1.0/companies/{sandbox.moment.company}/customers"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, auth=("apikey", "wrong"), timeout=5).status_code == 401
    assert requests.get(url, auth=("user", sandbox.moment.api_key), timeout=5).status_code == 401


def test_other_company_is_404(sandbox: Sandbox) -> None:
    url = f"{sandbox.moment.url}/api/1.0/companies/someone-else/customers"
    reply = requests.get(url, auth=("apikey", sandbox.moment.api_key), timeout=5)
    assert reply.status_code == 404


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("customers", 40),
        ("projects", 15),
        ("invoices", 60),
        ("financialAccounts", 5),
        ("products", 5),
    ],
)
def test_every_list_pages_from_zero_in_the_envelope(
    sandbox: Sandbox, path: str, count: int
) -> None:
    first = _get(sandbox, path, page=0, size=7).json()
    assert first["page"] == {
        "number": 0,
        "size": 7,
        "totalElements": count,
        "totalPages": -(-count // 7),
    }
    ids = []
    for page in range(first["page"]["totalPages"]):
        ids += [o["id"] for o in _get(sandbox, path, page=page, size=7).json()["content"]]
    assert len(ids) == len(set(ids)) == count
    assert _get(sandbox, path, page=99, size=7).json()["content"] == []
    one = _get(sandbox, f"{path}/{ids[0]}").json()
    assert one["id"] == ids[0]
    assert {"id", "createdDate", "lastModifiedDate", "version"} <= set(one)
    assert _get(sandbox, f"{path}/1").status_code == 404


def test_invoices_embed_lines_with_decimal_strings(sandbox: Sandbox) -> None:
    invoice = _get(sandbox, "invoices", size=1).json()["content"][0]
    line = invoice["lines"][0]
    assert Decimal(line["quantity"]) and Decimal(line["unitPrice"])
    assert invoice["customer"]["customerNumber"]


def test_changed_since_filter_and_sort(sandbox: Sandbox) -> None:
    everything = _get(sandbox, "customers", size=500).json()["content"]
    times = sorted(m.parse_instant(c["lastModifiedDate"]) for c in everything)
    middle = times[len(times) // 2]
    since = _get(
        sandbox,
        "customers",
        size=500,
        sort="lastModifiedDate,asc",
        lastModifiedDateFrom=m.format_instant(middle),
    ).json()["content"]
    got = [m.parse_instant(c["lastModifiedDate"]) for c in since]
    assert got == sorted(got) and got[0] == middle and len(got) == len(times) - len(times) // 2
    upto = _get(
        sandbox,
        "customers",
        size=500,
        lastModifiedDateTo=m.format_instant(middle - timedelta(milliseconds=1)),
    )
    assert len(upto.json()["content"]) == len(times) // 2


def test_a_change_bumps_time_and_version(sandbox: Sandbox) -> None:
    before = _get(sandbox, "customers", size=1).json()["content"][0]
    after = sandbox.moment.patch_raw("customers", before["id"], {"name": "Breytt ehf."})
    assert after["version"] == before["version"] + 1
    assert m.parse_instant(after["lastModifiedDate"]) > m.parse_instant(before["lastModifiedDate"])
    assert _get(sandbox, f"customers/{before['id']}").json()["name"] == "Breytt ehf."


def test_rate_limit_answers_429_with_retry_after(sandbox: Sandbox) -> None:
    sandbox.moment.knobs.rate_limit = 3
    statuses = [_get(sandbox, "customers", size=1) for _ in range(10)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "10 quick requests at 3/s must hit the limit"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert statuses[0].status_code == 200


def test_unreliable_order_ignores_filter_and_sort(sandbox: Sandbox) -> None:
    sandbox.moment.knobs.unreliable_order = True
    future = "2030-01-01T00:00:00.000Z"
    content = _get(
        sandbox, "customers", size=500, lastModifiedDateFrom=future, sort="lastModifiedDate,asc"
    ).json()["content"]
    assert len(content) == 40


def test_admin_paths_change_and_list_objects(sandbox: Sandbox) -> None:
    admin = f"{sandbox.moment.url}/_sandbox/moment/customers"
    first = requests.get(admin, timeout=5).json()[0]
    patched = requests.patch(f"{admin}/{first['id']}", json={"phone": "+354 000 0000"}, timeout=5)
    assert patched.json()["version"] == first["version"] + 1
    assert requests.delete(f"{admin}/{first['id']}", timeout=5).status_code == 200
    assert _get(sandbox, f"customers/{first['id']}").status_code == 404
    knobs = requests.put(f"{sandbox.moment.url}/_sandbox/knobs", json={"latency_ms": 1}, timeout=5)
    assert knobs.json()["latency_ms"] == 1
    bad = requests.put(f"{sandbox.moment.url}/_sandbox/knobs", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400
    log = requests.get(f"{sandbox.moment.url}/_sandbox/log", timeout=5).json()
    assert log[-1]["path"].endswith(f"customers/{first['id']}")
