"""``dksync ledger``: the audit trail read back as JSON, CSV and Excel CSV."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def test_ledger_lists_every_posted_and_adopted_invoice(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    runner.invoke(app, ["run", "-q", "-c", config])
    posted = sandbox.dkplus.snapshot()["invoices"]
    found = json.loads(runner.invoke(app, ["ledger", "--json", "-c", config]).stdout)
    rows = found["invoices"]
    assert len(rows) == len(posted) > 0 and {r["action"] for r in rows} == {"posted"}
    assert {r["run_id"] for r in rows} == {1}
    by_number = {str(p["Number"]): p for p in posted}
    for row in rows:
        dk = by_number[row["dk_number"]]
        assert row["customer"] == dk["CNumber"] and row["invoice_date"] == dk["InvoiceDate"]
        assert row["currency"] == dk["Currency"]
        assert Decimal(row["total_without_vat"]) == dk["TotalAmount"]
    again = tmp_path / "again"
    again.mkdir()
    fresh = str(config_file(sandbox, again))  # the state lost: DK+ already holds them
    runner.invoke(app, ["run", "-q", "-c", fresh])
    adopted = json.loads(runner.invoke(app, ["ledger", "--json", "-c", fresh]).stdout)
    assert {r["action"] for r in adopted["invoices"]} == {"adopted"}
    assert len(adopted["invoices"]) == len(rows)
    future = runner.invoke(
        app, ["ledger", "--json", "--from", "2099-01-01", "--to", "2099-01-31", "-c", config]
    )
    assert json.loads(future.stdout)["invoices"] == []


def test_ledger_csv_and_excel_read_back(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    runner.invoke(app, ["run", "-q", "-c", config])
    plain, excel = tmp_path / "ledger.csv", tmp_path / "ledger-excel.csv"
    assert runner.invoke(app, ["ledger", "-q", "--csv", str(plain), "-c", config]).exit_code == 0
    result = runner.invoke(app, ["ledger", "--csv", str(excel), "--excel", "-c", config])
    assert result.exit_code == 0 and "Invoices posted or adopted" in result.stdout
    assert (
        plain.read_bytes().startswith(b"\xef\xbb\xbf") and excel.read_bytes()[:3] == b"\xef\xbb\xbf"
    )
    rows = list(csv.DictReader(io.StringIO(plain.read_text(encoding="utf-8-sig"))))
    semis = list(csv.DictReader(io.StringIO(excel.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == len(semis) == len(sandbox.dkplus.snapshot()["invoices"]) > 0
    for row, semi in zip(rows, semis, strict=True):
        assert semi["total_without_vat"] == row["total_without_vat"].replace(".", ",")
        assert semi["dk_number"] == row["dk_number"] and "." not in semi["total_without_vat"]
    alone = runner.invoke(app, ["ledger", "--excel", "-c", config])
    assert alone.exit_code == 2 and "--csv" in alone.output
