"""Store fixtures shared by every test tier.

Every test that asks for `store` (or `app`) runs twice: once on a SQLite file of its own
and once on PostgreSQL in a schema of its own, so the two stores are held to one contract.

PostgreSQL comes from COMPLIANCE_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test). When that does not answer, a throwaway cluster
is started from the locally installed PostgreSQL binaries. When neither works, PostgreSQL
tests are skipped, except under CI=true, where a skipped PostgreSQL test is a failure.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from application.compliance_cases import ComplianceCases
from application.ports import Clock
from infrastructure.settings import Settings, load_settings
from interfaces.composition import build_application, initialise_store
from tests.builders import FakeClock

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_DATABASE_URL_VARIABLE = "COMPLIANCE_TEST_DATABASE_URL"


# -- PostgreSQL availability (shared with unittest-style tests, which have no fixtures) --


def running_under_ci() -> bool:
    return os.environ.get("CI") == "true"


def _answers(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"{url} does not answer: {str(error).strip() or type(error).__name__}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, trust auth, 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="compliance-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.started = False
        self.as_postgres_user = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_postgres_user:
            # initdb refuses to run as root: the cluster belongs to the postgres user.
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def start(self) -> None:
        if self.as_postgres_user:
            shutil.chown(self.root, user="postgres", group=None)
        initdb = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                           "-U", "postgres", "-E", "UTF8", "--no-sync")
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip() or initdb.stdout}")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        started = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                            str(self.log), "-o", options, "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {log[-500:]}")
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop", timeout=60)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PostgresAvailability:
    url: str | None
    reason: str
    cluster: ThrowawayCluster | None = None


_availability: PostgresAvailability | None = None
_availability_lock = threading.Lock()


def _start_throwaway_cluster() -> tuple[ThrowawayCluster | None, str]:
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not initdbs:
        return None, "no PostgreSQL binaries under /usr/lib/postgresql/*/bin to start one"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return None, "running as root without runuser, so initdb cannot be run"
    cluster = ThrowawayCluster(Path(initdbs[0]).parent)
    try:
        cluster.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        cluster.stop()
        return None, f"starting a throwaway cluster failed: {error}"
    deadline = time.monotonic() + 30
    while (problem := _answers(cluster.url)) is not None:
        if time.monotonic() > deadline:
            cluster.stop()
            return None, f"the throwaway cluster did not answer: {problem}"
        time.sleep(0.2)
    return cluster, f"throwaway cluster from {cluster.bindir} on port {cluster.port}"


def postgres_availability() -> PostgresAvailability:
    """Resolved once per test process; a started cluster is stopped at exit."""
    global _availability
    with _availability_lock:
        if _availability is None:
            url = os.environ.get(TEST_DATABASE_URL_VARIABLE, "").strip() \
                or DEFAULT_TEST_DATABASE_URL
            problem = _answers(url)
            if problem is None:
                _availability = PostgresAvailability(url, f"{url} answers")
            else:
                cluster, outcome = _start_throwaway_cluster()
                if cluster is None:
                    _availability = PostgresAvailability(
                        None, f"PostgreSQL unavailable: {problem}; {outcome}")
                else:
                    atexit.register(cluster.stop)
                    _availability = PostgresAvailability(cluster.url, outcome, cluster)
        return _availability


def stop_throwaway_cluster() -> None:
    if _availability is not None and _availability.cluster is not None:
        _availability.cluster.stop()


def require_postgres_url(skip: Callable[[str], object], fail: Callable[[str], object]) -> str:
    """The PostgreSQL URL, or skip (fail under CI=true) with the reason."""
    available = postgres_availability()
    if available.url is None:
        reason = available.reason
        if running_under_ci():
            fail(f"{reason} (CI=true: a skipped PostgreSQL test counts as a failure)")
        skip(reason)
        raise AssertionError(reason)  # not reached: skip and fail raise
    return available.url


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))


def unique_schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = require_postgres_url(pytest.skip, pytest.fail)
    yield url
    stop_throwaway_cluster()


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def store_environ(request: pytest.FixtureRequest,
                  tmp_path: Path) -> Iterator[dict[str, str]]:
    """The COMPLIANCE_* variables of an isolated store: a SQLite file of its own, or a
    PostgreSQL schema of its own (dropped afterwards), initialised as `compliance init`
    initialises one (interfaces.composition.initialise_store)."""
    keys = {"COMPLIANCE_SEAL_KEY": str(tmp_path / "keys" / "seal.key")}
    if request.param == "sqlite":
        environ = {"COMPLIANCE_SQLITE_PATH": str(tmp_path / "ledger.db"), **keys}
        initialise_store(load_settings(environ))
        yield environ
        return
    url = request.getfixturevalue("postgres_url")
    schema = unique_schema()
    try:
        environ = {"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
                   **keys}
        initialise_store(load_settings(environ))
        yield environ
    finally:
        drop_schema(url, schema)


@pytest.fixture
def store(store_environ: Mapping[str, str]) -> Settings:
    return load_settings(store_environ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(store: Settings, clock: FakeClock) -> Iterator[
        Callable[..., ComplianceCases]]:
    """Builds (further) applications on the test's store, e.g. a second "process"; all
    are closed at teardown, before the store is dropped."""
    built: list[ComplianceCases] = []

    def make(settings: Settings | None = None, clock_: Clock | None = None, *,
             access_control: bool = False, cache_size: int = 0) -> ComplianceCases:
        # The use cases are tested here on their own; access control (who may do what)
        # has its own tests (tests/integration/test_access_control.py and the HTTP
        # matrix), which pass access_control=True.
        app = build_application(settings or store, clock=clock_ or clock,
                                access_control=access_control, cache_size=cache_size)
        built.append(app)
        return app

    yield make
    for app in reversed(built):
        app.close()


@pytest.fixture
def app(make_app: Callable[..., ComplianceCases]) -> ComplianceCases:
    return make_app()
