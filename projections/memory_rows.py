"""The rebuild's reading of a view's rules: the changes applied to rows held in memory.

Each table is a dictionary from key to row (a list of the column values, in the table's
column order): the compact form a million-event rebuild folds into before the rows are
loaded in bulk. The semantics are those of the SQL that `projections.sql_rows` renders for
the same change (a missing row is left alone, NULL equals nothing, every expression of an
update sees the row as it was before the update); tests/integration/test_view_rows.py holds
the two readings to the same results on both stores.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from projections.rows import (
    IGNORE,
    AtLeast,
    Difference,
    Expr,
    Key,
    Lookup,
    OnConflict,
    Param,
    Plus,
    Rows,
    TableSchema,
    WithoutWord,
    WithWord,
)

_PLAIN = frozenset({str, int, float, bool, type(None)})
Emit = Callable[[list[Any]], None]


class DuplicateKeyError(ValueError):
    """An insert without conflict handling met a row with its key (SQL: a unique
    violation)."""


class MemoryTable:
    """One table's rows by key, with indexes on non-key columns built when first asked.
    An appended table (View.appended) passes each new row to `emit` and keeps only the
    keys it has seen."""

    __slots__ = ("columns", "emit", "indexes", "key_getter", "key_set", "positions", "rows",
                 "schema", "seen")

    def __init__(self, schema: TableSchema, emit: Emit | None = None) -> None:
        self.emit = emit
        self.seen: set[Any] = set()
        self.schema = schema
        self.positions = schema.positions
        self.columns = len(schema.columns)
        self.key_set = frozenset(schema.key)
        self.key_getter = operator.itemgetter(*schema.key_positions)
        """A row's key: its key column's value, or a tuple of its key columns' values."""
        self.rows: dict[Any, list[Any]] = {}
        self.indexes: dict[int, dict[Any, set[Any]]] = {}

    def index(self, column: str) -> dict[Any, set[Any]]:
        position = self.positions[column]
        found = self.indexes.get(position)
        if found is None:
            found = self.indexes[position] = {}
            for key, row in self.rows.items():
                found.setdefault(row[position], set()).add(key)
        return found

    def added(self, key: Any, row: list[Any]) -> None:
        for position, index in self.indexes.items():
            index.setdefault(row[position], set()).add(key)

    def removed(self, key: Any, row: list[Any]) -> None:
        for position, index in self.indexes.items():
            keys = index.get(row[position])
            if keys is not None:
                keys.discard(key)


class MemoryRows(Rows):
    """The view's tables in memory; `rows(table)` yields them for loading."""

    def __init__(self, schemas: Mapping[str, TableSchema],
                 appended: Mapping[str, Emit] | None = None) -> None:
        super().__init__(schemas)
        emits = appended or {}
        self.tables = {name: MemoryTable(schema, emits.get(name))
                       for name, schema in schemas.items()}
        self._held = _Held({name: table for name, table in self.tables.items()
                            if table.emit is None})
        """The tables whose rows are held: the only ones updates and lookups may touch."""
        self._shapes: dict[tuple[type, ...], tuple[int, ...]] = {}

    def rows(self, table: str) -> Iterator[list[Any]]:
        return iter(self.tables[table].rows.values())

    def count(self, table: str) -> int:
        return len(self.tables[table].rows)

    # -- the changes ---------------------------------------------------------------------
    # A million-event rebuild calls these a few million times: plain values (checked in C,
    # `_PLAIN.issuperset(map(type, ...))`) take the short way.

    def insert(self, table: str, row: Sequence[Any], *, requires: tuple[str, Key] | None = None,
               on_conflict: OnConflict | None = IGNORE) -> None:
        if requires is not None and self._row(*requires) is None:
            return
        target = self.tables[table]
        new = list(row)
        if not _PLAIN.issuperset(map(type, row)):
            for position in self._evaluated(row):
                value = new[position]
                new[position] = self._lookup(value) if type(value) is Lookup else _plain(value)
        if len(new) != target.columns:
            raise ValueError(f"{table} has {target.columns} columns, not {len(new)}")
        key = target.key_getter(new)
        if target.emit is not None:  # written as it comes: only its key is kept
            if key not in target.seen:
                target.seen.add(key)
                target.emit(new)
            elif on_conflict is None or on_conflict.update or on_conflict.kept:
                raise DuplicateKeyError(f"{table} already has a row with key {key!r}, and "
                                        "its rows are written as they come")
            return
        old = target.rows.get(key)
        if old is None:
            target.rows[key] = new
            if target.indexes:
                target.added(key, new)
            return
        if on_conflict is None:
            raise DuplicateKeyError(f"{table} already has a row with key {key!r}")
        if on_conflict.update or on_conflict.kept:
            self._merge(target, key, old, new, on_conflict)

    def update(self, table: str, key: Key, values: Mapping[str, Any],
               when: Mapping[str, Param] | None = None) -> None:
        target = self._held[table]
        if not target.key_set.isdisjoint(values):
            self.check_not_key(table, values)
        found = target.rows.get(self._key(key))
        if found is None:
            return
        if when:
            positions = target.positions
            for column, wanted in when.items():
                if wanted is None or found[positions[column]] != wanted:
                    return
        self._assign(target, found, values)

    def update_where(self, table: str, where: Mapping[str, Param],
                     values: Mapping[str, Any]) -> None:
        self.check_not_key(table, values)
        target = self._held[table]
        (first, wanted), *rest = where.items()
        if wanted is None:
            return
        for key in list(target.index(first).get(wanted, ())):
            found = target.rows[key]
            if all(value is not None and found[target.positions[column]] == value
                   for column, value in rest):
                self._assign(target, found, values)

    def delete(self, table: str, key: Key) -> None:
        target = self._held[table]
        resolved = self._key(key)
        found = target.rows.pop(resolved, None)
        if found is not None and target.indexes:
            target.removed(resolved, found)

    # -- evaluation ----------------------------------------------------------------------

    def _evaluated(self, row: Sequence[Any]) -> tuple[int, ...]:
        """The positions of a row's values that are not plain, found once per shape of row
        (the types of its values): a handler inserts rows of a few shapes only, the audit
        log one per event, each with a Lookup at the same place."""
        kinds = tuple(map(type, row))
        found = self._shapes.get(kinds)
        if found is None:
            found = self._shapes[kinds] = tuple(
                position for position, kind in enumerate(kinds) if kind not in _PLAIN)
        return found

    def _key(self, key: Key) -> Any:
        if type(key) is Lookup:
            return self._lookup(key)
        if type(key) is tuple:
            return tuple(self._lookup(v) if type(v) is Lookup else v for v in key)
        return key

    def _row(self, table: str, key: Key) -> list[Any] | None:
        return self._held[table].rows.get(self._key(key))

    def _lookup(self, lookup: Lookup) -> Any:
        target = self._held[lookup.table]
        key = lookup.key
        if type(key) is Lookup or type(key) is tuple:
            key = self._key(key)
        found = target.rows.get(key)
        if found is None:
            return lookup.default
        value = found[target.positions[lookup.column]]
        return lookup.default if value is None else value

    def _assign(self, target: MemoryTable, row: list[Any], values: Mapping[str, Any]) -> None:
        positions = target.positions
        indexed = bool(target.indexes) and any(
            positions[column] in target.indexes for column in values)
        if indexed:
            target.removed(target.key_getter(row), row)
        if _PLAIN.issuperset(map(type, values.values())):
            for column, value in values.items():
                row[positions[column]] = value
        else:  # every expression sees the row as it was before the update, as in SQL
            computed = [(positions[column],
                         self._assigned(row, positions, positions[column], value))
                        for column, value in values.items()]
            for position, value in computed:
                row[position] = value
        if indexed:
            target.added(target.key_getter(row), row)

    def _assigned(self, row: list[Any], positions: Mapping[str, int], position: int,
                  value: Any) -> Any:
        """The value an update's SET gives the column, from the row before the update."""
        current = row[position]
        kind = type(value)
        if kind is Plus:
            return None if current is None else current + value.amount
        if kind is Difference:
            other = row[positions[value.column]]
            return None if other is None else value.value - other
        if kind is AtLeast:
            return value.value if current is None or current < value.value else current
        if kind is WithWord:
            if current is None:
                return None
            return current if f" {value.word} " in current else current + f"{value.word} "
        if kind is WithoutWord:
            return None if current is None else current.replace(f" {value.word} ", " ")
        if kind is Lookup:
            return self._lookup(value)
        return _plain(value)

    def _merge(self, target: MemoryTable, key: Any, old: list[Any], new: list[Any],
               on_conflict: OnConflict) -> None:
        positions = target.positions
        merged = [(positions[column], new[positions[column]]) for column in on_conflict.update]
        if on_conflict.kept:
            same = positions[on_conflict.unless_same or ""]
            unchanged = old[same] is not None and old[same] == new[same]
            merged += [(positions[column], old[positions[column]] if unchanged
                        else new[positions[column]]) for column in on_conflict.kept]
        if target.indexes:
            target.removed(key, old)
        for position, value in merged:
            old[position] = value
        if target.indexes:
            target.added(key, old)


class _Held(dict[str, MemoryTable]):
    def __missing__(self, name: str) -> MemoryTable:
        raise ValueError(f"the rows of {name} are written as they come (View.appended): "
                         "they cannot be updated, deleted or looked up")


def _plain(value: Any) -> Any:
    if isinstance(value, Expr):
        raise ValueError(f"{type(value).__name__} is only meaningful in an update")
    return value
