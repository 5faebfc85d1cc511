"""Moment project → DK+ project body (pure). DK+ has no project update: create only."""

from __future__ import annotations

from dksync.mapping import Mapped, MapResult, Rejected
from dksync.mapping.customers import CustomerRules, dk_number
from dksync.records import Customer, Project

DRIFT_FIELDS = ("Name", "CustomerToBill")


def map_project(project: Project, customer: Customer | None, rules: CustomerRules) -> MapResult:
    """The DK+ ``Project`` body; ``customer`` is the Moment customer to bill, if any."""
    reasons = []
    if not project.number.strip():
        reasons.append(f"project id {project.id} has no project number in Moment")
    if not project.name.strip():
        reasons.append(f"project {project.number} has no name in Moment")
    payload = {"Number": project.number.strip(), "Name": project.name.strip()}
    if customer is not None:
        number = dk_number(customer, rules)
        if isinstance(number, Rejected):
            reasons.extend(f"its customer: {r}" for r in number.reasons)
        else:
            payload["CustomerToBill"] = number
            payload["CustomerNameToBill"] = customer.name.strip()
    if reasons:
        return Rejected(tuple(reasons))
    return Mapped(payload)
