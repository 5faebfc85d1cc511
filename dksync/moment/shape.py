"""What one live Moment object looks like next to what dksync reads (``dksync check``).

For an object as the account sends it: which expected fields are missing or of another
type, which fields it has that dksync does not read, and for each missing field the likely
candidate (same kind of value, similar name) as a ready-to-paste ``field_names`` line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dksync.moment.fieldnames import FieldNames, has_path
from dksync.moment.names import (
    FIELDS,
    IGNORED,
    IGNORED_IN_LINES,
    LINES,
    OBJECT_OF_KIND,
    REF_ACCOUNT,
    REF_CUSTOMER,
    REF_PRODUCT,
    REF_PROJECT,
)
from dksync.moment.parsing import field_problems

# Fields whose value is an object or a list; every other one is a plain value.
_OBJECTS = frozenset(
    {"address", *(r[0] for r in (REF_ACCOUNT, REF_CUSTOMER, REF_PRODUCT, REF_PROJECT))}
)
# Either of these satisfies a reference: the nested object or the flat id.
_ALTERNATIVES = {r[0]: r[2] for r in (REF_ACCOUNT, REF_CUSTOMER, REF_PRODUCT, REF_PROJECT)} | {
    r[2]: r[0] for r in (REF_ACCOUNT, REF_CUSTOMER, REF_PRODUCT, REF_PROJECT)
}
_ALTERNATIVES[REF_PRODUCT[3]] = REF_PRODUCT[0]  # productName: the nested product holds it


@dataclass
class Shape:
    """One object's fields against dksync's expectations."""

    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


def value_kind(value: Any) -> str:
    """A JSON value's kind in words (what a masked sample shows instead of the value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    return "number"


def inspect(kind: str, raw: Any, names: FieldNames) -> Shape:
    """Compare one object as the account sent it with what dksync reads."""
    shape = Shape(problems=field_problems(kind, names.apply(kind, raw)))
    if not isinstance(raw, Mapping):
        return shape
    _compare(OBJECT_OF_KIND[kind], raw, names, shape)
    lines = raw.get(names.actual("invoice", LINES))
    if kind == "invoices" and isinstance(lines, list) and lines and isinstance(lines[0], Mapping):
        _compare("line", lines[0], names, shape)
    return shape


def _compare(obj: str, raw: Mapping[str, Any], names: FieldNames, shape: Shape) -> None:
    tops = [n for n in FIELDS[obj] if "." not in n]
    used = {names.actual(obj, n).split(".")[0] for n in tops}
    ignored = IGNORED | (IGNORED_IN_LINES if obj == "line" else frozenset())
    unread = [k for k in raw if k not in used and k not in ignored]
    shape.unread += [f"{_where(obj)}{k} ({value_kind(raw[k])})" for k in unread]
    for name in tops:
        actual = names.actual(obj, name)
        if has_path(raw, actual) or has_path(raw, names.actual(obj, _ALTERNATIVES.get(name, name))):
            continue
        shape.missing.append(f"{_where(obj)}{name}")
        candidate = _candidate(name, [k for k in unread if _same_kind(name, raw[k])])
        if candidate is not None:
            shape.suggestions.append(f"{obj}.{name}: {candidate}")


def _where(obj: str) -> str:
    return "lines[0]." if obj == "line" else ""


def _same_kind(expected: str, value: Any) -> bool:
    kind = value_kind(value)
    if expected in _OBJECTS:
        return kind in ("object", "null")
    if expected == LINES:
        return kind == "list"
    return kind not in ("object", "list")


def _candidate(expected: str, choices: list[str]) -> str | None:
    """The unread field most like the expected name, when one is alike enough."""
    scored = [
        (difflib.SequenceMatcher(None, expected.lower(), c.lower()).ratio(), c) for c in choices
    ]
    best = max(scored, default=None)
    return best[1] if best is not None and best[0] >= 0.5 else None
