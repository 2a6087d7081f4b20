from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infrastructure.settings import load_settings
from interfaces.composition import initialise_store
from tests.e2e.cli import Cli


def initialised(cli: Cli) -> Cli:
    """The store of `cli` initialised as `compliance init` initialises it (the same
    function, called here rather than in another interpreter)."""
    initialise_store(load_settings(cli.env))
    return cli


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    """The real CLI against a fresh, initialised SQLite file or PostgreSQL schema."""
    if request.param == "sqlite":
        yield initialised(Cli({"COMPLIANCE_SQLITE_PATH":
                               str(tmp_path / "var" / "compliance.db")}))
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        yield initialised(Cli({"COMPLIANCE_DATABASE_URL": url,
                               "COMPLIANCE_POSTGRES_SCHEMA": schema,
                               "COMPLIANCE_SEAL_KEY": str(tmp_path / "seal.key")}))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return initialised(Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "var" / "compliance.db")}))
