"""Exact JSON for money: parse numbers with a fraction into ``Decimal``, write ``Decimal`` as-is.

The standard ``json`` encoder cannot write a ``Decimal`` as a JSON number without going
through ``float``, which would break "money is Decimal from the parse on". This small
writer covers the JSON types dksync sends; everything else is a programming error.

Every number read is bounded both ways before anything computes with it: ``1E+999999999``
would spin ``int()`` for minutes and ``1E-999999999`` be written as a gigabyte of zeros.
A number whose exponent passes ``MAX_EXPONENT`` (or an integer of more digits, ``NaN``,
``Infinity``) is read as ``OutOfBounds``, a value of no number type, so the reader of that
field rejects the record with a reason and the rest of the answer is still read.
"""

from __future__ import annotations

import hashlib
import json
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


class Literal(str):
    """JSON text written as it is: the sandbox's way to send numbers no encoder would write
    (``1E+999999999``)."""


def loads(text: str | bytes) -> JsonValue:
    """Parse JSON, turning every number with a fraction or exponent into ``Decimal`` and
    every number out of bounds into ``OutOfBounds``."""
    return json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=OutOfBounds)


def dumps(value: JsonValue, *, sort_keys: bool = False) -> str:
    """Serialise ``value`` to compact JSON; ``Decimal`` becomes a plain JSON number."""
    parts: list[str] = []
    _write(value, parts, sort_keys)
    return "".join(parts)


def _write(value: JsonValue, out: list[str], sort_keys: bool) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, Literal):
        out.append(value)
    elif value is None or isinstance(value, bool | int | float | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out, sort_keys)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, sort_keys)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


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
