"""Money arithmetic: ``Decimal`` only, rounded half-up to whole cents when written."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def round_half_up(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Round to 2 decimals (by default), halves away from zero, as bookkeeping does."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


def price_with_surcharge(unit_price: Decimal, surcharge_percent: Decimal) -> Decimal:
    """DK+ has no surcharge: the surcharge is folded into the unit price."""
    return round_half_up(unit_price * (1 + surcharge_percent / HUNDRED))


def line_total(quantity: Decimal, price: Decimal, discount_percent: Decimal) -> Decimal:
    """DK+'s line total: quantity × price × (1 − discount/100), rounded half-up."""
    return round_half_up(quantity * price * (1 - discount_percent / HUNDRED))


LIMIT = Decimal(10) ** 12
"""The largest amount or quantity dksync writes: far beyond any real invoice line, and small
enough that every product of two of them stays exact in 28 digits."""


def amount_problem(value: Decimal, what: str, *, percent: bool = False) -> str | None:
    """Why ``value`` cannot be written as an amount (NaN, infinite, an absurd exponent, out of
    range; a percent outside 0..100), or None when it can."""
    if not value.is_finite():
        return f"{what} is not a number ({value})"
    if percent and not Decimal(0) <= value <= HUNDRED:
        return f"{what} {value} is not between 0 and 100 %"
    if abs(value) >= LIMIT:
        return f"{what} {value:.6g} is out of range"
    return None
