"""Reading one Moment list without trusting it.

Moment may cap a page silently, ignore the date filter or the sort, repeat a page, or send
no page metadata; none of that may end a read early or make it endless. A list ends only
when ``totalPages``/``totalElements`` say so, or on an empty page when they are absent.

While the answers look honest (in ascending order, inside the asked range, totals that
add up) each request starts at the newest time read so far (key paging: an object changed
during the read moves ahead instead of shifting another out of an offset page). Once an
answer is not, the read starts over by page offsets from the asked time, and the cursor
may move only when that read is complete. A page of objects all read already ends the read
with a warning, and so does the bound on pages per read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from threading import Thread
from typing import Any

from dksync.moment.parsing import format_instant, record_key

MAX_PAGES = 10_000
FUTURE_SKEW = timedelta(minutes=5)
WINDOW = 10_000
Key = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class Page:
    content: list[Any]
    total_pages: int | None
    total_elements: int | None


FetchPage = Callable[[datetime | None, int, int], Page]
Answer = tuple[Page, datetime | None]
"""A page and Moment's clock as it answered (what a future-stamped record is told by)."""


class _Window:
    """The keys (time, id) of the last ``WINDOW`` objects read, to tell a repeated page and
    hand each version of an object out once (a newer version of one read before is new)."""

    def __init__(self) -> None:
        self._order: deque[Key] = deque()
        self._keys: set[Key] = set()

    def add(self, key: Key) -> bool:
        if key in self._keys:
            return False
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > WINDOW:
            self._keys.discard(self._order.popleft())
        return True

    def clear(self) -> None:
        self._order.clear()
        self._keys.clear()


@dataclass
class _Position:
    bound: datetime | None
    page: int
    size: int
    by_key: bool = True
    received: int = 0
    widest: int = 0  # the most objects one answer held: Moment's real page size, at least
    before: tuple[int, int] | None = None  # (totalElements, read below the new bound)


@dataclass(frozen=True)
class PageBounds:
    """How much of a list one read asks for at a time, and at most in all (an endless
    list must end somewhere)."""

    size: int
    most: int = MAX_PAGES


class ListRead:
    """One read of a list from ``since``. Iterate it for the objects (each once); then
    ``complete``, ``ordered``, ``newest_read`` and ``clock_limit`` say how far a cursor may
    move, and ``warnings`` what a person should know."""

    def __init__(
        self,
        kind: str,
        since: datetime | None,
        fetch: FetchPage,
        bounds: PageBounds,
        *,
        prepare: Callable[[Any], Any] = lambda raw: raw,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.kind, self.since, self._fetch, self._prepare = kind, since, fetch, prepare
        self._clock, self._size, self._max_pages = clock, bounds.size, bounds.most
        self.complete, self.ordered, self.pages = False, True, 0
        self.newest_read: datetime | None = None
        self.clock_limit: datetime | None = None
        self.warnings: list[str] = []
        self._ahead_first: str | None = None  # stamped later than Moment's clock: the first
        self._ahead_count = 0  # and how many
        self._clock_seen: datetime | None = None
        self._first: Future[Answer] | None = None

    def start(self) -> None:
        """Ask for the first page now, on a thread of its own, so the first answers of
        several reads come back together: a run with nothing to do waits one answer time,
        not one per kind. The iteration takes the answer, or raises its error, where it
        would have asked; an answer never taken (the run stopped first) is dropped."""
        if self._first is None and not self.pages:
            first: Future[Answer] = Future()
            name = f"dksync-read-{self.kind}"
            Thread(target=self._fill, args=(first,), name=name, daemon=True).start()
            self._first = first

    def _fill(self, first: Future[Answer]) -> None:
        try:
            first.set_result(self._answer(self.since, 0, self._size))
        except BaseException as exc:  # handed to the iteration, which raises it
            first.set_exception(exc)

    def _answer(self, bound: datetime | None, page: int, size: int) -> Answer:
        content = self._fetch(bound, page, size)
        return content, self._clock() if self._clock else None

    def _ask(self, at: _Position) -> Answer:
        first, self._first = self._first, None
        if first is not None and (at.bound, at.page, at.size) == (self.since, 0, self._size):
            return first.result()
        return self._answer(at.bound, at.page, at.size)

    def __iter__(self) -> Iterator[Any]:
        at, seen, given = _Position(self.since, 0, self._size), _Window(), _Window()
        while True:
            if self.pages >= self._max_pages:
                self._warn(f"stopped after {self.pages} pages, the most one read takes")
                return
            page, now = self._ask(at)
            self.pages += 1
            keys = [record_key(raw) for raw in page.content]
            if at.by_key and not self._honest(at, keys, page):
                self.ordered, at.by_key = False, False
                if at.bound != self.since:  # what key paging read cannot be trusted
                    at = _Position(self.since, 0, self._size, by_key=False)
                    seen.clear()
                    continue
            fresh = [k is None or seen.add(k) for k in keys]
            if page.content and not any(fresh) and not at.by_key:
                self._warn(f"page {at.page} repeated objects already read; the read stops there")
                return
            new = [(raw, k) for raw, k in zip(page.content, keys, strict=True) if _new(k, given)]
            self._note(keys, [k for _, k in new], now)
            for raw, _ in new:
                yield self._prepare(raw)
            if not self._advance(at, page, keys):
                return

    def _advance(self, at: _Position, page: Page, keys: list[Key | None]) -> bool:
        """Move to the next request; False when the list has ended (``complete`` says
        whether it ended as its answers said it would)."""
        count = len(page.content)
        at.received += count
        more = _more(at, page)
        if count == 0 or not more:
            said = page.total_elements
            if count == 0 and said is not None and at.received < said:
                self._warn(f"page {at.page} came back empty although Moment counts {said}")
                return False
            self.complete = True
            return False
        newest = max((k[0] for k in keys if k), default=None)
        at.widest = max(at.widest, count)
        progress = newest is not None and (at.bound is None or newest > at.bound)
        bare = page.total_elements is None and page.total_pages is None
        if at.by_key and bare and not progress and count < at.widest:
            self.complete = True  # all from the bound on fit a page smaller than Moment sends
            return False
        if at.by_key and progress and newest is not None:
            below = sum(1 for k in keys if k and k[0] < newest)
            at.before = None if page.total_elements is None else (page.total_elements, below)
            at.bound, at.page, at.received = newest, 0, 0
            return True
        if at.page == 0 and count < at.size:
            at.size = count  # a silent cap on the page size: keep the offsets right
        at.by_key, at.page = False, at.page + 1
        return True

    def _honest(self, at: _Position, keys: list[Key | None], page: Page) -> bool:
        """Whether an answer to a key request is in range, ascending, and counts what the
        previous one implied (nothing skipped in between)."""
        times = [k[0] for k in keys if k]
        if at.bound is not None and any(t < at.bound for t in times):
            return False
        if any(b < a for a, b in pairwise(times)):
            return False
        if at.before is not None and page.total_elements is not None:
            total, below = at.before
            return page.total_elements >= total - below
        return True

    def _note(self, keys: list[Key | None], fresh: list[Key | None], now: datetime | None) -> None:
        """Order across the read, and records stamped later than Moment's own clock."""
        if now is not None:
            self.clock_limit = now + FUTURE_SKEW
        for key in keys:
            if key is not None and self.newest_read is not None and key[0] < self.newest_read:
                self.ordered = False
            if key is not None:
                self.newest_read = max(key[0], self.newest_read or key[0])
        for key in fresh:
            if key is not None and self.clock_limit is not None and key[0] > self.clock_limit:
                self._ahead(key, self.clock_limit - FUTURE_SKEW)

    def _ahead(self, key: Key, clock: datetime) -> None:
        if self._ahead_first is None:
            self._ahead_first = f"{self.kind} id {key[1]} is stamped {format_instant(key[0])}"
        self._ahead_count += 1
        self._clock_seen = clock

    @property
    def clock_note(self) -> str | None:
        """One line for every record of the read stamped later than Moment's clock (the
        first named, the rest counted), or None; the caller warns once per run."""
        if self._ahead_first is None or self._clock_seen is None:
            return None
        more = f" ({self._ahead_count - 1} more like it)" if self._ahead_count > 1 else ""
        return (
            f"{self._ahead_first}{more}, later than Moment's clock "
            f"({format_instant(self._clock_seen)}, from its Date header): synced, but the "
            "cursor does not move past Moment's clock"
        )

    def _warn(self, what: str) -> None:
        self.warnings.append(
            f"Moment {self.kind}: {what}; the cursor moves only as far as everything was read"
        )


def _new(key: Key | None, given: _Window) -> bool:
    """Whether an object is to be handed out: this version not handed out already in this
    read (a keyless one always is: the caller rejects it with a reason)."""
    return key is None or given.add(key)


def _more(at: _Position, page: Page) -> bool:
    """Whether the answers say more objects follow (only an empty page ends a list that
    has no page metadata; a short page never does)."""
    total, pages = page.total_elements, page.total_pages
    if total is None and pages is None:
        return bool(page.content)
    if at.by_key:
        return (total is not None and len(page.content) < total) or (pages or 0) > 1
    return (total is not None and at.received < total) or (
        pages is not None and at.page + 1 < pages
    )
