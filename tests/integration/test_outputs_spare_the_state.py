"""Issue 17: nothing is written over the state. ``--log-file`` and ``reconcile --csv``
refuse the state file and its companions (-wal, -shm, .lineage), however they are spelled,
with exit 2 and a message; the state stays byte for byte what it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dksync.cli import app
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.state.store import State
from tests.helpers import config_file

runner = CliRunner(env={"COLUMNS": "250"})


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name.startswith("state.sqlite") and not p.name.endswith("-shm")
    }


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    with Sandbox(dataset=generate(5, 6, 2, 6, plant=False)) as sb:
        config = config_file(sb, tmp_path)
        assert runner.invoke(app, ["run", "-c", str(config)]).exit_code == 0
        db = State.open(tmp_path / "state.sqlite")  # leave a -wal file, as a live run does
        db.close()
        yield config


@pytest.mark.parametrize(
    "name",
    [
        "state.sqlite",
        "state.sqlite-wal",
        "state.sqlite-shm",
        "state.sqlite.lineage",
        "./sub/../state.sqlite",
    ],
)
@pytest.mark.parametrize("option", ["--log-file", "--csv", "ledger --csv"])
def test_outputs_refuse_the_state_and_its_companions(
    synced: Path, tmp_path: Path, name: str, option: str
) -> None:
    """'ledger --csv state.sqlite' wrote its CSV over the state (exit 0; every later
    command: 'file is not a database', the record of posted invoices gone)."""
    (tmp_path / "sub").mkdir(exist_ok=True)
    target = str(tmp_path / name)
    (tmp_path / "state.sqlite-wal").touch()
    (tmp_path / "state.sqlite-shm").touch()
    before = _digests(tmp_path)
    result = runner.invoke(app, _writing(option, target, synced))
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # wrapped to the terminal's width
    assert "state file" in said and "Choose another file" in said
    assert _digests(tmp_path) == before


def test_a_log_file_at_a_state_path_still_to_be_made_is_refused_and_removed(
    tmp_path: Path,
) -> None:
    with Sandbox(dataset=generate(5, 3, 1, 2, plant=False)) as sb:
        config = config_file(sb, tmp_path, state={"path": str(tmp_path / "new.sqlite")})
        result = runner.invoke(
            app, ["--log-file", str(tmp_path / "new.sqlite"), "run", "-c", str(config)]
        )
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "new.sqlite").exists()
        assert sb.moment.log == [], "refused before anything ran"


def _writing(option: str, target: str, config: Path) -> list[str]:
    if option == "--log-file":
        return ["--log-file", target, "status", "-c", str(config)]
    if option == "ledger --csv":
        return ["ledger", "--csv", target, "-c", str(config)]
    return ["reconcile", "--csv", target, "--from", "2026-01-01", "-c", str(config)]


@pytest.mark.parametrize("option", ["--log-file", "--csv", "ledger --csv"])
def test_outputs_refuse_the_config_file(synced: Path, option: str) -> None:
    """'--log-file dksync.yaml' appended log lines to the config (the next run: exit 4, not
    valid YAML); a --csv there replaced it."""
    before = synced.read_bytes()
    result = runner.invoke(app, _writing(option, str(synced), synced))
    assert result.exit_code == 2, result.output
    assert "that is the config file" in " ".join(result.output.split())
    assert synced.read_bytes() == before
    assert runner.invoke(app, ["status", "-c", str(synced)]).exit_code == 0
