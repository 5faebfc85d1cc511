"""Issue 17: a config is refused quickly and briefly however hostile it is (an alias bomb,
nesting past the parser, numbers too long), and a value is echoed only shortened."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dksync import config
from dksync.config.values import ECHO_CHARS, shown
from dksync.errors import ConfigError
from tests.conftest import FIGURES

HEAD = "moment:\n  company: acme\n  api_key: m-key\ndkplus:\n  token: dk-t\n  sales_person: S1\n"


def _bomb(levels: int) -> str:
    """``sync.objects`` as a "billion laughs": over 9**levels strings from a few lines."""
    items = ['    - &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    items += [f"    - &x{n} [" + ",".join([f"*x{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return f"{HEAD}sync:\n  start_from: '2026-01-01T00:00:00Z'\n  objects:\n" + "\n".join(items)


def _problem(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dksync.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path, env={})
    return str(caught.value)


def test_an_alias_bomb_in_sync_objects_is_refused_quickly_and_briefly(tmp_path: Path) -> None:
    started = time.monotonic()
    message = _problem(tmp_path, _bomb(9))  # 387 million strings once expanded
    took = time.monotonic() - started
    FIGURES.append(f"bounds: an alias bomb of 9**9 values refused in {took * 1000:.0f} ms")
    assert "expands to more than 10000 values" in message
    assert len(message) < 300 and took < 2


def test_a_small_alias_expansion_is_still_read_and_echoed_short(tmp_path: Path) -> None:
    message = _problem(tmp_path, _bomb(3))  # 729 strings: allowed, but not objects
    assert "sync.objects: must list some of" in message
    echoed = message.split("got ", 1)[1]
    assert len(echoed) <= ECHO_CHARS and echoed.endswith("…")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: " + "[" * 50_000 + "]" * 50_000, "nested too deep"),
        ("moment:\n  page_size: " + "1" * 5000, "a number too long"),
        ("a: &a [*a]", "not valid YAML|expands to more than"),
    ],
)
def test_yaml_that_would_crash_the_parser_is_a_short_config_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    message = _problem(tmp_path, text)
    assert len(message) < 300
    assert any(part in message for part in expected.split("|")), message


def test_values_in_config_errors_are_echoed_at_most_sixty_characters(tmp_path: Path) -> None:
    long = "x" * 5000
    text = f"{HEAD}sync:\n  lookback: {long}\n  retry_for: {'9' * 5000}s\n  {long[:900]}: 1\n"
    message = _problem(tmp_path, text)
    assert len(message) < 600, message
    assert "sync.lookback: must be a duration such as 10m, 2h or 30s, got 'xxx" in message
    assert "sync.retry_for" in message and f"sync.{'x' * 54}…: unknown key" in message


@given(st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_shown_is_never_longer_than_sixty_characters(value: object) -> None:
    assert len(shown(value)) <= ECHO_CHARS


def test_the_cli_refuses_an_alias_bomb_with_exit_4(tmp_path: Path) -> None:
    path = tmp_path / "dksync.yaml"
    path.write_text(_bomb(9), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dksync", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert "expands to more than" in done.stderr and len(done.stderr) < 400
