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
CLOCK_CALLS = ("datetime.now", "date.today", "datetime.utcnow", "time.time(")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_of(layer: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / layer).rglob("*.py"))


def layer_violations(layer: str, root: Path = ROOT) -> list[str]:
    """Every import, in the modules of `layer` under `root`, of a layer it may not use."""
    violations = []
    for path in modules_of(layer, root):
        for name in sorted(imported_modules(path)):
            top = name.split(".")[0]
            if top in LAYERS and top not in ALLOWED[layer]:
                violations.append(f"{path.relative_to(root)} imports {name}")
    return violations


def domain_offenders(root: Path = ROOT) -> list[str]:
    """Every I/O library import and clock read in the domain modules under `root`."""
    offenders = []
    for path in modules_of("domain", root):
        source = path.read_text()
        for name in sorted(imported_modules(path)):
            if name.split(".")[0] in IO_LIBRARIES:
                offenders.append(f"{path.name} imports {name}")
        for call in CLOCK_CALLS:
            if call in source:
                offenders.append(f"{path.name} calls {call}")
    return offenders


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_beneath_it(layer: str) -> None:
    assert modules_of(layer), f"no modules found for layer {layer}"
    assert layer_violations(layer) == []


def test_the_domain_does_no_io_and_reads_no_clock() -> None:
    assert domain_offenders() == []


def test_the_architecture_check_would_catch_a_violation(tmp_path: Path) -> None:
    """The checks above, run on a copy of the tree's shape holding violating modules, report
    each violation (and nothing for the clean modules beside them)."""
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "clean.py").write_text(
        "from datetime import date\n\nfrom domain.values import Period\n")
    (tmp_path / "domain" / "bad.py").write_text(
        "import psycopg\n"
        "from datetime import datetime\n\n"
        "from infrastructure.stores import prepare_database\n\n\n"
        "def stamp() -> object:\n"
        "    return datetime.now()\n")
    (tmp_path / "application" / "targeting").mkdir(parents=True)
    (tmp_path / "application" / "targeting" / "leak.py").write_text(
        "import interfaces.cli.main\n"
        "from projections.queries import list_cases\n"
        "from domain.values import Period\n")
    (tmp_path / "interfaces").mkdir()
    (tmp_path / "interfaces" / "anything.py").write_text(
        "from infrastructure.stores import prepare_database\nimport click\n")

    assert layer_violations("domain", tmp_path) == [
        "domain/bad.py imports infrastructure.stores"]
    assert layer_violations("application", tmp_path) == [
        "application/targeting/leak.py imports interfaces.cli.main",
        "application/targeting/leak.py imports projections.queries"]
    assert layer_violations("interfaces", tmp_path) == []
    assert domain_offenders(tmp_path) == ["bad.py imports psycopg",
                                          "bad.py calls datetime.now"]
