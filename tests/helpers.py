"""Helpers the integration tests share: config files for the sandbox, free ports, an inbox."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import yaml

from dksync.sandbox.pair import Sandbox


def config_file(sb: Sandbox, folder: Path, **sections: dict[str, Any]) -> Path:
    """A config file for ``sb`` with a short retry budget, ``sections`` merged over it."""
    raw = yaml.safe_load(sb.config_yaml(str(folder / "state.sqlite")))
    raw["sync"]["retry_for"] = "2s"
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    path = folder / "dksync.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"
