"""The bytes on the wire: one connection's requests read, and answers written as the
knobs say (whole, dropped, broken at the HTTP level, trickled, a gzip bomb)."""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from dksync import jsonio
from dksync.sandbox import hostile
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.messages import ADMIN_PREFIX, WRITE_METHODS, LogEntry, RawBody, Reply, Request

if TYPE_CHECKING:
    from dksync.sandbox.httpd import SandboxServer


TRANSPORT_FAULTS = frozenset({"broken_chunks", "bad_gzip", "deep_json"})


def broken_answer(fault: str) -> tuple[dict[str, str], bytes]:
    """Headers and bytes of an answer broken as ``fault`` says (see ``Knobs``)."""
    if fault == "broken_chunks":  # announces 0x40 bytes, sends 11, then hangs up
        return {"Transfer-Encoding": "chunked"}, b'40\r\n{"Number": '
    if fault == "bad_gzip":
        junk = b"this is not gzip"
        return {"Content-Encoding": "gzip", "Content-Length": str(len(junk))}, junk
    deep = b"[" * 100_000 + b"]" * 100_000
    return {"Content-Length": str(len(deep))}, deep


def _encoded(body: Any) -> bytes:
    """A reply body's bytes: a ``RawBody`` as it is, anything else as JSON."""
    if isinstance(body, RawBody):
        return bytes(body)
    # a lone surrogate in a record goes out as JSON's escape for it ("\\ud800"), as a
    # service that stores UTF-16 halves sends it
    return b"" if body is None else jsonio.dumps(body).encode("utf-8", "backslashreplace")


def _wire(reply: Reply, fault: str | None, knobs: Knobs) -> tuple[dict[str, str], bytes]:
    """The headers and body bytes of an answer (a gzip bomb when that is the fault)."""
    headers = {**reply.headers, "Content-Type": "application/json; charset=utf-8"}
    if fault != "gzip_bomb":
        return headers, _encoded(reply.body)
    return {**headers, "Content-Encoding": "gzip"}, hostile.gzip_bomb(knobs.gzip_bomb_mb)


class _Handler(BaseHTTPRequestHandler):
    """One sandbox connection's requests; ``sandbox`` is set by ``_make_handler``."""

    sandbox: SandboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the server keeps its own request log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, off by the ``clock_offset_s`` knob (a stale clock)."""
        now = time.time() if timestamp is None else timestamp
        return super().date_time_string(now + self.sandbox.knobs.clock_offset_s)

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = jsonio.loads(raw) if raw else None
        except ValueError:
            self._send(Reply(400, {"Message": "The request body is not valid JSON"}))
            return
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        request = Request(self.command, split.path, query, dict(self.headers.items()), body)
        if split.path.startswith(ADMIN_PREFIX):
            self._send(self.sandbox.handle_admin(request))
            return
        reply, fault = self.sandbox.handle_api(request)
        with self.sandbox.lock:
            logged = body if self.command in WRITE_METHODS else None
            self.sandbox.log.append(LogEntry(self.command, split.path, reply.status, fault, logged))
        if fault == "drop" or fault in TRANSPORT_FAULTS:
            self._send_broken(reply, fault)
            return
        self._send(reply, fault)

    def _send_broken(self, reply: Reply, fault: str) -> None:
        """No answer at all ('drop'), or one that breaks at the HTTP level; either way
        after the handler did its work."""
        self.close_connection = True
        if fault != "drop":
            self.send_response(reply.status)
            headers, data = broken_answer(fault)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, reply: Reply, fault: str | None = None) -> None:
        headers, data = _wire(reply, fault, self.sandbox.knobs)
        try:
            self.send_response(reply.status)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            if fault == "trickle":
                self._trickle(data, self.sandbox.knobs.trickle_ms / 1000)
                return
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting: nothing to answer

    def _trickle(self, data: bytes, pause: float) -> None:
        """The status line and headers buffered so far, then the body, a byte a pause."""
        whole = b"".join(getattr(self, "_headers_buffer", [])) + b"\r\n" + data
        self._headers_buffer: list[bytes] = []
        self.close_connection = True
        for index in range(len(whole)):
            self.wfile.write(whole[index : index + 1])
            time.sleep(pause)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"sandbox": server})
