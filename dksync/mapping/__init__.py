"""Pure mapping from dksync records to DK+ request bodies: data in, a payload or reasons out.

Nothing in this package does I/O, reads the clock or raises for bad data: a record that
cannot be mapped comes back as ``Rejected`` with reasons an operator can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Mapped:
    """A DK+ request body, with warnings that do not stop the write."""

    payload: Payload
    warnings: tuple[str, ...] = ()
    needs: tuple[Payload, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Rejected:
    """The record cannot be written; each reason says what to fix and where."""

    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)


MapResult = Mapped | Rejected


def differences(wanted: Payload, current: Payload) -> dict[str, tuple[Any, Any]]:
    """Fields of ``wanted`` whose value differs in ``current``: {field: (current, wanted)}.

    An empty string and a missing value count as the same (DK+ stores one as the other).
    """
    changed: dict[str, tuple[Any, Any]] = {}
    for key, value in wanted.items():
        old = current.get(key)
        if (old if old != "" else None) != (value if value != "" else None):
            changed[key] = (old, value)
    return changed
