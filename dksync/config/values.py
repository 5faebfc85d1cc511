"""Checks of single config values that must hold before anything is sent: a config file
in UTF-8, secrets that fit in a header or an SMTP login, base URLs ``requests`` can use.
Messages name what is wrong, never a secret's value. And where a relative path points."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from dksync.errors import ConfigError


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


def beside(source: Path | None, path: Path) -> Path:
    """A relative ``state.path`` is taken from the config file's folder, not the current
    one, so a run from another folder finds the same state."""
    path = path.expanduser()
    if path.is_absolute() or source is None:
        return path
    return source.parent.absolute() / path
