"""Every exception dksync raises on purpose, in one tree, by what the caller must do.

    DksyncError
    ├── Signal                   control flow between dksync's own layers; the layer
    │   │                        above the one that raised it always handles it, so a
    │   │                        user never sees one
    │   ├── NotFound             the server has no object under that key (404)
    │   ├── Conflict             a create collided with an existing object (409)
    │   ├── UncertainWrite       a write that may or may not have reached the server
    │   ├── ListUnavailable      a DK+ list that cannot be read as the spec says
    │   └── MalformedListing     a listed DK+ invoice without the contract's shape
    ├── TransientError           try again later; the only class retries catch
    │   ├── BadAnswer            a 2xx that is not the contract
    │   └── Unreachable          nothing answered: the request never left
    ├── RecordRejected           this record's data is bad: store why, go on
    └── FatalError               stop the run; ``exit_code`` is what the CLI returns
        ├── ServiceError (3)     a service down, failing, or refusing the credentials
        ├── UsageError (2)       a command-line value that cannot be used
        ├── ConfigError (4)      the config is missing, malformed or incomplete
        ├── StateError (5)       the state file cannot be read or is corrupt
        ├── RecordNotFound (1)   a record asked for by number does not exist
        ├── LockedError (6)      another run holds the state lock
        ├── Interrupted (130/143) SIGINT or SIGTERM
        └── InternalError (70)   a failure dksync has no rule for

Messages never carry a secret: they name config keys and URLs, never tokens. A cause is
kept (``raise ... from exc``) so ``-vv`` can show it; the log filter scrubs secrets from it.
"""

from __future__ import annotations

import enum

from dksync.kinds import ReasonCode


class DksyncError(Exception):
    """Root of every error dksync raises on purpose."""


class Signal(DksyncError):
    """Control flow between dksync's layers, never an error a user sees on its own."""


class TransientError(DksyncError):
    """A temporary failure (429, 5xx, connection trouble): safe to try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadAnswer(TransientError):
    """A 2xx answer that is not what the contract says (not JSON, empty, HTML, ``{}``, a list
    where an object is due or the reverse). Never a success and never "not found": a read
    is retried like any transient failure; a write that got one is uncertain."""


class Unreachable(TransientError):
    """The connection was refused, the host name is unknown, or TLS failed: the request
    certainly never reached the server, so even a write may be tried again (briefly)."""


class UncertainWrite(Signal):
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


class NotFound(Signal):
    """The server has no object under that key (HTTP 404)."""


class Conflict(Signal):
    """A create collided with an object that already exists (HTTP 409)."""


class ListProblem(enum.Enum):
    """Why a list could not be read; every one of them means "fall back", never "empty"."""

    ABSENT = "absent"  # 404 or 405: this DK+ has no such list
    REFUSED = "refused"  # 400: this DK+ does not take the parameters
    NOT_A_LIST = "not a list"  # 200 with something other than an array of objects
    NOT_PAGING = "not paging"  # only objects read already: the page number was ignored
    TOO_LONG = "too long"  # more pages than one read takes (``dkplus.list_max_pages``)


class ListUnavailable(Signal):
    """A DK+ list could not be read as the spec says; ``problem`` says how."""

    def __init__(self, path: str, problem: ListProblem, detail: str) -> None:
        super().__init__(f"DK+ list {path}: {problem.value} ({detail})")
        self.path = path
        self.problem = problem


class MalformedListing(Signal):
    """A listed DK+ invoice that does not have the shape the contract gives it."""


class FatalError(DksyncError):
    """Stops the run. ``exit_code`` is what the CLI returns."""

    exit_code = 3


class ServiceError(FatalError):
    """A service could not be reached, kept failing, or refused the credentials."""

    exit_code = 3


class AccessDenied(ServiceError):
    """A service answered 401/403: the credentials, or (DK+) their permission for this
    part. ``path`` is the one refused, so the DK+ client can tell which part it is."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class PermissionDenied(ServiceError):
    """DK+ accepted the token elsewhere but refuses one part (``part``): the token's user
    lacks that permission in DK+, the token itself is fine."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


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
