"""Does DK+ hold each final Moment invoice exactly once, as Moment billed it? (pure)

One answer per Moment invoice: matched, or one ``Problem``: ``missing`` (no DK+ invoice
carries its number as ``Reference``), ``duplicate`` (more than one does), or ``differs``
(one does, but its customer number, invoice date, currency or total without VAT is not
Moment's). What DK+ should hold comes from Moment's own numbers, never from dksync's
mapping, so a mapping error shows as ``differs``. Totals are compared as DK keeps them
(``money.amounts_agree``: ISK to a króna per line, other currencies to a cent).
DK+ invoices whose reference is no Moment invoice of the period are not looked at.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dksync.dkplus.values import dk_amount, dk_date
from dksync.errors import MalformedListing
from dksync.mapping.invoices import reference
from dksync.mapping.money import amount_problem, amounts_agree, line_total, price_with_surcharge
from dksync.records import Invoice, InvoiceLine

# The DK+ invoice fields the comparison reads: what a list is asked to ``include``.
DK_FIELDS = ("Number", "Reference", "CNumber", "InvoiceDate", "Currency", "TotalAmount")


class ProblemKind(enum.Enum):
    MISSING = "missing"
    DUPLICATE = "duplicate"
    DIFFERS = "differs"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Expected:
    """What one Moment invoice should look like in DK+. ``customer`` and ``total`` are None
    when Moment's own numbers cannot tell (no readable customer, a line without an amount);
    ``why_missing`` is what dksync's state says about it, used when DK+ does not have it."""

    invoice: str
    customer: str | None
    invoice_date: date
    currency: str
    total: Decimal | None
    lines: int
    why_missing: str
    unreadable: str | None = None


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
    invoice: Invoice, customer: str | None, default_currency: str, why_missing: str
) -> Expected:
    """What DK+ should hold for ``invoice``, from Moment's numbers only: ``customer`` is
    the DK+ number Moment's invoice names (see ``gather``), the total is Moment's."""
    total = moments_total(invoice)
    gaps = [
        *(["its lines hold no usable amount"] if total is None else []),
        *(["its customer cannot be told"] if customer is None else []),
    ]
    return Expected(
        invoice=reference(invoice),
        customer=customer,
        invoice_date=invoice.invoice_date,
        currency=(invoice.currency or default_currency).strip().upper(),
        total=total,
        lines=len(invoice.lines),
        why_missing=why_missing,
        unreadable=f"{' and '.join(gaps)}, so not compared whole" if gaps else None,
    )


def moments_total(invoice: Invoice) -> Decimal | None:
    """The sum of Moment's line totals, signed as Moment signs them (a line without one:
    Moment's own formula, rounded once). None when a line holds no usable amount."""
    total = Decimal(0)
    for line in invoice.lines:
        amount = _line_amount(line)
        if amount is None:
            return None
        total += amount
    return total


def _line_amount(line: InvoiceLine) -> Decimal | None:
    if line.line_total is not None:
        return None if amount_problem(line.line_total, "total") else line.line_total
    values = (line.quantity, line.unit_price, line.discount_percent, line.surcharge_percent)
    if any(amount_problem(value, "amount") for value in values):
        return None
    price = price_with_surcharge(line.unit_price, line.surcharge_percent)
    return line_total(line.quantity, price, line.discount_percent)


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
    try:
        return dk_date(value)
    except ValueError as exc:
        raise MalformedListing(f"DK+ invoice {number} has InvoiceDate {value!r}") from exc


def _amount(value: Any, number: Any) -> Decimal | None:
    """DK+'s total, read as every DK+ amount is (``dk_amount``: bounded, so
    ``"1E+999999999"`` cannot overflow the comparison); one that is none is malformed."""
    if value is None:
        return None
    amount = dk_amount(value)
    if amount is None:
        raise MalformedListing(f"DK+ invoice {number} has TotalAmount {str(value)[:30]!r}")
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
    if want.total is not None and not _same_total(want, have.total):
        differ("total without VAT", want.total, have.total)
    return found


def _same_total(want: Expected, total: Decimal | None) -> bool:
    if want.total is None or total is None:
        return want.total is None
    return amounts_agree(want.total, total, want.currency, want.lines)


def judge(want: Expected, found: Sequence[Booked]) -> Problem | None:
    """The problem with one Moment invoice given the DK+ invoices carrying its number."""
    numbers = tuple(b.number for b in found)
    if not found:
        return Problem(ProblemKind.MISSING, want.invoice, (), want.why_missing)
    if len(found) > 1:
        detail = f"DK+ holds {len(found)} invoices with reference {want.invoice}"
        return Problem(ProblemKind.DUPLICATE, want.invoice, numbers, detail)
    changed = differences(want, found[0])
    if want.unreadable is not None:
        detail = "; ".join([want.unreadable, *changed])
        return Problem(ProblemKind.UNREADABLE, want.invoice, numbers, detail)
    if changed:
        return Problem(ProblemKind.DIFFERS, want.invoice, numbers, "; ".join(changed))
    return None


def reconcile(
    wanted: Iterable[Expected], listed: Iterable[Booked], unreadable: Iterable[Problem] = ()
) -> Result:
    """Every Moment invoice against the DK+ invoices that carry its number; ``unreadable``
    are the Moment invoices that could not even be parsed (each a problem)."""
    by_reference: dict[str, list[Booked]] = {}
    for item in listed:
        by_reference.setdefault(item.reference, []).append(item)
    wanted = list(wanted)
    sharing = Counter(want.invoice for want in wanted)
    matched, problems, told = 0, list(unreadable), set()
    for want in wanted:
        found = sorted(by_reference.get(want.invoice, []), key=lambda b: _order(b.number))
        if sharing[want.invoice] > 1:  # DK+ holds one invoice per number at most: told once
            if want.invoice not in told:
                problems.append(_shared_number(want.invoice, sharing[want.invoice], found))
                told.add(want.invoice)
            continue
        problem = judge(want, found)
        if problem is None:
            matched += 1
        else:
            problems.append(problem)
    problems.sort(key=lambda p: _order(p.invoice))
    return Result(matched, tuple(problems))


def _shared_number(number: str, moments: int, found: Sequence[Booked]) -> Problem:
    """Moment invoices sharing one number: DK+ may hold one of them (``duplicate_number``
    keeps the others out), so at least one final Moment invoice is not in DK+."""
    detail = (
        f"{moments} final Moment invoices share number {number}; DK+ holds {len(found)} "
        "with that reference: give each its own number in Moment"
    )
    return Problem(ProblemKind.DUPLICATE, number, tuple(b.number for b in found), detail)


def _order(number: str) -> tuple[int, int, str]:
    """Numbers in numeric order, anything else after them."""
    return (0, int(number), "") if number.isdigit() else (1, 0, number)
