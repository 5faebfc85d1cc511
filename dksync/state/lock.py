"""One run at a time per state file, by a kernel lock on the state file itself.

The lock belongs to the file (its inode), not to a path string: a symlink, a path spelled
another way (``./x/../state.sqlite``) or a second config naming the same file all reach the
same lock, and deleting a file beside it cannot release it. The kernel drops the lock when
the process dies, however it dies, so a killed run never blocks the next one.

The lock never touches SQLite's own locks: on Linux ``flock`` on the whole file is
independent of SQLite's ``fcntl`` byte-range locks; elsewhere (BSDs, macOS, Windows, where
the two kinds of lock may meet) one byte far past the largest possible SQLite file is
locked instead. ``fcntl`` and ``msvcrt`` are imported only when a lock is taken, so the CLI
starts on any platform. Who holds the lock (pid, host, start time) is written to the
sidecar ``<state>.lock``, for messages and ``dksync status`` only: it is not the lock.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from dksync.errors import LockedError, StateError
from dksync.state.files import explain

# SQLite locks bytes from 1 GiB up and its files stay below 2**48 bytes: this byte is free.
FAR_BYTE = 1 << 62
ACQUIRE_TRIES, ACQUIRE_PAUSE = 6, 0.1
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK}


class FileLock(Protocol):
    """A non-blocking kernel lock on an open file, dropped when the process ends."""

    def acquire(self, fd: int, *, exclusive: bool) -> bool:
        """Take the lock; False when another open file (any process) holds it."""

    def release(self, fd: int) -> None: ...


class PosixLock:
    """``flock`` on the whole file (Linux), or ``lockf`` on ``FAR_BYTE`` elsewhere.

    ``lockf`` locks belong to the process, not the open file: another open file in the same
    process is not refused, and closing any descriptor of the state file releases the lock.
    That holds for the CLI (one run per process, its state closed before the lock is
    released); ``flock`` on Linux has neither caveat."""

    def __init__(self, whole_file: bool | None = None) -> None:
        import fcntl  # here, not at the top: importing dksync needs no fcntl

        self._fcntl = fcntl
        self._whole = sys.platform.startswith("linux") if whole_file is None else whole_file

    def acquire(self, fd: int, *, exclusive: bool) -> bool:
        f = self._fcntl
        mode = (f.LOCK_EX if exclusive else f.LOCK_SH) | f.LOCK_NB
        try:
            if self._whole:
                f.flock(fd, mode)
            else:
                f.lockf(fd, mode, 1, FAR_BYTE, os.SEEK_SET)
        except OSError as exc:
            if exc.errno in _BUSY:
                return False
            raise
        return True

    def release(self, fd: int) -> None:
        f = self._fcntl
        if self._whole:
            f.flock(fd, f.LOCK_UN)
        else:
            f.lockf(fd, f.LOCK_UN, 1, FAR_BYTE, os.SEEK_SET)


if sys.platform == "win32":  # pragma: no cover - CI runs on Linux

    class WindowsLock:
        """``msvcrt.locking`` of ``FAR_BYTE``: Windows byte locks are mandatory, so the
        locked byte lies far past anything SQLite reads, writes or locks. Windows has no
        shared lock here; a probe takes the exclusive one for an instant."""

        def __init__(self) -> None:
            import msvcrt

            self._msvcrt = msvcrt

        def acquire(self, fd: int, *, exclusive: bool) -> bool:
            os.lseek(fd, FAR_BYTE, os.SEEK_SET)
            try:
                self._msvcrt.locking(fd, self._msvcrt.LK_NBLCK, 1)
            except OSError:
                return False
            return True

        def release(self, fd: int) -> None:
            os.lseek(fd, FAR_BYTE, os.SEEK_SET)
            self._msvcrt.locking(fd, self._msvcrt.LK_UNLCK, 1)


def platform_lock() -> FileLock:
    """The lock for this platform; a ``StateError`` where the kernel offers none."""
    try:
        if sys.platform == "win32":  # pragma: no cover - CI runs on Linux
            return WindowsLock()
        return PosixLock()
    except ImportError as exc:
        raise StateError(
            f"this platform offers no file lock ({exc}); dksync cannot make sure only one "
            "run uses the state file"
        ) from exc


def real_path(state_path: Path) -> Path:
    """The state file's one true name: symlinks followed, ``..`` and ``.`` removed."""
    return Path(os.path.realpath(state_path.expanduser()))


def lock_path(state_path: Path) -> Path:
    """The sidecar that says who holds the lock (not the lock itself)."""
    real = real_path(state_path)
    return real.with_name(real.name + ".lock")


class RunLock:
    """Held for the whole of a run; ``LockedError`` at once if another process holds it.

    Creates the state file when it is missing (an empty file is an empty SQLite database),
    so the very first run is locked too.
    """

    def __init__(
        self,
        state_path: Path,
        purpose: str = "run",
        lock: FileLock | None = None,
        wait: float = 0.0,
    ) -> None:
        self.state_path = state_path
        self.purpose = purpose
        self.wait = wait
        self._lock = lock
        self._fd: int | None = None
        self._real = state_path

    def __enter__(self) -> RunLock:
        real = real_path(self.state_path)
        lock = self._lock or platform_lock()
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(real, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(explain(real, exc)) from exc
        try:
            taken = _acquire(lock, fd, self.wait)
        except OSError as exc:
            os.close(fd)
            raise StateError(explain(real, exc)) from exc
        if not taken:
            os.close(fd)
            raise LockedError(_busy_message(real))
        self._fd, self._lock, self._real = fd, lock, real
        _write_holder(lock_path(real), self.purpose)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is None or self._lock is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):  # before unlocking: never a newer holder's sidecar
            lock_path(self._real).unlink(missing_ok=True)
        try:
            self._lock.release(fd)
        finally:
            os.close(fd)


def _acquire(lock: FileLock, fd: int, wait: float = 0.0) -> bool:
    """The exclusive lock, tried a few times within half a second (``holder()``, ``dksync
    status``, holds a shared lock for an instant, and that must not refuse a run), or
    every ``ACQUIRE_PAUSE`` for ``wait`` seconds (``run --wait-lock``)."""
    deadline = time.monotonic() + wait
    tries = 0
    while True:
        if lock.acquire(fd, exclusive=True):
            return True
        tries += 1
        if tries >= ACQUIRE_TRIES and time.monotonic() >= deadline:
            return False
        time.sleep(ACQUIRE_PAUSE)


def holder(state_path: Path, lock: FileLock | None = None) -> dict[str, Any] | None:
    """Who holds the lock now (``{}`` when the sidecar is gone), or None when no run is
    going. Probes with a shared lock for an instant, and never creates the state file."""
    real = real_path(state_path)
    try:
        fd = os.open(real, os.O_RDONLY)
    except OSError:
        return None
    try:
        lock = lock or platform_lock()
        if lock.acquire(fd, exclusive=False):
            lock.release(fd)
            return None
        return _read(lock_path(real))
    finally:
        os.close(fd)


def _write_holder(path: Path, purpose: str) -> None:
    """Best effort: the lock holds without its sidecar (a read-only folder, say)."""
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "purpose": purpose,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):
        path.write_text(json.dumps(holder), encoding="utf-8")


def _read(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _busy_message(path: Path) -> str:
    who = _read(lock_path(path))
    detail = ", ".join(f"{k} {who[k]}" for k in ("pid", "host", "since") if k in who)
    return (
        f"another dksync {who.get('purpose', 'run')} is using this state ({detail or path});"
        " this one stopped without doing anything. Try again when it has finished"
    )
