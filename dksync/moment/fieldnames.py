"""``moment.field_names``: the user's corrections of the JSON names dksync reads.

Keyed by ``<object>.<name dksync expects>`` and valued by the name the account uses (a
dotted path for a nested field). Applied only here, in the adapter: every object Moment
sends is given the expected names before anything reads it, so the rest of dksync never
knows a name was corrected.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dksync.moment.names import FIELDS, LINES, OBJECT_OF_KIND

_ABSENT = object()


def problems(raw: Mapping[str, Any]) -> list[str]:
    """Every entry of a ``field_names`` mapping that names no object or no field dksync
    reads, listing the valid ones; empty when the mapping is right."""
    found: list[str] = []
    for key, value in raw.items():
        obj, _, name = str(key).partition(".")
        if obj not in FIELDS:
            found.append(f"'{key}': unknown object '{obj}'; one of {', '.join(FIELDS)}")
        elif name not in FIELDS[obj]:
            found.append(
                f"'{key}': dksync reads no field '{name}' of a {obj}; one of "
                + ", ".join(FIELDS[obj])
            )
        if not isinstance(value, str) or not value.strip() or " " in value:
            found.append(f"'{key}': must be the JSON name the account uses, got {value!r}")
    return found


@dataclass(frozen=True)
class FieldNames:
    """Validated corrections, per object: {expected path: path the account uses}."""

    by_object: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Mapping[str, str]) -> FieldNames:
        by_object: dict[str, dict[str, str]] = {}
        for key, value in raw.items():
            obj, _, name = key.partition(".")
            by_object.setdefault(obj, {})[name] = value
        return cls(by_object)

    def __bool__(self) -> bool:
        return bool(self.by_object)

    def actual(self, obj: str, expected: str) -> str:
        """The name the account uses for an expected field."""
        return self.by_object.get(obj, {}).get(expected, expected)

    def apply(self, kind: str, raw: Any) -> Any:
        """``raw`` with every corrected field also under its expected name (a copy; the
        original is left as Moment sent it). Lines of an invoice get the ``line`` names."""
        if not self or not isinstance(raw, Mapping):
            return raw
        result = _rename(raw, self.by_object.get(OBJECT_OF_KIND[kind], {}))
        lines = self.by_object.get("line")
        if kind == "invoices" and lines and isinstance(result.get(LINES), list):
            result = {**result, LINES: [_rename(line, lines) for line in result[LINES]]}
        return result


def _rename(raw: Any, renames: Mapping[str, str]) -> Any:
    if not renames or not isinstance(raw, Mapping):
        return raw
    result = copy.deepcopy(dict(raw))
    for expected, actual in renames.items():
        value = get_path(raw, actual)
        if value is not _ABSENT:
            _set_path(result, expected, value)
    return result


def get_path(raw: Any, path: str) -> Any:
    """The value at a dotted path, or ``_ABSENT``."""
    value = raw
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def has_path(raw: Any, path: str) -> bool:
    return get_path(raw, path) is not _ABSENT


def _set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = raw
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[last] = value
