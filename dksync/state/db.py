"""The SQLite side of the state: connection, transactions, errors and migrations. What the
tables mean is in ``store.py``."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from dksync.errors import StateError
from dksync.state.files import could_hold, explain
from dksync.state.migrations import MIGRATIONS


def _storable(value: Any) -> Any:
    """A text that SQLite can hold: a lone UTF-16 surrogate (from a garbled Moment record)
    is kept as its escape, never taken for a broken state file."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class Database:
    """One open SQLite state file: statements serialised between threads, errors as
    ``StateError``, ``atomic()`` transactions, the schema migrated on opening. Not shared
    between processes (the run lock sees to that)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        connection.row_factory = sqlite3.Row
        self._db = connection
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0

    @classmethod
    def open(cls, path: Path) -> Self:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise StateError(explain(path, exc)) from exc
        state = cls(connection, path)
        try:
            with state._errors():
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=FULL")
                state._migrate()
        except StateError:
            connection.close()
            raise
        return state

    @classmethod
    def snapshot(cls, path: Path) -> Self:
        """An in-memory copy of the state file, for a dry run: nothing is created or
        written on disk, not even SQLite's side files. Without a ``-wal`` file the main
        file is complete and is read as immutable; with one (a run is going, or one was
        killed) it is read through SQLite's read-only mode, which uses the existing files."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            could_hold(path)
            if path.exists():
                wal = path.with_name(path.name + "-wal").exists()
                uri = path.absolute().as_uri() + ("?mode=ro" if wal else "?immutable=1")
                source = sqlite3.connect(uri, uri=True)
                try:
                    source.backup(memory)
                finally:
                    source.close()
            state = cls(memory, path)
            state._migrate()
        except (sqlite3.Error, OSError) as exc:
            memory.close()
            raise StateError(explain(path, exc)) from exc
        return state

    def close(self) -> None:
        with self._errors():
            self._db.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every SQLite failure, and a row that cannot be read back (garbled by hand),
        leaves as a ``StateError`` naming this file (exit 5)."""
        try:
            yield
        except (sqlite3.Error, OverflowError, ValueError, TypeError) as exc:
            raise StateError(explain(self.path, exc)) from exc

    @property
    def schema_version(self) -> int:
        return int(self._one("PRAGMA user_version")[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state file {self.path} was written by a newer dksync "
                f"(schema {version}); upgrade dksync to use it"
            )
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.atomic():
                for statement in statements:
                    self._sql(statement)
                self._sql(f"PRAGMA user_version = {number}")

    def _sql(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """One statement, serialised with every other thread's use of this connection;
        answers the new row's id for an INSERT."""
        with self._lock, self._errors():
            return self._db.execute(sql, tuple(map(_storable, args))).lastrowid or 0

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock, self._errors():
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock, self._errors():
            return self._db.execute(sql, args).fetchall()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction: BEGIN IMMEDIATE … COMMIT, or a SAVEPOINT inside one, so that
        atomic blocks nest and an inner failure undoes only its own part (as sqlite-utils'
        ``atomic()``). Rolled back on any error, a failed COMMIT included. Holds this
        state's lock throughout, so statements of other threads never slip into it."""
        with self._lock:
            depth, self._depth = self._depth, self._depth + 1
            name = f"dksync_{depth}"
            self._sql(f"SAVEPOINT {name}" if depth else "BEGIN IMMEDIATE")
            try:
                yield
                self._sql(f"RELEASE {name}" if depth else "COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # the first failure is the one to tell
                    if depth:
                        self._db.execute(f"ROLLBACK TO {name}")
                        self._db.execute(f"RELEASE {name}")
                    elif self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth = depth
