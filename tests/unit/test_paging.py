"""Reading a Moment list that may cap, reorder, ignore the filter, repeat or omit metadata:
every object is read, the read ends, and the cursor never passes what was not read.

The list server here is a pure function over a list of objects (no HTTP): the full sync
over HTTP under each of these is in tests/integration/test_moment_variants.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dksync.moment import ListRead, ServerClock, format_instant, record_key
from dksync.moment.paging import FUTURE_SKEW, MAX_PAGES, Page, PageBounds
from dksync.state.rows import Cursor
from dksync.sync.cursors import CursorTracker, safe_cursor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Server:
    """A list endpoint answering one of the ways the spec warns about."""

    objects: list[dict[str, Any]]
    cap: int = 500
    honest_order: bool = True
    metadata: bool = True
    repeat: bool = False
    requests: int = 0

    def fetch(self, since: datetime | None, page: int, size: int) -> Page:
        self.requests += 1
        size = min(size, self.cap)
        page = 0 if self.repeat else page
        chosen = self.objects
        if self.honest_order:
            chosen = sorted(
                (o for o in chosen if since is None or _time(o) >= since),
                key=lambda o: (_time(o), o["id"]),
            )
        else:
            chosen = sorted(chosen, key=lambda o: -o["id"])
        content = chosen[page * size : page * size + size]
        if not self.metadata:
            return Page(content, None, None)
        return Page(content, -(-len(chosen) // size), len(chosen))


def _time(o: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(o["lastModifiedDate"].replace("Z", "+00:00"))


def _objects(times: list[int]) -> list[dict[str, Any]]:
    return [
        {"id": n + 1, "lastModifiedDate": format_instant(T0 + timedelta(seconds=t))}
        for n, t in enumerate(times)
    ]


def _read(
    server: Server, since: datetime | None = None, size: int = 10, max_pages: int = MAX_PAGES
) -> ListRead:
    bounds = PageBounds(size, max_pages)
    return ListRead("customers", since, server.fetch, bounds, clock=lambda: T0 + timedelta(days=1))


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(st.integers(0, 40), max_size=60),
    since=st.one_of(st.none(), st.integers(0, 40)),
    cap=st.integers(1, 12),
    size=st.integers(1, 12),
    honest=st.booleans(),
    metadata=st.booleans(),
    repeat=st.booleans(),
)
def test_every_object_in_range_is_read_and_the_read_ends(
    times: list[int],
    since: int | None,
    cap: int,
    size: int,
    honest: bool,
    metadata: bool,
    repeat: bool,
) -> None:
    objects = _objects(times)
    server = Server(objects, cap, honest, metadata, repeat and honest)
    start = None if since is None else T0 + timedelta(seconds=since)
    read = _read(server, start, size)
    tracker = CursorTracker()
    got = []
    for o in read:
        got.append(o["id"])
        key = record_key(o)
        assert key is not None
        tracker.record(Cursor(*key), done=True)
    wanted = [o for o in objects if start is None or _time(o) >= start]
    assert len(got) == len(set(got)), "each object once"
    assert server.requests <= 2 * len(objects) + 4
    if not repeat:
        assert read.complete and not read.warnings
        assert {o["id"] for o in wanted} <= set(got)
    cursor = safe_cursor(tracker, read)
    for o in wanted:
        if o["id"] not in got:  # only a server that ignores the page number leaves any
            assert cursor is None or cursor.modified < _time(o)


def test_a_page_repeated_out_of_order_stops_the_read_with_a_warning() -> None:
    server = Server(_objects(list(range(30))), honest_order=False, metadata=False, repeat=True)
    read = _read(server)
    assert len(list(read)) == 10
    assert not read.complete and not read.ordered and server.requests == 2
    assert "page 1 repeated objects already read" in read.warnings[0]
    tracker = CursorTracker()
    for o in server.objects[:10]:
        key = record_key(o)
        assert key is not None
        tracker.record(Cursor(*key), done=True)
    assert safe_cursor(tracker, read) is None, "out of order and incomplete: no move"


def test_a_bound_on_pages_ends_a_read_that_never_ends() -> None:
    server = Server(_objects(list(range(50))), honest_order=False, cap=1)
    read = _read(server, max_pages=7)
    assert len(list(read)) == 6  # the first two answers are both object 50
    assert not read.complete and server.requests == 7
    assert "stopped after 7 pages" in read.warnings[0]


def test_an_incomplete_ascending_read_moves_the_cursor_below_the_last_time_read() -> None:
    objects = _objects([1, 2, 3, 3, 3, 4])
    read = _read(Server(objects, cap=2, repeat=True, metadata=False), size=2, max_pages=2)
    tracker = CursorTracker()
    for o in read:
        key = record_key(o)
        assert key is not None
        tracker.record(Cursor(*key), done=True)
    assert not read.complete and read.ordered and read.newest_read == T0 + timedelta(seconds=3)
    assert safe_cursor(tracker, read) == Cursor(T0 + timedelta(seconds=2), 2)


def test_a_record_stamped_in_the_future_is_read_reported_and_does_not_carry_the_cursor() -> None:
    objects = _objects([1, 2])
    objects.append({"id": 99, "lastModifiedDate": "2099-01-01T00:00:00.000Z"})
    objects.append({"id": 98, "lastModifiedDate": "2099-01-02T00:00:00.000Z"})
    objects.append({"id": 97, "lastModifiedDate": "2099-01-03T00:00:00.000Z"})
    now = T0 + timedelta(seconds=10)
    read = ListRead("invoices", None, Server(objects).fetch, PageBounds(10), clock=lambda: now)
    tracker = CursorTracker()
    for o in read:
        key = record_key(o)
        assert key is not None
        tracker.record(Cursor(*key), done=True)
    assert read.complete and read.clock_limit == now + FUTURE_SKEW
    assert read.warnings == [], "one note for the whole read, not one per record"
    assert read.clock_note == (
        "invoices id 99 is stamped 2099-01-01T00:00:00.000Z (2 more like it), later than "
        "Moment's clock (2026-01-01T00:00:10.000Z, from its Date header): synced, but the "
        "cursor does not move past Moment's clock"
    )
    assert safe_cursor(tracker, read) == Cursor(T0 + timedelta(seconds=2), 2)


def test_moments_clock_is_the_newest_date_header_it_sent() -> None:
    clock = ServerClock()
    clock.note("Sun, 22 Nov 2026 08:00:00 GMT")
    clock.note("not a date")
    clock.note("Sun, 22 Nov 2026 07:00:00 GMT")
    assert clock.now() == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@dataclass
class MovingServer(Server):
    """An honest server whose objects change while they are read: before answering, it
    moves the objects ``changes`` names to a time after every other (a new version)."""

    changes: list[int] | None = None

    def fetch(self, since: datetime | None, page: int, size: int) -> Page:
        if self.changes:
            ident = self.changes.pop(0) % max(1, len(self.objects)) + 1
            newest = max(_time(o) for o in self.objects)
            for o in self.objects:
                if o["id"] == ident:
                    o["lastModifiedDate"] = format_instant(newest + timedelta(seconds=1))
        return super().fetch(since, page, size)


@settings(max_examples=150, deadline=None)
@given(
    count=st.integers(1, 40),
    changes=st.lists(st.integers(0, 100), max_size=10),
    cap=st.integers(2, 12),
    size=st.integers(2, 12),
    metadata=st.booleans(),
)
def test_an_object_changed_during_the_read_is_read_in_its_new_version(
    count: int, changes: list[int], cap: int, size: int, metadata: bool
) -> None:
    """Key paging: a change during the read moves the object ahead, where the read finds
    it again; nothing is skipped, and the last version of each object is handed out."""
    server = MovingServer(_objects(list(range(count))), cap, metadata=metadata, changes=changes)
    read = _read(server, None, size)
    got = {(o["id"], o["lastModifiedDate"]) for o in read}
    assert read.complete and read.ordered and not read.warnings
    assert {(o["id"], o["lastModifiedDate"]) for o in server.objects} <= got
