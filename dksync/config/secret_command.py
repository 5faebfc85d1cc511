"""Secrets from a command (``moment.api_key_command``, ``dkplus.token_command``,
``email.password_command``), as restic's and rclone's ``--password-command``: for a
password manager or a vault that keyrings under cron cannot reach.

The command runs without a shell (a list, or a string split as a shell would split it,
with no expansion), with no input and a timeout (30 s, or ``{command: [...], timeout: S}``);
its stdout, one trailing line break dropped, is the secret. A failure names the key and
what happened (could not start, no answer in time, the exit status, printed nothing),
never the command's output, stdout or stderr, which may hold the secret.
"""

from __future__ import annotations

import math
import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from dksync.config.values import one_line

DEFAULT_TIMEOUT = 30.0


class CommandFailed(Exception):
    """Why the command gave no secret, in words that hold none."""


def parse(value: Any) -> tuple[list[str], float]:
    """The argv and timeout the config gives; ``CommandFailed`` when it is no command."""
    timeout = DEFAULT_TIMEOUT
    if isinstance(value, Mapping):
        timeout = _seconds(value.get("timeout", DEFAULT_TIMEOUT))
        value = value.get("command")
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise CommandFailed(f"cannot be split into words ({exc})") from None
    elif isinstance(value, list) and all(isinstance(a, str | int | float) for a in value):
        argv = [str(a) for a in value]
    else:
        argv = []
    if not argv:
        raise CommandFailed("must be a command: a list such as [pass, show, dksync/moment]")
    return argv, timeout


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandFailed(f"timeout must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise CommandFailed("timeout must be more than 0 and at most 3600 seconds")
    return float(value)


def run(value: Any) -> str:
    """The secret the command prints; ``CommandFailed`` with a reason otherwise."""
    argv, timeout = parse(value)
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise CommandFailed(f"cannot run {argv[0]!r}: no such program") from None
    except PermissionError:
        raise CommandFailed(f"cannot run {argv[0]!r}: not allowed to execute it") from None
    except OSError as exc:
        raise CommandFailed(f"cannot run {argv[0]!r}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise CommandFailed(f"gave no answer within {timeout:g} s; it was stopped") from None
    if done.returncode != 0:
        raise CommandFailed(f"exited with status {done.returncode} (its output is not shown)")
    secret = one_line(done.stdout)
    if not secret:
        raise CommandFailed("printed nothing on stdout")
    return secret
