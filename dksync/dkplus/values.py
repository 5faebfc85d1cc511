"""How DK+ writes values in its answers, read once here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dksync import jsonio

NO_DATE = date(1, 1, 1)
"""DK's "none" for a date (``DueDate`` "0001-01-01T00:00:00" when none was sent)."""


def dk_date(value: Any) -> date | None:
    """A DK+ date or date-time as a date; None when absent or DK's "none" (0001-01-01).
    ``ValueError`` when it is no date at all (never guessed)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    day = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    return None if day == NO_DATE else day


def dk_amount(value: Any) -> Decimal | None:
    """A DK+ amount (``TotalAmount``), a JSON number or one written as text, within the
    bounds every number dksync reads keeps; None when there is none it could mean (absent,
    ``NaN``, ``"1E+999999999"``, a list), never an exception in the arithmetic after."""
    number = jsonio.number_text(value) if isinstance(value, str) else value
    if isinstance(number, int | Decimal) and not isinstance(number, bool):
        amount = Decimal(number)
        return amount if amount.is_finite() else None
    return None
