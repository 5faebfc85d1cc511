"""A 401 from DK+ told apart: a bad token, or a token without one part's permission.

DK+ tokens carry their user's rights per module, so a token that works for customers may
get 401 on sales invoices. ``Guarded`` wraps the DK+ transport: when DK+ answers 401/403 on
a path after it accepted the token (on an earlier request, or on ``company/connection``
asked then), the error becomes ``PermissionDenied`` naming the part (sales invoices,
products, ...) and, when this DK+ has ``GET /api/v1/permission``, the levels it reports.
A 401 there too, or on the connection itself, stays "check dkplus.token".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dksync.errors import (
    AccessDenied,
    Conflict,
    DksyncError,
    NotFound,
    PermissionDenied,
    RecordRejected,
)
from dksync.transport.http import Expect, Transport, anything

API = "/api/v1"
CONNECTION = f"{API}/company/connection"
PERMISSION = f"{API}/permission"
PARTS = (
    ("sales/invoice", "sales invoices"),
    ("sales/person", "sales persons"),
    ("customer", "customers"),
    ("project", "projects"),
    ("product", "products"),
    ("general/payment/term", "payment terms"),
)


def part_of(path: str) -> str | None:
    """The DK+ part (permission module) a path belongs to, in words; None for others."""
    rest = path[len(API) + 1 :].lower() if path.startswith(API + "/") else ""
    return next((part for prefix, part in PARTS if rest.startswith(prefix)), None)


class Guarded:
    """The transport's ``get`` and ``call``, with a 401/403 explained (see module doc)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._accepted = False

    @property
    def requests_sent(self) -> int:
        return self._t.requests_sent

    @property
    def latency(self) -> float | None:
        return self._t.latency

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, expect: Expect = anything
    ) -> Any:
        return self.call("GET", path, params=params, safe=True, expect=expect)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        safe: bool,
        expect: Expect = anything,
    ) -> Any:
        try:
            answer = self._t.call(method, path, params=params, body=body, safe=safe, expect=expect)
        except (NotFound, RecordRejected, Conflict):
            self._accepted = True  # DK+ judged the request, so it took the token
            raise
        except AccessDenied as exc:
            explained = self._explain(exc, method)
            if explained is exc:
                raise
            raise explained from exc
        self._accepted = True
        return answer

    def _explain(self, exc: AccessDenied, method: str) -> DksyncError:
        part = part_of(exc.path)
        if part is None or not (self._accepted or self._connection_ok()):
            return exc
        self._accepted = True
        return PermissionDenied(
            f"DK+ accepted the token but refuses {part} ({method} {exc.path} answered 401): "
            f"the token's user lacks the permission for {part} in DK+; grant it there (the "
            f"token itself works){self._levels()}",
            part,
        )

    def _connection_ok(self) -> bool:
        try:
            return self._t.get(CONNECTION) is True
        except DksyncError:
            return False

    def _levels(self) -> str:
        """``; DK+ permission levels: ...`` when this DK+ answers them, else nothing."""
        try:
            answer = self._t.get(PERMISSION)
        except DksyncError:
            return ""
        return f"; DK+ permission levels: {', '.join(shown)}" if (shown := levels(answer)) else ""


def levels(answer: Any) -> list[str]:
    """DK+'s permission answer in words, whatever its shape (not published): a list of
    objects (``Module: Level``) or one object of levels by module; [] for anything else."""
    if isinstance(answer, Mapping):
        return [f"{k}: {v}" for k, v in answer.items() if isinstance(v, str | int | bool)]
    if not isinstance(answer, list):
        return []
    shown = [
        ": ".join(str(v) for v in item.values() if isinstance(v, str | int | bool))
        for item in answer
        if isinstance(item, Mapping)
    ]
    return [text for text in shown if text]
