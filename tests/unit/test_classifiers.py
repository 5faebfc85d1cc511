"""Each API's response classifier, as a table of status and body → what the caller does."""

from __future__ import annotations

from typing import Any

import pytest

from dksync import moment
from dksync.dkplus import client as dkplus
from dksync.transport.http import Kind


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry_after", "words"),
    [
        (200, {"Number": "1"}, {}, Kind.OK, None, ""),
        (404, {"Message": "nope"}, {}, Kind.NOT_FOUND, None, ""),
        (409, {"Message": "Customer 1 already exists"}, {}, Kind.CONFLICT, None, "already"),
        (400, {"Message": "ItemCode X does not exist"}, {}, Kind.REJECT, None, "ItemCode X"),
        (401, {"Message": "Unauthorized"}, {}, Kind.DENIED, None, "dkplus.token"),
        (429, None, {"Retry-After": "3"}, Kind.RETRY, 3.0, ""),
        (503, "oops", {}, Kind.RETRY, None, ""),
        (418, None, {}, Kind.FATAL, None, "418"),
    ],
)
def test_dkplus(
    status: int,
    body: Any,
    headers: dict[str, str],
    kind: Kind,
    retry_after: float | None,
    words: str,
) -> None:
    verdict = dkplus.classify(status, body, headers)
    assert verdict.kind is kind and verdict.retry_after == retry_after
    assert words in verdict.message


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (200, {}, Kind.OK, None),
        (404, {}, Kind.NOT_FOUND, None),
        (401, {}, Kind.FATAL, None),
        (403, {}, Kind.FATAL, None),
        (429, {"Retry-After": "2"}, Kind.RETRY, 2.0),
        (429, {"Retry-After": "soon"}, Kind.RETRY, None),
        (500, {}, Kind.RETRY, None),
        (400, {}, Kind.FATAL, None),
    ],
)
def test_moment(
    status: int, headers: dict[str, str], kind: Kind, retry_after: float | None
) -> None:
    verdict = moment.classify(status, None, headers)
    assert verdict.kind is kind and verdict.retry_after == retry_after
