"""The benchmark script runs end to end on a tiny company (its figures are not judged here:
no test times anything)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_bench_prints_every_scenario_and_target() -> None:
    script = Path(__file__).parents[2] / "bench" / "run.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--customers",
            "20",
            "--projects",
            "3",
            "--invoices",
            "30",
            "--latency-ms",
            "0",
            "--dkplus-rate",
            "500",
            "--moment-server-rate",
            "500",
            "--moment-rate",
            "400",
            "--skip-sequential",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for words in (
        "concurrent: first sync",
        "concurrent: no change",
        "concurrent: 1% changed",
        "memory at 1x size",
        "memory at 4x size",
        "target: first full sync",
        "target: no-change run",
        "target: peak RSS",
        "target: mapping alone",
        "start-up: bare 'python -c pass'",
        "target: 'dksync --version' under 100 ms",
        "target: 'dksync --help' under 100 ms",
        "concurrent, per record: first sync",
        "req/write",
        "target: first sync at most 1.1 DK+ requests per write",
        "target: 1% run at most 1.25",
        "target: first sync within 1.1x the write floor",
    ):
        assert words in out, words
    assert "exit 0" in out and "exit 1" not in out
