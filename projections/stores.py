"""Where views live: tables and a tracking record in the same database as the events.

One store class per database; both write a batch's rows and its tracking record in one
transaction. That transaction first locks the view's position and reads it, and applies
only the events after it: a second runner on the same view (another worker, the demo's
catch-up) that committed part of the batch meanwhile is never applied twice, and a batch
with nothing new rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteTrackingRecorder
from psycopg.rows import tuple_row

from projections.view import CODE_POINTS, Statement, View

REBUILD = "__rebuild"

Item = tuple[DomainEventProtocol[Any], int]


class _ProbeDoneError(Exception):
    """Rolls back a transaction that only looked for the failing event of a batch."""


class Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...
    def fetchall(self) -> Any: ...


class ViewStore:
    """The operations a runner and the queries need, whatever the database."""

    tracking: TrackingRecorder
    app_name: str

    def tracking_name(self, view: type[View], suffix: str = "") -> str:
        return f"{self.app_name}/{view.name}{suffix}"

    def position(self, view: type[View], suffix: str = "") -> int | None:
        return self.tracking.max_tracking_id(self.tracking_name(view, suffix))

    # -- dialect -----------------------------------------------------------------------

    def qualified(self, table: str) -> str:
        return table

    def placeholders(self, sql: str) -> str:
        return sql

    def index_columns(self, columns: str) -> str:
        """A view's index columns in this database's terms (see view.CODE_POINTS)."""
        return columns.replace(" " + CODE_POINTS, "")

    def render(self, sql: str, view: type[View], suffix: str = "") -> str:
        names = {name: self.qualified(name + suffix) for name in view.tables}
        return self.placeholders(sql.format(**names))

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        raise NotImplementedError
        yield  # pragma: no cover

    def insert_tracking_in(self, cursor: Cursor, tracking: Tracking) -> None:
        raise NotImplementedError

    def lock_position(self, cursor: Cursor, name: str) -> int | None:
        """Lock the tracking record `name` until the transaction ends (every writer of
        that view waits here) and return the position it holds."""
        raise NotImplementedError

    def lock_schema(self, cursor: Cursor) -> None:
        """Serialise creating, dropping and renaming view tables."""

    def _read_position(self, cursor: Cursor, name: str) -> int | None:
        cursor.execute(self.placeholders(
            f"SELECT notification_id FROM {self.tracking_table()} WHERE application_name = ?"),
            (name,))
        found = cursor.fetchall()
        return None if not found or found[0][0] is None else int(found[0][0])

    # -- schema ------------------------------------------------------------------------
    # Only initialise_store (compliance init/migrate/demo) creates the tracking table and
    # the views' tables; a rebuild creates, drops and renames its own shadow tables.

    def create_tracking(self) -> None:
        raise NotImplementedError

    def create(self, view: type[View], suffix: str = "") -> None:
        with self.transaction() as cursor:
            self.lock_schema(cursor)
            for name, columns in view.tables.items():
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.qualified(name + suffix)} ({columns})")
            for index, table, columns in view.indexes:
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {index}{suffix} ON "
                               f"{self.qualified(table + suffix)} "
                               f"({self.index_columns(columns)})")
            for index in view.retired_indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {self.qualified(index + suffix)}")

    def drop(self, view: type[View], suffix: str = "") -> None:
        with self.transaction() as cursor:
            self.lock_schema(cursor)
            self._drop(cursor, view, suffix)
            self._set_position(cursor, self.tracking_name(view, suffix), None)

    def _drop(self, cursor: Cursor, view: type[View], suffix: str) -> None:
        for name in view.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {self.qualified(name + suffix)}")

    def promote(self, view: type[View], suffix: str = REBUILD) -> bool:
        """The rebuilt tables take over from the live ones in one transaction, unless the
        live view has meanwhile applied events the rebuilt one has not: then nothing
        changes and the answer is False (catch the rebuilt view up and try again), as the
        live runner would never apply those events again."""
        with self.transaction() as cursor:
            live = self.lock_position(cursor, self.tracking_name(view))
            position = self._read_position(cursor, self.tracking_name(view, suffix))
            if live is not None and (position or 0) < live:
                return False
            self.lock_schema(cursor)
            self._drop(cursor, view, "")
            for name in view.tables:
                cursor.execute(f"ALTER TABLE {self.qualified(name + suffix)} RENAME TO {name}")
            for index, table, columns in view.indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {self.qualified(index + suffix)}")
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON "
                               f"{self.qualified(table)} ({self.index_columns(columns)})")
            self._set_position(cursor, self.tracking_name(view), position)
            self._set_position(cursor, self.tracking_name(view, suffix), None)
        return True

    def _set_position(self, cursor: Cursor, name: str, position: int | None) -> None:
        table = self.tracking_table()
        cursor.execute(self.placeholders(f"DELETE FROM {table} WHERE application_name = ?"),
                       (name,))
        if position is not None:
            cursor.execute(self.placeholders(f"INSERT INTO {table} VALUES (?, ?)"),
                           (name, position))

    def tracking_table(self) -> str:
        raise NotImplementedError

    # -- writing and reading -----------------------------------------------------------

    def apply(self, view: View, items: Sequence[Item], tracking: Tracking,
              suffix: str = "") -> int:
        """One transaction: every statement of every event in the batch after the view's
        position (read under its lock), then tracking. Returns how many events it
        applied; raises IntegrityError when the position is already at `tracking`."""
        name = self.tracking_name(type(view), suffix)
        with self.transaction() as cursor:
            current = self.lock_position(cursor, name)
            if current is not None and tracking.notification_id <= current:
                raise IntegrityError(f"view position {tracking.notification_id} of {name} "
                                     f"was already recorded (at {current})")
            fresh = [(e, n) for e, n in items if current is None or n > current]
            pending: list[Statement] = []
            for event, notification_id in fresh:
                pending.extend(view.statements(event, notification_id))
            self._execute_grouped(cursor, type(view), pending, suffix)
            self.insert_tracking_in(cursor, Tracking(name, tracking.notification_id))
        return len(fresh)

    def first_failing(self, view: View, items: Sequence[Item], suffix: str = "") -> int | None:
        """The notification id of the first event of a failed batch that the database (or
        the view) refuses, or None if every event goes through (the batch failed for
        another reason). Replays the batch's statements event by event, in order, in one
        transaction that is always rolled back: a batch goes to the database as one
        pipeline, so its error does not say which event caused it."""
        failing: list[int] = []
        with contextlib.suppress(_ProbeDoneError), self.transaction() as cursor:
            for event, notification_id in items:
                try:
                    self._execute_grouped(cursor, type(view),
                                          view.statements(event, notification_id), suffix)
                except Exception:
                    failing.append(notification_id)
                    break
            raise _ProbeDoneError
        return failing[0] if failing else None

    def _execute_grouped(self, cursor: Cursor, view: type[View],
                         statements: Sequence[Statement], suffix: str) -> None:
        """Consecutive statements with the same SQL go as one executemany."""
        index = 0
        while index < len(statements):
            sql = statements[index].sql
            end = index
            while end < len(statements) and statements[end].sql == sql:
                end += 1
            rendered = self.render(sql, view, suffix)
            if end - index == 1:
                cursor.execute(rendered, statements[index].params)
            else:
                cursor.executemany(rendered,  # type: ignore[attr-defined]
                                   [s.params for s in statements[index:end]])
            index = end

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cursor:
            cursor.execute(self.placeholders(sql), tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    def columns(self, table: str) -> list[str]:
        """The columns `table` has in the database ([] when it does not exist)."""
        raise NotImplementedError

    def outdated(self, view: type[View]) -> bool:
        """True when a table of the view exists with other columns than the view declares
        (the view's definition changed since it was created): its rows cannot be read as
        this version reads them, so migrate drops it and it is rebuilt from the log."""
        for name, definition in view.tables.items():
            found = self.columns(name)
            if found and sorted(found) != sorted(declared_columns(definition)):
                return True
        return False

    def dump(self, view: type[View]) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the view, sorted, as text: two dumps compare equal
        exactly when the views hold the same data."""
        result = {}
        for name in view.tables:
            found = self.rows(f"SELECT * FROM {self.qualified(name)}")
            result[name] = sorted(tuple("" if v is None else str(v) for v in row)
                                  for row in found)
        return result


def declared_columns(definition: str) -> list[str]:
    """The column names of a table definition (the part inside CREATE TABLE (...)),
    without its table constraints."""
    parts, depth, current = [], 0, ""
    for char in definition:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    constraints = ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT")
    names = [part.split()[0] for part in parts if part.strip()]
    return [name for name in names if name.upper() not in constraints]


class SQLiteViewStore(ViewStore):
    def __init__(self, recorder: SQLiteApplicationRecorder, app_name: str) -> None:
        self.datastore = recorder.datastore
        self.tracking = SQLiteTrackingRecorder(self.datastore)
        self.app_name = app_name

    def columns(self, table: str) -> list[str]:
        return [str(row[1]) for row in self.rows(f"PRAGMA table_info({table})")]

    def create_tracking(self) -> None:
        assert isinstance(self.tracking, SQLiteTrackingRecorder)
        self.tracking.create_table()

    def tracking_table(self) -> str:
        return "tracking"

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def insert_tracking_in(self, cursor: Cursor, tracking: Tracking) -> None:
        assert isinstance(self.tracking, SQLiteTrackingRecorder)
        self.tracking._insert_tracking(cursor, tracking)  # type: ignore[arg-type]

    def lock_position(self, cursor: Cursor, name: str) -> int | None:
        # A write as the transaction's first statement takes the database's write lock
        # (held to the end), so the position read next cannot change before commit.
        cursor.execute("UPDATE tracking SET notification_id = notification_id "
                       "WHERE application_name = ?", (name,))
        return self._read_position(cursor, name)


class PostgresViewStore(ViewStore):
    def __init__(self, recorder: PostgresApplicationRecorder, app_name: str) -> None:
        self.datastore = recorder.datastore
        self.schema = self.datastore.schema
        self.tracking = PostgresTrackingRecorder(
            self.datastore, tracking_table_name="view_tracking")
        self.app_name = app_name

    def create_tracking(self) -> None:
        assert isinstance(self.tracking, PostgresTrackingRecorder)
        self.tracking.create_table()

    def qualified(self, table: str) -> str:
        return f'"{self.schema}"."{table}"'

    def columns(self, table: str) -> list[str]:
        return [str(row[0]) for row in self.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ?", (self.schema, table))]

    def placeholders(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def index_columns(self, columns: str) -> str:
        return columns.replace(CODE_POINTS, 'COLLATE "C"')

    def tracking_table(self) -> str:
        return self.qualified("view_tracking")

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as cursor:
            yield cursor

    def _execute_grouped(self, cursor: Cursor, view: type[View],
                         statements: Sequence[Statement], suffix: str) -> None:
        """The whole batch in one pipeline: the statements run in the same order and the
        same transaction, but without a round trip per group of statements (a view whose
        events alternate between statements would otherwise wait for the server once per
        event). A failing statement raises when the pipeline syncs, before the tracking
        record is written, and the transaction rolls back as before."""
        with cursor.connection.pipeline():  # type: ignore[attr-defined]
            super()._execute_grouped(cursor, view, statements, suffix)

    def lock_position(self, cursor: Cursor, name: str) -> int | None:
        # A transaction-scoped advisory lock: it also covers a view with no tracking
        # record yet, which a row lock could not.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       (f"{self.schema}.{name}",))
        return self._read_position(cursor, name)

    def lock_schema(self, cursor: Cursor) -> None:
        # Concurrent CREATE TABLE IF NOT EXISTS of one name can fail in PostgreSQL
        # (duplicate key in pg_type) when two workers start at once.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       (f"{self.schema}/view tables",))

    def insert_tracking_in(self, cursor: Cursor, tracking: Tracking) -> None:
        cursor.execute(self.placeholders(
            f"INSERT INTO {self.tracking_table()} VALUES (?, ?) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = "
            "excluded.notification_id WHERE "
            f"{self.tracking_table()}.notification_id < excluded.notification_id "
            "RETURNING notification_id"), (tracking.application_name,
                                          tracking.notification_id))
        if cursor.fetchall() == []:
            raise IntegrityError(f"view position {tracking.notification_id} of "
                                 f"{tracking.application_name} was already recorded")


def view_store(recorder: ApplicationRecorder, app_name: str) -> ViewStore:
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresViewStore(recorder, app_name)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteViewStore(recorder, app_name)
    raise TypeError(f"no view store for {type(recorder).__name__}")
