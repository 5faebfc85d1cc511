"""Products: every item code an invoice uses exists in DK+, at the VAT rate the line has.

DK+ books a line at its product's ``TaxPercent``, so an item code is used with one VAT
rate only. The rate of a code is the DK+ product's when DK+ holds it, else the rate it was
created with in this run; a line at another rate is rejected (``vat_mismatch``), naming the
product, both rates and what to fix, never booked at the product's rate. The rate is
settled and compared under the code's lock, so two invoices that race to create one code
at two rates cannot both pass, whichever comes first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from dksync.errors import Conflict, RecordRejected
from dksync.kinds import ObjectKind, ReasonCode
from dksync.mapping import Mapped
from dksync.outcome import Action, Outcome
from dksync.sync.books import product_key
from dksync.sync.context import RunContext


def ensure_products(ctx: RunContext, mapped: Mapped, *, recheck: bool = False) -> bool:
    """Make every item code of the invoice a DK+ product at the line's VAT rate; True when
    one had to be created. ``RecordRejected`` when a line's rate is not the product's."""
    created = False
    for product in mapped.needs:
        key = product_key(str(product["ItemCode"]))
        with ctx.lock(ObjectKind.PRODUCTS, key):
            if recheck:
                ctx.books.forget(ObjectKind.PRODUCTS, key)
                ctx.product_rates.drop(key)
            if ctx.product_rates.get(key) is None:
                created |= _ensure_product(ctx, key, product)
            _require_rate(ctx, key, product)
    return created


def _ensure_product(ctx: RunContext, key: str, product: dict[str, Any]) -> bool:
    """Learn the code's rate from DK+, or create the product at the line's rate."""
    code = str(product["ItemCode"])
    held = ctx.dkplus.product(code)
    if held is None:
        if not ctx.config.create_missing_products:
            raise RecordRejected(
                f"item code {code} is not a product in DK+ and "
                "invoices.create_missing_products is off: create it in DK+",
                ReasonCode.PRODUCT_MISSING,
            )
        try:
            ctx.dkplus.create_product(product)
        except Conflict:  # created meanwhile, not by this run: DK+ says its rate
            held = ctx.dkplus.product(code)
        else:
            created = Decimal(product["TaxPercent"])
            ctx.product_rates.set(key, created, f"product {code}, created in this run,")
            ctx.books.record(Outcome(ObjectKind.PRODUCTS, 0, code, Action.CREATE, payload=product))
            return True
    rate = None if held is None else _rate(code, held.get("TaxPercent"))
    ctx.product_rates.set(key, rate, f"DK+ product {code}")
    if ctx.books.standing(ObjectKind.PRODUCTS, key) is None:
        ctx.books.record(Outcome(ObjectKind.PRODUCTS, 0, code, Action.UNCHANGED))
    return False


def _rate(code: str, value: Any) -> Decimal | None:
    """A DK+ product's ``TaxPercent`` (None when the answer leaves it out)."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        rate = Decimal(str(value))
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite():
        raise RecordRejected(
            f"DK+ answered TaxPercent {value!r} for product {code}, not a number: "
            "check the product in DK+",
            ReasonCode.REFUSED,
        )
    return rate


def _require_rate(ctx: RunContext, key: str, product: dict[str, Any]) -> None:
    """The line's VAT rate is the product's, or the invoice is rejected saying what to fix."""
    known = ctx.product_rates.get(key)
    line_rate = Decimal(product["TaxPercent"])
    if known is None:
        return
    rate, source = known
    if rate is None:  # DK+ did not say: the first rate used in this run holds
        used = f"product {product['ItemCode']}, as used earlier in this run,"
        ctx.product_rates.set(key, line_rate, used)
        return
    if rate != line_rate:
        raise RecordRejected(
            f"item code {product['ItemCode']} is at {line_rate} % VAT on this invoice, but "
            f"{source} is at {rate} %: DK+ would book it at {rate} %. Not posted: give the "
            f"line a product at {line_rate} % in Moment, or fix the VAT of the line or of "
            "the product",
            ReasonCode.VAT_MISMATCH,
        )
