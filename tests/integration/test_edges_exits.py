"""Bad states, configs and options end with one clear line and their documented exit code:
never a traceback (README: 2 usage, 4 config, 5 state)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

COMMANDS = (["run"], ["status"], ["history"], ["failures"])


def _dksync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dksync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )


def _fails(code: int, *args: str) -> str:
    """Runs dksync, checks its exit code and that it printed no traceback; its stderr."""
    done = _dksync(*args)
    assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith(("dksync: ", "Usage: ")), done.stderr
    return done.stderr


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """``path`` (a folder or a file) made truly unwritable. Root ignores file modes, so as
    root this bind-mounts it read-only; where that is not allowed the test is skipped."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    bind = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("root without mount rights: no way to make a file unwritable here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def synced(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A config whose state (in its own folder) holds one real run."""
    (tmp_path / "state").mkdir()
    config = config_file(sandbox, tmp_path, state={"path": str(tmp_path / "state" / "s.sqlite")})
    assert _dksync("run", "-c", str(config)).returncode in (0, 1)
    return config


def test_a_malformed_sqlite_page_is_a_state_error_for_every_command(
    synced: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "s.sqlite"
    data = bytearray(state.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 4 * page, "several pages"
    data[page:] = b"\xa5" * (len(data) - page)  # page 1 (header, schema) intact
    state.write_bytes(bytes(data))
    for command in COMMANDS:
        message = _fails(5, *command, "-c", str(synced))
        assert f"the state file {state} cannot be used (" in message
        assert "malformed" in message or "not a database" in message


def test_a_read_only_state_folder_is_a_state_error(synced: Path, tmp_path: Path) -> None:
    with _read_only(tmp_path / "state"):
        message = _fails(5, "run", "-c", str(synced))
    assert str(tmp_path / "state" / "s.sqlite") in message
    assert "Read-only file system" in message or "Permission denied" in message


def test_a_read_only_state_file_is_a_state_error(synced: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "s.sqlite"
    with _read_only(state):
        for command in (["run"], ["failures", "drop", "1"]):
            message = _fails(5, *command, "-c", str(synced))
            assert f"the state file {state} cannot be used (Read-only file system)" in message


def test_a_state_path_under_a_plain_file_is_a_state_error(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    config = config_file(sandbox, tmp_path, state={"path": str(tmp_path / "plain" / "s.sqlite")})
    for command in COMMANDS:
        message = _fails(5, *command, "-c", str(config))
        assert str(tmp_path / "plain") in message


def test_config_values_that_used_to_crash_are_config_errors_naming_the_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_file(sandbox, tmp_path)
    raw = yaml.safe_load(config.read_text())
    cases = {
        "dkplus.timeout": ("dkplus", "timeout", float("nan")),
        "moment.timeout": ("moment", "timeout", float("inf")),
        "dkplus.base_url": ("dkplus", "base_url", "http://127.0.0.1:1/a b"),
    }
    for key, (section, name, value) in cases.items():
        broken = tmp_path / f"{key}.yaml"
        broken.write_text(yaml.safe_dump({**raw, section: {**raw[section], name: value}}))
        assert f"  - {key}: must" in _fails(4, "run", "-c", str(broken))
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(config.read_bytes() + "# Reykjavík\n".encode("latin-1"))
    assert "is not UTF-8 text: byte 0xed on line" in _fails(4, "status", "-c", str(latin1))


def test_unusable_options_are_usage_errors(sandbox: Sandbox, tmp_path: Path) -> None:
    config = str(config_file(sandbox, tmp_path))
    (tmp_path / "plain").write_text("a file, not a folder")
    for log_file in (tmp_path / "plain" / "x.log", tmp_path, Path("/proc/dksync.log")):
        message = _fails(2, "--log-file", str(log_file), "status", "-c", config)
        assert f"--log-file {log_file}: cannot write it" in message
    huge = "99999999999999999999999"
    assert "--limit" in _fails(2, "run", "--limit", huge, "-c", config)
    assert "--limit" in _fails(2, "history", "--limit", huge, "-c", config)
    assert "Invalid value for 'ID'" in _fails(2, "failures", "drop", huge, "-c", config)
    assert sandbox.moment.log == [], "nothing ran"


def test_a_log_file_that_fills_up_is_one_line_not_a_traceback_per_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    config = config_file(sandbox, tmp_path)
    done = _dksync("-vv", "--log-file", "/dev/full", "run", "-c", str(config))
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr
    warning = "dksync: cannot write the log file /dev/full (No space left on device)"
    assert done.stderr.count(warning) == 1
    assert sandbox.dkplus.snapshot()["invoices"], "the run itself went on"


def test_the_cause_of_an_error_is_shown_at_vv_only(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    config = config_file(sandbox, tmp_path, state={"path": str(tmp_path / "plain" / "s.sqlite")})
    _fails(5, "status", "-c", str(config), "-v")  # no traceback below -vv
    log = tmp_path / "vv.log"
    done = _dksync("status", "-c", str(config), "-vv", "--log-file", str(log))
    assert done.returncode == 5
    for text in (done.stderr, log.read_text()):
        assert "the error and its causes: StateError: the state file" in text
        assert "caused by NotADirectoryError: [Errno 20] not a folder" in text  # ``from exc``
        assert "Traceback" not in text


@pytest.mark.parametrize("blocks", [8, 40])
def test_a_disk_that_refuses_the_write_is_told_as_such_never_as_a_damaged_file(
    synced: Path, sandbox: Sandbox, blocks: int
) -> None:
    """A file size limit (``ulimit -f``, as a full disk or a quota): SQLite's
    ``SQLITE_IOERR_WRITE`` was told "Restore a backup, or move it away to start again from
    sync.start_from": advice that forgets which invoices were posted, for a file that was
    never damaged. The next run, with room, goes on from the same state."""
    for customer in sandbox.dataset.customers[:3]:
        sandbox.moment.patch_raw("customers", customer.id, {"name": customer.name + " ehf"})
    limit = blocks * 512
    done = subprocess.run(
        [sys.executable, "-m", "dksync", "run", "-c", str(synced)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
    )
    assert done.returncode == 5 and "Traceback" not in done.stderr, done.stderr
    assert "the disk refused the write" in done.stderr, done.stderr
    assert "move it away" not in done.stderr
    after = _dksync("run", "-c", str(synced))
    assert after.returncode in (0, 1) and "updated" in after.stdout, after.stdout + after.stderr
