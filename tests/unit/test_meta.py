"""Rules of the house that no single feature test would notice breaking: where ``requests``
may be imported, that every config key is documented where a user looks, that the DK+ list
fields cover what the mapping writes, and the size budget of modules and functions."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dksync.config.keys import KEYS
from dksync.dkplus.learned import PROJECT_FIELDS
from dksync.mapping import Mapped
from dksync.mapping.customers import CustomerRules
from dksync.mapping.projects import map_project
from dksync.records import Address, Customer, CustomerStatus, Project

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "dksync"
README = (ROOT / "README.md").read_text()
MODULE_LINES, FUNCTION_LINES, PARAMETERS = 400, 50, 6


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_transport_imports_requests() -> None:
    """httpx's rule: the HTTP library's types and errors never pass the transport."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if "requests" in _imports(ast.parse(path.read_text()))
        and path.parent != PACKAGE / "transport"
        and PACKAGE / "sandbox" not in path.parents
    ]
    assert offenders == [], f"import requests only in dksync/transport/: {offenders}"


def _readme_keys() -> set[str]:
    table = README.split("## Configure", 1)[1].split("| key | meaning |", 1)[1]
    table = table.split("\n\n", 1)[0]
    return set(re.findall(r"`([a-z_]+\.[a-z_]+)`", table))


def test_every_config_key_is_in_the_readme_table_and_nothing_else_is() -> None:
    declared = {key.name for key in KEYS}
    assert declared - _readme_keys() == set(), "add these keys to the README's table"
    assert _readme_keys() - declared == set(), "the README's table names unknown keys"


@pytest.mark.parametrize("example", ["config.example.yaml", "dksync/config.example.yaml"])
def test_every_config_key_is_in_the_example(example: str) -> None:
    text = (ROOT / example).read_text()
    missing = []
    for key in KEYS:
        block = re.search(rf"(?ms)^#? ?{key.section}:\n(.*?)(?=^#? ?[a-z_]+:\n|\Z)", text)
        if block is None or not re.search(rf"\b{key.leaf}\b", block.group(1)):
            missing.append(key.name)
    assert missing == [], f"{example} does not mention {missing}"


def _full_customer() -> Customer:
    """A customer with every field the mapping can write."""
    return Customer(
        id=1,
        modified=datetime(2026, 12, 1, tzinfo=UTC),
        version=1,
        number="10001",
        name="Alfa ehf.",
        status=CustomerStatus.ACTIVE,
        kennitala="5510210680",
        phone="5551234",
        email="a@example.is",
        address=Address("Gata 1", "2. hæð", "101", "Reykjavík", "IS"),
        credit_days=14,
    )


def test_the_project_list_fields_cover_what_the_mapping_writes() -> None:
    """Customers are listed whole (an update writes the whole record back); projects are
    listed with the fields named here, which must hold every field the mapping writes."""
    project = Project(
        id=2,
        modified=datetime(2026, 12, 1, tzinfo=UTC),
        version=1,
        number="P-1",
        name="Verk",
        status="active",
        customer_id=1,
        customer_number="10001",
    )
    mapped = map_project(project, _full_customer(), CustomerRules())
    assert isinstance(mapped, Mapped)
    assert set(mapped.payload) - set(PROJECT_FIELDS) == set()


def _is_typer_command(node: ast.FunctionDef) -> bool:
    """A Typer command's options are its parameters: the budget counts its body only."""
    arguments = node.args.args + node.args.kwonlyargs
    return any("Option" in ast.unparse(a.annotation) for a in arguments if a.annotation)


def _budget_breaches() -> list[str]:
    breaches = []
    for path in _modules():
        text = path.read_text()
        name = path.relative_to(ROOT)
        if text.count("\n") > MODULE_LINES:
            breaches.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
            a = node.args
            given = [*a.posonlyargs, *a.args, *a.kwonlyargs]
            params = len(given) + (a.vararg is not None) + (a.kwarg is not None)
            params -= bool(given) and given[0].arg in ("self", "cls")
            if body > FUNCTION_LINES:
                breaches.append(f"{name}: {node.name} has {body} lines")
            if params > PARAMETERS and not _is_typer_command(node):  # type: ignore[arg-type]
                breaches.append(f"{name}: {node.name} has {params} parameters")
    return breaches


def test_the_size_budget_holds() -> None:
    """Modules under 400 lines, functions under 50 and 6 parameters (style.md, item 12)."""
    assert _budget_breaches() == []
