"""``dksync reconcile``: prove that DK+ holds every final Moment invoice exactly once.

``compare`` is the pure judgement, ``knowledge`` reads dksync's state read-only,
``gather`` reads both services, ``render`` turns the result into a table, CSV or JSON.
"""
