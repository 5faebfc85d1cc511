"""Issue 17: one boundary per record. Whatever one record's step meets (a DK+ that answers
404 and 409 where no rule expects them, text that is not Unicode, a kennitala in superscript
digits, a date at the dawn of the calendar) ends that record only; the others are synced in
the same run over real HTTP. Only a failure outside every record is exit 70.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.mapping.invoices import skip_reason
from dksync.outcome import Action, Outcome, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from dksync.sync import streams
from tests.conftest import Sync, config_for
from tests.helpers import config_file
from tests.integration.test_hostile_answers import unaccounted

runner = CliRunner(env={"COLUMNS": "250"})


def _clean() -> Sandbox:
    return Sandbox(dataset=generate(5, 10, 4, 12, plant=False))


def _eligible(sb: Sandbox) -> list[int]:
    return sorted(i.id for i in sb.dataset.invoices if skip_reason(i) is None)


def _rejected(report: RunReport, kind: str) -> dict[int, Outcome]:
    return {
        o.moment_id: o
        for o in report.outcomes
        if o.object_type == kind and o.action in (Action.REJECT, Action.UNCERTAIN)
    }


@pytest.fixture
def clean(tmp_path: Path) -> Any:
    with _clean() as sb:
        yield sb


def _run(sb: Sandbox, tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "-c", str(config_file(sb, tmp_path))])


def test_customer_answering_404_to_put_and_409_to_post_ends_that_customer_only(
    clean: Sandbox, sync: Sync, tmp_path: Path
) -> None:
    settings = config_for(clean, tmp_path / "state.sqlite")
    first = sync(settings)
    assert first.exit_code == 0, first.outcomes
    victim = clean.dataset.customers[0]
    clean.moment.patch_raw("customers", victim.id, {"name": "Renamed in Moment"})
    clean.dkplus.knobs.rewrites = [
        {"method": "PUT", "path": f"^/api/v1/customer/{victim.number}$", "answer": "404"},
        {"method": "POST", "path": "^/api/v1/customer$", "answer": "409"},
    ]
    report = sync(settings)
    assert report.fatal is None, report.fatal
    rejected = _rejected(report, "customers")
    assert list(rejected) == [victim.id]
    assert rejected[victim.id].code == "refused" and "deleted in DK+" in rejected[victim.id].detail
    state = State.open(tmp_path / "state.sqlite")
    assert [r.moment_id for r in state.rejected("customers")] == [victim.id]
    state.close()


@pytest.mark.parametrize("answer", ["404", "409"])
def test_invoice_post_answered_404_or_409_is_refused_alone(
    clean: Sandbox, tmp_path: Path, answer: str
) -> None:
    eligible = _eligible(clean)
    clean.dkplus.knobs.rewrites = [
        {"method": "POST", "path": "^/api/v1/sales/invoice$", "answer": answer, "times": 1}
    ]
    result = _run(clean, tmp_path, "run")
    assert result.exit_code == 1, result.output
    assert "POST /api/v1/sales/invoice" in result.output, result.output
    held = {i["Reference"] for i in clean.dkplus.snapshot()["invoices"]}
    assert len(held) == len(eligible) - 1, "every other invoice is posted in the same run"
    state = State.open(tmp_path / "state.sqlite")
    (row,) = state.rejected("invoices")
    assert row.moment_id in eligible and row.code == "refused"
    state.close()
    again = _run(clean, tmp_path, "run")
    assert again.exit_code == 0, again.output
    assert len(clean.dkplus.snapshot()["invoices"]) == len(eligible)
    assert unaccounted(clean, tmp_path / "state.sqlite") == []


SURROGATE = "Vinna \ud83d á staðnum"


@pytest.mark.parametrize(
    ("kind", "field"),
    [("invoices", "line"), ("customers", "name"), ("customers", "customerNumber")],
)
def test_lone_surrogate_rejects_that_record_as_malformed(
    clean: Sandbox, tmp_path: Path, kind: str, field: str
) -> None:
    if kind == "invoices":
        ident = _eligible(clean)[0]
        lines = clean.moment.raw("invoices", ident)["lines"]
        lines[0]["description"] = SURROGATE
        clean.moment.patch_raw("invoices", ident, {"lines": lines})
    else:
        ident = clean.dataset.customers[0].id
        clean.moment.patch_raw("customers", ident, {field: SURROGATE})
    result = _run(clean, tmp_path, "run")
    assert result.exit_code == 1, result.output
    assert "state file" not in result.output and "unexpected" not in result.output
    state = State.open(tmp_path / "state.sqlite")
    rows = {r.moment_id: r for r in state.rejected(kind)}
    assert rows[ident].code == "malformed" and "not valid Unicode" in rows[ident].reason
    state.close()
    shown = _run(clean, tmp_path, "failures")
    assert shown.exit_code in (0, 1) and "Traceback" not in shown.output
    assert len(clean.dkplus.snapshot()["invoices"]) >= len(_eligible(clean)) - 4


def test_superscript_kennitala_is_rejected_and_check_tells_it(
    clean: Sandbox, tmp_path: Path
) -> None:
    invoice = next(i for i in clean.dataset.invoices if i.id == _eligible(clean)[0])
    clean.moment.patch_raw("customers", invoice.customer_id, {"organizationNumber": "¹²⁰³⁸⁹⁴⁵⁶⁹"})
    result = _run(clean, tmp_path, "run")
    assert result.exit_code == 1, result.output
    state = State.open(tmp_path / "state.sqlite")
    rows = {r.moment_id: r for r in state.rejected("invoices")}
    assert rows[invoice.id].code == "invalid_data" and "not 10 digits" in rows[invoice.id].reason
    state.close()
    checked = _run(clean, tmp_path, "check")
    assert isinstance(checked.exception, SystemExit | None), checked.output
    assert "not 10 digits" in checked.output, checked.output


def test_invoice_dated_year_one_is_malformed_not_money(clean: Sandbox, tmp_path: Path) -> None:
    ident = _eligible(clean)[0]
    clean.moment.patch_raw("invoices", ident, {"invoiceDate": "0001-01-01"})
    result = _run(clean, tmp_path, "run")
    assert result.exit_code == 1, result.output
    state = State.open(tmp_path / "state.sqlite")
    (row,) = state.rejected("invoices")
    assert row.moment_id == ident and row.code == "malformed"
    assert "invoiceDate" in row.reason and "amount" not in row.reason
    state.close()
    assert len(clean.dkplus.snapshot()["invoices"]) == len(_eligible(clean)) - 1


def test_a_failure_outside_every_record_is_exit_70_and_recorded(
    clean: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor bookkeeping is outside every record: a failure there has no record to
    end, so it stops the run (exit 70), which is still finished in its history."""

    def broken(*args: object) -> None:
        raise RuntimeError("bookkeeping broke")

    monkeypatch.setattr(streams, "safe_cursor", broken)
    result = _run(clean, tmp_path, "run")
    assert result.exit_code == 70, result.output
    assert "unexpected error (RuntimeError)" in result.output
    assert "Traceback" not in result.output
    state = State.open(tmp_path / "state.sqlite")
    assert state.runs()[0]["outcome"] == "failed"
    state.close()


def test_exit_70_with_json_still_prints_the_run_document(
    clean: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program reading stdout gets one well-formed document for a run stopped by an
    error with no rule: its outcome, exit code 70 and the error, and the counts so far."""

    def broken(*args: object) -> None:
        raise RuntimeError("bookkeeping broke")

    monkeypatch.setattr(streams, "safe_cursor", broken)
    result = _run(clean, tmp_path, "run", "--json")
    assert result.exit_code == 70, result.output
    document = json.loads(result.stdout)
    assert (document["outcome"], document["exit_code"]) == ("failed", 70)
    assert document["error"].startswith("unexpected error (RuntimeError)")
    assert document["counts"]["customers"]["read"] > 0
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["status"], ["history"], ["failures"], ["ledger"]])
def test_an_error_with_no_rule_outside_a_run_is_exit_70_and_its_document(
    clean: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Outside the run's own boundary too: one line, exit 70, with --json its document."""

    def broken(*args: object) -> None:
        raise RuntimeError("the state broke")

    assert _run(clean, tmp_path, "run").exit_code == 0
    monkeypatch.setattr(State, "read_only", broken)
    for json_flag in ([], ["--json"]):
        result = _run(clean, tmp_path, *command, *json_flag)
        assert result.exit_code == 70, result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        assert result.stderr.startswith("dksync: unexpected error (RuntimeError); run again")
        if json_flag:
            assert json.loads(result.stdout) == {
                "error": result.stderr.removeprefix("dksync: ").strip(),
                "exit_code": 70,
            }
