"""Issue 11 over real HTTP: what DK+ holds is learned from its lists once that pays; a
changed customer is read once and written back whole (issue 18: DK's PUT may replace the
record); ``projects.update``; every way a
list can fail falls back to one lookup per record without losing or duplicating anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dksync.clients import connect
from dksync.dkplus.learned import MIN_LOOKUPS, ListedDkPlus
from dksync.outcome import Action, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import FAST_RETRIES, config_for
from tests.integration.test_hostile_answers import unaccounted


@pytest.fixture
def company() -> Iterator[Sandbox]:
    """A company big enough for lists to pay: 150 customers, 20 projects, 300 invoices."""
    with Sandbox(dataset=generate(5, 150, 20, 300, lines=(1, 3), plant=False)) as sb:
        yield sb


def _run(sb: Sandbox, state: Path, **sections: dict[str, Any]) -> RunReport:
    settings = config_for(sb, state, **sections)
    return engine.run(settings, RunOptions(), connect(settings, FAST_RETRIES))


def _dkplus_since(sb: Sandbox, start: int) -> tuple[int, int]:
    """(all DK+ requests, writes) logged since entry ``start``."""
    entries = sb.dkplus.log[start:]
    return len(entries), sum(1 for e in entries if e.method in ("POST", "PUT"))


def test_first_sync_asks_dkplus_about_one_request_per_write(
    company: Sandbox, tmp_path: Path
) -> None:
    """A new state file cannot know what an earlier one posted (issue 17): its first POSTs
    are checked against DK+'s whole invoice list, every date, read once (not one lookup by
    reference each); everything else is learned from lists too."""
    report = _run(company, tmp_path / "state.sqlite")
    requests, writes = _dkplus_since(company, 0)
    assert report.fatal is None and writes > 400
    assert requests <= 1.1 * writes, f"{requests} requests for {writes} writes"
    by_reference = [e for e in company.dkplus.log if "/sales/invoice/reference/" in e.path]
    assert len(by_reference) <= MIN_LOOKUPS, "the first lookups only, until the list pays"
    whole = [e for e in company.dkplus.log if "/sales/invoice/page/" in e.path]
    assert whole and not any("createdAfter" in e.query for e in whole), "every date"
    assert any("/page/" in e.path for e in company.dkplus.log), "learned from the lists"
    assert unaccounted(company, tmp_path / "state.sqlite") == []
    start = len(company.dkplus.log)
    quiet = _run(company, tmp_path / "state.sqlite")
    assert quiet.fatal is None and _dkplus_since(company, start) == (0, 0)


@pytest.mark.parametrize(
    "knobs",
    [
        {"lists_status": 404},
        {"lists_status": 405},
        {"lists_not_a_list": True},
        {"lists_ignore_page": True},
        {"list_page_cap": 7},
    ],
)
def test_every_list_failure_falls_back_to_one_lookup_per_record(
    company: Sandbox, tmp_path: Path, knobs: dict[str, Any]
) -> None:
    company.dkplus.knobs.update(knobs)
    report = _run(company, tmp_path / "state.sqlite")
    assert report.fatal is None
    assert unaccounted(company, tmp_path / "state.sqlite") == []
    requests, writes = _dkplus_since(company, 0)
    assert writes > 400 and requests > writes


def test_changed_customer_is_read_once_and_written_back_whole(
    company: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite"
    _run(company, state)
    customer = company.dataset.customers[0]
    held = company.dkplus.snapshot()["customers"][customer.number]
    company.moment.change("customers", customer.id, lambda c: replace(c, phone="+354 555 9999"))
    start = len(company.dkplus.log)
    report = _run(company, state)
    entries = company.dkplus.log[start:]
    whole = {k: v for k, v in held.items() if k not in ("RecordID", "Modified", "BalanceAmount")}
    assert [(e.method, e.path, e.body) for e in entries] == [
        ("GET", f"/api/v1/customer/{customer.number}", None),
        ("PUT", f"/api/v1/customer/{customer.number}", {**whole, "Phone": "+354 555 9999"}),
    ]
    [updated] = report.with_action(Action.UPDATE)
    assert updated.changes == {"Phone": (customer.phone, "+354 555 9999")}


@pytest.mark.parametrize("status", [0, 404, 405])
def test_projects_update_carries_a_new_name_or_reports_drift(
    company: Sandbox, tmp_path: Path, status: int
) -> None:
    state = tmp_path / "state.sqlite"
    _run(company, state)
    project = company.dataset.projects[0]
    company.moment.change("projects", project.id, lambda p: replace(p, name="Nýtt heiti"))
    company.dkplus.knobs.update({"project_update_status": status})
    report = _run(company, state, projects={"update": True})
    held = company.dkplus.snapshot()["projects"][project.number]
    if status == 0:
        assert [o.label for o in report.with_action(Action.UPDATE)] == [project.number]
        assert held["Name"] == "Nýtt heiti"
    else:
        [drift] = report.with_action(Action.DRIFT)
        assert "projects.update is on, but DK+ refused the update" in drift.detail
        assert held["Name"] == project.name


@pytest.mark.parametrize("loss", ["lost", "restored"])
def test_after_the_state_is_lost_a_list_window_never_decides_a_first_post(
    company: Sandbox, tmp_path: Path, loss: str
) -> None:
    """Issue 17: an invoice whose date someone moved in DK+ past the list window is not in
    the window; with a new or restored state file dksync asks DK+ by reference instead of
    trusting the window, so the invoice is adopted, never posted again."""
    state = tmp_path / "state.sqlite"
    backup = tmp_path / "backup.sqlite"
    if loss == "restored":
        _run(company, state, sync={"objects": ["customers"]})
        import shutil

        shutil.copy(state, backup)
    first = _run(company, state)
    assert first.fatal is None
    moved = company.dkplus.snapshot()["invoices"][:5]
    for invoice in moved:
        company.dkplus.edit_invoice(invoice["Number"], {"InvoiceDate": "2019-01-01T00:00:00"})
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    if loss == "restored":
        backup.rename(state)
    again = _run(company, state)
    assert again.fatal is None
    references = [i["Reference"] for i in company.dkplus.snapshot()["invoices"]]
    assert len(references) == len(set(references)), "nothing posted twice"
    assert again.count("invoices", Action.CREATE) == 0
    assert again.count("invoices", Action.ADOPT) == first.count("invoices", Action.CREATE)
    assert unaccounted(company, state) == []


def test_a_created_customer_is_not_kept_the_state_says_whether_to_ask_dkplus(
    company: Sandbox, tmp_path: Path
) -> None:
    """Issue 21, memory flat in the data: a customer created after the list was learned adds
    nothing to it; a number the list lacks is asked from DK+ only when the state says
    dksync wrote it (then DK+ answers what it holds), else it is "not there" for free."""
    clients = connect(config_for(company, tmp_path / "state.sqlite"), FAST_RETRIES)
    wrote: set[str] = set()
    listed = ListedDkPlus(clients.dkplus, clients.lists, {}, wrote=lambda kind, key: key in wrote)
    for number in ("X1", "X2", "X3", "X4"):  # past the first lookups: the list is read
        assert listed.customer(number) is None
    assert any("/customer/page/" in e.path for e in company.dkplus.log)
    listed.create_customer({"Number": "N1", "Name": "Nýr viðskiptavinur"})
    wrote.add("N1")
    start = len(company.dkplus.log)
    assert listed.customer("N2") is None, "neither listed nor written: not there"
    assert len(company.dkplus.log) == start, "and no request for it"
    found = listed.customer("N1")
    assert found is not None and found["Name"] == "Nýr viðskiptavinur", "asked from DK+"
    assert len(company.dkplus.log) == start + 1
