"""A local Moment API: lists with paging and changed-since filters, objects by id.

Every Moment name it uses comes from the adapter (``dksync.moment``), so the sandbox and
the client change together when an assumption about Moment's shapes is corrected.
Its knobs make it answer every way the spec warns about: ignoring the date filter and the
sort (``unreliable_order``), a silent page-size cap (``page_cap``), no page metadata, the
same page whatever was asked (``repeat_page``), flat references and renamed fields, a list
that never ends (``endless_list``: that kind's every page is full of objects never seen
before, copies of its first object under new ids and numbers, stamped after the asked
time, and the page block always says more follow); and ``stamp`` dates a record in the
future.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import random
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from dksync import moment as m
from dksync.moment import encode
from dksync.moment.names import KENNITALA, NUMBER_FIELDS
from dksync.sandbox.httpd import SandboxServer
from dksync.sandbox.kennitalas import make_kennitala
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.messages import BadRequest, Reply, Request

ENCODERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "customers": m.encode_customer,
    "projects": m.encode_project,
    "invoices": m.encode_invoice,
}


class MomentServer(SandboxServer):
    """The fake Moment API for one company code and one API key."""

    name = "moment"

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 0,
        knobs: Knobs | None = None,
        company: str = "sandbox",
        api_key: str | None = None,
    ) -> None:
        super().__init__(port=port, seed=seed, knobs=knobs)
        self.company = company
        self.api_key = api_key or secrets.token_hex(16)
        self.objects: dict[str, dict[int, dict[str, Any]]] = {k: {} for k in m.ENTITY_PATHS}
        self._latest = datetime(2000, 1, 1, tzinfo=UTC)
        self._invented = itertools.count(1)
        self._kennitalas: set[str] = set()
        self._register()

    def authenticate(self, headers: Any) -> str | None:
        expected = base64.b64encode(f"{m.API_USER}:{self.api_key}".encode()).decode()
        return self.api_key if headers.get("Authorization") == f"Basic {expected}" else None

    # --- Python admin ----------------------------------------------------------------------

    def load(self, dataset: Any) -> None:
        """Serve a generated ``Dataset`` (see ``generator.py``)."""
        for account in dataset.accounts:
            self.put_raw("accounts", m.encode_account(account, dataset.epoch))
        for product in dataset.products:
            self.put_raw("products", m.encode_product(product, dataset.epoch))
        for kind in ("customers", "projects", "invoices"):
            for record in getattr(dataset, kind):
                self.put_raw(kind, ENCODERS[kind](record))

    def put_raw(self, kind: str, raw: dict[str, Any]) -> None:
        """Store a Moment JSON object as it is (even a malformed one, for tests)."""
        with self.lock:
            self.objects[kind][int(raw[m.ID])] = copy.deepcopy(raw)
            modified = raw.get(m.MODIFIED)
            with contextlib.suppress(ValueError):  # a time that cannot be read is kept too
                if isinstance(modified, str):
                    self._latest = max(self._latest, m.parse_instant(modified))

    def raw(self, kind: str, ident: int) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.objects[kind][ident])

    def change(self, kind: str, ident: int, edit: Callable[[Any], Any]) -> dict[str, Any]:
        """Apply ``edit`` to the record (as dksync parses it) and bump its version and time."""
        with self.lock:
            record = m.parse(kind, self.objects[kind][ident])
            edited = edit(record)
            raw = ENCODERS[kind](edited)
            raw[m.CREATED] = self.objects[kind][ident].get(m.CREATED)
            return self._bump(kind, ident, raw)

    def patch_raw(self, kind: str, ident: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge Moment JSON fields into an object and bump its version and time."""
        with self.lock:
            raw = {**self.objects[kind][ident], **fields}
            return self._bump(kind, ident, raw)

    def stamp(self, kind: str, ident: int, when: datetime) -> dict[str, Any]:
        """Set an object's ``lastModifiedDate`` to ``when`` (a clock gone wrong: the future)."""
        with self.lock:
            raw = self.objects[kind][ident]
            raw[m.MODIFIED] = m.format_instant(when)
            raw[m.VERSION] = int(raw.get(m.VERSION) or 0) + 1
            return copy.deepcopy(raw)

    def delete(self, kind: str, ident: int) -> None:
        with self.lock:
            self.objects[kind].pop(ident, None)

    def _bump(self, kind: str, ident: int, raw: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._latest = max(now, self._latest + timedelta(milliseconds=1))
        raw[m.MODIFIED] = m.format_instant(self._latest)
        raw[m.VERSION] = int(raw.get(m.VERSION) or 0) + 1
        self.objects[kind][ident] = raw
        return copy.deepcopy(raw)

    # --- routes -------------------------------------------------------------------------------

    def _register(self) -> None:
        prefix = m.API_PREFIX.format(company="([^/]+)")
        for kind, path in m.ENTITY_PATHS.items():
            self.add_route("GET", f"{prefix}/{path}", self._lister(kind))
            self.add_route("GET", f"{prefix}/{path}/{m.INCLUDE_BASE}", self._lister(kind, True))
            self.add_route("GET", f"{prefix}/{path}/([0-9]+)", self._getter(kind))
        self.add_admin("GET", "/moment/([a-z]+)", self._admin_list)
        self.add_admin("POST", "/moment/([a-z]+)", self._admin_put)
        self.add_admin("PATCH", "/moment/([a-z]+)/([0-9]+)", self._admin_patch)
        self.add_admin("DELETE", "/moment/([a-z]+)/([0-9]+)", self._admin_delete)

    def _company(self, request: Request) -> None:
        if request.params[0] != self.company:
            raise BadRequest(404, f"Company {request.params[0]} not found")

    def _getter(self, kind: str) -> Callable[[Request], Reply]:
        def get(request: Request) -> Reply:
            self._company(request)
            with self.lock:
                found = self.objects[kind].get(int(request.params[1]))
                if found is None:
                    return Reply(404, {"message": "Not found"})
                return Reply(200, self._shaped(kind, found))

        return get

    def _lister(self, kind: str, include: bool = False) -> Callable[[Request], Reply]:
        def list_(request: Request) -> Reply:
            self._company(request)
            page, size = _int(request, m.PARAM_PAGE, 0), _int(request, m.PARAM_SIZE, 20)
            size = max(1, min(size, self.knobs.page_cap))
            page = 0 if self.knobs.repeat_page else page
            if self.knobs.endless_list == kind:
                return self._endless(kind, request, size)
            with self.lock:
                chosen = self._select(kind, request)
                start = page * size
                content = [self._shaped(kind, o, include) for o in chosen[start : start + size]]
            body: dict[str, Any] = {m.ENVELOPE_CONTENT: content}
            if self.knobs.page_metadata:
                body[m.ENVELOPE_PAGE] = {
                    "number": page,
                    "size": size,
                    m.TOTAL_ELEMENTS: len(chosen),
                    m.TOTAL_PAGES: (len(chosen) + size - 1) // size,
                }
            return Reply(200, body)

        return list_

    def _endless(self, kind: str, request: Request, size: int) -> Reply:
        """A full page of objects never seen before (the ``endless_list`` knob)."""
        after = _instant(request, m.PARAM_FROM) or self._latest
        with self.lock:
            model = next(iter(self.objects[kind].values()))
            content = []
            for _ in range(size):
                n = next(self._invented)
                after += timedelta(milliseconds=1)
                invented = {
                    **copy.deepcopy(model),
                    m.ID: 900_000_000 + n,
                    NUMBER_FIELDS[kind]: str(900_000 + n),
                    m.MODIFIED: m.format_instant(after),
                }
                if kind == "customers":  # each its own company: one kennitala is one debtor
                    invented[KENNITALA] = self._new_kennitala(n)
                content.append(invented)
        page = {"number": 0, "size": size, m.TOTAL_ELEMENTS: 10**9, m.TOTAL_PAGES: 10**9}
        return Reply(200, {m.ENVELOPE_CONTENT: content, m.ENVELOPE_PAGE: page})

    def _new_kennitala(self, n: int) -> str:
        """A valid organisation kennitala no invented customer has had (callers hold the lock)."""
        rng = random.Random(n)
        while (text := make_kennitala(rng, organisation=True, dash=True)) in self._kennitalas:
            pass
        self._kennitalas.add(text)
        return text

    def _shaped(self, kind: str, raw: dict[str, Any], include: bool = False) -> Any:
        """A stored object as this account answers it (callers hold the lock)."""
        shaped = copy.deepcopy(raw)
        for name in [] if include else self.knobs.include_only:
            shaped.pop(name, None)
        if self.knobs.flat_references:
            shaped = encode.flatten(kind, shaped, _Names(self.objects))
        if self.knobs.renamed_fields:
            shaped = encode.rename(kind, shaped, m.FieldNames.of(self.knobs.renamed_fields))
        return shaped

    def _select(self, kind: str, request: Request) -> list[dict[str, Any]]:
        objects: Iterable[dict[str, Any]] = self.objects[kind].values()
        if self.knobs.unreliable_order:
            return sorted(objects, key=lambda o: -int(o[m.ID]))
        ids = request.query.get(m.PARAM_IDS)
        if ids and not self.knobs.ignore_ids:
            asked = {int(n) for n in ids.split(",") if n.strip().isdigit()}
            objects = [o for o in objects if int(o[m.ID]) in asked]
        first, last = request.query.get(m.PARAM_DATED_FROM), request.query.get(m.PARAM_DATED_TO)
        if (first or last) and not self.knobs.ignore_invoice_date:
            objects = [o for o in objects if _dated(o, first, last)]
        low, high = _instant(request, m.PARAM_FROM), _instant(request, m.PARAM_TO)
        if low or high:
            objects = [o for o in objects if _within(o, low, high)]
        if request.query.get(m.PARAM_SORT) == m.SORT_ASCENDING:
            return sorted(objects, key=lambda o: (_instant_of(o), o[m.ID]))
        return sorted(objects, key=lambda o: int(o[m.ID]))

    def _admin_list(self, r: Request) -> Reply:
        with self.lock:
            return Reply(200, list(copy.deepcopy(self.objects[_kind(r)]).values()))

    def _admin_put(self, r: Request) -> Reply:
        if not isinstance(r.body, dict) or m.ID not in r.body:
            raise BadRequest(400, "body must be a Moment object with an id")
        self.put_raw(_kind(r), r.body)
        return Reply(200, r.body)

    def _admin_patch(self, r: Request) -> Reply:
        if int(r.params[1]) not in self.objects[_kind(r)]:
            raise BadRequest(404, "no such object")
        return Reply(200, self.patch_raw(_kind(r), int(r.params[1]), r.body or {}))

    def _admin_delete(self, r: Request) -> Reply:
        self.delete(_kind(r), int(r.params[1]))
        return Reply(200, {})


class _Names(Mapping[tuple[str, int], str]):
    """(kind, id) → the object's name, for the ``customerName`` of a flat reference."""

    def __init__(self, objects: dict[str, dict[int, dict[str, Any]]]) -> None:
        self._objects = objects

    def __getitem__(self, key: tuple[str, int]) -> str:
        name = self._objects.get(key[0], {}).get(key[1], {}).get("name")
        if not isinstance(name, str):
            raise KeyError(key)
        return name

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter([(k, i) for k, objs in self._objects.items() for i in objs])

    def __len__(self) -> int:
        return sum(len(objs) for objs in self._objects.values())


def _kind(r: Request) -> str:
    if r.params[0] not in m.ENTITY_PATHS:
        raise BadRequest(404, f"unknown kind {r.params[0]}; one of {', '.join(m.ENTITY_PATHS)}")
    return r.params[0]


def _int(request: Request, name: str, default: int) -> int:
    value = request.query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise BadRequest(400, f"{name} must be a non-negative number")
    return int(value)


def _instant(request: Request, name: str) -> datetime | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return m.parse_instant(value)
    except ValueError as exc:
        raise BadRequest(400, f"{name} is not an ISO-8601 time") from exc


@lru_cache(maxsize=1 << 17)
def _parsed(value: str) -> datetime:
    """Every list request reads every object's time: parsed once per distinct text, so a
    company of many thousands answers in the latency asked for, not in its parsing."""
    return m.parse_instant(value)


def _instant_of(obj: dict[str, Any]) -> datetime:
    """An object's time for sorting; one that cannot be read sorts first."""
    try:
        return _parsed(obj[m.MODIFIED])
    except (TypeError, ValueError, AttributeError):
        return datetime.min.replace(tzinfo=UTC)


def _dated(obj: dict[str, Any], first: str | None, last: str | None) -> bool:
    """ISO dates compare as text: dated from ``first`` to ``last``, both included."""
    day = str(obj.get(m.INVOICE_DATE) or "")
    return bool(day) and (first is None or day >= first) and (last is None or day <= last)


def _within(obj: dict[str, Any], low: datetime | None, high: datetime | None) -> bool:
    """Whether an object is in the asked range; one whose time cannot be read (put there by
    a test, as a broken Moment would) is sent in every range."""
    modified = _instant_of(obj)
    if modified == datetime.min.replace(tzinfo=UTC):
        return True
    return (low is None or modified >= low) and (high is None or modified <= high)
