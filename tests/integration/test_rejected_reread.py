"""Rejected records are read again cheaply: one list request per kind through Moment's id
filter (checked on the answer), or, when Moment ignores it, only when they change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.conftest import Sync

ONE_OBJECT = re.compile(r"/(customers|projects|invoices)/\d+$")


def _rejected(tmp_path: Path) -> list[Any]:
    state = State.open(tmp_path / "state.sqlite")
    try:
        return state.rejected()
    finally:
        state.close()


def _second_run(sandbox: Sandbox, sync: Sync) -> list[Any]:
    sync()
    before = len(sandbox.moment.log)
    sync()
    return sandbox.moment.log[before:]


def test_rejected_records_are_read_in_one_list_request_per_kind(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    log = _second_run(sandbox, sync)
    rows = _rejected(tmp_path)
    assert rows and all(r.attempts == 2 for r in rows), "every rejected record tried again"
    assert [e.path for e in log if ONE_OBJECT.search(e.path)] == [], "no GET per record"
    by_ids = [e for e in log if "ids" in e.query]
    kinds = {r.object_type for r in rows}
    assert sorted(e.path.rsplit("/", 1)[1] for e in by_ids) == sorted(kinds)
    for entry in by_ids:
        kind = entry.path.rsplit("/", 1)[1]
        asked = {int(n) for n in entry.query["ids"].split(",")}
        assert asked == {r.moment_id for r in rows if r.object_type == kind}


def test_a_rejected_record_gone_from_moment_is_said_so(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sync()
    gone = next(r for r in _rejected(tmp_path) if r.object_type == "customers")
    sandbox.moment.delete("customers", gone.moment_id)
    report = sync()
    [outcome] = [o for o in report.outcomes if o.moment_id == gone.moment_id]
    assert "no longer exists in Moment" in outcome.detail


def test_when_moment_ignores_the_id_filter_rejected_records_wait_for_a_change(
    sandbox: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    sandbox.moment.knobs.update({"ignore_ids": True})
    log = _second_run(sandbox, sync)
    rows = _rejected(tmp_path)
    assert rows and all(r.attempts == 1 for r in rows), "not read again: unchanged in Moment"
    assert [e.path for e in log if ONE_OBJECT.search(e.path)] == [], "no GET per record"
    assert len([e for e in log if "ids" in e.query]) == len({r.object_type for r in rows})
    changed = next(r for r in rows if r.object_type == "customers")
    sandbox.moment.patch_raw("customers", changed.moment_id, {})
    sync()
    again = {r.moment_id: r.attempts for r in _rejected(tmp_path)}
    assert again[changed.moment_id] == 2, "a change in Moment brings it back"
