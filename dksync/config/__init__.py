"""Configuration: YAML plus the environment, validated into a frozen ``Config``.

Every problem is reported with the key it concerns and what is wrong, never with a
traceback and never with a secret's value. Secrets are wrapped in ``Secret`` so that a
stray ``repr`` or log line shows ``***``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from dksync.config.values import decode_utf8, one_line, parse_duration, secret_flaw, url_flaw
from dksync.errors import ConfigError
from dksync.mapping.customers import CustomerRules
from dksync.mapping.invoices import InvoiceRules
from dksync.moment import FieldNames, parse_instant
from dksync.moment.fieldnames import problems as field_name_problems

OBJECT_TYPES = ("customers", "projects", "invoices")
DEFAULT_FILE = "dksync.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

KNOWN_KEYS: dict[str, frozenset[str]] = {
    "moment": frozenset(
        {
            "base_url",
            "company",
            "api_key",
            "api_key_file",
            "timeout",
            "rate_limit",
            "page_size",
            "field_names",
        }
    ),
    "dkplus": frozenset(
        {
            "base_url",
            "token",
            "token_file",
            "sales_person",
            "timeout",
            "rate_limit",
            "concurrency",
            "use_lists",
        }
    ),
    "sync": frozenset({"objects", "start_from", "lookback", "retry_for"}),
    "invoices": frozenset({"item_code_from", "create_missing_products", "default_currency"}),
    "customers": frozenset({"payment_terms", "number_from"}),
    "projects": frozenset({"update"}),
    "state": frozenset({"path"}),
    "email": frozenset(
        {"to", "from", "host", "port", "security", "user", "password", "password_file", "timeout"}
    ),
}


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


def default_state_path() -> Path:
    """The state file in the user's data directory (XDG on Linux)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dksync" / "state.sqlite"


def find_config(path: str | Path | None, env: Mapping[str, str]) -> Path:
    """``--config`` if given, else ``$DKSYNC_CONFIG``, else ``./dksync.yaml``."""
    chosen = path or env.get("DKSYNC_CONFIG") or DEFAULT_FILE
    return Path(chosen).expanduser()


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate the config; ``ConfigError`` says which key is wrong."""
    return _load(path, env, secrets=True)


def load_without_secrets(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The config for a command that only reads the state (status, history, failures,
    show): validated like ``load`` but its secrets are neither looked up nor checked, so
    an operator can look on a box where the secrets live only in the crontab line. Every
    secret in the answer is empty: it must never be used to connect."""
    return _load(path, env, secrets=False)


def _load(path: str | Path | None, env: Mapping[str, str] | None, *, secrets: bool) -> Config:
    env = os.environ if env is None else env
    source = find_config(path, env)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {source}: {exc.strerror}; "
            "pass --config PATH or set DKSYNC_CONFIG"
        ) from None
    text = decode_utf8(source, data)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"the config file {source} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"the config file {source} must hold a mapping of sections")
    return from_mapping(raw, env, source, secrets=secrets)


def from_mapping(
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    source: Path | None = None,
    *,
    secrets: bool = True,
) -> Config:
    """Validate an already-parsed config mapping (YAML or built by ``dksync init``);
    ``secrets=False`` leaves every secret empty and unchecked (see ``load_without_secrets``)."""
    reader = _Reader(raw, env, secrets)
    reader.check_known()
    config = reader.build(source)
    if reader.problems:
        raise ConfigError("the config has problems:\n  - " + "\n  - ".join(reader.problems))
    assert config is not None
    return config


def _beside(source: Path | None, path: Path) -> Path:
    """A relative ``state.path`` is taken from the config file's folder, not the current
    one, so a run from another folder finds the same state."""
    path = path.expanduser()
    if path.is_absolute() or source is None:
        return path
    return source.parent.absolute() / path


class _Reader:
    """Pulls typed values out of the raw mapping, collecting every problem with its key."""

    def __init__(self, raw: Mapping[str, Any], env: Mapping[str, str], secrets: bool) -> None:
        self.raw, self.env, self.secrets = raw, env, secrets
        self.problems: list[str] = []

    def check_known(self) -> None:
        for section, value in self.raw.items():
            if section not in KNOWN_KEYS:
                self._unknown(str(section), KNOWN_KEYS)
            elif value is not None and not isinstance(value, Mapping):
                self.problems.append(f"{section}: must be a mapping of keys")
            else:
                for key in value or {}:
                    if key not in KNOWN_KEYS[section]:
                        self._unknown(f"{section}.{key}", KNOWN_KEYS[section])

    def _unknown(self, key: str, known: Any) -> None:
        guess = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(known), n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        self.problems.append(f"{key}: unknown key{hint}")

    def value(self, key: str) -> Any:
        section, name = key.split(".")
        block = self.raw.get(section)
        value = block.get(name) if isinstance(block, Mapping) else None
        if isinstance(value, str):
            value = self._expand(key, value)
        return value

    def _expand(self, key: str, text: str) -> str | None:
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
                    self.problems.append(
                        f"{key}: cannot read {file_name} (from {name}_FILE): {exc.strerror}"
                    )
                    return None
            if found is None:
                self.problems.append(
                    f"{key}: refers to ${{{name}}}, which is not set (nor {name}_FILE)"
                )
                return None
            values[name] = found
        return _ENV_REF.sub(lambda m: values[m.group(1)], text)

    def text(
        self, key: str, default: str | None = None, *, required: bool = False, why: str = ""
    ) -> str | None:
        value = self.value(key)
        if value is None or value == "":
            if required:
                self.problems.append(f"{key}: missing{f' ({why})' if why else ''}")
            return default
        if isinstance(value, bool | dict | list):
            self.problems.append(f"{key}: must be text, not {type(value).__name__}")
            return default
        return str(value)

    def number(
        self,
        key: str,
        default: float | None,
        *,
        minimum: float = 0,
        maximum: float = 1e9,
        integer: bool = False,
    ) -> Any:
        """A finite number in ``[minimum, maximum]`` (``nan``, ``inf`` and absurd sizes are
        problems here, not failures deep inside a run)."""
        value = self.value(key)
        if value is None:
            return default
        try:
            if isinstance(value, bool) or (
                integer and isinstance(value, float) and not value.is_integer()
            ):
                raise ValueError
            number = int(value) if integer else float(value)
        except (TypeError, ValueError, OverflowError):
            kind = "a whole number" if integer else "a number"
            self.problems.append(f"{key}: must be {kind}, got {value!r}")
            return default
        if not math.isfinite(number) or not minimum <= number <= maximum:
            self.problems.append(f"{key}: must be from {minimum} to {maximum:g}, got {value!r}")
            return default
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.value(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problems.append(f"{key}: must be true or false, got {value!r}")
            return default
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(key, default) or default
        if value not in options:
            self.problems.append(f"{key}: must be one of {', '.join(options)}, got {value!r}")
            return default
        return value

    def secret(self, key: str, env_name: str, why: str) -> Secret:
        """From the config value, else ``$ENV_NAME``, else the file ``$ENV_NAME_FILE`` or
        ``<key>_file`` names (one trailing line break dropped). The value itself never
        appears in a message. Not looked up at all when the reader skips secrets."""
        if not self.secrets:
            return Secret("")
        value, origin = self.text(key), key
        file_key = f"{key}_file"
        file_name = self.text(file_key) or self.env.get(f"{env_name}_FILE")
        if value is None and self.env.get(env_name):
            value, origin = self.env[env_name], f"${env_name}"
        if value is None and file_name:
            try:
                data = Path(file_name).expanduser().read_bytes()
            except OSError as exc:
                self.problems.append(f"{file_key}: cannot read {file_name}: {exc.strerror}")
                return Secret("")
            value, origin = one_line(data) or None, f"the file {file_name}"
        if value is None:
            self.problems.append(f"{key}: missing ({why}; or set {env_name} or {env_name}_FILE)")
            return Secret("")
        flaw = secret_flaw(value)
        if flaw:
            self.problems.append(f"{key}: the value from {origin} {flaw}")
            return Secret("")
        return Secret(value)

    def url(self, key: str, default: str | None = None) -> str:
        value = self.text(key, default, required=default is None, why="the API's base URL")
        flaw = url_flaw(value) if value else None
        if value and flaw:
            self.problems.append(f"{key}: must be an http(s) URL such as https://host/ ({flaw})")
            return ""
        return (value or "").rstrip("/")

    def build(self, source: Path | None) -> Config | None:
        moment = MomentConfig(
            base_url=self.url("moment.base_url", "https://app.moment.team"),
            company=self.text(
                "moment.company", required=True, why="the company code in Moment's browser URL"
            )
            or "",
            api_key=self.secret("moment.api_key", "MOMENT_API_KEY", "the Moment API key"),
            timeout=self.number("moment.timeout", 30.0, minimum=0.1, maximum=600),
            rate_limit=self.number("moment.rate_limit", 25.0, maximum=10_000) or None,
            page_size=self.number("moment.page_size", 200, minimum=1, maximum=10_000, integer=True),
            field_names=self._field_names(),
        )
        dkplus = DkPlusConfig(
            base_url=self.url("dkplus.base_url", "https://api.dkplus.is"),
            token=self.secret("dkplus.token", "DKPLUS_API_TOKEN", "the DK+ API token"),
            sales_person=self.text(
                "dkplus.sales_person",
                required=True,
                why="the DK+ sales person number used on every invoice",
            )
            or "",
            timeout=self.number("dkplus.timeout", 30.0, minimum=0.1, maximum=600),
            rate_limit=self.number("dkplus.rate_limit", None, maximum=10_000) or None,
            concurrency=self.number("dkplus.concurrency", 4, minimum=1, maximum=64, integer=True),
            use_lists=self.flag("dkplus.use_lists", True),
        )
        return Config(
            moment=moment,
            dkplus=dkplus,
            sync=self._sync(),
            customer_rules=CustomerRules(
                payment_terms=self._payment_terms(),
                number_from=self.choice(
                    "customers.number_from",  # type: ignore[arg-type]
                    ("customer_number", "kennitala"),
                    "customer_number",
                ),
            ),
            invoice_rules=InvoiceRules(
                sales_person=dkplus.sales_person,
                item_code_from=self.choice(
                    "invoices.item_code_from",  # type: ignore[arg-type]
                    ("vat_code", "revenue_class"),
                    "vat_code",
                ),
                default_currency=self.text("invoices.default_currency", "ISK") or "ISK",
            ),
            create_missing_products=self.flag("invoices.create_missing_products", True),
            update_projects=self.flag("projects.update", False),
            state_path=_beside(source, Path(self.text("state.path") or default_state_path())),
            source=source,
            email=self._email(),
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
        security = self.choice("email.security", ("starttls", "ssl", "none"), "starttls")
        user = self.text("email.user")
        password = None
        if user:
            password = self.secret(
                "email.password", "DKSYNC_SMTP_PASSWORD", "the SMTP password for email.user"
            )
        return EmailConfig(
            to=tuple(recipients),
            sender=self.text("email.from", required=True, why="the sender address") or "",
            host=self.text("email.host", required=True, why="the SMTP server") or "",
            port=self.number(
                "email.port",
                465 if security == "ssl" else 587,
                minimum=1,
                maximum=65535,
                integer=True,
            ),
            security=security,
            user=user,
            password=password,
            timeout=self.number("email.timeout", 30.0, minimum=1, maximum=600),
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
        objects = self.value("sync.objects")
        chosen: tuple[str, ...] = OBJECT_TYPES
        if objects is not None:
            items = [objects] if isinstance(objects, str) else objects
            if isinstance(items, list):  # singular or plural, as everywhere else
                items = [f"{o}s" if f"{o}s" in OBJECT_TYPES else o for o in items]
            if (
                not isinstance(items, list)
                or not items
                or any(o not in OBJECT_TYPES for o in items)
            ):
                self.problems.append(
                    f"sync.objects: must list some of {', '.join(OBJECT_TYPES)}, got {objects!r}"
                )
            else:
                chosen = tuple(o for o in OBJECT_TYPES if o in items)
        return SyncConfig(
            objects=chosen,
            start_from=self._instant("sync.start_from"),
            lookback=self._duration("sync.lookback", timedelta(minutes=10), timedelta(days=30)),
            retry_for=self._duration("sync.retry_for", timedelta(minutes=2), timedelta(days=1)),
        )

    def _instant(self, key: str) -> datetime | None:
        value = self.value(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return parse_instant(value.isoformat())
        try:
            return parse_instant(str(value))
        except ValueError:
            self.problems.append(
                f"{key}: must be an ISO-8601 time such as 2026-01-01T00:00:00Z, got {value!r}"
            )
            return None

    def _duration(self, key: str, default: timedelta, longest: timedelta) -> timedelta:
        """A duration up to ``longest`` (beyond it, date arithmetic would overflow)."""
        value = self.value(key)
        if value is None:
            return default
        found = parse_duration(str(value))
        if found is None:
            self.problems.append(f"{key}: must be a duration such as 10m, 2h or 30s, got {value!r}")
            return default
        if found > longest:
            self.problems.append(f"{key}: {value!r} is too long a duration (at most {longest})")
            return default
        return found

    def _payment_terms(self) -> dict[int, str]:
        value = self.value("customers.payment_terms")
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problems.append(
                "customers.payment_terms: must map credit days to DK+ term "
                "codes, such as {14: d14, 30: m30}"
            )
            return {}
        terms: dict[int, str] = {}
        for days, code in value.items():
            if not str(days).isdigit() or not isinstance(code, str) or not code:
                self.problems.append(
                    f"customers.payment_terms: entry {days!r}: {code!r} must "
                    "be whole days mapped to a term code"
                )
                continue
            terms[int(days)] = code
        return terms
