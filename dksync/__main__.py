"""``python -m dksync``."""

from dksync.cli import app

app(prog_name="dksync")
