"""Per-record sync steps: one module per object type, sharing a ``RunContext``."""
