"""The dependency rule: domain <- application <- {infrastructure, projections} <- interfaces."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("domain", "application", "infrastructure", "projections", "interfaces")
ALLOWED = {
    "domain": {"domain"},
    "application": {"domain", "application"},
    "infrastructure": {"domain", "application", "infrastructure"},
    "projections": {"domain", "application", "projections"},
    "interfaces": set(LAYERS),
}
IO_LIBRARIES = {"psycopg", "psycopg_pool", "sqlite3", "socket", "smtplib", "requests", "httpx",
                "click", "rich", "msgspec", "os", "pathlib", "subprocess", "time"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_of(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_beneath_it(layer: str) -> None:
    violations = []
    for path in modules_of(layer):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in LAYERS and top not in ALLOWED[layer]:
                violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert violations == []


def test_the_domain_does_no_io_and_reads_no_clock() -> None:
    offenders = []
    for path in modules_of("domain"):
        source = path.read_text()
        for name in imported_modules(path):
            if name.split(".")[0] in IO_LIBRARIES:
                offenders.append(f"{path.name} imports {name}")
        for call in ("datetime.now", "date.today", "datetime.utcnow", "time.time("):
            if call in source:
                offenders.append(f"{path.name} calls {call}")
    assert offenders == []


def test_the_architecture_check_would_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from infrastructure.stores import prepare_database\nimport psycopg\n")
    assert imported_modules(bad) == {"infrastructure.stores", "psycopg"}
