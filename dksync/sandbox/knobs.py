"""The sandbox servers' behaviour settings, changed live from Python or over HTTP."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Knobs:
    """Behaviour settings; change them at any time from Python or ``PUT /_sandbox/knobs``.

    ``latency_ms`` delays every request; ``rate_limit`` answers 429 above that many
    requests/s per key; ``error_rate`` answers that share 503 before any write;
    ``drop_rate`` lets that share of writes happen and then closes the connection without an
    answer; ``burst_rate`` starts a run of ``burst_length`` 429s; ``slow_rate`` delays that
    share by ``slow_ms`` more (past a client's timeout; the request is still carried out);
    ``fault_path`` limits all of these to requests for exactly that path;
    ``unreliable_order`` makes Moment lists ignore their date filter and sort;
    ``rewrites`` replace answers the way a broken server or proxy does (see ``Rewrite``);
    ``transport_fault`` breaks every answer at the HTTP level: ``broken_chunks`` (the write
    happens, the chunked answer stops midway), ``bad_gzip`` (the write happens, the answer
    claims gzip and is not), ``deep_json`` (the write happens, the answer is JSON nested
    past any parser's depth), ``redirect_loop`` (nothing happens, a 302 to itself);
    ``echo_credentials`` repeats the request's credentials in every error message, as
    some services do ("invalid token abc…").
    Bounds (see ``hostile``): ``trickle_ms`` sends every answer (status line, headers and
    body) one byte per that many ms, after carrying the request out; ``gzip_bomb_mb``
    answers every 2xx with a gzip body of ~1 KB per 1 MB that inflates to that many MB
    (the request carried out first); ``absurd_numbers`` writes every field of that name in
    an answer as that JSON number text (``{"creditDays": "1E+999999999"}``).
    Moment's shapes: ``page_cap`` silently caps a list page's size; ``page_metadata`` off
    leaves out the ``page`` block; ``repeat_page`` ignores the ``page`` parameter (always the
    first page); ``flat_references`` answers ``customerId``/``customerName`` instead of
    ``customer: {id, customerNumber}`` (and so for projects, products, accounts);
    ``renamed_fields`` spells fields as an account would (``{"customer.phone": "tel"}``);
    ``include_only`` lists fields sent only through ``/include/base``; ``endless_list``
    names a kind whose list never ends (see ``moment_server``); ``clock_offset_s`` moves
    the server's ``Date`` header (negative: a stale clock); ``ignore_ids`` makes lists
    ignore the ``ids`` filter (the whole list is answered), ``ignore_invoice_date`` the
    invoice-date filter.
    """

    latency_ms: float = 0.0
    rate_limit: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    burst_rate: float = 0.0
    burst_length: int = 5
    slow_rate: float = 0.0
    slow_ms: float = 0.0
    fault_path: str = ""
    unreliable_order: bool = False
    rewrites: list[dict[str, Any]] = field(default_factory=list)
    transport_fault: str = ""
    echo_credentials: bool = False
    trickle_ms: float = 0.0
    gzip_bomb_mb: int = 0
    absurd_numbers: dict[str, str] = field(default_factory=dict)
    page_cap: int = 500
    page_metadata: bool = True
    repeat_page: bool = False
    flat_references: bool = False
    renamed_fields: dict[str, str] = field(default_factory=dict)
    include_only: list[str] = field(default_factory=list)
    endless_list: str = ""
    clock_offset_s: float = 0.0
    ignore_ids: bool = False
    ignore_invoice_date: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)


ANSWERS: dict[str, tuple[int, bytes | None]] = {
    "html": (200, b"<html><body><h1>Gateway</h1>Please wait</body></html>"),
    "empty": (200, b""),
    "object": (200, b"{}"),
    "list": (200, b"[]"),
    "404": (404, b'{"Message": "Not found"}'),
    "409": (409, b'{"Message": "Conflict: already exists"}'),
    "500": (500, b'{"Message": "Internal Server Error"}'),
    "502": (502, b"<html>Bad Gateway</html>"),
    "503": (503, b'{"Message": "Service Unavailable"}'),
    "504": (504, b"<html>Gateway Timeout</html>"),
}


@dataclass
class Rewrite:
    """One answer rewrite: requests with ``method`` whose path matches the regular expression
    ``path`` get ``answer`` (a key of ``ANSWERS``, ``echo:<text>`` for a 400 whose message
    is that text, or ``merge:<JSON object>`` for the real answer with those fields answered
    otherwise, such as ``merge:{"TotalAmount": 1}``: use it with ``write``). ``write`` says
    whether the request is still carried out first (the answer is lost on the way back) or
    not at all. ``times`` bounds how often (-1: always)."""

    method: str
    path: str
    answer: str
    write: bool = False
    times: int = -1

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and method == self.method and re.search(self.path, path) is not None
