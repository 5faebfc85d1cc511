"""Moment customer → DK+ customer body (pure).

The kennitala goes in ``SSNumber`` (10 digits, no dash) when it is a usable one (a valid
date; a failed mod-11 check digit is allowed since February 2026), and on each invoice. DK+
has no city field: the city goes to ``Address3``. Numbers longer than 12 characters are
rejected, never truncated. ``link`` makes a Moment customer use an existing DK+ customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from dksync.mapping import Mapped, MapResult, Rejected
from dksync.mapping import kennitala as kt
from dksync.records import Customer, CustomerStatus

MAX_NUMBER_LENGTH = 12
BLOCKED_STATES = frozenset({CustomerStatus.BLOCKED, CustomerStatus.INACTIVE})


@dataclass(frozen=True, slots=True)
class CustomerRules:
    """How customers are written: payment terms by credit days, where Number comes from, and
    Moment customer numbers linked to an existing DK+ customer (``customers.link``)."""

    payment_terms: Mapping[int, str] = field(default_factory=dict)
    number_from: Literal["customer_number", "kennitala"] = "customer_number"
    link: Mapping[str, str] = field(default_factory=dict)


def dk_number(customer: Customer, rules: CustomerRules) -> str | Rejected:
    """The customer's DK+ number; invoices and projects must use the same one."""
    linked = rules.link.get(customer.number.strip())
    if linked is not None:
        return linked
    if rules.number_from == "kennitala":
        checked = kt.check(customer.kennitala)
        if checked.digits is None:
            return Rejected(
                (
                    f"customer {customer.number} {checked.error} "
                    "(customers.number_from is kennitala)",
                )
            )
        return checked.digits
    number = customer.number.strip()
    if not number:
        return Rejected((f"customer id {customer.id} has no customer number in Moment",))
    if len(number) > MAX_NUMBER_LENGTH:
        return Rejected(
            (
                f"customer number '{number}' has {len(number)} characters; DK+ allows "
                f"at most {MAX_NUMBER_LENGTH}: shorten it in Moment",
            )
        )
    return number


def map_customer(customer: Customer, rules: CustomerRules) -> MapResult:
    """The DK+ ``Customer`` body for a Moment customer, or the reasons it cannot be one."""
    number = dk_number(customer, rules)
    reasons = list(number.reasons) if isinstance(number, Rejected) else []
    if not customer.name.strip():
        reasons.append(f"customer {customer.number} has no name in Moment")
    term = None
    if rules.payment_terms and customer.credit_days is not None:
        term = rules.payment_terms.get(customer.credit_days)
        if term is None:
            reasons.append(
                f"customer {customer.number} has {customer.credit_days} credit days, "
                "which customers.payment_terms does not map to a DK+ term"
            )
    if reasons or isinstance(number, Rejected):
        return Rejected(tuple(reasons))
    address = customer.address
    payload = {
        "Number": number,
        "Name": customer.name.strip(),
        "Address1": address.line1 or "",
        "Address2": address.line2 or "",
        "Address3": address.city or "",
        "ZipCode": address.postal_code or "",
        "CountryCode": address.country_code or "",
        "Phone": customer.phone or "",
        "Email": customer.email or "",
        "Blocked": customer.status in BLOCKED_STATES,
    }
    if term is not None:
        payload["PaymentTerm"] = term
    digits = kt.check(customer.kennitala).digits
    if digits is not None:
        payload["SSNumber"] = digits
    return Mapped(payload)
