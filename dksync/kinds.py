"""The words dksync's code branches on, as enums in one place: object kinds, invoice states
in the state file, and the codes of rejection reasons.

They are ``StrEnum`` so that the state file, JSON and tables keep their plain words, while
code compares members, never prose. ``check`` and the notifier read ``ReasonCode``s.
"""

from __future__ import annotations

import enum


class ObjectKind(enum.StrEnum):
    """What a record is; the value is the word used in the state, tables, JSON and CLI.
    The members are in the order tables list them (dependencies before what needs them)."""

    CUSTOMERS = "customers"
    PROJECTS = "projects"
    PRODUCTS = "products"
    INVOICES = "invoices"
    ACCOUNTS = "accounts"  # Moment's financial accounts: read for invoices, never written

    @property
    def singular(self) -> str:
        """ "invoice" for "invoices": how one record is named, as in 'show invoice 1001'."""
        return self.value[:-1]

    @property
    def rank(self) -> int:
        """Its place in tables."""
        return list(ObjectKind).index(self)

    @classmethod
    def named(cls, word: str) -> ObjectKind | None:
        """The kind a person means by ``word``: singular or plural, any case; None if none."""
        key = word.strip().lower()
        for kind in cls:
            if key in (kind.value, kind.singular):
                return kind
        return None


SYNCED_KINDS = (ObjectKind.CUSTOMERS, ObjectKind.PROJECTS, ObjectKind.INVOICES)


class InvoiceState(enum.StrEnum):
    """Where a Moment invoice stands with DK+, as stored in the state file.

    ``PENDING`` is written before the POST; ``POSTED`` with the DK+ number after a confirmed
    answer or an adoption; ``UNCERTAIN`` when the POST may have reached DK+ (looked up before
    anything else happens to it); ``REFUSED`` when DK+ refused it (posted again once fixed).
    """

    PENDING = "pending"
    POSTED = "posted"
    UNCERTAIN = "uncertain"
    REFUSED = "refused"

    @property
    def in_flight(self) -> bool:
        """A POST may have reached DK+: look the reference up before any new attempt."""
        return self in (InvoiceState.PENDING, InvoiceState.UNCERTAIN)


class ReasonCode(enum.StrEnum):
    """Why a record was not written, grouped by what someone must do about it."""

    INVALID_DATA = "invalid_data"  # the Moment record breaks a rule: fix it in Moment
    BAD_VALUE = "bad_value"  # a number that cannot be money (overflow, NaN, absurd exponent)
    MALFORMED = "malformed"  # Moment sent an object dksync cannot read
    DEPENDENCY = "dependency"  # its customer, project or product could not be written
    NOT_IN_MOMENT = "not_in_moment"  # a record it refers to does not exist in Moment
    GONE = "gone"  # no longer exists in Moment
    REFUSED = "refused"  # the service answered 4xx with its reason
    DKPLUS_FAILED = "dkplus_failed"  # DK+ kept failing; it holds no such invoice: sent again later
    PRODUCT_MISSING = "product_missing"  # an item code is not a DK+ product, creation is off
    VAT_MISMATCH = "vat_mismatch"  # a line's VAT is not its product's (in DK+ or this run)
    DUPLICATE_NUMBER = "duplicate_number"  # another Moment invoice has this number in DK+
    ADOPT_MISMATCH = "adopt_mismatch"  # DK+ holds this reference with another customer/total
    UNCERTAIN = "uncertain"  # a POST may have reached DK+; looked up again before any retry
    DRIFT = "drift"  # DK+ differs from Moment and dksync does not overwrite it
    UNEXPECTED = "unexpected"  # a failure dksync has no rule for, in this record only (see -vv)
    UNREADABLE = "unreadable"  # a final Moment invoice reconcile cannot read or map
    PAYMENT_TERM = "payment_term"  # its payment term is not one of the DK+ company's codes
    KENNITALA_TAKEN = "kennitala_taken"  # DK+ holds its kennitala under another number


class CursorState(enum.StrEnum):
    """Where a kind's cursor stands, as ``status`` shows it in its table and its JSON."""

    SET = "set"  # it holds Moment's lastModifiedDate and id of the last record done
    NOT_STARTED = "not_started"  # no run has read this kind yet
    IN_PROGRESS = "in_progress"  # the run going now is reading it (it moves once done)
    NOT_MOVED = "not_moved"  # a run read it but stopped before the stream was done
