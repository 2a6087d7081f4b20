"""The analyst's dashboard figures, stored beside the events (`compliance_analyst_figures`):
the picture of a scope (national, or some districts) and each of its charts, as computed
for one analysis marker (the log position of the latest bulk run, and the ledger's day).

Why stored rather than kept in each process: the figures cost a second or more to compute
at national scale and every server worker, the scheduler and a command would otherwise
compute the same ones again. Stored, they are computed once (when a bulk run ends, by the
process that ran it, or by the first reader), and every process reads the same row.

Once, across processes, without holding a connection while computing: a reader that finds
no row *claims* one (an empty row, by an insert that only one process can win), computes,
then fills it in; the others poll the row until it is filled. A claim left by a process
that died is taken over after CLAIM_LEASE seconds; one whose computation failed is
dropped at once. Rows of older markers are pruned when a newer one is stored.

Also here, because they read tables in bulk with SQL that no other module needs: where the
latest bulk run is in the log (its notification id), and every scored importer's annual
value and tier as two arrays (no row per importer in Python)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from infrastructure.sql_tables import SqlTables

__all__ = ["CLAIM_LEASE", "FIGURES_TABLE", "FigureKey", "FigureStore", "figures_ddl",
           "latest_position_of", "value_arrays"]

FIGURES_TABLE = "compliance_analyst_figures"
CLAIM_LEASE = 60.0
"""Seconds after which a claim nobody filled in is taken over (its process died)."""
POLL_SECONDS = 0.02
"""How often a reader waiting for another process's figure looks again."""
PICTURE = "picture"
"""The figure name of the picture itself (charts are named after the chart)."""


def figures_ddl(postgres: bool) -> list[str]:
    blob = "BYTEA" if postgres else "BLOB"
    real = "DOUBLE PRECISION" if postgres else "REAL"
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{FIGURES_TABLE} ("
            "scope TEXT NOT NULL, position BIGINT NOT NULL, day TEXT NOT NULL, "
            f"name TEXT NOT NULL, content {blob}, claimed_at {real} NOT NULL, "
            "asked_on TEXT, PRIMARY KEY (scope, position, day, name))"]


@dataclass(frozen=True)
class FigureKey:
    """Which figures: a scope ('national', or districts joined by commas) at an analysis
    marker (the latest bulk run's log position and the ledger's day)."""

    scope: str
    position: int
    day: date

    @property
    def params(self) -> tuple[str, int, str]:
        return self.scope, self.position, self.day.isoformat()


_WHERE = "scope = ? AND position = ? AND day = ? AND name = ?"


class FigureStore:
    def __init__(self, tables: SqlTables, wall_clock: Callable[[], float] = time.time, *,
                 version: str = "") -> None:
        self.tables = tables
        self.table = tables.name(FIGURES_TABLE)
        self.wall_clock = wall_clock
        """Seconds, for claims' leases only (never a figure's content)."""
        self.version = version
        """The drawing code's version, stored with each name: a deployment that draws
        differently never serves the figures an older one stored."""

    def _stored(self, name: str) -> str:
        return f"{name}@{self.version}" if self.version else name

    def get(self, key: FigureKey, name: str) -> bytes | None:
        found = self.tables.read(f"SELECT content FROM {self.table} WHERE {_WHERE} "
                                 "AND content IS NOT NULL", (*key.params, self._stored(name)))
        return bytes(found[0][0]) if found else None

    def get_or_compute(self, key: FigureKey, name: str, compute: Callable[[], bytes],
                       on_stored: Callable[[], None] | None = None) -> bytes:
        """The stored figure, else computed once whichever process asks first (the others
        wait for its row); `on_stored` runs after this process stored one."""
        while True:
            found = self.get(key, name)
            if found is not None:
                return found
            if self.claim(key, name):
                try:
                    content = compute()
                except BaseException:
                    self.release(key, name)
                    raise
                self.put(key, {name: content})
                if on_stored is not None:
                    on_stored()
                return content
            time.sleep(POLL_SECONDS)

    def claim(self, key: FigureKey, name: str) -> bool:
        """Whether this process is now the one to compute the figure: no row yet, or a
        claim older than the lease."""
        now = self.wall_clock()
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"INSERT INTO {self.table} (scope, position, day, name, content, "
                "claimed_at) VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING",
                (*key.params, self._stored(name), now))
            if _rowcount(cursor):
                return True
            self.tables.execute_in(
                cursor, f"UPDATE {self.table} SET claimed_at = ? WHERE {_WHERE} "
                "AND content IS NULL AND claimed_at < ?",
                (now, *key.params, self._stored(name), now - CLAIM_LEASE))
            return bool(_rowcount(cursor))

    def claim_all(self, key: FigureKey, names: Sequence[str]) -> list[str]:
        """The names this process claimed (those nobody stored or is computing)."""
        return [name for name in names if self.claim(key, name)]

    def release(self, key: FigureKey, name: str) -> None:
        """Drop an unfilled claim (its computation failed): the next reader tries again."""
        with self.tables.transaction() as cursor:
            self.tables.execute_in(cursor, f"DELETE FROM {self.table} WHERE {_WHERE} AND "
                                   "content IS NULL", (*key.params, self._stored(name)))

    def put(self, key: FigureKey, figures: dict[str, bytes], asked_on: date | None = None,
            ) -> None:
        """Store `figures` (name -> content) of `key`, and prune the scope's rows of older
        markers. `asked_on` (pictures only): when a reader last asked for the scope."""
        now = self.wall_clock()
        asked = asked_on.isoformat() if asked_on else None
        with self.tables.transaction() as cursor:
            for name, content in figures.items():
                self.tables.execute_in(
                    cursor, f"INSERT INTO {self.table} (scope, position, day, name, content, "
                    "claimed_at, asked_on) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (scope, position, day, name) DO UPDATE SET "
                    "content = excluded.content, asked_on = "
                    f"COALESCE(excluded.asked_on, {self.table}.asked_on)",
                    (*key.params, self._stored(name), content, now,
                     asked if name == PICTURE else None))
        with self.tables.transaction() as cursor:  # apart: no lock held across both
            self.tables.execute_in(
                cursor, f"DELETE FROM {self.table} WHERE scope = ? AND (position < ? OR "
                "day < ?)", (key.scope, key.position, key.day.isoformat()))

    def mark_asked(self, key: FigureKey) -> None:
        """A reader asked for the scope's picture today: the next bulk run keeps it ready
        (see in_use). One write per scope and day, not one per request."""
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self.table} SET asked_on = ? WHERE {_WHERE} AND "
                "(asked_on IS NULL OR asked_on < ?)",
                (key.day.isoformat(), *key.params, self._stored(PICTURE), key.day.isoformat()))

    def asked_on(self, key: FigureKey) -> date | None:
        found = self.tables.read(f"SELECT asked_on FROM {self.table} WHERE {_WHERE}",
                                 (*key.params, self._stored(PICTURE)))
        return date.fromisoformat(found[0][0]) if found and found[0][0] else None

    def in_use(self, today: date, days: int, limit: int) -> list[tuple[str, date]]:
        """Scopes whose picture a reader asked for in the last `days` days, the most
        recent first (at most `limit`), with the day each was last asked for."""
        since = (today - timedelta(days=days)).isoformat()
        return [(str(scope), date.fromisoformat(str(asked))) for scope, asked in
                self.tables.read(f"SELECT scope, MAX(asked_on) FROM {self.table} "
                                 "WHERE name = ? AND asked_on >= ? GROUP BY scope "
                                 "ORDER BY MAX(asked_on) DESC, scope LIMIT ?",
                                 (self._stored(PICTURE), since, int(limit)))]


def _rowcount(cursor: Any) -> int:
    return int(getattr(cursor, "sqlite_cursor", cursor).rowcount or 0)


def latest_position_of(recorder: ApplicationRecorder, topics: Sequence[str], after: int,
                       upto: int) -> int | None:
    """The notification id of the last event of one of `topics` in (after, upto]: read
    backwards from `upto` on the notification index, so it stops at the first one found
    (a bulk run is rarely far behind the head), and a range of a few events since the
    last look costs a few index entries."""
    tables = SqlTables(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        events, column = tables.name(recorder.events_table_name), "notification_id"
    else:
        assert isinstance(recorder, SQLiteApplicationRecorder)  # SqlTables checked it
        events, column = recorder.events_table_name, "rowid"
    marks = ", ".join("?" for _ in topics)
    found = tables.read(f"SELECT {column} FROM {events} WHERE {column} > ? AND {column} <= ? "
                        f"AND topic IN ({marks}) ORDER BY {column} DESC LIMIT 1",
                        (int(after), int(upto), *topics))
    return int(found[0][0]) if found else None


Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def value_arrays(tables: SqlTables, districts: Collection[str] | None) -> tuple[Floats, Ints]:
    """(annual value, tier) of every scored importer (of `districts`; None: all) as two
    arrays in no particular order. On PostgreSQL both columns come back as two binary
    arrays in one row, not a row per importer."""
    table = tables.name("risk_scores")
    chosen = None if districts is None else sorted(districts)
    if chosen is not None and not chosen:
        return np.zeros(0, np.float64), np.zeros(0, np.int64)
    where = "" if chosen is None else f" WHERE district IN ({', '.join('?' for _ in chosen)})"
    params = tuple(chosen or ())
    if not tables.postgres:
        found = tables.rows(f"SELECT annual_value, tier FROM {table}{where}", params)
        return (np.array([row[0] for row in found], dtype=np.float64),
                np.array([row[1] for row in found], dtype=np.int64))
    with tables.transaction() as cursor:
        cursor.execute(tables.sql(f"SELECT array_agg(annual_value), array_agg(tier) "
                                  f"FROM {table}{where}"), params, binary=True)
        values, tiers = cursor.fetchone()
    if not values:
        return np.zeros(0, np.float64), np.zeros(0, np.int64)
    return np.array(values, dtype=np.float64), np.array(tiers, dtype=np.int64)
