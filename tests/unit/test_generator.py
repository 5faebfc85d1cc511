"""The data generator: deterministic, realistic, with the planted bad records."""

from __future__ import annotations

from dksync import moment
from dksync.mapping import kennitala
from dksync.sandbox.generator import generate


def _encoded(seed: int) -> list[dict[str, object]]:
    data = generate(seed, 30, 10, 50)
    return (
        [moment.encode_customer(c) for c in data.customers]
        + [moment.encode_project(p) for p in data.projects]
        + [moment.encode_invoice(i) for i in data.invoices]
    )


def test_one_seed_gives_identical_data_twice() -> None:
    assert _encoded(3) == _encoded(3)
    assert _encoded(3) != _encoded(4)


def test_realistic_icelandic_content() -> None:
    data = generate(1, 200, 20, 300)
    names = " ".join(c.name for c in data.customers)
    assert all(letter in names for letter in "þæðö")
    numbers = [c.kennitala for c in data.customers if c.kennitala]
    valid = [k for k in numbers if kennitala.check(k).digits]
    assert len(valid) == len(numbers) - 1, "all but the planted malformed one are valid"
    assert any("-" in k for k in valid) and any("-" not in k for k in valid)
    checks = [kennitala.check(k) for k in valid]
    assert any(c.is_organisation for c in checks) and any(not c.is_organisation for c in checks)
    assert all(c.address.postal_code for c in data.customers)


def test_variety_of_invoices_and_accounts() -> None:
    data = generate(1, 200, 20, 400)
    lines = [line for i in data.invoices for line in i.lines]
    assert any(line.product_number for line in lines)
    assert any(not line.product_number for line in lines)
    assert any(line.surcharge_percent for line in lines)
    assert any(line.discount_percent for line in lines)
    assert any(i.is_credit_note and all(x.quantity < 0 for x in i.lines) for i in data.invoices)
    assert {i.status.value for i in data.invoices} >= {"draft", "approved", "finalized"}
    assert any(i.export_status.value == "do_not_transfer" for i in data.invoices)
    assert any(a.vat_code is None for a in data.accounts)
    assert any(a.revenue_class is None and a.vat_code for a in data.accounts)


def test_planted_bad_records() -> None:
    planted = generate(1).planted
    assert planted["customer without kennitala"]
    assert len(planted["customer number over 12 characters"]) == 13
    assert set(planted) >= {
        "customer with malformed kennitala",
        "invoice line with no item code source",
        "invoice for customer without kennitala",
    }


def test_encoded_records_parse_back_unchanged() -> None:
    data = generate(2, 20, 5, 30)
    for invoice in data.invoices:
        assert moment.parse("invoices", moment.encode_invoice(invoice)) == invoice
    for customer in data.customers:
        assert moment.parse("customers", moment.encode_customer(customer)) == customer
    for project in data.projects:
        assert moment.parse("projects", moment.encode_project(project)) == project


def test_each_customer_has_its_own_kennitala_in_a_big_company() -> None:
    """Random draws collide (8 of the bench's 5,000 customers shared 4 kennitalas), and dksync
    refuses a second debtor for one kennitala: the generator gives each customer its own."""
    from collections import Counter

    from dksync.mapping import kennitala
    from dksync.sandbox.generator import generate

    data = generate(11, 5000, 500, 100, plant=False)
    digits = Counter(kennitala.check(c.kennitala).digits for c in data.customers)
    assert all(count == 1 for count in digits.values()), digits.most_common(3)
