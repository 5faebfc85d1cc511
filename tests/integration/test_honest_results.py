"""Issue 17: what a run says is what happened. Over real HTTP: the exit code comes from the
counts (a lost answer the run settled itself exits 0); an invoice changed in Moment after it
was posted is drift with its fields; a stale Moment clock is one warning per run; the
notifier runs under the run's lock and its failure is a warning; a run refused by the lock
sends nothing and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from dksync.cli import app
from dksync.config import Config
from dksync.mapping.invoices import skip_reason
from dksync.outcome import Action, RunReport
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from dksync.sync import run as engine
from tests.conftest import FAST_RETRIES, config_for
from tests.helpers import Inbox, config_file, free_port

runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture
def clean() -> Iterator[Sandbox]:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as sb:
        yield sb


def _run(settings: Config, **kwargs: object) -> RunReport:
    return engine.run(
        settings, engine.RunOptions(), engine.connect(settings, FAST_RETRIES), **kwargs
    )  # type: ignore[arg-type]


def test_a_lost_answer_the_run_settled_itself_exits_0(clean: Sandbox, tmp_path: Path) -> None:
    clean.dkplus.knobs.rewrites = [
        {
            "method": "POST",
            "path": "^/api/v1/sales/invoice$",
            "answer": "504",
            "write": True,
            "times": 1,
        }
    ]
    config = config_file(clean, tmp_path, dkplus={"timeout": 1})
    result = runner.invoke(app, ["run", "--json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert '"outcome":"ok"' in result.output
    assert clean.dkplus.faults.injected["rewrite"] == 1, "one answer was lost"
    references = [i["Reference"] for i in clean.dkplus.snapshot()["invoices"]]
    assert len(references) == len(set(references))


def test_an_invoice_changed_in_moment_after_posting_is_drift_with_its_fields(
    clean: Sandbox, tmp_path: Path
) -> None:
    settings = config_for(clean, tmp_path / "state.sqlite")
    assert _run(settings).exit_code == 0
    invoice = next(i for i in clean.dataset.invoices if skip_reason(i) is None)
    other = next(c for c in clean.dataset.customers if c.id != invoice.customer_id)

    def edit(i: object) -> object:
        line = replace(i.lines[0], quantity=i.lines[0].quantity + 1, line_total=None)  # type: ignore[attr-defined]
        return replace(  # type: ignore[type-var]
            i,
            customer_id=other.id,
            customer_number=other.number,
            lines=(line, *i.lines[1:]),  # type: ignore[attr-defined]
        )

    clean.moment.change("invoices", invoice.id, edit)
    report = _run(settings)
    [drift] = report.with_action(Action.DRIFT)
    assert drift.moment_id == invoice.id and drift.code == "drift"
    assert drift.changes["customer"][1] == other.number
    before, after = drift.changes["total"]
    assert Decimal(after) > Decimal(before)
    assert "credit it in DK+" in drift.detail
    assert len(clean.dkplus.snapshot()["invoices"]) == len(
        [i for i in clean.dataset.invoices if skip_reason(i) is None]
    ), "DK+ is never changed"


def test_an_invoice_renumbered_in_moment_after_posting_is_drift_not_unchanged(
    clean: Sandbox, tmp_path: Path
) -> None:
    """Moment invoice id X posted as 1001 (DK+ Reference 1001) that Moment now numbers 4242:
    the run said 'unchanged', exit 0, and reconcile later called it missing ('deleted or
    renumbered in DK+?'). It is drift naming both numbers; DK+ is not changed."""
    settings = config_for(clean, tmp_path / "state.sqlite")
    assert _run(settings).exit_code == 0
    invoice = next(i for i in clean.dataset.invoices if skip_reason(i) is None)
    clean.moment.patch_raw("invoices", invoice.id, {"invoiceNumber": 4242})
    report = _run(settings)
    [drift] = report.with_action(Action.DRIFT)
    assert drift.moment_id == invoice.id and drift.code == "drift"
    assert drift.changes == {"number": (str(invoice.number), "4242")}
    assert f"number {invoice.number} → 4242" in drift.detail
    references = [i["Reference"] for i in clean.dkplus.snapshot()["invoices"]]
    assert "4242" not in references and str(invoice.number) in references


@pytest.mark.parametrize(
    ("patch", "state"),
    [
        ({"invoiceState": "draft"}, "draft"),
        ({"accountingExportState": "doNotTransfer"}, "do not transfer"),
    ],
)
def test_a_posted_invoice_moment_calls_a_draft_again_is_drift_not_skipped(
    clean: Sandbox, tmp_path: Path, patch: dict[str, str], state: str
) -> None:
    """Posted as DK+ N, then a draft again in Moment (or 'do not transfer'): the run said
    'skipped: draft: not final in Moment yet', which reads as 'not in DK+'. It is drift."""
    settings = config_for(clean, tmp_path / "state.sqlite")
    assert _run(settings).exit_code == 0
    invoice = next(i for i in clean.dataset.invoices if skip_reason(i) is None)
    clean.moment.patch_raw("invoices", invoice.id, patch)
    report = _run(settings)
    [drift] = report.with_action(Action.DRIFT)
    assert drift.moment_id == invoice.id and drift.changes == {"state": ("final", state)}
    assert report.with_action(Action.SKIP) == []


def test_a_stale_moment_clock_is_one_warning_per_run(clean: Sandbox, tmp_path: Path) -> None:
    for customer in clean.dataset.customers[:4]:
        clean.moment.patch_raw("customers", customer.id, {"phone": "5551234"})
    for invoice in clean.dataset.invoices[:3]:
        clean.moment.patch_raw("invoices", invoice.id, {"currencyCode": "ISK"})
    clean.moment.knobs.clock_offset_s = -30 * 24 * 3600.0
    report = _run(config_for(clean, tmp_path / "state.sqlite"))
    clock = [w for w in report.warnings if "later than Moment's clock" in w]
    assert len(clock) == 1, report.warnings
    assert "more like it" in clock[0]


def test_a_failing_notifier_is_a_warning_not_a_traceback(clean: Sandbox, tmp_path: Path) -> None:
    def broken(config: Config, report: RunReport) -> None:
        raise RuntimeError("the mail server melted")

    report = _run(config_for(clean, tmp_path / "state.sqlite"), notifier=broken)
    assert report.fatal is None and report.exit_code == 0
    assert any("notification could not be sent" in w for w in report.warnings)


def test_a_run_refused_by_the_lock_sends_nothing_and_writes_nothing(
    clean: Sandbox, tmp_path: Path
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        email = {
            "to": ["a@example.is"],
            "from": "d@example.is",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
        }
        config = config_file(clean, tmp_path, email=email)
        state = tmp_path / "state.sqlite"
        with RunLock(state):
            refused = runner.invoke(app, ["run", "-c", str(config)])
        assert refused.exit_code == 6, refused.output
        assert inbox.messages == [], "a refused run sends nothing"
        assert not state.exists() or state.stat().st_size == 0, "nothing written"
    finally:
        smtp.stop()
