"""Services that echo the credentials in their error messages: nothing dksync stores,
shows or logs holds them (scrubbed at the transport, before any code reads the answer)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from dksync.sandbox.pair import Sandbox
from tests.helpers import config_file

MOMENT_KEY = "moment-key-ECHO-1111"
DKPLUS_TOKEN = "dkplus-token-ECHO-2222"
BASIC = base64.b64encode(f"apikey:{MOMENT_KEY}".encode()).decode()


def _dksync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dksync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250", **env},
    )


def _outputs(env: dict[str, str], config: Path, args: list[str]) -> list[str]:
    done = _dksync(env, *args, "-c", str(config))
    return [done.stdout, done.stderr]


def test_echoed_credentials_never_reach_the_state_the_output_or_the_log(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(DKPLUS_TOKEN + "\n")
    env = {"MOMENT_API_KEY": MOMENT_KEY, "DKPLUS_API_TOKEN_FILE": str(token_file)}
    log = tmp_path / "dksync.log"
    common = ["-vv", "--log-file", str(log)]
    outputs: list[str] = []
    with Sandbox(seed=3) as sb:
        sb.moment.api_key, sb.dkplus.token = MOMENT_KEY, DKPLUS_TOKEN
        sb.moment.knobs.echo_credentials = sb.dkplus.knobs.echo_credentials = True
        config = config_file(sb, tmp_path)
        text = config.read_text().replace(MOMENT_KEY, "${MOMENT_API_KEY}")
        config.write_text("\n".join(ln for ln in text.splitlines() if DKPLUS_TOKEN not in ln))
        outputs += _outputs(env, config, [*common, "run", "--only", "customers"])
        sb.dkplus.knobs.rewrites = [  # DK+ refuses every invoice: a 400 echoing the token
            {"method": "POST", "path": "^/api/v1/sales/invoice$", "answer": "echo:Refused"}
        ]
        for args in (["run", "--json"], ["run"], ["failures", "--json"], ["failures"]):
            outputs += _outputs(env, config, [*common, *args])
        refused = [e for e in sb.dkplus.log if e.status == 400]
        sb.dkplus.token = sb.moment.api_key = "rotated"  # both now refuse what dksync sends
        for args in (["run"], ["check"], ["resync", "invoice", "1001"], ["status", "--json"]):
            outputs += _outputs(env, config, [*common, *args])
    assert refused, "DK+ answered 400s, each echoing the token"
    assert "(sent with ***)" in "".join(outputs), "the echoes reached dksync, scrubbed"
    joined = "\n".join(outputs)
    assert "Traceback" not in joined
    stored = [p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("state.sqlite")]
    assert stored and log.exists()
    for secret in (MOMENT_KEY, DKPLUS_TOKEN, BASIC):
        assert secret not in joined
        assert secret not in log.read_text()
        assert all(secret.encode() not in content for content in stored)
