"""Global options written after the command (``dksync run -v``), moved before it where
Click wants them: how a cron line is usually written."""

from __future__ import annotations

import re

GLOBAL_FLAGS = frozenset({"-q", "--quiet", "--verbose"})
GLOBAL_VALUED = frozenset({"-c", "--config", "--log-file", "--log-format", "--company", "--jobs"})
OWN_COMPANY_OPTION = "init"  # 'dksync init --company C' is the Moment company code


def split_globals(args: list[str]) -> tuple[list[str], list[str]]:
    """The global options, wherever they were written, and the rest (the command and its
    own arguments), so ``dksync failures -c X drop 5`` and ``dksync run -q`` mean what
    they say."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        own = name == "--company" and rest[:1] == [OWN_COMPANY_OPTION]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS or re.fullmatch(r"-v+", arg):
            front.append(arg)
        elif arg in GLOBAL_VALUED and i + 1 < len(args) and not own:
            front.extend(args[i : i + 2])
            i += 1
        elif name in GLOBAL_VALUED and name.startswith("--") and "=" in arg and not own:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front, rest


def hoist_globals(args: list[str]) -> list[str]:
    """The global options moved in front of the command (see ``split_globals``)."""
    front, rest = split_globals(args)
    return front + rest
