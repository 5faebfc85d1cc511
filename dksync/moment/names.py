"""Every name Moment's API uses that dksync relies on: paths, parameters and JSON fields.

Much of Moment's JSON is assumed (see the spec); keeping the names here, and the list of
fields dksync reads per object in ``FIELDS``, is what lets a user correct a name in the
config (``moment.field_names``) and lets ``dksync check`` say which fields are missing.
"""

from __future__ import annotations

from dksync.kinds import ObjectKind

API_PREFIX = "/api/1.0/companies/{company}"
API_USER = "apikey"
INCLUDE_BASE = "include/base"
ENTITY_PATHS: dict[str, str] = {  # where Moment lists each kind dksync reads (keys: ObjectKind)
    ObjectKind.CUSTOMERS: "customers",
    ObjectKind.PROJECTS: "projects",
    ObjectKind.INVOICES: "invoices",
    ObjectKind.ACCOUNTS: "financialAccounts",
    ObjectKind.PRODUCTS: "products",
}
ID, CREATED, MODIFIED, VERSION = "id", "createdDate", "lastModifiedDate", "version"
PARAM_PAGE, PARAM_SIZE, PARAM_SORT = "page", "size", "sort"
PARAM_FROM, PARAM_TO = "lastModifiedDateFrom", "lastModifiedDateTo"
PARAM_IDS = "ids"  # a comma-separated id filter, seen only in the n8n node: verified on use
PARAM_DATED_FROM, PARAM_DATED_TO = "invoiceDateFrom", "invoiceDateTo"  # assumed: verified
INVOICE_DATE = "invoiceDate"
SORT_ASCENDING = "lastModifiedDate,asc"
ENVELOPE_CONTENT, ENVELOPE_PAGE = "content", "page"
TOTAL_PAGES, TOTAL_ELEMENTS = "totalPages", "totalElements"
LINES = "lines"
KENNITALA = "organizationNumber"  # a customer's (SSN/Kennitala)

# The object names ``moment.field_names`` is keyed by, and the kind each one is read as.
OBJECTS = {
    "customer": "customers",
    "project": "projects",
    "invoice": "invoices",
    "line": "invoices",
    "financialAccount": "accounts",
    "product": "products",
}
OBJECT_OF_KIND = {
    "customers": "customer",
    "projects": "project",
    "invoices": "invoice",
    "accounts": "financialAccount",
    "products": "product",
}
NUMBER_FIELDS = {
    "customers": "customerNumber",
    "projects": "projectNumber",
    "invoices": "invoiceNumber",
    "accounts": "accountNumber",
    "products": "productNumber",
}

# A reference to another object comes nested (``customer: {id, customerNumber}``) or flat
# (``customerId``, maybe ``customerName``, no number). (nested name, its number, flat id,
# flat name, the kind it refers to).
REF_CUSTOMER = ("customer", "customerNumber", "customerId", "customerName", "customers")
REF_PROJECT = ("project", "projectNumber", "projectId", "projectName", "projects")
REF_PRODUCT = ("product", "productNumber", "productId", "productName", "products")
REF_ACCOUNT = (
    "financialAccount",
    "accountNumber",
    "financialAccountId",
    "financialAccountName",
    "accounts",
)


def _ref(ref: tuple[str, str, str, str, str]) -> tuple[str, ...]:
    nested, number, flat_id, _, _ = ref
    return (nested, f"{nested}.{ID}", f"{nested}.{number}", flat_id)


_META = (ID, MODIFIED, VERSION)

# Every JSON name dksync reads, per object (a dotted path for a nested field).
FIELDS: dict[str, tuple[str, ...]] = {
    "customer": (
        *_META,
        "customerNumber",
        "name",
        "customerState",
        "organizationNumber",
        "phone",
        "email",
        "address",
        "address.addressLine1",
        "address.addressLine2",
        "address.postalCode",
        "address.city",
        "address.countryCode",
        "creditDays",
    ),
    "project": (*_META, "projectNumber", "name", "projectState", *_ref(REF_CUSTOMER)),
    "invoice": (
        *_META,
        "invoiceNumber",
        "invoiceState",
        "invoiceType",
        "creditedInvoiceNumber",
        "accountingExportState",
        "invoiceDate",
        "dueDate",
        "currencyCode",
        *_ref(REF_CUSTOMER),
        *_ref(REF_PROJECT),
        LINES,
    ),
    "line": (
        "description",
        "quantity",
        "unitPrice",
        "discountPercent",
        "surchargePercent",
        "vatPercent",
        "lineTotal",
        *_ref(REF_PRODUCT),
        "product.name",
        "productName",
        *_ref(REF_ACCOUNT),
    ),
    "financialAccount": (
        ID,
        "accountNumber",
        "name",
        "currentVatPercentage",
        "externalTaxCode",
        "externalRevenueClass",
    ),
    "product": (ID, "productNumber", "name", "unitPrice", *_ref(REF_ACCOUNT)),
}

# Fields Moment sends that dksync knowingly leaves alone (not worth a "not read" line);
# every list is read by its lastModifiedDate and version, so those count as read too.
IGNORED = frozenset({CREATED, MODIFIED, VERSION, "links", "companyId", "comment"})
IGNORED_IN_LINES = frozenset({ID, "lineNumber"})
