"""Configuration: YAML plus the environment, validated into a frozen ``Config``.

Every problem is reported with the key it concerns and what is wrong, never with a
traceback and never with a secret's value. Secrets are wrapped in ``Secret`` so that a
stray ``repr`` or log line shows ``***``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dksync.config import folder
from dksync.config.model import (
    OBJECT_TYPES,
    Config,
    DkPlusConfig,
    EmailConfig,
    MomentConfig,
    MonitorConfig,
    NotifyConfig,
    Secret,
    SyncConfig,
    default_state_path,
)
from dksync.config.reader import Reader
from dksync.errors import ConfigError, UsageError

__all__ = [
    "DEFAULT_FILE",
    "OBJECT_TYPES",
    "Config",
    "DkPlusConfig",
    "EmailConfig",
    "MomentConfig",
    "MonitorConfig",
    "NotifyConfig",
    "Secret",
    "SyncConfig",
    "default_state_path",
    "find_config",
    "from_mapping",
    "load",
    "load_without_secrets",
]

DEFAULT_FILE = "dksync.yaml"


class _WithoutSecrets(Reader):
    """A reader that neither looks up nor checks a secret: each is empty."""

    def secret(self, name: str) -> Secret:
        return Secret("")


def find_config(path: str | Path | None, env: Mapping[str, str]) -> Path:
    """``--config`` if given, else ``$DKSYNC_CONFIG``, else ``./dksync.yaml``."""
    chosen = path or env.get("DKSYNC_CONFIG") or DEFAULT_FILE
    return Path(chosen).expanduser()


def load_without_secrets(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    company: str | None = None,
) -> Config:
    """The config for a command that only reads the state (status, history, failures,
    show): validated like ``load`` but its secrets are neither looked up nor checked, so
    an operator can look on a box where the secrets live only in the crontab line. Every
    secret in the answer is empty: it must never be used to connect."""
    return load(path, env, company, secrets=False)


def load(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    company: str | None = None,
    *,
    secrets: bool = True,
) -> Config:
    """Read, expand and validate the config; ``ConfigError`` says which key is wrong. A
    folder of companies needs ``company`` (see ``config.folder``)."""
    env = os.environ if env is None else env
    source = find_config(path, env)
    if source.is_dir():
        if company is None:
            raise UsageError(
                f"{source} is a folder of companies; name one with --company NAME "
                f"(one of {', '.join(folder.companies(source))})"
            )
        raw = folder.merged(source, company, default_state_path().parent)
        chosen = folder.pick(source, company)
        return replace(from_mapping(raw, env, chosen, secrets=secrets), name=company)
    if company is not None:
        raise UsageError(f"--company {company}: {source} is one company's file, not a folder")
    return from_mapping(folder.read_mapping(source), env, source, secrets=secrets)


def from_mapping(
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    source: Path | None = None,
    *,
    secrets: bool = True,
) -> Config:
    """Validate an already-parsed config mapping (YAML or built by ``dksync init``);
    ``secrets=False`` leaves every secret empty and unchecked (see ``load_without_secrets``)."""
    reader = Reader(raw, env) if secrets else _WithoutSecrets(raw, env)
    reader.check_known()
    config = reader.build(source)
    if reader.problems:
        raise ConfigError(
            "the config has problems:\n  - " + "\n  - ".join(reader.hidden.mask(reader.problems))
        )
    assert config is not None
    return config
