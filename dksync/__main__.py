"""``python -m dksync``."""

from dksync.cli import main

main()
