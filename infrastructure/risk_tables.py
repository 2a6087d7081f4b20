"""The inputs of a risk run, read set-wise from the ingestion tables, and its results: the
current score of every importer, the compliance rates by grain, and one row per run.

Results are replaced by each run in the same transaction as the run's RiskAssessed events,
so the ranking shown is always the one the event log records.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
from uuid import UUID

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg.sql import SQL, Literal

from application.risk.explained_rows import explained_row
from application.risk.ports import PreviousScores, RiskRunRecord, SampleTotals, TradeTotals
from infrastructure.sql_tables import SqlTables
from infrastructure.staged_scores import StagedScores, worth_staging


def _ddl() -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS {schema}risk_runs (run_id TEXT PRIMARY KEY, "
        "year INTEGER NOT NULL, method_version TEXT NOT NULL, assessed_at TEXT NOT NULL, "
        "actor TEXT NOT NULL, importers BIGINT NOT NULL, changed BIGINT NOT NULL, "
        "input_batches TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {schema}risk_scores (importer_number TEXT PRIMARY KEY, "
        "run_id TEXT NOT NULL, district TEXT NOT NULL, industry TEXT NOT NULL, "
        "tier INTEGER NOT NULL, annual_value DOUBLE PRECISION NOT NULL, "
        "cumulative_share DOUBLE PRECISION NOT NULL, lines BIGINT NOT NULL, "
        "discrepancies BIGINT NOT NULL, compliance_rate DOUBLE PRECISION NOT NULL, "
        "compliance_low DOUBLE PRECISION NOT NULL, compliance_high DOUBLE PRECISION NOT NULL, "
        "expected_noncompliant_value DOUBLE PRECISION NOT NULL, "
        "revenue_at_risk DOUBLE PRECISION NOT NULL, score DOUBLE PRECISION NOT NULL, "
        "category TEXT NOT NULL, impact_level TEXT NOT NULL, method_version TEXT NOT NULL, "
        "adjustments TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS risk_scores_by_score ON {schema}risk_scores (score DESC)",
        "CREATE TABLE IF NOT EXISTS {schema}compliance_rates (grain TEXT NOT NULL, "
        "key TEXT NOT NULL, run_id TEXT NOT NULL, lines BIGINT NOT NULL, "
        "discrepancies BIGINT NOT NULL, compliance_rate DOUBLE PRECISION NOT NULL, "
        "compliance_low DOUBLE PRECISION NOT NULL, "
        "compliance_high DOUBLE PRECISION NOT NULL, PRIMARY KEY (grain, key))",
    ]


class RunTablesWriter:
    """Writes a run's tables with the cursor of the transaction that appends its events
    (a WriteAlso). `after_events`: it must run after the events, as a staged swap holds
    the ranking's lock until commit; else it may run while the events are still being
    made. `close()` once that transaction is over, whatever its outcome."""

    def __init__(self, write: Callable[[Any], None], staged: StagedScores | None) -> None:
        self._write = write
        self._staged = staged
        self.after_events = staged is not None

    def __call__(self, cursor: Any) -> None:
        self._write(cursor)

    def close(self) -> None:
        if self._staged is not None:
            self._staged.discard()


class RiskTables:
    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables

    @property
    def concurrent_reads(self) -> bool:
        """On PostgreSQL, each read has a pooled connection of its own and the server
        works on several at once. On SQLite these reads take the file's single writer
        slot in turn (SqlTables' transactions), so a long one would make the others time
        out: there the run reads one thing after another."""
        return self.tables.postgres

    @staticmethod
    def create(tables: SqlTables) -> None:
        """Only initialise_store (compliance init/migrate/demo) creates tables."""
        tables.create(_ddl())

    def _in_year(self, year: int) -> tuple[str, str]:
        return f"{year:04d}-01", f"{year:04d}-12"

    def trade_totals(self, year: int) -> TradeTotals:
        first, last = self._in_year(year)
        table = self._arrow(
            "SELECT importer_number, SUM(entries), SUM(lines), SUM(entered_value_cents), "
            f"SUM(duty_paid_cents) FROM {self.tables.name('trade_activity')} "
            "WHERE period >= ? AND period <= ? GROUP BY importer_number",
            {"importer_number": pa.string(), "entries": pa.int64(), "lines": pa.int64(),
             "value_cents": pa.float64(), "duty_cents": pa.float64()},
            (first, last))
        return TradeTotals(table)

    def sample_totals(self, year: int) -> SampleTotals:
        """Examined lines of the year per importer, line chapter, selection and
        discrepancy type (the finest grain any rate needs), with value and loss."""
        table = self._arrow(
            "SELECT importer_number, substr(hs_code, 1, 2), selection, "
            "COALESCE(discrepancy_type, ''), COUNT(*), SUM(CAST(discrepancy AS INTEGER)), "
            "SUM(revenue_loss_cents), "
            "SUM(CASE WHEN discrepancy THEN entered_value_cents ELSE 0 END) "
            f"FROM {self.tables.name('compliance_samples')} "
            "WHERE exam_date >= ? AND exam_date <= ? "
            "GROUP BY importer_number, substr(hs_code, 1, 2), selection, "
            "COALESCE(discrepancy_type, '')",
            {"importer_number": pa.string(), "chapter": pa.string(), "selection": pa.string(),
             "area": pa.string(), "lines": pa.int64(), "discrepancies": pa.int64(),
             "loss_cents": pa.float64(), "discrepant_value_cents": pa.float64()},
            (f"{year:04d}-01-01", f"{year:04d}-12-31"))
        return SampleTotals(table)

    def _arrow(self, statement: str, types: dict[str, pa.DataType],
               params: Sequence[str] = ()) -> pa.Table:
        """A query's result as columns. On PostgreSQL through COPY ... TO STDOUT as CSV,
        parsed by pyarrow straight into typed columns: a national run reads hundreds of
        thousands of rows, which as Python tuples (SqlTables.arrow) cost more than the
        query. The parameters are dates and periods made here, inlined as literals (COPY
        takes no bound parameters)."""
        if not self.tables.postgres:
            return self.tables.arrow(statement, list(types), params)
        query = SQL(statement.replace("?", "{}")).format(*(Literal(p) for p in params))
        data = bytearray()
        with self.tables.transaction() as cursor, cursor.copy(
                SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as copy:
            for block in copy:
                data += block
        if not data:
            return pa.table({name: pa.array([], kind) for name, kind in types.items()})
        return pacsv.read_csv(
            pa.py_buffer(bytes(data)),
            read_options=pacsv.ReadOptions(column_names=list(types)),
            convert_options=pacsv.ConvertOptions(column_types=types))

    def input_batches(self, year: int) -> list[UUID]:
        first, last = self._in_year(year)
        found = self.tables.rows(
            f"SELECT DISTINCT batch_id FROM {self.tables.name('trade_activity')} "
            "WHERE period >= ? AND period <= ? UNION "
            f"SELECT DISTINCT batch_id FROM {self.tables.name('compliance_samples')} "
            "WHERE exam_date >= ? AND exam_date <= ?",
            (first, last, f"{year:04d}-01-01", f"{year:04d}-12-31"))
        return sorted(UUID(str(row[0])) for row in found)

    def previous_scores(self) -> PreviousScores:
        return PreviousScores(self._arrow(
            "SELECT importer_number, score, tier, category, impact_level, method_version, "
            f"compliance_rate FROM {self.tables.name('risk_scores')}",
            {"importer_number": pa.string(), "score": pa.float64(), "tier": pa.int64(),
             "category": pa.string(), "impact_level": pa.string(),
             "method_version": pa.string(), "compliance_rate": pa.float64()}))

    def writer(self, run: RiskRunRecord, scores: pa.Table, rates: pa.Table,
               removed: Sequence[str] = (),
               on_rows: Callable[[int], None] | None = None,
               existing: Collection[str] | None = None) -> RunTablesWriter:
        """The changed importers' rows replace theirs; `removed` (closed accounts) go;
        only those among `existing` when it is given. A run that replaces most of a
        large table stages its rows beside it from now on (infrastructure.staged_scores)
        and swaps them in after its events."""
        gone = [*scores["importer_number"].to_pylist(), *removed]
        if existing is not None:
            kept = existing if isinstance(existing, set | frozenset) else set(existing)
            gone = [number for number in gone if number in kept]
        carried = len(existing) - len(gone) if existing is not None else None
        staged = (StagedScores(self.tables, run.run_id, scores)
                  if carried is not None and worth_staging(self.tables, scores.num_rows,
                                                           carried) else None)

        def write(cursor: Any) -> None:
            if staged is not None:
                staged.swap_in(cursor, removed)
                if on_rows is not None:
                    on_rows(scores.num_rows)
            else:
                if gone:
                    self._delete_scores(cursor, gone)
                self.tables.insert_in(cursor, "risk_scores", scores, on_rows)
            self.tables.execute_in(cursor,
                                   f"DELETE FROM {self.tables.name('compliance_rates')}")
            self.tables.insert_in(cursor, "compliance_rates", rates)
            self.tables.execute_in(
                cursor, f"INSERT INTO {self.tables.name('risk_runs')} VALUES (?,?,?,?,?,?,?,?)",
                (str(run.run_id), run.year, run.method_version, run.assessed_at.isoformat(),
                 run.actor, run.importers, run.changed,
                 ",".join(str(batch) for batch in run.input_batches)))
        return RunTablesWriter(write, staged)

    def _delete_scores(self, cursor: Any, numbers: list[str]) -> None:
        """One statement for all of them (a first national run replaces 443,000 rows): the
        numbers go as one JSON list, joined to the table by its key, rather than a DELETE
        per importer."""
        table = self.tables.name("risk_scores")
        listed = msgspec.json.encode(numbers).decode()  # one text, not 443,000 parameters
        if self.tables.postgres:
            cursor.execute(f"DELETE FROM {table} AS s USING json_array_elements_text(%s::json) "
                           "AS gone(number) WHERE s.importer_number = gone.number", (listed,))
        else:
            cursor.execute(f"DELETE FROM {table} WHERE importer_number IN "
                           "(SELECT value FROM json_each(?))", (listed,))

    def ranking(self, limit: int, district: str | None = None, tier: int | None = None,
                by: str = "score") -> list[dict[str, Any]]:
        """By score (expected non-compliant value, adjusted), or by likelihood: the
        lowest estimated compliance among importers with examined lines."""
        conditions: list[str] = ["lines > 0"] if by == "likelihood" else []
        params: list[Any] = []
        if district:
            conditions.append("district = ?")
            params.append(district)
        if tier:
            conditions.append("tier = ?")
            params.append(tier)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        order = ("compliance_rate, score DESC" if by == "likelihood" else "score DESC")
        return [explained_row(row) for row in self._dicts(
            f"SELECT * FROM {self.tables.name('risk_scores')}{where} "
            f"ORDER BY {order}, importer_number LIMIT ?", (*params, limit))]

    def all_scores(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT importer_number, score, tier, district, category, compliance_rate, "
            f"expected_noncompliant_value FROM {self.tables.name('risk_scores')} "
            "ORDER BY score DESC, importer_number")

    def score_of(self, importer_number: str) -> dict[str, Any] | None:
        found = self._dicts(f"SELECT * FROM {self.tables.name('risk_scores')} "
                            "WHERE importer_number = ?", (importer_number,))
        return explained_row(found[0]) if found else None

    def tiers(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT tier, COUNT(*) AS importers, SUM(annual_value) AS value "
            f"FROM {self.tables.name('risk_scores')} GROUP BY tier ORDER BY tier")

    def value_curve(self, district: str | None = None) -> list[tuple[float, int]]:
        """(annual value, tier) of every scored importer (of `district`), highest value
        first. On PostgreSQL the two columns come as two arrays in binary (one row, not
        443,000 tuples to convert) and are ordered here: cheaper than the server's sort and
        a row per importer."""
        where, params = (" WHERE district = ?", (district,)) if district else ("", ())
        table = self.tables.name("risk_scores")
        if not self.tables.postgres:
            return [(float(value), int(tier)) for value, tier in self.tables.rows(
                f"SELECT annual_value, tier FROM {table}{where} "
                "ORDER BY annual_value DESC", params)]
        with self.tables.transaction() as cursor:
            cursor.execute(self.tables.sql(f"SELECT array_agg(annual_value), array_agg(tier) "
                                           f"FROM {table}{where}"), params, binary=True)
            values, tiers = cursor.fetchone()
        if not values:
            return []
        amounts = np.array(values, dtype=np.float64)
        order = np.argsort(-amounts, kind="stable")
        return list(zip(amounts[order].tolist(), np.array(tiers, dtype=np.int64)[order].tolist(),
                        strict=True))

    def rates(self, grain: str) -> list[dict[str, Any]]:
        return self._dicts(f"SELECT * FROM {self.tables.name('compliance_rates')} "
                           "WHERE grain = ? ORDER BY compliance_rate, key", (grain,))

    def latest_run(self) -> dict[str, Any] | None:
        found = self._dicts(f"SELECT * FROM {self.tables.name('risk_runs')} "
                            "ORDER BY assessed_at DESC LIMIT 1")
        return found[0] if found else None

    def _dicts(self, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.tables.transaction() as cursor:
            cursor.execute(self.tables.sql(statement), params)
            described = getattr(cursor, "sqlite_cursor", cursor).description
            names = [column[0] for column in described]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


