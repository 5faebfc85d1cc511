"""Icelandic kennitala (national id) checks: 10 digits, a plausible date, mod-11 advisory.

Organisations add 40 to the day. The check digit is only a warning: since February 2026
Registers Iceland issues numbers without a valid one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
CENTURIES = {"8": 1800, "9": 1900, "0": 2000}


@dataclass(frozen=True, slots=True)
class KennitalaCheck:
    """``digits`` is the normalised 10-digit form when usable; else ``error`` says why."""

    digits: str | None
    error: str | None = None
    warning: str | None = None
    is_organisation: bool = False


def normalise(text: str) -> str:
    """Drop the dash and spaces people write inside a kennitala."""
    return text.replace("-", "").replace(" ", "")


def check_digit(first_eight: str) -> int | None:
    """The mod-11 check digit for the first 8 digits, or None when no digit fits."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, WEIGHTS, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def check(text: str | None) -> KennitalaCheck:
    """Validate a kennitala as written in Moment."""
    if text is None or not text.strip():
        return KennitalaCheck(None, "has no kennitala")
    digits = normalise(text.strip())
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):  # not superscripts
        return KennitalaCheck(None, f"kennitala '{text}' is not 10 digits")
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    organisation = day > 40
    century = CENTURIES.get(digits[9])
    if century is None:
        return KennitalaCheck(None, f"kennitala '{text}' ends in {digits[9]}, not a century digit")
    try:
        date(century + year, month, day - 40 if organisation else day)
    except ValueError:
        return KennitalaCheck(None, f"kennitala '{text}' does not start with a valid date")
    warning = None
    if check_digit(digits[:8]) != int(digits[8]):
        warning = f"kennitala '{text}' fails the mod-11 check (allowed since February 2026)"
    return KennitalaCheck(digits, None, warning, organisation)
