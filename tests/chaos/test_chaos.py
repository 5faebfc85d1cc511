"""Chaos: faults on both APIs and dksync killed with SIGKILL at random moments.

The short form runs in ``make test`` (at least 30 kill points); ``make chaos`` runs the
long form. Seeded: ``CHAOS_SEED`` replays a run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dksync.sandbox.pair import Sizes
from tests.chaos.harness import chaos
from tests.conftest import FIGURES


def _check(seed: int, kills: int, sizes: Sizes, tmp_path: Path) -> None:
    figures = chaos(seed, kills, sizes, tmp_path)
    FIGURES.append(figures.line())
    assert figures.kills_while_writing >= kills, figures.line()
    assert set(figures.faults) >= {"5xx", "drop", "429", "slow"} and all(
        figures.faults[k] for k in ("5xx", "drop", "429", "slow")
    ), figures.line()
    assert figures.duplicates == 0, figures.line()
    assert figures.missing == [], figures.missing
    assert figures.unexpected == [], figures.unexpected
    assert figures.wrong == [], figures.wrong


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_chaos_short(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED", "20261122"))
    _check(seed, kills=30, sizes=Sizes(customers=40, projects=12, invoices=180), tmp_path=tmp_path)


@pytest.mark.chaos
@pytest.mark.timeout(5400)
def test_chaos_long(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("--chaos-long"):
        pytest.skip("long form: make chaos")
    seed = int(os.environ.get("CHAOS_SEED", "7"))
    _check(
        seed, kills=200, sizes=Sizes(customers=200, projects=60, invoices=600), tmp_path=tmp_path
    )
