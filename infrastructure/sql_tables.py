"""Plain tables beside the events (ingested trade data, risk results), for either database.

Bulk rows go through each database's bulk path: COPY on PostgreSQL, one executemany on
SQLite. Writers take the cursor of a transaction they do not own, so the rows commit
together with the events that record them (see postgres_recorder.WRITE_ALSO).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

COPY_CHUNK_ROWS = 100_000


class SqlTables:
    """Creating, writing and reading plain tables in the events database."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        if isinstance(recorder, PostgresApplicationRecorder):
            self.postgres = True
            self.schema: str | None = recorder.datastore.schema
        elif isinstance(recorder, SQLiteApplicationRecorder):
            self.postgres = False
            self.schema = None
        else:
            raise TypeError(f"no plain tables for {type(recorder).__name__}")
        self.recorder = recorder

    def name(self, table: str) -> str:
        return f'"{self.schema}"."{table}"' if self.schema else table

    def sql(self, statement: str) -> str:
        """Statements are written with ? placeholders and {table} names."""
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if isinstance(self.recorder, PostgresApplicationRecorder):
            with self.recorder.datastore.get_connection() as conn, conn.transaction(), \
                    conn.cursor(row_factory=tuple_row) as cursor:
                yield cursor
        else:
            assert isinstance(self.recorder, SQLiteApplicationRecorder)
            with self.recorder.datastore.transaction(commit=True) as cursor:
                yield cursor

    def create(self, ddl: Sequence[str]) -> None:
        """`ddl` uses {schema} before table names; concurrent creators take turns."""
        with self.transaction() as cursor:
            if self.postgres:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                               (f"{self.schema}/plain tables",))
            for statement in ddl:
                cursor.execute(statement.format(schema=f'"{self.schema}".' if self.schema
                                                else ""))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cursor:
            cursor.execute(self.sql(statement), tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    def read(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One SELECT in one round trip: on PostgreSQL outside a transaction (the pool's
        connections are in autocommit), for lookups on every request such as sessions;
        on SQLite in a read transaction that no writer blocks."""
        if isinstance(self.recorder, PostgresApplicationRecorder):
            with self.recorder.datastore.get_connection() as conn, \
                    conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(self.sql(statement), tuple(params))
                return [tuple(row) for row in cursor.fetchall()]
        # On SQLite, as a reader: a file in WAL mode lets readers go on while a writer
        # (a large import, say) holds the write lock, so a request checking its session
        # is not queued behind a load of a million rows.
        assert isinstance(self.recorder, SQLiteApplicationRecorder)
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    @property
    def events_table(self) -> str:
        """The application's events table (unqualified: `name` qualifies it)."""
        return str(self.recorder.events_table_name)

    def analyse(self, tables: Sequence[str]) -> None:
        """The planner's statistics of `tables` refreshed (PostgreSQL's ANALYZE, which
        samples some 30,000 rows whatever the size), after a bulk load: a table that grew
        by hundreds of thousands of rows since its last statistics is planned for as it
        was, and a join over it can take seconds instead of milliseconds. Autovacuum does
        this too, but a minute or more later (or never, where it is off). SQLite plans
        these reads without statistics: nothing to do."""
        if not self.postgres:
            return
        with self.transaction() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {self.name(table)}")

    def execute_in(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.sql(statement), tuple(params))

    def insert_in(self, cursor: Any, table: str, rows: pa.Table,
                  on_rows: Callable[[int], None] | None = None) -> None:
        """All `rows` into `table` (columns by name) inside the caller's transaction,
        in chunks so that `on_rows` can show progress."""
        columns = ", ".join(rows.column_names)
        marks = ", ".join("?" for _ in rows.column_names)
        insert = f"INSERT INTO {self.name(table)} ({columns}) VALUES ({marks})"
        copy_sql = f"COPY {self.name(table)} ({columns}) FROM STDIN (FORMAT csv)"
        for start in range(0, rows.num_rows, COPY_CHUNK_ROWS):
            chunk = rows.slice(start, COPY_CHUNK_ROWS)
            if self.postgres:
                buffer = io.BytesIO()
                pacsv.write_csv(chunk, buffer, pacsv.WriteOptions(include_header=False))
                with cursor.copy(copy_sql) as copy:
                    copy.write(buffer.getvalue())
            else:
                cursor.executemany(insert, zip(*(chunk[name].to_pylist()
                                                 for name in chunk.column_names), strict=True))
            if on_rows is not None:
                on_rows(chunk.num_rows)

    def arrow(self, statement: str, names: Sequence[str], params: Sequence[Any] = (),
              types: dict[str, pa.DataType] | None = None) -> pa.Table:
        """A query's result as columns (for vectorised analysis); `types` fixes the type of
        columns that may come back all null."""
        found = self.rows(statement, params)
        columns = list(zip(*found, strict=True)) if found else [() for _ in names]
        chosen = types or {}
        return pa.table({name: pa.array(list(values), chosen.get(name))
                         if values or name in chosen else pa.array([], pa.null())
                         for name, values in zip(names, columns, strict=True)})
