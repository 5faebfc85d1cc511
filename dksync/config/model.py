"""The config as the rest of dksync sees it: frozen, typed, validated (``reader.py``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dksync.kinds import SYNCED_KINDS
from dksync.mapping.customers import CustomerRules
from dksync.mapping.invoices import InvoiceRules
from dksync.moment import FieldNames

OBJECT_TYPES: tuple[str, ...] = tuple(SYNCED_KINDS)  # what sync.objects may list


class Secret:
    """A secret string that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class MomentConfig:
    base_url: str
    company: str
    api_key: Secret
    timeout: float = 30.0
    rate_limit: float | None = 25.0
    page_size: int = 200
    max_pages: int = 10_000
    field_names: FieldNames = field(default_factory=FieldNames)


@dataclass(frozen=True)
class DkPlusConfig:
    base_url: str
    token: Secret
    sales_person: str
    timeout: float = 30.0
    rate_limit: float | None = None
    concurrency: int = 4
    use_lists: bool = True
    list_max_pages: int = 200
    settle: float | None = None

    @property
    def settle_seconds(self) -> float:
        """How long DK+ may still be booking a POST whose answer was lost."""
        return self.settle if self.settle is not None else 2 * self.timeout


@dataclass(frozen=True)
class SyncConfig:
    objects: tuple[str, ...] = OBJECT_TYPES
    start_from: datetime | None = None
    lookback: timedelta = timedelta(minutes=10)
    retry_for: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class EmailConfig:
    to: tuple[str, ...]
    sender: str
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: Secret | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class MonitorConfig:
    """A Healthchecks-style heartbeat: ``ping_url`` is a secret of sorts (anyone who has
    it can ping), so it is never logged."""

    ping_url: Secret
    rejected_is_failure: bool = True


@dataclass(frozen=True)
class NotifyConfig:
    """Apprise URLs (they hold the channels' tokens: secrets) and how often a problem
    that lasts is said again (None: never)."""

    urls: tuple[Secret, ...] = ()
    remind_after: timedelta | None = None


@dataclass(frozen=True)
class Config:
    moment: MomentConfig
    dkplus: DkPlusConfig
    sync: SyncConfig
    customer_rules: CustomerRules
    invoice_rules: InvoiceRules
    create_missing_products: bool
    state_path: Path
    update_projects: bool = False
    source: Path | None = None
    email: EmailConfig | None = None
    monitor: MonitorConfig | None = None
    metrics_file: Path | None = None
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    name: str = ""

    @property
    def label(self) -> str:
        """The company's name in metrics, logs and notices: its file's stem in a folder of
        companies, else the Moment company code."""
        return self.name or self.moment.company


def default_state_path() -> Path:
    """The state file in the user's data directory (XDG on Linux)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dksync" / "state.sqlite"
