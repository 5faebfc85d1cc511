"""Issue 18, the customer half, over real HTTP: the whole run under each Dec 2026 DK+ knob.

``SSNumber`` carried and, when DK refuses it, written again without (with a warning); an
update that keeps what the accountant set under a PUT that replaces the record; payment
terms against the company's; no second debtor for a kennitala DK+ holds under another
number (and ``customers.link``); a token without one part's permission named as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dksync import config as config_module
from dksync.cli import app
from dksync.errors import PermissionDenied, ServiceError
from dksync.kinds import ReasonCode
from dksync.mapping import kennitala
from dksync.mapping.invoices import skip_reason
from dksync.ops import queries
from dksync.outcome import Action, RunReport
from dksync.sandbox.dkplus_company import ACCOUNTANT_FIELDS
from dksync.sandbox.generator import generate
from dksync.sandbox.pair import Sandbox
from dksync.sync import run as engine
from tests.conftest import FAST_RETRIES, config_for
from tests.helpers import config_file
from tests.integration.test_hostile_answers import unaccounted

runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture
def company() -> Iterator[Sandbox]:
    """30 customers without planted problems, so every rejection here is the knob's."""
    with Sandbox(dataset=generate(7, 30, 8, 60, lines=(1, 2), plant=False)) as sb:
        yield sb


def _run(sb: Sandbox, state: Path, **sections: dict[str, Any]) -> RunReport:
    settings = config_for(sb, state, **sections)
    return engine.run(settings, engine.RunOptions(), engine.connect(settings, FAST_RETRIES))


def _check(sb: Sandbox, folder: Path, **sections: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["check", "--json", "-c", str(config_file(sb, folder, **sections))])
    document = json.loads(result.stdout)
    return result.exit_code, {c["name"]: c for c in document["checks"]}


def config_for_file(path: Path) -> Any:
    return config_module.load(path, {"MOMENT_API_KEY": "k", "DKPLUS_API_TOKEN": "t"})


def _dk_customers(sb: Sandbox) -> dict[str, dict[str, Any]]:
    customers: dict[str, dict[str, Any]] = sb.dkplus.snapshot()["customers"]
    return customers


def _with_invoices(sb: Sandbox) -> list[int]:
    """Moment customer ids with a final invoice, in dataset order."""
    ids = {i.customer_id for i in sb.dataset.invoices if skip_reason(i) is None}
    return [c.id for c in sb.dataset.customers if c.id in ids]


# --- SSNumber ------------------------------------------------------------------------------


def test_customers_carry_their_kennitala_in_ssnumber(company: Sandbox, tmp_path: Path) -> None:
    report = _run(company, tmp_path / "state.sqlite")
    assert report.fatal is None and report.exit_code == 0
    held = _dk_customers(company)
    for customer in company.dataset.customers:
        assert held[customer.number]["SSNumber"] == kennitala.check(customer.kennitala).digits


def test_refused_ssnumber_costs_neither_the_customer_nor_its_invoices(
    company: Sandbox, tmp_path: Path
) -> None:
    """DK checks SSNumber; a kennitala issued since Feb 2026 without a valid check digit
    is refused by the sandbox: written again without it, said in the report's warnings."""
    company.dkplus.knobs.update({"check_ssnumber": True})
    ident = _with_invoices(company)[0]
    company.moment.change("customers", ident, lambda c: replace(c, kennitala="530269-2629"))
    number = next(c.number for c in company.dataset.customers if c.id == ident)
    report = _run(company, tmp_path / "state.sqlite")
    assert report.fatal is None and report.exit_code == 0, report.outcomes
    customer = _dk_customers(company)[number]
    assert "SSNumber" not in customer and customer["Name"]
    [warning] = [w for w in report.warnings if "SSNumber" in w]
    assert warning.startswith(f"customer {number}: DK+ refused its kennitala 5302692629")
    assert "written without SSNumber" in warning
    booked = [i for i in company.dkplus.snapshot()["invoices"] if i["CNumber"] == number]
    assert booked and unaccounted(company, tmp_path / "state.sqlite") == []
    shown = queries.show_record(config_for(company, tmp_path / "state.sqlite"), "customers", number)
    [event] = [e for e in shown["events"] if e["kind"] == "warning"]
    assert "written without SSNumber" in event["detail"], "kept with the record's history"
    again = _run(company, tmp_path / "state.sqlite")
    assert again.warnings == [] and again.exit_code == 0


def test_a_refused_ssnumber_on_update_keeps_the_one_dk_holds_under_a_replacing_put(
    company: Sandbox, tmp_path: Path
) -> None:
    state, customer = tmp_path / "state.sqlite", company.dataset.customers[0]
    assert _run(company, state).exit_code == 0
    before = _dk_customers(company)[customer.number]["SSNumber"]
    company.dkplus.knobs.update({"check_ssnumber": True, "replace_on_put": True})
    company.moment.change(
        "customers", customer.id, lambda c: replace(c, kennitala="530269-2629", phone="+354 1")
    )
    report = _run(company, state)
    assert report.exit_code == 0 and report.count("customers", Action.UPDATE) == 1
    after = _dk_customers(company)[customer.number]
    assert after["SSNumber"] == before and after["Phone"] == "+354 1" and after["Name"]
    assert [w for w in report.warnings if "refused its kennitala 5302692629" in w]


# --- whole-record updates -----------------------------------------------------------------


@pytest.mark.parametrize("use_lists", [True, False])
def test_update_keeps_what_the_accountant_set_under_a_replacing_put(
    tmp_path: Path, use_lists: bool
) -> None:
    """150 customers: with lists the update's record comes from the customer list, without
    from one GET; either way DK's PUT replaces the record and nothing of DK's is lost."""
    with Sandbox(dataset=generate(5, 150, 10, 40, lines=(1, 2), plant=False)) as sb:
        sb.dkplus.knobs.update({"replace_on_put": True, "accountant_every": 2})
        state, options = tmp_path / "state.sqlite", {"dkplus": {"use_lists": use_lists}}
        assert _run(sb, state, **options).exit_code == 0
        accountant = [n for n, c in _dk_customers(sb).items() if "LedgerCode" in c]
        assert len(accountant) >= 50
        changed = [c for c in sb.dataset.customers if c.number in accountant][::2]
        for customer in changed:
            sb.moment.change("customers", customer.id, lambda c: replace(c, phone="+354 555 0101"))
        start = len(sb.dkplus.log)
        report = _run(sb, state, **options)
        assert report.exit_code == 0 and report.count("customers", Action.UPDATE) == len(changed)
        held = _dk_customers(sb)
        for customer in changed:
            after = held[customer.number]
            assert after["Phone"] == "+354 555 0101" and after["Name"] == customer.name
            assert {k: after[k] for k in ACCOUNTANT_FIELDS} == ACCOUNTANT_FIELDS
            assert after["SSNumber"] == kennitala.check(customer.kennitala).digits
        gets = [e for e in sb.dkplus.log[start:] if e.method == "GET"]
        assert (any("/page/" in e.path for e in gets)) is use_lists


def test_a_partial_put_would_blank_the_accountants_fields(company: Sandbox) -> None:
    """The knob has teeth: a PUT of only the changed field loses what DK+ held."""
    company.dkplus.knobs.update({"replace_on_put": True})
    company.dkplus.add_customer({"Number": "900", "Name": "Sæþór", **ACCOUNTANT_FIELDS})
    client = engine.connect(config_for(company, Path("unused.sqlite"))).dkplus
    client.update_customer("900", {"Number": "900", "Phone": "+354 555 0000"})
    after = _dk_customers(company)["900"]
    assert after["Phone"] == "+354 555 0000" and "LedgerCode" not in after
    assert "Name" not in after


# --- payment terms ------------------------------------------------------------------------


def test_a_term_the_company_lacks_is_rejected_not_sent(company: Sandbox, tmp_path: Path) -> None:
    terms = {"customers": {"payment_terms": {0: "stgr", 14: "d14", 30: "d30"}}}
    report = _run(company, tmp_path / "state.sqlite", **terms)
    fourteen = {c.number for c in company.dataset.customers if c.credit_days == 14}
    assert fourteen and report.fatal is None
    rejected = {o.label: o for o in report.with_action(Action.REJECT)}
    assert {n for n, o in rejected.items() if o.object_type == "customers"} == fourteen
    assert all(rejected[n].code is ReasonCode.PAYMENT_TERM for n in fourteen)
    assert "payment term 'd14'" in rejected[min(fourteen)].detail
    assert (
        "stgr, lm, m15" in rejected[min(fourteen)].detail or "d15" in rejected[min(fourteen)].detail
    )
    assert len(company.dkplus.requests_to("/general/payment/term")) == 1, "read once a run"
    posted = [
        e.body for e in company.dkplus.log if e.method == "POST" and e.path.endswith("/customer")
    ]
    assert all(b.get("PaymentTerm") != "d14" for b in posted)
    assert unaccounted(company, tmp_path / "state.sqlite") == []
    company.dkplus.knobs.update({"payment_terms": ["stgr", "d14", "d30"]})  # a company with d14
    fixed = _run(company, tmp_path / "state.sqlite", **terms)
    assert fixed.exit_code == 0, fixed.outcomes
    assert all(_dk_customers(company)[n]["PaymentTerm"] == "d14" for n in fourteen)


def test_check_fails_naming_each_configured_code_the_company_lacks(
    company: Sandbox, tmp_path: Path
) -> None:
    code, checks = _check(company, tmp_path, customers={"payment_terms": {14: "d14", 30: "m30"}})
    assert code == 1 and not checks["payment terms"]["ok"]
    assert checks["payment terms"]["items"] == [
        "customers.payment_terms: 14: d14: the company has no term 'd14'",
        "customers.payment_terms: 30: m30: the company has no term 'm30'",
    ]
    assert "stgr, lm, m15, m20, d15, d20, d30, post" in checks["payment terms"]["detail"]
    terms = {"payment_terms": {0: "stgr", 14: "d15", 30: "d30"}}  # every credit-day value
    code, checks = _check(company, tmp_path, customers=terms)
    assert checks["payment terms"]["ok"] and code == 0, checks


# --- no second debtor ---------------------------------------------------------------------


@pytest.mark.parametrize(("dash", "use_lists"), [(True, True), (True, False), (False, False)])
def test_a_kennitala_dk_holds_is_not_a_second_debtor_until_linked(
    company: Sandbox, tmp_path: Path, dash: bool, use_lists: bool
) -> None:
    held = company.kennitala_numbered(every=4, dash=dash)
    lists = {"dkplus": {"use_lists": use_lists}}
    code, checks = _check(company, tmp_path, **lists)
    pairs = checks["kennitala in DK+"]
    assert code == 1 and not pairs["ok"] and len(pairs["items"]) == len(held)
    assert all(f"customers.link: {{{m}: {d}}}" in " ".join(pairs["items"]) for m, d in held.items())
    state = tmp_path / "state.sqlite"
    report = _run(company, state, **lists)
    taken = {o.label: o for o in report.with_action(Action.REJECT) if o.object_type == "customers"}
    assert set(taken) == set(held)
    for moment_number, dk_number in held.items():
        assert taken[moment_number].code is ReasonCode.KENNITALA_TAKEN
        assert f"as customer {dk_number}" in taken[moment_number].detail
    numbers = [c["SSNumber"] for c in _dk_customers(company).values() if c.get("SSNumber")]
    assert len(numbers) == len(set(numbers)), "one debtor per kennitala"
    linked = _run(company, state, customers={"link": held}, **lists)
    assert linked.exit_code == 0, linked.with_action(Action.REJECT)
    customers = _dk_customers(company)
    assert not set(held) & set(customers), "no Moment-numbered twin was created"
    invoices = company.dkplus.snapshot()["invoices"]
    by_id = {c.id: c.number for c in company.dataset.customers}
    for invoice in company.dataset.invoices:
        if skip_reason(invoice) is None and by_id[invoice.customer_id] in held:
            [booked] = [i for i in invoices if i["Reference"] == str(invoice.number)]
            assert booked["CNumber"] == held[by_id[invoice.customer_id]]
    assert unaccounted(company, state) == []


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("denied", "part", "levels"),
    [(["sales"], "sales invoices", True), (["products"], "products", False)],
)
def test_a_token_without_a_parts_permission_is_told_apart_from_a_bad_token(
    company: Sandbox, tmp_path: Path, denied: list[str], part: str, levels: bool
) -> None:
    company.dkplus.knobs.update(
        {"denied_modules": denied, "permission_status": 0 if levels else 404}
    )
    report = _run(company, tmp_path / "state.sqlite")
    assert isinstance(report.fatal, PermissionDenied) and report.exit_code == 3
    assert report.fatal.part == part and "check dkplus.token" not in str(report.fatal)
    assert ("permission levels" in str(report.fatal)) is levels
    code, checks = _check(company, tmp_path)
    assert code == 1 and checks["DK+ answers"]["ok"]
    failed = [name for name, c in checks.items() if not c["ok"]]
    assert "DK+ permissions" in failed
    words = json.dumps(checks)
    assert "lacks the permission for" in words and "check dkplus.token" not in words


def test_a_bad_token_still_says_check_the_token(company: Sandbox, tmp_path: Path) -> None:
    report = _run(company, tmp_path / "state.sqlite", dkplus={"token": "not-the-token"})
    assert isinstance(report.fatal, ServiceError)
    assert not isinstance(report.fatal, PermissionDenied)
    assert "check dkplus.token" in str(report.fatal)


@pytest.mark.parametrize("use_lists", [True, False])
def test_a_customer_renumbered_in_moment_is_not_a_second_debtor_until_linked(
    company: Sandbox, tmp_path: Path, use_lists: bool
) -> None:
    """Moment customer 10001 renamed 20001 after it was written: a second DK+ debtor for the
    same company was created silently (its new invoices on 20001, the old on 10001, its
    balance split), exit 0; the kennitala check let it pass, its holder being dksync's own.
    Now it is rejected (its invoices wait with it) until customers.link says which DK+
    customer to write it to."""
    state, lists = tmp_path / "state.sqlite", {"dkplus": {"use_lists": use_lists}}
    assert _run(company, state, **lists).exit_code == 0
    victim = next(c for c in company.dataset.customers if _invoices_of(company, c.id))
    company.moment.patch_raw("customers", victim.id, {"customerNumber": "20001"})
    for invoice in _invoices_of(company, victim.id):  # each changed again: read again
        company.moment.patch_raw(
            "invoices", invoice.id, {"customer": {"id": victim.id, "customerNumber": "20001"}}
        )
    report = _run(company, state, **lists)
    [rejected] = [o for o in report.with_action(Action.REJECT) if o.object_type == "customers"]
    assert rejected.moment_id == victim.id and rejected.code is ReasonCode.KENNITALA_TAKEN
    assert f"customers.link: {{20001: {victim.number}}}" in rejected.detail, rejected.detail
    assert "20001" not in _dk_customers(company)
    linked = _run(company, state, customers={"link": {"20001": victim.number}}, **lists)
    assert linked.exit_code == 0, linked.with_action(Action.REJECT)
    assert "20001" not in _dk_customers(company) and victim.number in _dk_customers(company)
    assert unaccounted(company, state) == []


def _invoices_of(sb: Sandbox, customer_id: int) -> list[Any]:
    return [i for i in sb.dataset.invoices if i.customer_id == customer_id and not skip_reason(i)]


@pytest.mark.parametrize(("use_lists", "concurrency"), [(True, 4), (False, 4), (False, 1)])
def test_two_moment_customers_with_one_kennitala_make_one_debtor(
    company: Sandbox, tmp_path: Path, use_lists: bool, concurrency: int
) -> None:
    """DK+ accepts a second customer with one SSNumber: two debtors for one company. The
    first Moment customer to claim the kennitala (in the state, so even two written at
    once) is written; the other is rejected naming it, until linked to that debtor: then
    its invoices go there, and no DK+ customer is made from it."""
    first, last = company.dataset.customers[0], company.dataset.customers[-1]
    company.moment.change("customers", last.id, lambda c: replace(c, kennitala=first.kennitala))
    state, dkplus = tmp_path / "state.sqlite", {"use_lists": use_lists, "concurrency": concurrency}
    report = _run(company, state, dkplus=dkplus)
    [taken] = [o for o in report.with_action(Action.REJECT) if o.object_type == "customers"]
    winner = first if taken.label == last.number else last
    assert taken.label in (first.number, last.number) and taken.code is ReasonCode.KENNITALA_TAKEN
    digits = kennitala.check(first.kennitala).digits
    assert f"kennitala {digits} is already Moment customer {winner.number}'s" in taken.detail
    assert f"customers.link: {{{taken.label}: {winner.number}}}" in taken.detail
    held = _dk_customers(company)
    assert taken.label not in held and held[winner.number]["SSNumber"] == digits
    assert [c["Number"] for c in held.values() if c.get("SSNumber") == digits] == [winner.number]
    again = _run(company, state, dkplus=dkplus)
    assert [o.label for o in again.with_action(Action.REJECT) if o.object_type == "customers"] == [
        taken.label
    ], "claimed for good: the next run says the same"
    linked = _run(company, state, dkplus=dkplus, customers={"link": {taken.label: winner.number}})
    assert linked.exit_code == 0, linked.with_action(Action.REJECT)
    assert taken.label not in _dk_customers(company)
    loser = next(c for c in company.dataset.customers if c.number == taken.label)
    theirs = {str(i.number) for i in company.dataset.invoices if i.customer_id == loser.id}
    booked = [i for i in company.dkplus.snapshot()["invoices"] if i["Reference"] in theirs]
    assert booked and {i["CNumber"] for i in booked} == {winner.number}
    assert unaccounted(company, state) == []


def test_check_names_two_moment_customers_with_one_kennitala_before_go_live(
    company: Sandbox, tmp_path: Path
) -> None:
    """Before go-live the accountant hears of the pair, with the link line; once linked,
    the pair is one debtor on purpose and check says nothing of it."""
    first, last = company.dataset.customers[0], company.dataset.customers[-1]
    company.moment.change("customers", last.id, lambda c: replace(c, kennitala=first.kennitala))
    code, checks = _check(company, tmp_path)
    items = checks["customer data"]["items"]
    digits = kennitala.check(first.kennitala).digits
    said = f"customers {first.number} and {last.number} share kennitala {digits}"
    assert code == 1 and [i for i in items if said in i], items
    assert f"customers.link: {{{last.number}: {first.number}}}" in " ".join(items)
    _, linked = _check(company, tmp_path, customers={"link": {last.number: first.number}})
    assert not [i for i in linked["customer data"]["items"] if "share kennitala" in i]


def test_payment_terms_unreadable_by_the_token_are_not_checked_but_said(
    company: Sandbox, tmp_path: Path
) -> None:
    company.dkplus.knobs.update({"denied_modules": ["general"]})
    terms = {"customers": {"payment_terms": {0: "stgr", 14: "d15", 30: "d30"}}}
    report = _run(company, tmp_path / "state.sqlite", **terms)
    assert report.fatal is None and report.exit_code == 0
    [warning] = report.warnings
    assert (
        warning.startswith("payment terms not checked against DK+") and "payment terms" in warning
    )
    assert all(c.get("PaymentTerm") for c in _dk_customers(company).values())


@pytest.mark.parametrize("token", [True, False])
def test_init_writes_no_term_code_it_has_not_seen(
    company: Sandbox, tmp_path: Path, token: bool
) -> None:
    """The term table stays commented; with the token at hand, DK+'s own codes are named."""
    company.dkplus.knobs.update({"payment_terms": ["stgr", "d30", "post"]})
    target = tmp_path / "dksync.yaml"
    args = ["init", "-o", str(target), "--company", "x", "--sales-person", "1"]
    env = {"DKPLUS_API_TOKEN": company.dkplus.token if token else ""}
    done = runner.invoke(app, [*args, "--dkplus-url", company.dkplus.url], env=env)
    assert done.exit_code == 0, done.output
    text = target.read_text()
    named = "# This DK+ company's term codes (read by dksync init): stgr, d30, post" in text
    assert named is token
    settings = config_for_file(target)
    assert settings.customer_rules.payment_terms == {}
