"""Channel decisions (bulk rows, one per declaration) and the set-wise reads that
targeting needs: declarations still to channel with their importer's risk, and examined
sample lines with the risk and channel decision behind them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pyarrow as pa

from application.targeting.effectiveness import SampleGroup
from infrastructure.sql_tables import SqlTables

RISK_TYPES = {"tier": pa.int64(), "category": pa.string(), "score": pa.float64(),
              "value_cents": pa.int64(), "hs_code": pa.string(), "origin_country": pa.string()}
ENTRY_TYPES = {**RISK_TYPES, "entry_number": pa.string(), "importer_number": pa.string(),
               "district": pa.string(), "batch_id": pa.string()}
SAMPLE_TYPES = {**RISK_TYPES, "entry_number": pa.string(), "importer_number": pa.string(),
                "selection": pa.string(), "discrepancy": pa.int64(),
                "importer_district": pa.string(), "basis": pa.string(), "rules": pa.string(),
                "entry_district": pa.string()}


def _ddl(postgres: bool) -> list[str]:
    date_type = "DATE" if postgres else "TEXT"
    return [
        "CREATE TABLE IF NOT EXISTS {schema}channel_decisions ("
        "entry_number TEXT PRIMARY KEY, run_id TEXT NOT NULL, importer_number TEXT NOT NULL, "
        f"district TEXT NOT NULL, entry_date {date_type} NOT NULL, channel TEXT NOT NULL, "
        "targeted_channel TEXT NOT NULL, basis TEXT NOT NULL, rules TEXT NOT NULL, "
        "reason TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS channel_decisions_run ON {schema}channel_decisions "
        "(run_id)",
    ]


class TargetingTables:
    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables
        self._risk = tables.name("risk_scores")

    @staticmethod
    def create(tables: SqlTables) -> None:
        """Only initialise_store (compliance init/migrate/demo) creates tables."""
        tables.create(_ddl(tables.postgres))

    def undecided_entries(self) -> pa.Table:
        """Declarations without a channel decision, with the importer's latest risk."""
        return self.tables.arrow(
            "SELECT e.entry_number, e.importer_number, e.entry_date, e.district, e.hs_code, "
            "e.origin_country, e.entered_value_cents, e.batch_id, r.tier, r.category, r.score "
            f"FROM {self.tables.name('entries')} e LEFT JOIN {self._risk} r "
            "ON r.importer_number = e.importer_number WHERE NOT EXISTS (SELECT 1 FROM "
            f"{self.tables.name('channel_decisions')} d WHERE d.entry_number = e.entry_number) "
            "ORDER BY e.entry_number",
            ("entry_number", "importer_number", "entry_date", "district", "hs_code",
             "origin_country", "value_cents", "batch_id", "tier", "category", "score"),
            types=ENTRY_TYPES)

    def decisions_writer(self, decisions: pa.Table,
                         on_rows: Callable[[int], None] | None = None
                         ) -> Callable[[Any], None]:
        def write(cursor: Any) -> None:
            self.tables.insert_in(cursor, "channel_decisions", decisions, on_rows)
        return write

    def samples_with_risk(self) -> pa.Table:
        """Every examined sample line, with the importer's risk and district and the
        channel decision of its entry (when the exam came from channelling)."""
        return self.tables.arrow(
            "SELECT s.entry_number, s.importer_number, s.exam_date, s.hs_code, "
            "s.origin_country, s.entered_value_cents, s.selection, "
            "CAST(s.discrepancy AS INTEGER), r.tier, r.category, r.score, r.district, "
            "d.basis, d.rules, d.district "
            f"FROM {self.tables.name('compliance_samples')} s "
            f"LEFT JOIN {self._risk} r ON r.importer_number = s.importer_number "
            f"LEFT JOIN {self.tables.name('channel_decisions')} d "
            "ON d.entry_number = s.entry_number",
            ("entry_number", "importer_number", "exam_date", "hs_code", "origin_country",
             "value_cents", "selection", "discrepancy", "tier", "category", "score",
             "importer_district", "basis", "rules", "entry_district"), types=SAMPLE_TYPES)

    def sample_groups(self, start: date, end: date) -> list[SampleGroup]:
        """The sample lines examined start..end, grouped as effectiveness counts them
        (district, random, hit, rules: SampleGroup), counted in the database: a few hundred
        rows instead of every line through the join. Hash joins are asked for (nested
        loops off, for this statement's transaction only): a planner misled by stale
        statistics otherwise probes both indexes once per line, several times slower."""
        day = "s.exam_date" if self.tables.postgres else "substr(s.exam_date, 1, 10)"
        statement = self.tables.sql(
            "SELECT COALESCE(NULLIF(d.district, ''), NULLIF(r.district, '')), "
            "CASE WHEN s.selection = 'random' THEN 1 ELSE 0 END, "
            "CASE WHEN CAST(s.discrepancy AS INTEGER) > 0 THEN 1 ELSE 0 END, "
            "COALESCE(d.rules, ''), COUNT(*) "
            f"FROM {self.tables.name('compliance_samples')} s "
            f"LEFT JOIN {self._risk} r ON r.importer_number = s.importer_number "
            f"LEFT JOIN {self.tables.name('channel_decisions')} d "
            f"ON d.entry_number = s.entry_number WHERE {day} >= ? AND {day} <= ? "
            "GROUP BY 1, 2, 3, 4")
        with self.tables.transaction() as cursor:
            if self.tables.postgres:
                cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute(statement, (start.isoformat(), end.isoformat()))
            found = cursor.fetchall()
        return [(str(district or "??"), bool(random), bool(hit), str(rules), int(lines))
                for district, random, hit, rules, lines in found]

    def examined_entries(self) -> pa.Table:
        """Declarations sent to exam (red) whose result is not yet loaded as a sample."""
        return self.tables.arrow(
            "SELECT e.entry_number, e.importer_number, e.entry_date, e.hs_code, "
            "e.origin_country, e.entered_value_cents, d.basis "
            f"FROM {self.tables.name('channel_decisions')} d JOIN "
            f"{self.tables.name('entries')} e ON e.entry_number = d.entry_number "
            "WHERE d.channel = 'red' AND NOT EXISTS (SELECT 1 FROM "
            f"{self.tables.name('compliance_samples')} s WHERE s.entry_number = d.entry_number) "
            "ORDER BY e.entry_number",
            ("entry_number", "importer_number", "entry_date", "hs_code", "origin_country",
             "value_cents", "basis"), types={"value_cents": pa.int64(), "basis": pa.string()})

    def channel_counts(self, run_id: UUID | None = None) -> list[tuple[Any, ...]]:
        where = " WHERE run_id = ?" if run_id else ""
        return self.tables.rows(
            "SELECT channel, basis, COUNT(*) FROM "
            f"{self.tables.name('channel_decisions')}{where} GROUP BY channel, basis "
            "ORDER BY channel, basis", (str(run_id),) if run_id else ())

    def decision(self, entry_number: str) -> tuple[Any, ...] | None:
        found = self.tables.rows(
            "SELECT entry_number, run_id, importer_number, district, entry_date, channel, "
            f"targeted_channel, basis, rules, reason FROM "
            f"{self.tables.name('channel_decisions')} WHERE entry_number = ?", (entry_number,))
        return found[0] if found else None
