"""Reading an answer body within bounds, and saying what it is.

The body is read in chunks and inflated here (never by urllib3), with a cap on the bytes
after decompression: a 3 MB gzip that inflates to gigabytes is refused once it passes
``MAX_ANSWER_BYTES``, with no more than that in memory. Only the encodings dksync asks for
(``ACCEPT_ENCODING``) are taken.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from dksync import jsonio

MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""The largest answer dksync reads, after decompression: a full page of 1000 DK+ invoices
with their lines or of Moment's largest page is a few MB."""

CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE = 32 + zlib.MAX_WBITS  # gzip or zlib, told apart by the header
_STEP = 2**20  # inflated a megabyte at a time


class TooLarge(Exception):
    """The answer passed ``MAX_ANSWER_BYTES`` (after decompression)."""


class Undecodable(Exception):
    """The answer claims an encoding it does not hold, or one dksync did not ask for."""


def read_capped(chunks: Iterable[bytes], encoding: str, cap: int = MAX_ANSWER_BYTES) -> bytes:
    """The whole body from its raw ``chunks``, inflated as ``encoding`` (the
    Content-Encoding header) says; ``TooLarge`` as soon as it passes ``cap``."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        out = bytearray()
        for chunk in chunks:
            out += chunk
            if len(out) > cap:
                out.clear()  # the traceback a retry keeps must not keep the bytes
                raise TooLarge
        return bytes(out)
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise Undecodable(f"an encoding dksync did not ask for ({encoding[:20]})")
    return _inflate(chunks, cap)


def _inflate(chunks: Iterable[bytes], cap: int) -> bytes:
    """Inflate gzip or zlib data, member after member, never more than ``cap`` + 1 bytes."""
    out = bytearray()
    decoder, fed = zlib.decompressobj(_INFLATE), False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                out += decoder.decompress(data, min(cap + 1 - len(out), _STEP))
                fed = True
                if len(out) > cap:
                    out.clear()
                    raise TooLarge
                data = decoder.unconsumed_tail
                if decoder.eof:  # a gzip of several members: the next one follows
                    data = decoder.unused_data + data
                    decoder, fed = zlib.decompressobj(_INFLATE), False
    except zlib.error as exc:
        raise Undecodable("not the encoding it claims") from exc
    if fed:  # the stream stopped inside a member
        raise Undecodable("it broke off inside the compressed data")
    return bytes(out)


class NotJson(str):
    """The start of an answer body that is not JSON (an HTML error page from a proxy...)."""


def parse(content: bytes) -> Any:
    """The answer's JSON (numbers bounded, see ``jsonio``), ``None`` for an empty body, a
    ``NotJson`` for anything else."""
    if not content.strip():
        return None
    try:
        return jsonio.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return NotJson(content.decode("utf-8", "replace")[:500])


def describe(body: Any) -> str:
    """What an answer body is, in words for a message (never its content)."""
    if body is None:
        return "an empty body"
    if isinstance(body, NotJson):
        return "a body that is not JSON" + (" (an HTML page)" if "<" in body[:50] else "")
    if isinstance(body, dict):
        return "an empty JSON object" if not body else "a JSON object"
    if isinstance(body, list):
        return "a JSON list"
    return f"a JSON {type(body).__name__} ({str(body)[:20]})"
