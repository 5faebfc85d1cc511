"""Moment's list envelope and single objects: what an answer must look like to be read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dksync.moment.names import (
    ENVELOPE_CONTENT,
    ENVELOPE_PAGE,
    TOTAL_ELEMENTS,
    TOTAL_PAGES,
)
from dksync.moment.paging import Page
from dksync.transport.body import describe


def envelope(body: Any) -> str | None:
    """A list page must be the ``{content, page}`` envelope: anything else (HTML, empty,
    ``{}``, a bare list) is a ``BadAnswer``, retried and then reported with its path."""
    if isinstance(body, Mapping) and isinstance(body.get(ENVELOPE_CONTENT), list):
        return None
    return f"{describe(body)}, not the {{content, page}} envelope of a list"


def an_object(body: Any) -> str | None:
    return None if isinstance(body, Mapping) and body else describe(body)


def unwrap(envelope: Any) -> Page:
    meta = envelope.get(ENVELOPE_PAGE)
    meta = meta if isinstance(meta, Mapping) else {}
    return Page(
        envelope[ENVELOPE_CONTENT], count(meta.get(TOTAL_PAGES)), count(meta.get(TOTAL_ELEMENTS))
    )


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
