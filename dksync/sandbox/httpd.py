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
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from dksync.sandbox import hostile
from dksync.sandbox.knobs import ANSWERS, Knobs, Rewrite
from dksync.sandbox.messages import (
    ADMIN_PREFIX,
    WRITE_METHODS,
    BadRequest,
    Handler,
    LogEntry,
    RawBody,
    Reply,
    Request,
)
from dksync.sandbox.wire import TRANSPORT_FAULTS, make_handler


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
        self.most_at_once = 0  # the most API requests it was answering at the same time
        self.at_once = 0  # how many it is answering now
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._admin: list[tuple[str, re.Pattern[str], Handler]] = []
        self.add_admin("GET", "/knobs", lambda r: Reply(200, asdict(self.knobs)))
        self.add_admin("PUT", "/knobs", self._set_knobs)
        self.add_admin("GET", "/log", lambda r: Reply(200, [asdict(e) for e in self.log]))
        self.add_admin("GET", "/faults", lambda r: Reply(200, dict(self.faults.injected)))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self))
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
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            reply, fault = self._answer(request, knobs)
        finally:
            with self.lock:
                self.at_once -= 1
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
        return _carried_out(reply, knobs, drop)

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


def _carried_out(reply: Reply, knobs: Knobs, drop: bool) -> tuple[Reply, str | None]:
    """The answer to a request the handler carried out, and how the knobs break it."""
    trickle = "trickle" if knobs.trickle_ms else None
    if reply.status >= 300:
        return reply, trickle
    if drop:
        return reply, "drop"
    if knobs.transport_fault in TRANSPORT_FAULTS:
        return reply, knobs.transport_fault
    if knobs.absurd_numbers:
        reply = Reply(reply.status, hostile.with_numbers(reply.body, knobs.absurd_numbers))
    return reply, "gzip_bomb" if knobs.gzip_bomb_mb else trickle


def _rewritten(rewrite: Rewrite) -> Reply:
    if rewrite.answer.startswith("echo:"):
        return Reply(400, {"Message": rewrite.answer[5:]})
    status, raw = ANSWERS[rewrite.answer]
    return Reply(status, RawBody(raw or b""))


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
