"""Pulls typed values out of the raw YAML mapping, collecting every problem with its key.

Types, defaults and bounds come from the key table (``keys.py``); this module only knows
how each shape is read and how the sections become a ``Config``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dksync.config import alerts, secrets, tables
from dksync.config.keys import BY_NAME, SECTIONS, Key, Shape
from dksync.config.model import (
    OBJECT_TYPES,
    Config,
    DkPlusConfig,
    EmailConfig,
    HistoryLimits,
    MomentConfig,
    Secret,
    SyncConfig,
    default_state_path,
)
from dksync.config.values import Hidden, beside, shortened, shown, url_flaw
from dksync.kinds import ObjectKind
from dksync.mapping.customers import CustomerRules
from dksync.mapping.invoices import InvoiceRules
from dksync.moment import FieldNames, parse_instant
from dksync.moment.fieldnames import problems as field_name_problems

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^([0-9]{1,30})\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _kind_word(item: object) -> object:
    """ "invoice" or "Invoices" as "invoices"; anything else as it is (then refused)."""
    kind = ObjectKind.named(item) if isinstance(item, str) else None
    return item if kind is None else kind.value


class Reader:
    """Reads one config mapping; ``problems`` lists every key that is wrong."""

    def __init__(self, raw: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self.raw, self.env = raw, env
        self.problems: list[str] = []
        names = [k.env for k in BY_NAME.values() if k.shape is Shape.SECRET]
        self.hidden = Hidden(env[name] for name in names if name in env)  # masked when told

    def check_known(self) -> None:
        for section, value in self.raw.items():
            if section not in SECTIONS:
                self._unknown(str(section), SECTIONS)
            elif value is not None and not isinstance(value, Mapping):
                self.problems.append(f"{section}: must be a mapping of keys")
            else:
                for key in value or {}:
                    if key not in SECTIONS[section]:
                        self._unknown(f"{section}.{key}", SECTIONS[section])

    def _unknown(self, key: str, known: Any) -> None:
        guess = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(known), n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        self.problems.append(f"{shortened(key)}: unknown key{hint}")

    def _wrong(self, name: str, wanted: str, value: Any) -> None:
        """A value that is not what ``name`` takes, echoed shortened (``shown``)."""
        self.problems.append(f"{name}: must be {wanted}, got {shown(value)}")

    def value(self, key: str) -> Any:
        section, name = key.split(".")
        block = self.raw.get(section)
        value = block.get(name) if isinstance(block, Mapping) else None
        if isinstance(value, str):
            value = self.expand(key, value)
        return value

    def expand(self, key: str, text: str) -> str | None:
        """``${VAR}`` from the environment, else from the file ``$VAR_FILE`` names (the way
        containers and cron jobs pass secrets)."""
        values: dict[str, str] = {}
        for name in _ENV_REF.findall(text):
            found = self.env.get(name)
            file_name = self.env.get(f"{name}_FILE")
            if found is None and file_name:
                try:
                    found = Path(file_name).expanduser().read_text(encoding="utf-8").strip()
                except OSError as exc:
                    self.hidden.unread_file(file_name)
                    self.problems.append(
                        f"{key}: cannot read {file_name} (from {name}_FILE): {exc.strerror}"
                    )
                    return None
            if found is None:
                self.problems.append(
                    f"{key}: refers to ${{{name}}}, which is not set (nor {name}_FILE)"
                )
                return None
            if file_name and name not in self.env:
                self.hidden.add(found)  # what a _FILE holds is passed as a secret
            values[name] = found
        return _ENV_REF.sub(lambda m: values[m.group(1)], text)

    # --- one value of each shape, as the key table declares it ------------------------------

    def text(self, name: str, *, may_be_missing: bool = False) -> str | None:
        spec = BY_NAME[name]
        default = spec.default if isinstance(spec.default, str) else None
        value = self.value(name)
        if value is None or value == "":
            if spec.required and not may_be_missing:
                self.problems.append(f"{name}: missing ({spec.required})")
            return default
        if isinstance(value, bool | dict | list):
            self.problems.append(f"{name}: must be text, not {type(value).__name__}")
            return default
        return str(value)

    def number(self, name: str, default: float | None = None) -> Any:
        """A finite number within the key's bounds (``nan``, ``inf`` and absurd sizes are
        problems here, not failures deep inside a run)."""
        spec = BY_NAME[name]
        fallback = spec.default if default is None else default
        integer = spec.shape is Shape.INTEGER
        value = self.value(name)
        if value is None or str(value).strip().lower() == "auto" == spec.default:
            return None if spec.default == "auto" else fallback  # auto: the code decides
        try:
            if isinstance(value, bool) or (
                integer and isinstance(value, float) and not value.is_integer()
            ):
                raise ValueError
            number = int(value) if integer else float(value)
        except (TypeError, ValueError, OverflowError):
            kind = "a whole number" if integer else "a number"
            self._wrong(name, kind, value)
            return fallback
        if not math.isfinite(number) or not spec.minimum <= number <= spec.maximum:
            self._wrong(name, f"from {spec.minimum:g} to {spec.maximum:g}", value)
            return fallback
        return number

    def flag(self, name: str) -> bool:
        default = bool(BY_NAME[name].default)
        value = self.value(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(name, "true or false", value)
            return default
        return value

    def choice(self, name: str) -> Any:
        spec = BY_NAME[name]
        default = str(spec.default)
        value = self.text(name) or default
        if value not in spec.options:
            self._wrong(name, f"one of {', '.join(spec.options)}", value)
            return default
        return value

    def secret(self, name: str) -> Secret:
        """The secret ``name``, from wherever it is given (see ``secrets.read``)."""
        return secrets.read(self, name)

    def url(self, name: str) -> str:
        spec = BY_NAME[name]
        value = self.value(name)
        if value is None or value == "":
            value = spec.default
        elif not isinstance(value, str):
            self.problems.append(f"{name}: must be text, not {type(value).__name__}")
            return ""
        flaw = url_flaw(str(value)) if value else None
        if flaw:
            self.problems.append(f"{name}: must be an http(s) URL such as https://host/ ({flaw})")
            return ""
        return str(value).rstrip("/")

    def instant(self, name: str) -> datetime | None:
        value = self.value(name)
        if value is None:
            return None
        if isinstance(value, datetime):
            return parse_instant(value.isoformat())
        try:
            return parse_instant(str(value))
        except ValueError:
            self._wrong(name, "an ISO-8601 time such as 2026-01-01T00:00:00Z", value)
            return None

    def duration(self, name: str) -> timedelta:
        """A duration up to the key's ``longest`` (beyond it, date arithmetic overflows)."""
        spec: Key = BY_NAME[name]
        default = spec.default if isinstance(spec.default, timedelta) else timedelta(0)
        value = self.value(name)
        if value is None:
            return default
        match = _DURATION.match(str(value).strip())
        if not match:
            self._wrong(name, "a duration such as 10m, 2h or 30s", value)
            return default
        seconds = int(match.group(1)) * _SECONDS[match.group(2)]
        if seconds > spec.longest.total_seconds():
            self.problems.append(
                f"{name}: {shown(value)} is too long a duration (at most "
                f"{_as_written(spec.longest)})"
            )
            return default
        return timedelta(seconds=seconds)

    # --- the sections ----------------------------------------------------------------------

    def build(self, source: Path | None) -> Config | None:
        dkplus = self._dkplus()
        return Config(
            moment=self._moment(),
            dkplus=dkplus,
            sync=self._sync(),
            customer_rules=CustomerRules(
                payment_terms=tables.payment_terms(
                    self.value("customers.payment_terms"), self.problems
                ),
                number_from=self.choice("customers.number_from"),
                link=tables.links(self.value("customers.link"), self.problems),
            ),
            invoice_rules=InvoiceRules(
                sales_person=dkplus.sales_person,
                item_code_from=self.choice("invoices.item_code_from"),
                default_currency=self.text("invoices.default_currency") or "ISK",
            ),
            create_missing_products=self.flag("invoices.create_missing_products"),
            update_projects=self.flag("projects.update"),
            state_path=beside(source, Path(self.text("state.path") or default_state_path())),
            source=source,
            email=self._email(),
            monitor=alerts.monitor(self),
            metrics_file=self._path("metrics.textfile", source),
            notify=alerts.notify(self),
            history=HistoryLimits(
                self.duration("state.keep_history"), self.number("state.keep_runs")
            ),
        )

    def _path(self, name: str, source: Path | None) -> Path | None:
        value = self.text(name)
        return None if value is None else beside(source, Path(value))

    def _moment(self) -> MomentConfig:
        return MomentConfig(
            base_url=self.url("moment.base_url"),
            company=self.text("moment.company") or "",
            api_key=self.secret("moment.api_key"),
            timeout=self.number("moment.timeout"),
            rate_limit=self.number("moment.rate_limit") or None,
            page_size=self.number("moment.page_size"),
            max_pages=self.number("moment.max_pages"),
            field_names=self._field_names(),
        )

    def _dkplus(self) -> DkPlusConfig:
        return DkPlusConfig(
            base_url=self.url("dkplus.base_url"),
            token=self.secret("dkplus.token"),
            sales_person=self.text("dkplus.sales_person") or "",
            timeout=self.number("dkplus.timeout"),
            rate_limit=self.number("dkplus.rate_limit") or None,
            concurrency=self.number("dkplus.concurrency"),
            use_lists=self.flag("dkplus.use_lists"),
            list_max_pages=self.number("dkplus.list_max_pages"),
            settle=self.number("dkplus.settle"),
        )

    def _email(self) -> EmailConfig | None:
        if not isinstance(self.raw.get("email"), Mapping):
            return None
        to = self.value("email.to")
        recipients = [to] if isinstance(to, str) else to
        if (
            not isinstance(recipients, list)
            or not recipients
            or not all(isinstance(r, str) and "@" in r for r in recipients)
        ):
            self.problems.append("email.to: must list the addresses to notify")
            recipients = []
        security = self.choice("email.security")
        user = self.text("email.user")
        return EmailConfig(
            to=tuple(recipients),
            sender=self.text("email.from") or "",
            host=self.text("email.host") or "",
            port=self.number("email.port", 465 if security == "ssl" else 587),
            security=security,
            user=user,
            password=self.secret("email.password") if user else None,
            timeout=self.number("email.timeout"),
        )

    def _field_names(self) -> FieldNames:
        """``moment.field_names``: corrections of the JSON names dksync reads, checked
        against the names it does read (the adapter applies them)."""
        block = self.raw.get("moment")
        value = block.get("field_names") if isinstance(block, Mapping) else None
        if value is None:
            return FieldNames()
        if not isinstance(value, Mapping):
            self.problems.append(
                "moment.field_names: must map <object>.<name dksync expects> to the name the "
                "account uses, such as {customer.organizationNumber: orgNumber}"
            )
            return FieldNames()
        found = field_name_problems(value)
        self.problems.extend(f"moment.field_names: {problem}" for problem in found)
        return FieldNames() if found else FieldNames.of({str(k): v for k, v in value.items()})

    def _sync(self) -> SyncConfig:
        return SyncConfig(
            objects=self._objects(),
            start_from=self.instant("sync.start_from"),
            lookback=self.duration("sync.lookback"),
            retry_for=self.duration("sync.retry_for"),
        )

    def _objects(self) -> tuple[str, ...]:
        objects = self.value("sync.objects")
        if objects is None:
            return OBJECT_TYPES
        items = [objects] if isinstance(objects, str) else objects
        if isinstance(items, list):  # singular or plural, as everywhere else
            items = [_kind_word(o) for o in items]
        if not isinstance(items, list) or not items or any(o not in OBJECT_TYPES for o in items):
            kinds = ", ".join(OBJECT_TYPES)
            self.problems.append(f"sync.objects: must list some of {kinds}, got {shown(objects)}")
            return OBJECT_TYPES
        return tuple(o for o in OBJECT_TYPES if o in items)


def _as_written(span: timedelta) -> str:
    """A bound as the config writes durations (``30d``, ``12h``), not ``30 days, 0:00:00``."""
    seconds = int(span.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _SECONDS[unit] == 0:
            return f"{seconds // _SECONDS[unit]}{unit}"
    return f"{seconds}s"
