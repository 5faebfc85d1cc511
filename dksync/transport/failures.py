"""What a failed request means for its caller: every ``requests`` and urllib3 exception,
a missed deadline and a broken answer become one of dksync's errors (see ``errors.py``).

The rule throughout: a request that may be repeated (``safe``) gets a transient error, a
write that may not is ``UncertainWrite`` unless it certainly never left.
"""

from __future__ import annotations

from dataclasses import dataclass

from requests import exceptions as rex

from dksync.errors import (
    ConfigError,
    DksyncError,
    ServiceError,
    TransientError,
    UncertainWrite,
    Unreachable,
)
from dksync.transport.reach import causes, unreachable_reason

BROKE_OFF = "the answer broke off or could not be decoded"


@dataclass(frozen=True, slots=True)
class Service:
    """Which service a request went to, for messages."""

    name: str
    base_url: str
    address: str

    @property
    def at(self) -> str:
        return f"{self.name} at {self.address}"


def failure(service: Service, exc: Exception, safe: bool) -> DksyncError:
    """What a ``requests`` exception means for the caller. A write is only repeated when it
    certainly never left."""
    at = service.at
    if isinstance(exc, rex.InvalidHeader):
        return ConfigError(
            f"{service.name}: a credential cannot be sent in an HTTP header (a line break "
            "or a character that is not allowed); copy it again from the service"
        )
    if isinstance(exc, rex.ConnectTimeout):
        return TransientError(f"no answer from {at} while connecting (timeout)")
    reason = unreachable_reason(exc)
    if reason is not None:
        return Unreachable(f"cannot reach {at}: {reason}")
    if any(type(c).__name__ == "NewConnectionError" for c in causes(exc)):
        return TransientError(f"cannot connect to {at} ({_describe(exc)})")
    if isinstance(exc, (rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema, ValueError)):
        return ConfigError(
            f"{service.name}: cannot send a request to {service.base_url} "
            f"({type(exc).__name__}); check its base_url"
        )
    if isinstance(exc, rex.TooManyRedirects) and safe:
        return ServiceError(f"{at} redirects in a loop; check its base_url")
    return broken(service, _describe(exc), safe)


def broken(service: Service, reason: str, safe: bool) -> DksyncError:
    """The request may have left and no usable answer came back (``reason`` says why)."""
    if safe:
        return TransientError(f"{service.name} failed: {reason}")
    return UncertainWrite(f"{service.at}: {reason} after the request was sent")


def late(service: Service, seconds: float, safe: bool) -> DksyncError:
    """The deadline passed before the whole answer came: a request that may be repeated
    is tried again, a write that may not is uncertain (it may have been carried out)."""
    within = f"(none complete within {seconds:g}s, a request's deadline)"
    if safe:
        return TransientError(f"{service.name} failed: no answer in time {within}")
    return UncertainWrite(f"{service.at}: no answer in time after the request was sent {within}")


def _describe(exc: BaseException) -> str:
    """A short, secret-free account of a failure after the request may have left."""
    if isinstance(exc, rex.Timeout):
        return "no answer in time"
    if isinstance(exc, rex.ChunkedEncodingError | rex.ContentDecodingError):
        return BROKE_OFF
    if isinstance(exc, rex.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, rex.ConnectionError):
        return "the connection dropped"
    return f"the request failed ({type(exc).__name__})"
