"""References in either shape, and financial accounts keyed by id (their numbers repeat)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dksync import moment
from dksync.mapping.invoices import InvoiceRules, item_code
from dksync.moment.encode import flatten
from dksync.records import FinancialAccount, Invoice, InvoiceLine
from dksync.sandbox.generator import generate

DATA = generate(4, 10, 5, 40)


@given(st.sampled_from(DATA.invoices))
def test_a_flat_invoice_parses_as_the_nested_one_less_the_numbers(invoice: Invoice) -> None:
    nested = moment.encode_invoice(invoice)
    flat = flatten("invoices", nested, {})
    assert "customer" not in flat and flat["customerId"] == nested["customer"]["id"]
    a, b = moment.parse("invoices", nested), moment.parse("invoices", flat)
    assert (b.customer_id, b.project_id) == (a.customer_id, a.project_id)
    assert b.customer_number is None and b.project_number is None
    assert [(x.product_id, x.account_id) for x in b.lines] == [
        (x.product_id, x.account_id) for x in a.lines
    ]
    assert all(x.product_number is None for x in b.lines)


def test_a_flat_invoice_without_its_customer_is_malformed() -> None:
    raw = flatten("invoices", moment.encode_invoice(DATA.invoices[0]), {})
    del raw["customerId"]
    problems = moment.field_problems("invoices", raw)
    assert any(
        "'customer' is missing (expected an object {id, customerNumber}" in p for p in problems
    )


def test_accounts_sharing_a_number_are_told_apart_by_id() -> None:
    """The real sample holds two accounts numbered 7799 (ids 169437 and 113553)."""
    accounts = {
        169437: FinancialAccount(169437, "7799", "Sala", Decimal(24), "S24", None),
        113553: FinancialAccount(113553, "7799", "Annað", Decimal(0), None, None),
    }
    rules = InvoiceRules(sales_person="1")
    line = InvoiceLine("x", Decimal(1), Decimal(1), account_id=169437)
    assert item_code(1, line, accounts, rules)[0] == "S24"
    other = InvoiceLine("x", Decimal(1), Decimal(1), account_id=113553)
    code, _, reason = item_code(1, other, accounts, rules)
    assert code is None and reason is not None and "financial account 7799 (Annað)" in reason
