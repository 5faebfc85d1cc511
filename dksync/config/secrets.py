"""Where a secret comes from: the config value, a command (``<key>_command``), the
environment (``$ENV``), or a file (``$ENV_FILE`` or ``<key>_file``). Its value never
appears in a message; a problem names the key and where the value came from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dksync.config import secret_command
from dksync.config.keys import BY_NAME
from dksync.config.model import Secret
from dksync.config.values import one_line, secret_flaw

if TYPE_CHECKING:
    from dksync.config.reader import Reader


def read(reader: Reader, name: str) -> Secret:
    """From the config value, else what ``<key>_command`` prints, else ``$ENV``, else
    the file ``$ENV_FILE`` or ``<key>_file`` names (one trailing line break dropped).
    The value itself never appears in a message."""
    spec = BY_NAME[name]
    before = len(reader.problems)
    value, origin = reader.text(name, may_be_missing=True), name
    if len(reader.problems) > before:  # a ${VAR} not set: said once, not also "missing"
        return Secret("")
    command_key = f"{name}_command"
    command = reader.value(command_key)
    if value is None and command is not None:
        try:
            value, origin = secret_command.run(command), command_key
        except secret_command.CommandFailed as exc:
            reader.problems.append(f"{command_key}: {exc}")
            return Secret("")
    file_key = f"{name}_file"
    file_name = reader.text(file_key) or reader.env.get(f"{spec.env}_FILE")
    if value is None and reader.env.get(spec.env):
        value, origin = reader.env[spec.env], f"${spec.env}"
    if value is None and file_name:
        try:
            data = Path(file_name).expanduser().read_bytes()
        except OSError as exc:
            reader.hidden.unread_file(file_name)
            reader.problems.append(f"{file_key}: cannot read {file_name}: {exc.strerror}")
            return Secret("")
        value, origin = one_line(data) or None, f"the file {file_name}"
        if value is None:  # set, but empty: "missing" would send the reader to set it
            reader.problems.append(f"{name}: the file {file_name} is empty")
            return Secret("")
    if value is None:
        reader.problems.append(
            f"{name}: missing ({spec.required}; or set {spec.env} or {spec.env}_FILE)"
        )
        return Secret("")
    reader.hidden.add(value)
    flaw = secret_flaw(value)
    if flaw:
        reader.problems.append(f"{name}: the value from {origin} {flaw}")
        return Secret("")
    return Secret(value)
