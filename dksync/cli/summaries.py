"""One line per company for the folder tables, read from each command's JSON document."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dksync.cli.tables import brief

if TYPE_CHECKING:
    from dksync.cli.companies import Result


def _run(doc: dict[str, Any]) -> str:
    return f"{doc.get('outcome', '?')}: {brief(doc.get('counts') or {})}"


def _check(doc: dict[str, Any]) -> str:
    failed = [c.get("name", "?") for c in doc.get("checks", []) if not c.get("ok", True)]
    said = "ready" if doc.get("ready") else "not ready: " + ", ".join(failed)
    warnings = doc.get("warnings", 0)
    return f"{said}; {warnings} warning(s)" if warnings else said


def _status(doc: dict[str, Any]) -> str:
    last = doc.get("last_run") or {}
    run = f"last run {last.get('outcome')} at {last.get('started_at')}" if last else "no run yet"
    waiting = len(doc.get("uncertain_invoices") or [])
    return f"{run}; {len(doc.get('rejected') or [])} rejected, {waiting} uncertain"


def _history(doc: list[dict[str, Any]]) -> str:
    if not doc:
        return "no run yet"
    newest = doc[0]
    return f"{len(doc)} run(s); newest {newest.get('outcome')} at {newest.get('started_at')}"


def _failures(doc: list[dict[str, Any]]) -> str:
    return f"{len(doc)} rejected record(s)"


def _reconcile(doc: dict[str, Any]) -> str:
    return f"{doc.get('matched', 0)} matched, {len(doc.get('problems') or [])} problem(s)"


def _ledger(doc: dict[str, Any]) -> str:
    return f"{len(doc.get('invoices') or [])} invoice(s)"


SUMMARIES: dict[str, Callable[[Any], str]] = {
    "run": _run,
    "check": _check,
    "status": _status,
    "history": _history,
    "failures": _failures,
    "reconcile": _reconcile,
    "ledger": _ledger,
}


def one_line(message: str) -> str:
    """A multi-line error (a config with several problems) whole on one table row:
    "the config has problems: a: x; b: y", so no company's row hides its other problems."""
    lines = [line.strip().removeprefix("- ") for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} " + "; ".join(lines[1:])
    return "; ".join(lines)


def summary(command: str, result: Result) -> str:
    """The command's one line for a company, or its whole error when it failed without
    one (a run that did not start, such as a config error, has no outcome)."""
    doc = result.document
    if isinstance(doc, dict) and doc.get("error") and (command != "run" or "outcome" not in doc):
        return one_line(str(doc["error"]))
    try:
        line = SUMMARIES[command](doc)
    except (AttributeError, KeyError, TypeError):
        line = "no readable document"
    error = one_line(result.error) if result.error else ""
    if error and error not in line:
        line = f"{line} ({error})"
    return line
