"""The state file on disk: what to tell when it cannot be used, and whether it could be
created where the config puts it."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime
from pathlib import Path

from dksync.errors import UsageError

FULL = (
    "the disk refused the write (full, a quota, a file size limit, or failing?): free space "
    "there and run again; the file was left as it was (a write happens whole or not at all)"
)
NO_ROOM = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def explain(path: Path, exc: BaseException) -> str:
    """What went wrong with the state file and what to do, without a traceback. A write
    the disk refuses (SQLite's ``SQLITE_FULL``, or ``SQLITE_IOERR_WRITE`` for a file size
    limit) says so: it is not a damaged file, and moving the file away (the advice for one)
    would forget which invoices were posted."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    sqlite_name = str(getattr(exc, "sqlite_errorname", ""))
    if isinstance(exc, OSError):
        text = exc.strerror or text
        if exc.errno in (errno.EEXIST, errno.ENOTDIR):
            text += f": a part of {path.parent} is a file, not a folder"
        hint = "dksync must be able to create and write the file in its folder"
        if exc.errno in NO_ROOM:
            hint = FULL
    elif sqlite_name.startswith(("SQLITE_FULL", "SQLITE_IOERR")):
        hint = FULL
    elif "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        hint = "dksync must be able to write the file and its folder (for the WAL files)"
    elif "locked" in lowered or "busy" in lowered:
        hint = "another program holds it; close it and try again"
    elif isinstance(exc, OverflowError):
        hint = "a number is too large to be stored; nothing was written"
    else:
        hint = (
            "it was left as it is. Restore a backup, or move it away to start again from "
            "sync.start_from"
        )
    return f"the state file {path} cannot be used ({text}); {hint}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def could_hold(path: Path) -> None:
    """A state file that does not exist yet must be creatable: its nearest existing folder
    must be a folder (a read-only look says so now, not the first real run)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))


COMPANIONS = ("", "-wal", "-shm", "-journal", ".lineage", ".lock")
"""The state file and the files SQLite and dksync keep beside it."""


def is_state_file(path: Path, state_path: Path) -> bool:
    """Whether ``path`` is the state file or one of its companions (however spelled: a
    symlink, a relative path), which an output file must never overwrite."""
    for suffix in COMPANIONS:
        companion = state_path.with_name(state_path.name + suffix)
        if _same(path, companion):
            return True
    return looks_like_sqlite(path)


def looks_like_sqlite(path: Path) -> bool:
    """Whether ``path`` is, by its name or its first bytes, an SQLite database or one of
    SQLite's side files: any state file, before the config says which one is ours."""
    if path.name.endswith(("-wal", "-shm", "-journal")):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _same(one: Path, other: Path) -> bool:
    try:
        return one.exists() and other.exists() and one.samefile(other)
    except OSError:
        return False


def refuse_as_backup(path: Path, state_path: Path) -> None:
    """``UsageError`` (exit 2) for a backup target that must not be replaced: the state or
    one of its companions (a live ``-wal`` replaced loses what it holds), or an existing
    file that is no SQLite database (the config, a document: a typo, not an old backup), or
    no plain file at all (as root, a device such as ``/dev/full`` would be replaced by a
    file)."""
    if is_companion(path, state_path):
        raise UsageError(
            f"{path}: that is dksync's state file or one of its companions (-wal, -shm, "
            ".lineage, .lock); a backup there would destroy the state. Choose another file"
        )
    if path.exists() and not path.is_file():
        raise UsageError(f"{path} is not a plain file (a folder or a device): give a file name")
    if path.exists() and not looks_like_sqlite(path):
        raise UsageError(
            f"{path} exists and is no SQLite file (no earlier backup): it is not replaced. "
            "Choose another file, or remove it first"
        )


def is_companion(path: Path, state_path: Path) -> bool:
    """Whether ``path`` is the state file or a file SQLite or dksync keeps beside it, however
    spelled (a symlink, a relative path), existing or still to be created."""
    if _spelled_alike(path, state_path):
        return True
    return any(_same(path, state_path.with_name(state_path.name + s)) for s in COMPANIONS)


def refuse_as_output(
    path: Path, state_path: Path | None, option: str, config_path: Path | None = None
) -> None:
    """``UsageError`` (exit 2) when ``option`` would write over the state or a companion,
    or over the config file (``config_path``: the next run would stop on it, exit 4)."""
    hit = is_state_file(path, state_path) if state_path is not None else looks_like_sqlite(path)
    if hit or (state_path is not None and _spelled_alike(path, state_path)):
        raise UsageError(
            f"{option} {path}: that is dksync's state file or one of its companions "
            "(-wal, -shm, .lineage, .lock); writing there would destroy the state. "
            "Choose another file"
        )
    if config_path is not None and _same(path, config_path):
        raise UsageError(
            f"{option} {path}: that is the config file; writing there would break it. "
            "Choose another file"
        )


def _spelled_alike(path: Path, state_path: Path) -> bool:
    """The same path before either exists (a state file still to be created)."""
    names = {os.path.abspath(state_path.with_name(state_path.name + s)) for s in COMPANIONS}
    return os.path.abspath(path) in names
