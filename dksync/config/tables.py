"""The config's two tables of customer numbers and terms, read and checked on their own
(``reader.py`` hands each its raw value and the list of problems)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dksync.config.values import shown


def links(value: Any, problems: list[str]) -> dict[str, str]:
    """``customers.link``: Moment customer number → the existing DK+ customer to use."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(
            "customers.link: must map Moment customer numbers to DK+ customer numbers, "
            "such as {10004: 551021-0680}"
        )
        return {}
    found: dict[str, str] = {}
    for moment_number, dk_number in value.items():
        dk = str(dk_number).strip() if isinstance(dk_number, str | int) else ""
        if not str(moment_number).strip() or not dk or len(dk) > 12:
            problems.append(
                f"customers.link: entry {shown(moment_number)}: {shown(dk_number)} must be a DK+ "
                "customer number (1 to 12 characters)"
            )
            continue
        found[str(moment_number).strip()] = dk
    return found


def payment_terms(value: Any, problems: list[str]) -> dict[int, str]:
    """``customers.payment_terms``: Moment credit days → a DK+ term code."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(
            "customers.payment_terms: must map credit days to DK+ term "
            "codes, such as {14: d14, 30: m30}"
        )
        return {}
    terms: dict[int, str] = {}
    for days, code in value.items():
        if not re.fullmatch("[0-9]{1,5}", str(days)) or not isinstance(code, str) or not code:
            problems.append(
                f"customers.payment_terms: entry {shown(days)}: {shown(code)} must "
                "be whole days mapped to a term code"
            )
            continue
        terms[int(days)] = code
    return terms
