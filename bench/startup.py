"""Start-up figures for ``make bench``: a bare interpreter, ``dksync --version`` and
``dksync --help``, each the best of a few runs, in the same bench run so the comparison holds
on a shared machine. The package is byte-compiled first, as an installed wheel is (with
``PYTHONDONTWRITEBYTECODE`` set every import would otherwise be compiled from source)."""

from __future__ import annotations

import compileall
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dksync

TRIES = 7
OVER_BARE = 0.100


def compile_package() -> None:
    compileall.compile_dir(str(Path(dksync.__file__).parent), quiet=1)


def best_of(args: list[str], tries: int = TRIES) -> float:
    """The fastest of ``tries`` runs of ``args``: the least disturbed by other work."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def bare() -> float:
    return best_of([sys.executable, "-c", "pass"])


def report(verdict: Callable[[bool], str]) -> float:
    """Prints the version and help figures against their target; returns the bare time."""
    compile_package()
    interpreter = bare()
    print(f"start-up: bare 'python -c pass' {interpreter * 1000:.0f} ms (best of {TRIES})")
    for flag in ("--version", "--help"):
        took = best_of([sys.executable, "-m", "dksync", flag])
        over = took - interpreter
        print(
            f"target: 'dksync {flag}' under {OVER_BARE * 1000:.0f} ms over the bare interpreter: "
            f"{took * 1000:.0f} ms (+{over * 1000:.0f} ms) -> "
            f"{verdict(over < OVER_BARE)}",
            flush=True,
        )
    return interpreter
