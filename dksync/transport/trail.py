"""The last request each thread sent, so that a record's unexpected failure can name the
endpoint it happened at (``DK+ PUT /api/v1/customer/10001``) without any secret."""

from __future__ import annotations

import threading

_LAST = threading.local()


def note(endpoint: str, url: str) -> str:
    """A request to ``url`` is about to be sent by this thread; answers ``url``."""
    _LAST.endpoint = endpoint
    return url


def last_endpoint() -> str | None:
    """The service, method and path of the last request this thread sent."""
    found: str | None = getattr(_LAST, "endpoint", None)
    return found


def forget_endpoint() -> None:
    """A record's step begins: a failure before any request names none."""
    _LAST.endpoint = None
