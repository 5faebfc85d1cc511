"""dksync: Moment to DK+ batch synchronizer."""

# The one place the version is written (pyproject.toml reads it): ``dksync --version``
# prints it without importlib.metadata, which costs more start-up than the rest of it.
__version__ = "0.1.0"
