"""The DK+ client of a dry run: every read goes to DK+, every write is only pretended.

With it the sync steps have no dry-run branches: they decide the same way and "write", and
the dry-run books (``DryBooks``) record what would have happened without storing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from dksync.dkplus.client import DkPlusClient
from dksync.kinds import ObjectKind


class DryDkPlus:
    """Reads pass through to DK+; creates, updates and posts do nothing."""

    def __init__(self, client: DkPlusClient) -> None:
        self._client = client

    def customer(self, number: str) -> dict[str, Any] | None:
        return self._client.customer(number)

    def project(self, number: str) -> dict[str, Any] | None:
        return self._client.project(number)

    def product(self, item_code: str) -> dict[str, Any] | None:
        return self._client.product(item_code)

    def sales_person_exists(self, number: str) -> bool:
        return self._client.sales_person_exists(number)

    def kennitala_holders(self, digits: str) -> list[str]:
        return self._client.kennitala_holders(digits)

    def payment_terms(self) -> list[str] | None:
        return self._client.payment_terms()

    def invoices_by_reference(self, reference: str) -> list[dict[str, Any]]:
        return self._client.invoices_by_reference(reference)

    def held_invoices(self, reference: str, on: date | None) -> list[dict[str, Any]]:
        return self._client.held_invoices(reference, on)

    def create_customer(self, body: Mapping[str, Any]) -> None:
        """Not sent: a dry run."""

    def update_customer(self, number: str, body: Mapping[str, Any]) -> None:
        """Not sent: a dry run."""

    def create_project(self, body: Mapping[str, Any]) -> None:
        """Not sent: a dry run."""

    def update_project(self, number: str, body: Mapping[str, Any]) -> None:
        """Not sent: a dry run."""

    def create_product(self, body: Mapping[str, Any]) -> None:
        """Not sent: a dry run."""

    def post_invoice(self, body: Mapping[str, Any]) -> str | None:
        """Not sent: a dry run has no DK+ number."""
        return None

    def forget(self, kind: ObjectKind, key: str) -> None:
        """Nothing is cached here."""
