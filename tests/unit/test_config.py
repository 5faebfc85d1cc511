"""Config loading: every problem names its key; secrets come from config, env or files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dksync import config
from dksync.errors import ConfigError

BASE: dict[str, Any] = {
    "moment": {"company": "acme", "api_key": "m-key"},
    "dkplus": {"token": "dk-token", "sales_person": "SALA1"},
}


def _with(**sections: dict[str, Any]) -> dict[str, Any]:
    raw = {k: dict(v) for k, v in BASE.items()}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw


def _problem(raw: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        config.from_mapping(raw, env or {})
    return str(caught.value)


def test_defaults() -> None:
    settings = config.from_mapping(BASE, {})
    assert settings.moment.base_url == "https://app.moment.team"
    assert settings.dkplus.base_url == "https://api.dkplus.is"
    assert settings.sync.objects == ("customers", "projects", "invoices")
    assert settings.sync.lookback == timedelta(minutes=10)
    assert settings.invoice_rules.item_code_from == "vat_code"
    assert settings.create_missing_products is True
    assert settings.state_path.name == "state.sqlite"
    assert settings.sync.retry_for == timedelta(minutes=2)


def test_every_documented_key_is_read() -> None:
    raw = _with(
        sync={
            "lookback": "7m",
            "retry_for": "15s",
            "objects": ["invoices"],
            "start_from": "2026-02-01T00:00:00Z",
        },
        moment={"timeout": 9, "rate_limit": 5, "page_size": 50},
        dkplus={"timeout": 8, "rate_limit": 3, "concurrency": 2},
        invoices={
            "item_code_from": "revenue_class",
            "create_missing_products": False,
            "default_currency": "EUR",
        },
        customers={
            "payment_terms": {30: "d30"},
            "number_from": "kennitala",
            "link": {10004: "551021-0680", "10005": 5510210680},
        },
        state={"path": "/tmp/x.sqlite"},
    )
    s = config.from_mapping(raw, {})
    assert (s.sync.lookback, s.sync.retry_for) == (timedelta(minutes=7), timedelta(seconds=15))
    assert s.sync.objects == ("invoices",) and s.sync.start_from is not None
    assert (s.moment.timeout, s.moment.rate_limit, s.moment.page_size) == (9, 5, 50)
    assert (s.dkplus.timeout, s.dkplus.rate_limit, s.dkplus.concurrency) == (8, 3, 2)
    assert s.invoice_rules.item_code_from == "revenue_class"
    assert s.invoice_rules.default_currency == "EUR" and not s.create_missing_products
    assert s.customer_rules.payment_terms == {30: "d30"}
    assert s.customer_rules.link == {"10004": "551021-0680", "10005": "5510210680"}
    assert s.customer_rules.number_from == "kennitala"
    assert str(s.state_path) == "/tmp/x.sqlite"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"moment": {"api_key": "k"}, "dkplus": BASE["dkplus"]}, "moment.company: missing"),
        (_with(dkplus={"sales_person": None}), "dkplus.sales_person: missing"),
        (_with(sync={"lookback": "ten minutes"}), "sync.lookback: must be a duration"),
        (_with(sync={"start_from": "yesterday"}), "sync.start_from: must be an ISO-8601"),
        (_with(sync={"objects": ["customers", "orders"]}), "sync.objects: must list"),
        (_with(invoices={"item_code_from": "sku"}), "invoices.item_code_from: must be one of"),
        (_with(invoices={"create_missing_products": "yes"}), "must be true or false"),
        (_with(customers={"payment_terms": {"14": ""}}), "customers.payment_terms"),
        (_with(customers={"link": ["10004"]}), "customers.link"),
        (_with(customers={"link": {"10004": "1234567890123"}}), "customers.link"),
        (_with(dkplus={"base_url": "api.dkplus.is"}), "dkplus.base_url: must be an http(s) URL"),
        (_with(sync={"lookbak": "10m"}), "sync.lookbak: unknown key (did you mean 'lookback'?)"),
        (_with(moment={"timeout": "fast"}), "moment.timeout: must be a number"),
        ({**BASE, "extra": {}}, "extra: unknown key"),
    ],
)
def test_each_problem_names_its_key(raw: dict[str, Any], words: str) -> None:
    assert words in _problem(raw)


def test_secrets_from_env_and_files_and_never_in_messages(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    raw = {"moment": {"company": "acme"}, "dkplus": {"sales_person": "S"}}
    settings = config.from_mapping(
        raw, {"MOMENT_API_KEY_FILE": str(key_file), "DKPLUS_API_TOKEN": "from-env"}
    )
    assert settings.moment.api_key.reveal() == "from-file"
    assert settings.dkplus.token.reveal() == "from-env"
    assert "from-env" not in repr(settings) and "from-file" not in repr(settings)
    missing = _problem(raw)
    assert "moment.api_key: missing" in missing and "MOMENT_API_KEY_FILE" in missing
    unreadable = _problem(
        raw, {"MOMENT_API_KEY_FILE": str(tmp_path / "nope"), "DKPLUS_API_TOKEN": "t"}
    )
    assert "cannot read" in unreadable


def test_env_references_are_expanded_or_named() -> None:
    raw = _with(moment={"api_key": "${MY_KEY}"})
    assert config.from_mapping(raw, {"MY_KEY": "s3cret"}).moment.api_key.reveal() == "s3cret"
    assert "moment.api_key: refers to ${MY_KEY}, which is not set" in _problem(raw)


def test_file_lookup_order_and_yaml_errors(tmp_path: Path) -> None:
    assert config.find_config(None, {}) == Path("dksync.yaml")
    assert config.find_config(None, {"DKSYNC_CONFIG": "/x.yaml"}) == Path("/x.yaml")
    assert config.find_config("/given.yaml", {"DKSYNC_CONFIG": "/x.yaml"}) == Path("/given.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("moment:\n  company: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        config.load(bad, {})
    with pytest.raises(ConfigError, match="cannot read the config file"):
        config.load(tmp_path / "missing.yaml", {})


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "config.example.yaml"
    settings = config.load(example, {"MOMENT_API_KEY": "k", "DKPLUS_API_TOKEN": "t"})
    # term codes are the company's own: the example (and so ``init``) writes none it has
    # not seen; ``dksync check`` lists the company's codes
    assert settings.customer_rules.payment_terms == {}


def test_env_reference_is_satisfied_by_its_file_variable(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-a-file\n")
    raw = _with(moment={"api_key": "${MOMENT_API_KEY}"})
    loaded = config.from_mapping(raw, {"MOMENT_API_KEY_FILE": str(tmp_path / "key")})
    assert loaded.moment.api_key.reveal() == "from-a-file"
    problem = _problem(raw, {"MOMENT_API_KEY_FILE": str(tmp_path / "missing")})
    assert "moment.api_key: cannot read" in problem and "MOMENT_API_KEY_FILE" in problem
    assert "nor MOMENT_API_KEY_FILE" in _problem(raw)


def test_relative_state_path_is_beside_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "dksync.yaml").write_text(
        "moment: {company: acme, api_key: k}\n"
        "dkplus: {token: t, sales_person: '1'}\n"
        "state: {path: data/state.sqlite}\n"
    )
    loaded = config.load(folder / "dksync.yaml", env={})
    assert loaded.state_path == folder.absolute() / "data" / "state.sqlite"
    absolute = config.from_mapping(_with(state={"path": str(tmp_path / "s.db")}), {})
    assert absolute.state_path == tmp_path / "s.db"


def test_sync_objects_singular_or_plural() -> None:
    loaded = config.from_mapping(_with(sync={"objects": ["invoice", "customers"]}), {})
    assert loaded.sync.objects == ("customers", "invoices")
