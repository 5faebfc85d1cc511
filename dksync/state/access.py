"""Reading the state without writing it, and copying it for a backup.

The one read-only opener: ``status``, ``history``, ``failures``, ``show``, ``reconcile`` and
a dry run read the file in place, never migrate it, switch its journal, take the lock or
copy it into memory, so looking costs nothing however long the history, and it is safe while
a run writes:

- while a run writes (its ``-wal`` file is there) SQLite's read-only mode (``mode=ro``)
  reads through the run's write-ahead log under SQLite's own locks: a consistent view;
- otherwise no one writes, and the file is read as immutable, which creates no side file.
  (``mode=ro`` would leave an empty ``-wal`` and ``-shm`` that a run under another user
  could not write.) A run starting meanwhile writes to its new log, not to the file, until
  it has written a thousand pages or ends, long after a command's few queries.

A file that does not exist yet reads as an empty state, and one of an older schema as a copy
migrated in memory: nothing is created or written on disk either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dksync.errors import StateError
from dksync.state.files import refuse_as_backup
from dksync.state.store import State


def open_read_only(path: Path) -> State:
    """The state at ``path`` for reading only; any write through it fails (exit 5)."""
    return State.read_only(path)


@contextmanager
def reading(path: Path) -> Iterator[State]:
    """``open_read_only`` for the length of a ``with`` block."""
    state = open_read_only(path)
    try:
        yield state
    finally:
        state.close()


def backup(path: Path, target: Path) -> int:
    """A consistent copy of the state at ``path`` written to ``target`` with SQLite's online
    backup, safe while a run writes (the copy is of one moment). Answers the pages copied.
    The copy is written beside ``target`` first and moved over it only when complete."""
    if not path.exists():
        raise StateError(f"the state file {path} does not exist yet: nothing to back up")
    refuse_as_backup(target, path)
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(path)  # a reader's connection: a run may write meanwhile
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
            finally:
                copy.close()
        finally:
            source.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StateError(f"cannot back up {path} to {target}: {exc}") from exc
    return pages
