"""One run at a time per state file, by a kernel lock (``fcntl.flock``).

The kernel drops the lock when the process dies, however it dies, so a killed run never
blocks the next one. The lock file also says who holds it (pid, host, start time), for the
message a second run prints and for ``dksync status``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from dksync.errors import LockedError


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class RunLock:
    """Held for the whole of a run; ``LockedError`` at once if another process holds it."""

    def __init__(self, state_path: Path, purpose: str = "run") -> None:
        self.path = lock_path(state_path)
        self.purpose = purpose
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(_busy_message(self.path)) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "purpose": self.purpose,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def holder(state_path: Path) -> dict[str, Any] | None:
    """Who holds the lock now, or None when no run is going."""
    path = lock_path(state_path)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(path: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(path.read_text() or "{}")
        return found
    except (OSError, ValueError):
        return {}


def _busy_message(path: Path) -> str:
    who = _read(path)
    detail = ", ".join(f"{k} {who[k]}" for k in ("pid", "host", "since") if k in who)
    return (
        f"another dksync {who.get('purpose', 'run')} is using this state ({detail or path});"
        " this one stopped without doing anything. Try again when it has finished"
    )
