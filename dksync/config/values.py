"""Checks of single config values that must hold before anything is sent: a config file
in UTF-8, secrets that fit in a header or an SMTP login, base URLs ``requests`` can use.
Messages name what is wrong, never a secret's value."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from dksync.errors import ConfigError
from dksync.kinds import ObjectKind


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


class Hidden:
    """Every value that is, or may be, a secret: masked in every config problem told (a
    secret put in the wrong key, or a secret's ``_FILE`` that holds the secret itself)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = set(values)

    def add(self, value: str) -> None:
        self.values.add(value)

    def unread_file(self, name: str) -> None:
        """A secret's file that cannot be read and does not look like a path may be the
        secret itself, pasted in the wrong place: never shown."""
        if "/" not in name and "\\" not in name:
            self.values.add(name)

    def mask(self, texts: list[str]) -> list[str]:
        """``texts`` with every such value masked, the longest first (values too short to
        be a secret are left alone)."""
        hidden = sorted((h for h in self.values if len(h) >= 4), key=len, reverse=True)
        told = []
        for text in texts:
            for value in hidden:
                text = text.replace(value, "***")
            told.append(text)
        return told


def kind_word(item: object) -> object:
    """ "invoice" or "Invoices" as "invoices"; anything else as it is (then refused)."""
    kind = ObjectKind.named(item) if isinstance(item, str) else None
    return item if kind is None else kind.value


def beside(source: Path | None, path: Path) -> Path:
    """A relative ``state.path`` is taken from the config file's folder, not the current
    one, so a run from another folder finds the same state."""
    path = path.expanduser()
    if path.is_absolute() or source is None:
        return path
    return source.parent.absolute() / path
