"""Issue 17: invariants held by the state, not by the steps. Over real HTTP: two Moment
invoices that share a number are never both posted (at any concurrency, and the dry run says
so too); two Moment customers that map to one DK+ number are never merged; the cursor moves
only past what was read; a record Moment sends that dksync cannot read waits in the
rejected queue under its id.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dksync.mapping.invoices import skip_reason
from dksync.outcome import Action
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.conftest import Sync, config_for


@pytest.fixture
def clean() -> Sandbox:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        yield sb  # type: ignore[misc]


def _eligible(sb: Sandbox) -> list[int]:
    return sorted(i.id for i in sb.dataset.invoices if skip_reason(i) is None)


def _share_numbers(sb: Sandbox, pairs: int) -> list[tuple[int, int]]:
    """Give ``pairs`` eligible invoices the number of another one (Moment allows it)."""
    ids = _eligible(sb)
    shared = list(zip(ids[0 : 2 * pairs : 2], ids[1 : 2 * pairs : 2], strict=True))
    for first, second in shared:
        number = sb.moment.raw("invoices", first)["invoiceNumber"]
        sb.moment.patch_raw("invoices", second, {"invoiceNumber": number})
    return shared


@pytest.mark.parametrize("concurrency", [1, 5])
def test_invoices_sharing_a_number_are_posted_once(
    clean: Sandbox, sync: Sync, tmp_path: Path, concurrency: int
) -> None:
    shared = _share_numbers(clean, 3)
    settings = config_for(clean, tmp_path / "state.sqlite", dkplus={"concurrency": concurrency})
    dry = sync(settings, dry_run=True)
    report = sync(settings)
    held = [i["Reference"] for i in clean.dkplus.snapshot()["invoices"]]
    assert len(held) == len(set(held)) == len(_eligible(clean)) - len(shared)
    for outcome in (dry, report):
        duplicates = [o for o in outcome.with_action(Action.REJECT) if o.code == "duplicate_number"]
        assert len(duplicates) == len(shared), [o.detail for o in outcome.outcomes]
        assert outcome.count("invoices", Action.CREATE) == len(held)
    state = State.open(tmp_path / "state.sqlite")
    queued = {r.moment_id for r in state.rejected("invoices") if r.code == "duplicate_number"}
    assert len(queued) == len(shared) and all(len(set(p) & queued) == 1 for p in shared)
    state.close()
    again = sync(settings)
    assert [i["Reference"] for i in clean.dkplus.snapshot()["invoices"]] == held
    assert again.count("invoices", Action.CREATE) == 0


def test_customers_differing_by_whitespace_are_not_merged(
    clean: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    first, second = clean.dataset.customers[0], clean.dataset.customers[1]
    clean.moment.patch_raw("customers", second.id, {"customerNumber": first.number + " "})
    settings = config_for(clean, tmp_path / "state.sqlite")
    for dry_run in (True, False):
        report = sync(settings, dry_run=dry_run)
        duplicates = [
            o
            for o in report.with_action(Action.REJECT)
            if o.object_type == "customers" and o.code == "duplicate_number"
        ]
        assert len(duplicates) == 1, [o.detail for o in report.outcomes]
        assert {duplicates[0].moment_id} < {first.id, second.id}
    dkplus = clean.dkplus.snapshot()["customers"]
    assert first.number in dkplus
    written = State.open(tmp_path / "state.sqlite")
    rows = [written.written("customers", c) for c in (first.id, second.id)]
    holders = {row.number if row else None for row in rows}
    written.close()
    assert holders == {first.number, None}, "one Moment customer per DK+ number"


def test_since_later_than_the_cursor_never_moves_it_past_unread_records(
    clean: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    settings = config_for(clean, tmp_path / "state.sqlite")
    sync(settings)
    state = State.open(tmp_path / "state.sqlite")
    before = state.cursor("customers")
    state.close()
    assert before is not None
    victim, later = clean.dataset.customers[3], clean.dataset.customers[4]
    clean.moment.patch_raw("customers", victim.id, {"name": "Changed, not yet read"})
    clean.moment.stamp("customers", victim.id, before.modified + timedelta(hours=1))
    clean.moment.patch_raw("customers", later.id, {"name": "Changed later"})
    clean.moment.stamp("customers", later.id, before.modified + timedelta(hours=3))
    sync(settings, since=before.modified + timedelta(hours=2))
    assert clean.dkplus.snapshot()["customers"][later.number]["Name"] == "Changed later"
    state = State.open(tmp_path / "state.sqlite")
    assert state.cursor("customers") == before, "a --since past the cursor moves nothing"
    state.close()
    report = sync(settings)
    assert any(o.moment_id == victim.id for o in report.outcomes), "read by the next run"
    assert clean.dkplus.snapshot()["customers"][victim.number]["Name"] == "Changed, not yet read"


def test_unreadable_record_waits_in_the_queue_under_its_id(
    clean: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    victim = clean.dataset.customers[2]
    broken = {**clean.moment.raw("customers", victim.id), "lastModifiedDate": "yesterday"}
    clean.moment.put_raw("customers", broken)
    report = sync(config_for(clean, tmp_path / "state.sqlite"), only=("customers",))
    assert report.fatal is None and report.exit_code == 1
    state = State.open(tmp_path / "state.sqlite")
    rows = {r.moment_id: r for r in state.rejected("customers")}
    assert list(rows) == [victim.id] and rows[victim.id].code == "malformed"
    assert rows[victim.id].number == victim.number
    dropped = state.drop_rejected(rows[victim.id].id, "fixed by hand")
    assert dropped is not None and dropped.moment_id == victim.id
    state.close()
