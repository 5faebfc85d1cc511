"""Logging for people and for cron: stderr by default, a file on request, never a secret.

Level: WARNING by default, INFO with ``-v``, DEBUG with ``-vv``, ERROR only with ``-q``.
A filter on every handler replaces the configured secrets with ``***``, as a second
guard behind the rule that no message is ever built from a secret.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

from dksync.errors import UsageError
from dksync.logformat import JsonLines, LogFormat, SyslogLevels, to_journal
from dksync.state.files import refuse_as_output

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TRACEBACKS = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Replaces any known secret in a record's final message."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg, record.args = self.scrub(record.getMessage()), None
            if record.exc_info:  # a traceback holds the messages of every cause in it
                record.exc_text = self.scrub(_TRACEBACKS.formatException(record.exc_info))
                record.exc_info = None
        return True

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced, longest first (a secret may hold
        another, as a Basic header holds the key)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


REDACT = RedactSecrets()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """stderr is gone (a closed pipe): there is nowhere left to say so, and a traceback
        would go to the same place."""


class _LogFile(logging.FileHandler):
    """The ``--log-file``: when it cannot be written any more (a full disk), one line on
    stderr says so and the file is left alone, instead of a traceback for every line."""

    broken = False
    created = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.broken:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if self.broken:
            return
        self.broken = True
        error = sys.exc_info()[1]
        reason = getattr(error, "strerror", None) or type(error).__name__
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"dksync: cannot write the log file {self.baseFilename} ({reason}); "
                "the rest of this run is not logged there\n"
            )


def forget_secrets(secrets: Iterable[str]) -> None:
    """Register secret values that must never appear in a log line or a message."""
    REDACT.secrets.update(s for s in secrets if len(s) >= 4)


def scrub(text: str) -> str:
    """``text`` without any registered secret: for messages stored, shown or logged."""
    return REDACT.scrub(text)


def _file_handler(path: Path) -> _LogFile:
    """The log file, its folder created if missing; ``UsageError`` (exit 2) when it cannot
    be written, before the run starts rather than with a traceback at the first line."""
    refuse_as_output(path, None, "--log-file")  # any SQLite file, before the config is read
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        handler = _LogFile(path, encoding="utf-8")
        handler.created = not existed
        return handler
    except OSError as exc:
        raise UsageError(
            f"--log-file {path}: cannot write it ({exc.strerror or exc}); "
            "choose a file in a folder dksync may write to"
        ) from None


def refuse_state(state_path: Path, config_path: Path | None = None) -> None:
    """Once the config names the state file: ``--log-file`` must be neither it nor one of
    its companions, nor the config file itself (log lines appended to it broke the next
    run, exit 4). Refused, the log file is closed (and removed when this call made it)
    before anything is written there, and the command stops with exit 2."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if not isinstance(handler, _LogFile):
            continue
        path = Path(handler.baseFilename)
        try:
            refuse_as_output(path, state_path, "--log-file", config_path)
        except UsageError:
            root.removeHandler(handler)
            handler.close()
            if handler.created:  # made by this call: only its own lines are lost
                path.unlink(missing_ok=True)
            raise


def causes(error: BaseException) -> str:
    """An error and the chain of causes behind it, one line each with where it was raised:
    what ``-vv`` shows instead of a traceback (the log filter scrubs secrets from it)."""
    lines: list[str] = []
    current: BaseException | None = error
    while current is not None and len(lines) < 10:
        where = traceback.extract_tb(current.__traceback__)[-1:] if current.__traceback__ else []
        at = f" (at {Path(where[0].filename).name}:{where[0].lineno})" if where else ""
        lines.append(f"{type(current).__name__}: {current}{at}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n  caused by ".join(lines)


def setup(
    verbosity: int, quiet: bool, log_file: Path | None, form: LogFormat = LogFormat.TEXT
) -> None:
    """Configure the root logger once per CLI call (``form``: see ``logformat``)."""
    level = (
        logging.ERROR
        if quiet
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = _Stderr()
    console.setLevel(level)
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        to_file = _file_handler(log_file)
        to_file.setLevel(logging.DEBUG if verbosity else logging.INFO)
        handlers.append(to_file)
    for handler in handlers:
        shape = JsonLines(scrub) if form is LogFormat.JSON else logging.Formatter(FORMAT)
        if handler is console and to_journal(os.environ):
            shape = SyslogLevels(shape)
        handler.setFormatter(shape)
        handler.addFilter(REDACT)
        root.addHandler(handler)
    root.setLevel(min(h.level for h in handlers))
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # it may log a channel's URL
