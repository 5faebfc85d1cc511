"""Issue 9, as a property: Moment records with hostile values (NaN, infinities, absurd
exponents, overflowing quantities, discounts over 100 %, text where a number is due, nulls)
go through a full run over real HTTP. Whatever hypothesis picks: no traceback, no
unexpected error, and every eligible invoice is in DK+ exactly once or rejected with a reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dksync.clients import connect
from dksync.errors import InternalError
from dksync.sandbox.pair import Sandbox, Sizes
from dksync.sync import run as engine
from dksync.sync.context import RunOptions
from tests.conftest import FAST_RETRIES, config_for
from tests.integration.test_hostile_answers import unaccounted

HOSTILE = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e30",
        "-1e999999999",
        "1e999999999",
        "99999999999999999999999999",
        "150",
        "-5",
        "abc",
        "",
        None,
        1e300,
        True,
    ]
)
LINE_FIELDS = st.sampled_from(
    ["quantity", "unitPrice", "discountPercent", "surchargePercent", "lineTotal", "vatPercent"]
)
EDITS = st.lists(st.tuples(st.integers(0, 40), LINE_FIELDS, HOSTILE), min_size=1, max_size=6)


def _poison(sb: Sandbox, edits: list[tuple[int, str, Any]]) -> None:
    ids = sorted(i.id for i in sb.dataset.invoices)
    for index, name, value in edits:
        ident = ids[index % len(ids)]
        raw = sb.moment.raw("invoices", ident)
        lines = raw.get("lines") or []
        if lines:
            lines[0][name] = value
            sb.moment.patch_raw("invoices", ident, {"lines": lines})


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=EDITS)
def test_hostile_values_never_crash_lose_or_duplicate(edits: list[tuple[int, str, Any]]) -> None:
    with Sandbox(seed=3, sizes=Sizes()) as sb, tempfile.TemporaryDirectory() as folder:
        _poison(sb, edits)
        state = Path(folder) / "state.sqlite"
        settings_ = config_for(sb, state)
        report = engine.run(settings_, RunOptions(), connect(settings_, FAST_RETRIES))
        assert not isinstance(report.fatal, InternalError), report.fatal
        assert report.fatal is None, report.fatal
        assert unaccounted(sb, state) == []
