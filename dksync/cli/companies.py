"""A folder of companies in one invocation: each company is run as its own ``dksync``
process (``-c DIR --company NAME ... --json``), up to ``--jobs`` at once.

A process per company is what keeps them apart: its own lock, state, secrets, signal
handling and error; one company that fails, hangs on its lock or crashes leaves the others
running. The parent only starts them, passes their log lines on (prefixed with the
company's name), gathers their JSON documents and exits with the worst exit code.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from dksync import jsonio
from dksync.cli.summaries import summary
from dksync.config import folder as company_folder
from dksync.errors import UsageError
from dksync.logformat import JOURNAL_ENV, to_journal

FOLDER_COMMANDS = frozenset(
    {"run", "check", "status", "history", "failures", "reconcile", "ledger"}
)
ONE_COMPANY = frozenset({"drop", "undrop"})
NO_CONFIG = frozenset({"init", "sandbox"})  # they read no config: a folder changes nothing
# Exit codes from the least to the most severe: a lock held by a run still going is the
# mildest failure, an interruption the worst (the whole invocation was stopped).
SEVERITY = (0, 6, 1, 3, 5, 4, 2, 70, 143, 130)
NOT_STARTED = "not started: the invocation was stopped first"
_LEVEL = re.compile(r"^(<\d>)?(.*)$", re.S)


def worst(codes: list[int]) -> int:
    """The most severe exit code (an unknown one counts as 70, an error with no rule)."""
    rank = {code: place for place, code in enumerate(SEVERITY)}
    return max(codes, key=lambda code: rank.get(code, rank[70]), default=0)


@dataclass
class Result:
    """What one company's process left: its exit code, its JSON document, its last error."""

    name: str
    exit_code: int = 0
    document: Any = None
    error: str | None = None


@dataclass
class _Processes:
    """The running children, so a signal to the parent reaches each of them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: set[subprocess.Popen[bytes]] = field(default_factory=set)
    stopped_by: int | None = None

    def forward(self, number: int, frame: FrameType | None) -> None:
        with self.lock:
            self.stopped_by = self.stopped_by or number
            for process in self.running:
                process.send_signal(number)


def dispatch(folder: Path, front: list[str], rest: list[str], jobs: int, quiet: bool) -> None:
    """Run ``rest`` (a command and its arguments) for every company of ``folder``, print
    one row (or one document) per company, and exit with the worst code."""
    if not rest or "--help" in rest or rest[0] in NO_CONFIG:
        return
    command = rest[0]
    if command not in FOLDER_COMMANDS or (command == "failures" and set(rest[1:2]) & ONE_COMPANY):
        raise UsageError(
            f"'{' '.join(rest[:2])}' works on one company: -c {folder} is a folder of "
            f"companies; add --company NAME (one of {', '.join(company_folder.companies(folder))})"
        )
    names = list(company_folder.companies(folder))
    results = run_all(folder, names, _child_globals(front), rest, jobs)
    code = worst([r.exit_code for r in results])
    if "--json" in rest:
        sys.stdout.write(jsonio.dumps(folder_document(results, code)) + "\n")
    elif not quiet:
        Console().print(folder_table(command, results))
    raise typer.Exit(code)


def folder_document(results: list[Result], code: int) -> dict[str, Any]:
    """``{"companies": {NAME: that command's document}, "exit_code": N}``."""
    return {"companies": {r.name: r.document for r in results}, "exit_code": code}


def folder_table(command: str, results: list[Result]) -> Table:
    table = Table(title=f"dksync {command}: {len(results)} companies")
    for heading in ("company", "exit", "result"):
        table.add_column(heading)
    for result in results:
        table.add_row(result.name, str(result.exit_code), summary(command, result))
    return table


def _child_globals(front: list[str]) -> list[str]:
    """The global options each company's process gets: all but the folder's own."""
    kept: list[str] = []
    skip = False
    for arg in front:
        name = arg.split("=", 1)[0]
        if skip:
            skip = False
        elif name in ("-c", "--config", "--company", "--jobs"):
            skip = "=" not in arg
        else:
            kept.append(arg)
    return kept


def run_all(
    folder: Path, names: list[str], front: list[str], rest: list[str], jobs: int
) -> list[Result]:
    """Every company's process, up to ``jobs`` at once, in the order of ``names``."""
    processes = _Processes()
    arguments = [*rest, *([] if "--json" in rest else ["--json"])]

    def one(name: str) -> Result:
        base = [sys.executable, "-m", "dksync", *front, "-c", str(folder), "--company", name]
        return _run_one(name, [*base, *arguments], processes)

    with _forwarding(processes), ThreadPoolExecutor(max(1, jobs), "dksync-company") as pool:
        return list(pool.map(one, names))


@contextmanager
def _forwarding(processes: _Processes) -> Iterator[None]:
    """SIGINT and SIGTERM reach every running company (each stops as a run does)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, processes.forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run_one(name: str, argv: list[str], processes: _Processes) -> Result:
    """Start one company's process (unless the invocation is stopping), pass its log
    lines on, and read its document from its stdout."""
    env = dict(os.environ)
    if to_journal(os.environ):  # the company's stderr is a pipe to here, then the journal
        env[JOURNAL_ENV] = "1"
    with processes.lock:
        if processes.stopped_by is not None:
            return Result(name, 128 + processes.stopped_by, {"error": NOT_STARTED}, NOT_STARTED)
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        processes.running.add(child)
    errors: list[str] = []
    plain = not _json_logs(argv)
    relay = threading.Thread(target=_relay, args=(name, child, errors, plain), daemon=True)
    relay.start()
    assert child.stdout is not None
    out = child.stdout.read()
    code = child.wait()
    relay.join()
    with processes.lock:
        processes.running.discard(child)
    error = errors[-1] if errors else None
    return Result(name, code, _document(out, code, error), error)


def _relay(name: str, child: subprocess.Popen[bytes], errors: list[str], plain: bool) -> None:
    """Each stderr line of a company, prefixed with its name (after a journald level,
    and not at all for JSON lines, which name their company); its last ``dksync:`` error
    is kept whole (with its indented lines, such as a config's list of problems) for the
    summary."""
    assert child.stderr is not None
    inside = False  # the last line was a part of an error
    for raw in child.stderr:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        level, text = _LEVEL.match(line).groups()  # type: ignore[union-attr]
        if text.startswith("dksync: "):
            errors.append(text.removeprefix("dksync: "))
            inside = True
        elif inside and text[:1].isspace():  # the error's next line: "  - key: problem"
            errors[-1] += f"\n{text}"
        else:
            inside = False
        sys.stderr.write(f"{level or ''}[{name}] {text}\n" if plain else f"{line}\n")
        sys.stderr.flush()


def _json_logs(argv: list[str]) -> bool:
    return "--log-format=json" in argv or any(
        a == "--log-format" and b == "json" for a, b in itertools.pairwise(argv)
    )


def _document(out: bytes, code: int, error: str | None) -> Any:
    """The company's JSON document; an error document when it printed none."""
    try:
        return json.loads(out)
    except ValueError:
        return {"error": error or f"exited {code} without a document", "exit_code": code}
