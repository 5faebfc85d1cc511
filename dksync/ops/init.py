"""``dksync init``: a commented config file from answers or flags, never over an existing one.

It fills in the example config that ships with dksync (every key documented there) and
never writes a secret: the file refers to ``${MOMENT_API_KEY}`` and ``${DKPLUS_API_TOKEN}``.
It writes no payment term code it has not seen: the example's table stays commented, and
when the token is in the environment and DK+ answers, the company's own codes are named
above it (which credit days map to which code is for a person to say).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import yaml

from dksync.config import from_mapping
from dksync.config.keys import PROMPTED
from dksync.config.values import one_line
from dksync.dkplus.client import DkPlusClient
from dksync.errors import ConfigError, DksyncError
from dksync.transport.http import Endpoint, RetryPolicy

TERMS_LINE = "  # payment_terms:\n"

FIELDS = PROMPTED  # the keys ``init`` asks for, from the key table


PLACEHOLDERS = {"moment.company": frozenset({"mycompany", "company", "changeme", "xxx"})}
"""The example's stand-in values: a config holding one reaches no real account."""


def flaw(key: str, value: str, others: Mapping[str, str]) -> str | None:
    """What is wrong with one answer, by the same rules as the config loader (checked with
    the other answers, or the example's values, around it), or None when it is right."""
    if value.strip().lower() in PLACEHOLDERS.get(key, frozenset()):
        return f"{value!r} is the example's placeholder; give the real value"
    try:
        from_mapping(yaml.safe_load(render({**others, key: value})), env={}, secrets=False)
    except ConfigError as exc:
        mine = [p.strip()[2:] for p in str(exc).splitlines() if p.strip().startswith(f"- {key}:")]
        return mine[0].split(": ", 1)[1] if mine else None
    return None


def check_answers(values: Mapping[str, str]) -> None:
    """Every answer checked at once (those given as options), each problem named by key."""
    problems = [f"{k}: {why}" for k, v in values.items() if (why := flaw(k, v, values))]
    if problems:
        raise ConfigError("the answers have problems:\n  - " + "\n  - ".join(problems))


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


def company_terms(base_url: str, env: Mapping[str, str]) -> list[str] | None:
    """The DK+ company's payment term codes, when the token is in the environment
    (``DKPLUS_API_TOKEN`` or ``_FILE``) and DK+ answers; else None (init goes on)."""
    token = env.get("DKPLUS_API_TOKEN")
    try:
        if not token and env.get("DKPLUS_API_TOKEN_FILE"):
            token = one_line(Path(env["DKPLUS_API_TOKEN_FILE"]).read_bytes())
        if not token:
            return None
        policy = RetryPolicy(attempts=2, max_total_seconds=10)
        endpoint = Endpoint(base_url, timeout=10, policy=policy)
        return DkPlusClient.connect(endpoint, token).payment_terms()
    except (DksyncError, OSError):
        return None


def render(values: Mapping[str, str], terms: Sequence[str] = ()) -> str:
    """The template with ``values`` ({"section.key": value}) filled in, comments kept, and
    the company's ``terms`` (read from DK+) named above the commented term table."""
    text = template()
    if terms:
        note = f"  # This DK+ company's term codes (read by dksync init): {', '.join(terms)}\n"
        text = text.replace(TERMS_LINE, note + TERMS_LINE, 1)
    for key, value in values.items():
        found = _span(text, key)
        text = text[: found.start(1)] + json.dumps(value, ensure_ascii=False) + text[found.end(1) :]
    return text


def write(path: Path, values: Mapping[str, str], force: bool, terms: Sequence[str] = ()) -> None:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(values, terms), encoding="utf-8")
