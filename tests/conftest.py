"""Shared fixtures: real sandbox servers on free loopback ports, temporary state files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dksync.sandbox.pair import Sandbox, Sizes


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh Moment + DK+ pair with the default small generated company."""
    with Sandbox(seed=1, sizes=Sizes()) as pair:
        yield pair
