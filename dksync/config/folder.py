"""A folder of companies: every ``*.yaml`` in it is one company, named by its file stem.

A file whose name starts with ``_`` is not a company; ``_defaults.yaml`` is merged under
every company's file (a key the company sets wins, section by section). Each company has
its own state file: by default ``<data dir>/dksync/<company>.sqlite``; a ``state.path``
given in ``_defaults.yaml`` must hold ``{company}``, or every company would share one
state and one lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dksync.config.values import decode_utf8, parse_yaml
from dksync.errors import ConfigError, UsageError

DEFAULTS = "_defaults.yaml"
COMPANY_PLACEHOLDER = "{company}"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def companies(folder: Path) -> dict[str, Path]:
    """The company files of ``folder`` by name, sorted; a ``ConfigError`` when there is
    none or a name could not be a company's (a label in tables, metrics and logs)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_") or not path.is_file():
            continue
        if not _NAME.match(path.stem):
            raise ConfigError(
                f"{path}: a company file is named by letters, digits, '.', '_' or '-'"
            )
        found[path.stem] = path
    if not found:
        raise ConfigError(f"the config folder {folder} holds no company file (*.yaml)")
    return found


def pick(folder: Path, name: str) -> Path:
    """The file of the company ``--company`` names; wrong usage (exit 2) if there is none."""
    listed = companies(folder)
    if name not in listed:
        raise UsageError(
            f"--company {name}: no such company in {folder} (one of {', '.join(listed)})"
        )
    return listed[name]


def merged(folder: Path, name: str, data_dir: Path) -> dict[str, Any]:
    """The company's mapping with ``_defaults.yaml`` merged under it, and its state path
    made its own (``data_dir/<company>.sqlite`` when no file names one)."""
    path = pick(folder, name)
    defaults_file = folder / DEFAULTS
    defaults = read_mapping(defaults_file) if defaults_file.is_file() else {}
    own = read_mapping(path)
    raw = _merge(defaults, own)
    state = raw.get("state")
    own_state = own.get("state")
    own_path = own_state.get("path") if isinstance(own_state, Mapping) else None
    if isinstance(state, Mapping) and isinstance(state.get("path"), str):
        text = str(state["path"])
        if own_path is None and COMPANY_PLACEHOLDER not in text:
            raise ConfigError(
                f"{defaults_file}: state.path would be one state file for every company; "
                f"put {COMPANY_PLACEHOLDER} in it (such as state/{COMPANY_PLACEHOLDER}.sqlite)"
            )
        raw["state"] = {**state, "path": text.replace(COMPANY_PLACEHOLDER, name)}
    elif own_path is None:
        raw["state"] = {**(state or {}), "path": str(data_dir / f"{name}.sqlite")}
    return raw


def _merge(under: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``under``; mappings are merged key by key, anything else replaced."""
    result = dict(under)
    for key, value in over.items():
        below = result.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            result[key] = _merge(below, value)
        else:
            result[key] = value
    return result


def read_mapping(source: Path) -> dict[str, Any]:
    """One YAML file as a mapping of sections; a ``ConfigError`` names the file."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {source}: {exc.strerror}; "
            "pass --config PATH or set DKSYNC_CONFIG"
        ) from None
    raw = parse_yaml(source, decode_utf8(source, data)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"the config file {source} must hold a mapping of sections")
    return raw
