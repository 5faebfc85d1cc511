"""Checks of single config values that must hold before anything is sent: a config file
in UTF-8, secrets that fit in a header or an SMTP login, base URLs ``requests`` can use.
Messages name what is wrong, never a secret's value."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from dksync.errors import ConfigError

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


_LONGEST = timedelta(days=3650)


def parse_duration(text: str) -> timedelta | None:
    """``10m``, ``2h``, ``30s``, ``1d`` as a duration, at most ten years (a longer one is
    taken as ten years: no date arithmetic overflows); None when it is not one."""
    match = _DURATION.match(text.strip())
    if not match:
        return None
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    return timedelta(seconds=min(seconds, int(_LONGEST.total_seconds())))


def decode_utf8(source: Path, data: bytes) -> str:
    """The file as text; a byte that is not UTF-8 is named by line, never shown in a traceback."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"the config file {source} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line "
            f"{line}; save it as UTF-8"
        ) from None


def one_line(data: bytes) -> str:
    """A secret file's text with one trailing line break (``\\n`` or ``\\r\\n``) dropped;
    undecodable bytes stay visible to ``secret_flaw`` as non-ASCII."""
    text = data.decode("utf-8", "replace")
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def secret_flaw(value: str) -> str | None:
    """Why a secret cannot be sent in a header or an SMTP login, never showing it."""
    if any(c in "\r\n" for c in value):
        return "holds a line break (a second line?); it must be one line"
    if not value.isascii():
        return "holds a character that is not ASCII; copy it again from the service"
    if any(not c.isprintable() for c in value):
        return "holds a control character (a tab?); copy it again from the service"
    if value != value.strip():
        return "starts or ends with a space"
    return None


def url_flaw(value: str) -> str | None:
    """What is wrong with a base URL, or None when requests can use it as it is."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return "it holds a space or a control character"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it needs http:// or https:// and a host name"
    if port == 0:
        return "port 0 cannot be reached"
    if parts.query or parts.fragment:
        return "it must not hold ? or #"
    return None
