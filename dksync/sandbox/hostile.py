"""Answers no honest server sends, for the sandbox's bound knobs (see ``Knobs``): an answer
trickled a byte at a time, a gzip bomb, and numbers with absurd exponents.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from typing import Any

from dksync.jsonio import Literal

_MEMBER_MB = 64


@functools.cache
def _member() -> bytes:
    """One gzip member of ``_MEMBER_MB`` MB of spaces (about 64 KB): a bomb is many of them,
    so it is built in a blink however far it inflates."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    megabyte = b" " * 2**20
    packed = [packer.compress(megabyte) for _ in range(_MEMBER_MB)]
    return b"".join(packed) + packer.flush()


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip body (several members) that inflates to at least ``megabytes`` MB."""
    return _member() * max(1, -(-megabytes // _MEMBER_MB))


def with_numbers(body: Any, numbers: Mapping[str, str]) -> Any:
    """``body`` with every field named in ``numbers`` (at any depth) written as that JSON
    number text, e.g. ``{"creditDays": "1E+999999999"}``."""
    if isinstance(body, dict):
        return {
            key: Literal(numbers[key]) if key in numbers else with_numbers(value, numbers)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [with_numbers(item, numbers) for item in body]
    return body
