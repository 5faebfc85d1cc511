"""Facts about a service's address and credentials that the transport's messages need:
where it lives (``scheme://host:port``), why nothing answered there, and which secrets an
``Authorization`` header carries. Pure: no ``requests`` here (only ``http.py`` imports it).
"""

from __future__ import annotations

import base64
import binascii
import errno
import socket
import ssl
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit


def address(base_url: str) -> str:
    """``scheme://host:port`` of a base URL, the port spelled out, for messages."""
    try:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return base_url
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def credentials_in(headers: Mapping[str, str]) -> list[str]:
    """The secrets an ``Authorization`` header carries: the value, its credentials, and
    for Basic the decoded ``user:key`` and the key."""
    found: list[str] = []
    for name, value in headers.items():
        if name.lower() != "authorization":
            continue
        scheme, _, credential = value.partition(" ")
        found += [value, credential]
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            found += [decoded, decoded.partition(":")[2]]
    return [s for s in found if s]


# TLS errors that may also happen after the request left (a connection cut mid-answer):
# never taken as proof that nothing was sent.
_TLS_STREAM_ERRORS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything behind it (causes, contexts, urllib3's ``reason``)."""
    todo: list[Any] = [exc]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def unreachable_reason(exc: BaseException) -> str | None:
    """Why nothing answered at the address, when the request certainly never left."""
    for cause in causes(exc):
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
            return "unknown host name"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to the host"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate was refused ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, _TLS_STREAM_ERRORS):
            return f"the TLS handshake failed ({cause.reason or type(cause).__name__})"
    return None
