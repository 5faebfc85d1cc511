"""Shared fixtures: real sandbox servers on free loopback ports, temporary state files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dksync import config as config_module
from dksync.clients import connect
from dksync.config import Config
from dksync.outcome import RunReport
from dksync.sandbox.pair import Sandbox, Sizes
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from dksync.transport.http import RetryPolicy

FAST_RETRIES = RetryPolicy(attempts=40, max_total_seconds=20, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh Moment + DK+ pair with the default small generated company."""
    with Sandbox(seed=1, sizes=Sizes()) as pair:
        yield pair


def config_for(sb: Sandbox, state: Path, **sections: dict[str, Any]) -> Config:
    """A validated config pointing at ``sb``, with ``sections`` merged over the defaults."""
    raw = yaml.safe_load(sb.config_yaml(str(state)))
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_module.from_mapping(raw, env={})


Sync = Callable[..., RunReport]


@pytest.fixture
def sync(sandbox: Sandbox, tmp_path: Path) -> Sync:
    """Run dksync against the sandbox with one state file for the whole test."""

    def run(config: Config | None = None, **options: Any) -> RunReport:
        settings = config or config_for(sandbox, tmp_path / "state.sqlite")
        clients = connect(settings, policy=FAST_RETRIES)
        return engine.run(settings, RunOptions(**options), clients)

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-long", action="store_true", help="run the long chaos test (make chaos)"
    )


FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Benchmarks and the chaos test report figures here, so every run shows them."""
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
