"""``dksync init``: a commented config file from answers or flags, never over an existing one.

It fills in the example config that ships with dksync (every key documented there) and
never writes a secret: the file refers to ``${MOMENT_API_KEY}`` and ``${DKPLUS_API_TOKEN}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from dksync.config.keys import PROMPTED
from dksync.errors import ConfigError

FIELDS = PROMPTED  # the keys ``init`` asks for, from the key table


def template() -> str:
    return resources.files("dksync").joinpath("config.example.yaml").read_text(encoding="utf-8")


def defaults() -> dict[str, str]:
    """The example's own values for the fields ``init`` asks about."""
    text = template()
    return {key: _current(text, key) for key in FIELDS}


def _span(text: str, key: str) -> re.Match[str]:
    section, name = key.split(".")
    block = re.search(rf"^{section}:\n((?:[ #].*\n|\n)*)", text, re.MULTILINE)
    if block is None:
        raise ValueError(f"the template has no section {section}")
    line = re.compile(rf"^  {name}: (.*)$", re.MULTILINE).search(text, block.start(1), block.end(1))
    if line is None:
        raise ValueError(f"the template has no key {key}")
    return line


def _current(text: str, key: str) -> str:
    value = _span(text, key).group(1).strip()
    return value[1:-1] if value[:1] in "\"'" else value


def render(values: Mapping[str, str]) -> str:
    """The template with ``values`` ({"section.key": value}) filled in, comments kept."""
    text = template()
    for key, value in values.items():
        found = _span(text, key)
        text = text[: found.start(1)] + json.dumps(value, ensure_ascii=False) + text[found.end(1) :]
    return text


def write(path: Path, values: Mapping[str, str], force: bool) -> None:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(values), encoding="utf-8")
