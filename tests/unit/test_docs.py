"""The README's command reference stays in step with the CLI, and every command has help."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from dksync.cli import app

README = (Path(__file__).parents[2] / "README.md").read_text()
REFERENCE = README.split("## Commands", 1)[1].split("```", 2)[1]


def _commands() -> dict[str, Any]:
    group: Any = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        found[name] = command
        if hasattr(command, "commands"):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
    return found


def test_every_command_and_option_is_in_the_readme() -> None:
    for name, command in _commands().items():
        lines = [line for line in REFERENCE.splitlines() if f"dksync {name} " in f"{line} "]
        assert lines, f"'dksync {name}' is missing from the README's command reference"
        block = REFERENCE.split(lines[0], 1)[1].split("\ndksync ", 1)[0]
        text = lines[0] + block
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            spelled = [o for o in param.opts if re.search(rf"{re.escape(o)}\b", text)]
            assert spelled, f"{param.opts} of 'dksync {name}' is not in the README"


def test_every_command_in_the_readme_exists() -> None:
    named = set(re.findall(r"^dksync ([a-z]+(?: drop| undrop| backup)?)", REFERENCE, re.MULTILINE))
    named |= {name.split()[0] for name in named}
    assert named - {"COMMAND"} <= set(_commands())
    assert set(_commands()) <= named


def test_every_command_has_help() -> None:
    for name, command in _commands().items():
        assert command.help and len(command.help) > 20, name
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{name} {param.opts}"


def test_global_options_are_in_the_readme() -> None:
    group: Any = typer.main.get_command(app)
    first = REFERENCE.strip().splitlines()[0]
    for param in group.params:
        if param.name in ("help", "install_completion", "show_completion"):
            continue
        assert any(re.search(rf"{re.escape(o)}\b", first) for o in param.opts), param.opts


def test_help_shows_no_python_type_names() -> None:
    group: Any = typer.main.get_command(app)
    for name, command in _commands().items():
        with typer.Context(command, info_name=name, parent=typer.Context(group)) as ctx:
            text = command.get_help(ctx)
        for python in ("<str>", "<int>", "<list[", "{KIND}", "[x>=", "/ --no-"):
            assert python not in text, f"'dksync {name} --help' shows {python}"


def test_the_cron_entry_pastes_into_a_crontab_as_one_line() -> None:
    """crontab has no line continuation: every entry is one line, five time fields and
    a command, the command as dksync parses it (secrets from files, -q, a run)."""
    block = README.split("```cron\n", 1)[1].split("```", 1)[0]
    entries = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert entries, "the README has a cron entry"
    for entry in entries:
        assert not entry.rstrip().endswith("\\"), "no backslash continuation"
        fields = entry.split(None, 5)
        assert len(fields) == 6 and all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5])
        command = fields[5]
        assert "_FILE=" in command and " -q " in command and " run " in f"{command} "
        assert "%" not in command, "cron turns % into a line break"
