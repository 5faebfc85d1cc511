"""The state schema, one step per release that changed it: a file at ``user_version`` N
runs steps N+1 onwards, each in its own transaction, so an old file is upgraded in place
and never dropped. A step is a list of statements (never a script split at ``;``)."""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        (
            "CREATE TABLE cursors (object_type TEXT PRIMARY KEY, modified TEXT NOT NULL, "
            "record_id INTEGER NOT NULL, updated_at TEXT NOT NULL)"
        ),
        (
            "CREATE TABLE written (object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, number "
            "TEXT NOT NULL, payload_hash TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY "
            "(object_type, moment_id))"
        ),
        (
            "CREATE TABLE invoices (moment_id INTEGER PRIMARY KEY, reference TEXT NOT NULL, "
            "status TEXT NOT NULL, dk_number INTEGER, detail TEXT NOT NULL DEFAULT '', updated_at "
            "TEXT NOT NULL)"
        ),
        (
            "CREATE TABLE rejected (object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, "
            "number TEXT NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL, first_seen "
            "TEXT NOT NULL, last_seen TEXT NOT NULL, dropped_at TEXT, PRIMARY KEY (object_type, "
            "moment_id))"
        ),
        (
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, "
            "finished_at TEXT, outcome TEXT, counts TEXT NOT NULL DEFAULT '{}')"
        ),
    ),
    (
        "ALTER TABLE rejected ADD COLUMN dropped_note TEXT",
        (
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind "
            "TEXT NOT NULL, detail TEXT NOT NULL)"
        ),
    ),
    (("CREATE TABLE notices (channel TEXT PRIMARY KEY, fingerprint TEXT, sent_at TEXT NOT NULL)"),),
    (
        (
            "CREATE TABLE customer_facts (moment_id INTEGER PRIMARY KEY, number TEXT NOT NULL, "
            "name TEXT NOT NULL, kennitala TEXT, updated_at TEXT NOT NULL)"
        ),
    ),
    (
        "ALTER TABLE rejected ADD COLUMN code TEXT",
        "CREATE INDEX invoices_by_reference ON invoices (reference)",
    ),
    ("ALTER TABLE written ADD COLUMN payload TEXT",),
    (
        (
            "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, moment_id INTEGER NOT "
            "NULL, number TEXT NOT NULL, dk_number TEXT NOT NULL, customer TEXT NOT NULL, "
            "invoice_date TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL, action "
            "TEXT NOT NULL, at TEXT NOT NULL, run_id INTEGER)"
        ),
        "CREATE INDEX ledger_by_time ON ledger (at)",
    ),
    (
        "CREATE INDEX written_by_number ON written (object_type, number)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        (
            "CREATE TABLE claims (object_type TEXT NOT NULL, number TEXT NOT NULL, moment_id "
            "INTEGER NOT NULL, PRIMARY KEY (object_type, number))"
        ),
    ),
    (
        "ALTER TABLE runs ADD COLUMN error TEXT",
        (
            "CREATE TABLE skipped (object_type TEXT NOT NULL, moment_id INTEGER NOT NULL, "
            "number TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, "
            "PRIMARY KEY (object_type, moment_id))"
        ),
    ),
    (  # one Moment customer per kennitala: those written before hold theirs (the lowest id)
        (
            "INSERT OR IGNORE INTO claims (object_type, number, moment_id) SELECT 'kennitala', "
            "k, moment_id FROM (SELECT replace(replace(kennitala, '-', ''), ' ', '') AS k, "
            "moment_id FROM customer_facts) WHERE length(k) = 10 AND k NOT GLOB '*[^0-9]*' "
            "ORDER BY moment_id"
        ),
    ),
)
