"""``dksync status --check``: the state judged as a monitoring probe, by the conventions
of Nagios/Icinga plugins (exit 0 OK, 1 WARNING, 2 CRITICAL, one line saying why).

It reads the run history and the queues only, so it needs no secret and no service: the
question is whether the last runs went well, not whether Moment answers right now.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


class Verdict(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2


@dataclass(frozen=True)
class Probe:
    verdict: Verdict
    message: str

    @property
    def document(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.name.lower(),
            "exit_code": int(self.verdict),
            "message": self.message,
        }

    @property
    def line(self) -> str:
        return f"DKSYNC {self.verdict.name} - {self.message}"


def judge(
    runs: list[dict[str, Any]],
    waiting: int,
    max_age: timedelta | None,
    now: datetime | None = None,
) -> Probe:
    """The verdict on the newest finished run (a run going now is not judged: its
    predecessor is) and on the records waiting for a person (``waiting``: rejected records
    and uncertain invoices)."""
    now = now or datetime.now(UTC)
    going = bool(runs) and runs[0]["outcome"] == "running"
    finished = [r for r in runs if r["outcome"] != "running"]
    suffix = "; a run is going now" if going else ""
    if not finished:
        return Probe(Verdict.CRITICAL, "no run has finished yet" + suffix)
    last = finished[0]
    ended = datetime.fromisoformat(last["finished_at"] or last["started_at"])
    when = ended.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    if last["outcome"] == "failed":
        why = f": {last['error']}" if last.get("error") else ""
        return Probe(Verdict.CRITICAL, f"run {last['id']} failed at {when}{why}")
    age = now - ended
    if max_age is not None and age > max_age:
        return Probe(
            Verdict.CRITICAL,
            f"the last finished run ended at {when}, longer ago than --max-age {max_age}" + suffix,
        )
    if last["outcome"] == "interrupted":
        return Probe(Verdict.WARNING, f"run {last['id']} was interrupted at {when}" + suffix)
    if waiting:
        return Probe(
            Verdict.WARNING,
            f"run {last['id']} ended at {when}; {waiting} record{'s' if waiting > 1 else ''} "
            "need attention (dksync failures, dksync status)" + suffix,
        )
    return Probe(Verdict.OK, f"run {last['id']} ended {last['outcome']} at {when}" + suffix)
