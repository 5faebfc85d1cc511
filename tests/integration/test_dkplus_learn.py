"""Learning what DK+ holds from its lists (issue 11 A helper), over real HTTP."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from dksync.cli import app
from dksync.dkplus_learn import (
    learn_customers,
    learn_invoice_references,
    learn_products,
    learn_projects,
    worth_listing,
)
from dksync.dkplus_lists import DkPlusLists, ListProblem
from dksync.sandbox.pair import Sandbox
from tests.conftest import FAST_RETRIES, FIGURES
from tests.helpers import config_file

PAGE = 10


def _synced(sb: Sandbox, folder: Path) -> DkPlusLists:
    CliRunner().invoke(app, ["run", "-c", str(config_file(sb, folder))])
    return DkPlusLists.connect(sb.dkplus.url, sb.dkplus.token, policy=FAST_RETRIES, page_size=PAGE)


def test_each_kind_is_learnt_completely_with_the_compared_fields(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    lists = _synced(sandbox, tmp_path)
    sandbox.dkplus.knobs.update({"list_page_cap": 7})  # short pages are not the end
    held = sandbox.dkplus.snapshot()
    customers = learn_customers(lists)
    assert customers.objects is not None and set(customers.objects) == set(held["customers"])
    some = next(iter(held["customers"].values()))
    assert customers.get(some["Number"]) == {
        k: v for k, v in some.items() if k not in ("RecordID",)
    }
    assert customers.holds("nobody") is False
    projects, products = learn_projects(lists), learn_products(lists)
    assert projects.objects is not None and set(projects.objects) == set(held["projects"])
    assert products.objects is not None and set(products.objects) == set(held["products"])
    references = learn_invoice_references(lists, date(2026, 1, 1), date(2026, 12, 31))
    assert references.objects is not None
    expected: dict[str, list[str]] = {}
    for invoice in held["invoices"]:
        expected.setdefault(invoice["Reference"], []).append(str(invoice["Number"]))
    assert {k: v["Numbers"] for k, v in references.objects.items()} == expected
    n = len(held["customers"])
    assert customers.requests == math.ceil(n / 7) + 1
    FIGURES.append(
        f"learn from lists (cap 7/page): {n} customers in {customers.requests} requests, "
        f"{len(held['projects'])} projects in {projects.requests}, {len(held['products'])} "
        f"products in {products.requests}, {len(held['invoices'])} invoices in "
        f"{references.requests} (one GET each would be {n + len(held['projects'])} + "
        f"{len(held['products'])} + {len(held['invoices'])})"
    )


def test_a_list_that_cannot_be_read_leaves_the_kind_unknown(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    lists = _synced(sandbox, tmp_path)
    sandbox.dkplus.knobs.update({"lists_status": 405})
    known = learn_customers(lists)
    assert known.objects is None and known.holds("10001") is None
    assert known.problem is not None and known.problem.problem is ListProblem.ABSENT
    sandbox.dkplus.knobs.update({"lists_status": 0, "lists_not_a_list": True})
    assert learn_invoice_references(lists, date(2026, 1, 1), date(2026, 2, 1)).objects is None


def test_an_object_without_its_key_makes_the_list_unusable(sandbox: Sandbox) -> None:
    sandbox.dkplus.store.customers["X"] = {"Name": "no number"}
    lists = DkPlusLists.connect(sandbox.dkplus.url, sandbox.dkplus.token, policy=FAST_RETRIES)
    known = learn_customers(lists)
    assert known.objects is None and known.problem is not None
    assert known.problem.problem is ListProblem.NOT_A_LIST


def test_crossover_examples() -> None:
    assert worth_listing(to_write=120, held=0, page_size=1000)  # 1 request instead of 120
    assert not worth_listing(to_write=1, held=0, page_size=1000)
    assert not worth_listing(to_write=10, held=50_000, page_size=1000)  # 51 pages
    assert worth_listing(to_write=52, held=50_000, page_size=1000)


@given(st.integers(0, 10_000), st.integers(0, 200_000), st.integers(1, 5000))
def test_listing_is_chosen_exactly_when_it_costs_fewer_requests(
    to_write: int, held: int, page_size: int
) -> None:
    pages = held // page_size + 1 + (1 if held % page_size else 0)
    assert worth_listing(to_write, held, page_size) is (pages < to_write)
