"""Config values that used to crash deep inside a run are problems naming their key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dksync import config
from dksync.errors import ConfigError

BASE: dict[str, Any] = {
    "moment": {"company": "acme", "api_key": "m-key"},
    "dkplus": {"token": "dk-token", "sales_person": "SALA1"},
}


def _with(section: str, **values: Any) -> dict[str, Any]:
    raw = {k: dict(v) for k, v in BASE.items()}
    raw.setdefault(section, {}).update(values)
    return raw


def _problem(raw: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        config.from_mapping(raw, env or {})
    return str(caught.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 0, -3, 1e300])
def test_a_timeout_must_be_a_finite_sensible_number(value: float) -> None:
    assert "dkplus.timeout: must be from 0.1 to 600" in _problem(_with("dkplus", timeout=value))


@pytest.mark.parametrize("text", [".nan", ".inf", "nan", "-.inf"])
def test_nan_and_inf_written_in_yaml_are_refused(text: str) -> None:
    raw = yaml.safe_load(f"moment:\n  company: a\n  api_key: k1234\n  timeout: {text}\n")
    raw["dkplus"] = BASE["dkplus"]
    assert "moment.timeout: must be from" in _problem(raw)


@pytest.mark.parametrize(
    ("key", "value"),
    [("page_size", float("inf")), ("page_size", 2.5), ("page_size", 10**30)],
)
def test_whole_numbers_refuse_infinity_fractions_and_absurd_sizes(key: str, value: Any) -> None:
    assert f"moment.{key}:" in _problem(_with("moment", **{key: value}))


def test_concurrency_and_port_have_a_ceiling() -> None:
    assert "dkplus.concurrency: must be from 1 to 64" in _problem(
        _with("dkplus", concurrency=100000)
    )
    email = {"to": "a@b.is", "from": "d@b.is", "host": "smtp", "port": 70000}
    assert "email.port: must be from 1 to 65535" in _problem(_with("email", **email))


def test_an_endless_duration_is_a_problem_not_an_overflow() -> None:
    problem = _problem(_with("sync", retry_for="99999999999999999d"))
    assert "sync.retry_for: '99999999999999999d' is too long a duration (at most 1d)" in problem
    told = _problem(_with("sync", lookback="31d"))  # the bound as durations are written
    assert "sync.lookback: '31d' is too long a duration (at most 30d)" in told


@pytest.mark.parametrize(
    "url",
    [
        "https://api.dkplus.is/a b",
        "https:// api.dkplus.is",
        "https://api.dkplus.is:99999",
        "https://api.dkplus.is:port",
        "ftp://api.dkplus.is",
        "https://",
        "https://api.dkplus.is/\x07",
        "https://api.dkplus.is/?x=1",
    ],
)
def test_a_base_url_requests_cannot_use_is_a_config_problem(url: str) -> None:
    assert "dkplus.base_url: must be an http(s) URL" in _problem(_with("dkplus", base_url=url))


def test_good_base_urls_pass() -> None:
    for url in ("http://127.0.0.1:8080", "https://api.dkplus.is/", "https://h.is/prefix/"):
        settings = config.from_mapping(_with("dkplus", base_url=url), {})
        assert settings.dkplus.base_url == url.rstrip("/")


def test_a_latin1_byte_in_the_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dksync.yaml"
    path.write_bytes(yaml.safe_dump(BASE).encode() + b"# Reykjav\xedk\n")
    with pytest.raises(ConfigError) as caught:
        config.load(path, env={})
    lines = yaml.safe_dump(BASE).count("\n") + 1
    assert str(caught.value) == (
        f"the config file {path} is not UTF-8 text: byte 0xed on line {lines}; save it as UTF-8"
    )


SECRET = "tok-SECRET-4444"


@pytest.mark.parametrize(
    ("content", "flaw"),
    [
        (f"{SECRET}\nline-TWO\n", "holds a line break"),
        (f"{SECRET}\n\n", "holds a line break"),
        (f"{SECRET}\r\r\n", "holds a line break"),
        (f"{SECRET}þ\n", "holds a character that is not ASCII"),
        (f"{SECRET}\tx", "holds a control character"),
        (f" {SECRET}", "starts or ends with a space"),
    ],
)
def test_a_secret_file_with_a_flaw_is_a_problem_that_never_shows_the_secret(
    tmp_path: Path, content: str, flaw: str
) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_bytes(content.encode())
    raw = _with("dkplus")
    del raw["dkplus"]["token"]
    problem = _problem(raw, {"DKPLUS_API_TOKEN_FILE": str(secret_file)})
    assert f"dkplus.token: the value from the file {secret_file} {flaw}" in problem
    assert SECRET not in problem and "line-TWO" not in problem


def test_a_latin1_byte_in_a_secret_file_is_not_ascii(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_bytes(b"tok\xe9n\n")
    raw = _with("moment", api_key_file=str(secret_file))
    del raw["moment"]["api_key"]
    assert "moment.api_key: the value from the file" in _problem(raw)


def test_one_trailing_line_break_is_dropped(tmp_path: Path) -> None:
    for ending in ("\n", "\r\n", ""):
        secret_file = tmp_path / "token"
        secret_file.write_text(SECRET + ending, newline="")
        raw = _with("dkplus")
        del raw["dkplus"]["token"]
        settings = config.from_mapping(raw, {"DKPLUS_API_TOKEN_FILE": str(secret_file)})
        assert settings.dkplus.token.reveal() == SECRET


@pytest.mark.parametrize("where", ["config", "env"])
def test_a_secret_with_a_newline_in_the_config_or_env_names_its_origin(where: str) -> None:
    email = {"to": "a@b.is", "from": "d@b.is", "host": "smtp", "user": "u"}
    raw = _with("email", **email)
    env = {}
    if where == "config":
        raw["email"]["password"] = f"{SECRET}\nx"
        origin = "email.password"
    else:
        env["DKSYNC_SMTP_PASSWORD"] = f"{SECRET}\nx"
        origin = "$DKSYNC_SMTP_PASSWORD"
    problem = _problem(raw, env)
    assert f"email.password: the value from {origin} holds a line break" in problem
    assert SECRET not in problem
