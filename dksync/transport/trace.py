"""``-vv`` (and ``--log-file``): one DEBUG line per HTTP request, so the advice for an error
dksync has no rule for ("run again with -vv --log-file") shows what was asked and answered.
Never a body; the log filter masks every secret the transports registered."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger("dksync.http")


def trace(
    service: str, request: str, params: Mapping[str, Any] | None, answer: str, since: float
) -> None:
    """ "Moment GET /api/...?page=2 -> 200 in 12 ms": what was asked (``request`` is the
    method and path), what came back (a status, or why nothing did) and how long it took."""
    if log.isEnabledFor(logging.DEBUG):
        query = "?" + urlencode(params, doseq=True) if params else ""
        took = f"{(time.monotonic() - since) * 1000:.0f} ms"
        log.debug("%s %s%s -> %s in %s", service, request, query, answer, took)
