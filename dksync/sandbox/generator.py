"""Deterministic Moment data with realistic Icelandic content, for tests, demo and benchmarks.

One seed, one dataset: every choice comes from ``random.Random(seed)`` and every time from
a fixed epoch. Besides ordinary records it plants a few bad on purpose (``Dataset.planted``
says which), so a sync against it always has something to reject.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dksync.mapping.money import HUNDRED, round_half_up
from dksync.records import (
    Address,
    Customer,
    CustomerStatus,
    ExportStatus,
    FinancialAccount,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Product,
    Project,
)
from dksync.sandbox.kennitalas import make_kennitala, one_kennitala_each

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST_NAMES = (
    "Þórður",
    "Guðrún",
    "Ásgeir",
    "Björk",
    "Sigurður",
    "Ævar",
    "Ösp",
    "Hjördís",
    "Jón",
    "Þóra",
    "Ragnheiður",
    "Eiður",
    "Dagný",
    "Örn",
    "Kristín",
    "Bjarni",
)
FATHERS = ("Þórðar", "Guðmundar", "Jóns", "Sigurðar", "Ævars", "Arnar", "Ólafs", "Einars")
COMPANY_WORDS = (
    "Kaffibrennslan",
    "Þörungaverksmiðjan",
    "Ölgerðin",
    "Ævintýraferðir",
    "Sæþór",
    "Hafrún",
    "Bókhaldsþjónustan",
    "Vélsmiðjan Öxull",
    "Fjarðarál",
    "Grænmetisbúðin",
    "Íshúsið",
    "Ljósmyndastofan Ðel",
)
COMPANY_FORMS = ("ehf.", "hf.", "slf.", "sf.")
STREETS = (
    "Laugavegur",
    "Þórsgata",
    "Ægisíða",
    "Hverfisgata",
    "Skólavörðustígur",
    "Öldugata",
    "Bárugata",
    "Strandgata",
    "Hafnarstræti",
    "Glerárgata",
)
PLACES = (
    ("101", "Reykjavík"),
    ("105", "Reykjavík"),
    ("200", "Kópavogur"),
    ("220", "Hafnarfjörður"),
    ("600", "Akureyri"),
    ("800", "Selfoss"),
    ("400", "Ísafjörður"),
    ("700", "Egilsstaðir"),
    ("230", "Reykjanesbær"),
)
PROJECT_WORDS = (
    "Nýtt bókunarkerfi",
    "Vefsíða",
    "Úttekt á þjónustu",
    "Þróun á appi",
    "Ráðgjöf um ársreikning",
    "Hönnun á merki",
    "Öryggisúttekt",
    "Flutningur",
)
CREDIT_DAYS = (0, 14, 14, 30, 30, 30)


def _accounts() -> list[FinancialAccount]:
    d = Decimal
    return [
        FinancialAccount(169437, "3000", "Sala þjónustu", d("24.00"), "S24", "VINNA"),
        FinancialAccount(169438, "3010", "Sala vöru", d("24.00"), "S24", "VARA"),
        FinancialAccount(169439, "3100", "Sala í lægra þrepi", d("11.00"), "S11", None),
        FinancialAccount(169440, "3200", "Undanþegin sala", d("0.00"), None, "UNDANTH"),
        FinancialAccount(169441, "3900", "Ýmsar tekjur", None, None, None),
    ]


def _products() -> list[Product]:
    d = Decimal
    return [
        Product(77, "RADGJOF", "Ráðgjöf", d("18500.00"), 169437),
        Product(78, "FORRITUN", "Forritun", d("16900.00"), 169437),
        Product(79, "HYSING", "Hýsing á mánuði", d("4900.00"), 169438),
        Product(80, "LEYFI", "Hugbúnaðarleyfi", d("12500.00"), 169438),
        Product(81, "NAMSKEID", "Námskeið", d("35000.00"), 169439),
    ]


@dataclass
class Dataset:
    """Records as dksync's own types; the sandbox encodes them as Moment JSON."""

    customers: list[Customer] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    accounts: list[FinancialAccount] = field(default_factory=_accounts)
    products: list[Product] = field(default_factory=_products)
    planted: dict[str, str] = field(default_factory=dict)
    epoch: datetime = EPOCH


class _Clock:
    """Strictly increasing Moment timestamps from the epoch, with seeded gaps."""

    def __init__(self, rng: random.Random) -> None:
        self._rng, self._now = rng, EPOCH

    def tick(self) -> datetime:
        self._now += timedelta(
            seconds=self._rng.randint(1, 600), milliseconds=self._rng.randint(0, 999)
        )
        return self._now


def _customer(rng: random.Random, n: int, clock: _Clock) -> Customer:
    company = rng.random() < 0.6
    if company:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_FORMS)}"
    else:
        first = rng.choice(FIRST_NAMES)
        ending = (
            "dóttir"
            if first
            in ("Guðrún", "Björk", "Ösp", "Hjördís", "Þóra", "Ragnheiður", "Dagný", "Kristín")
            else "son"
        )
        name = f"{first} {rng.choice(FATHERS)}{ending}"
    postal, city = rng.choice(PLACES)
    status = rng.choices(list(CustomerStatus), weights=(85, 5, 5, 5))[0]
    return Customer(
        id=62788000 + n,
        modified=clock.tick(),
        version=rng.randint(1, 9),
        number=str(10001 + n),
        name=name,
        status=status,
        kennitala=make_kennitala(rng, company, dash=rng.random() < 0.5),
        phone=f"+354 {rng.randint(400, 899)} {rng.randint(1000, 9999)}",
        email=f"reikningar{n}@example.is",
        address=Address(
            f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            f"{rng.randint(1, 4)}. hæð" if rng.random() < 0.2 else None,
            postal,
            city,
            "IS",
        ),
        credit_days=rng.choice(CREDIT_DAYS),
    )


def _plant_customers(customers: list[Customer], planted: dict[str, str]) -> None:
    """Turn three ordinary customers into bad ones, when there are enough."""
    bad = {
        3: ("customer without kennitala", {"kennitala": None}),
        7: ("customer with malformed kennitala", {"kennitala": "1234-56"}),
        11: ("customer number over 12 characters", {"number": "1000100010001"}),
    }
    for index, (label, changes) in bad.items():
        if index < len(customers):
            customers[index] = replace(customers[index], **changes)  # type: ignore[arg-type]
            planted[label] = customers[index].number


def _line(
    rng: random.Random,
    accounts: list[FinancialAccount],
    products: list[Product],
    credit: bool,
) -> InvoiceLine:
    quantity = Decimal(rng.choice(("1", "2", "2.5", "7.5", "10", "3")))
    surcharge = Decimal(rng.choice((0, 0, 0, 0, 0, 10, 25, 50)))
    discount = Decimal(rng.choice((0, 0, 0, 0, 5, 10, 15)))
    if rng.random() < 0.6:
        product, account = rng.choice(products), None
    else:
        product, account = None, rng.choice(accounts[:3])
    price = (
        product.unit_price
        if product and product.unit_price
        else Decimal(rng.randint(10, 400) * 100)
    )
    vat = account.vat_percent if account else Decimal("24")
    if credit:
        quantity = -quantity
    total = round_half_up(quantity * price * (1 + surcharge / HUNDRED) * (1 - discount / HUNDRED))
    return InvoiceLine(
        description=product.name if product else (account.name if account else "Vinna"),
        quantity=quantity,
        unit_price=price,
        discount_percent=discount,
        surcharge_percent=surcharge,
        vat_percent=vat,
        line_total=total,
        product_id=product.id if product else None,
        product_number=product.number if product else None,
        product_name=product.name if product else None,
        account_id=account.id if account else (product.account_id if product else None),
    )


def _status(rng: random.Random) -> tuple[InvoiceStatus, ExportStatus]:
    roll = rng.random()
    if roll < 0.04:
        return InvoiceStatus.DRAFT, ExportStatus.TO_TRANSFER
    if roll < 0.06:
        return InvoiceStatus.APPROVED, ExportStatus.TO_TRANSFER
    export = ExportStatus.DO_NOT_TRANSFER if rng.random() < 0.03 else ExportStatus.TO_TRANSFER
    return rng.choice((InvoiceStatus.FINALIZED, InvoiceStatus.SENT, InvoiceStatus.PAID)), export


def generate(
    seed: int = 1,
    customers: int = 40,
    projects: int = 15,
    invoices: int = 60,
    lines: tuple[int, int] = (1, 4),
    plant: bool = True,
) -> Dataset:
    """A reproducible Moment company: same arguments, same data."""
    rng = random.Random(seed)
    clock = _Clock(rng)
    data = Dataset()
    data.customers = one_kennitala_each([_customer(rng, n, clock) for n in range(customers)])
    if plant:
        _plant_customers(data.customers, data.planted)
    for n in range(projects):
        owner = data.customers[rng.randrange(len(data.customers))] if data.customers else None
        data.projects.append(
            Project(
                id=62789000 + n,
                modified=clock.tick(),
                version=rng.randint(1, 5),
                number=str(1001 + n),
                name=rng.choice(PROJECT_WORDS),
                status="inProgress",
                customer_id=owner.id if owner else None,
                customer_number=owner.number if owner else None,
            )
        )
    for n in range(invoices):
        data.invoices.append(_invoice(rng, n, data, clock, lines))
    if plant:
        _plant_invoices(data)
    return data


PLANTED_INVOICES = {
    5: "invoice line with no item code source",
    8: "invoice for customer without kennitala",
    9: "invoice for customer with malformed kennitala",
    12: "invoice marked do not transfer",
}


def _plant_invoices(data: Dataset) -> None:
    """Make three invoices final and bad on purpose, when there are enough records."""
    by_label = {label: number for label, number in data.planted.items()}
    for index, label in PLANTED_INVOICES.items():
        if index >= len(data.invoices) or len(data.customers) <= 7:
            continue
        invoice = replace(
            data.invoices[index],
            status=InvoiceStatus.FINALIZED,
            export_status=ExportStatus.TO_TRANSFER,
            number=1001 + index,
        )
        if index == 12:
            invoice = replace(invoice, export_status=ExportStatus.DO_NOT_TRANSFER)
        elif index == 5:
            first = invoice.lines[0]
            invoice = replace(
                invoice,
                lines=(
                    replace(
                        first,
                        product_id=None,
                        product_number=None,
                        product_name=None,
                        account_id=data.accounts[-1].id,
                    ),
                    *invoice.lines[1:],
                ),
            )
        else:
            owner_label = label.removeprefix("invoice for ")
            owner = next(c for c in data.customers if c.number == by_label[owner_label])
            invoice = replace(
                invoice,
                customer_id=owner.id,
                customer_number=owner.number,
                project_id=None,
                project_number=None,
            )
        if invoice.is_credit_note:
            invoice = replace(
                invoice,
                is_credit_note=False,
                credited_number=None,
                lines=tuple(
                    replace(x, quantity=-x.quantity, line_total=-(x.line_total or Decimal(0)))
                    for x in invoice.lines
                ),
            )
        data.invoices[index] = invoice
        data.planted[label] = str(invoice.number)


def _invoice(
    rng: random.Random, n: int, data: Dataset, clock: _Clock, lines: tuple[int, int]
) -> Invoice:
    customer = data.customers[rng.randrange(len(data.customers))]
    project = rng.choice(data.projects) if data.projects and rng.random() < 0.5 else None
    if project is not None and project.customer_id is not None:
        customer = next(c for c in data.customers if c.id == project.customer_id)
    status, export = _status(rng)
    final = status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
    earlier = [i for i in data.invoices[-20:] if i.number and not i.is_credit_note]
    credit = final and bool(earlier) and rng.random() < 0.04
    credited = rng.choice(earlier) if credit else None
    if credited is not None:
        customer = next(c for c in data.customers if c.id == credited.customer_id)
    count = rng.randint(*lines)
    invoice_lines = tuple(_line(rng, data.accounts, data.products, credit) for _ in range(count))
    day = (EPOCH + timedelta(days=n // 3)).date()
    return Invoice(
        id=106939000 + n,
        modified=clock.tick(),
        version=rng.randint(1, 4),
        number=1001 + n if final else 0,
        status=status,
        export_status=export,
        is_credit_note=credit,
        credited_number=credited.number if credited else None,
        invoice_date=day,
        due_date=day + timedelta(days=customer.credit_days or 14),
        currency="ISK",
        customer_id=customer.id,
        customer_number=customer.number,
        project_id=project.id if project else None,
        project_number=project.number if project else None,
        lines=invoice_lines,
    )
