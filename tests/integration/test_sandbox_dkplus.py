"""The DK+ sandbox answers as dkplus-api.md says, over real HTTP."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
import requests

from dksync import jsonio
from dksync.sandbox.pair import Sandbox

CUSTOMER = {"Number": "10001", "Name": "Kaffibrennslan ehf.", "Address3": "Reykjavík"}


class Api:
    def __init__(self, sb: Sandbox) -> None:
        self.base = f"{sb.dkplus.url}/api/v1"
        self.headers = {"Authorization": f"Bearer {sb.dkplus.token}"}

    def __call__(
        self, method: str, path: str, body: Any = None, **params: Any
    ) -> requests.Response:
        data = None if body is None else jsonio.dumps(body)
        return requests.request(
            method,
            self.base + path,
            data=data,
            params=params,
            headers={**self.headers, "Content-Type": "application/json"},
            timeout=5,
        )


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def _invoice(**changes: Any) -> dict[str, Any]:
    body = {
        "Customer": {"Number": "10001", "SSN": "5302692619"},
        "SalesPerson": "SALA1",
        "Reference": "1001",
        "Date": "2026-11-01",
        "Lines": [
            {
                "ItemCode": "RADGJOF",
                "Text": "Ráðgjöf",
                "Quantity": Decimal("7.5"),
                "Price": Decimal("27750.00"),
                "Discount": Decimal("10"),
                "Total": Decimal("187312.50"),
            }
        ],
    }
    body.update(changes)
    return body


def test_bad_token_is_401(sandbox: Sandbox) -> None:
    url = f"{sandbox.dkplus.url}/api/v1/company/connection"
    assert requests.get(url, timeout=5).status_code == 401
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401


def test_connection_answers_true(api: Api) -> None:
    assert api("GET", "/company/connection").json() is True


def test_customer_create_get_update_and_conflicts(api: Api) -> None:
    assert api("GET", "/customer/10001").status_code == 404
    created = api("POST", "/customer", CUSTOMER)
    assert created.status_code == 200 and created.json()["Name"] == CUSTOMER["Name"]
    assert "RecordID" in created.json()
    duplicate = api("POST", "/customer", CUSTOMER)
    assert duplicate.status_code == 409 and "already exists" in duplicate.json()["Message"]
    updated = api("PUT", "/customer/10001", {"Phone": "555 1234"})
    assert updated.status_code == 200 and updated.json()["Name"] == CUSTOMER["Name"]
    assert api("GET", "/customer/10001").json()["Phone"] == "555 1234"
    assert api("PUT", "/customer/99999", {"Phone": "1"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"Number": "1000100010001", "Name": "x"}, "longer than 12"),
        ({"Number": "1", "City": "Reykjavík"}, "unknown field 'City'"),
        ({"Name": "no number"}, "'Number' is required"),
        ({"Number": "1", "Blocked": "yes"}, "expected boolean"),
    ],
)
def test_customer_bodies_that_break_the_contract_are_400(api: Api, body: Any, words: str) -> None:
    reply = api("POST", "/customer", body)
    assert reply.status_code == 400 and words in reply.json()["Message"]


def test_projects_create_and_get(api: Api) -> None:
    api("POST", "/customer", CUSTOMER)
    unknown = api("POST", "/project", {"Number": "P1", "CustomerToBill": "nobody"})
    assert unknown.status_code == 400
    assert (
        api(
            "POST", "/project", {"Number": "P1", "Name": "Vefur", "CustomerToBill": "10001"}
        ).status_code
        == 200
    )
    assert api("GET", "/project/P1").json()["CustomerToBill"] == "10001"
    assert api("POST", "/project", {"Number": "P1"}).status_code == 409
    assert api("GET", "/project/P2").status_code == 404


def test_products_ignore_case_and_accept_base64_codes(api: Api) -> None:
    assert api("POST", "/Product", {"ItemCode": "Radgjof", "TaxPercent": 24}).status_code == 200
    assert api("GET", "/Product/RADGJOF").json()["ItemCode"] == "Radgjof"
    assert api("POST", "/Product", {"ItemCode": "RADGJOF"}).status_code == 409
    assert api("POST", "/Product", {"ItemCode": "A/B"}).status_code == 200
    encoded = base64.b64encode(b"A/B").decode()
    assert api("GET", f"/Product/{encoded}", isBase64="true").json()["ItemCode"] == "A/B"
    assert api("GET", "/Product/NOPE").status_code == 404


def test_sales_person_lookup(api: Api) -> None:
    assert api("GET", "/sales/person/SALA1").json()["Number"] == "SALA1"
    assert api("GET", "/sales/person/NOBODY").status_code == 404


def _prepare(api: Api) -> None:
    api("POST", "/customer", CUSTOMER)
    api("POST", "/Product", {"ItemCode": "RADGJOF", "TaxPercent": 24})
    api("POST", "/project", {"Number": "1042", "CustomerToBill": "10001"})


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"Customer": {"Number": "77777"}}, "Customer 77777 does not exist"),
        ({"SalesPerson": "NOBODY"}, "Sales person NOBODY"),
        ({"Project": "9999"}, "Project 9999"),
        ({"Lines": [{"ItemCode": "NOPE", "Quantity": 1}]}, "ItemCode NOPE"),
        ({"Number": 5}, "unknown field 'Number'"),
    ],
)
def test_invoice_validation_failures_are_400(api: Api, changes: Any, words: str) -> None:
    _prepare(api)
    reply = api("POST", "/sales/invoice", _invoice(**changes), post="true")
    assert reply.status_code == 400 and words in reply.json()["Message"]


def test_invoice_create_numbers_prices_and_books(api: Api, sandbox: Sandbox) -> None:
    _prepare(api)
    reply = api("POST", "/sales/invoice", _invoice(Project="1042"), post="true")
    assert reply.status_code == 200
    invoice = jsonio.loads(reply.content)
    assert invoice["Reference"] == "1001" and invoice["SalePerson"] == "SALA1"
    assert invoice["CNumber"] == "10001" and invoice["CSSNumber"] == "5302692619"
    assert invoice["Project"] == "1042"
    line = invoice["Lines"][0]
    assert line["UnitPrice"] == Decimal("27750.00") and line["Discount"] == 10
    assert line["TotalAmount"] == Decimal("187312.50")
    assert invoice["TotalAmount"] == Decimal("187312.50")
    assert invoice["TotalAmountWithTax"] == Decimal("232267.50")
    assert invoice["Number"] in sandbox.dkplus.snapshot()["booked"]
    second = jsonio.loads(api("POST", "/sales/invoice", _invoice(), post="true").content)
    assert second["Number"] == invoice["Number"] + 1
    same_ref = api("GET", "/sales/invoice/reference/1001/1/10").json()
    assert [i["Number"] for i in same_ref] == [invoice["Number"], second["Number"]]
    assert api("GET", "/sales/invoice/reference/1001/2/1").json()[0]["Number"] == second["Number"]
    assert api("GET", f"/sales/invoice/{invoice['Number']}").json()["Reference"] == "1001"
    assert api("GET", "/sales/invoice/1").status_code == 404


def test_invoice_without_post_is_not_booked_and_calculate_stores_nothing(
    api: Api, sandbox: Sandbox
) -> None:
    _prepare(api)
    unbooked = api("POST", "/sales/invoice", _invoice()).json()
    assert unbooked["Number"] not in sandbox.dkplus.snapshot()["booked"]
    priced = jsonio.loads(api("PATCH", "/sales/invoice/calculate", _invoice()).content)
    assert priced["TotalAmount"] == Decimal("187312.50")
    assert len(sandbox.dkplus.snapshot()["invoices"]) == 1


def test_admin_store_and_preexisting_invoice(api: Api, sandbox: Sandbox) -> None:
    _prepare(api)
    admin = f"{sandbox.dkplus.url}/_sandbox"
    assert requests.post(f"{admin}/salesperson", json={"Number": "SALA2"}, timeout=5).ok
    assert api("GET", "/sales/person/SALA2").status_code == 200
    posted = requests.post(f"{admin}/invoice", data=jsonio.dumps(_invoice()), timeout=5)
    assert posted.status_code == 200
    store = requests.get(f"{admin}/store", timeout=5).json()
    assert store["invoices"][0]["Reference"] == "1001"
    assert "10001" in store["customers"]
