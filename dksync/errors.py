"""One error root for dksync, subclassed by what the caller must do about it.

- ``TransientError``: try again later (the only class retries catch).
- ``RecordRejected``: this record's data is bad; store the reason, go on with the others.
- ``FatalError`` and its children: stop the run; each maps to one CLI exit code.

Messages never carry a secret: they name config keys and URLs, never tokens.
"""

from __future__ import annotations

from dksync.kinds import ReasonCode


class DksyncError(Exception):
    """Root of every error dksync raises on purpose."""


class TransientError(DksyncError):
    """A temporary failure (429, 5xx, connection trouble): safe to try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadAnswer(TransientError):
    """A 2xx answer that is not what the contract says (not JSON, empty, HTML, ``{}``, a list
    where an object is due or the reverse). Never a success and never "not found": a read
    is retried like any transient failure; a write that got one is uncertain."""


class UncertainWrite(DksyncError):
    """A write that may or may not have reached the server.

    Never retried blindly: the caller must look the object up before any new attempt.
    ``ended`` is True when an answer proved the request has finished (500, 503: look up at
    once); False when the answer was lost (timeout, dropped connection, 502, 504, a 2xx
    that breaks the contract: look up only after the settle time).
    """

    def __init__(self, message: str, *, ended: bool = False) -> None:
        super().__init__(message)
        self.ended = ended


class RecordRejected(DksyncError):
    """A record that cannot be written as it is; the message tells the operator what to fix,
    ``code`` says which kind of problem it is (``check`` and the notifier read codes)."""

    def __init__(self, message: str, code: ReasonCode = ReasonCode.INVALID_DATA) -> None:
        super().__init__(message)
        self.code = code


class NotFound(DksyncError):
    """The server has no object under that key (HTTP 404)."""


class Conflict(DksyncError):
    """A create collided with an object that already exists (HTTP 409)."""


class FatalError(DksyncError):
    """Stops the run. ``exit_code`` is what the CLI returns."""

    exit_code = 3


class ServiceError(FatalError):
    """A service could not be reached, kept failing, or refused the credentials."""

    exit_code = 3


class UsageError(FatalError):
    """A command-line value that cannot be used (a log file that cannot be written)."""

    exit_code = 2


class ConfigError(FatalError):
    """The configuration is missing, malformed or incomplete."""

    exit_code = 4


class StateError(FatalError):
    """The state file cannot be read or is corrupt; cursors are never reset silently."""

    exit_code = 5


class RecordNotFound(FatalError):
    """A record asked for by number does not exist where it was looked for."""

    exit_code = 1


class LockedError(FatalError):
    """Another dksync run holds the state lock."""

    exit_code = 6


class Interrupted(FatalError):
    """SIGINT or SIGTERM stopped the run; the writes in flight were finished first (within
    one request's deadline; what did not finish is settled by the next run)."""

    def __init__(self, signal_number: int) -> None:
        name = {2: "SIGINT", 15: "SIGTERM"}.get(signal_number, f"signal {signal_number}")
        super().__init__(
            f"interrupted by {name}: stopped reading; the writes in flight finished, or are "
            "left pending for the next run to settle"
        )
        self.exit_code = 128 + signal_number


class InternalError(FatalError):
    """A failure dksync has no rule for; the run is still finished in its history."""

    exit_code = 70
