"""The Moment HTTP client: lists read by ``paging.ListRead``, objects by id, and the numbers
behind flat references, learnt from what was read or looked up by id (cached, counted).

Every object it hands out has the account's field names corrected (``field_names``) and
its references completed with numbers where they can be learnt, so what parses it needs
neither.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from dksync.errors import ConfigError, NotFound
from dksync.moment.envelope import an_object, envelope, unwrap
from dksync.moment.fieldnames import FieldNames
from dksync.moment.names import (
    API_PREFIX,
    API_USER,
    ENTITY_PATHS,
    ID,
    INCLUDE_BASE,
    LINES,
    NUMBER_FIELDS,
    PARAM_DATED_FROM,
    PARAM_DATED_TO,
    PARAM_FROM,
    PARAM_IDS,
    PARAM_PAGE,
    PARAM_SIZE,
    PARAM_SORT,
    REF_CUSTOMER,
    REF_PRODUCT,
    REF_PROJECT,
    SORT_ASCENDING,
)
from dksync.moment.paging import MAX_PAGES, ListRead, Page, PageBounds
from dksync.moment.parsing import (
    field_problems,
    format_instant,
    parse,
    record_key,
    record_label,
)
from dksync.records import FinancialAccount
from dksync.transport.http import (
    Endpoint,
    Kind,
    Transport,
    Verdict,
    retry_after_seconds,
)

log = logging.getLogger("dksync.moment")
IDS_PER_REQUEST = 100  # ids asked in one list request (keeps the address short)
CACHE_SIZE = 1_000
# Numbers remembered per kind, so memory stays flat: a forgotten one is asked again.
# References whose number dksync needs: looked up by id when no read told it.
LOOKED_UP = {"projects", "products"}


def classify(status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
    """Moment's answers: what each status means for dksync."""
    if 200 <= status < 300:
        return Verdict(Kind.OK)
    if status == 404:
        return Verdict(Kind.NOT_FOUND)
    if status in (401, 403):
        return Verdict(
            Kind.FATAL,
            "Moment refused the API key (check moment.api_key, or MOMENT_API_KEY / "
            "MOMENT_API_KEY_FILE where it comes from)",
        )
    if status == 429 or status >= 500:
        return Verdict(Kind.RETRY, retry_after=retry_after_seconds(headers))
    return Verdict(Kind.FATAL, f"Moment answered {status}")


class ServerClock:
    """Moment's own "now": the newest ``Date`` header it sent (this machine's clock until
    one arrives). Used only to tell a record stamped in the future, never as a cursor."""

    def __init__(self) -> None:
        self._newest: datetime | None = None
        self._lock = threading.Lock()

    def classify(self, status: int, body: Any, headers: Mapping[str, str]) -> Verdict:
        verdict = classify(status, body, headers)
        if verdict.kind is Kind.OK:
            self.note(headers.get("Date"))
        return verdict

    def note(self, header: str | None) -> None:
        try:
            when = parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError):
            return
        if when is None or when.tzinfo is None:
            return
        with self._lock:
            self._newest = max(when, self._newest or when)

    def now(self) -> datetime:
        with self._lock:
            return self._newest or datetime.now(UTC)


class _Numbers:
    """Moment id → number per kind, bounded; a miss is looked up by id once."""

    def __init__(self) -> None:
        self._known: dict[str, OrderedDict[int, str | None]] = {
            k: OrderedDict() for k in ENTITY_PATHS
        }
        self._lock = threading.Lock()

    def get(self, kind: str, ident: int) -> tuple[bool, str | None]:
        with self._lock:
            known = self._known[kind]
            return (ident in known, known.get(ident))

    def learn(self, kind: str, ident: int, number: str | None) -> None:
        with self._lock:
            known = self._known[kind]
            known[ident] = number
            known.move_to_end(ident)
            if len(known) > CACHE_SIZE:
                known.popitem(last=False)


class MomentClient:
    """Reads Moment: changed-since lists, single objects by id, samples for ``check``."""

    def __init__(
        self,
        transport: Transport,
        company: str,
        page_size: int = 200,
        *,
        field_names: FieldNames | None = None,
        clock: ServerClock | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._transport = transport
        self._company = company
        self.known_number: Callable[[str, int], str | None] = lambda kind, ident: None
        """Where the number of a referenced object the cache has forgotten may be known
        (the engine points it at the state) before Moment is asked for the object."""
        self._prefix = API_PREFIX.format(company=company)
        self._page_size = page_size
        self.names = field_names or FieldNames()
        self._clock = clock or ServerClock()
        self._max_pages = max_pages
        self._numbers = _Numbers()
        self.lookups: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        endpoint: Endpoint,
        company: str,
        api_key: str,
        *,
        page_size: int = 200,
        field_names: FieldNames | None = None,
        max_pages: int = MAX_PAGES,
    ) -> MomentClient:
        token = base64.b64encode(f"{API_USER}:{api_key}".encode()).decode()
        clock = ServerClock()
        headers = {"Authorization": f"Basic {token}"}
        transport = Transport("Moment", endpoint, clock.classify, headers)
        return cls(
            transport,
            company,
            page_size,
            field_names=field_names,
            clock=clock,
            max_pages=max_pages,
        )

    def server_now(self) -> datetime:
        """Moment's own clock: the newest ``Date`` it answered with."""
        return self._clock.now()

    @property
    def requests_sent(self) -> int:
        return self._transport.requests_sent

    def _path(self, kind: str, ident: int | None = None) -> str:
        path = f"{self._prefix}/{ENTITY_PATHS[kind]}"
        return path if ident is None else f"{path}/{ident}"

    def get(self, kind: str, ident: int) -> Any:
        """One object by id (``NotFound`` when Moment has none; an answer that is not an
        object is retried, then stops the run naming the path)."""
        raw = self._transport.get(self._path(kind, ident), expect=an_object)
        return self._resolve(kind, self.names.apply(kind, raw))

    def changed_since(self, kind: str, since: datetime | None) -> ListRead:
        """Objects changed at or after ``since`` (Moment's filter is not trusted: the caller
        re-checks each time). The read says afterwards how far a cursor may move."""
        return ListRead(
            kind,
            since,
            lambda bound, page, size: self._page(kind, bound, page, size),
            PageBounds(self._page_size, self._max_pages),
            prepare=lambda raw: self._resolve(kind, raw),
            clock=self._clock.now,
        )

    def invoices_dated(self, first: date, last: date) -> ListRead:
        """Invoices dated ``first`` to ``last``, through Moment's invoice-date filter (not
        trusted: the caller checks each invoice's date, and reads them all if one is
        outside, which means Moment ignored the filter)."""
        dated = {PARAM_DATED_FROM: first.isoformat(), PARAM_DATED_TO: last.isoformat()}
        return ListRead(
            "invoices",
            None,
            lambda bound, page, size: self._page("invoices", bound, page, size, dated),
            PageBounds(self._page_size, self._max_pages),
            prepare=lambda raw: self._resolve("invoices", raw),
            clock=self._clock.now,
        )

    def _page(
        self,
        kind: str,
        since: datetime | None,
        page: int,
        size: int,
        extra: Mapping[str, str] | None = None,
    ) -> Page:
        params: dict[str, Any] = {PARAM_SORT: SORT_ASCENDING, PARAM_SIZE: size, PARAM_PAGE: page}
        params.update(extra or {})
        if since is not None:
            params[PARAM_FROM] = format_instant(since)
        answer = self._list(kind, self._path(kind), params)
        if not self.names:
            return answer
        renamed = [self.names.apply(kind, raw) for raw in answer.content]
        return Page(renamed, answer.total_pages, answer.total_elements)

    def by_ids(self, kind: str, ids: Iterable[int]) -> dict[int, Any] | None:
        """The objects of ``kind`` with these ids, by id, read through the list's ``ids``
        filter (a list request per ``IDS_PER_REQUEST`` ids, not a GET each); an id Moment
        does not answer is not there. None when Moment ignores the filter (it answered an
        object that was not asked for): the caller does without."""
        wanted = sorted(set(ids))
        found: dict[int, Any] = {}
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            chunk = wanted[start : start + IDS_PER_REQUEST]
            got = self._ids_chunk(kind, chunk)
            if got is None:
                log.info("%s: Moment ignores the 'ids' filter", kind)
                return None
            found.update(got)
        return found

    def _ids_chunk(self, kind: str, chunk: list[int]) -> dict[int, Any] | None:
        asked, found = set(chunk), {}
        params = {PARAM_IDS: ",".join(map(str, chunk)), PARAM_SIZE: len(chunk)}
        for page in range(self._max_pages):
            answer = self._list(kind, self._path(kind), {**params, PARAM_PAGE: page})
            fresh = 0
            for raw in answer.content:
                key = record_key(self.names.apply(kind, raw))
                if key is None or key[1] not in asked:
                    return None
                fresh += key[1] not in found
                found[key[1]] = self._resolve(kind, self.names.apply(kind, raw))
            last = answer.total_pages is not None and page + 1 >= answer.total_pages
            if not fresh or last or len(found) == len(asked):
                break
        return found

    def sample(self, kind: str, count: int = 1, *, include_base: bool = False) -> list[Any]:
        """The first few objects of a kind exactly as Moment sends them (``dksync check``);
        ``include_base`` asks for ``/include/base``, which may carry more fields."""
        path = self._path(kind) + (f"/{INCLUDE_BASE}" if include_base else "")
        return self._list(kind, path, {PARAM_PAGE: 0, PARAM_SIZE: count}).content

    def _list(self, kind: str, path: str, params: Mapping[str, Any]) -> Page:
        """One page of a list; a 404 means the company (or the list) does not exist: a
        config error, never "nothing there"."""
        try:
            return unwrap(self._transport.get(path, params, envelope))
        except NotFound as exc:
            raise ConfigError(
                f"unknown company code '{self._company}' (moment.company): Moment answered 404 "
                f"for its {ENTITY_PATHS[kind]} list; use the code in Moment's address in the "
                "browser when logged in"
            ) from exc

    def find(self, kind: str, number: str) -> Any:
        """The object whose number (customer, project or invoice) is ``number``, or None.
        Reads the whole list: Moment has no lookup by number."""
        return next((raw for raw in self.all(kind) if record_label(kind, raw) == number), None)

    def all(self, kind: str) -> Iterator[Any]:
        """Every object of a kind (used for the small reference lists such as accounts)."""
        return iter(self.changed_since(kind, None))

    def accounts(self, ids: Iterable[int] | None = None) -> dict[int, FinancialAccount]:
        """Every readable financial account by id (account numbers are not unique), or only
        those of ``ids`` when Moment's id filter allows; one Moment lacks the fields of is
        left out, and a line naming it says so."""
        accounts: dict[int, FinancialAccount] = {}
        chosen = None if ids is None else self.by_ids("accounts", ids)
        for raw in self.all("accounts") if chosen is None else chosen.values():
            if not field_problems("accounts", raw):
                account: FinancialAccount = parse("accounts", raw)
                accounts[account.id] = account
        return accounts

    # --- names and numbers ------------------------------------------------------------------

    def _resolve(self, kind: str, raw: Any) -> Any:
        """The object (its names corrected already) with its references' numbers filled in
        where they can be learnt."""
        if not isinstance(raw, Mapping):
            return raw
        ident, number = raw.get(ID), raw.get(NUMBER_FIELDS[kind])
        if isinstance(ident, int) and number is not None:
            self._numbers.learn(kind, ident, str(number))
        if kind == "projects":
            return self._complete(raw, (REF_CUSTOMER,))
        if kind == "invoices":
            done = self._complete(raw, (REF_CUSTOMER, REF_PROJECT))
            lines = done.get(LINES)
            if isinstance(lines, list):
                done = {**done, LINES: [self._complete(line, (REF_PRODUCT,)) for line in lines]}
            return done
        return raw

    def _complete(self, raw: Any, refs: tuple[tuple[str, str, str, str, str], ...]) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        result = dict(raw)
        for nested_name, number_name, flat_id, flat_name, kind in refs:
            nested, ident = result.get(nested_name), result.get(flat_id)
            if isinstance(nested, Mapping) or not isinstance(ident, int):
                continue
            number = self.number_of(kind, ident)
            if number is not None:
                result[nested_name] = {ID: ident, number_name: number, "name": raw.get(flat_name)}
        return result

    def number_of(self, kind: str, ident: int) -> str | None:
        """The number of a referenced object: from what was read, else ``GET`` by id for the
        kinds whose number dksync needs (cached, counted in ``lookups``); None if unknown."""
        known, number = self._numbers.get(kind, ident)
        if known or kind not in LOOKED_UP:
            return number
        number = self.known_number(kind, ident)
        if number is not None:
            self._numbers.learn(kind, ident, number)
            return number
        with self._count_lock:
            self.lookups[kind] += 1
        log.debug("Moment: %s id %d read by id for its number (a flat reference)", kind, ident)
        try:
            raw = self._transport.get(self._path(kind, ident))
        except NotFound:
            raw = None
        raw = self.names.apply(kind, raw)
        found = raw.get(NUMBER_FIELDS[kind]) if isinstance(raw, Mapping) else None
        number = None if found is None else str(found)
        self._numbers.learn(kind, ident, number)
        return number
