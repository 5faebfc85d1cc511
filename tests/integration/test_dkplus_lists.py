"""The DK+ list client over real HTTP: every page read, and typed outcomes, never "empty"."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dksync.dkplus.lists import DkPlusLists
from dksync.errors import ListProblem, ListUnavailable
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.transport.http import Endpoint
from tests.conftest import FAST_RETRIES


def _lists(sb: Sandbox, page_size: int) -> DkPlusLists:
    return DkPlusLists.connect(
        Endpoint(sb.dkplus.url, policy=FAST_RETRIES), sb.dkplus.token, page_size
    )


def _customers(sb: Sandbox, count: int) -> None:
    for n in range(count):
        sb.dkplus.store.customers[f"C{n:03d}"] = sb.dkplus.store.stamp({"Number": f"C{n:03d}"})


def test_a_short_page_is_not_the_end_under_a_silent_cap(sandbox: Sandbox) -> None:
    _customers(sandbox, 11)
    sandbox.dkplus.knobs.update({"list_page_cap": 3})
    lists = _lists(sandbox, page_size=5)
    listed = list(lists.customers(include=("Number",)))
    assert listed == [{"Number": f"C{n:03d}"} for n in range(11)]
    assert lists.requests_sent == 5  # pages of 3, 3, 3, 2, then the empty one


def test_requests_are_pages_plus_one(sandbox: Sandbox) -> None:
    _customers(sandbox, 10)
    lists = _lists(sandbox, page_size=5)
    assert len(list(lists.customers())) == 10
    assert lists.requests_sent == 3
    assert [e.path for e in sandbox.dkplus.requests_to("/customer/page/")] == [
        "/api/v1/customer/page/1/5",
        "/api/v1/customer/page/2/5",
        "/api/v1/customer/page/3/5",
    ]


def test_an_empty_list_is_one_request(sandbox: Sandbox) -> None:
    lists = _lists(sandbox, page_size=5)
    assert list(lists.sales_invoices(created_after=date(2026, 1, 1))) == []
    assert list(lists.projects(customer="nobody")) == []
    assert list(lists.products()) == []
    assert lists.requests_sent == 3


@pytest.mark.parametrize(
    ("knobs", "problem"),
    [
        ({"lists_status": 404}, ListProblem.ABSENT),
        ({"lists_status": 405}, ListProblem.ABSENT),
        ({"lists_not_a_list": True}, ListProblem.NOT_A_LIST),
        ({"lists_ignore_page": True}, ListProblem.NOT_PAGING),
    ],
)
def test_a_list_that_cannot_be_read_is_a_typed_outcome(
    sandbox: Sandbox, knobs: dict[str, object], problem: ListProblem
) -> None:
    _customers(sandbox, 6)
    sandbox.dkplus.knobs.update(knobs)
    with pytest.raises(ListUnavailable) as caught:
        list(_lists(sandbox, page_size=5).customers())
    assert caught.value.problem is problem
    assert "/customer/page" in str(caught.value)


def test_an_empty_page_answer_that_is_not_a_list_is_not_empty(sandbox: Sandbox) -> None:
    sandbox.dkplus.knobs.update({"lists_not_a_list": True})
    with pytest.raises(ListUnavailable) as caught:
        list(_lists(sandbox, page_size=5).sales_invoices())
    assert caught.value.problem is ListProblem.NOT_A_LIST


def test_parameters_dk_refuses_are_a_typed_outcome(sandbox: Sandbox) -> None:
    lists = _lists(sandbox, page_size=5)
    with pytest.raises(ListUnavailable) as caught:
        list(lists.pages("/api/v1/sales/invoice/page", {"createdAfter": "soon"}))
    assert caught.value.problem is ListProblem.REFUSED


def test_any_page_size_under_any_silent_cap_reads_every_object_once() -> None:
    with Sandbox(dataset=generate(2, 1, 0, 0, plant=False)) as sb:

        @settings(max_examples=25, deadline=None)
        @given(st.integers(0, 40), st.integers(1, 12), st.integers(0, 12))
        def check(count: int, page_size: int, cap: int) -> None:
            sb.dkplus.store.customers.clear()
            _customers(sb, count)
            sb.dkplus.knobs.update({"list_page_cap": cap})
            lists = _lists(sb, page_size)
            assert [c["Number"] for c in lists.customers()] == [f"C{n:03d}" for n in range(count)]
            size = min(page_size, cap) if cap else page_size
            assert lists.requests_sent == math.ceil(count / size) + 1  # then an empty page

        check()
