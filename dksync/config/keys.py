"""Every config key dksync knows, declared once: its shape, default, bounds and meaning.

The reader (``reader.py``) takes types, defaults and bounds from here; ``dksync init``
asks for the keys that carry a prompt; a meta-test keeps the README's key table and both
example files in step with this table. A key that is not here is an unknown key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta


class Shape(enum.Enum):
    """How a value is read and checked."""

    TEXT = "text"
    URL = "url"
    SECRET = "secret"  # also from an environment variable or a file; never shown
    PATH = "path"  # a file name
    NUMBER = "number"
    INTEGER = "integer"
    FLAG = "flag"
    CHOICE = "choice"
    DURATION = "duration"  # 30s, 10m, 2h, 1d
    INSTANT = "instant"  # ISO-8601
    STRUCTURE = "structure"  # a list or mapping with a reader of its own


@dataclass(frozen=True)
class Key:
    """One key: ``section.name``, how to read it, and what the README says of it."""

    name: str
    shape: Shape
    doc: str
    default: object = None
    minimum: float = 0
    maximum: float = 1e9
    options: tuple[str, ...] = ()
    longest: timedelta = timedelta(days=1)
    required: str = ""  # why it is needed, when it has no default
    env: str = ""  # the environment variable a secret may come from
    prompt: str = ""  # what ``dksync init`` asks

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def leaf(self) -> str:
        return self.name.split(".", 1)[1]


_ = Shape
KEYS: tuple[Key, ...] = (
    Key(
        "moment.base_url",
        _.URL,
        "Moment address",
        "https://app.moment.team",
        prompt="Moment address",
    ),
    Key(
        "moment.company",
        _.TEXT,
        "company code",
        required="the company code in Moment's browser URL",
        prompt="Moment company code (from the browser URL)",
    ),
    Key("moment.api_key", _.SECRET, "API key", env="MOMENT_API_KEY", required="the Moment API key"),
    Key("moment.api_key_file", _.PATH, "a file holding the API key"),
    Key("moment.api_key_command", _.STRUCTURE, "a command that prints the API key"),
    Key("moment.timeout", _.NUMBER, "seconds per request", 30.0, minimum=0.1, maximum=600),
    Key(
        "moment.rate_limit",
        _.NUMBER,
        "requests/s dksync allows itself (0: no pacing)",
        25.0,
        maximum=10_000,
    ),
    Key("moment.page_size", _.INTEGER, "objects per page", 200, minimum=1, maximum=10_000),
    Key(
        "moment.max_pages",
        _.INTEGER,
        "the most pages one read of a change list takes; past it the read stops with a "
        "warning and the cursor moves only past what was read",
        10_000,
        minimum=1,
        maximum=1_000_000,
    ),
    Key("moment.field_names", _.STRUCTURE, "corrections of the JSON names dksync reads"),
    Key("dkplus.base_url", _.URL, "DK+ address", "https://api.dkplus.is", prompt="DK+ API address"),
    Key(
        "dkplus.token", _.SECRET, "API token", env="DKPLUS_API_TOKEN", required="the DK+ API token"
    ),
    Key("dkplus.token_file", _.PATH, "a file holding the API token"),
    Key("dkplus.token_command", _.STRUCTURE, "a command that prints the API token"),
    Key(
        "dkplus.sales_person",
        _.TEXT,
        "the sales person on every invoice",
        required="the DK+ sales person number used on every invoice",
        prompt="DK+ sales person number for every invoice",
    ),
    Key("dkplus.timeout", _.NUMBER, "seconds per request", 30.0, minimum=0.1, maximum=600),
    Key(
        "dkplus.settle",
        _.NUMBER,
        "seconds after a lost invoice answer before it is looked up (default: twice the timeout)",
        None,
        minimum=0.1,
        maximum=3600,
    ),
    Key("dkplus.rate_limit", _.NUMBER, "requests/s (default: no pacing)", None, maximum=10_000),
    Key(
        "dkplus.concurrency", _.INTEGER, "records written to DK+ at once", 4, minimum=1, maximum=64
    ),
    Key("dkplus.use_lists", _.FLAG, "learn what DK+ holds from its list endpoints", True),
    Key(
        "dkplus.list_max_pages",
        _.INTEGER,
        "the most pages (of 1000) one DK+ list read takes; a longer list, or one that repeats "
        "its objects, is given up for one request per record",
        200,
        minimum=1,
        maximum=100_000,
    ),
    Key("projects.update", _.FLAG, "carry a changed project to DK+", False),
    Key("sync.objects", _.STRUCTURE, "which kinds a run syncs"),
    Key(
        "sync.start_from",
        _.INSTANT,
        "where a first run starts reading",
        prompt="First run reads changes from (ISO-8601, e.g. the go-live date)",
    ),
    Key(
        "sync.lookback",
        _.DURATION,
        "how far before the cursor each run reads again",
        timedelta(minutes=10),
        longest=timedelta(days=30),
    ),
    Key(
        "sync.retry_for",
        _.DURATION,
        "how long one request is retried",
        timedelta(minutes=2),
        longest=timedelta(days=1),
    ),
    Key(
        "invoices.item_code_from",
        _.CHOICE,
        "item code for lines without a product",
        "vat_code",
        options=("vat_code", "revenue_class"),
    ),
    Key(
        "invoices.create_missing_products", _.FLAG, "create a DK+ product for an unknown item", True
    ),
    Key("invoices.default_currency", _.TEXT, "the DK+ company currency", "ISK"),
    Key("customers.payment_terms", _.STRUCTURE, "Moment credit days to DK+ term code"),
    Key(
        "customers.number_from",
        _.CHOICE,
        "what becomes the DK+ customer number",
        "customer_number",
        options=("customer_number", "kennitala"),
    ),
    Key("customers.link", _.STRUCTURE, "Moment customer number to an existing DK+ customer"),
    Key("state.path", _.PATH, "the SQLite state file", prompt="State file"),
    Key("email.to", _.STRUCTURE, "notification recipients"),
    Key("email.from", _.TEXT, "sender", required="the sender address"),
    Key("email.host", _.TEXT, "SMTP server", required="the SMTP server"),
    Key(
        "email.port",
        _.INTEGER,
        "SMTP port (default 587, 465 for ssl)",
        None,
        minimum=1,
        maximum=65535,
    ),
    Key(
        "email.security",
        _.CHOICE,
        "how the SMTP connection is protected",
        "starttls",
        options=("starttls", "ssl", "none"),
    ),
    Key("email.user", _.TEXT, "SMTP login"),
    Key(
        "email.password",
        _.SECRET,
        "SMTP password",
        env="DKSYNC_SMTP_PASSWORD",
        required="the SMTP password for email.user",
    ),
    Key("email.password_file", _.PATH, "a file holding the SMTP password"),
    Key("email.password_command", _.STRUCTURE, "a command that prints the SMTP password"),
    Key("email.timeout", _.NUMBER, "seconds per SMTP step", 30.0, minimum=1, maximum=600),
    Key("monitor.ping_url", _.TEXT, "a Healthchecks-style heartbeat URL (a secret of sorts)"),
    Key("monitor.rejected_is_failure", _.FLAG, "exit 1 pings a failure", True),
    Key("metrics.textfile", _.PATH, "a Prometheus text file written after every run"),
    Key("notify.urls", _.STRUCTURE, "alert channels as Apprise URLs (secrets)"),
    Key(
        "notify.remind_after",
        _.DURATION,
        "say a problem that lasts again after this long (default: never)",
        longest=timedelta(days=366),
    ),
)
del _

BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
SECTIONS: dict[str, frozenset[str]] = {
    section: frozenset(k.leaf for k in KEYS if k.section == section)
    for section in dict.fromkeys(k.section for k in KEYS)
}
PROMPTED: dict[str, str] = {k.name: k.prompt for k in KEYS if k.prompt}
