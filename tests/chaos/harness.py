"""The chaos harness: faults on both APIs, SIGKILL at seeded moments, then an audit of DK+."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dksync import moment
from dksync.mapping import Mapped, kennitala
from dksync.mapping.customers import CustomerRules, map_customer
from dksync.records import Customer, ExportStatus, Invoice, InvoiceStatus, Project
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox, Sizes
from dksync.state.store import State

MOMENT_FAULTS = {
    "error_rate": 0.05,
    "burst_rate": 0.01,
    "burst_length": 3,
    "latency_ms": 1,
    "slow_rate": 0.01,
    "slow_ms": 400,
}
DKPLUS_FAULTS = {
    "error_rate": 0.05,
    "drop_rate": 0.1,
    "burst_rate": 0.01,
    "burst_length": 3,
    "latency_ms": 3,
    "slow_rate": 0.02,
    "slow_ms": 400,
}


@dataclass
class Figures:
    seed: int
    runs: int = 0
    kills: int = 0
    kills_while_writing: int = 0
    exits: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    shared_numbers: int = 0
    twin_customers: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def line(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        return (
            f"chaos seed {self.seed}: runs {self.runs}, kills {self.kills} "
            f"({self.kills_while_writing} while DK+ was being written), exit codes "
            f"{dict(sorted(self.exits.items()))}, faults injected {sum(self.faults.values())}"
            f" ({faults}), invoice numbers shared {self.shared_numbers}, customers differing "
            f"only by whitespace {self.twin_customers}, duplicates found {self.duplicates}, "
            "records missing "
            f"{len(self.missing)}, wrongly rejected {len(self.unexpected)}, wrong fields "
            f"{len(self.wrong)}"
        )


def _config(sb: Sandbox, folder: Path) -> Path:
    raw = yaml.safe_load(sb.config_yaml(str(folder / "state.sqlite")))
    raw["moment"].update({"timeout": 0.3, "rate_limit": 0})
    raw["dkplus"].update({"timeout": 0.3, "settle": 0.6})
    raw["sync"]["retry_for"] = "5s"
    path = folder / "dksync.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _one_run(
    config: Path, kill_after: float | None, armed: Callable[[], bool] = lambda: True
) -> tuple[int | None, Any]:
    """Run dksync once; SIGKILL it ``kill_after`` seconds after ``armed()`` first holds
    (at once by default; "DK+ got a write" makes the kill land while writing however slow
    the machine is). (exit code, JSON) or (None, None) when it was killed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dksync", "run", "--json", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    if kill_after is not None:
        while not armed() and process.poll() is None:
            time.sleep(0.01)
    try:
        out, _ = process.communicate(timeout=kill_after if kill_after is not None else 180)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            raise
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return None, None
    try:
        return process.returncode, json.loads(out)
    except ValueError:
        return process.returncode, None


def _writes(sb: Sandbox) -> int:
    return sum(1 for e in sb.dkplus.requests_to("/api/v1/") if e.method != "GET")


def _succeeded(code: int | None, document: Any) -> bool:
    if code not in (0, 1) or not isinstance(document, dict) or document.get("error"):
        return False
    return not any(row.get("uncertain") for row in document["counts"].values())


PUBLISH_PER_RUN = 4


class _Workload:
    """Moment keeps changing while dksync crashes: new invoices, edited customers."""

    def __init__(self, sb: Sandbox, held_back: list[Invoice], rng: random.Random) -> None:
        self.sb, self.held_back, self.rng = sb, held_back, rng

    def step(self) -> None:
        for invoice in self.held_back[:PUBLISH_PER_RUN]:
            self.sb.moment.put_raw("invoices", moment.encode_invoice(invoice))
            self.sb.moment.patch_raw("invoices", invoice.id, {})
        del self.held_back[:PUBLISH_PER_RUN]
        customer = self.rng.choice(self.sb.dataset.customers)
        phone = f"+354 {self.rng.randint(400, 899)} {self.rng.randint(1000, 9999)}"
        self.sb.moment.change("customers", customer.id, lambda c: replace(c, phone=phone))


def chaos(seed: int, kills: int, sizes: Sizes, folder: Path, max_runs: int = 600) -> Figures:
    """Kill dksync until ``kills`` kills landed while it was writing to DK+, then run it until
    a run succeeds; audit DK+ and the state against Moment."""
    rng = random.Random(seed)
    figures = Figures(seed)
    data = generate(seed, sizes.customers, sizes.projects, sizes.invoices)
    twins = _twins(data, rng)
    figures.shared_numbers, figures.twin_customers = len(twins.numbers), len(twins.customers)
    first = sizes.invoices // 3
    held_back, data.invoices = data.invoices[first:], data.invoices[:first]
    with Sandbox(seed=seed, dataset=data) as sb:
        sb.moment.knobs.update(MOMENT_FAULTS)
        sb.dkplus.knobs.update(DKPLUS_FAULTS)
        config = _config(sb, folder)
        workload = _Workload(sb, held_back, rng)
        while figures.runs < max_runs:
            killing = figures.kills_while_writing < kills and figures.kills < 4 * kills
            if killing or workload.held_back:
                workload.step()
            writes_before = _writes(sb)
            on_write = rng.random() < 0.5  # half the kills at a random time, half mid-write

            def armed(before: int = writes_before, wait: bool = on_write) -> bool:
                return not wait or _writes(sb) > before

            kill_after = (
                (rng.uniform(0.0, 0.5) if on_write else rng.uniform(0.3, 2.5)) if killing else None
            )
            code, document = _one_run(config, kill_after, armed)
            figures.runs += 1
            if code is None:
                figures.kills += 1
                figures.kills_while_writing += _writes(sb) > writes_before
                continue
            figures.exits[code] += 1
            if kill_after is None and not workload.held_back and _succeeded(code, document):
                break
        figures.faults = Counter(sb.moment.faults.injected) + Counter(sb.dkplus.faults.injected)
        _audit(sb, folder / "state.sqlite", figures, twins)
    return figures


@dataclass
class Twins:
    """What the harness made alike on purpose: invoice numbers two Moment invoices share,
    and pairs of Moment customers whose numbers differ only by a trailing space."""

    numbers: set[str] = field(default_factory=set)
    customers: list[tuple[int, int]] = field(default_factory=list)


def _usable(data: Any) -> tuple[list[Customer], list[Invoice]]:
    bad = {"invoice line with no item code source"}
    good = [
        c for c in data.customers if len(c.number) <= 11 and kennitala.check(c.kennitala).digits
    ]
    ids = {c.id for c in good}
    invoices = [
        i
        for i in data.invoices
        if i.customer_id in ids
        and i.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
        and i.export_status is not ExportStatus.DO_NOT_TRANSFER
        and str(i.number) not in {data.planted.get(k) for k in bad}
    ]
    return good, invoices


def _twins(data: Any, rng: random.Random, pairs: int = 3, customers: int = 2) -> Twins:
    """Give ``pairs`` invoices the number of another and ``customers`` customers the number
    of another plus a space (with their invoices and projects following), seeded."""
    twins = Twins()
    good, invoices = _usable(data)
    chosen = rng.sample(good, 2 * customers)
    renamed: dict[int, str] = {}
    for original, copy in zip(chosen[::2], chosen[1::2], strict=True):
        renamed[copy.id] = original.number + " "
        twins.customers.append((original.id, copy.id))
    involved = {c.id for c in chosen}
    spare = [i for i in invoices if i.customer_id not in involved]
    picked = rng.sample(spare, 2 * pairs)
    numbers = {
        second.id: first.number for first, second in zip(picked[::2], picked[1::2], strict=True)
    }
    twins.numbers = {str(n) for n in numbers.values()}
    data.customers = [replace(c, number=renamed.get(c.id, c.number)) for c in data.customers]
    data.projects = [
        replace(p, customer_number=renamed.get(p.customer_id or 0, p.customer_number))
        for p in data.projects
    ]
    data.invoices = [
        replace(
            i,
            number=numbers.get(i.id, i.number),
            customer_number=renamed.get(i.customer_id, i.customer_number),
        )
        for i in data.invoices
    ]
    return twins


def _current(sb: Sandbox, kind: str) -> list[Any]:
    with sb.moment.lock:
        raws = list(sb.moment.objects[kind].values())
    return [moment.parse(kind, raw) for raw in raws]


def _losers(state_path: Path, twins: Twins) -> set[int]:
    """Of each pair of customers that map to one DK+ number, the one not written there."""
    state = State.open(state_path)
    try:
        return {
            loser
            for pair in twins.customers
            for loser in pair
            if state.written("customers", loser) is None
        }
    finally:
        state.close()


def _audit(sb: Sandbox, state_path: Path, figures: Figures, twins: Twins) -> None:
    """What DK+ and the state hold against what Moment holds now."""
    customers: list[Customer] = _current(sb, "customers")
    projects: list[Project] = _current(sb, "projects")
    invoices: list[Invoice] = _current(sb, "invoices")
    store = sb.dkplus.snapshot()
    losers = _losers(state_path, twins)
    if len(losers) != len(twins.customers):
        figures.wrong.append(f"customer pairs {twins.customers}: losers {sorted(losers)}")
    bad_customers = losers | {
        c.id for c in customers if len(c.number) > 12 or not kennitala.check(c.kennitala).digits
    }
    line_bad = {sb.dataset.planted["invoice line with no item code source"]}
    final = [
        i
        for i in invoices
        if i.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
        and i.export_status is not ExportStatus.DO_NOT_TRANSFER
    ]
    eligible = {
        str(i.number)
        for i in final
        if i.customer_id not in bad_customers and str(i.number) not in line_bad
    }
    counts = Counter(i["Reference"] for i in store["invoices"])
    figures.duplicates = sum(n - 1 for n in counts.values())
    figures.missing = sorted(eligible - set(counts))
    figures.wrong = [f"invoice {r} should not be in DK+" for r in set(counts) - eligible]
    for customer in customers:
        mapped = map_customer(customer, CustomerRules())
        if isinstance(mapped, Mapped) and customer.id not in losers:
            held = store["customers"].get(str(mapped.payload["Number"]))
            if held is None:
                figures.missing.append(f"customer {customer.number}")
            elif any(held.get(k) != v for k, v in mapped.payload.items()):
                figures.wrong.append(f"customer {customer.number}")
    long_numbers = {c.number for c in customers if len(c.number) > 12}
    lost_numbers = {c.number for c in customers if c.id in losers}
    for project in projects:
        if project.customer_number not in long_numbers | lost_numbers:
            held = store["projects"].get(project.number)
            if held is None:
                figures.missing.append(f"project {project.number}")
            elif held.get("CustomerToBill") != (project.customer_number or "").strip():
                figures.wrong.append(f"project {project.number}")
    long_numbers |= lost_numbers
    expected_rejects = {("customers", n) for n in long_numbers}
    expected_rejects |= {
        ("projects", p.number) for p in projects if p.customer_number in long_numbers
    }
    expected_rejects |= {("invoices", str(i.number)) for i in final} - {
        ("invoices", r) for r in eligible
    }
    expected_rejects |= {("invoices", n) for n in twins.numbers}  # the one that lost the claim
    state = State.open(state_path)
    try:
        rejected = {(r.object_type, r.number) for r in state.rejected()}
    finally:
        state.close()
    figures.unexpected = sorted(f"{t} {n}" for t, n in rejected - expected_rejects)
    figures.missing += sorted(f"rejection of {t} {n}" for t, n in expected_rejects - rejected)
