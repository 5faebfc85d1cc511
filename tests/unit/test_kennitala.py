"""Kennitala checks: ten digits, a plausible date, mod-11 only a warning."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync.mapping import kennitala
from dksync.sandbox.kennitalas import make_kennitala


@pytest.mark.parametrize(
    ("text", "digits", "organisation"),
    [
        ("530269-2619", "5302692619", True),
        ("5302692619", "5302692619", True),
        ("120174-3389", "1201743389", False),
        (" 120174 3389 ", "1201743389", False),
    ],
)
def test_valid(text: str, digits: str, organisation: bool) -> None:
    checked = kennitala.check(text)
    assert checked.digits == digits and checked.error is None
    assert checked.is_organisation is organisation


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "has no kennitala"),
        ("", "has no kennitala"),
        ("1234-56", "not 10 digits"),
        ("12017433a9", "not 10 digits"),
        ("3202743389", "valid date"),
        ("1213743389", "valid date"),
        ("1201743385", "century digit"),
    ],
)
def test_rejected_with_reason(text: str | None, words: str) -> None:
    checked = kennitala.check(text)
    assert checked.digits is None and checked.error is not None and words in checked.error


def test_bad_check_digit_is_only_a_warning() -> None:
    checked = kennitala.check("120174-3379")
    assert checked.digits == "1201743379"
    assert checked.warning is not None and "mod-11" in checked.warning


@given(st.integers(min_value=0, max_value=2**32), st.booleans(), st.booleans())
def test_generated_numbers_always_pass_without_warning(seed: int, org: bool, dash: bool) -> None:
    text = make_kennitala(random.Random(seed), org, dash)
    checked = kennitala.check(text)
    assert checked.digits == text.replace("-", "")
    assert checked.warning is None and checked.is_organisation is org
