"""``dksync check``: is this configuration ready for go-live? One screen of plain answers.

It judges the setup: the config, both services and their credentials, the Moment company
code, the DK+ sales person, and the shape of one Moment object of each kind (Moment's JSON
is partly assumed: this is how a user finds out, with ready-to-paste ``field_names`` lines
for what is missing). Any of those wrong fails the check. Then it scans the data of the
go-live window (``datacheck``): a record the first run would reject (a line whose financial
account lacks its code, a customer number DK+ cannot hold, credit days without a term, a
customer with invoices but no valid kennitala) fails it too, since the first run would
reject it. Warnings (optional fields missing, nothing to scan yet, a scan cut short, a
start in the future) fail it only with ``--strict``. The DK+ company's own answers
(permissions, payment terms, kennitölur it holds under another number) are in
``check_dkplus``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dksync import moment
from dksync.clients import Clients
from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.errors import DksyncError
from dksync.kinds import SYNCED_KINDS, ObjectKind
from dksync.moment import MomentClient
from dksync.moment.shape import inspect, value_kind
from dksync.ops import check_dkplus, datacheck
from dksync.ops.check_item import CheckItem, Readiness
from dksync.ops.datacheck import Tick

KINDS = (*SYNCED_KINDS, ObjectKind.ACCOUNTS, ObjectKind.PRODUCTS)  # what check samples


def _attempt(result: Readiness, name: str, probe: Callable[[], CheckItem]) -> bool:
    try:
        item = probe()
    except DksyncError as exc:
        item = CheckItem(name, False, str(exc))
    result.checks.append(item)
    return item.ok


def _attempt_all(result: Readiness, name: str, probe: Callable[[], list[CheckItem]]) -> None:
    try:
        result.checks.extend(probe())
    except DksyncError as exc:
        result.checks.append(CheckItem(name, False, str(exc)))


def _still(what: str) -> None:
    """No progress to show."""


def check(
    config: Config,
    clients: Clients,
    scan_limit: int = datacheck.SCAN_LIMIT,
    strict: bool = False,
    tick: Tick | None = None,
) -> Readiness:
    """Every go-live check, in order; later checks are skipped when a service is down."""
    result = Readiness(
        [CheckItem("config", True, f"{config.source or 'the config'} is valid")], strict
    )
    m, d = clients.moment, clients.dkplus
    moment_up = _attempt(result, "Moment answers", lambda: _moment_answers(config, m))
    dkplus_up = _attempt(
        result,
        "DK+ answers",
        lambda: CheckItem(
            "DK+ answers", d.connection(), f"{config.dkplus.base_url} company/connection"
        ),
    )
    if dkplus_up:
        _attempt(result, "sales person", lambda: _sales_person(d, config.dkplus.sales_person))
        _attempt(result, "DK+ permissions", lambda: check_dkplus.permissions(d))
        _attempt(result, "payment terms", lambda: check_dkplus.payment_terms(config, d))
    if dkplus_up and moment_up:
        _attempt(
            result,
            "kennitala in DK+",
            lambda: check_dkplus.kennitala_pairs(config, m, clients.lists, 10 * scan_limit),
        )
    if moment_up:
        for kind in KINDS:
            _attempt(result, f"Moment {kind}", _shape_of(m, kind))
        _attempt(result, "first run", lambda: _start_from(config, m))
        _attempt_all(result, "data", lambda: _data(config, m, scan_limit, tick or _still))
    return result


def _moment_answers(config: Config, client: MomentClient) -> CheckItem:
    """Moment answers a list with the key and company code (a 404 names the company)."""
    client.sample("customers")
    return CheckItem(
        "Moment answers",
        True,
        f"{config.moment.base_url}, company {config.moment.company}, the API key works",
    )


def _sales_person(client: DkPlusClient, number: str) -> CheckItem:
    exists = client.sales_person_exists(number)
    verdict = "exists" if exists else "does not exist"
    return CheckItem("sales person", exists, f"'{number}' {verdict} in DK+ (dkplus.sales_person)")


def _shape_of(client: MomentClient, kind: str) -> Callable[[], CheckItem]:
    return lambda: _shape(client, kind)


def _shape(client: MomentClient, kind: str) -> CheckItem:
    name = f"Moment {kind}"
    sample = client.sample(kind)
    if not sample:
        return CheckItem(name, True, "none to look at yet")
    shape, note = inspect(kind, sample[0], client.names), ""
    if shape.problems or shape.missing:
        fuller = _with_include_base(client, kind)
        if fuller is not None:
            richer = inspect(kind, fuller, client.names)
            if len(richer.missing) < len(shape.missing):
                note = "; some fields come only with /include/base, which dksync does not ask for"
    items = [f"missing or of another type: {p}" for p in shape.problems]
    items += [f"expected but not sent: {m}" for m in shape.missing]
    items += [f"likely: paste under moment.field_names:  {s}" for s in shape.suggestions]
    items += [f"sent but not read by dksync: {u}" for u in shape.unread]
    if shape.problems:
        detail = "one object read; fields dksync needs are missing or of another type" + note
        return CheckItem(name, False, detail, items)
    if shape.missing:
        detail = "one object read; optional fields are missing (their values stay empty)" + note
        return CheckItem(name, True, detail, items, warning=True)
    return CheckItem(name, True, "one object read; every expected field is there", items)


def _with_include_base(client: MomentClient, kind: str) -> Any:
    try:
        fuller = client.sample(kind, include_base=True)
    except DksyncError:
        return None  # the entity does not take includes
    return fuller[0] if fuller else None


def _start_from(config: Config, client: MomentClient) -> CheckItem:
    start, now = config.sync.start_from, client.server_now()
    if start is not None and start > now:
        return CheckItem(
            "first run",
            True,
            f"sync.start_from {moment.format_instant(start)} is in the future (Moment's clock "
            f"says {moment.format_instant(now)}): the first run reads nothing",
            warning=True,
        )
    where = moment.format_instant(start) if start else "the start of Moment's records"
    return CheckItem("first run", True, f"the first run reads changes since {where}")


def _data(config: Config, client: MomentClient, limit: int, tick: Tick) -> list[CheckItem]:
    """The records the first run would reject, from the data: these fail the check (the
    first run would reject them), for a person to fix in Moment or in the config."""
    found = datacheck.scan(config, client, limit, tick)
    since = moment.format_instant(config.sync.start_from) if config.sync.start_from else None
    detail = f"{found.invoices} invoices since {since or 'the start'} scanned"
    if not found.complete:
        detail += f" (the scan stopped there: the window holds more than {limit})"
    if found.invoices == 0:
        detail += ": none to look at, so nothing about the data is known yet"
    elif found.invoice_items:
        detail += ": these would be rejected until fixed in Moment"
    customers = f"{found.customers} customers read (one list)"
    if found.customer_items:
        customers += ": the first run would reject these until fixed in Moment or the config"
    return [
        CheckItem(
            "invoice data",
            not found.invoice_items,
            detail,
            found.invoice_items,
            warning=found.invoices == 0 or not found.complete,
        ),
        CheckItem("customer data", not found.customer_items, customers, found.customer_items),
    ]


def masked_sample(client: MomentClient, kind: str) -> Any:
    """One object of a kind with every value replaced by its kind ("text", "number", ...),
    so a user can share its shape without sharing data; None when there is none."""
    sample = client.sample(kind)
    return mask(sample[0]) if sample else None


def mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value[:1]] + (
            [f"... {len(value) - 1} more"] if len(value) > 1 else []
        )
    return value_kind(value) if value is not None else None
