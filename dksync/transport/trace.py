"""``-vv`` (and ``--log-file``): one DEBUG line per HTTP request, so the advice for an error
dksync has no rule for ("run again with -vv --log-file") shows what was asked and answered.
Never a body; the log filter masks every secret the transports registered."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger("dksync.http")


def traced(
    service: str,
    send: Callable[..., Any],
    method: str,
    url: str,
    path: str,
    params: Mapping[str, Any] | None,
) -> Callable[..., Any]:
    """``send(method, url, params=params, **options)``, with its trace line: "Moment GET
    /api/...?page=2 -> 200 in 12 ms" (the status, or the error when nothing answered)."""

    def call(**options: Any) -> Any:
        started = time.monotonic()
        try:
            response = send(method, url, params=params, **options)
        except Exception as exc:
            _line(service, f"{method} {path}", params, f"{type(exc).__name__}: {exc}", started)
            raise
        _line(service, f"{method} {path}", params, str(response.status_code), started)
        return response

    return call


def _line(
    service: str, request: str, params: Mapping[str, Any] | None, answer: str, since: float
) -> None:
    if log.isEnabledFor(logging.DEBUG):
        query = "?" + urlencode(params, doseq=True) if params else ""
        took = f"{(time.monotonic() - since) * 1000:.0f} ms"
        log.debug("%s %s%s -> %s in %s", service, request, query, answer, took)
