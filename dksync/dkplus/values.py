"""How DK+ writes values in its answers, read once here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
