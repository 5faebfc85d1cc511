"""The sandbox's own schema validator agrees with jsonschema on valid and broken bodies."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from dksync.sandbox import schema

SAMPLES = {
    "Customer": {"Number": "10001", "Name": "Ölgerðin ehf.", "Blocked": False, "Address1": "x"},
    "CustomerUpdate": {"Name": "Ölgerðin", "PaymentTerm": "d14"},
    "Project": {
        "Number": "1042",
        "Name": "Vefur",
        "CustomerToBill": "10001",
        "JobStatus": "InProgress",
    },
    "Product": {"ItemCode": "RADGJOF", "Description": "Ráðgjöf", "TaxPercent": 24},
    "InvoiceCreate": {
        "Customer": {"Number": "1", "SSN": "5302692619"},
        "SalesPerson": "S",
        "Reference": "1001",
        "Lines": [{"ItemCode": "A", "Quantity": 1.5}],
        "SaleType": "Debit",
        "Properties": {"a": "b"},
    },
}
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=14),
    st.text(alphabet="0123456789-", min_size=9, max_size=11),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _jsonschema_ok(definition: str, body: Any) -> bool:
    full = schema.contract()
    root = {**full, "$ref": f"#/definitions/{definition}"}
    return jsonschema.Draft7Validator(root).is_valid(body)


@given(
    definition=st.sampled_from(sorted(SAMPLES)),
    key=st.one_of(
        st.sampled_from(
            [
                "Number",
                "Name",
                "Lines",
                "SaleType",
                "Blocked",
                "Customer",
                "JobStatus",
                "TaxPercent",
                "Properties",
                "SSNumber",
            ]
        ),
        st.text(max_size=5),
    ),
    value=ODD_VALUES,
    drop=st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_agrees_with_jsonschema(definition: str, key: str, value: Any, drop: bool) -> None:
    body = json.loads(json.dumps(SAMPLES[definition]))
    if drop:
        body.pop(key, None)
    else:
        body[key] = value
    ours = not schema.errors(definition, body)
    assert ours == _jsonschema_ok(definition, body), schema.errors(definition, body)


def test_samples_are_valid_and_errors_name_the_field() -> None:
    for definition, body in SAMPLES.items():
        assert schema.errors(definition, body) == []
    problems = schema.errors("Customer", {"Number": "x" * 13, "City": "R"})
    assert any("longer than 12" in p for p in problems)
    assert any("unknown field 'City'" in p for p in problems)
