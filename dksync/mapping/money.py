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
