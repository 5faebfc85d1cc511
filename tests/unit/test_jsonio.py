"""Exact JSON for money: Decimals are written as their own digits, nothing else changes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync import jsonio

MARKERLIKE = "\ue0000123456789abcdef0\ue001"


def test_decimals_are_written_as_their_digits_and_the_rest_as_json() -> None:
    body = {"b": [Decimal("3.50"), Decimal("0"), Decimal("-1E+2")], "a": "Þú", "c": None}
    assert jsonio.dumps(body) == '{"b":[3.50,0,-100],"a":"Þú","c":null}'
    assert jsonio.dumps(body, sort_keys=True) == '{"a":"Þú","b":[3.50,0,-100],"c":null}'
    assert jsonio.dumps((True, 1, 2.5, "x")) == '[true,1,2.5,"x"]'


def test_text_that_looks_like_a_marker_is_left_as_it_is() -> None:
    body = {"text": MARKERLIKE, "amount": Decimal("12.30")}
    assert jsonio.loads(jsonio.dumps(body)) == body


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_decimal_that_is_no_number_is_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="cannot write"):
        jsonio.dumps({"amount": value})


def test_other_types_are_a_programming_error() -> None:
    with pytest.raises(TypeError, match="cannot write set"):
        jsonio.dumps({"x": {1}})


money = st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
)
leaves = st.none() | st.booleans() | st.integers() | st.text() | money
documents = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(documents)
def test_what_is_written_reads_back_the_same(value: Any) -> None:
    text = jsonio.dumps(value)
    assert jsonio.loads(text) == value
    assert json.loads(jsonio.dumps(value, sort_keys=True), parse_float=Decimal) == value
