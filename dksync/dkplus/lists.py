"""DK+'s list endpoints (Nov 2026 spec): everything of a kind in a few requests.

Kept apart from ``dkplus.py`` on purpose: a list is an optimisation or a read-only view,
and every caller needs a way back when a DK+ does not have it. So a list never quietly
answers "empty" for something it could not read: an endpoint that is absent (404 or 405),
refuses the request (400), answers something that is not an array of objects, or sends
the same page again (it ignored the page number) raises ``ListUnavailable`` with a
``ListProblem``, and the caller falls back to one GET per record.

Pages are 1-based and DK+ publishes no page cap, so a short page is never taken as the
end: the next page is asked for until one comes back empty. A caller that falls back
after ``ListUnavailable`` must drop whatever the generator yielded before it.

Every read is bounded: at most ``max_pages`` pages (``dkplus.list_max_pages``), and a
page that holds only objects read already in this read means DK+ does not page as it
says; either way the list is unavailable (``TOO_LONG``, ``NOT_PAGING``), never endless.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from dksync import jsonio
from dksync.dkplus import client as dkplus
from dksync.dkplus.access import Guarded
from dksync.dkplus.client import classify as classify_single
from dksync.errors import ListProblem, ListUnavailable, NotFound, RecordRejected
from dksync.transport.body import describe
from dksync.transport.http import Endpoint, Kind, Transport, Verdict

API = "/api/v1"
PAGE_SIZE = 1000
MAX_PAGES = 200
CUSTOMERS = f"{API}/customer/page"
PROJECTS = f"{API}/project/page"
PRODUCTS = f"{API}/Product/page"
SALES_INVOICES = f"{API}/sales/invoice/page"


def classify(status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
    """DK+'s answers to a list: as for single objects, except that 405 also means the
    endpoint is absent here (a DK+ older than the 2026 Swagger)."""
    if status == 405:
        return Verdict(Kind.NOT_FOUND, "method not allowed")
    return classify_single(status, body, headers)


def _param(value: date | datetime | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _params(include: Sequence[str], **given: date | datetime | str | bool | None) -> dict[str, str]:
    params = {name: _param(value) for name, value in given.items() if value is not None}
    if include:
        params["include"] = ",".join(include)
    return params


class DkPlusLists:
    """Generators over DK+'s lists; each yields the listed objects as plain dicts."""

    def __init__(
        self, transport: Transport, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES
    ) -> None:
        self._t = Guarded(transport)
        self.page_size = page_size
        self.max_pages = max_pages

    @classmethod
    def connect(
        cls, endpoint: Endpoint, token: str, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES
    ) -> DkPlusLists:
        """Pass the DK+ client's ``endpoint``, so both keep to one rate limit together."""
        return cls(dkplus.transport(endpoint, token, classify), page_size, max_pages)

    @property
    def requests_sent(self) -> int:
        return self._t.requests_sent

    def customers(
        self, *, modified_after: datetime | None = None, include: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        return self.pages(CUSTOMERS, _params(include, modifiedAfter=modified_after))

    def projects(
        self,
        *,
        modified_after: datetime | None = None,
        customer: str | None = None,
        include: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        params = _params(include, modifiedAfter=modified_after, customer=customer)
        return self.pages(PROJECTS, params)

    def products(
        self, *, modified_after: datetime | None = None, include: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        return self.pages(PRODUCTS, _params(include, modified=modified_after))

    def sales_invoices(
        self,
        *,
        created_after: date | None = None,
        created_before: date | None = None,
        reference: str | None = None,
        customer: str | None = None,
        include_lines: bool | None = None,
        include: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Sales invoices; ``created_*`` compare the invoice date. Whether DK+ takes the
        bounds as inclusive, and whether ``reference`` must match exactly, is not
        published: callers widen the bounds and compare what comes back themselves."""
        params = _params(
            include,
            createdAfter=created_after,
            createdBefore=created_before,
            reference=reference,
            customer=customer,
            includeLines=include_lines,
        )
        return self.pages(SALES_INVOICES, params)

    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Every object of one list, page after page, until a page comes back empty (within
        ``max_pages``, and while each page brings an object not read before)."""
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            batch = self._page(path, page, params)
            if not batch:
                return
            fresh = {jsonio.fingerprint(item) for item in batch} - seen
            if not fresh:
                detail = f"page {page} holds only objects read already"
                raise ListUnavailable(path, ListProblem.NOT_PAGING, detail)
            seen |= fresh
            yield from batch
        detail = f"more than {self.max_pages} pages of {self.page_size}"
        raise ListUnavailable(path, ListProblem.TOO_LONG, detail)

    def _page(self, path: str, page: int, params: Mapping[str, str]) -> list[dict[str, Any]]:
        try:
            batch = self._t.get(f"{path}/{page}/{self.page_size}", params)
        except NotFound as exc:
            raise ListUnavailable(path, ListProblem.ABSENT, "404 or 405") from exc
        except RecordRejected as exc:
            raise ListUnavailable(path, ListProblem.REFUSED, str(exc)) from exc
        if not isinstance(batch, list) or not all(isinstance(item, dict) for item in batch):
            got = describe(batch) if not isinstance(batch, list) else "a list of something else"
            raise ListUnavailable(path, ListProblem.NOT_A_LIST, f"page {page} is {got}")
        return batch
