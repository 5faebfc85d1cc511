"""``moment.field_names``: validated against the names dksync reads, applied in the adapter
only, and every name the parser reads is one a user can correct."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dksync import config, moment
from dksync.errors import ConfigError
from dksync.moment import FieldNames
from dksync.moment.encode import flatten, rename
from dksync.moment.names import FIELDS
from dksync.sandbox.generator import generate

BASE: dict[str, Any] = {
    "moment": {"company": "c", "api_key": "k"},
    "dkplus": {"token": "t", "sales_person": "1"},
}
DATA = generate(3, 12, 6, 30)


def _load(field_names: Any) -> config.Config:
    raw = {**BASE, "moment": {**BASE["moment"], "field_names": field_names}}
    return config.from_mapping(raw, env={})


def test_unknown_object_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as error:
        _load({"client.name": "title"})
    assert "moment.field_names: 'client.name': unknown object 'client'; one of customer, " in str(
        error.value
    )
    assert "financialAccount, product" in str(error.value)


def test_unknown_name_lists_the_names_dksync_reads() -> None:
    with pytest.raises(ConfigError) as error:
        _load({"customer.kennitala": "orgNumber", "invoice.state": 3})
    text = str(error.value)
    assert (
        "'customer.kennitala': dksync reads no field 'kennitala' of a customer; one of id," in text
    )
    assert "organizationNumber" in text
    assert "'invoice.state': dksync reads no field 'state' of a invoice" in text
    assert "'invoice.state': must be the JSON name the account uses, got 3" in text


def test_not_a_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"moment\.field_names: must map"):
        _load(["customer.name"])


def test_valid_names_reach_the_client_and_are_applied_there() -> None:
    loaded = _load({"customer.organizationNumber": "orgNumber", "line.unitPrice": "price.amount"})
    names = loaded.moment.field_names
    assert names.actual("customer", "organizationNumber") == "orgNumber"
    raw = {"id": 1, "orgNumber": "5302692619", "lines": [{"price": {"amount": "10"}}]}
    assert names.apply("customers", raw)["organizationNumber"] == "5302692619"
    applied = names.apply("invoices", raw)
    assert applied["lines"][0]["unitPrice"] == "10"
    assert "unitPrice" not in raw["lines"][0], "what Moment sent stays as it was"


def _renamed_all(obj: str) -> dict[str, str]:
    return {f"{obj}.{n}": f"x_{n}" for n in FIELDS[obj] if "." not in n}


ENCODED = {
    "customers": [moment.encode_customer(c) for c in DATA.customers],
    "projects": [moment.encode_project(p) for p in DATA.projects],
    "invoices": [moment.encode_invoice(i) for i in DATA.invoices],
    "accounts": [moment.encode_account(a, DATA.epoch) for a in DATA.accounts],
    "products": [moment.encode_product(p, DATA.epoch) for p in DATA.products],
}
OBJECT = {"customers": "customer", "projects": "project", "invoices": "invoice"}
OBJECT |= {"accounts": "financialAccount", "products": "product"}


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(ENCODED)), pick=st.integers(0, 200), flat=st.booleans())
def test_every_name_the_parser_reads_can_be_corrected(kind: str, pick: int, flat: bool) -> None:
    """Rename every field dksync reads (lines too), nested or flat references alike: with
    the matching field_names the record parses exactly as before."""
    raw = ENCODED[kind][pick % len(ENCODED[kind])]
    if flat:
        raw = flatten(kind, raw, {})
    renames = _renamed_all(OBJECT[kind]) | (_renamed_all("line") if kind == "invoices" else {})
    names = FieldNames.of(renames)
    sent = rename(kind, raw, names)
    assert not set(sent) & {n for n in FIELDS[OBJECT[kind]] if "." not in n}
    assert moment.parse(kind, names.apply(kind, sent)) == moment.parse(kind, raw)
