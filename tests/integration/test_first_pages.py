"""Every stream's first page is asked for at the start of a run, so the first answers of
all kinds come back together (a cron run with nothing to do waits one answer time, not
three); an answer or error is still taken where the stream would have asked for it."""

from __future__ import annotations

from dksync.kinds import ObjectKind
from dksync.outcome import Action
from dksync.sandbox.messages import LogEntry
from dksync.sandbox.pair import Sandbox
from tests.conftest import Sync

LIST = "/api/1.0/companies/{company}/{kind}"


def test_a_run_asks_every_kinds_first_page_at_once(sandbox: Sandbox, sync: Sync) -> None:
    assert sync().fatal is None
    sandbox.moment.knobs.latency_ms = 400.0
    sandbox.moment.most_at_once, before = 0, len(sandbox.moment.log)
    report = sync()
    assert report.fatal is None and not report.with_action(Action.CREATE)
    reads = [e for e in sandbox.moment.log[before:] if e.query.get("page") == "0" and _since(e)]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in reads) == ["customers", "invoices", "projects"]
    assert sandbox.moment.most_at_once == 3, "the three kinds' first pages were asked together"


def test_one_kind_alone_asks_for_its_page_only(sandbox: Sandbox, sync: Sync) -> None:
    sync()
    before = len(sandbox.moment.log)
    sync(only=("projects",))
    reads = [e.path.rsplit("/", 1)[-1] for e in sandbox.moment.log[before:] if _since(e)]
    assert reads == ["projects"]


def _since(entry: LogEntry) -> bool:
    """A stream's read of what changed (not a lookup by id or the rejected queue's re-read)."""
    return any(name.startswith("lastModified") for name in entry.query)


def test_a_later_kind_failing_stops_the_run_only_when_its_turn_comes(
    sandbox: Sandbox, sync: Sync
) -> None:
    """The invoices list fails on every attempt from the first: the customers and projects
    are still synced and their cursors move; the run then stops naming the invoices list."""
    invoices = LIST.format(company=sandbox.moment.company, kind="invoices")
    sandbox.moment.knobs.update({"fault_path": invoices, "error_rate": 1.0})
    report = sync()
    assert report.fatal is not None and "invoices" in str(report.fatal)
    assert report.exit_code == 3
    assert report.count(ObjectKind.CUSTOMERS, Action.CREATE) > 0
    assert report.count(ObjectKind.PROJECTS, Action.CREATE) > 0
    assert not report.with_action(Action.UNCERTAIN)
    sandbox.moment.knobs.update({"fault_path": "", "error_rate": 0.0})
    again = sync()
    assert again.fatal is None
    assert again.count(ObjectKind.CUSTOMERS, Action.CREATE) == 0, "their cursor had moved"
    assert again.count(ObjectKind.INVOICES, Action.CREATE) > 0
