"""Answers of the right shape with the wrong type deep inside, through whole runs over real
HTTP: a number written as a string past every bound, an enum field holding a list. Each
ends its own record with a reason naming the field; the others are synced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dksync.outcome import Action, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from tests.conftest import FAST_RETRIES, config_for
from tests.integration.test_hostile_answers import unaccounted


def _run(sb: Sandbox, state: Path) -> RunReport:
    from dksync.clients import connect
    from dksync.sync import run as engine
    from dksync.sync.context import RunOptions

    settings = config_for(sb, state)
    return engine.run(settings, RunOptions(), connect(settings, policy=FAST_RETRIES))


def _rejected(report: RunReport, kind: str) -> dict[int, str]:
    return {
        o.moment_id: o.detail
        for o in report.outcomes
        if o.object_type == kind and o.action is Action.REJECT
    }


def _first_line_with(sb: Sandbox, ident: int, key: str, value: Any) -> dict[str, Any]:
    lines = sb.moment.raw("invoices", ident)["lines"]
    lines[0][key] = value
    return {"lines": lines}


@pytest.mark.parametrize(
    ("kind", "edit", "named"),
    [
        ("customers", lambda sb, i: {"creditDays": "1E+5000"}, "'creditDays'"),
        ("invoices", lambda sb, i: {"invoiceNumber": "1E+5000"}, "'invoiceNumber'"),
        (
            "invoices",
            lambda sb, i: _first_line_with(sb, i, "quantity", "1E+99999"),
            "'lines[0].quantity'",
        ),
        ("invoices", lambda sb, i: {"invoiceState": ["finalized"]}, "'invoiceState'"),
        ("invoices", lambda sb, i: {"invoiceType": {"code": "invoice"}}, "'invoiceType'"),
    ],
)
def test_a_wrong_type_deep_inside_ends_its_record_naming_the_field(
    tmp_path: Path, kind: str, edit: Any, named: str
) -> None:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        victim = getattr(sb.dataset, kind)[0]
        sb.moment.patch_raw(kind, victim.id, edit(sb, victim.id))
        report = _run(sb, tmp_path / "state.sqlite")
        assert report.fatal is None, report.fatal
        rejected = _rejected(report, kind)
        assert list(rejected) == [victim.id], rejected
        detail = rejected[victim.id]
        assert named in detail and "Moment data is malformed" in detail, detail
        assert "DK+" not in detail, detail  # the parse failed: no DK+ request is to blame
        created = {o.moment_id for o in report.outcomes if o.action is Action.CREATE}
        others = {r.id for r in getattr(sb.dataset, kind)} - {victim.id}
        assert others <= created  # the others of its kind are written in the same run
        assert unaccounted(sb, tmp_path / "state.sqlite") == []
