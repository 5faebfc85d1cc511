"""Start-up: printing the version or the help loads the command line and nothing it does
not need (no HTTP library, engine, check, reconcile, config loader or table renderer), so a
cron job's ``dksync`` spends its time syncing, not importing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dksync import __version__

HEAVY = (
    "requests",
    "urllib3",
    "yaml",
    "rich",
    "dksync.sync.run",
    "dksync.ops.check",
    "dksync.reconcile",
    "dksync.config",
    "dksync.state.store",
    "pydantic",
)

PROBE = """
import json, runpy, sys
sys.argv = ["dksync", *sys.argv[1:]]
try:
    runpy.run_module("dksync", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _loaded(*args: str) -> tuple[str, int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, int(report["code"] or 0), list(report["modules"])


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("run", "--help")])
def test_version_and_help_import_no_heavy_module(args: tuple[str, ...]) -> None:
    stdout, code, modules = _loaded(*args)
    assert code == 0
    assert stdout.strip()
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_version_is_the_package_version() -> None:
    stdout, code, _ = _loaded("--version")
    assert (code, stdout) == (0, f"dksync {__version__}\n")


def test_options_are_read_without_pydantic(tmp_path: Path) -> None:
    """Typer's Pydantic adapters cost more start-up than a no-change sync; dksync's own
    options (a path, whole numbers in range, a list of kinds) are read without them."""
    missing = str(tmp_path / "absent.yaml")
    _, code, modules = _loaded("-q", "-c", missing, "history", "--limit", "5")
    assert code == 4
    assert "pydantic" not in modules


def test_a_bad_option_value_still_gets_typers_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dksync", "run", "--limit", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Invalid value for '--limit'" in done.stderr


def _commands(args: list[str]) -> list[str]:
    from typer.main import get_command

    from dksync.cli import for_arguments

    return sorted(get_command(for_arguments(args)).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["-q", "run", "--json"], ["run"]),
        (["-c", "run", "run"], ["run"]),  # a config file called 'run' is not the command
        (["status", "-c", "x.yaml"], ["status"]),
        (["failures", "drop", "5"], ["failures"]),
    ],
)
def test_a_named_command_is_the_only_one_built(args: list[str], built: list[str]) -> None:
    assert _commands(args) == built


@pytest.mark.parametrize("args", [[], ["--help"], ["sync"], ["-q", "rn"], ["--version"]])
def test_without_a_known_command_every_command_is_built(args: list[str]) -> None:
    from dksync.cli import app

    assert _commands(args) == _commands(["--help"])
    assert len(_commands(args)) == len(app.registered_commands) + len(app.registered_groups)


def test_a_misspelt_command_is_still_told_the_right_one() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dksync", "sync"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "No such command 'sync'. Did you mean 'run'?" in done.stderr
