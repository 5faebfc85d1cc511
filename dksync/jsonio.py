"""Exact JSON for money: parse numbers with a fraction into ``Decimal``, write ``Decimal`` as-is.

The standard ``json`` encoder cannot write a ``Decimal`` as a JSON number without going
through ``float``, which would break "money is Decimal from the parse on"; ``dumps`` lets
it write a marker and puts the exact number in its place. Types other than JSON's,
``Decimal`` and ``Literal`` are a programming error.

Every number read is bounded both ways before anything computes with it: ``1E+999999999``
would spin ``int()`` for minutes and ``1E-999999999`` be written as a gigabyte of zeros.
A number whose exponent passes ``MAX_EXPONENT`` (or an integer of more digits, ``NaN``,
``Infinity``) is read as ``OutOfBounds``, a value of no number type, so the reader of that
field rejects the record with a reason and the rest of the answer is still read.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from decimal import Decimal
from typing import Any

JsonValue = Any

MAX_EXPONENT = 40
"""A number read must lie below 10**41 and have no digit below 10**-40."""


class OutOfBounds:
    """A JSON number past ``MAX_EXPONENT`` (shown shortened, never computed with)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 20 else text[:20] + "…"

    def __repr__(self) -> str:
        return f"{self.text} (out of bounds)"

    __str__ = __repr__


def _decimal(text: str) -> Decimal | OutOfBounds:
    exponent_digits = text.lower().partition("e")[2].lstrip("+-")
    if len(exponent_digits) > 9:  # past what Decimal itself takes
        return OutOfBounds(text)
    number = Decimal(text)
    exponent = number.as_tuple().exponent
    if (
        not isinstance(exponent, int)
        or exponent < -MAX_EXPONENT
        or number.adjusted() > MAX_EXPONENT
    ):
        return OutOfBounds(text)
    return number


def _integer(text: str) -> int | OutOfBounds:
    if len(text.lstrip("-")) > MAX_EXPONENT + 1:
        return OutOfBounds(text)
    return int(text)


_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def number_text(text: str) -> Decimal | OutOfBounds | None:
    """A number written as a string (``"18500.00"``, as Moment may send amounts), bounded
    exactly as a JSON number is; None when the text is no plain decimal number (digits
    other than 0-9, ``1_000``, ``NaN``, ``Infinity``). ``Decimal()`` alone would take all of
    those, and ``"1E+999999999"``, which ``int()`` spins on for minutes."""
    stripped = text.strip()
    if not _NUMBER_TEXT.fullmatch(stripped):
        return None
    return _decimal(stripped)


class Literal:
    """JSON text written as it is: the sandbox's way to send numbers no encoder would write
    (``1E+999999999``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def loads(text: str | bytes) -> JsonValue:
    """Parse JSON, turning every number with a fraction or exponent into ``Decimal`` and
    every number out of bounds into ``OutOfBounds``."""
    return json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=OutOfBounds)


def dumps(value: JsonValue, *, sort_keys: bool = False) -> str:
    """Serialise ``value`` to compact JSON; ``Decimal`` becomes a plain JSON number.

    The standard (C) encoder does the work: each ``Decimal`` (or ``Literal``) is written as
    a marker string unique to this call (a random token no data holds), and the markers are
    then replaced by the exact text. Several times faster than walking the value here."""
    token = secrets.token_hex(8)
    numbers: list[str] = []

    def number(item: Any) -> str:
        if isinstance(item, Literal):
            numbers.append(item.text)
        elif not isinstance(item, Decimal):
            raise TypeError(f"cannot write {type(item).__name__} as JSON")
        elif not item.is_finite():
            raise ValueError(f"cannot write {item} as JSON")
        else:
            numbers.append(format(item, "f"))
        return f"{_OPEN}{token}{len(numbers) - 1}{_CLOSE}"

    text = json.dumps(
        value, default=number, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":")
    )
    if not numbers:
        return text
    placed: list[int] = []

    def put(found: re.Match[str]) -> str:
        if found.group(1) != token:
            return found.group(0)  # text that only looks like a marker: left as it is
        placed.append(int(found.group(2)))
        return numbers[placed[-1]]

    written = _MARKER.sub(put, text)
    if sorted(placed) != list(range(len(numbers))):
        raise ValueError("a Decimal's place in the JSON was lost")
    return written


_OPEN, _CLOSE = "\ue000", "\ue001"
"""Private-use characters around a Decimal's marker (written as they are: ensure_ascii off)."""
_MARKER = re.compile(f'"{_OPEN}([0-9a-f]{{16}})(\\d+){_CLOSE}"')


def fingerprint(value: JsonValue) -> str:
    """A stable hash of a payload: same content, same hash, whatever the key order."""
    return hashlib.sha256(dumps(value, sort_keys=True).encode()).hexdigest()


def request_body(body: JsonValue) -> tuple[bytes | None, dict[str, str] | None]:
    """A request's body and its type: ``bytes`` go as plain text (a monitor's log), any
    other value as JSON."""
    if body is None:
        return None, None
    if isinstance(body, bytes):
        return body, {"Content-Type": "text/plain; charset=utf-8"}
    return dumps(body).encode(), {"Content-Type": "application/json"}
