"""A large risk run's scores loaded beside the live table, then swapped in when the run
commits (PostgreSQL).

A first national run replaces all 443,000 rows of `risk_scores`. Written inside the run's
transaction, the server parses and indexes them row by row while that same transaction
still has the 443,000 RiskAssessed events to take, one after the other on one backend.
Loaded instead into a table of their own, on another connection while the run makes and
writes its events, and indexed once the rows are in (a sort, not 443,000 index inserts),
the rows cost the run's transaction only what it takes to swap the tables: rows of the
live table the run does not replace are carried over, then the loaded table takes the live
one's name and index names. The swap happens in the run's transaction, after its events,
so the ranking still changes exactly when the log records the run, never before and never
without it; readers of the ranking wait only for that transaction's last moments.

A run that does not commit drops its loaded table (`discard`); a process killed meanwhile
leaves one behind, which the next staged run drops.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pyarrow as pa

from infrastructure.sql_tables import SqlTables

LIVE = "risk_scores"
INDEXES = {"pkey": "risk_scores_pkey", "by_score": "risk_scores_by_score"}
"""The live table's index names (infrastructure.risk_tables' DDL), by suffix."""
PREFIX = "risk_scores_stage_"

STAGED_FROM = 50_000
"""From this many rows a run stages its scores (below it the rows go in its own
transaction: a few seconds' writing is not worth a second table)."""


def worth_staging(tables: SqlTables, rows: int, carried: int) -> bool:
    """On PostgreSQL, for a run that writes at least STAGED_FROM rows and more rows than
    the swap would have to carry over from the live table."""
    return tables.postgres and rows >= STAGED_FROM and carried <= rows


class StagedScores:
    """The rows loading on a thread from construction on; `swap_in(cursor)` in the run's
    transaction, `discard()` after it whatever happened."""

    def __init__(self, tables: SqlTables, run_id: UUID, scores: pa.Table) -> None:
        self.tables = tables
        self.name = f"{PREFIX}{run_id.hex[:20]}"
        self._scores = scores
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="risk-scores-stage",
                                        daemon=True)
        self._thread.start()

    def _qualified_index(self, suffix: str) -> str:
        return self.tables.name(f"{self.name}_{suffix}")

    def _load(self) -> None:
        """Its own transaction: a table like the live one, the rows, then the indexes."""
        try:
            table, live = self.tables.name(self.name), self.tables.name(LIVE)
            with self.tables.transaction() as cursor:
                self._drop_abandoned(cursor)
                cursor.execute(f"CREATE TABLE {table} (LIKE {live} INCLUDING DEFAULTS)")
                self.tables.insert_in(cursor, self.name, self._scores)
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {self.name}_pkey "
                               "PRIMARY KEY (importer_number)")
                cursor.execute(f"CREATE INDEX {self.name}_by_score ON {table} (score DESC)")
        except BaseException as error:  # raised in the run's transaction by swap_in
            self._error = error
        finally:
            self._scores = pa.table({})  # the run's copy is the only one still needed

    def _drop_abandoned(self, cursor: Any) -> None:
        """Tables a killed run left behind (another run staging right now is refused at
        its swap, as two first runs cannot both commit their events anyway)."""
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s "
                       "AND tablename LIKE %s", (self.tables.schema, PREFIX + "%"))
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE IF EXISTS {self.tables.name(str(name))}")

    def swap_in(self, cursor: Any, removed: Sequence[str]) -> None:
        """Within the run's transaction: the live rows the run neither replaces nor
        removes carried over, then the loaded table and its indexes take the live names.
        Raises what the load raised (the run then rolls back)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        table, live = self.tables.name(self.name), self.tables.name(LIVE)
        cursor.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            f"INSERT INTO {table} SELECT * FROM {live} AS r WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} AS s WHERE s.importer_number = r.importer_number) "
            "AND NOT (r.importer_number = ANY(%s))", (list(removed),))
        cursor.execute(f"DROP TABLE {live}")
        cursor.execute(f"ALTER TABLE {table} RENAME TO {LIVE}")
        for suffix, index in INDEXES.items():
            cursor.execute(f"ALTER INDEX {self._qualified_index(suffix)} RENAME TO {index}")

    def discard(self) -> None:
        """The loaded table dropped unless it became the live one."""
        self._thread.join()
        with self.tables.transaction() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.tables.name(self.name)}")
