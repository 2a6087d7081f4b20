"""A large risk run stages its scores beside the live table and swaps them in with its
events (infrastructure.staged_scores). Forced here on a small population (the real
threshold is 50,000 rows): the staged store ends with the same events and the same scores
as a twin store that wrote its scores in the run's transaction, under the live table's
index names, with no staging table left; a load that fails takes the run down with it."""

from __future__ import annotations

from typing import Any

import pytest

from application.compliance_cases import ComplianceCases
from infrastructure import risk_tables as risk_tables_module
from infrastructure.sql_tables import SqlTables
from infrastructure.staged_scores import StagedScores
from interfaces.analysis_composition import build_risk_run, risk_tables
from tests.builders import ACTOR, FakeClock, unique_importer_number
from tests.integration.test_risk_run_rows import ASSESSED, populate
from tests.integration.twin_stores import stored_rows, twin_app
from tests.ledger_check import verify_app

__all__ = ["twin_app"]  # the fixture, used by name

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("store_environ", ["postgres"], indirect=True)]


def _stage_only(app: ComplianceCases, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every run on `app`'s schema stages its scores; the other store's runs do not.
    Returns the names of the tables staged, as they are."""
    schema = SqlTables(app.recorder).schema
    staged: list[str] = []

    def only_there(tables: SqlTables, _rows: int, _carried: int) -> bool:
        return tables.schema == schema

    class Spied(StagedScores):
        def _load(self) -> None:
            staged.append(self.name)
            super()._load()

    monkeypatch.setattr(risk_tables_module, "worth_staging", only_there)
    monkeypatch.setattr(risk_tables_module, "StagedScores", Spied)
    return staged


def _tables(app: ComplianceCases, like: str) -> list[str]:
    tables = SqlTables(app.recorder)
    return [str(row[0]) for row in tables.rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = ? AND tablename LIKE ?",
        (tables.schema, like))]


def _indexes(app: ComplianceCases) -> set[str]:
    tables = SqlTables(app.recorder)
    return {str(row[0]) for row in tables.rows(
        "SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
        (tables.schema, "risk_scores"))}


@pytest.fixture
def staged(twin_app: ComplianceCases, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _stage_only(twin_app, monkeypatch)


def test_staged_scores_swap_in_with_the_runs_events_first_run_and_carried_over(
        app: ComplianceCases, twin_app: ComplianceCases, staged: list[str],
        clock: FakeClock) -> None:
    staged_twin = twin_app
    numbers = [unique_importer_number() for _ in range(8)]
    year = populate(app, numbers, clock)
    populate(staged_twin, numbers, clock)
    clock.advance()
    for each in (app, staged_twin):
        build_risk_run(each).assess(year, actor="system:risk")
    assert risk_tables(staged_twin).all_scores() == risk_tables(app).all_scores()
    assert len(risk_tables(staged_twin).all_scores()) == len(numbers)

    # a later run changes one importer and closes another: the other six rows carried over
    for each in (app, staged_twin):
        each.set_compliance_class(numbers[3], "aa", actor=ACTOR, reason="audited clean")
        each.close_importer(numbers[5], actor=ACTOR, reason="ceased trading")
    clock.advance()
    summaries = [build_risk_run(each).assess(year, actor="system:risk")
                 for each in (app, staged_twin)]

    assert summaries[0].changed == summaries[1].changed == 1
    assert len(staged) == 2  # both runs on the twin staged, none on the other store
    scores = risk_tables(staged_twin).all_scores()
    assert scores == risk_tables(app).all_scores()
    assert numbers[5] not in {row["importer_number"] for row in scores}
    assert len(scores) == len(numbers) - 1
    assert stored_rows(staged_twin) == stored_rows(app)
    assert _indexes(staged_twin) == _indexes(app) == {"risk_scores_pkey",
                                                      "risk_scores_by_score"}
    assert _tables(staged_twin, "risk_scores_stage_%") == []
    assert risk_tables(staged_twin).ranking(3) == risk_tables(app).ranking(3)
    report = verify_app(staged_twin)
    assert report.ok, report


def test_a_staged_load_that_fails_leaves_no_events_the_old_scores_and_no_table(
        twin_app: ComplianceCases, staged: list[str], clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    staged_twin = twin_app
    numbers = [unique_importer_number() for _ in range(5)]
    year = populate(staged_twin, numbers, clock)
    clock.advance()
    build_risk_run(staged_twin).assess(year, actor="system:risk")
    before_scores = risk_tables(staged_twin).all_scores()
    staged_twin.set_compliance_class(numbers[0], "aa", actor=ACTOR, reason="audited")
    before_events = stored_rows(staged_twin)
    clock.advance()
    real_insert = SqlTables.insert_in

    def failing(self: SqlTables, cursor: Any, table: str, rows: Any,
                on_rows: Any = None) -> None:
        if table.startswith("risk_scores_stage_"):
            raise RuntimeError("disk full while loading the staged scores")
        real_insert(self, cursor, table, rows, on_rows)

    monkeypatch.setattr(SqlTables, "insert_in", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        build_risk_run(staged_twin).assess(year, actor="system:risk")

    assert stored_rows(staged_twin) == before_events  # no RiskAssessed event
    assert len(stored_rows(staged_twin, ASSESSED)) == len(numbers)
    assert risk_tables(staged_twin).all_scores() == before_scores
    assert _tables(staged_twin, "risk_scores_stage_%") == []
    assert len(staged) == 2
    monkeypatch.setattr(SqlTables, "insert_in", real_insert)
    assert build_risk_run(staged_twin).assess(year, actor="system:risk").changed == 1
