"""One run at a time, truly: the lock belongs to the state file, shown with real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dksync.sandbox.pair import Sandbox
from dksync.state.lock import holder, lock_path
from tests.helpers import config_file

DKSYNC = [sys.executable, "-m", "dksync"]


def _hold(state: Path, whole_file: bool | None = None) -> subprocess.Popen[str]:
    """A separate process that takes the run lock on ``state`` and keeps it."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from dksync.state.lock import PosixLock, RunLock\n"
        f"lock = PosixLock({whole_file!r})\n"
        f"RunLock(Path({str(state)!r}), lock=lock).__enter__()\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def _try(state: Path, whole_file: bool | None = None) -> str:
    """Another process tries the lock on ``state``: 'taken' or the LockedError message."""
    code = (
        "from pathlib import Path\n"
        "from dksync.errors import LockedError\n"
        "from dksync.state.lock import PosixLock, RunLock\n"
        "try:\n"
        f"    with RunLock(Path({str(state)!r}), lock=PosixLock({whole_file!r})):\n"
        "        print('taken')\n"
        "except LockedError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    state = tmp_path / "data" / "state.sqlite"
    child = _hold(state)
    yield state, child
    child.kill()
    child.wait(timeout=10)


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DKSYNC, *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )


def _config(sb: Sandbox, folder: Path, state: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return config_file(sb, folder, state={"path": state})


def test_a_run_is_refused_while_another_process_holds_the_lock(
    sandbox: Sandbox, tmp_path: Path, held: tuple[Path, subprocess.Popen[str]]
) -> None:
    state, child = held
    result = _run(_config(sandbox, tmp_path / "a", str(state)), "run")
    assert result.returncode == 6, result.stderr
    assert f"pid {child.pid}" in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.moment.log == [], "the refused run read nothing"


def test_deleting_the_lock_sidecar_does_not_release_the_lock(
    sandbox: Sandbox, tmp_path: Path, held: tuple[Path, subprocess.Popen[str]]
) -> None:
    state, child = held
    sidecar = lock_path(state)
    assert json.loads(sidecar.read_text())["pid"] == child.pid
    sidecar.unlink()
    result = _run(_config(sandbox, tmp_path / "a", str(state)), "run")
    assert result.returncode == 6, result.stderr
    assert "another dksync run is using this state" in result.stderr
    assert holder(state) == {}, "held, though nobody says by whom any more"
    status = _run(_config(sandbox, tmp_path / "b", str(state)), "status")
    assert "yes (by whom is not known" in status.stdout, status.stderr
    assert sandbox.moment.log == []


def test_a_symlink_a_hard_link_or_another_spelling_reaches_the_same_lock(
    sandbox: Sandbox, tmp_path: Path, held: tuple[Path, subprocess.Popen[str]]
) -> None:
    state, _ = held
    link = tmp_path / "elsewhere" / "link.sqlite"
    link.parent.mkdir()
    link.symlink_to(state)
    dir_link = tmp_path / "dirlink"
    dir_link.symlink_to(state.parent, target_is_directory=True)
    (tmp_path / "x").mkdir()
    hard = tmp_path / "elsewhere" / "hard.sqlite"
    os.link(state, hard)
    spellings = [
        str(hard),
        str(link),
        str(dir_link / "state.sqlite"),
        f"{tmp_path}/x/../data/./state.sqlite",
    ]
    for number, spelling in enumerate(spellings):
        result = _run(_config(sandbox, tmp_path / f"config{number}", spelling), "run")
        assert result.returncode == 6, (spelling, result.stderr)
    assert sandbox.moment.log == []


def test_the_lock_goes_with_the_process_that_held_it(
    sandbox: Sandbox, tmp_path: Path, held: tuple[Path, subprocess.Popen[str]]
) -> None:
    state, child = held
    assert holder(state) is not None
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert holder(state) is None
    result = _run(_config(sandbox, tmp_path / "a", str(state)), "run")
    assert result.returncode in (0, 1), result.stderr
    assert sandbox.dkplus.snapshot()["invoices"], "the next run did its work"


def test_byte_range_lock_used_off_linux_behaves_the_same(tmp_path: Path) -> None:
    """The ``lockf`` variant (BSDs, macOS) exercised here with real processes on Linux."""
    state = tmp_path / "state.sqlite"
    child = _hold(state, whole_file=False)
    try:
        lock_path(state).unlink()
        assert "another dksync run" in _try(tmp_path / "." / "state.sqlite", whole_file=False)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert _try(state, whole_file=False) == "taken"


def test_two_real_runs_on_one_state_through_two_configs_post_each_invoice_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The issue's case: a second config names the same state through a symlink."""
    state = tmp_path / "one" / "state.sqlite"
    state.parent.mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "state.sqlite").symlink_to(state)
    first = _config(sandbox, tmp_path / "one", str(state))
    second = _config(sandbox, tmp_path / "two", str(tmp_path / "two" / "state.sqlite"))
    sandbox.dkplus.knobs.update({"latency_ms": 400})  # the first run is still writing when
    running = subprocess.Popen(  # the second starts, however slow the machine is
        [*DKSYNC, "run", "-c", str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while holder(state) is None and running.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert running.poll() is None, "the first run still works"
        refused = _run(second, "run")
        sandbox.dkplus.knobs.update({"latency_ms": 0})  # then let the first one finish
    finally:
        _, err = running.communicate(timeout=120)
    assert refused.returncode == 6, refused.stderr
    assert running.returncode in (0, 1), err
    references = Counter(i["Reference"] for i in sandbox.dkplus.snapshot()["invoices"])
    assert references and max(references.values()) == 1


def test_status_reads_the_state_while_another_process_holds_the_lock(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """SQLite (WAL) keeps working beside the lock on its file: a run, then status under it."""
    state = tmp_path / "state.sqlite"
    config = _config(sandbox, tmp_path, str(state))
    assert _run(config, "run").returncode in (0, 1)
    child = _hold(state)
    try:
        result = _run(config, "status", "--json")
    finally:
        child.kill()
        child.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["lock"]["pid"] == child.pid
    assert document["posted_invoices"] > 0


UNIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource", "tty", "pty")


def _without_fcntl(*args: str) -> subprocess.CompletedProcess[str]:
    """``dksync ARGS`` in a Python where ``import fcntl`` (and the other modules Windows
    lacks) fails."""
    code = (
        "import sys\n"
        f"sys.modules.update(dict.fromkeys({UNIX_ONLY!r}))\n"
        "from dksync.cli import app\n"
        f"app(prog_name='dksync', args={list(args)!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_cli_starts_where_fcntl_cannot_be_imported(tmp_path: Path) -> None:
    result = _without_fcntl("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "run" in result.stdout
    for command in ("run", "status", "check", "history", "failures"):
        assert _without_fcntl(command, "--help").returncode == 0, command


def test_a_run_without_any_file_lock_stops_with_a_state_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = _config(sandbox, tmp_path, str(tmp_path / "state.sqlite"))
    result = _without_fcntl("run", "-c", str(config))
    assert result.returncode == 5, result.stderr
    assert "no file lock" in result.stderr and "Traceback" not in result.stderr


def test_a_lock_on_a_state_under_a_file_is_a_state_error(sandbox: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    config = _config(sandbox, tmp_path / "c", str(blocker / "state.sqlite"))
    raw = yaml.safe_load(config.read_text())
    assert raw["state"]["path"].startswith(str(blocker))
    result = _run(config, "run")
    assert result.returncode == 5, result.stderr
    assert str(blocker) in result.stderr and "Traceback" not in result.stderr
    assert os.path.isfile(blocker)


def test_a_status_probe_at_the_moment_a_run_starts_does_not_refuse_the_run(
    tmp_path: Path,
) -> None:
    """``holder()`` holds a shared lock for an instant; a run starting then still starts."""
    state = tmp_path / "state.sqlite"
    state.touch()
    code = (
        "import os, time\n"
        "from dksync.state.lock import PosixLock\n"
        f"fd = os.open({str(state)!r}, os.O_RDONLY)\n"
        "assert PosixLock().acquire(fd, exclusive=False)\n"
        "print('probing', flush=True)\n"
        "time.sleep(0.2)\n"
    )
    probe = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert probe.stdout is not None and probe.stdout.readline().strip() == "probing"
        assert _try(state) == "taken"
    finally:
        probe.wait(timeout=10)
