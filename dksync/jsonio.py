"""Exact JSON for money: parse numbers with a fraction into ``Decimal``, write ``Decimal`` as-is.

The standard ``json`` encoder cannot write a ``Decimal`` as a JSON number without going
through ``float``, which would break "money is Decimal from the parse on". This small
writer covers the JSON types dksync sends; everything else is a programming error.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

JsonValue = Any


def loads(text: str | bytes) -> JsonValue:
    """Parse JSON, turning every number with a fraction or exponent into ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


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
