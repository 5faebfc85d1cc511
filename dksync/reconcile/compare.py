"""Does DK+ hold each final Moment invoice exactly once, as dksync would have sent it? (pure)

One answer per Moment invoice: matched, or one ``Problem``: ``missing`` (no DK+ invoice
carries its number as ``Reference``), ``duplicate`` (more than one does), or ``differs``
(one does, but its customer number, invoice date, currency or total without VAT is not
what Moment's invoice maps to). Totals may differ by rounding, at most 0.01 per line.
DK+ invoices whose reference is no Moment invoice of the period are not looked at.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dksync.errors import MalformedListing
from dksync.mapping import Mapped, MapResult
from dksync.mapping.invoices import reference
from dksync.mapping.money import CENT
from dksync.records import Invoice

# The DK+ invoice fields the comparison reads: what a list is asked to ``include``.
DK_FIELDS = ("Number", "Reference", "CNumber", "InvoiceDate", "Currency", "TotalAmount")


class ProblemKind(enum.Enum):
    MISSING = "missing"
    DUPLICATE = "duplicate"
    DIFFERS = "differs"


@dataclass(frozen=True, slots=True)
class Expected:
    """What one Moment invoice should look like in DK+. ``customer`` and ``total`` are None
    when the mapping cannot tell (dksync would reject the invoice); ``why_missing`` is what
    dksync's state says about it, used when DK+ does not have it."""

    invoice: str
    customer: str | None
    invoice_date: date
    currency: str
    total: Decimal | None
    lines: int
    why_missing: str


@dataclass(frozen=True, slots=True)
class Booked:
    """One DK+ sales invoice, as listed (only the compared fields)."""

    number: str
    reference: str
    customer: str | None
    invoice_date: date | None
    currency: str
    total: Decimal | None


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    invoice: str
    dk_numbers: tuple[str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class Result:
    matched: int
    problems: tuple[Problem, ...]

    def count(self, kind: ProblemKind) -> int:
        return sum(1 for p in self.problems if p.kind is kind)


def expected(
    invoice: Invoice,
    mapped: MapResult,
    customer_number: str | None,
    default_currency: str,
    why_missing: str,
) -> Expected:
    """What ``invoice`` maps to; when it cannot be mapped, what is known without the
    mapping (its date, its currency, the customer number when that maps)."""
    if isinstance(mapped, Mapped):
        body = mapped.payload
        return Expected(
            invoice=reference(invoice),
            customer=str(body["Customer"]["Number"]),
            invoice_date=invoice.invoice_date,
            currency=str(body.get("Currency") or default_currency),
            total=sum((Decimal(line["Total"]) for line in body["Lines"]), Decimal(0)),
            lines=len(body["Lines"]),
            why_missing=why_missing,
        )
    return Expected(
        invoice=reference(invoice),
        customer=customer_number,
        invoice_date=invoice.invoice_date,
        currency=invoice.currency or default_currency,
        total=None,
        lines=len(invoice.lines),
        why_missing=why_missing,
    )


def booked(raw: Mapping[str, Any], default_currency: str) -> Booked:
    """A listed DK+ invoice; ``MalformedListing`` when its number or reference is absent
    or a compared field has the wrong type (never guessed)."""
    number, ref = raw.get("Number"), raw.get("Reference")
    if not isinstance(number, str | int) or isinstance(number, bool) or number == "":
        raise MalformedListing(f"a DK+ invoice without a Number: {dict(raw)!r:.200}")
    if ref is not None and not isinstance(ref, str | int):
        raise MalformedListing(f"DK+ invoice {number} has a Reference of type {type(ref)}")
    customer = raw.get("CNumber")
    currency = raw.get("Currency")
    return Booked(
        number=str(number),
        reference=str(ref if ref is not None else "").strip(),
        customer=None if customer is None else str(customer).strip(),
        invoice_date=_day(raw.get("InvoiceDate"), number),
        currency=str(currency).strip().upper() if currency else default_currency.upper(),
        total=_amount(raw.get("TotalAmount"), number),
    )


def _day(value: Any, number: Any) -> date | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise MalformedListing(f"DK+ invoice {number} has InvoiceDate {value!r}") from exc


def _amount(value: Any, number: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedListing(f"DK+ invoice {number} has TotalAmount {value!r}") from exc
    if not amount.is_finite():
        raise MalformedListing(f"DK+ invoice {number} has TotalAmount {value!r}")
    return amount


def differences(want: Expected, have: Booked) -> list[str]:
    """Each compared field that differs, named, with Moment's and DK+'s values."""
    found: list[str] = []

    def differ(name: str, moment: object, dk: object) -> None:
        shown = "(none)" if dk is None else dk
        found.append(f"{name}: Moment {moment}, DK+ {shown}")

    if want.customer is not None and want.customer != have.customer:
        differ("customer number", want.customer, have.customer)
    if want.invoice_date != have.invoice_date:
        differ("invoice date", want.invoice_date.isoformat(), have.invoice_date)
    if want.currency.upper() != have.currency:
        differ("currency", want.currency.upper(), have.currency)
    if want.total is not None:
        allowed = CENT * max(1, want.lines)
        if have.total is None or abs(want.total - have.total) > allowed:
            differ("total without VAT", want.total, have.total)
    return found


def judge(want: Expected, found: Sequence[Booked]) -> Problem | None:
    """The problem with one Moment invoice given the DK+ invoices carrying its number."""
    numbers = tuple(b.number for b in found)
    if not found:
        return Problem(ProblemKind.MISSING, want.invoice, (), want.why_missing)
    if len(found) > 1:
        detail = f"DK+ holds {len(found)} invoices with reference {want.invoice}"
        return Problem(ProblemKind.DUPLICATE, want.invoice, numbers, detail)
    changed = differences(want, found[0])
    if changed:
        return Problem(ProblemKind.DIFFERS, want.invoice, numbers, "; ".join(changed))
    return None


def reconcile(wanted: Iterable[Expected], listed: Iterable[Booked]) -> Result:
    """Every Moment invoice against the DK+ invoices that carry its number."""
    by_reference: dict[str, list[Booked]] = {}
    for item in listed:
        by_reference.setdefault(item.reference, []).append(item)
    matched, problems = 0, []
    for want in wanted:
        found = sorted(by_reference.get(want.invoice, []), key=lambda b: _order(b.number))
        problem = judge(want, found)
        if problem is None:
            matched += 1
        else:
            problems.append(problem)
    problems.sort(key=lambda p: _order(p.invoice))
    return Result(matched, tuple(problems))


def _order(number: str) -> tuple[int, int, str]:
    """Numbers in numeric order, anything else after them."""
    return (0, int(number), "") if number.isdigit() else (1, 0, number)
