"""Kennitalas for generated customers: valid ones, and one to each customer."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from dksync.mapping import kennitala
from dksync.records import Customer


def make_kennitala(rng: random.Random, organisation: bool, dash: bool) -> str:
    """A kennitala with a valid date and mod-11 check digit."""
    while True:
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))
        day = born.day + (40 if organisation else 0)
        first8 = f"{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(20, 99)}"
        digit = kennitala.check_digit(first8)
        if digit is not None:
            text = f"{first8}{digit}{str(born.year)[1] if born.year < 2000 else '0'}"
            return f"{text[:6]}-{text[6:]}" if dash else text


def one_kennitala_each(customers: list[Customer]) -> list[Customer]:
    """Each customer its own kennitala, as a real company's customers have: random draws
    collide a few times in thousands (8 of 5,000 customers), and dksync rightly refuses a
    second debtor for one kennitala. A new draw comes from the customer's own id, so the
    main random sequence, and every other generated value, stays as it was."""
    seen: set[str] = set()
    unique = []
    for customer in customers:
        digits = kennitala.check(customer.kennitala).digits
        attempt = 0
        while digits is not None and digits in seen:
            attempt += 1
            again = random.Random(customer.id * 1000 + attempt)
            organisation = int(digits[:2]) > 31
            dash = "-" in (customer.kennitala or "")
            customer = replace(customer, kennitala=make_kennitala(again, organisation, dash))
            digits = kennitala.check(customer.kennitala).digits
        if digits is not None:
            seen.add(digits)
        unique.append(customer)
    return unique
