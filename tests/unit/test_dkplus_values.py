"""How DK+ writes values in its answers: its "no date" is none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dksync.dkplus.client import invoice_number
from dksync.dkplus.values import dk_amount, dk_date


def test_dk_s_year_one_is_no_date() -> None:
    assert dk_date("0001-01-01T00:00:00") is None
    assert dk_date("0001-01-01") is None
    assert dk_date(None) is None and dk_date("") is None


def test_a_real_date_or_date_time_is_its_day() -> None:
    assert dk_date("2026-11-15T00:00:00") == date(2026, 11, 15)
    assert dk_date("2026-11-15T23:59:59Z") == date(2026, 11, 15)
    assert dk_date("2026-11-15") == date(2026, 11, 15)


@pytest.mark.parametrize("value", ["yesterday", 20261115, True, "2026-13-01"])
def test_anything_else_is_not_guessed(value: object) -> None:
    with pytest.raises(ValueError):
        dk_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("478400", Decimal("478400")),
        (" 12.50 ", Decimal("12.50")),
        (Decimal("-3.5"), Decimal("-3.5")),
        (7, Decimal(7)),
        ("1E+999999999", None),
        ("NaN", None),
        ("-Infinity", None),
        ("1e-999999999", None),
        (True, None),
        ([1], None),
        (None, None),
    ],
)
def test_a_dk_amount_is_bounded_or_none_never_an_overflow_later(
    value: object, expected: Decimal | None
) -> None:
    """DK+'s TotalAmount "1E+999999999" passed Decimal() and overflowed in the comparison:
    the invoice was rejected as 'holds a number that cannot be an amount: fix it in Moment',
    blaming Moment for DK+'s number."""
    assert dk_amount(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14656", "14656"),
        (" 14656 ", "14656"),
        (14656, "14656"),
        (Decimal("14656.0"), "14656"),
        ("F-14656", "F-14656"),  # not digits: kept as DK+ wrote it, never a second POST
        (0, None),
        ("0", None),
        (True, None),
        (Decimal("1.5"), None),
        ([14656], None),
        ({"Value": 1}, None),
        ("  ", None),
        (None, None),
    ],
)
def test_an_invoice_number_is_a_positive_number_or_dk_s_own_text(
    value: object, expected: str | None
) -> None:
    assert invoice_number(value) == expected
