"""The one interface the sync steps see of DK+: the real client (``client.py``), its
dry-run twin (``dry.py``) and the list-learning wrapper around either (``learned.py``)
all answer it, so a step never knows which it has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from dksync.kinds import ObjectKind


@dataclass(frozen=True, slots=True)
class Booked:
    """DK+'s answer to a booked invoice: its number, and its total without VAT when the
    answer says it (``TotalAmount``), so the run can tell at once if DK booked another
    amount than was sent."""

    number: str
    total: Decimal | None = None


class DkPlusApi(Protocol):
    """What the sync steps call on DK+: the client, its dry-run twin, or the list-learning
    wrapper around either (``learned.py``)."""

    def customer(self, number: str) -> dict[str, Any] | None: ...

    def project(self, number: str) -> dict[str, Any] | None: ...

    def product(self, item_code: str) -> dict[str, Any] | None: ...

    def sales_person_exists(self, number: str) -> bool: ...

    def kennitala_holders(self, digits: str) -> list[str]: ...

    def payment_terms(self) -> list[str] | None: ...

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]: ...

    def held_invoices(self, reference: str, on: date | None) -> list[dict[str, Any]]: ...

    def create_customer(self, body: Mapping[str, Any]) -> Any: ...

    def update_customer(self, number: str, body: Mapping[str, Any]) -> Any: ...

    def create_project(self, body: Mapping[str, Any]) -> Any: ...

    def update_project(self, number: str, body: Mapping[str, Any]) -> Any: ...

    def create_product(self, body: Mapping[str, Any]) -> Any: ...

    def post_invoice(self, body: Mapping[str, Any]) -> Booked | None: ...

    def forget(self, kind: ObjectKind, key: str) -> None: ...
