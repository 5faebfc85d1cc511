"""The state file on disk: what to tell when it cannot be used, and whether it could be
created where the config puts it."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path


def explain(path: Path, exc: BaseException) -> str:
    """What went wrong with the state file and what to do, without a traceback."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, OSError):
        text = exc.strerror or text
        if exc.errno in (errno.EEXIST, errno.ENOTDIR):
            text += f": a part of {path.parent} is a file, not a folder"
        hint = "dksync must be able to create and write the file in its folder"
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
