"""``python -m dksync`` and the ``dksync`` command. The entry point is here, outside the
``cli`` package, so that a Ctrl-C while Python is still loading dksync is caught too."""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130


def main() -> None:
    """The command line. A Ctrl-C before a command runs (while its modules load) is one
    line and exit 130, never a ``KeyboardInterrupt`` traceback; inside a command the
    group says the same (``DksyncGroup.invoke``), and a run handles its own signals."""
    try:
        from dksync.cli import main as command_line

        command_line()
    except KeyboardInterrupt:
        sys.stderr.write("\ndksync: interrupted (Ctrl-C)\n")
        sys.stderr.flush()
        os._exit(INTERRUPTED)


if __name__ == "__main__":
    main()
