"""The live path's reading of a view's rules: each change becomes one SQL statement.

Statements use the views' small dialect, which both SQLite and PostgreSQL accept: `?`
placeholders and `{table}` names (the store renders both), INSERT ... ON CONFLICT, scalar
subqueries for lookups. Statements without expressions are built once per shape and
cached, so consecutive events of one kind produce identical SQL, which the store sends as
one executemany.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Param, ...] = ()


_PLAIN = frozenset({str, int, float, bool, type(None)})


class SqlRows(Rows):
    """Collects the statements of the changes handlers make (see projections.rows)."""

    _cache: dict[tuple[Any, ...], str] = {}

    def __init__(self, schemas: Mapping[str, TableSchema]) -> None:
        super().__init__(schemas)
        self.statements: list[Statement] = []

    def insert(self, table: str, row: Sequence[Any], *, requires: tuple[str, Key] | None = None,
               on_conflict: OnConflict | None = IGNORE) -> None:
        schema = self.schemas[table]
        if len(row) != len(schema.columns):
            raise ValueError(f"{table} has {len(schema.columns)} columns, not {len(row)}")
        shape: tuple[Any, ...]
        if requires is None and _PLAIN.issuperset(map(type, row)):
            shape = ("insert", table, on_conflict)
            sql = self._cache.get(shape)
            if sql is None:
                sql = self._cache[shape] = self._render_insert(schema, row, None, on_conflict,
                                                               [])
            self.statements.append(Statement(sql, tuple(row)))
            return
        # With lookups the statement's text depends on them: cached by that shape, so a
        # long catch-up renders each shape once and then only collects the parameters.
        kinds = tuple(map(type, row))  # (which values are NULL, which are lookups)
        lookups = [self._shape(v) for v in row if type(v) is Lookup] if Lookup in kinds else []
        shape = ("insert", table, on_conflict, kinds, tuple(lookups),
                 None if requires is None else (requires[0], self._key_shape(*requires)))
        params: list[Param] = []
        sql = self._cache.get(shape)
        if sql is None:
            sql = self._cache[shape] = self._render_insert(schema, row, requires, on_conflict,
                                                           params)
        else:
            for value in row:
                if type(value) is Lookup:
                    self._collect(value, params)
                elif not (requires is not None and value is None):
                    params.append(value)
            for value in self.key_values(*requires) if requires is not None else ():
                self._collect(value, params)
        self.statements.append(Statement(sql, tuple(params)))

    def _render_insert(self, schema: TableSchema, row: Sequence[Any],
                       requires: tuple[str, Key] | None, on_conflict: OnConflict | None,
                       params: list[Param]) -> str:
        columns, table = ", ".join(schema.columns), schema.name
        if requires is None:
            values = ", ".join(self._value(value, params) for value in row)
            return (f"INSERT INTO {{{table}}} ({columns}) VALUES ({values})"
                    + _conflict_clause(schema, on_conflict))
        # A SELECT's NULL parameters would be typed text on PostgreSQL; a NULL literal
        # takes the column's type, as in VALUES.
        values = ", ".join("NULL" if value is None else self._value(value, params)
                           for value in row)
        source, key = requires
        return (f"INSERT INTO {{{table}}} ({columns}) SELECT {values} WHERE EXISTS "
                f"(SELECT 1 FROM {{{source}}} WHERE "
                f"{self._key_condition(source, key, params)})"
                + _conflict_clause(schema, on_conflict))

    def _shape(self, value: Any) -> Any:
        """What of a key value or lookup the statement's text depends on: nothing for a
        plain value; a lookup's table, column, default and key."""
        if type(value) in _PLAIN:
            return None
        if type(value) is Lookup:
            return (value.table, value.column, value.default is None,
                    self._key_shape(value.table, value.key))
        raise ValueError(f"{type(value).__name__} is only meaningful in an update")

    def _key_shape(self, table: str, key: Key) -> tuple[Any, ...]:
        return tuple(self._shape(value) for value in self.key_values(table, key))

    def _collect(self, value: Any, params: list[Param]) -> None:
        """The parameters `_value` renders for a key value or lookup, in its order."""
        if type(value) is Lookup:
            for part in self.key_values(value.table, value.key):
                self._collect(part, params)
            if value.default is not None:
                params.append(value.default)
        else:
            params.append(value)

    def update(self, table: str, key: Key, values: Mapping[str, Any],
               when: Mapping[str, Param] | None = None) -> None:
        self.check_not_key(table, values)
        plain_key = self._plain_key(table, key)
        if plain_key is not None and _PLAIN.issuperset(map(type, values.values())):
            shape = ("update", table, tuple(values), tuple(when or ()))
            sql = self._cache.get(shape)
            if sql is None:
                sql = self._cache[shape] = self._update_sql(table, key, values, when, [])
            self.statements.append(Statement(
                sql, (*values.values(), *plain_key, *(when or {}).values())))
            return
        params: list[Param] = []
        sql = self._update_sql(table, key, values, when, params)
        self.statements.append(Statement(sql, tuple(params)))

    def _update_sql(self, table: str, key: Key, values: Mapping[str, Any],
                    when: Mapping[str, Param] | None, params: list[Param]) -> str:
        assignments = self._assignments(values, params)
        condition = self._key_condition(table, key, params)
        for column, value in (when or {}).items():
            condition += f" AND {column} = ?"
            params.append(value)
        return f"UPDATE {{{table}}} SET {assignments} WHERE {condition}"

    def update_where(self, table: str, where: Mapping[str, Param],
                     values: Mapping[str, Any]) -> None:
        self.check_not_key(table, values)
        params: list[Param] = []
        assignments = self._assignments(values, params)
        condition = " AND ".join(f"{column} = ?" for column in where)
        params.extend(where.values())
        self.statements.append(Statement(
            f"UPDATE {{{table}}} SET {assignments} WHERE {condition}", tuple(params)))

    def delete(self, table: str, key: Key) -> None:
        params: list[Param] = []
        condition = self._key_condition(table, key, params)
        self.statements.append(Statement(f"DELETE FROM {{{table}}} WHERE {condition}",
                                         tuple(params)))

    def _plain_key(self, table: str, key: Key) -> tuple[Any, ...] | None:
        """The key's values when none is an expression (the statement's shape is then
        fixed, and cached), else None."""
        values = self.key_values(table, key)
        return values if _PLAIN.issuperset(map(type, values)) else None

    # -- rendering -----------------------------------------------------------------------

    def _key_condition(self, table: str, key: Key, params: list[Param]) -> str:
        columns = self.schemas[table].key
        values = self.key_values(table, key)
        return " AND ".join(f"{column} = {self._value(value, params)}"
                            for column, value in zip(columns, values, strict=True))

    def _value(self, value: Any, params: list[Param]) -> str:
        if not isinstance(value, Expr):
            params.append(value)
            return "?"
        if isinstance(value, Lookup):
            condition = self._key_condition(value.table, value.key, params)
            select = f"(SELECT {value.column} FROM {{{value.table}}} WHERE {condition})"
            if value.default is None:
                return select
            params.append(value.default)
            return f"COALESCE({select}, ?)"
        raise ValueError(f"{type(value).__name__} is only meaningful in an update")

    def _assignments(self, values: Mapping[str, Any], params: list[Param]) -> str:
        return ", ".join(f"{column} = {self._assigned(column, value, params)}"
                         for column, value in values.items())

    def _assigned(self, column: str, value: Any, params: list[Param]) -> str:
        if isinstance(value, Plus):
            params.append(value.amount)
            return f"{column} + ?"
        if isinstance(value, Difference):
            params.append(value.value)
            return f"? - {value.column}"
        if isinstance(value, AtLeast):
            params.extend((value.value, value.value))
            return f"CASE WHEN {column} IS NULL OR {column} < ? THEN ? ELSE {column} END"
        if isinstance(value, WithWord):
            params.extend((f"% {value.word} %", f"{value.word} "))
            return f"CASE WHEN {column} LIKE ? THEN {column} ELSE {column} || ? END"
        if isinstance(value, WithoutWord):
            params.append(f" {value.word} ")
            return f"REPLACE({column}, ?, ' ')"
        return self._value(value, params)


def _conflict_clause(schema: TableSchema, on_conflict: OnConflict | None) -> str:
    if on_conflict is None:
        return ""
    target = f" ON CONFLICT ({', '.join(schema.key)})"
    if not on_conflict.update and not on_conflict.kept:
        return target + " DO NOTHING"
    table = f"{{{schema.name}}}"
    sets = [f"{column} = excluded.{column}" for column in on_conflict.update]
    same = on_conflict.unless_same
    sets += [f"{column} = CASE WHEN {table}.{same} = excluded.{same} THEN {table}.{column} "
             f"ELSE excluded.{column} END" for column in on_conflict.kept]
    return target + " DO UPDATE SET " + ", ".join(sets)
