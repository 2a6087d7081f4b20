"""Where views live: tables and a tracking record in the same database as the events.

One store class per database; both write a batch's rows and its tracking record in one
transaction. That transaction first locks the view's position and reads it, and applies
only the events after it: a second runner on the same view (another worker, the demo's
catch-up) that committed part of the batch meanwhile is never applied twice, and a batch
with nothing new rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from projections.rows import declared_columns, without_key
from projections.view import CODE_POINTS, Statement, View

REBUILD = "__rebuild"
LOAD_CHUNK = 20_000
"""Rows per transaction when a rebuild loads a SQLite table."""
INDEX_BUILD_MEMORY = "256MB"
"""PostgreSQL's maintenance_work_mem while a rebuild builds a view's indexes."""

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

    def collated(self, columns: str) -> str:
        """A view's column definitions or index columns in this database's terms: each
        view.CODE_POINTS mark made the collation that orders text by code point (none
        here: SQLite's default collation already does)."""
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

    def create(self, view: type[View], suffix: str = "", indexes: bool = True,
               deferred_keys: Collection[str] = ()) -> None:
        """The view's tables (and, unless `indexes` is False, its indexes); the tables in
        `deferred_keys` without their primary key, which `add_key` adds once their rows
        are loaded."""
        with self.transaction() as cursor:
            self.lock_schema(cursor)
            for name, columns in view.tables.items():
                definition = without_key(columns) if name in deferred_keys else columns
                cursor.execute(f"CREATE TABLE IF NOT EXISTS "
                               f"{self.qualified(name + suffix)} ({self.collated(definition)})")
            if indexes:
                self._create_indexes(cursor, view, suffix)
            for index in view.retired_indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {self.qualified(index + suffix)}")

    keys_after_load = False
    """Whether a rebuild's bulk-loaded tables get their primary key after the load."""

    def add_key(self, view: type[View], table: str, suffix: str = REBUILD) -> None:
        with self.transaction() as cursor:
            cursor.execute(f"ALTER TABLE {self.qualified(table + suffix)} ADD PRIMARY KEY "
                           f"({', '.join(view.schemas[table].key)})")

    def create_indexes(self, view: type[View], suffix: str = "") -> None:
        with self.transaction() as cursor:
            self.lock_schema(cursor)
            self._create_indexes(cursor, view, suffix)

    def create_index(self, index: tuple[str, str, str], suffix: str = REBUILD) -> None:
        """One secondary index of a rebuild's table, built once its rows are loaded
        (faster than maintaining it row by row); a rebuild builds several at once."""
        with self.transaction() as cursor:
            self._create_index(cursor, index, suffix)

    def _create_indexes(self, cursor: Cursor, view: type[View], suffix: str) -> None:
        for index in view.indexes:
            self._create_index(cursor, index, suffix)

    def _create_index(self, cursor: Cursor, index: tuple[str, str, str], suffix: str) -> None:
        name, table, columns = index
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}{suffix} ON "
                       f"{self.qualified(table + suffix)} ({self.collated(columns)})")

    rebuild_speedup = 2
    """How many times faster per event of the log a set-based rebuild of every view goes
    than the live path catching every view up (a lower bound: on a SQLite file, measured
    2.4x over 300,000 events and 6.5x over 1,000,000): a catch-up rebuilds a view behind by
    more than 1/rebuild_speedup of the log (Projections.far_behind)."""

    bulk_connections = 1
    """How many bulk loads or index builds a rebuild runs at once on this database."""

    def writer(self, view: type[View], table: str, suffix: str = REBUILD,
               ) -> AbstractContextManager[Callable[[Sequence[Any]], None]]:
        """A function that appends a row (values in the table's column order) to a table
        of the view, in bulk; the rows are in once the block ends. Only for a rebuild's
        own tables, which nothing else writes."""
        raise NotImplementedError

    def load(self, view: type[View], table: str, rows: Iterable[Sequence[Any]],
             suffix: str = REBUILD) -> int:
        """Append `rows` to a table of the view in bulk (see `writer`); returns how many."""
        count = 0
        with self.writer(view, table, suffix) as write:
            for row in rows:
                write(row)
                count += 1
        return count

    def set_position(self, view: type[View], position: int | None, suffix: str = "") -> None:
        with self.transaction() as cursor:
            self._set_position(cursor, self.tracking_name(view, suffix), position)

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
            self._take_over_indexes(cursor, view, suffix)
            self._set_position(cursor, self.tracking_name(view), position)
            self._set_position(cursor, self.tracking_name(view, suffix), None)
        return True

    def _take_over_indexes(self, cursor: Cursor, view: type[View], suffix: str) -> None:
        """The renamed tables' indexes under the live names (SQLite cannot rename an
        index: it builds them again)."""
        for index, table, columns in view.indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {self.qualified(index + suffix)}")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON "
                           f"{self.qualified(table)} ({self.collated(columns)})")

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


from projections.store_dialects import PostgresViewStore, SQLiteViewStore  # noqa: E402

__all__ = ["REBUILD", "Cursor", "Item", "PostgresViewStore", "SQLiteViewStore", "ViewStore",
           "view_store"]


def view_store(recorder: ApplicationRecorder, app_name: str) -> ViewStore:
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresViewStore(recorder, app_name)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteViewStore(recorder, app_name)
    raise TypeError(f"no view store for {type(recorder).__name__}")
