"""What a sandbox handler takes and gives: requests, replies, the request log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ADMIN_PREFIX = "/_sandbox"


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: Any
    params: tuple[str, ...] = ()
    key: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


@dataclass(frozen=True, slots=True)
class LogEntry:
    method: str
    path: str
    status: int
    fault: str | None
    body: Any = None


class BadRequest(Exception):
    """A handler's way to answer 4xx with a ``{"Message": ...}`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RawBody(bytes):
    """An answer body sent as it is (not JSON-encoded): HTML, empty, or broken JSON."""
