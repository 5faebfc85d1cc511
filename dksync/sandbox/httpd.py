"""The HTTP machinery both sandbox servers share: routing, faults, rate limits, a request log.

A request to an API path goes through, in order: latency, authentication (401), the
per-key rate limit and bursts of 429, a 5xx answered before any write, the handler, and
for writes possibly "the write happens, then the connection drops without an answer".
Every random choice comes from one seeded generator, so a failing run replays.
"""

from __future__ import annotations

import base64
import math
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dksync import jsonio

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ADMIN_PREFIX = "/_sandbox"


@dataclass
class Knobs:
    """Behaviour settings; change them at any time from Python or ``PUT /_sandbox/knobs``.

    ``latency_ms`` delays every request; ``rate_limit`` answers 429 above that many
    requests/s per key; ``error_rate`` answers that share 503 before any write;
    ``drop_rate`` lets that share of writes happen and then closes the connection without an
    answer; ``burst_rate`` starts a run of ``burst_length`` 429s; ``slow_rate`` delays that
    share by ``slow_ms`` more (past a client's timeout; the request is still carried out);
    ``fault_path`` limits all of these to requests for exactly that path;
    ``unreliable_order`` makes Moment lists ignore their date filter and sort;
    ``rewrites`` replace answers the way a broken server or proxy does (see ``Rewrite``);
    ``transport_fault`` breaks every answer at the HTTP level: ``broken_chunks`` (the write
    happens, the chunked answer stops midway), ``bad_gzip`` (the write happens, the answer
    claims gzip and is not), ``deep_json`` (the write happens, the answer is JSON nested
    past any parser's depth), ``redirect_loop`` (nothing happens, a 302 to itself);
    ``echo_credentials`` repeats the request's credentials in every error message, as
    some services do ("invalid token abc…").
    Moment's shapes: ``page_cap`` silently caps a list page's size; ``page_metadata`` off
    leaves out the ``page`` block; ``repeat_page`` ignores the ``page`` parameter (always the
    first page); ``flat_references`` answers ``customerId``/``customerName`` instead of
    ``customer: {id, customerNumber}`` (and so for projects, products, accounts);
    ``renamed_fields`` spells fields as an account would (``{"customer.phone": "tel"}``);
    ``include_only`` lists fields sent only through ``/include/base``; ``ignore_ids`` makes
    lists ignore the ``ids`` filter (the whole list is answered), ``ignore_invoice_date`` the
    invoice-date filter.
    """

    latency_ms: float = 0.0
    rate_limit: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    burst_rate: float = 0.0
    burst_length: int = 5
    slow_rate: float = 0.0
    slow_ms: float = 0.0
    fault_path: str = ""
    unreliable_order: bool = False
    rewrites: list[dict[str, Any]] = field(default_factory=list)
    transport_fault: str = ""
    echo_credentials: bool = False
    page_cap: int = 500
    page_metadata: bool = True
    repeat_page: bool = False
    flat_references: bool = False
    renamed_fields: dict[str, str] = field(default_factory=dict)
    include_only: list[str] = field(default_factory=list)
    ignore_ids: bool = False
    ignore_invoice_date: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)


ANSWERS: dict[str, tuple[int, bytes | None]] = {
    "html": (200, b"<html><body><h1>Gateway</h1>Please wait</body></html>"),
    "empty": (200, b""),
    "object": (200, b"{}"),
    "list": (200, b"[]"),
    "404": (404, b'{"Message": "Not found"}'),
    "500": (500, b'{"Message": "Internal Server Error"}'),
    "502": (502, b"<html>Bad Gateway</html>"),
    "503": (503, b'{"Message": "Service Unavailable"}'),
    "504": (504, b"<html>Gateway Timeout</html>"),
}


@dataclass
class Rewrite:
    """One answer rewrite: requests with ``method`` whose path matches the regular expression
    ``path`` get ``answer`` (a key of ``ANSWERS``, or ``echo:<text>`` for a 400 whose message
    is that text). ``write`` says whether the request is still carried out first (the answer
    is lost on the way back) or not at all. ``times`` bounds how often (-1: always)."""

    method: str
    path: str
    answer: str
    write: bool = False
    times: int = -1

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and method == self.method and re.search(self.path, path) is not None


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: Any
    params: tuple[str, ...] = ()
    key: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


@dataclass(frozen=True, slots=True)
class LogEntry:
    method: str
    path: str
    status: int
    fault: str | None
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """A handler's way to answer 4xx with a ``{"Message": ...}`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second, bursts up to ``rate``."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, now: float) -> float:
        """0 when allowed, else the seconds until a token frees up."""
        tokens, last = self._buckets.get(key, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate


class FaultPlan:
    """Seeded decisions about which requests fail, and counts of what was injected."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._burst_left = 0
        self.injected: dict[str, int] = {
            "5xx": 0,
            "drop": 0,
            "429": 0,
            "rate_limited": 0,
            "slow": 0,
        }

    def burst(self, knobs: Knobs) -> bool:
        if self._burst_left == 0 and knobs.burst_rate and self._random.random() < knobs.burst_rate:
            self._burst_left = knobs.burst_length
        if self._burst_left:
            self._burst_left -= 1
            self.injected["429"] += 1
            return True
        return False

    def chance(self, rate: float, name: str) -> bool:
        hit = bool(rate) and self._random.random() < rate
        if hit:
            self.injected[name] += 1
        return hit


class SandboxServer:
    """One fake API on 127.0.0.1: subclasses supply routes, authentication and admin state."""

    name = "sandbox"

    def __init__(self, *, port: int = 0, seed: int = 0, knobs: Knobs | None = None) -> None:
        self.knobs = knobs or Knobs()
        self.lock = threading.RLock()
        self.faults = FaultPlan(seed)
        self._limiter = RateLimiter()
        self.log: list[LogEntry] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._admin: list[tuple[str, re.Pattern[str], Handler]] = []
        self.add_admin("GET", "/knobs", lambda r: Reply(200, asdict(self.knobs)))
        self.add_admin("PUT", "/knobs", self._set_knobs)
        self.add_admin("GET", "/log", lambda r: Reply(200, [asdict(e) for e in self.log]))
        self.add_admin("GET", "/faults", lambda r: Reply(200, dict(self.faults.injected)))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- for subclasses -----------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + "$"), handler))

    def add_admin(self, method: str, pattern: str, handler: Handler) -> None:
        self._admin.append((method, re.compile(ADMIN_PREFIX + pattern + "$"), handler))

    def authenticate(self, headers: Mapping[str, str]) -> str | None:
        """The caller's key when the credentials are good, else None (answered 401)."""
        raise NotImplementedError

    # --- life cycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),
            daemon=True,
            name=f"{self.name}-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, pattern: str = "") -> list[LogEntry]:
        """Logged API requests whose path contains ``pattern``."""
        with self.lock:
            return [e for e in self.log if pattern in e.path]

    # --- dispatch ---------------------------------------------------------------------------

    def _set_knobs(self, request: Request) -> Reply:
        try:
            self.knobs.update(request.body or {})
        except ValueError as exc:
            raise BadRequest(400, str(exc)) from exc
        return Reply(200, asdict(self.knobs))

    def handle_admin(self, request: Request) -> Reply:
        return _dispatch(self._admin, request) or Reply(404, {"Message": "no such admin path"})

    def handle_api(self, request: Request) -> tuple[Reply, str | None]:
        """The answer to an API request and the fault injected, if any ('drop' = no answer,
        or one of ``TRANSPORT_FAULTS``: an answer broken at the HTTP level)."""
        knobs = self.knobs
        if knobs.fault_path and knobs.fault_path != request.path:
            knobs = Knobs(rate_limit=knobs.rate_limit)
        reply, fault = self._answer(request, knobs)
        if knobs.echo_credentials and reply.status >= 400 and isinstance(reply.body, dict):
            echoed = f"{reply.body.get('Message', '')} (sent with {_credentials(request)})"
            reply = Reply(reply.status, {**reply.body, "Message": echoed}, reply.headers)
        return reply, fault

    def _answer(self, request: Request, knobs: Knobs) -> tuple[Reply, str | None]:
        if knobs.transport_fault == "redirect_loop":
            return Reply(302, None, {"Location": request.path}), "redirect_loop"
        with self.lock:
            slow = self.faults.chance(knobs.slow_rate, "slow")
        delay = knobs.latency_ms + (knobs.slow_ms if slow else 0.0)
        if delay:
            time.sleep(delay / 1000)
        key = self.authenticate(request.headers)
        if key is None:
            return Reply(401, {"Message": "Unauthorized"}), None
        with self.lock:
            if knobs.rate_limit:
                wait = self._limiter.take(key, knobs.rate_limit, time.monotonic())
                if wait:
                    self.faults.injected["rate_limited"] += 1
                    return _too_many(wait), "rate_limited"
            if self.faults.burst(knobs):
                return _too_many(1.0), "429"
            if self.faults.chance(knobs.error_rate, "5xx"):
                return Reply(503, {"Message": "Service Unavailable (sandbox fault)"}), "5xx"
            drop = request.method in WRITE_METHODS and self.faults.chance(knobs.drop_rate, "drop")
            rewrite = self._rewrite_for(request)
        if rewrite is not None and not rewrite.write:
            return _rewritten(rewrite), "rewrite"
        routed = _dispatch(self._routes, Request(**{**_fields(request), "key": key}))
        if rewrite is not None:
            return _rewritten(rewrite), "rewrite"
        reply = routed or Reply(404, {"Message": f"No route for {request.method} {request.path}"})
        if drop and reply.status < 300:
            return reply, "drop"
        if knobs.transport_fault in TRANSPORT_FAULTS and reply.status < 300:
            return reply, knobs.transport_fault
        return reply, None

    def _rewrite_for(self, request: Request) -> Rewrite | None:
        """The first rewrite knob that applies to this request, its count taken."""
        for raw in self.knobs.rewrites:
            rewrite = Rewrite(**raw)
            if rewrite.matches(request.method, request.path):
                if rewrite.times > 0:
                    raw["times"] = rewrite.times - 1
                self.faults.injected["rewrite"] = self.faults.injected.get("rewrite", 0) + 1
                return rewrite
        return None


def _rewritten(rewrite: Rewrite) -> Reply:
    if rewrite.answer.startswith("echo:"):
        return Reply(400, {"Message": rewrite.answer[5:]})
    status, raw = ANSWERS[rewrite.answer]
    return Reply(status, RawBody(raw or b""))


class RawBody(bytes):
    """An answer body sent as it is (not JSON-encoded): HTML, empty, or broken JSON."""


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
    return b"" if body is None else jsonio.dumps(body).encode()


def _credentials(request: Request) -> str:
    """The Authorization header as sent, and for Basic its decoded ``user:key``."""
    value = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
    scheme, _, credential = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            return f"{value} = {base64.b64decode(credential).decode()}"
        except ValueError:
            pass
    return value


def _fields(request: Request) -> dict[str, Any]:
    return {f: getattr(request, f) for f in Request.__slots__}


def _too_many(wait: float) -> Reply:
    return Reply(
        429, {"Message": "Too Many Requests"}, {"Retry-After": str(max(1, math.ceil(wait)))}
    )


def _dispatch(routes: list[tuple[str, re.Pattern[str], Handler]], request: Request) -> Reply | None:
    path_matched = False
    for method, pattern, handler in routes:
        match = pattern.match(request.path)
        if not match:
            continue
        path_matched = True
        if method != request.method:
            continue
        params = tuple(unquote(g) for g in match.groups())
        try:
            return handler(Request(**{**_fields(request), "params": params}))
        except BadRequest as exc:
            return Reply(exc.status, {"Message": str(exc)})
    if path_matched:
        return Reply(405, {"Message": f"{request.method} is not allowed here"})
    return None


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the server keeps its own request log."""

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
                self._send(server.handle_admin(request))
                return
            reply, fault = server.handle_api(request)
            with server.lock:
                logged = body if self.command in WRITE_METHODS else None
                entry = LogEntry(self.command, split.path, reply.status, fault, logged, query)
                server.log.append(entry)
            if fault == "drop" or fault in TRANSPORT_FAULTS:
                self._send_broken(reply, fault)
                return
            self._send(reply)

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

        def _send(self, reply: Reply) -> None:
            data = _encoded(reply.body)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting: nothing to answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
