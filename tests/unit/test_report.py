"""The summary table: columns, and no colour under NO_COLOR even on a terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from dksync.cli.report import as_json, render
from dksync.kinds import ReasonCode
from dksync.ops.notify import fingerprint
from dksync.outcome import Action, Outcome, RunReport

COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-9]")


def _report() -> RunReport:
    report = RunReport()
    report.fetched["invoices"] = 2
    report.add(Outcome("invoices", 1, "1001", Action.CREATE, dk_number="90001"))
    report.add(Outcome("invoices", 2, "1002", Action.REJECT, "customer 10004 has no kennitala"))
    return report


def _rendered(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> str:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    render(_report(), Console(file=out, force_terminal=True, width=120))
    return out.getvalue()


def test_colour_on_a_terminal_and_none_under_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert COLOUR.search(_rendered(monkeypatch, no_color=False))
    plain = _rendered(monkeypatch, no_color=True)
    assert not COLOUR.search(plain)
    assert "Rejected records" in plain and "customer 10004 has no kennitala" in plain


def test_json_counts_and_records() -> None:
    document = as_json(_report())
    assert document["outcome"] == "rejected" and document["exit_code"] == 1
    assert document["counts"]["invoices"]["created"] == 1
    assert document["counts"]["invoices"]["read"] == 2
    assert [r["action"] for r in document["records"]] == ["create", "reject"]


def test_notification_fingerprint_is_built_from_codes_not_words() -> None:
    """Issue 9 J: an uncertain invoice whose message counts seconds sends one email."""

    def report(detail: str) -> RunReport:
        made = RunReport()
        made.add(
            Outcome("invoices", 7, "1007", Action.UNCERTAIN, detail, code=ReasonCode.UNCERTAIN)
        )
        return made

    assert fingerprint(report("a POST 3s ago")) == fingerprint(report("a POST 95s ago"))
    other = RunReport()
    other.add(Outcome("invoices", 7, "1007", Action.REJECT, "x", code=ReasonCode.REFUSED))
    assert fingerprint(other) != fingerprint(report("a POST 3s ago"))
