"""Reading typed fields out of one JSON object, collecting problems in plain words.

Generic (no API's names in it): the Moment adapter uses it both to parse records and to tell
``dksync check`` which fields of a live object are missing or of another type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from dksync import jsonio
from dksync.jsonio import OutOfBounds

_T = TypeVar("_T")
YEARS = range(1900, 3000)
"""The years a Moment date may have: outside them it is a typo (0001-01-01), and date
arithmetic near the ends of the calendar would overflow."""


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds half a UTF-16 pair (JSON's ``"\\ud800"``): not Unicode text,
    so it cannot be stored, sent or printed as such."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _plausible_day(text: str) -> date:
    day = date.fromisoformat(text[:10])
    if day.year not in YEARS:
        raise ValueError(f"year {day.year}")
    return day


def parse_instant(text: str) -> datetime:
    """An ISO-8601 time such as ``2026-11-20T10:15:30.123Z`` (with any offset) as aware UTC.

    A time outside ``YEARS`` is a ``ValueError``, as a malformed one is: ``9999-12-31T23:00
    -05:00`` cannot be moved to UTC at all, and a cursor at year 1 would overflow when the
    lookback is taken from it."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{text!r} is out of range") from exc
    if moment.year not in YEARS:
        raise ValueError(f"year {moment.year}")
    return moment


class FieldReader:
    """Reads typed fields from one JSON object, collecting problems instead of raising."""

    def __init__(self, raw: Any, problems: list[str], prefix: str = "") -> None:
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        self.problems = problems
        self.prefix = prefix

    def _get(self, key: str, required: bool, kind: str) -> Any:
        value = self.raw.get(key)
        if value is None and required:
            self.problems.append(f"field '{self.prefix}{key}' is missing (expected {kind})")
        return value

    def _wrong(self, key: str, kind: str, value: Any) -> None:
        shown = repr(value) if len(repr(value)) < 40 else type(value).__name__
        self.problems.append(f"field '{self.prefix}{key}' should be {kind}, got {shown}")

    def text(self, key: str, required: bool = True) -> str | None:
        value = self._get(key, required, "text")
        if isinstance(value, str) and has_lone_surrogate(value):
            self.problems.append(
                f"field '{self.prefix}{key}' holds text that is not valid Unicode (a lone "
                "UTF-16 surrogate, half of an emoji or similar): retype it in Moment"
            )
            return None
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return str(value)
        self._wrong(key, "text", value)
        return None

    def _number(self, key: str, kind: str, value: Any) -> Decimal | None:
        """A JSON number, or one written as a string, within ``jsonio``'s bounds either
        way; else the problem is noted."""
        bounded = jsonio.number_text(value) if isinstance(value, str) else value
        if isinstance(bounded, int | Decimal) and not isinstance(bounded, bool):
            number = Decimal(bounded)
            if number.is_finite():
                return number
        self._wrong(key, kind, bounded if isinstance(bounded, OutOfBounds) else value)
        return None

    def integer(self, key: str, required: bool = True) -> int | None:
        value = self._get(key, required, "a whole number")
        if value is None:
            return None
        number = self._number(key, "a whole number", value)
        if number is None:
            return None
        if number != number.to_integral_value():
            self._wrong(key, "a whole number", value)
            return None
        return int(number)

    def decimal(self, key: str, required: bool = True) -> Decimal | None:
        value = self._get(key, required, "a number")
        return None if value is None else self._number(key, "a number", value)

    def instant(self, key: str) -> datetime | None:
        return self._parsed(key, "an ISO-8601 time", parse_instant)

    def day(self, key: str, required: bool = True) -> date | None:
        return self._parsed(
            key, f"a date (YYYY-MM-DD) in {YEARS.start}..{YEARS.stop - 1}", _plausible_day, required
        )

    def _parsed(
        self, key: str, kind: str, parse: Callable[[str], _T], required: bool = True
    ) -> _T | None:
        value = self._get(key, required, kind)
        if value is None:
            return None
        try:
            return parse(value)
        except (TypeError, ValueError, AttributeError):
            self._wrong(key, kind, value)
            return None

    def choice(self, key: str, options: Mapping[str, Any], default: Any = None) -> Any:
        value = self._get(key, default is None, "one of " + ", ".join(options))
        if value is None:
            return default
        if not isinstance(value, str) or value not in options:  # a list or object: no option
            self._wrong(key, "one of " + ", ".join(options), value)
            return default
        return options[value]

    def nested(self, key: str, required: bool = True) -> FieldReader | None:
        value = self._get(key, required, "an object")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self._wrong(key, "an object", value)
            return None
        return FieldReader(value, self.problems, f"{self.prefix}{key}.")
