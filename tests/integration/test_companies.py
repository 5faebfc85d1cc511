"""A folder of companies: one process per company over real HTTP, the worst exit code."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from dksync.cli import app
from dksync.cli.companies import _Processes, _run_one, worst
from dksync.cli.summaries import summary
from dksync.config import load
from dksync.errors import ConfigError, UsageError
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.sandbox.receiver import Receiver
from tests.helpers import free_port

runner = CliRunner(env={"COLUMNS": "250"})


def _company(sb: Sandbox, **over: object) -> dict[str, object]:
    raw = yaml.safe_load(sb.config_yaml("unused"))
    del raw["state"], raw["sync"]
    for key, value in over.items():
        section, name = key.split("__")
        raw[section][name] = value
    return dict(raw)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def bureau(tmp_path: Path, hook: Receiver) -> Iterator[tuple[Path, list[Sandbox]]]:
    """Three companies: alpha and gamma clean, beta's DK+ down (nothing listens there)."""
    folder = tmp_path / "companies"
    folder.mkdir()
    defaults = {
        "notify": {"urls": [f"json://127.0.0.1:{hook.url.rsplit(':', 1)[1]}/hook"]},
        "sync": {"start_from": "2026-01-01T00:00:00Z", "retry_for": "2s"},
        "state": {"path": str(tmp_path / "state" / "{company}.sqlite")},
        "metrics": {"textfile": str(tmp_path / "metrics" / "dksync.prom")},
    }
    (folder / "_defaults.yaml").write_text(yaml.safe_dump(defaults))
    (folder / "_notes.yaml").write_text("not: a company\n")
    with ExitStack() as stack:
        pairs = [
            stack.enter_context(Sandbox(seed=s, dataset=generate(s, 4, 2, 5, plant=False)))
            for s in (1, 2, 3)
        ]
        dead = f"http://127.0.0.1:{free_port()}"
        for name, sb, over in (
            ("alpha", pairs[0], {}),
            ("beta", pairs[1], {"dkplus__base_url": dead}),
            ("gamma", pairs[2], {}),
        ):
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(_company(sb, **over)))
        yield folder, pairs


def test_a_folder_runs_every_company_and_exits_with_the_worst(
    bureau: tuple[Path, list[Sandbox]], hook: Receiver
) -> None:
    folder, pairs = bureau
    result = runner.invoke(app, ["-c", str(folder), "run", "--json"])
    document = json.loads(result.stdout)
    assert set(document["companies"]) == {"alpha", "beta", "gamma"}
    assert document["exit_code"] == result.exit_code == 3
    assert document["companies"]["alpha"]["outcome"] == "ok"
    assert document["companies"]["beta"]["exit_code"] == 3
    created = document["companies"]["gamma"]["counts"]["invoices"]["created"]
    assert created == len(pairs[2].dkplus.snapshot()["invoices"]) > 0
    assert pairs[0].dkplus.snapshot()["invoices"]
    assert len(pairs[1].dkplus.snapshot()["invoices"]) == 0
    table = runner.invoke(app, ["run", "-c", str(folder), "--jobs", "3"])
    assert table.exit_code == 3
    lines = [line for line in table.stdout.splitlines() if "alpha" in line or "beta" in line]
    assert len(lines) == 2 and "cannot reach DK+" in table.stdout
    assert "\n[beta] " in "\n" + table.stderr
    samples = _metrics(folder.parent / "metrics" / "dksync.prom")
    exits = {labels["company"]: v for n, labels, v in samples if n == "dksync_last_run_exit_code"}
    assert exits == {"alpha": 0, "beta": 3, "gamma": 0}
    success = {lab["company"] for n, lab, _ in samples if n.startswith("dksync_last_success")}
    assert success == {"alpha", "gamma"}
    invoices = [
        v
        for n, lab, v in samples
        if n == "dksync_records"
        and lab == {"company": "alpha", "kind": "invoices", "action": "read"}
    ]
    assert invoices and invoices[0] > 0
    queues = {n for n, lab, _ in samples if lab["company"] == "gamma"}
    assert {"dksync_rejected_records", "dksync_uncertain_invoices"} <= queues
    titles = [json.loads(r.body)["title"] for r in hook.received]
    assert len(titles) == 1, "one message for beta's problem, however many runs"
    assert titles[0].startswith("[dksync beta] run failed: cannot reach DK+ at")


def test_folder_check_failures_and_ledger(bureau: tuple[Path, list[Sandbox]]) -> None:
    folder, _ = bureau
    check = runner.invoke(app, ["check", "--json", "-c", str(folder)])
    found = json.loads(check.stdout)
    assert found["companies"]["alpha"]["ready"] is True
    assert found["companies"]["beta"]["ready"] is False
    assert (
        found["exit_code"] == check.exit_code == 1
        and "not ready: DK+ answers"
        in runner.invoke(app, ["check", "-c", str(folder), "--jobs", "3"]).stdout
    )
    runner.invoke(app, ["run", "-q", "-c", str(folder), "--company", "alpha"])
    ledger = json.loads(runner.invoke(app, ["ledger", "--json", "-c", str(folder)]).stdout)
    assert (
        ledger["companies"]["alpha"]["invoices"] and ledger["companies"]["gamma"]["invoices"] == []
    )
    table = runner.invoke(app, ["failures", "-c", str(folder)])
    assert table.exit_code == 0 and table.stdout.count("0 rejected record(s)") == 3


def _metrics(path: Path) -> list[tuple[str, dict[str, str], float]]:
    """The file read back with prometheus_client's own parser."""
    families = text_string_to_metric_families(path.read_text(encoding="utf-8"))
    return [(s.name, dict(s.labels), s.value) for f in families for s in f.samples]


def test_folder_status_history_and_one_company(bureau: tuple[Path, list[Sandbox]]) -> None:
    folder, _ = bureau
    runner.invoke(app, ["-c", str(folder), "run", "-q", "--company", "gamma"])
    status = runner.invoke(app, ["-c", str(folder), "status", "--json"])
    found = json.loads(status.stdout)["companies"]
    assert found["gamma"]["last_run"]["outcome"] == "ok" and found["alpha"]["last_run"] is None
    history = runner.invoke(app, ["history", "-c", str(folder)])
    assert history.exit_code == 0 and "newest ok" in history.stdout
    one = runner.invoke(app, ["history", "--json", "-c", str(folder), "--company", "gamma"])
    assert json.loads(one.stdout)[0]["outcome"] == "ok"
    drop = runner.invoke(app, ["-c", str(folder), "failures", "drop", "1"])
    assert drop.exit_code == 2 and "--company NAME" in drop.stderr
    by_env = runner.invoke(app, ["history", "--json"], env={"DKSYNC_CONFIG": str(folder)})
    assert set(json.loads(by_env.stdout)["companies"]) == {"alpha", "beta", "gamma"}


def test_folder_config_rules(tmp_path: Path) -> None:
    base = "moment: {company: acme, api_key: k}\ndkplus: {token: t, sales_person: '1'}\n"
    (tmp_path / "a.yaml").write_text(base)
    (tmp_path / "_defaults.yaml").write_text("dkplus: {concurrency: 2}\n")
    loaded = load(tmp_path, {"XDG_DATA_HOME": str(tmp_path)}, company="a")
    assert loaded.dkplus.concurrency == 2 and loaded.dkplus.token.reveal() == "t"
    assert loaded.state_path.name == "a.sqlite"
    with pytest.raises(UsageError, match="one of a"):
        load(tmp_path, {}, company="b")
    with pytest.raises(UsageError, match="folder of companies"):
        load(tmp_path, {})
    (tmp_path / "_defaults.yaml").write_text("state: {path: /tmp/shared.sqlite}\n")
    with pytest.raises(ConfigError, match=r"\{company\}"):
        load(tmp_path, {}, company="a")


def test_worst_exit_code_follows_the_readme_order() -> None:
    assert worst([0, 1, 6]) == 1
    assert worst([1, 3, 0]) == 3 and worst([3, 4]) == 4 and worst([4, 70, 130]) == 130
    assert worst([]) == 0 and worst([0, 99]) == 99


def test_sigterm_reaches_the_running_company_and_starts_no_other(
    bureau: tuple[Path, list[Sandbox]],
) -> None:
    folder, pairs = bureau
    pairs[0].moment.knobs.latency_ms = 150  # alpha reads slowly: the signal finds it running
    argv = [sys.executable, "-m", "dksync", "-v", "-c", str(folder), "--jobs", "1", "run", "--json"]
    parent = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert parent.stderr is not None
    for line in parent.stderr:
        if line.startswith("[alpha]") and "reading Moment changes" in line:
            break
    parent.send_signal(signal.SIGTERM)
    out, _ = parent.communicate(timeout=60)
    document = json.loads(out)
    assert parent.returncode == document["exit_code"] == 143
    assert document["companies"]["alpha"]["exit_code"] == 143
    assert document["companies"]["gamma"]["error"].startswith("not started")
    assert not pairs[2].dkplus.snapshot()["customers"]


def test_two_companies_naming_one_state_file_are_refused(tmp_path: Path) -> None:
    """A company file copied with its ``state.path`` would run the second company on the
    first's cursors: it read nothing before them and exited 0 with none of its invoices in
    DK+. Both are refused (exit 4), nothing is written, and a third company runs."""
    folder = tmp_path / "companies"
    folder.mkdir()
    shared = {"path": "../one.sqlite"}  # relative, and spelled otherwise below: one file
    with ExitStack() as stack:
        pairs = [
            stack.enter_context(Sandbox(seed=s, dataset=generate(s, 4, 2, 5, plant=False)))
            for s in (1, 2, 3)
        ]
        for name, sb, state in (
            ("alpha", pairs[0], shared),
            ("beta", pairs[1], {"path": str(tmp_path / "x" / ".." / "one.sqlite")}),
            ("gamma", pairs[2], {"path": str(tmp_path / "gamma.sqlite")}),
        ):
            raw = {**_company(sb), "state": state}
            raw["sync"] = {"start_from": "2026-01-01T00:00:00Z"}
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(raw))
        result = runner.invoke(app, ["-c", str(folder), "run", "--json"])
        document = json.loads(result.stdout)
        assert result.exit_code == document["exit_code"] == 4
        for name, other in (("alpha", "beta"), ("beta", "alpha")):
            assert document["companies"][name]["exit_code"] == 4
            assert f"also the state file of the company {other}" in result.stderr
        assert document["companies"]["gamma"]["outcome"] == "ok"
        assert not pairs[0].dkplus.snapshot()["invoices"]
        assert not pairs[1].dkplus.snapshot()["invoices"]
        assert pairs[2].dkplus.snapshot()["invoices"]


BAD_CONFIG = (
    "moment: {company: acme, api_key: k, page_size: -3}\n"
    "dkplus: {token: t, sales_person: '1', concurrency: 0, bogus: 1}\n"
)


@pytest.mark.parametrize("command", ["run", "status", "check"])
def test_a_company_with_several_config_problems_shows_them_all(
    tmp_path: Path, command: str
) -> None:
    """The bureau reads one row per company: a config with three problems names all three
    on its row (joined with "; "), and its JSON document holds the error whole."""
    folder = tmp_path / "companies"
    folder.mkdir()
    (folder / "bad.yaml").write_text(BAD_CONFIG + f"state: {{path: {tmp_path / 'b.sqlite'}}}\n")
    table = runner.invoke(app, ["-c", str(folder), command])
    assert table.exit_code == 4
    row = " ".join(line for line in table.stdout.splitlines() if "│" in line)
    for problem in ("dkplus.bogus", "dkplus.concurrency", "moment.page_size"):
        assert problem in row, (problem, table.stdout)
    assert "the config has problems: dkplus.bogus: unknown key;" in table.stdout
    document = json.loads(runner.invoke(app, ["-c", str(folder), command, "--json"]).stdout)
    error = document["companies"]["bad"]["error"]
    assert error.startswith("the config has problems:\n") and error.count("\n  - ") == 3


def test_the_whole_error_is_kept_when_a_company_prints_no_document() -> None:
    """A company's process that died without its document: its error, read from its
    stderr, is kept with every indented line, in the row and in the document."""
    lines = "dksync: it has problems:\\n  - a: x\\n  - b: y\\nlater\\n"
    say = f"import sys; sys.stderr.write('{lines}')"
    result = _run_one("co", [sys.executable, "-c", say], _Processes())
    assert result.error == "it has problems:\n  - a: x\n  - b: y"
    assert result.document["error"] == result.error
    assert summary("run", result) == "it has problems: a: x; b: y"
