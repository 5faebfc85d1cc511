"""Issue 17: an answer body is read within its cap however it is encoded, and a JSON
number is computed with only within its bounds (properties over generated input)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync import jsonio
from dksync.jsonio import MAX_EXPONENT, OutOfBounds
from dksync.moment.fields import FieldReader, parse_instant
from dksync.transport.body import TooLarge, Undecodable, read_capped


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@given(st.binary(max_size=5000), st.integers(1, 700), st.sampled_from(["gzip", "deflate", ""]))
def test_an_answer_under_its_cap_reads_back_whole_in_any_chunking(
    data: bytes, size: int, encoding: str
) -> None:
    wire = {"gzip": gzip.compress, "deflate": zlib.compress, "": bytes}[encoding](data)
    assert read_capped(_chunks(wire, size), encoding, cap=5000) == data


@given(st.integers(1, 4000), st.integers(1, 3), st.sampled_from(["gzip", ""]))
def test_an_answer_past_its_cap_is_refused_whatever_its_encoding(
    cap: int, members: int, encoding: str
) -> None:
    data = b"x" * (cap // members + 1)
    wire = (gzip.compress(data) if encoding else data) * members
    with pytest.raises(TooLarge):
        read_capped(_chunks(wire, 97), encoding, cap=cap)


def test_a_bomb_is_refused_after_inflating_little_more_than_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB in about 50 KB
    fed: list[int] = []

    def wire() -> Iterator[bytes]:
        for chunk in _chunks(bomb, 1000):
            fed.append(len(chunk))
            yield chunk

    with pytest.raises(TooLarge):
        read_capped(wire(), "gzip", cap=1_000_000)
    assert sum(fed) < len(bomb) / 10, "stopped early in the compressed stream"


@pytest.mark.parametrize(
    ("wire", "encoding"),
    [(b"not gzip", "gzip"), (gzip.compress(b"abc" * 100, mtime=0)[:-12], "gzip"), (b"x", "br")],
)
def test_an_answer_that_is_not_its_encoding_is_undecodable(wire: bytes, encoding: str) -> None:
    with pytest.raises(Undecodable):
        read_capped([wire], encoding)


@given(
    st.integers(0, 10**6),
    st.integers(-MAX_EXPONENT - 30, MAX_EXPONENT + 30),
    st.booleans(),
)
def test_a_json_number_is_a_decimal_exactly_when_its_exponent_is_within_bounds(
    digits: int, exponent: int, negative: bool
) -> None:
    text = f"{'-' if negative else ''}{digits}E{exponent:+d}"
    number = Decimal(text)
    value = jsonio.loads(f"[{text}]")[0]
    inside = exponent >= -MAX_EXPONENT and number.adjusted() <= MAX_EXPONENT
    if inside:
        assert value == number and isinstance(value, Decimal)
        assert len(jsonio.dumps(value)) < 2 * MAX_EXPONENT + 10
    else:
        assert isinstance(value, OutOfBounds)


@pytest.mark.parametrize(
    "text",
    [
        "1E+999999999",
        "1E-999999999",
        "0E-999999999",
        "1e99999999999999999999",
        "NaN",
        "-Infinity",
        "9" * 5000,
        "-" + "1" * 42,
    ],
)
def test_absurd_numbers_are_read_at_once_as_out_of_bounds_and_show_short(text: str) -> None:
    value = jsonio.loads(f'{{"n": {text}}}')["n"]
    assert isinstance(value, OutOfBounds)
    assert len(repr(value)) < 40 and "out of bounds" in repr(value)
    with pytest.raises(TypeError):
        jsonio.dumps(value)


def test_integers_of_up_to_41_digits_are_kept_exactly() -> None:
    assert jsonio.loads("9" * 41) == int("9" * 41)


@given(st.sampled_from(["1E+999999999", "1e-999999999", "9" * 5000, "1E+41", "-1E+5000"]))
def test_a_number_written_as_a_string_is_bounded_as_a_json_number_is(text: str) -> None:
    """Moment may send numbers as strings: ``int(Decimal("1E+999999999"))`` would spin for
    minutes, so a string is held to the same bounds before anything computes with it."""
    problems: list[str] = []
    reader = FieldReader({"n": text}, problems)
    assert reader.integer("n") is None and reader.decimal("n") is None
    assert len(problems) == 2 and all("out of bounds" in p for p in problems)


@pytest.mark.parametrize("text", ["1_000", "١٢", "NaN", "Infinity", "0x10", "", "1.", "12 kr"])
def test_a_string_that_is_no_plain_decimal_number_is_no_number(text: str) -> None:
    problems: list[str] = []
    assert FieldReader({"n": text}, problems).decimal("n") is None
    assert problems == [f"field 'n' should be a number, got {text!r}"]


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12
    )
)
def test_a_number_as_a_string_reads_as_the_same_number(value: Decimal) -> None:
    problems: list[str] = []
    assert FieldReader({"n": f" {value} "}, problems).decimal("n") == value and not problems


@pytest.mark.parametrize("value", [["finalized"], {"state": "finalized"}, 1, True])
def test_a_choice_given_a_list_or_object_is_a_problem_named_not_a_type_error(value: Any) -> None:
    problems: list[str] = []
    assert FieldReader({"state": value}, problems).choice("state", {"finalized": 1}, 0) == 0
    assert problems == [f"field 'state' should be one of finalized, got {value!r}"]


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00Z"]
)
def test_a_time_at_the_ends_of_the_calendar_is_a_problem_named_not_an_overflow(
    text: str,
) -> None:
    """Moved to UTC these overflow (``OverflowError``, not a ``ValueError``), and a cursor at
    year 1 overflows when the lookback is taken from it: a time outside 1900..2999 is no
    time, as a date there is none."""
    problems: list[str] = []
    assert FieldReader({"t": text}, problems).instant("t") is None
    assert problems == [f"field 't' should be an ISO-8601 time, got {text!r}"]
    with pytest.raises(ValueError):
        parse_instant(text)
