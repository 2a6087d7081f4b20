"""The raw-SQL baselines: what psycopg alone does with the same statement or file, on one
autocommit connection, timed around the database work only. A benchmark's baseline is
built from these so that every 'raw' figure in the reports means the same thing."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.common import pg_connect


def raw_select(url: str, statement: sql.Composed) -> tuple[float, int]:
    """The statement on one connection, every row fetched as a Python tuple: (seconds,
    rows)."""
    with pg_connect(url) as conn:
        start = time.perf_counter()
        rows = conn.execute(statement).fetchall()
        return time.perf_counter() - start, len(rows)


def server_ms(url: str, statement: sql.Composed) -> float:
    """The statement's execution time inside PostgreSQL (EXPLAIN ANALYZE, no per-node
    timing), i.e. without sending the rows."""
    with pg_connect(url) as conn:
        row = conn.execute(sql.SQL("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ")
                           + statement).fetchone()
    assert row is not None
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return float(plan[0]["Execution Time"])


def execute(url: str, *statements: sql.Composed) -> None:
    """Untimed set-up or clean-up statements, in order, each committed."""
    with pg_connect(url) as conn:
        for statement in statements:
            conn.execute(statement)


def scalar(url: str, statement: sql.Composed, params: Sequence[Any] = ()) -> Any:
    """The first column of the statement's one row: a count that checks a run's outcome."""
    with pg_connect(url) as conn:
        # No parameters: None, so that a literal holding '%' is not read as a placeholder.
        row = conn.execute(statement, tuple(params) or None).fetchone()
    assert row is not None
    return row[0]


def copy_file(url: str, table: sql.Composable, names: Sequence[str], path: Path) -> float:
    """Raw COPY ... FROM STDIN (FORMAT csv, HEADER true), streaming the file's bytes, in one
    transaction: the seconds it took."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
        table, sql.SQL(", ").join(sql.Identifier(name) for name in names))
    with pg_connect(url) as conn:
        start = time.perf_counter()
        with (conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy,
              path.open("rb") as stream):
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                copy.write(chunk)
        return time.perf_counter() - start


def copy_out(url: str, table: sql.Composable, names: Sequence[str], order_by: str,
             path: Path) -> int:
    """The table's rows as CSV with a header, in `order_by` order (not timed): the file a
    raw COPY baseline then loads. Returns its size in bytes."""
    statement = sql.SQL("COPY (SELECT {} FROM {} ORDER BY {}) TO STDOUT "
                        "(FORMAT csv, HEADER true)").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in names), table,
        sql.Identifier(order_by))
    size = 0
    with pg_connect(url) as conn, conn.cursor() as cursor, cursor.copy(statement) as copy, \
            path.open("wb") as stream:
        for chunk in copy:
            stream.write(chunk)
            size += len(chunk)
    return size
