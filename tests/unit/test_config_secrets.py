"""Issue 17: secrets are never echoed in config errors. A value equal to a configured
secret is masked wherever a problem would show it: a token pasted where its file name is
due, a ``${DKPLUS_API_TOKEN}`` put in the wrong key, a secret typed as another value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync import config
from dksync.errors import ConfigError

TOKEN = "dkp-7Hq2LmZ9xR4tW8vN1sK6"
BASE: dict[str, Any] = {
    "moment": {"company": "acme", "api_key": "m-key-1234"},
    "dkplus": {"sales_person": "SALA1"},
}


def _problem(raw: dict[str, Any], env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        config.from_mapping(raw, env)
    return str(caught.value)


def _with(section: str, **values: Any) -> dict[str, Any]:
    raw = {k: dict(v) for k, v in BASE.items()}
    raw[section].update(values)
    return raw


def test_a_token_pasted_as_its_file_name_is_not_shown() -> None:
    told = _problem(BASE, {"DKPLUS_API_TOKEN_FILE": TOKEN})
    assert ("cannot read" in told and "DKPLUS_API_TOKEN_FILE" not in told) or "***" in told
    assert TOKEN not in told
    told = _problem(_with("dkplus", token_file=TOKEN), {})
    assert TOKEN not in told and "dkplus.token_file: cannot read ***" in told


def test_a_real_path_that_cannot_be_read_is_still_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-token")
    told = _problem(BASE, {"DKPLUS_API_TOKEN_FILE": missing})
    assert missing in told, "a path is what the operator must fix"


@pytest.mark.parametrize(
    ("section", "key"),
    [("moment", "base_url"), ("dkplus", "timeout"), ("sync", "lookback"), ("sync", "start_from")],
)
def test_a_secret_reference_in_the_wrong_key_is_not_echoed(
    section: str, key: str, tmp_path: Path
) -> None:
    raw = _with("dkplus", token="${DKPLUS_API_TOKEN}")
    raw.setdefault(section, {})[key] = "${DKPLUS_API_TOKEN}"
    told = _problem(raw, {"DKPLUS_API_TOKEN": TOKEN})
    assert f"{section}.{key}" in told and TOKEN not in told
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    told = _problem(raw, {"DKPLUS_API_TOKEN_FILE": str(token_file)})
    assert f"{section}.{key}" in told and TOKEN not in told


@given(
    secret=st.text(
        alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_",
        min_size=8,
        max_size=40,
    )
)
def test_any_secret_typed_as_another_value_is_masked(secret: str) -> None:
    raw = _with("dkplus", token=secret)
    raw["dkplus"]["concurrency"] = secret
    raw["moment"]["base_url"] = secret
    raw.setdefault("sync", {})["lookback"] = secret
    told = _problem(raw, {})
    assert secret not in told


@pytest.mark.parametrize(
    ("encoding", "ending"),
    [("utf-8-sig", "\r\n"), ("utf-8-sig", ""), ("utf-16", "\r\n"), ("utf-16-be", "\n")],
)
def test_a_secret_file_written_by_windows_with_a_byte_order_mark_reads_as_its_token(
    tmp_path: Path, encoding: str, ending: str
) -> None:
    """Notepad's "UTF-8 with BOM", PowerShell 5's ``echo token > file`` (UTF-16 with a
    BOM): the token was refused as "not ASCII; copy it again", and copied again it came
    back with the same invisible mark."""
    text = TOKEN + ending
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (tmp_path / "token").write_bytes(data)
    settings = config.from_mapping(_with("dkplus", token_file=str(tmp_path / "token")), {})
    assert settings.dkplus.token.reveal() == TOKEN


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n"])
def test_an_empty_secret_file_is_named_as_empty_not_as_missing(
    tmp_path: Path, content: bytes
) -> None:
    """It said 'missing (...; or set DKPLUS_API_TOKEN or DKPLUS_API_TOKEN_FILE)' although
    DKPLUS_API_TOKEN_FILE was set: to a file that is empty."""
    (tmp_path / "token").write_bytes(content)
    told = _problem(BASE, {"DKPLUS_API_TOKEN_FILE": str(tmp_path / "token")})
    assert f"dkplus.token: the file {tmp_path / 'token'} is empty" in told, told
    assert "missing" not in told
