"""The reconcile benchmark runs end to end on a tiny company (no test judges its timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_reconcile_bench_prints_both_ways_and_they_agree() -> None:
    script = Path(__file__).parents[2] / "bench" / "reconcile.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--invoices",
            "30",
            "--customers",
            "12",
            "--latency-ms",
            "0",
            "--dkplus-rate",
            "500",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "with the list:" in done.stdout and "DK+ requests 2," in done.stdout
    assert "without the list (404):" in done.stdout
    assert "results agree" in done.stdout
