"""``dksync check`` against accounts that differ from the guess (issues 9 I, 10 D, 13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def _check(config: Path, *args: str) -> Any:
    return runner.invoke(app, ["check", *args, "-c", str(config)])


@pytest.fixture
def clean() -> Iterator[Sandbox]:
    """A company without planted data problems: check judges only the setup."""
    with Sandbox(dataset=generate(5, 10, 4, 20, plant=False)) as sb:
        yield sb


def _items(result: Any, name: str) -> list[str]:
    document = json.loads(result.stdout)
    return next(c["items"] for c in document["checks"] if c["name"] == name)


def test_renamed_field_fails_with_a_ready_to_paste_line_that_fixes_it(
    clean: Sandbox, tmp_path: Path
) -> None:
    clean.moment.knobs.renamed_fields = {
        "customer.customerNumber": "number",
        "customer.phone": "tel",
    }
    config = config_file(clean, tmp_path)
    result = _check(config, "--json")
    assert result.exit_code == 1, result.output
    items = _items(result, "Moment customers")
    assert "missing or of another type: field 'customerNumber' is missing (expected text)" in items
    assert "expected but not sent: phone" in items
    assert "likely: paste under moment.field_names:  customer.customerNumber: number" in items
    assert "sent but not read by dksync: tel (text)" in items
    line = next(i for i in items if i.startswith("likely:")).split(":  ", 1)[1]
    key, value = line.split(": ")
    raw = yaml.safe_load(config.read_text())
    raw["moment"]["field_names"] = {key: value, "customer.phone": "tel"}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    fixed = _check(config, "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["ready"] is True


def test_flat_references_are_a_ready_setup(clean: Sandbox, tmp_path: Path) -> None:
    clean.moment.knobs.flat_references = True
    result = _check(config_file(clean, tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == 0


def test_a_field_sent_only_with_include_base_is_named(clean: Sandbox, tmp_path: Path) -> None:
    clean.moment.knobs.include_only = ["organizationNumber"]
    result = _check(config_file(clean, tmp_path), "--json")
    document = json.loads(result.stdout)
    item = next(c for c in document["checks"] if c["name"] == "Moment customers")
    assert item["warning"] and "expected but not sent: organizationNumber" in item["items"]
    assert "some fields come only with /include/base" in item["detail"]


def test_show_sample_masks_every_value(clean: Sandbox, tmp_path: Path) -> None:
    result = _check(config_file(clean, tmp_path), "--show-sample", "invoice")
    assert result.exit_code == 0, result.output
    sample = json.loads(result.stdout)
    invoice = clean.moment.raw("invoices", sorted(clean.moment.objects["invoices"])[0])
    assert sample["id"] == "number" and sample["invoiceDate"] == "text"
    assert sample["customer"] == {"id": "number", "customerNumber": "text"}
    assert sample["lines"][0]["quantity"] == "text"
    assert str(invoice["id"]) not in result.stdout
    assert invoice["invoiceDate"] not in result.stdout
    bad = _check(config_file(clean, tmp_path), "--show-sample", "widgets")
    assert bad.exit_code == 2 and "unknown kind 'widgets'" in bad.output


def test_unknown_company_code(clean: Sandbox, tmp_path: Path) -> None:
    config = config_file(clean, tmp_path, moment={"company": "nope"})
    result = _check(config)
    assert result.exit_code == 1
    assert "unknown company code 'nope' (moment.company)" in result.output
    run = runner.invoke(app, ["run", "-c", str(config)])
    assert run.exit_code == 4, run.output
    assert "unknown company code 'nope' (moment.company)" in run.output


def test_start_from_in_the_future_and_no_invoice_scanned_are_warnings(
    clean: Sandbox, tmp_path: Path
) -> None:
    config = config_file(clean, tmp_path, sync={"start_from": "2099-01-01T00:00:00Z"})
    result = _check(config, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    checks = {c["name"]: c for c in document["checks"]}
    assert checks["first run"]["warning"]
    assert (
        "sync.start_from 2099-01-01T00:00:00.000Z is in the future" in checks["first run"]["detail"]
    )
    assert checks["invoice data"]["warning"]
    assert checks["invoice data"]["detail"].startswith("0 invoices since 2099-01-01")
    assert document["warnings"] == 2
    assert _check(config, "--strict").exit_code == 1


@pytest.mark.parametrize(
    "patch",
    [{"invoiceState": ["finalized"]}, {"invoiceNumber": "1E+999999"}, {"invoiceDate": "soon"}],
)
def test_a_malformed_invoice_of_the_window_is_named_not_passed_over(
    clean: Sandbox, tmp_path: Path, patch: dict[str, Any]
) -> None:
    """The scan skipped a malformed invoice without a word: 'invoice data ok', and the
    first run then rejected it. It is named, as a malformed customer already was; a draft
    that is malformed is not (the run skips it)."""
    victim, draft = clean.dataset.invoices[0], clean.dataset.invoices[1]
    clean.moment.patch_raw("invoices", victim.id, patch)
    clean.moment.patch_raw("invoices", draft.id, {"invoiceState": "draft", "dueDate": "never"})
    result = _check(config_file(clean, tmp_path), "--json")
    assert result.exit_code == 1, result.output
    items = _items(result, "invoice data")
    [named] = [i for i in items if "its Moment record is malformed" in i]
    assert f"'{next(iter(patch))}'" in named, named
