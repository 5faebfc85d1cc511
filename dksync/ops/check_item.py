"""What ``dksync check`` answers: one item per check, and the verdict over them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckItem:
    """One check. ``ok`` False fails the check; ``warning`` marks a data problem that
    fails it only under ``--strict``."""

    name: str
    ok: bool
    detail: str
    items: list[str] = field(default_factory=list)
    warning: bool = False


@dataclass
class Readiness:
    checks: list[CheckItem] = field(default_factory=list)
    strict: bool = False

    @property
    def warnings(self) -> int:
        return sum(1 for c in self.checks if c.warning)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks) and not (self.strict and self.warnings)
