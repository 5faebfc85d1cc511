"""Log lines for machines: ``--log-format json`` and journald's level prefixes.

JSON: one object per line with ``time`` (UTC, ISO-8601), ``level``, ``logger``,
``company``, ``run_id`` (once the run has one), ``message`` and any fields the call passed
with ``extra=``; the secret filter has run before, and the fields are scrubbed here too.
Under systemd (``JOURNAL_STREAM`` names the very stream stderr is) each stderr line starts
with its syslog level (``<3>`` error, ``<4>`` warning, ``<6>`` info, ``<7>`` debug), so
``journalctl -p warning`` filters dksync's lines.
"""

from __future__ import annotations

import enum
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

CONTEXT: dict[str, Any] = {}
JOURNAL_ENV = "DKSYNC_JOURNAL"  # set by a folder run for its companies, whose stderr it relays
_PLAIN = logging.LogRecord("", 0, "", 0, "", None, None)
STANDARD = frozenset(vars(_PLAIN)) | {"message", "asctime"}
SYSLOG = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


class LogFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"


def bind(**values: Any) -> None:
    """Fields every later log line carries (``company``, ``run_id``)."""
    CONTEXT.update(values)


class JsonLines(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, scrub: Any) -> None:
        super().__init__()
        self._scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            **CONTEXT,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in STANDARD and not name.startswith("_"):
                document[name] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_text:
            document["traceback"] = record.exc_text
        text = json.dumps(document, ensure_ascii=False, default=str)
        return str(self._scrub(text))


class SyslogLevels(logging.Formatter):
    """Another formatter's line with the record's syslog level in front."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        level = next((v for k, v in sorted(SYSLOG.items()) if record.levelno <= k), 2)
        return f"<{level}>{self._inner.format(record)}"


def to_journal(env: Mapping[str, str], fd: int = 2) -> bool:
    """True when ``JOURNAL_STREAM`` (``device:inode``) is the stream ``fd`` writes to, or
    a folder run that writes to the journal relays this process's stderr."""
    if env.get(JOURNAL_ENV) == "1":
        return True
    named = env.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in named.split(":"))
        found = os.fstat(fd)
    except (ValueError, OSError):
        return False
    return (found.st_dev, found.st_ino) == (device, inode)
