"""The eventsourcing library's own application-recorder contract, run against both of our
stores configured exactly as infrastructure.stores.store_environment configures them.

These are unittest TestCases (the library's suite), so they get PostgreSQL without pytest
fixtures: tests.conftest.require_postgres_url applies the same skip / CI-fail policy.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory
from eventsourcing.tests import persistence as library

from infrastructure.settings import Settings, load_settings
from infrastructure.stores import prepare_database, store_environment
from tests.conftest import drop_schema, require_postgres_url, unique_schema


def join_stray_threads(timeout: float = 10.0) -> None:
    """The library's concurrency tests stop their reader threads without joining them;
    closing the database under a thread still reading crashes SQLite, so wait for them."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout)


class TestSQLiteApplicationRecorderHonoursTheLibraryContract(
        library.ApplicationRecorderTestCase[SQLiteApplicationRecorder]):
    """A SQLite file in a fresh temporary directory per test."""

    def setUp(self) -> None:
        super().setUp()
        self.directory = Path(tempfile.mkdtemp(prefix="compliance-recorder-"))
        self.settings = load_settings(
            {"COMPLIANCE_SQLITE_PATH": str(self.directory / "ledger.db")})
        self.factories: list[SQLiteFactory] = []

    def tearDown(self) -> None:
        join_stray_threads()
        for factory in self.factories:
            factory.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        super().tearDown()

    def create_recorder(self) -> SQLiteApplicationRecorder:
        prepare_database(self.settings)
        environment = store_environment(self.settings)
        assert environment["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
        factory = SQLiteFactory(environment)
        self.factories.append(factory)
        recorder = factory.application_recorder()
        recorder.create_table()  # as initialise_store does: the environment creates none
        assert isinstance(recorder, SQLiteApplicationRecorder)
        return recorder


@pytest.mark.postgres
class TestPostgresApplicationRecorderHonoursTheLibraryContract(
        library.ApplicationRecorderTestCase[PostgresApplicationRecorder]):
    """A fresh schema per test, with the lock timeout and pool our settings choose."""

    def setUp(self) -> None:
        super().setUp()
        self.url = require_postgres_url(self.skipTest, self.fail)
        self.settings: Settings = load_settings({
            "COMPLIANCE_DATABASE_URL": self.url,
            "COMPLIANCE_POSTGRES_SCHEMA": unique_schema(),
        })
        self.factories: list[PostgresFactory] = []

    def tearDown(self) -> None:
        join_stray_threads()
        for factory in self.factories:
            factory.close()
        drop_schema(self.url, self.settings.postgres_schema)
        super().tearDown()

    def create_recorder(self) -> PostgresApplicationRecorder:
        prepare_database(self.settings)
        environment = store_environment(self.settings)
        assert environment["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        assert environment["POSTGRES_LOCK_TIMEOUT"] == str(self.settings.postgres_lock_timeout_s)
        factory = PostgresFactory(environment)
        self.factories.append(factory)
        recorder = factory.application_recorder()
        recorder.create_table()  # as initialise_store does: the environment creates none
        assert isinstance(recorder, PostgresApplicationRecorder)
        assert recorder.datastore.schema == self.settings.postgres_schema
        assert recorder.datastore.lock_timeout == self.settings.postgres_lock_timeout_s
        return recorder

