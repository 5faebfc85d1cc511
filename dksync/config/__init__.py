"""Configuration: YAML plus the environment, validated into a frozen ``Config``.

Every problem is reported with the key it concerns and what is wrong, never with a
traceback and never with a secret's value. Secrets are wrapped in ``Secret`` so that a
stray ``repr`` or log line shows ``***``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dksync.config.model import (
    OBJECT_TYPES,
    Config,
    DkPlusConfig,
    EmailConfig,
    MomentConfig,
    Secret,
    SyncConfig,
    default_state_path,
)
from dksync.config.reader import Reader
from dksync.config.values import decode_utf8
from dksync.errors import ConfigError

__all__ = [
    "DEFAULT_FILE",
    "OBJECT_TYPES",
    "Config",
    "DkPlusConfig",
    "EmailConfig",
    "MomentConfig",
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
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if problem else ""
        if "\t" in text and "'\\t'" in why:
            why += " (YAML indents with spaces, not tabs)"
        raise ConfigError(f"the config file {source} is not valid YAML{where}{why}") from None
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
    reader = Reader(raw, env) if secrets else _WithoutSecrets(raw, env)
    reader.check_known()
    config = reader.build(source)
    if reader.problems:
        raise ConfigError("the config has problems:\n  - " + "\n  - ".join(reader.problems))
    assert config is not None
    return config
