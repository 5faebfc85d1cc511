"""A total deadline per request, and a halt for every request once a signal came.

``requests`` only bounds each socket read, so a server that trickles its answer one byte a
second (status line, headers or body) keeps a request alive for ever. Here every request
runs under a ``Watch``: a timer that, at the deadline, shuts the sockets of the connections
the request used, which ends any read blocked on them at once. The connections are found
through urllib3 pool classes whose connections register with the current thread's watch
(``POOLS``, which ``WatchedAdapter`` puts under every session ``http.py`` makes).

``HALT`` is set by the run's signal handler: no request starts after it, no retry waits
longer, so a signal's wait for the writes in flight is bounded by one request's deadline.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dksync.errors import Interrupted


class Halt:
    """Set once a signal asks the run to stop; every request checks it before it starts."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_number = 0

    def set(self, signal_number: int) -> None:
        self.signal_number = self.signal_number or signal_number
        self._event.set()

    def clear(self) -> None:
        self.signal_number = 0
        self._event.clear()

    def check(self) -> None:
        if self._event.is_set():
            raise Interrupted(self.signal_number)

    def sleep(self, seconds: float) -> None:
        """A retry's wait, cut short by a signal (the next attempt then raises)."""
        self._event.wait(seconds)


HALT = Halt()


class Watch:
    """One request's deadline: when it passes, the request's connections are shut."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    """End every read blocked on the connection's socket (the plain socket's shutdown, so
    a TLS socket's state is left to the thread that reads it)."""
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


@contextmanager
def watched(seconds: float) -> Iterator[Watch]:
    """Run one request (send, headers and body) under a deadline of ``seconds``."""
    watch = Watch(seconds)
    _current.watch = watch
    watch.start()
    try:
        yield watch
    finally:
        watch.cancel()
        _current.watch = None


def _attach(connection: HTTPConnection) -> None:
    watch: Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(connection)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)  # a kept-alive connection is not connected again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """Connections that a request's deadline can end (mounted on every session)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """The same through an HTTP proxy (``HTTPS_PROXY``; a SOCKS proxy keeps its own
        connections, bounded per read only)."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOLS
        return manager
