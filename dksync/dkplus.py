"""The DK+ (dkPlus) API client: endpoints, the response classifier, what is safe to repeat.

Creates of customers, projects and products are safe to repeat because a repeat that
collides answers 409, which the engine resolves. The invoice POST is never repeated: a
failure after sending raises ``UncertainWrite`` and the caller looks the reference up.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from dksync.errors import NotFound
from dksync.http import Kind, Pacer, RetryPolicy, Transport, Verdict, retry_after_seconds

API = "/api/v1"


def classify(status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
    """DK+'s answers: what each status means for dksync."""
    message = body.get("Message", "") if isinstance(body, Mapping) else str(body or "")
    if 200 <= status < 300:
        return Verdict(Kind.OK)
    if status == 404:
        return Verdict(Kind.NOT_FOUND, message)
    if status == 409:
        return Verdict(Kind.CONFLICT, message or "already exists")
    if status in (400, 422):
        return Verdict(Kind.REJECT, message or f"HTTP {status}")
    if status in (401, 403):
        return Verdict(Kind.FATAL, "DK+ refused the token (check dkplus.token)")
    if status == 429 or status >= 500:
        return Verdict(Kind.RETRY, message, retry_after_seconds(headers))
    return Verdict(Kind.FATAL, f"DK+ answered {status}: {message}")


def _segment(value: str) -> str:
    return quote(value, safe="")


class DkPlusClient:
    """Typed calls to the DK+ endpoints dksync uses; bodies and answers are plain dicts."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @classmethod
    def connect(
        cls,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        rate_limit: float | None = None,
    ) -> DkPlusClient:
        transport = Transport(
            name="DK+",
            base_url=base_url,
            classify=classify,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            policy=policy,
            pacer=Pacer(rate_limit),
        )
        return cls(transport)

    @property
    def requests_sent(self) -> int:
        return self._t.requests_sent

    def _get_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self._t.get(path, params)
        except NotFound:
            return None

    def connection(self) -> bool:
        return self._t.get(f"{API}/company/connection") is True

    def customer(self, number: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._get_or_none(f"{API}/customer/{_segment(number)}")
        return result

    def create_customer(self, body: Mapping[str, Any]) -> Any:
        return self._t.call("POST", f"{API}/customer", body=body, safe=True)

    def update_customer(self, number: str, body: Mapping[str, Any]) -> Any:
        return self._t.call("PUT", f"{API}/customer/{_segment(number)}", body=body, safe=True)

    def project(self, number: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._get_or_none(f"{API}/project/{_segment(number)}")
        return result

    def create_project(self, body: Mapping[str, Any]) -> Any:
        return self._t.call("POST", f"{API}/project", body=body, safe=True)

    def product(self, item_code: str) -> dict[str, Any] | None:
        if "/" in item_code:
            encoded = base64.b64encode(item_code.encode()).decode()
            path, params = f"{API}/Product/{_segment(encoded)}", {"isBase64": "true"}
        else:
            path, params = f"{API}/Product/{_segment(item_code)}", None
        result: dict[str, Any] | None = self._get_or_none(path, params)
        return result

    def create_product(self, body: Mapping[str, Any]) -> Any:
        return self._t.call("POST", f"{API}/Product", body=body, safe=True)

    def sales_person_exists(self, number: str) -> bool:
        return self._get_or_none(f"{API}/sales/person/{_segment(number)}") is not None

    def post_invoice(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create and book one invoice. Never repeated: may raise ``UncertainWrite``."""
        result: dict[str, Any] = self._t.call(
            "POST", f"{API}/sales/invoice", params={"post": "true"}, body=body, safe=False
        )
        return result

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]:
        """Every DK+ invoice carrying this reference (DK+ does not keep them unique)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._t.get(f"{API}/sales/invoice/reference/{_segment(reference)}/{page}/100")
            found.extend(batch or [])
            if not batch or len(batch) < 100:
                return found
            page += 1
