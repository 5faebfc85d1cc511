"""A new user's first hour, command by command: exit code, what is printed (at 80 columns),
and what the state file and DK+ hold afterwards."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.cli.argv import hoist_globals
from dksync.cli.sandbox import SANDBOX_MARK, _write_sandbox_config
from dksync.errors import ConfigError
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.lock import RunLock
from dksync.state.store import State
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "80"})


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def _writes(sandbox: Sandbox) -> list[Any]:
    return [e for e in sandbox.dkplus.log if e.method != "GET"]


def _wide_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line.rstrip()) > 80]


def test_version() -> None:
    result = _invoke("--version")
    assert result.exit_code == 0 and re.fullmatch(r"dksync \d+\.\d+\.\d+\n", result.stdout)


def test_global_options_are_moved_before_the_command() -> None:
    assert hoist_globals(["failures", "-c", "x.yaml", "drop", "3", "-q"]) == [
        "-c",
        "x.yaml",
        "-q",
        "failures",
        "drop",
        "3",
    ]
    assert hoist_globals(["run", "-vv", "--log-file=a.log", "--", "-q"]) == [
        "-vv",
        "--log-file=a.log",
        "run",
        "--",
        "-q",
    ]


# --- dry runs write nothing -------------------------------------------------------------


def test_dry_run_creates_no_state_and_no_lock_file(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = _invoke("run", "--dry-run", "-c", config)
    assert result.exit_code == 1, result.output
    assert sorted(_files(tmp_path)) == ["dksync.yaml"]
    assert _writes(sandbox) == []
    plan = re.findall(
        r"^(customer|project|product|invoice) +(\S+) +(?:would \w+|unchanged|drift)",
        result.stdout,
        re.M,
    )
    kinds = [kind for kind, _ in plan]
    order = ["customer", "project", "product", "invoice"]
    assert kinds == sorted(kinds, key=order.index) and set(kinds) == set(order)
    invoices = [int(n) for kind, n in plan if kind == "invoice" and n.isdigit()]
    assert invoices == sorted(invoices) and len(invoices) > 10
    assert "would create" in result.stdout and "would reject" in result.stdout
    assert _wide_lines(result.stdout) == []


def test_dry_run_reads_an_existing_state_without_touching_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    assert _invoke("run", "-c", config).exit_code == 1
    before = _files(tmp_path)
    posted = len(sandbox.dkplus.snapshot()["invoices"])
    result = _invoke("run", "--dry-run", "-c", config)
    assert result.exit_code == 1, result.output
    assert _files(tmp_path) == before, "the state file or its side files changed"
    assert "would create" not in result.stdout, "what is in the state is known, not redone"
    assert len(sandbox.dkplus.snapshot()["invoices"]) == posted


def test_dry_run_verbose_indents_payloads_under_each_record(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = _invoke("run", "--dry-run", "--only", "customer", "-c", config, "-v")
    assert result.exit_code == 1
    assert re.search(
        r"^customer 10001 +would create\n    \{\n      \"Number\": \"10001\",", result.stdout, re.M
    )


def test_resync_dry_run_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = _invoke("resync", "invoices", "1001", "--dry-run", "-c", config)
    assert result.exit_code == 0, result.output
    assert re.search(r"^invoice +1001 +would create", result.stdout, re.M)
    assert "dksync resync --dry-run: nothing was written" in result.stdout
    assert sorted(_files(tmp_path)) == ["dksync.yaml"] and _writes(sandbox) == []
    real = _invoke("resync", "invoice", "1001", "-c", config)
    assert real.exit_code == 0 and len(sandbox.dkplus.snapshot()["invoices"]) == 1
    again = _invoke("resync", "invoice", "1001", "-c", config)
    assert re.search(r"invoice +1001 +unchanged +already in DK\+ as 9\d{4}", again.stdout)
    assert "dksync resync" in again.stdout
    assert len(sandbox.dkplus.snapshot()["invoices"]) == 1


# --- -c anywhere, one vocabulary ------------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        ["failures", "-c", "{c}", "drop", "{id}"],
        ["failures", "drop", "{id}", "-c", "{c}"],
        ["-c", "{c}", "failures", "drop", "{id}"],
        ["--config={c}", "failures", "drop", "{id}"],
    ],
)
def test_config_option_in_every_position(
    order: list[str], sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = config_file(sandbox, folder)
    text = config.read_text().replace(str(folder / "state.sqlite"), "state.sqlite")
    config.write_text(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert _invoke("run", "-c", str(config)).exit_code == 1
    assert (folder / "state.sqlite").exists() and list(elsewhere.iterdir()) == []
    row = json.loads(_invoke("failures", "--json", "-c", str(config)).stdout)[0]
    args = [a.format(c=config, id=row["id"]) for a in order]
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    assert f"Dropped {row['object'][:-1]} {row['number']}" in result.stdout
    state = State.open(folder / "state.sqlite")
    assert [r.id for r in state.rejected(include_dropped=True) if r.dropped_at] == [row["id"]]
    state.close()


def test_kinds_singular_or_plural_everywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    result = _invoke("run", "--only", "customer,project", "-c", config)
    assert result.exit_code == 1 and sandbox.dkplus.snapshot()["invoices"] == []
    assert len(sandbox.dkplus.snapshot()["projects"]) == 15
    assert _invoke("show", "customers", "10001", "-c", config).exit_code == 0
    assert _invoke("show", "customer", "10001", "-c", config).exit_code == 0
    bad = _invoke("resync", "order", "1", "-c", config)
    assert bad.exit_code == 2 and "unknown object type 'order'" in bad.output
    assert "Usage: dksync resync [OPTIONS] KIND NUMBER" in bad.output


def test_quiet_prints_nothing_and_the_log_ends_with_the_outcome(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    log = tmp_path / "dksync.log"
    result = _invoke("run", "-c", config, "-q", "--log-file", str(log))
    assert result.exit_code == 1 and result.stdout == ""
    last = log.read_text().splitlines()[-1]
    assert "INFO dksync.run: run finished: rejected (exit 1); customers 40 read," in last
    assert "needs attention: customer 1000100010001 (customer number" in last
    assert "invoice 1009 (customer 10004 has no kennitala" in last


# --- failures, show, history, status ------------------------------------------------------


def test_drop_undrop_and_the_dropped_mark(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    _invoke("run", "-c", config)
    rows = json.loads(_invoke("failures", "--json", "-c", config).stdout)
    invoice = next(r for r in rows if r["object"] == "invoices")
    ident = str(invoice["id"])
    dropped = _invoke("failures", "drop", ident, "--note", "paid by hand", "-c", config)
    assert dropped.exit_code == 0 and f"dksync failures undrop {ident}" in dropped.stdout
    listed = _invoke("failures", "-c", config).stdout
    assert f"invoice {invoice['number']}" not in listed
    everything = _invoke("failures", "--all", "-c", config).stdout
    assert re.search(r"DROPPED \d{4}-\d\d-\d\d \d\d:\d\dZ: paid by hand\. ", everything)
    assert _wide_lines(everything) == []
    undone = _invoke("failures", "undrop", ident, "-c", config)
    assert undone.exit_code == 0 and "the next run tries it again" in undone.stdout
    twice = _invoke("failures", "undrop", ident, "-c", config)
    assert twice.exit_code == 1 and f"no dropped record has ID {ident}" in twice.output
    _invoke("run", "-c", config)
    state = State.open(tmp_path / "state.sqlite")
    row = next(r for r in state.rejected("invoices") if r.id == invoice["id"])
    assert row.dropped_at is None and row.attempts == 2, "retried again after the undrop"
    kinds = [kind for _, kind, _ in state.events()]
    state.close()
    assert kinds[:2] == ["undrop", "drop"]


def test_show_one_record(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    _invoke("run", "-c", config)
    posted = json.loads(_invoke("show", "invoice", "1001", "--json", "-c", config).stdout)
    assert posted["moment_id"] > 0 and posted["invoice"]["status"] == "posted"
    numbers = {int(i["Number"]) for i in sandbox.dkplus.snapshot()["invoices"]}
    assert posted["invoice"]["dk_number"] in numbers
    shown = _invoke("show", "invoice", "1001", "-c", config)
    assert shown.exit_code == 0 and re.search(r"DK\+ number\s+9\d{4}", shown.stdout)
    customer = json.loads(_invoke("show", "customer", "10001", "--json", "-c", config).stdout)
    assert customer["written"]["number"] == "10001" and customer["rejections"] == []
    rejected = json.loads(_invoke("show", "invoice", "1009", "--json", "-c", config).stdout)
    assert "kennitala" in rejected["rejections"][0]["reason"] and rejected["invoice"] is None
    unknown = _invoke("show", "invoice", "999999", "-c", config)
    assert unknown.exit_code == 1 and "dksync has no record of invoice 999999" in unknown.stdout


def test_nothing_changed_instead_of_empty_tables(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 6, 2, 5, plant=False)) as clean:
        config = str(config_file(clean, tmp_path, sync={"lookback": "0s"}))
        assert _invoke("run", "-c", config).exit_code == 0
        again = _invoke("run", "-c", config)
        dry = _invoke("run", "--dry-run", "-c", config)
    assert again.exit_code == 0
    assert re.fullmatch(
        r"Nothing changed in Moment since 2026-\d\d-\d\d \d\d:\d\d UTC \(\d+ read again, "
        r"unchanged\): nothing was written\.\n",
        again.stdout,
    )
    assert "nothing would be written." in dry.stdout


def test_history_and_status_fit_80_columns_and_name_a_running_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = str(config_file(sandbox, tmp_path))
    _invoke("run", "-c", config)
    history = _invoke("history", "-c", config).stdout
    assert _wide_lines(history) == [] and re.search(
        r"1 +\d{4}-\d\d-\d\d \d\d:\d\dZ +\d+s +rejected", history
    )
    state = State.open(tmp_path / "state.sqlite")
    state.start_run()
    state.close()
    with RunLock(tmp_path / "state.sqlite"):
        going = json.loads(_invoke("status", "--json", "-c", config).stdout)
        shown = _invoke("status", "-c", config).stdout
    assert going["last_run"]["outcome"] == "running" and ": running;" in shown
    assert _wide_lines(shown) == []
    after = json.loads(_invoke("history", "--json", "-c", config).stdout)
    assert [r["outcome"] for r in after] == ["interrupted", "rejected"]
    assert after[1]["counts"]["customers"]["read"] == 40


def test_sandbox_config_never_replaces_a_real_one(tmp_path: Path) -> None:
    real = tmp_path / "dksync.yaml"
    real.write_text("moment: {company: acme}\n")
    with pytest.raises(ConfigError, match="is not a sandbox config"):
        _write_sandbox_config(real, f"{SANDBOX_MARK}\nmoment: {{}}\n")
    assert real.read_text() == "moment: {company: acme}\n"
    ours = tmp_path / "sandbox.yaml"
    _write_sandbox_config(ours, f"{SANDBOX_MARK}\nfirst\n")
    _write_sandbox_config(ours, f"{SANDBOX_MARK}\nsecond\n")
    assert ours.read_text().endswith("second\n")
    assert os.access(ours, os.R_OK)


def test_a_start_from_in_the_future_is_named(tmp_path: Path) -> None:
    with Sandbox(dataset=generate(5, 6, 2, 5, plant=False)) as clean:
        config = str(config_file(clean, tmp_path, sync={"start_from": "2099-01-01T00:00:00Z"}))
        dry = _invoke("run", "--dry-run", "-c", config)
    assert dry.exit_code == 0
    assert dry.stdout == (
        "Nothing changed in Moment since 2099-01-01 00:00 UTC (sync.start_from, which is in "
        "the future): nothing would be written.\n"
    )


def test_reading_commands_create_no_state(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    for args in (["status"], ["history"], ["failures", "--all"], ["show", "invoice", "1001"]):
        result = _invoke(*args, "-c", config)
        assert result.exit_code == (1 if args[0] == "show" else 0), result.output
    assert sorted(_files(tmp_path)) == ["dksync.yaml"]
    assert "not started" in _invoke("status", "-c", config).stdout
    assert _invoke("history", "-c", config).stdout == "No runs yet.\n"


def test_reading_commands_still_refuse_a_state_path_that_cannot_be(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    config = config_file(sandbox, tmp_path, state={"path": str(tmp_path / "plain" / "s.sqlite")})
    for args in (["run", "--dry-run"], ["show", "invoice", "1001"], ["failures", "--all"]):
        result = _invoke(*args, "-c", str(config))
        assert result.exit_code == 5, (args, result.output)
        assert str(tmp_path / "plain") in result.output
