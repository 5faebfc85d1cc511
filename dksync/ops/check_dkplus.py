"""``dksync check``'s questions to the DK+ company (Dec 2026): which parts the token may
read, whether the configured payment terms are the company's, and which Moment customers
DK+ already holds under another number by their kennitala (a second debtor at go-live).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice

from dksync import moment
from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.dkplus.lists import DkPlusLists
from dksync.errors import ListUnavailable, PermissionDenied
from dksync.mapping import Mapped
from dksync.mapping.customers import map_customer
from dksync.mapping.kennitala import normalise
from dksync.moment import MomentClient
from dksync.ops.check_item import CheckItem

PROBE = "DKSYNC-PROBE"
PROBES: tuple[tuple[str, Callable[[DkPlusClient], object]], ...] = (
    ("customers", lambda c: c.customer(PROBE)),
    ("projects", lambda c: c.project(PROBE)),
    ("products", lambda c: c.product(PROBE)),
    ("sales invoices", lambda c: c.invoices_by_reference(PROBE)),
)


def permissions(client: DkPlusClient) -> CheckItem:
    """One read of each part dksync writes (a number no record has: 404 means allowed)."""
    lacking: list[str] = []
    for part, probe in PROBES:
        try:
            probe(client)
        except PermissionDenied as exc:
            lacking.append(f"{part}: {exc}")
    name = "DK+ permissions"
    if lacking:
        parts = ", ".join(line.split(":", 1)[0] for line in lacking)
        return CheckItem(name, False, f"the token lacks the permission for {parts}", lacking)
    read = ", ".join(part for part, _ in PROBES)
    return CheckItem(name, True, f"the token may read {read} (writes are not tried)")


def payment_terms(config: Config, client: DkPlusClient) -> CheckItem:
    """Every configured term code must be one of the company's."""
    name, configured = "payment terms", config.customer_rules.payment_terms
    codes = client.payment_terms()
    if codes is None:
        return CheckItem(
            name,
            True,
            "this DK+ cannot list its payment terms (general/payment/term: 404): the "
            "configured codes are not checked",
            warning=bool(configured),
        )
    lacking = [
        f"customers.payment_terms: {days}: {code}: the company has no term '{code}'"
        for days, code in sorted(configured.items())
        if code not in codes
    ]
    detail = f"the company's terms: {', '.join(codes) or 'none'}"
    if not configured:
        detail += "; customers.payment_terms is not set, so no term is sent"
    elif lacking:
        detail = f"{len(lacking)} configured code(s) the company lacks; {detail}"
    return CheckItem(name, not lacking, detail, lacking)


def kennitala_pairs(config: Config, m: MomentClient, lists: DkPlusLists, limit: int) -> CheckItem:
    """Moment customers that a run would create although DK+ holds their kennitala under
    another number: each pair, with the ``customers.link`` line that uses the DK+ one."""
    name = "kennitala in DK+"
    try:
        held: dict[str, set[str]] = {}
        numbers: set[str] = set()
        for item in lists.customers():
            number = str(item.get("Number") or "")
            numbers.add(number)
            for text in (item.get("SSNumber"), number):
                digits = normalise(str(text or "").strip())
                if len(digits) == 10 and digits.isdigit():
                    held.setdefault(digits, set()).add(number)
    except ListUnavailable as exc:
        return CheckItem(name, True, f"not checked: {exc}", warning=True)
    pairs, read = _pairs(config, islice(m.changed_since("customers", None), limit), held, numbers)
    detail = f"{read} Moment customers against {len(numbers)} DK+ customers"
    if pairs:
        detail += ": DK+ holds these kennitölur under another number (a run rejects them as "
        detail += "kennitala_taken until linked)"
    return CheckItem(name, not pairs, detail, pairs)


def _pairs(
    config: Config, raws: Iterable[object], held: dict[str, set[str]], numbers: set[str]
) -> tuple[list[str], int]:
    found, read = [], 0
    for raw in raws:
        read += 1
        if moment.field_problems("customers", raw):
            continue
        customer = moment.parse("customers", raw)
        mapped = map_customer(customer, config.customer_rules)
        if not isinstance(mapped, Mapped):
            continue
        number, digits = str(mapped.payload["Number"]), mapped.payload.get("SSNumber")
        others = sorted(held.get(str(digits), set()) - {number})
        if digits is None or number in numbers or not others:
            continue
        found.append(
            f"Moment customer {customer.number} (kennitala {digits}) is DK+ customer "
            f"{', '.join(others)}: customers.link: {{{customer.number}: {others[0]}}}"
        )
    return found, read
