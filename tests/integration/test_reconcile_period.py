"""``reconcile`` reads the period: Moment's invoices through the invoice-date filter (each
date checked), the customers and accounts those invoices name through the id filter; the
whole lists only when Moment ignores a filter, with the same result."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.mapping.invoices import skip_reason
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def _month(sb: Sandbox) -> tuple[str, str, int]:
    """The month holding most final invoices, and how many it holds."""
    months: dict[str, int] = {}
    for invoice in sb.dataset.invoices:
        if skip_reason(invoice) is None:
            key = invoice.invoice_date.strftime("%Y-%m")
            months[key] = months.get(key, 0) + 1
    month = max(months, key=lambda k: months[k])
    first = date.fromisoformat(f"{month}-01")
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1).toordinal() - 1
    return first.isoformat(), date.fromordinal(last).isoformat(), months[month]


def _reconcile(sb: Sandbox, config: Path) -> tuple[dict[str, Any], list[Any]]:
    first, last, _ = _month(sb)
    before = len(sb.moment.log)
    done = runner.invoke(
        app, ["reconcile", "--json", "--from", first, "--to", last, "-c", str(config)]
    )
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout), sb.moment.log[before:]


@pytest.mark.parametrize("ignored", [False, True])
def test_reconcile_reads_the_period_and_what_it_names(tmp_path: Path, ignored: bool) -> None:
    with Sandbox(dataset=generate(7, 30, 5, 120, plant=False)) as sb:
        config = config_file(sb, tmp_path)
        assert runner.invoke(app, ["run", "-q", "-c", str(config)]).exit_code == 0
        sb.moment.knobs.update({"ignore_invoice_date": ignored, "ignore_ids": ignored})
        document, log = _reconcile(sb, config)
        assert document["matched"] == _month(sb)[2] and document["problems"] == []
        invoice_reads = [e for e in log if e.path.endswith("/invoices")]
        dated = [e for e in invoice_reads if "invoiceDateFrom" in e.query]
        whole = [e for e in invoice_reads if "invoiceDateFrom" not in e.query]
        by_ids = {e.path.rsplit("/", 1)[1] for e in log if "ids" in e.query}
        assert dated, "the period is asked for"
        assert bool(whole) is ignored, "the whole list only when Moment ignores the filter"
        assert by_ids == {"customers", "financialAccounts"}
        named = [e for e in log if e.path.endswith(("/customers", "/financialAccounts"))]
        assert all("ids" in e.query for e in named) is not ignored


@pytest.mark.parametrize(
    "option",
    [["--from", "0001-01-01"], ["--to", "9999-12-31"]],
)
@pytest.mark.parametrize("command", ["reconcile", "ledger"])
def test_a_date_at_the_ends_of_the_calendar_is_a_usage_error_not_a_traceback(
    tmp_path: Path, option: list[str], command: str
) -> None:
    """'reconcile --from 0001-01-01' widened the period by a day to ask DK+: OverflowError,
    a traceback and exit 1. Dates take years 1900..2999, as Moment's do."""
    with Sandbox(dataset=generate(7, 5, 2, 6, plant=False)) as sb:
        config = config_file(sb, tmp_path)
        done = runner.invoke(app, [command, *option, "-c", str(config)])
        assert done.exit_code == 2, done.output
        assert isinstance(done.exception, SystemExit), done.exception
        assert "1900..2999" in done.output
