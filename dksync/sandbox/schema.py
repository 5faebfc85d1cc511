"""Validates DK+ request bodies against the contract schema shipped in ``dksync/dkplus/schema``.

A small validator for the draft-07 keywords that schema uses (type, properties,
additionalProperties, required, enum, minLength, maxLength, pattern, items, $ref), so the sandbox
needs no extra runtime dependency. The tests check it agrees with ``jsonschema``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "dkplus-requests.schema.json"


@cache
def contract() -> dict[str, Any]:
    """The DK+ request schema as shipped with dksync."""
    text = resources.files("dksync.dkplus.schema").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, Decimal) and value == value.to_integral_value()
        )
    if kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    raise ValueError(f"unsupported schema type {kind}")


def errors(definition: str, body: Any) -> list[str]:
    """Every way ``body`` breaks the schema's ``definition``; empty when it conforms."""
    found: list[str] = []
    _check(contract()["definitions"][definition], body, definition, found)
    return found


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = contract()["definitions"][ref.rsplit("/", 1)[-1]]
    return resolved


def _check(schema: dict[str, Any], value: Any, where: str, found: list[str]) -> None:
    schema = _resolve(schema)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is_type(value, k) for k in kinds):
            found.append(f"{where}: expected {' or '.join(kinds)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']} characters")
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{where}: shorter than {schema['minLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{where}[{index}]", found)
    if isinstance(value, dict):
        _check_object(schema, value, where, found)


def _check_object(
    schema: dict[str, Any], value: dict[str, Any], where: str, found: list[str]
) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            found.append(f"{where}: '{name}' is required")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            _check(properties[name], item, f"{where}.{name}", found)
        elif extra is False:
            found.append(f"{where}: unknown field '{name}'")
        elif isinstance(extra, dict):
            _check(extra, item, f"{where}.{name}", found)
