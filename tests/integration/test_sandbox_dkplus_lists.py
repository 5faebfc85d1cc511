"""The DK+ sandbox's list endpoints, project update, knobs and admin edits (Nov 2026 spec)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from dksync import jsonio
from dksync.sandbox.pair import Sandbox
from tests.integration.test_sandbox_dkplus import CUSTOMER, Api, _invoice, _prepare


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def _customers(api: Api, count: int) -> None:
    for n in range(count):
        assert api("POST", "/customer", {"Number": f"C{n:03d}", "Name": f"N{n}"}).ok


def _book(api: Api, reference: str, date: str = "2026-11-01", **changes: Any) -> Any:
    reply = api("POST", "/sales/invoice", _invoice(Reference=reference, Date=date, **changes))
    assert reply.status_code == 200, reply.text
    return jsonio.loads(reply.content)


def test_pages_are_one_based_bare_arrays_sorted_by_key(api: Api) -> None:
    _customers(api, 7)
    assert api("GET", "/customer/page/0/5").status_code == 400
    assert api("GET", "/customer/page/1/0").status_code == 400
    first = api("GET", "/customer/page/1/5").json()
    second = api("GET", "/customer/page/2/5").json()
    assert [c["Number"] for c in first] == [f"C{n:03d}" for n in range(5)]
    assert [c["Number"] for c in second] == ["C005", "C006"]
    assert api("GET", "/customer/page/3/5").json() == []
    assert "RecordID" in first[0] and "Modified" in first[0]  # the full model


def test_include_trims_fields_on_lists(api: Api) -> None:
    _customers(api, 2)
    listed = api("GET", "/customer/page/1/10", include="Number,name").json()
    assert listed == [{"Number": "C000", "Name": "N0"}, {"Number": "C001", "Name": "N1"}]
    assert "RecordID" in api("GET", "/customer/C000").json()  # single GETs are not trimmed


def test_invoice_filters_compare_the_invoice_date_strictly(api: Api) -> None:
    _prepare(api)
    for reference, date in (("1", "2026-10-31"), ("2", "2026-11-01"), ("3", "2026-11-30")):
        _book(api, reference, date)
    dated = api(
        "GET", "/sales/invoice/page/1/50", createdAfter="2026-10-31", createdBefore="2026-11-30"
    ).json()
    assert [i["Reference"] for i in dated] == ["2"]
    assert api("GET", "/sales/invoice/page/1/50", createdAfter="nonsense").status_code == 400


def test_invoice_reference_filter_matches_substrings_and_customer_filters(api: Api) -> None:
    _prepare(api)
    for reference in ("10", "100", "7"):
        _book(api, reference)
    found = api("GET", "/sales/invoice/page/1/50", reference="10").json()
    assert sorted(i["Reference"] for i in found) == ["10", "100"]
    assert api("GET", "/sales/invoice/page/1/50", customer="nobody").json() == []
    assert len(api("GET", "/sales/invoice/page/1/50", customer="10001").json()) == 3
    bare = api("GET", "/sales/invoice/page/1/50", includeLines="false").json()
    assert all("Lines" not in i for i in bare)


def test_modified_filters_on_customers_projects_and_products(api: Api) -> None:
    _prepare(api)
    assert len(api("GET", "/customer/page/1/9", modifiedAfter="2000-01-01").json()) == 1
    assert api("GET", "/customer/page/1/9", modifiedAfter="2999-01-01").json() == []
    assert api("GET", "/project/page/1/9", modifiedBefore="2000-01-01").json() == []
    assert len(api("GET", "/project/page/1/9", customer="10001").json()) == 1
    assert len(api("GET", "/Product/page/1/9", modified="2000-01-01").json()) == 1
    assert api("GET", "/customer/page/1/9", blocked="true").json() == []


def test_page_cap_knob_silently_shortens_pages(api: Api, sandbox: Sandbox) -> None:
    _customers(api, 7)
    sandbox.dkplus.knobs.update({"list_page_cap": 3})
    pages = [api("GET", f"/customer/page/{p}/5").json() for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    numbers = [c["Number"] for page in pages for c in page]
    assert numbers == [f"C{n:03d}" for n in range(7)]


@pytest.mark.parametrize("status", [404, 405])
def test_lists_can_be_removed(api: Api, sandbox: Sandbox, status: int) -> None:
    reply = requests.put(
        f"{sandbox.dkplus.url}/_sandbox/knobs", json={"lists_status": status}, timeout=5
    )
    assert reply.ok
    for path in ("/customer", "/project", "/Product", "/sales/invoice"):
        assert api("GET", f"{path}/page/1/10").status_code == status
    assert api("GET", "/company/connection").status_code == 200


def test_not_a_list_knob_wraps_the_page(api: Api, sandbox: Sandbox) -> None:
    _customers(api, 1)
    sandbox.dkplus.knobs.update({"lists_not_a_list": True})
    assert isinstance(api("GET", "/customer/page/1/10").json(), dict)


def test_project_update_is_partial_and_validated(api: Api, sandbox: Sandbox) -> None:
    _prepare(api)
    api("POST", "/customer", {**CUSTOMER, "Number": "10002"})
    updated = api("PUT", "/project/1042", {"Name": "Nýtt nafn", "CustomerToBill": "10002"})
    assert updated.status_code == 200
    assert api("GET", "/project/1042").json()["CustomerToBill"] == "10002"
    assert api("GET", "/project/1042").json()["Name"] == "Nýtt nafn"
    assert api("PUT", "/project/1042", {"City": "x"}).status_code == 400
    assert api("PUT", "/project/1042", {"Number": "9"}).status_code == 400
    assert api("PUT", "/project/1042", {"CustomerToBill": "nobody"}).status_code == 400
    assert api("PUT", "/project/NOPE", {"Name": "x"}).status_code == 404
    for status in (404, 405):
        sandbox.dkplus.knobs.update({"project_update_status": status})
        assert api("PUT", "/project/1042", {"Name": "x"}).status_code == status


def test_admin_deletes_and_edits_invoices(api: Api, sandbox: Sandbox) -> None:
    _prepare(api)
    one, two = _book(api, "1"), _book(api, "2")
    admin = f"{sandbox.dkplus.url}/_sandbox"
    assert requests.delete(f"{admin}/invoice/{one['Number']}", timeout=5).ok
    assert requests.delete(f"{admin}/invoice/{one['Number']}", timeout=5).status_code == 404
    assert api("GET", "/sales/invoice/reference/1/1/10").json() == []
    edited = requests.patch(
        f"{admin}/invoice/{two['Number']}", json={"TotalAmount": 5, "Reference": "9"}, timeout=5
    )
    assert edited.ok
    listed = jsonio.loads(api("GET", "/sales/invoice/page/1/10").content)
    assert [(i["Reference"], i["TotalAmount"]) for i in listed] == [("9", Decimal(5))]
    assert api("GET", "/sales/invoice/reference/2/1/10").json() == []
