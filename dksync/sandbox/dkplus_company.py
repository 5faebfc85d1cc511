"""The live DK+ company of Dec 2026, for the DK+ sandbox: customer checks, payment terms,
permissions (see ``dkplus-api.md`` "Dec 2026").

Knobs (on ``DkPlusKnobs``):

- ``check_ssnumber``: DK checks a customer's ``SSNumber``; the sandbox takes the harshest
  reading and refuses (400 naming ``SSNumber`` and "kennitala") one with a bad date *or* a
  failed mod-11 check digit, so the numbers issued since February 2026 are refused too.
- ``replace_on_put``: a customer ``PUT`` replaces the whole record: every writable field the
  body leaves out is blanked (the reading under which a partial PUT loses what an
  accountant set).
- ``accountant_every``: every N-th customer created gets fields an accountant sets in DK+
  (``LedgerCode``, ``Group``, ``SendTo``, ``Contacts``), as if set right after the create.
- ``payment_terms``: the company's term codes, answered by ``GET general/payment/term``; a
  customer with another ``PaymentTerm`` is refused (400). The default is the list two live
  companies had (no ``d14``, no ``m30``).
- ``denied_modules``: parts the token lacks permission for (``customers``, ``projects``,
  ``products``, ``sales``, ``general``): 401 on their paths, while the rest answer.
  ``permission_status`` answers that status to ``GET permission`` (404: a DK+ without it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dksync.mapping import kennitala
from dksync.sandbox.messages import BadRequest, Reply, Request

if TYPE_CHECKING:
    from dksync.sandbox.dkplus_server import DkPlusServer

API = "/api/v1"
LIVE_TERMS = ("stgr", "lm", "m15", "m20", "d15", "d20", "d30", "post")
READ_ONLY = frozenset({"Number", "RecordID", "Modified", "BalanceAmount"})
MODULES = {
    "customer": "customers",
    "project": "projects",
    "product": "products",
    "sales": "sales",
    "general": "general",
}
ACCOUNTANT_FIELDS: dict[str, Any] = {
    "LedgerCode": "1200",
    "Group": "HEILD",
    "SendTo": {"Email": "bokhald@example.is", "Method": "einvoice"},
    "Contacts": [{"Number": "1", "Name": "Guðrún bókari", "Email": "gudrun@example.is"}],
}


def module_of(path: str) -> str | None:
    """The DK+ part an API path belongs to (its permission module), or None."""
    parts = path[len(API) + 1 :].split("/", 1) if path.startswith(API + "/") else []
    return MODULES.get(parts[0].lower()) if parts else None


def guard(server: DkPlusServer, handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    """``handler``, answering 401 when the token lacks the permission for its module."""

    def guarded(request: Request) -> Reply:
        module = module_of(request.path)
        if module is not None and module in server.dkplus_knobs.denied_modules:
            return Reply(401, {"Message": "Authorization has been denied for this request."})
        return handler(request)

    return guarded


def check_customer(server: DkPlusServer, body: dict[str, Any]) -> None:
    """DK's checks of a customer body: its kennitala and its payment term (400 if wrong)."""
    knobs = server.dkplus_knobs
    ssn = body.get("SSNumber")
    if knobs.check_ssnumber and ssn:
        checked = kennitala.check(ssn)
        if checked.error or checked.warning:
            raise BadRequest(400, f"SSNumber: '{ssn}' is not a valid kennitala")
    term = body.get("PaymentTerm")
    if term and term not in knobs.payment_terms:
        raise BadRequest(400, f"PaymentTerm: payment term '{term}' does not exist")


def created(server: DkPlusServer, customer: dict[str, Any]) -> None:
    """After a customer create: the accountant's own fields on every N-th one."""
    every = server.dkplus_knobs.accountant_every
    if every and customer["RecordID"] % every == 0:
        customer.update(copy.deepcopy(ACCOUNTANT_FIELDS))


def update_customer(server: DkPlusServer, current: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply a PUT body: merged field by field, or (``replace_on_put``) as the whole record."""
    if server.dkplus_knobs.replace_on_put:
        for name in [k for k in current if k not in READ_ONLY]:
            del current[name]
    current.update({k: v for k, v in body.items() if k not in READ_ONLY})


def register(server: DkPlusServer) -> None:
    """The payment terms and permission endpoints."""

    def terms(request: Request) -> Reply:
        codes = server.dkplus_knobs.payment_terms
        return Reply(200, [{"ID": n, "Number": c, "Description": c} for n, c in enumerate(codes)])

    def permission(request: Request) -> Reply:
        knobs = server.dkplus_knobs
        if knobs.permission_status:
            return Reply(knobs.permission_status, {"Message": "No HTTP resource was found"})
        levels = [
            {"Module": m, "Level": "None" if m in knobs.denied_modules else "Full"}
            for m in sorted(set(MODULES.values()))
        ]
        return Reply(200, levels)

    server.add_route("GET", f"{API}/general/payment/term", terms)
    server.add_route("GET", f"{API}/permission", permission)


def add_customer(server: DkPlusServer, body: dict[str, Any]) -> dict[str, Any]:
    """A customer someone typed into DK+ by hand (no checks; it already exists)."""
    with server.lock:
        customer = server.store.stamp(copy.deepcopy(body))
        server.store.customers[body["Number"]] = customer
        return copy.deepcopy(customer)
