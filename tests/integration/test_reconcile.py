"""``dksync reconcile`` against the sandbox: planted problems found exactly, nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from rich.console import Console
from typer.testing import CliRunner

from dksync import config as config_module
from dksync.cli import app
from dksync.cli.reconcile import progress
from dksync.clients import connect
from dksync.mapping.invoices import skip_reason
from dksync.reconcile import gather
from dksync.reconcile.gather import Period
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from tests.conftest import FAST_RETRIES
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})
INVOICE_POST = "/api/v1/sales/invoice"
FIRST_PAGE = re.compile(r"/sales/invoice/reference/([^/]+)/1/[0-9]+$")


def _final_numbers(sb: Sandbox) -> list[str]:
    return [str(i.number) for i in sb.dataset.invoices if skip_reason(i) is None]


def _sync(config: Path, expect: int) -> None:
    result = runner.invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == expect, result.output


def _reconcile(config: Path, *args: str, expect: int) -> dict[str, Any]:
    result = runner.invoke(app, ["reconcile", "--json", "-c", str(config), *args])
    assert result.exit_code == expect, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _dk_invoice(sb: Sandbox, reference: str) -> dict[str, Any]:
    return next(i for i in sb.dkplus.snapshot()["invoices"] if i["Reference"] == reference)


def _posted_body(sb: Sandbox, reference: str) -> dict[str, Any]:
    body: dict[str, Any] = next(
        e.body
        for e in sb.dkplus.log
        if e.method == "POST" and e.path == INVOICE_POST and e.body["Reference"] == reference
    )
    return body


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file's digest, except SQLite's shared-memory and empty write-ahead files, which
    any reader of a WAL database may create (they hold no data)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not (p.name.endswith("-shm") or (p.name.endswith("-wal") and not p.stat().st_size))
    }


def test_a_clean_sync_reconciles_to_zero_problems_in_few_requests(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 12, 4, 40, plant=False)) as clean:
        config = config_file(clean, tmp_path)
        _sync(config, expect=0)
        clean.dkplus.knobs.update({"list_page_cap": 7})  # short pages must not end the list
        before, logged = _fingerprint(tmp_path), len(clean.dkplus.log)
        moment_logged = len(clean.moment.log)
        document = _reconcile(config, "--from", "2026-01-01", "--to", "2026-12-31", expect=0)
        finals = _final_numbers(clean)
        assert document == {
            "from": "2026-01-01",
            "to": "2026-12-31",
            "matched": len(finals),
            "problems": [],
        }
        during = clean.dkplus.log[logged:]
        assert {(e.method, e.path.rsplit("/", 2)[0]) for e in during} == {
            ("GET", "/api/v1/sales/invoice/page")
        }
        assert len(during) == math.ceil(len(finals) / 7) + 1  # the pages, then an empty one
        moment_paths = {e.path for e in clean.moment.log[moment_logged:]}
        assert len(moment_paths) == 3  # the invoice, customer and account lists, no single GET
        assert _fingerprint(tmp_path) == before  # state untouched, no lock or CSV file


def test_each_planted_problem_is_found_exactly(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path)
    _sync(config, expect=1)  # the generated company has invoices dksync rejects
    finals = _final_numbers(sandbox)
    posted = sorted({i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"]}, key=int)
    rejected = sorted(set(finals) - set(posted), key=int)
    assert rejected, "the generated company plants invoices dksync rejects"
    twice, edited, deleted, moved = posted[0], posted[1], posted[2], posted[3]
    first = _dk_invoice(sandbox, twice)["Number"]
    second = sandbox.dkplus.add_invoice(_posted_body(sandbox, twice))["Number"]
    old_total = _dk_invoice(sandbox, edited)["TotalAmount"]
    sandbox.dkplus.edit_invoice(
        _dk_invoice(sandbox, edited)["Number"], {"TotalAmount": old_total + 5}
    )
    gone = _dk_invoice(sandbox, deleted)["Number"]
    assert requests.delete(f"{sandbox.dkplus.url}/_sandbox/invoice/{gone}", timeout=5).ok
    shifted = _dk_invoice(sandbox, moved)
    sandbox.dkplus.edit_invoice(
        shifted["Number"], {"CNumber": "99999", "Currency": "EUR", "InvoiceDate": "2026-01-25"}
    )

    document = _reconcile(config, expect=1)
    problems = {p["invoice"]: p for p in document["problems"]}
    assert document["matched"] == len(finals) - len(rejected) - 4
    assert set(problems) == {twice, edited, deleted, moved, *rejected}
    assert problems[twice]["kind"] == "duplicate"
    assert problems[twice]["dk_numbers"] == [str(first), str(second)]
    assert problems[edited]["kind"] == "differs"
    assert problems[edited]["detail"] == (
        f"total without VAT: Moment {old_total}, DK+ {old_total + 5}"
    )
    assert problems[deleted]["kind"] == "missing" and problems[deleted]["dk_numbers"] == []
    assert f"dksync posted it as DK+ {gone}" in problems[deleted]["detail"]
    detail = problems[moved]["detail"]
    assert "customer number: Moment " in detail and ", DK+ 99999" in detail
    assert "currency: Moment ISK, DK+ EUR" in detail
    assert "invoice date: Moment 2026-01-" in detail and ", DK+ 2026-01-25" in detail
    assert "total without VAT" not in detail
    for number in rejected:
        assert problems[number]["kind"] == "missing"
        assert problems[number]["detail"].startswith("rejected by dksync: ")
    assert [p["invoice"] for p in document["problems"]] == sorted(problems, key=int)


def test_table_and_csv_show_the_same_rows(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path)
    _sync(config, expect=1)
    out = tmp_path / "problems.csv"
    result = runner.invoke(app, ["reconcile", "--csv", str(out), "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert "Reconciliation 2026-01-01 to" in result.output and "disagree" in result.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["kind", "invoice", "dk_numbers", "detail"]
    assert rows[1:] and all(r[0] == "missing" and r[2] == "" for r in rows[1:])
    for row in rows[1:]:
        assert row[1] in result.output


def test_without_lists_it_looks_each_invoice_up(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path)
    _sync(config, expect=1)
    with_lists = _reconcile(config, expect=1)
    for knobs in ({"lists_status": 405}, {"lists_status": 404, "list_page_cap": 1}):
        sandbox.dkplus.knobs.update(knobs)
        logged = len(sandbox.dkplus.log)
        result = runner.invoke(app, ["reconcile", "--json", "-c", str(config)])
        assert result.exit_code == 1
        assert json.loads(result.stdout) == with_lists
        assert "looking" in result.stderr and "one by one" in result.stderr
        first_pages = (FIRST_PAGE.search(e.path) for e in sandbox.dkplus.log[logged:])
        looked_up = [found.group(1) for found in first_pages if found]
        assert sorted(looked_up) == sorted(_final_numbers(sandbox))  # each once, page 1


def test_usage_config_service_and_state_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    config = config_file(sandbox, tmp_path)
    later = runner.invoke(
        app, ["reconcile", "-c", str(config), "--from", "2026-02-01", "--to", "2026-01-01"]
    )
    assert later.exit_code == 2 and "after --to" in later.output
    bad = runner.invoke(app, ["reconcile", "-c", str(config), "--from", "1 Jan"])
    assert bad.exit_code == 2 and "not a date" in bad.output
    missing = runner.invoke(app, ["reconcile", "-c", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 4
    (tmp_path / "unset").mkdir()
    unset = config_file(sandbox, tmp_path / "unset", sync={"start_from": None})
    no_start = runner.invoke(app, ["reconcile", "-c", str(unset)])
    assert no_start.exit_code == 2 and "give --from" in no_start.output
    unwritable = str(tmp_path / "no" / "such" / "folder.csv")
    no_csv = runner.invoke(app, ["reconcile", "-c", str(config), "--csv", unwritable])
    assert no_csv.exit_code == 2 and "cannot write" in no_csv.output
    (tmp_path / "state.sqlite").write_text("not a database")
    broken = runner.invoke(app, ["reconcile", "-c", str(config)])
    assert broken.exit_code == 5 and "state file" in broken.stderr
    (tmp_path / "state.sqlite").unlink()
    sandbox.dkplus.knobs.update({"error_rate": 1.0})
    down = runner.invoke(app, ["reconcile", "-c", str(config)])
    assert down.exit_code == 3 and "Traceback" not in down.output
    assert sandbox.dkplus.token not in down.output + down.stderr


def test_never_synced_invoices_are_missing_as_never_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    document = _reconcile(config_file(sandbox, tmp_path), expect=1)
    assert document["matched"] == 0
    details = {p["detail"].split(":")[0] for p in document["problems"]}
    assert details == {"never sent"}
    assert not (tmp_path / "state.sqlite").exists()


def test_progress_shows_what_was_read_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    screen = io.StringIO()
    with progress(Console(file=screen, force_terminal=True, width=120)) as tick:
        for _ in range(3):
            tick("Moment invoices")
        tick("DK+ invoices")
    assert "read Moment invoices: 3, DK+ invoices: 1" in screen.getvalue()
    with progress() as quiet:  # stderr is no terminal under pytest: nothing is drawn
        quiet("Moment invoices")
    assert capsys.readouterr().err == ""


def test_transient_faults_on_both_services_do_not_change_the_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_file(sandbox, tmp_path)
    _sync(config, expect=1)
    settings = config_module.load(config)
    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    calm = gather.run(settings, period, connect(settings, FAST_RETRIES))
    sandbox.dkplus.knobs.update({"error_rate": 0.3, "burst_rate": 0.1, "burst_length": 2})
    sandbox.moment.knobs.update({"error_rate": 0.3})
    stormy = gather.run(settings, period, connect(settings, FAST_RETRIES))
    assert stormy == calm and calm.problems
    dk_faults = sandbox.dkplus.faults.injected
    assert dk_faults["5xx"] + dk_faults["429"] > 0 and sandbox.moment.faults.injected["5xx"] > 0


def test_an_invoice_that_cannot_be_read_or_mapped_is_a_problem_never_agreement(
    tmp_path: Path,
) -> None:
    """Issue 17: reconcile says "agree" only for what it compared."""
    with Sandbox(dataset=generate(5, 12, 4, 20, plant=False)) as clean:
        config = config_file(clean, tmp_path)
        _sync(config, expect=0)
        finals = sorted(
            (i for i in clean.dataset.invoices if skip_reason(i) is None), key=lambda i: i.id
        )
        garbled, unmappable = finals[0], finals[1]
        clean.moment.patch_raw("invoices", garbled.id, {"lines": "not a list"})
        lines = clean.moment.raw("invoices", unmappable.id)["lines"]
        lines[0]["quantity"] = "NaN"
        clean.moment.patch_raw("invoices", unmappable.id, {"lines": lines})
        document = _reconcile(config, "--from", "2026-01-01", "--to", "2026-12-31", expect=1)
        kinds = {p["invoice"]: p["kind"] for p in document["problems"]}
        assert kinds == {str(garbled.number): "unreadable", str(unmappable.number): "unreadable"}
        assert document["matched"] == len(finals) - 2
        table = runner.invoke(app, ["reconcile", "-c", str(config), "--from", "2026-01-01"])
        assert "disagree" in table.output and "unreadable" in table.output
