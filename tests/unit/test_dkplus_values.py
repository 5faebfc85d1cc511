"""How DK+ writes values in its answers: its "no date" is none."""

from __future__ import annotations

from datetime import date

import pytest

from dksync.dkplus.values import dk_date


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
