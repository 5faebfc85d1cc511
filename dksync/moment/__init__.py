"""The Moment adapter: the ONLY place that knows Moment's paths, parameters and JSON names.

Much of Moment's JSON shape is assumed (see the spec), so everything assumed lives in this
package: ``names`` (paths, parameters, the fields dksync reads), ``fieldnames`` (the user's
corrections, ``moment.field_names``), ``parsing`` (JSON → records, either shape of
reference), ``paging`` (reading a list without trusting it), ``client`` (HTTP, lookups by
id) and ``encode`` (records → JSON, for the sandbox). A correction found against a live
account is a change inside this package, or a line of config.
"""

from dksync.moment.client import MomentClient, ServerClock, classify
from dksync.moment.encode import (
    encode_account,
    encode_customer,
    encode_invoice,
    encode_product,
    encode_project,
)
from dksync.moment.fieldnames import FieldNames
from dksync.moment.names import (
    API_PREFIX,
    API_USER,
    CREATED,
    ENTITY_PATHS,
    ENVELOPE_CONTENT,
    ENVELOPE_PAGE,
    ID,
    INCLUDE_BASE,
    INVOICE_DATE,
    MODIFIED,
    PARAM_DATED_FROM,
    PARAM_DATED_TO,
    PARAM_FROM,
    PARAM_IDS,
    PARAM_PAGE,
    PARAM_SIZE,
    PARAM_SORT,
    PARAM_TO,
    SORT_ASCENDING,
    TOTAL_ELEMENTS,
    TOTAL_PAGES,
    VERSION,
)
from dksync.moment.paging import FUTURE_SKEW, ListRead
from dksync.moment.parsing import (
    field_problems,
    format_instant,
    key_problems,
    may_be_due,
    parse,
    parse_instant,
    record_id,
    record_key,
    record_label,
)

__all__ = [
    "API_PREFIX",
    "API_USER",
    "CREATED",
    "ENTITY_PATHS",
    "ENVELOPE_CONTENT",
    "ENVELOPE_PAGE",
    "FUTURE_SKEW",
    "ID",
    "INCLUDE_BASE",
    "INVOICE_DATE",
    "MODIFIED",
    "PARAM_DATED_FROM",
    "PARAM_DATED_TO",
    "PARAM_FROM",
    "PARAM_IDS",
    "PARAM_PAGE",
    "PARAM_SIZE",
    "PARAM_SORT",
    "PARAM_TO",
    "SORT_ASCENDING",
    "TOTAL_ELEMENTS",
    "TOTAL_PAGES",
    "VERSION",
    "FieldNames",
    "ListRead",
    "MomentClient",
    "ServerClock",
    "classify",
    "encode_account",
    "encode_customer",
    "encode_invoice",
    "encode_product",
    "encode_project",
    "field_problems",
    "format_instant",
    "key_problems",
    "may_be_due",
    "parse",
    "parse_instant",
    "record_id",
    "record_key",
    "record_label",
]
