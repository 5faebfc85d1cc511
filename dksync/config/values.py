"""Checks of single config values that must hold before anything is sent: a config file
in UTF-8 and of a bounded size (no alias bomb), secrets that fit in a header or an SMTP
login, base URLs ``requests`` can use. Messages name what is wrong, never a secret's value,
and echo a value only shortened (``shown``). And where a relative path points."""

from __future__ import annotations

import codecs
import re
import reprlib
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

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


MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_NODES = 10_000
"""The most values a config may hold once its aliases are expanded (a real one: ~100)."""
ECHO_CHARS = 60

_echo = reprlib.Repr()
_echo.maxlevel, _echo.maxdict, _echo.maxlist = 2, 4, 4
_echo.maxstring = _echo.maxother = ECHO_CHARS


def shown(value: Any) -> str:
    """A config value as a message may echo it: at most ``ECHO_CHARS`` characters."""
    return shortened(_echo.repr(value))


def shortened(text: str) -> str:
    """``text`` cut to ``ECHO_CHARS`` characters, an ellipsis saying so."""
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def parse_yaml(source: Path, text: str) -> Any:
    """The config file's YAML, refused quickly with a short message when it is too large, so
    nested that the parser would overflow, or holds aliases that expand past
    ``MAX_CONFIG_NODES`` values (a "billion laughs" in ``sync.objects``)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config file {source} is larger than {MAX_CONFIG_BYTES} bytes")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded(node, {}) > MAX_CONFIG_NODES:
            raise ConfigError(
                f"the config file {source} expands to more than {MAX_CONFIG_NODES} values "
                "(aliases that repeat each other?)"
            )
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if problem else ""
        if "'\\t'" in why:
            why += " (YAML indents with spaces, not tabs)"
        raise ConfigError(f"the config file {source} is not valid YAML{where}{why}") from None
    except (RecursionError, ValueError, OverflowError):
        raise ConfigError(
            f"the config file {source} holds a value YAML cannot build (nested too deep, or "
            "a number too long)"
        ) from None
    finally:
        loader.dispose()


def _expanded(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded (each node counted
    once per place it appears; a node that contains itself counts as too many)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = MAX_CONFIG_NODES + 1  # while counting: a cycle is too many
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded(k, sizes) + _expanded(v, sizes) for k, v in node.value)
    sizes[id(node)] = total = min(total, MAX_CONFIG_NODES + 1)
    return total


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
    undecodable bytes stay visible to ``secret_flaw`` as non-ASCII. A byte-order mark is
    read as one, not as part of the secret: Windows writes it (Notepad's "UTF-8 with BOM";
    PowerShell 5's ``echo token > file`` and ``Out-File`` write UTF-16 with its BOM), and
    the token copied again would hold the same invisible character."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    text = data.decode("utf-16" if utf16 else "utf-8-sig", "replace")
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


def beside(source: Path | None, path: Path) -> Path:
    """A relative ``state.path`` is taken from the config file's folder, not the current
    one, so a run from another folder finds the same state."""
    path = path.expanduser()
    if path.is_absolute() or source is None:
        return path
    return source.parent.absolute() / path


def unknown_urls(urls: list[str]) -> list[int]:
    """The 1-based positions of the URLs Apprise cannot use (Apprise is imported only
    when ``notify.urls`` is set; it is an optional extra)."""
    import apprise

    return [i for i, url in enumerate(urls, 1) if apprise.Apprise.instantiate(url) is None]
