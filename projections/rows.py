"""The vocabulary a view states its fold in: what one event does to the view's rows.

A view's handler writes to a `Rows`: insert a row (unless one with its key exists, or
replacing some of its columns), update a row by key (optionally only when some columns have
given values), update the rows with given values in a non-key column, delete a row. Values
may be expressions on the row or on another row of the view (`Lookup`).

Each view states its rules once, in this vocabulary, and two interpretations carry them out:
- `projections.sql_rows.SqlRows` turns them into SQL statements, for the live path (each
  batch of events in one transaction with its tracking record);
- `projections.memory_rows.MemoryRows` applies them to rows held in dictionaries, for the
  set-based rebuild, which then loads the folded rows in bulk.
Both interpretations are held to the same results by tests (tests/integration/
test_view_rows.py on both stores), and by the comparison of a rebuilt view with the view
kept current event by event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Param = str | int | None
Key = Any
"""A row's key: the value of its key column, or a tuple of the values of its key columns
(in their declared order); either may be a `Lookup`."""


class Expr:
    """A value computed when the change is applied (from this row or another row).
    Expressions are plain (not frozen) slotted classes: a rebuild makes one or more per
    event, and a frozen dataclass's constructor costs several times as much."""

    __slots__ = ()


@dataclass(slots=True)
class Lookup(Expr):
    """`column` of the view's row of `table` with key `key`, or `default` when there is no
    such row or the column is NULL (SQL: COALESCE((SELECT ...), default))."""

    table: str
    key: Key
    column: str
    default: Param = None


@dataclass(slots=True)
class Plus(Expr):
    """The updated column's own value plus `amount`."""

    amount: int


@dataclass(slots=True)
class Difference(Expr):
    """`value` minus the updated row's `column`."""

    value: int
    column: str


@dataclass(slots=True)
class AtLeast(Expr):
    """The updated column raised to `value`, unless it already is at least that (NULL is
    below everything)."""

    value: int


@dataclass(slots=True)
class WithWord(Expr):
    """A space-delimited list (" a b ") with `word` appended unless present."""

    word: str


@dataclass(slots=True)
class WithoutWord(Expr):
    """A space-delimited list (" a b ") with `word` taken out."""

    word: str


@dataclass(frozen=True, slots=True)
class OnConflict:
    """What an insert does to a row with the same key already there: nothing (the
    default), or take the new row's `update` columns, and its `kept` columns only when the
    old and new rows differ in column `unless_same` (else the old values stay)."""

    update: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    unless_same: str | None = None


IGNORE = OnConflict()
"""Insert unless a row with the key is there (INSERT ... ON CONFLICT DO NOTHING)."""


@dataclass(frozen=True)
class TableSchema:
    """A view table's columns and key, read off its definition."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def positions(self) -> dict[str, int]:
        return {column: index for index, column in enumerate(self.columns)}

    @property
    def key_positions(self) -> tuple[int, ...]:
        positions = self.positions
        return tuple(positions[column] for column in self.key)

    @staticmethod
    def parse(name: str, definition: str) -> TableSchema:
        parts = _top_level_parts(definition)
        columns: list[str] = []
        key: tuple[str, ...] = ()
        for part in parts:
            words = part.split()
            if words[0].upper() == "PRIMARY":
                inside = part[part.index("(") + 1:part.rindex(")")]
                key = tuple(column.strip() for column in inside.split(","))
            elif words[0].upper() not in _CONSTRAINTS:
                columns.append(words[0])
                if "PRIMARY KEY" in part.upper():
                    key = (words[0],)
        if not key:
            raise ValueError(f"view table {name} declares no primary key")
        return TableSchema(name, tuple(columns), key)


_CONSTRAINTS = ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT")


def _top_level_parts(definition: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in definition:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def without_key(definition: str) -> str:
    """A table definition without its primary key (for a table loaded in bulk first and
    given its key after, which builds the key's index at once)."""
    parts = [part for part in _top_level_parts(definition)
             if part.split()[0].upper() != "PRIMARY"]
    return ", ".join(_drop_words(part, "PRIMARY KEY") for part in parts)


def _drop_words(part: str, words: str) -> str:
    at = part.upper().find(words)
    return part if at < 0 else (part[:at] + part[at + len(words):]).strip()


def declared_columns(definition: str) -> list[str]:
    """The column names of a table definition (the part inside CREATE TABLE (...)),
    without its table constraints."""
    return [part.split()[0] for part in _top_level_parts(definition)
            if part.split()[0].upper() not in _CONSTRAINTS]


class Rows:
    """Where a handler writes what an event does to the view's rows (see the module)."""

    def __init__(self, schemas: Mapping[str, TableSchema]) -> None:
        self.schemas = schemas

    def insert(self, table: str, row: Sequence[Any], *, requires: tuple[str, Key] | None = None,
               on_conflict: OnConflict | None = IGNORE) -> None:
        """Insert `row` (values in the table's column order). With `requires` (table,
        key): only when that row exists. `on_conflict` None: a row with the same key is
        an error (the view's batch fails there)."""
        raise NotImplementedError

    def update(self, table: str, key: Key, values: Mapping[str, Any],
               when: Mapping[str, Param] | None = None) -> None:
        """Set `values` on the row with `key`, if there is one (and its `when` columns
        equal those values; NULL equals nothing)."""
        raise NotImplementedError

    def update_where(self, table: str, where: Mapping[str, Param],
                     values: Mapping[str, Any]) -> None:
        """Set `values` on every row whose `where` columns equal those values."""
        raise NotImplementedError

    def delete(self, table: str, key: Key) -> None:
        raise NotImplementedError

    def key_values(self, table: str, key: Key) -> tuple[Any, ...]:
        schema = self.schemas[table]
        values = key if len(schema.key) > 1 else (key,)
        if len(values) != len(schema.key):
            raise ValueError(f"{table} is keyed by {schema.key}, not {key!r}")
        return tuple(values)

    def check_not_key(self, table: str, columns: Mapping[str, Any]) -> None:
        """A row's key never changes (both interpretations index rows by it)."""
        touched = set(columns) & set(self.schemas[table].key)
        if touched:
            raise ValueError(f"an update may not change the key columns {touched} of {table}")
