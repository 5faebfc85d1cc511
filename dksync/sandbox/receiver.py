"""A stand-in for a monitor or a chat webhook: it keeps every request it is sent.

It plays Healthchecks (``POST /<uuid>/start``, ``/<uuid>``, ``/<uuid>/<code>``) and the
endpoint an Apprise ``json://`` URL posts to. Knob: ``status``, the answer to every
request (200; 500 plays a monitor that is failing).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    body: bytes
    content_type: str


class Receiver:
    """An HTTP server on a free loopback port that records what it receives."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def keep(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.received]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            receiver.keep(Received(self.command, self.path, body, kind))
            self.send_response(receiver.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = do_PUT = _any

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``received``."""

    return Handler
