"""Read-only auditing (issue 11): only `compliance init`, `migrate` and `demo` change the
schema. Every other command opens the ledger without DDL and without a start-up lock, so
an auditor whose PostgreSQL role can only SELECT runs every reading command, commands do
not queue behind one another, and a store that was never initialised (or a mistyped path)
is refused with exit 6 and what to run, creating nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from infrastructure.schema import SCHEMA_VERSION
from infrastructure.settings import load_settings
from infrastructure.stores import table_creation_lock
from tests.e2e.cli import EXECUTABLE, Cli, Result

DEMO = ("demo", "--accounts", "60", "--seed", "11", "--today", "2026-11-01")
NO_LEDGER = "error: database unavailable: no ledger at {where}; run compliance init"
GRANTS = ("GRANT USAGE ON SCHEMA {schema} TO {role}",
          "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
"""The grants README.md gives for an auditor's role (with CREATE ROLE ... LOGIN)."""


def run_together(cli: Cli, commands: Sequence[Sequence[str]]) -> list[Result]:
    """The commands side by side, each the installed executable in a process of its own."""
    processes = cli.separate()
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: processes(*args), commands))


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class PgLedger:
    url: str
    schema: str
    owner: Cli
    home: Path

    def cli_as(self, user: str) -> Cli:
        return Cli({"COMPLIANCE_DATABASE_URL": as_user(self.url, user),
                    "COMPLIANCE_POSTGRES_SCHEMA": self.schema,
                    "COMPLIANCE_SEAL_KEY": str(self.home / "seal.key")})


@pytest.fixture
def pg_ledger(postgres_url: str, tmp_path: Path) -> Iterator[PgLedger]:
    """A PostgreSQL schema of its own, not initialised; dropped afterwards."""
    schema = f"e2e_ro_{uuid.uuid4().hex[:10]}"
    owner = Cli({"COMPLIANCE_DATABASE_URL": postgres_url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
                 "COMPLIANCE_SEAL_KEY": str(tmp_path / "seal.key")})
    try:
        yield PgLedger(postgres_url, schema, owner, tmp_path)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@pytest.fixture
def auditor_role(pg_ledger: PgLedger) -> Iterator[str]:
    """A role that can log in and only SELECT from the ledger's schema (granted after the
    demo has created every table)."""
    role = f"auditor_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_ledger.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        yield role
    finally:
        with psycopg.connect(pg_ledger.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(pg_ledger.schema)))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def grant_select(ledger: PgLedger, role: str) -> None:
    with psycopg.connect(ledger.url, autocommit=True) as conn:
        for grant in GRANTS:
            conn.execute(sql.SQL(grant).format(schema=sql.Identifier(ledger.schema),
                                               role=sql.Identifier(role)))


# -- a role that can only SELECT ----------------------------------------------------------


@pytest.mark.postgres
def test_a_role_that_can_only_select_runs_every_reading_command(pg_ledger: PgLedger,
                                                               auditor_role: str) -> None:
    owner = pg_ledger.owner
    owner.ok(*DEMO)
    grant_select(pg_ledger, auditor_role)
    auditor = pg_ledger.cli_as(auditor_role)
    assessment = owner.ok("assessments", "list", "--json").json()[0]
    number, importer = assessment["number"], assessment["importer_number"]
    reads: list[tuple[str, ...]] = [
        ("verify",), ("verify", "--json"), ("history", number), ("history", importer),
        ("history", number, "--as-of", "1"), ("status", "--json"),
        ("accounts", "list"), ("accounts", "show", importer),
        ("assessments", "list"), ("assessments", "show", number),
        ("plans", "list"), ("enforcement", "list"), ("verifications", "list"),
        ("worklist",), ("worklist", "--due"), ("register", "--limit", "5"),
        ("stats", "compliance", "--by", "industry"), ("stats", "enforcement"),
        ("stats", "plans"), ("audit", "--limit", "5"), ("views", "status", "--json"),
        ("views", "dump", "worklist"), ("risk", "top"), ("tiers",), ("rates",),
        ("rules", "list"), ("effectiveness",),
    ]
    results = [auditor(*args) for args in reads]  # in this process, one after another
    failed = {" ".join(args): (result.code, result.err.strip()[-300:])
              for args, result in zip(reads, results, strict=True) if result.code != 0}
    assert failed == {}
    assert all("Traceback" not in result.err for result in results)
    by_args = dict(zip(reads, results, strict=True))
    side_by_side = [("verify", "--json"), ("status", "--json"), ("views", "status", "--json"),
                    ("risk", "top")]  # and some as processes of their own, at once
    for args, result in zip(side_by_side, run_together(auditor, side_by_side), strict=True):
        assert (result.code, result.err) == (by_args[args].code, by_args[args].err), args
    assert by_args[("verify", "--json")].json()["ok"] is True  # chains, seals, snapshots
    mine, theirs = (cli.ok("status", "--json").json() for cli in (owner, auditor))
    mine.pop("store")
    theirs.pop("store")
    assert mine == theirs
    assert all(row["behind"] == 0 for row in by_args[("views", "status", "--json")].json())

    # The role really cannot write: a command is refused, and so is creating the schema.
    # (The actor is an officer of district 11 the demo created: allowed by the ledger, so
    # it is the database that refuses.)
    events = owner.events()
    refused = auditor("accounts", "register", "--importer-number", "31-4159265AB",
                      "--name", "Jade River Apparel", "--district", "11", "--industry", "61",
                      "--registered-on", "2019-04-01", "--actor", "user:officer-11-1",
                      "--reason", "trying")
    assert refused.code == 6, refused.err
    assert "refused to write for this role" in refused.err
    migrate = auditor("migrate")
    assert migrate.code == 6, migrate.err
    assert "Traceback" not in migrate.err
    assert owner.events() == events

    # The views a reading command reads are caught up first; this role cannot, so it
    # reads them as they are and says how far behind the log they are.
    owner.ok("accounts", "register", "--importer-number", "31-4159265AB", "--name",
             "Jade River Apparel", "--district", "11", "--industry", "61", "--registered-on",
             "2019-04-01", "--actor", "user:registrar", "--reason", "new importer")
    # (`views status` only reports; `status` would catch up the views it counts from)
    behind = max(row["behind"] for row in owner.ok("views", "status", "--json").json())
    noun = "event" if behind == 1 else "events"
    for args in (("register", "--importer", "31-4159265AB", "--json"), ("worklist",),
                 ("audit", "--limit", "1")):
        stale = auditor(*args)
        assert stale.code == 0, (args, stale.err)
        assert stale.err.strip() == (
            f"warning: views are {behind} {noun} behind the log (this role cannot write to "
            "catch them up); run compliance project --once"), args
    assert auditor("register", "--importer", "31-4159265AB", "--json").json() == []
    assert owner.ok("register", "--importer", "31-4159265AB", "--json").json() != []
    assert owner.ok("register", "--importer", "31-4159265AB").err == ""


# -- no queue at start-up -----------------------------------------------------------------


@pytest.mark.postgres
def test_commands_start_while_the_start_up_lock_is_held(pg_ledger: PgLedger) -> None:
    """The lock `compliance init` takes (and every command used to take) is held open in
    a transaction that also holds the plain-table and view-table DDL locks: two commands
    started side by side still answer at once."""
    owner = pg_ledger.owner
    owner.ok("init")
    settings = load_settings(owner.env)
    with table_creation_lock(settings), \
            psycopg.connect(pg_ledger.url) as holder:
        for name in ("plain tables", "view tables"):
            holder.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           (f"{pg_ledger.schema}/{name}",))
        started = time.monotonic()
        processes = [subprocess.Popen([str(EXECUTABLE), *args], env=owner.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
                     for args in (("status", "--json"), ("views", "status", "--json"))]
        try:
            outcomes = [process.communicate(timeout=60) for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
        elapsed = time.monotonic() - started
        holder.rollback()
    assert [process.returncode for process in processes] == [0, 0], outcomes
    assert elapsed < 30


def test_reading_commands_start_while_another_process_writes_to_sqlite(tmp_path: Path) -> None:
    """SQLite: a write transaction held open by another process (a long import, a demo)
    does not stop reading commands, which no longer create tables at start-up."""
    path = tmp_path / "var" / "compliance.db"
    cli = Cli({"COMPLIANCE_SQLITE_PATH": str(path)})
    cli.ok("init")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO compliance_meta VALUES ('held', 'by a writer')")
        started = time.monotonic()
        results = run_together(cli, [("status", "--json"), ("verify",), ("views", "status")])
        elapsed = time.monotonic() - started
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert [(result.code, result.err) for result in results] == [(0, "")] * 3
    assert elapsed < 25  # the store's lock timeout is 30 s


# -- no ledger, no DDL ----------------------------------------------------------------


def test_a_mistyped_sqlite_path_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    real = tmp_path / "var" / "compliance.db"
    Cli({"COMPLIANCE_SQLITE_PATH": str(real)}).ok("init")
    typo = tmp_path / "var" / "complaince.db"
    elsewhere = tmp_path / "nowhere" / "compliance.db"
    for path in (typo, elsewhere):
        cli = Cli({"COMPLIANCE_SQLITE_PATH": str(path)})
        for args in (("status",), ("verify",), ("views", "status"), ("worklist",),
                     ("accounts", "list"), ("history", "CA-2026-00001"), ("risk", "top")):
            result = cli(*args)
            assert result.code == 6, (args, result.err)
            assert result.err.strip() == NO_LEDGER.format(where=path)
            assert result.out == ""
        assert not path.exists()
    assert not elsewhere.parent.exists()
    assert not [p for p in real.parent.iterdir() if p.name.startswith("complaince")]


def test_an_empty_sqlite_file_is_no_ledger(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    result = Cli({"COMPLIANCE_SQLITE_PATH": str(path)})("status")
    assert result.code == 6
    assert result.err.strip() == NO_LEDGER.format(where=path)
    assert path.stat().st_size == 0


@pytest.mark.postgres
def test_an_uninitialised_postgres_schema_is_refused_and_left_absent(
        pg_ledger: PgLedger) -> None:
    for args in (("status",), ("verify",), ("views", "status"), ("assessments", "list")):
        result = pg_ledger.owner(*args)
        assert result.code == 6, (args, result.err)
        assert "Traceback" not in result.err
        assert result.err.strip() == NO_LEDGER.format(
            where=load_settings(pg_ledger.owner.env).describe)
        assert f"schema {pg_ledger.schema}; run compliance init" in result.err
    with psycopg.connect(pg_ledger.url) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                             (pg_ledger.schema,)).fetchone()
    assert found is None


# -- init and migrate ----------------------------------------------------------------


def sqlite_cli(tmp_path: Path) -> tuple[Cli, Path]:
    path = tmp_path / "var" / "compliance.db"
    return Cli({"COMPLIANCE_SQLITE_PATH": str(path)}), path


def register(cli: Cli, number: str = "31-4159265AB") -> None:
    cli.ok("accounts", "register", "--importer-number", number, "--name", "Jade River",
           "--district", "11", "--industry", "61", "--registered-on", "2019-04-01",
           "--actor", "user:registrar", "--reason", "new importer")


def test_init_records_the_schema_version_and_chain_scheme_and_migrate_is_idempotent(
        tmp_path: Path) -> None:
    cli, path = sqlite_cli(tmp_path)
    created = cli.ok("init").out
    assert f"ledger created at {path}" in created
    assert "compliance_meta" in created
    assert "stored_events" in created
    with sqlite3.connect(path) as conn:
        meta = dict(conn.execute("SELECT key, value FROM compliance_meta"))
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert meta == {"schema_version": str(SCHEMA_VERSION), "chain_scheme": "2"}
    assert {"stored_events", "stored_snapshots", "tracking", "ingest_batches",
            "trade_activity", "compliance_samples", "entries", "risk_runs", "risk_scores",
            "compliance_rates", "channel_decisions", "wl_cases", "wl_due", "ar_accounts",
            "cs_findings", "es_actions", "pp_plans", "al_events"} <= tables
    register(cli)
    events = cli.events()
    for _ in range(2):
        again = cli.ok("migrate").out
        assert "already current: nothing to do" in again
        assert "created" not in again
    assert cli.events() == events


def test_migrate_brings_an_older_schema_up_to_date(tmp_path: Path) -> None:
    cli, path = sqlite_cli(tmp_path)
    cli.ok("init")
    register(cli)
    events = cli.events()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE wl_due")
        conn.execute("UPDATE compliance_meta SET value = '0' WHERE key = 'schema_version'")
    refused = cli("status")
    assert refused.code == 6
    assert "schema version 0" in refused.err
    assert "run compliance migrate" in refused.err
    migrated = cli.ok("migrate").out
    assert "migrated from schema version 0" in migrated
    assert "created 1 table(s): wl_due" in migrated
    assert cli.events() == events
    cli.ok("project", "--once")
    assert cli.ok("views", "status", "--json").json()[0]["behind"] == 0


@pytest.mark.parametrize("damage", [
    "UPDATE compliance_meta SET value = '1' WHERE key = 'chain_scheme'",
    "DELETE FROM compliance_meta WHERE key = 'chain_scheme'",
    "DROP TABLE compliance_meta",
])
def test_a_ledger_of_an_older_chain_scheme_is_refused_by_every_command(
        tmp_path: Path, damage: str) -> None:
    cli, path = sqlite_cli(tmp_path)
    cli.ok("init")
    register(cli)
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    for args in (("status",), ("verify",), ("migrate",), ("init",), ("demo",)):
        result = cli(*args)
        assert result.code == 6, (args, result.err)
        assert "older, unsigned hash-chain scheme" in result.err
        assert "cannot be opened by this version" in result.err
        assert "make clean && make demo" in result.err
        assert "Traceback" not in result.err


def test_init_stamps_an_empty_store_that_predates_the_meta_table(tmp_path: Path) -> None:
    """A store with the library's tables but no events and no meta (an `init` of an older
    version) holds nothing written under an old scheme: init and migrate adopt it."""
    cli, path = sqlite_cli(tmp_path)
    cli.ok("init")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE compliance_meta")
    assert cli("status").code == 6
    assert "created 1 table(s): compliance_meta" in cli.ok("migrate").out
    cli.ok("status")
