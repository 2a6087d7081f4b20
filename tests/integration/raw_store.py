"""Raw SQL on the real events table, bypassing the library: how a tamperer would edit it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from psycopg import sql

from infrastructure.settings import Settings
from infrastructure.stores import postgres_conninfo


class RawEvents:
    """Reads and rewrites rows (originator_id, originator_version, topic, state) of the
    application's events table in the test's SQLite file or PostgreSQL schema.

    The table is `stored_events` on SQLite; the library's PostgreSQL factory prefixes it
    with the application name (`compliancecases_events`), so the name is taken from the
    application's own recorder."""

    def __init__(self, settings: Settings, table: str) -> None:
        self.settings = settings
        self.table = table
        self.is_sqlite = settings.database_url is None

    @classmethod
    def of(cls, app: Application[UUID], settings: Settings) -> RawEvents:
        table = getattr(app.recorder, "events_table_name", None)
        assert isinstance(table, str), type(app.recorder)
        return cls(settings, table)

    def _key(self, originator_id: UUID) -> Any:
        # SQLite keeps UUIDs as 32 hex digits in a TEXT column; PostgreSQL as uuid.
        return originator_id.hex if self.is_sqlite else originator_id

    def _sql(self, statement: str) -> Any:
        if self.is_sqlite:
            return statement.replace("%s", "?").format(table=self.table)
        return sql.SQL(statement).format(
            table=sql.Identifier(self.settings.postgres_schema, self.table))

    def _cursor(self) -> AbstractContextManager[Any]:
        return self._sqlite_cursor() if self.is_sqlite else self._postgres_cursor()

    @contextmanager
    def _sqlite_cursor(self) -> Iterator[sqlite3.Cursor]:
        with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as conn, conn:
            yield conn.cursor()

    @contextmanager
    def _postgres_cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        with psycopg.connect(postgres_conninfo(self.settings)) as conn, \
                conn.cursor() as cursor:
            yield cursor

    def versions(self, originator_id: UUID) -> list[int]:
        with self._cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT originator_version FROM {table} WHERE originator_id = %s "
                "ORDER BY originator_version"), (self._key(originator_id),))
            return [int(row[0]) for row in cursor.fetchall()]

    def count(self) -> int:
        with self._cursor() as cursor:
            cursor.execute(self._sql("SELECT count(*) FROM {table}"))
            return int(cursor.fetchone()[0])

    def read(self, originator_id: UUID, version: int) -> tuple[str, bytes]:
        with self._cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT topic, state FROM {table} "
                "WHERE originator_id = %s AND originator_version = %s"),
                (self._key(originator_id), version))
            row = cursor.fetchone()
        assert row is not None, f"no stored event {originator_id} version {version}"
        return str(row[0]), bytes(row[1])

    def rewrite(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        with self._cursor() as cursor:
            cursor.execute(self._sql(
                "UPDATE {table} SET topic = %s, state = %s "
                "WHERE originator_id = %s AND originator_version = %s"),
                (topic, state, self._key(originator_id), version))
            assert cursor.rowcount == 1

    def insert(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        with self._cursor() as cursor:
            cursor.execute(self._sql(
                "INSERT INTO {table} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"), (self._key(originator_id), version, topic, state))

    def delete(self, originator_id: UUID, version: int) -> None:
        with self._cursor() as cursor:
            cursor.execute(self._sql(
                "DELETE FROM {table} WHERE originator_id = %s AND originator_version = %s"),
                (self._key(originator_id), version))
            assert cursor.rowcount == 1
