"""Small analysis data for the HTTP tests of imports, risk and targeting: importers in
districts 11 and 12 with this year's trade, random sample lines and declarations, loaded
through the real ingest path on an application without access control (set-up, not the
thing under test). Dates are today's: the server's clock is the real one."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import SCHEMAS, IngestKind
from infrastructure.settings import Settings
from interfaces.composition import build_application
from tests.integration.targeting_support import Entry, import_entries, import_rows, register


def columns(kind: IngestKind) -> tuple[str, ...]:
    return SCHEMAS[kind](date.min).columns


def csv_bytes(kind: IngestKind, rows: Sequence[Sequence[object]],
              header: Sequence[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header if header is not None else columns(kind))
    writer.writerows(rows)
    return buffer.getvalue().encode()


@dataclass(frozen=True)
class World:
    """Importers by district (`in11`, `in12`), the year of their data, today."""

    in11: list[str]
    in12: list[str]
    year: int
    today: date

    @property
    def importers(self) -> list[str]:
        return [*self.in11, *self.in12]


def setup_app(settings: Settings) -> ComplianceCases:
    return build_application(settings, access_control=False)


def seed_world(settings: Settings, *, entries: bool = False) -> World:
    """Two importers in each of districts 11 and 12 (industry 64, footwear) with trade of
    different values this month and four random sample lines each (more discrepancies the
    later the importer), and, if asked, one declaration each from Vietnam."""
    app = setup_app(settings)
    try:
        today = app.clock().date()
        numbers = register(app, [("11", "64"), ("11", "64"), ("12", "64"), ("12", "64")])
        period = f"{today.year:04d}-{today.month:02d}"
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            import_rows(app, folder, IngestKind.TRADE, [
                [number, period, 10, 20, f"{(i + 1) * 100000}.00", "5000.00", "64", "VN"]
                for i, number in enumerate(numbers)])
            import_rows(app, folder, IngestKind.SAMPLES, [
                [f"S{i:02d}{line}", 1, number, today.isoformat(), "6403990000", "VN",
                 "1000.00", "random", "true" if line <= i else "false",
                 "origin" if line <= i else "", "50.00" if line <= i else "0"]
                for i, number in enumerate(numbers) for line in range(4)])
            if entries:
                import_entries(app, folder, [
                    Entry(f"D{i:05d}", number, today.isoformat(), "11" if i < 2 else "12",
                          "6403990000", "VN") for i, number in enumerate(numbers)])
    finally:
        app.close()
    return World(numbers[:2], numbers[2:], today.year, today)


def notifications(app: ComplianceCases) -> int:
    return app.recorder.max_notification_id() or 0
