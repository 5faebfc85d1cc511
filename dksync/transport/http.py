"""The HTTP boundary: with ``failures`` (what a failed request means) and ``deadline`` (a
request's total deadline), the only modules that import ``requests`` and urllib3.

Every ``requests`` error and every HTTP status is translated here into dksync's own
errors (see ``errors.py``), so nothing above this module ever sees a ``Response``.
Each API supplies a classifier (status and body in, a ``Verdict`` out); this module
applies it and retries what is safe to retry.

Every request is bounded: a total deadline of the configured timeout (connect, headers and
body together, see ``deadline``), and at most ``MAX_ANSWER_BYTES`` of answer after
decompression (see ``body``). A missed deadline is a transient failure for a request that
may be repeated and an uncertain write for one that may not; an answer past the cap is a
``BadAnswer`` (uncertain for a write).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from dksync import jsonio, logs
from dksync.errors import (
    AccessDenied,
    BadAnswer,
    Conflict,
    NotFound,
    RecordRejected,
    ServiceError,
    TransientError,
    UncertainWrite,
    Unreachable,
)
from dksync.kinds import ReasonCode
from dksync.transport import body as answer
from dksync.transport import trail
from dksync.transport.deadline import HALT, Watch, WatchedAdapter, watched
from dksync.transport.failures import BROKE_OFF, Service, broken, failure, late
from dksync.transport.pace import Pacer
from dksync.transport.reach import address, credentials_in
from dksync.transport.session import environment, new_session
from dksync.transport.trace import traced

log = logging.getLogger("dksync.http")
# A cut answer is one of dksync's errors already; urllib3 would also log it, with a traceback.
logging.getLogger("urllib3.connection").setLevel(logging.ERROR)

ANSWER_LOST_STATUSES = frozenset({502, 504})
"""Gateway answers: the server behind may still be working on the request."""

# Nothing answers at the address: waiting rarely helps, so a few tries within this many
# seconds, then a clear failure (only "try later" answers get ``RetryPolicy``'s long budget).
UNREACHABLE_SECONDS = 10.0
UNREACHABLE_ATTEMPTS = 3


class Kind(enum.Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    REJECT = "reject"
    RETRY = "retry"
    FATAL = "fatal"
    DENIED = "denied"  # 401/403: the credentials, or their permission for this path


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a response means for the caller, decided by the API's classifier."""

    kind: Kind
    message: str = ""
    retry_after: float | None = None


Classifier = Callable[[int, Any, Mapping[str, str]], Verdict]
Expect = Callable[[Any], str | None]
"""Checks a 2xx answer's parsed body against the contract: None when it holds, else what is
wrong ("not a JSON list"). A body that fails it is a ``BadAnswer``, never a success."""


def anything(body: Any) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try a request that is safe to repeat."""

    attempts: int = 20
    max_total_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 15.0


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, when present and numeric."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class Endpoint:
    """Where a service is and how patiently it is asked: its address, the seconds one
    request may take, the retry policy and the pace (shared by clients of one service)."""

    base_url: str
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    pacer: Pacer = field(default_factory=lambda: Pacer(None))


class Transport:
    """JSON over HTTP for one API: base URL, auth, timeout, classifier and retries."""

    def __init__(
        self, name: str, endpoint: Endpoint, classify: Classifier, headers: Mapping[str, str]
    ) -> None:
        self.name = name
        self.base_url = endpoint.base_url.rstrip("/")
        self.address = address(self.base_url)
        self._service = Service(name, self.base_url, self.address)
        self._classify = classify
        self._headers = {"Accept": "application/json", **headers}
        secrets = credentials_in(headers)
        logs.forget_secrets(secrets)
        self._secrets = sorted((s.encode() for s in secrets if len(s) >= 4), key=len)[::-1]
        self._timeout = (min(5.0, endpoint.timeout), endpoint.timeout)
        self._deadline = endpoint.timeout
        self._policy = endpoint.policy
        self._pacer = endpoint.pacer
        self._local = threading.local()
        self._environment = environment(self.base_url)
        self.latency: float | None = None  # seconds an answer takes, averaged; None before
        self.requests_sent = 0
        self._count_lock = threading.Lock()
        self._unreachable: tuple[str, float] | None = None  # what failed, and until when

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, expect: Expect = anything
    ) -> Any:
        """GET, retried on transient failures (a contract-breaking answer is one); raises
        ``NotFound`` on 404."""
        return self.call("GET", path, params=params, safe=True, expect=expect)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        safe: bool,
        expect: Expect = anything,
    ) -> Any:
        """Send one request and return the parsed JSON answer.

        ``safe`` says the request may be repeated: then transient failures are retried
        with backoff. An unsafe request is only repeated when it certainly never reached
        the server (connection refused, 429); anything else raises ``UncertainWrite``.
        ``expect`` checks a 2xx answer against the contract. Once nothing answered at the
        address, every call fails at once for ``UNREACHABLE_SECONDS`` (no second wait).
        """
        HALT.check()
        dead = self._unreachable
        if dead is not None and time.monotonic() < dead[1]:
            raise ServiceError(dead[0])
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=self._stop,
            wait=self._wait,
            sleep=HALT.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, params, body, safe, expect)
        except Unreachable as exc:
            self._unreachable = (str(exc), time.monotonic() + UNREACHABLE_SECONDS)
            raise ServiceError(str(exc)) from exc
        except TransientError as exc:
            raise ServiceError(f"{self.name} kept failing on {method} {path}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _stop(self, state: RetryCallState) -> bool:
        """The long budget for "try later" failures, a short one when nothing answers."""
        outcome = state.outcome
        if outcome is not None and isinstance(outcome.exception(), Unreachable):
            attempts, seconds = UNREACHABLE_ATTEMPTS, UNREACHABLE_SECONDS
        else:
            attempts, seconds = self._policy.attempts, self._policy.max_total_seconds
        return state.attempt_number >= attempts or (state.seconds_since_start or 0.0) >= seconds

    def _wait(self, state: RetryCallState) -> float:
        policy = self._policy
        backoff = wait_exponential_jitter(
            multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )
        outcome = state.outcome
        exc = outcome.exception() if outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_wait)
        if isinstance(exc, Unreachable):
            return min(float(backoff(state)), 2.0)
        return float(backoff(state))

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = new_session(self._headers, self._environment)
            session.mount("http://", WatchedAdapter())
            session.mount("https://", WatchedAdapter())
            session.headers["Accept-Encoding"] = answer.ACCEPT_ENCODING
            self._local.session = session
        return session

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        safe: bool,
        expect: Expect,
    ) -> Any:
        HALT.check()
        self._pacer.wait()
        with self._count_lock:
            self.requests_sent += 1
        url = trail.note(f"{self.name} {method} {path}", f"{self.base_url}{path}")
        data, headers = jsonio.request_body(body)
        started = time.monotonic()
        with watched(self._deadline) as watch:
            try:
                response = traced(self.name, self._session().request, method, url, path, params)(
                    data=data, headers=headers, timeout=self._timeout, stream=True
                )
            except (requests.RequestException, ValueError) as exc:
                lost = late(self._service, self._deadline, safe) if watch.expired else None
                raise lost or failure(self._service, exc, safe) from exc
            content = self._content(response, watch, f"{self.name} {method} {path}", safe)
            if watch.expired:  # a cut answer can look whole (headers end at EOF)
                raise late(self._service, self._deadline, safe)
        took = time.monotonic() - started
        self.latency = took if self.latency is None else 0.8 * self.latency + 0.2 * took
        return self._interpret(response, content, method, path, safe, expect)

    def _content(self, response: requests.Response, watch: Watch, where: str, safe: bool) -> bytes:
        """The answer's bytes, read in chunks within the deadline and the size cap; the
        connection is closed (not kept) when the answer is not read to its end."""
        encoding = response.headers.get("Content-Encoding", "")
        chunks = response.raw.stream(answer.CHUNK, decode_content=False)
        try:
            return self._scrub(answer.read_capped(chunks, encoding))
        except answer.TooLarge as exc:
            response.close()
            text = f"{where} answered more than {answer.MAX_ANSWER_BYTES // 2**20} MB"
            if safe:
                raise BadAnswer(text) from exc
            raise UncertainWrite(f"{text}: the write may or may not have happened") from exc
        except (answer.Undecodable, urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            if watch.expired:
                raise late(self._service, self._deadline, safe) from exc
            reason = "no answer in time" if isinstance(exc, TimeoutError) else BROKE_OFF
            raise broken(self._service, reason, safe) from exc

    def _interpret(
        self,
        response: requests.Response,
        content: bytes,
        method: str,
        path: str,
        safe: bool,
        expect: Expect,
    ) -> Any:
        payload = answer.parse(content)
        verdict = self._classify(response.status_code, payload, response.headers)
        where = f"{self.name} {method} {path}"
        if verdict.kind is Kind.OK:
            problem = expect(payload)
            if problem is None:
                return payload
            text = f"{where} answered {response.status_code} with {problem}"
            if safe:
                raise BadAnswer(text)
            raise UncertainWrite(f"{text}: the write may or may not have happened")
        verdict = Verdict(verdict.kind, logs.scrub(verdict.message), verdict.retry_after)
        if verdict.kind is Kind.NOT_FOUND:
            raise NotFound(f"{where}: not found")
        if verdict.kind is Kind.CONFLICT:
            raise Conflict(f"{where}: {verdict.message}")
        if verdict.kind is Kind.REJECT:
            raise RecordRejected(f"{self.name} refused it: {verdict.message}", ReasonCode.REFUSED)
        if verdict.kind is Kind.FATAL:
            raise ServiceError(f"{where}: {verdict.message}")
        if verdict.kind is Kind.DENIED:
            raise AccessDenied(f"{where}: {verdict.message}", path)
        if response.status_code == 429:
            self._pacer.slow_down()
        if safe or response.status_code == 429:
            raise TransientError(
                f"{where} answered {response.status_code}", retry_after=verdict.retry_after
            )
        status = response.status_code
        raise UncertainWrite(
            f"{where} answered {status} after the request was sent",
            ended=status not in ANSWER_LOST_STATUSES,
        )

    def _scrub(self, content: bytes) -> bytes:
        """The answer without this transport's credentials, before anything reads it: a
        service that echoes the token in an error message never puts it in dksync's hands."""
        for secret in self._secrets:
            content = content.replace(secret, b"***")
        return content


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "%s; retrying in %.2fs (attempt %d)",
        outcome.exception() if outcome else "failed",
        wait,
        state.attempt_number + 1,
    )
