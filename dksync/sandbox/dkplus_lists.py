"""DK+'s list endpoints (Nov 2026 spec) and the project update, for the DK+ sandbox.

Lists: ``GET .../page/{page}/{count}``, 1-based pages (page 0 → 400), a bare JSON array
of the full model sorted by key, ``?include=A,B`` trimming each object to those fields,
and the date filters the spec names. Where the spec leaves a meaning open, the sandbox
takes the harshest reading, so dksync cannot come to rely on a kind one: ``...After`` and
``...Before`` are strict; ``reference=`` matches any reference *containing* the text;
``includeLines=false`` drops invoice lines (they are sent otherwise).

Knobs (``DkPlusKnobs``): ``list_page_cap`` silently answers at most that many objects a
page (pages then count in capped sizes, so a client that takes a short page as the end
loses the rest); ``lists_status`` answers 404 or 405 to every list (a DK+ without them);
``lists_not_a_list`` answers an object instead of an array; ``lists_ignore_page`` answers
page 1 whatever page is asked for (a client must not loop on it); ``lists_endless`` answers
every page of every list full of objects never listed before (a list that never ends);
``project_update_status`` answers 404 or 405 to the project PUT (a DK+ older than the 2026
Swagger). Amounts (in ``dkplus_server``): ``vat_inclusive_default`` reads a line's ``Price``
as VAT-inclusive when ``IncludingVAT`` is left out (books Price / (1 + VAT));
``isk_whole_kronur`` stores ISK line totals in whole krónur, as live DK does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dksync.sandbox import schema
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.messages import BadRequest, Reply, Request

if TYPE_CHECKING:
    from dksync.sandbox.dkplus_server import DkPlusServer

API = "/api/v1"
PAGE = "page/([^/]+)/([^/]+)"
DATE_PARAMS = (
    "modifiedAfter",
    "modifiedBefore",
    "modified",
    "createdAfter",
    "createdBefore",
)


@dataclass
class DkPlusKnobs(Knobs):
    """The shared knobs plus DK+'s own (see the module docstring, and ``dkplus_company``'s
    for the Dec 2026 company: the kennitala check, replacing PUT, accountant fields, payment
    terms and permissions)."""

    list_page_cap: int = 0
    lists_status: int = 0
    lists_not_a_list: bool = False
    lists_ignore_page: bool = False
    lists_endless: bool = False
    project_update_status: int = 0
    vat_inclusive_default: bool = False
    isk_whole_kronur: bool = False
    check_ssnumber: bool = False
    replace_on_put: bool = False
    accountant_every: int = 0
    payment_terms: list[str] = field(
        default_factory=lambda: ["stgr", "lm", "m15", "m20", "d15", "d20", "d30", "post"]
    )
    denied_modules: list[str] = field(default_factory=list)
    permission_status: int = 0


Filter = Callable[[dict[str, Any], Mapping[str, str]], bool]


def _when(value: Any) -> datetime | None:
    """A DK+ date or date-time as a naive datetime (dates at midnight), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


def _bound(query: Mapping[str, str], name: str) -> datetime | None:
    if name not in query:
        return None
    found = _when(query[name])
    if found is None:
        raise BadRequest(400, f"{name} must be an ISO-8601 date or date-time")
    return found


def _between(value: Any, query: Mapping[str, str], after: str, before: str) -> bool:
    """Strictly after ``query[after]`` and strictly before ``query[before]``, when given."""
    low, high = _bound(query, after), _bound(query, before)
    if low is None and high is None:
        return True
    when = _when(value)
    return when is not None and (low is None or when > low) and (high is None or when < high)


def _modified(obj: dict[str, Any], query: Mapping[str, str]) -> bool:
    return _between(obj.get("Modified"), query, "modifiedAfter", "modifiedBefore")


def _customers(obj: dict[str, Any], query: Mapping[str, str]) -> bool:
    blocked = query.get("blocked")
    if blocked is not None and bool(obj.get("Blocked")) != (blocked.lower() == "true"):
        return False
    return _modified(obj, query)


def _projects(obj: dict[str, Any], query: Mapping[str, str]) -> bool:
    customer = query.get("customer")
    if customer is not None and obj.get("CustomerToBill") != customer:
        return False
    return _modified(obj, query)


def _products(obj: dict[str, Any], query: Mapping[str, str]) -> bool:
    return _between(obj.get("Modified"), query, "modified", "modifiedBefore")


def _invoices(obj: dict[str, Any], query: Mapping[str, str]) -> bool:
    reference = query.get("reference")
    if reference is not None and reference not in str(obj.get("Reference") or ""):
        return False
    customer = query.get("customer")
    if customer is not None and obj.get("CNumber") != customer:
        return False
    dated = _between(obj.get("InvoiceDate"), query, "createdAfter", "createdBefore")
    return dated and _modified(obj, query)


def _trim(obj: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """The object as listed: ``include`` keeps only the named fields (any case)."""
    listed = copy.deepcopy(obj)
    if query.get("includeLines", "").lower() == "false":
        listed.pop("Lines", None)
    wanted = {name.strip().lower() for name in query.get("include", "").split(",") if name.strip()}
    if not wanted:
        return listed
    return {key: value for key, value in listed.items() if key.lower() in wanted}


def _page_bounds(knobs: DkPlusKnobs, page: str, count: str) -> tuple[int, int]:
    if not (page.isdigit() and count.isdigit()) or int(page) < 1 or int(count) < 1:
        raise BadRequest(400, "page and count must be positive numbers (pages start at 1)")
    size = int(count)
    if knobs.list_page_cap:
        size = min(size, knobs.list_page_cap)
    start = 0 if knobs.lists_ignore_page else (int(page) - 1) * size
    return start, start + size


def _invented(start: int, end: int) -> list[dict[str, Any]]:
    """Objects ``start``..``end`` of a list that never ends (the ``lists_endless`` knob)."""
    return [
        {"Number": str(800_000 + n), "ItemCode": f"E{n}", "Name": f"Endless {n}", "Reference": ""}
        for n in range(start, end)
    ]


def answer_page(
    knobs: DkPlusKnobs,
    request: Request,
    objects: Iterable[dict[str, Any]],
    keep: Filter,
) -> Reply:
    """One page of a list, as DK+ answers it (or as the knobs make it answer)."""
    if knobs.lists_status:
        return Reply(knobs.lists_status, {"Message": "No HTTP resource was found"})
    for name in DATE_PARAMS:
        _bound(request.query, name)  # a malformed date is a 400 even on an empty list
    start, end = _page_bounds(knobs, *request.params)
    if knobs.lists_endless:
        objects, keep, start, end = _invented(start, end), lambda o, q: True, 0, end - start
    chosen = [o for o in objects if keep(o, request.query)][start:end]
    listed = [_trim(o, request.query) for o in chosen]
    if knobs.lists_not_a_list:
        return Reply(200, {"Items": listed, "Page": int(request.params[0])})
    return Reply(200, listed)


def register(server: DkPlusServer) -> None:
    """Add the list routes and the project update to ``server`` (before its single-object
    routes, whose patterns would not match these paths anyway)."""
    store = server.store

    def lister(
        table: Callable[[], Iterable[dict[str, Any]]], keep: Filter
    ) -> Callable[[Request], Reply]:
        def handle(request: Request) -> Reply:
            with server.lock:
                return answer_page(server.dkplus_knobs, request, table(), keep)

        return handle

    def sorted_by_key(objects: dict[Any, dict[str, Any]]) -> Callable[[], list[dict[str, Any]]]:
        return lambda: [objects[key] for key in sorted(objects)]

    add = server.add_route
    add("GET", f"{API}/customer/{PAGE}", lister(sorted_by_key(store.customers), _customers))
    add("GET", f"{API}/project/{PAGE}", lister(sorted_by_key(store.projects), _projects))
    add("GET", f"{API}/[Pp]roduct/{PAGE}", lister(sorted_by_key(store.products), _products))
    add("GET", f"{API}/sales/invoice/{PAGE}", lister(sorted_by_key(store.invoices), _invoices))
    add("PUT", f"{API}/project/([^/]+)", lambda r: update_project(server, r))


def update_project(server: DkPlusServer, request: Request) -> Reply:
    """``PUT /api/v1/project/{number}``: a partial Project body (``ProjectUpdate``)."""
    status = server.dkplus_knobs.project_update_status
    if status:
        return Reply(status, {"Message": "The requested resource does not support this method"})
    problems = schema.errors("ProjectUpdate", request.body)
    if problems:
        raise BadRequest(400, "The request is invalid: " + "; ".join(problems))
    body: dict[str, Any] = request.body
    number = request.params[0]
    if "Number" in body and body["Number"] != number:
        raise BadRequest(400, f"Number {body['Number']} does not match the path's {number}")
    with server.lock:
        current = server.store.projects.get(number)
        if current is None:
            return Reply(404, {"Message": f"Project {number} was not found"})
        bill_to = body.get("CustomerToBill")
        if bill_to and bill_to not in server.store.customers:
            raise BadRequest(400, f"Customer {bill_to} does not exist")
        current.update({k: v for k, v in body.items() if k != "Number"})
        server.store.stamp(current)
        return Reply(200, copy.deepcopy(current))
