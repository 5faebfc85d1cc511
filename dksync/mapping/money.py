"""Money arithmetic: ``Decimal`` only, computed exactly and rounded half-up once, when written.

A unit price is kept as exact as Moment gives it (DK+ stores unit prices with more than two
decimals); only a line total is rounded, once, from the exact product. Amounts are compared
with DK+'s as DK keeps them: ISK in whole krónur, other currencies in cents.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

CENT = Decimal("0.01")
ONE = KRONA = Decimal(1)
ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_DECIMALS = 10
"""The most decimals dksync takes in an amount from Moment: more is no real price, and the
bound keeps every product below exact."""

EXACT = Context(
    prec=100,
    rounding=ROUND_HALF_UP,
    traps=[Inexact, InvalidOperation, Overflow, DivisionByZero],
)
"""Where prices and line totals are multiplied: wide enough that every product of checked
amounts is exact, and any that were not would raise (never rounded silently)."""


def round_half_up(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Round to 2 decimals (by default), halves away from zero, as bookkeeping does."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


# The arithmetic below calls EXACT's methods rather than entering ``localcontext(EXACT)``:
# the same operations in the same context (so the same results and the same traps), without
# a context copy per call (mapping is on the hot path: ``make bench``'s mapping rate).


def plain(value: Decimal) -> Decimal:
    """``value`` unrounded, written with as many decimals as it has and at least two."""
    text = str(value)
    point = text.find(".")
    if "E" not in text and (point < 0 or len(text) - point - 1 <= 2):  # the usual price
        return value.quantize(CENT, context=EXACT)
    exponent = value.normalize(EXACT).as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) and value else 2
    quantum = CENT if places == 2 else Decimal(1).scaleb(-places, EXACT)
    return value.quantize(quantum, context=EXACT)


def price_with_surcharge(unit_price: Decimal, surcharge_percent: Decimal) -> Decimal:
    """DK+ has no surcharge: the surcharge is folded into the unit price, exactly."""
    factor = EXACT.add(ONE, EXACT.divide(surcharge_percent, HUNDRED))
    return plain(EXACT.multiply(unit_price, factor))


def line_total(quantity: Decimal, price: Decimal, discount_percent: Decimal) -> Decimal:
    """A line's total: quantity × price × (1 − discount/100), exact, then rounded half-up
    to cents once."""
    product = EXACT.multiply(quantity, price)  # first, as ``quantity * price * (...)`` was
    share = EXACT.subtract(ONE, EXACT.divide(discount_percent, HUNDRED))
    return round_half_up(EXACT.multiply(product, share))


def tolerance(currency: str, lines: int) -> Decimal:
    """How far a DK+ total may lie from dksync's: DK keeps ISK amounts in whole krónur (a
    line may move by up to half a króna), other currencies in cents; per line."""
    per_line = KRONA if currency.strip().upper() == "ISK" else CENT
    return per_line * max(1, lines)


def amounts_agree(ours: Decimal, theirs: Decimal, currency: str, lines: int) -> bool:
    """Whether DK+'s total ``theirs`` is ``ours`` as DK keeps amounts: the one comparison
    adoption and ``reconcile`` both use."""
    return abs(ours - theirs) <= tolerance(currency, lines)


LIMIT = Decimal(10) ** 12
"""The largest amount or quantity dksync writes: far beyond any real invoice line."""


def amount_problem(value: Decimal, what: str, *, percent: bool = False) -> str | None:
    """Why ``value`` cannot be written as an amount (NaN, infinite, an absurd exponent, out of
    range, more than ``MAX_DECIMALS`` decimals; a percent outside 0..100), or None when it
    can."""
    if not value.is_finite():
        return f"{what} is not a number ({value})"
    if percent and not ZERO <= value <= HUNDRED:
        return f"{what} {value} is not between 0 and 100 %"
    if abs(value) >= LIMIT:
        return f"{what} {value:.6g} is out of range"
    exponent = value.normalize(EXACT).as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        return f"{what} {value:.12g} has more than {MAX_DECIMALS} decimals"
    return None


def is_amount(value: Decimal, *, percent: bool = False) -> bool:
    """``amount_problem(value, ...) is None``, without building its words: the quick
    answer for the usual amount (finite, in range, written with at most ``MAX_DECIMALS``
    decimals, trailing zeros included), else ``amount_problem``'s own."""
    if value.is_finite() and abs(value) < LIMIT and (not percent or ZERO <= value <= HUNDRED):
        text = str(value)
        point = text.find(".")
        if "E" not in text and (point < 0 or len(text) - point - 1 <= MAX_DECIMALS):
            return True
    return amount_problem(value, "", percent=percent) is None
