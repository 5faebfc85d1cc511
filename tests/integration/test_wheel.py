"""The wheel as a new user gets it: built, installed in a fresh virtual environment, and
used as the README's Quick start and cron line say, against the sandbox.

Offline: the wheel is built without build isolation (setuptools comes with the dev
extras) and installed with ``--no-deps --no-index``; its dependencies come from the dev
environment's site-packages through a ``.pth`` line (a plain path, so the editable
dksync there is not activated: the wheel's copy is the one imported, which is checked).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from tests.helpers import free_port

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the built wheel installed in it."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "dksync", source / "dksync", ignore=shutil.ignore_patterns("__pycache__")
    )
    _call(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(root / "dist"),
        str(source),
    )
    wheel = next((root / "dist").glob("dksync-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("config.example.yaml", "dkplus/schema/dkplus-requests.schema.json", "py.typed"):
        assert f"dksync/{shipped}" in names, f"the wheel lacks dksync/{shipped}"
    fresh = root / "venv"
    _call(sys.executable, "-m", "venv", "--without-pip", str(fresh))
    _call(
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(fresh / "bin" / "python"),
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        str(wheel),
    )
    site = _call(
        str(fresh / "bin" / "python"),
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ).strip()
    (Path(site) / "dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _call(str(fresh / "bin" / "python"), "-c", "import dksync; print(dksync.__file__)")
    assert where.startswith(str(fresh)), f"dksync imported from {where}, not the wheel"
    return fresh


def _call(*args: str) -> str:
    """A setup step, run outside the repository so that its folder is not on sys.path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=300, check=False, cwd=Path.home(), env=env
    )
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


def _env(venv: Path, **extra: str) -> dict[str, str]:
    skipped = ("DKSYNC", "MOMENT", "DKPLUS", "PYTHONPATH")  # a new user has none of them
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80", **extra)
    return env


def _shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def clean_sandbox() -> Iterator[Sandbox]:
    with Sandbox(dataset=generate(5, 10, 4, 12, plant=False)) as pair:
        yield pair


def test_installed_wheel_init_check_dry_run_and_the_cron_line(
    venv: Path, clean_sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "moment-key").write_text(clean_sandbox.moment.api_key + "\n")
    (tmp_path / "dkplus-token").write_text(clean_sandbox.dkplus.token + "\n")
    env = _env(
        venv,
        MOMENT_API_KEY_FILE=str(tmp_path / "moment-key"),
        DKPLUS_API_TOKEN_FILE=str(tmp_path / "dkplus-token"),
    )
    version = _shell("dksync --version", tmp_path, env)
    assert version.returncode == 0 and re.fullmatch(r"dksync \d+\.\d+\.\d+\n", version.stdout)
    folder = tmp_path / "etc"
    init = _shell(
        f"dksync init -o {folder}/dksync.yaml --company {clean_sandbox.moment.company} "
        f"--sales-person {clean_sandbox.sales_person} --moment-url {clean_sandbox.moment.url} "
        f"--dkplus-url {clean_sandbox.dkplus.url} --start-from 2026-01-01T00:00:00Z "
        "--state-path state.sqlite",
        tmp_path,
        env,
    )
    assert init.returncode == 0, init.stderr
    assert "${MOMENT_API_KEY}" in (folder / "dksync.yaml").read_text()
    check = _shell(f"dksync check -c {folder}/dksync.yaml", tmp_path, env)
    assert check.returncode == 0 and "ready for go-live" in check.stdout, check.stdout
    dry = _shell(f"dksync run --dry-run -c {folder}/dksync.yaml", tmp_path, env)
    assert dry.returncode == 0 and "would create" in dry.stdout, dry.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["dksync.yaml"], "a dry run wrote"
    assert clean_sandbox.dkplus.snapshot()["invoices"] == []
    # the README's cron line, with its paths made local: run from another folder
    cron = re.search(r"\*/15 \* \* \* \* +(.*?)\n```", README, re.DOTALL)
    assert cron is not None
    line = cron.group(1)
    line = re.sub(r"MOMENT_API_KEY_FILE=\S+", f"MOMENT_API_KEY_FILE={tmp_path}/moment-key", line)
    line = re.sub(
        r"DKPLUS_API_TOKEN_FILE=\S+", f"DKPLUS_API_TOKEN_FILE={tmp_path}/dkplus-token", line
    )
    line = line.replace("cd /srv/dksync", f"cd {tmp_path}").replace("/opt/dksync/bin/", "")
    line = line.replace("/var/log/dksync/", f"{tmp_path}/log/").replace(
        "/etc/dksync/", f"{folder}/"
    )
    done = _shell(line, tmp_path, _env(venv))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    last = (tmp_path / "log" / "dksync.log").read_text().splitlines()[-1]
    assert "run finished: ok (exit 0); customers 10 read, 10 created" in last
    assert (folder / "state.sqlite").exists(), "a relative state.path is beside the config"
    assert len(clean_sandbox.dkplus.snapshot()["invoices"]) > 0


def test_the_quick_start_runs_as_written(venv: Path, tmp_path: Path) -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README.split("## Quick start", 1)[1], re.DOTALL)
    first, second = ([_strip(line) for line in b.splitlines()] for b in blocks[:2])
    assert first[0].startswith("python3 -m venv "), "the Quick start installs into a venv"
    first = first[1:]  # this test has its own venv
    assert first[0] == "pip install ." and first[1] == "dksync --version"
    assert first[2] == "dksync sandbox --write-config dksync.yaml"
    env = _env(venv)
    moment_port, dkplus_port = free_port(), free_port()
    server = subprocess.Popen(
        f"{first[2]} --moment-port {moment_port} --dkplus-port {dkplus_port}",
        shell=True,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        while "Serving until Ctrl-C" not in server.stdout.readline():
            assert server.poll() is None, "dksync sandbox stopped"
        seen = {line: _shell(line, tmp_path, env) for line in second}
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=20)
    expected = {"check": 1, "--dry-run": 1, "run": 1, "status": 0, "failures": 0, "show": 0}
    for line, done in seen.items():
        assert "Traceback" not in done.stderr, line
        word = next(w for w in expected if w in line.split())
        assert done.returncode == expected[word], f"{line}: {done.stdout}{done.stderr}"
    assert "NOT ready for go-live" in seen["dksync check"].stdout
    assert "would create" in seen["dksync run --dry-run"].stdout
    assert re.search(r"DK\+ number\s+9\d{4}\s", seen["dksync show invoice 1001"].stdout)


def _strip(line: str) -> str:
    return line.split("#", 1)[0].strip()
