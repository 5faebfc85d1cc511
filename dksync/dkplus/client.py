"""The DK+ (dkPlus) API client: endpoints, the response classifier, what is safe to repeat.

Creates of customers, projects and products are safe to repeat because a repeat that
collides answers 409, which the engine resolves. The invoice POST is never repeated: a
failure after sending raises ``UncertainWrite`` and the caller looks the reference up.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from dksync.dkplus.access import Guarded
from dksync.errors import NotFound
from dksync.transport.body import describe
from dksync.transport.http import (
    Classifier,
    Endpoint,
    Expect,
    Kind,
    Transport,
    Verdict,
    retry_after_seconds,
)

API = "/api/v1"


# --- what a 2xx answer must be (anything else is a BadAnswer, never a success) ------------


def _object_with(key: str) -> Expect:
    """A JSON object carrying a non-empty ``key`` (the record's number)."""

    def check(body: Any) -> str | None:
        if isinstance(body, dict) and body.get(key) not in (None, ""):
            return None
        if isinstance(body, dict) and body:
            return f"a JSON object without {key}"
        return describe(body)

    return check


def _list_of_objects(body: Any) -> str | None:
    if isinstance(body, list) and all(isinstance(item, dict) for item in body):
        return None
    return describe(body) if not isinstance(body, list) else "a list of something else"


def _nothing_or_object(body: Any) -> str | None:
    """Creates and updates of customers declare no answer body: empty or an object is fine,
    an HTML page or a list is not."""
    return None if body is None or (isinstance(body, dict)) else describe(body)


def _terms(body: Any) -> str | None:
    """``[{ID, Number, Description}]``: every term has a code."""
    problem = _list_of_objects(body)
    if problem is None and any(t.get("Number") in (None, "") for t in body):
        return "a list with a term that has no Number"
    return problem


def _true(body: Any) -> str | None:
    return None if body is True else describe(body)


def classify(status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
    """DK+'s answers: what each status means for dksync."""
    message = body.get("Message", "") if isinstance(body, Mapping) else str(body or "")
    if 200 <= status < 300:
        return Verdict(Kind.OK)
    if status == 404:
        return Verdict(Kind.NOT_FOUND, message)
    if status == 405:
        return Verdict(Kind.REJECT, message or "HTTP 405: not allowed here")
    if status == 409:
        return Verdict(Kind.CONFLICT, message or "already exists")
    if status in (400, 422):
        return Verdict(Kind.REJECT, message or f"HTTP {status}")
    if status in (401, 403):
        return Verdict(
            Kind.DENIED,
            "DK+ refused the token (check dkplus.token, or DKPLUS_API_TOKEN / "
            "DKPLUS_API_TOKEN_FILE where it comes from)",
        )
    if status == 429 or status >= 500:
        return Verdict(Kind.RETRY, message, retry_after_seconds(headers))
    return Verdict(Kind.FATAL, f"DK+ answered {status}: {message}")


PAGE_SIZE, MAX_PAGES = 100, 50


def _segment(value: str) -> str:
    return quote(value, safe="")


def transport(endpoint: Endpoint, token: str, classifier: Classifier) -> Transport:
    """The HTTP transport to DK+ (bearer token, JSON) with the given answer classifier."""
    return Transport("DK+", endpoint, classifier, {"Authorization": f"Bearer {token}"})


class DkPlusClient:
    """Typed calls to the DK+ endpoints dksync uses; bodies and answers are plain dicts."""

    def __init__(self, transport: Transport) -> None:
        self._t = Guarded(transport)

    @classmethod
    def connect(cls, endpoint: Endpoint, token: str) -> DkPlusClient:
        """Give the list reader the same ``endpoint``, so both keep one rate limit."""
        return cls(transport(endpoint, token, classify))

    @property
    def requests_sent(self) -> int:
        return self._t.requests_sent

    @property
    def latency(self) -> float | None:
        """How long DK+ takes to answer, averaged over the latest requests (None before)."""
        return self._t.latency

    def _get_or_none(
        self, path: str, expect: Expect, params: Mapping[str, Any] | None = None
    ) -> Any:
        """The object, or None only on a 404: any other answer that is not the object is a
        ``BadAnswer`` (retried, then a ``ServiceError``), never "not found"."""
        try:
            return self._t.get(path, params, expect)
        except NotFound:
            return None

    def connection(self) -> bool:
        return self._t.get(f"{API}/company/connection", expect=_true) is True

    def customer(self, number: str) -> dict[str, Any] | None:
        path = f"{API}/customer/{_segment(number)}"
        result: dict[str, Any] | None = self._get_or_none(path, _object_with("Number"))
        return result

    def create_customer(self, body: Mapping[str, Any]) -> Any:
        return self._t.call(
            "POST", f"{API}/customer", body=body, safe=True, expect=_nothing_or_object
        )

    def update_customer(self, number: str, body: Mapping[str, Any]) -> Any:
        """PUT; ``NotFound`` when DK+ has no such customer (someone deleted it)."""
        path = f"{API}/customer/{_segment(number)}"
        return self._t.call("PUT", path, body=body, safe=True, expect=_nothing_or_object)

    def kennitala_holders(self, digits: str) -> list[str]:
        """The DK+ customers numbered by this kennitala, with or without its dash (DK's
        common convention; one GET per form). Only a list (``learned``) also finds one
        under another number by its ``SSNumber``."""
        found = []
        for number in (digits, f"{digits[:6]}-{digits[6:]}"):
            held = self.customer(number)
            if held is not None:
                found.append(str(held["Number"]))
        return found

    def payment_terms(self) -> list[str] | None:
        """The company's payment term codes; None when this DK+ has no such list (404)."""
        path = f"{API}/general/payment/term"
        terms = self._get_or_none(path, _terms)
        return None if terms is None else [str(t["Number"]) for t in terms]

    def project(self, number: str) -> dict[str, Any] | None:
        path = f"{API}/project/{_segment(number)}"
        result: dict[str, Any] | None = self._get_or_none(path, _object_with("Number"))
        return result

    def create_project(self, body: Mapping[str, Any]) -> Any:
        return self._t.call(
            "POST", f"{API}/project", body=body, safe=True, expect=_nothing_or_object
        )

    def update_project(self, number: str, body: Mapping[str, Any]) -> Any:
        """PUT (2026 Swagger only). ``NotFound`` (404) or ``RecordRejected`` (405, 400) when
        this DK+ has no such project or no project update: the caller reports drift."""
        path = f"{API}/project/{_segment(number)}"
        return self._t.call("PUT", path, body=body, safe=True, expect=_nothing_or_object)

    def product(self, item_code: str) -> dict[str, Any] | None:
        if "/" in item_code:
            encoded = base64.b64encode(item_code.encode()).decode()
            path, params = f"{API}/Product/{_segment(encoded)}", {"isBase64": "true"}
        else:
            path, params = f"{API}/Product/{_segment(item_code)}", None
        result: dict[str, Any] | None = self._get_or_none(path, _object_with("ItemCode"), params)
        return result

    def create_product(self, body: Mapping[str, Any]) -> Any:
        return self._t.call(
            "POST", f"{API}/Product", body=body, safe=True, expect=_nothing_or_object
        )

    def sales_person_exists(self, number: str) -> bool:
        path = f"{API}/sales/person/{_segment(number)}"
        return self._get_or_none(path, _object_with("Number")) is not None

    def post_invoice(self, body: Mapping[str, Any]) -> str:
        """Create and book one invoice; the DK+ invoice number. Never repeated: an answer
        without the number (or none at all) raises ``UncertainWrite``."""
        answer = self._t.call(
            "POST",
            f"{API}/sales/invoice",
            params={"post": "true"},
            body=body,
            safe=False,
            expect=_object_with("Number"),
        )
        return str(answer["Number"])

    def forget(self, kind: str, key: str) -> None:
        """Nothing is cached in this client: every lookup asks DK+."""

    def held_invoices(self, reference: str, on: date | None) -> list[dict[str, Any]]:
        """The invoices DK+ holds under this reference (``on``, the invoice date, lets a list
        answer it, None its whole history; this client asks one by one)."""
        return self.invoices_by_reference(reference)

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]:
        """Every DK+ invoice carrying this reference (DK+ does not keep them unique).

        Only a well-formed list means "none"; a 404 means none too. Pages are read until an
        empty one: a short page is not taken as the end (DK+ may cap page sizes). The answered
        ``Reference`` is compared here, since the match is not documented as exact."""
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            path = f"{API}/sales/invoice/reference/{_segment(reference)}/{page}/{PAGE_SIZE}"
            try:
                batch = self._t.get(path, expect=_list_of_objects)
            except NotFound:
                return found
            if not batch:
                return found
            found.extend(i for i in batch if str(i.get("Reference", reference)) == reference)
        return found
