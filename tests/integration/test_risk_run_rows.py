"""A risk run writes its RiskAssessed events as rows (application.event_rows), streamed to
the store with the scores in one transaction. For the same population, the rows it stores
are exactly those the event-object path (`save`) stores: ids, versions, topics and state
bytes with their chain links, on a first run and on a later run whose changed importers
already have events after their registration; the scores tables are the same too."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from application.risk.risk_run import RiskRun, RiskRunSummary
from infrastructure import account_directory
from infrastructure.account_directory import AccountDirectory
from infrastructure.ingest_integrity import IngestIntegrity
from interfaces.analysis_composition import build_risk_run, risk_tables
from projections.catalogue import VIEWS
from projections.queries import account_register
from projections.worker import Projections
from tests.builders import ACTOR, FakeClock, registration, unique_importer_number
from tests.integration.risk_support import load, write_csv
from tests.integration.twin_stores import stored_rows, twin_app
from tests.ledger_check import verify_app

__all__ = ["twin_app"]  # the fixture, used by name

ASSESSED = "ImporterAccount.RiskAssessed"
INDUSTRIES = ("64", "73", "03", "87", "61")


def populate(app: ComplianceCases, numbers: list[str], clock: FakeClock) -> int:
    """The same importers, history, trade and samples, whichever store; returns the year."""
    today = clock.now.date()
    for i, number in enumerate(numbers):
        app.register_importer(registration(number, industry=INDUSTRIES[i % len(INDUSTRIES)],
                                           district=f"{1 + i % 3:02d}"),
                              actor=ACTOR, reason="registered for the test")
    app.set_compliance_class(numbers[0], "c", actor=ACTOR, reason="late filings")
    app.join_partnership(numbers[1], "trusted_trader", today - timedelta(days=30),
                         actor=ACTOR, reason="accredited")
    period = f"{today.year}-{max(1, today.month - 1):02d}"
    exam_day = (today - timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        load(app, IngestKind.TRADE, write_csv(directory / "trade.csv", IngestKind.TRADE, [
            [number, period, 10 + i, 20 + i, f"{(i + 1) ** 3 * 7919}.{i % 100:02d}",
             f"{(i + 1) * 313}.00", "64", "VN"] for i, number in enumerate(numbers)]))
        load(app, IngestKind.SAMPLES, write_csv(directory / "samples.csv", IngestKind.SAMPLES, [
            [f"E{i:05d}", 1, number, exam_day, "6403990000", "VN", f"{1000 + i}.00",
             "random" if i % 3 else "targeted", "true" if i % 4 == 1 else "false",
             "origin" if i % 4 == 1 else "", f"{50 + i}.00" if i % 4 == 1 else "0"]
            for i, number in enumerate(numbers * 4)]))
    return today.year


def object_path(app: ComplianceCases) -> RiskRun:
    """Today's path: RiskAssessed event objects through `save`."""
    return RiskRun(risk_tables(app), AccountDirectory(app.recorder), app.save, app.clock,
                   check_inputs=IngestIntegrity(app.recorder).require_intact,
                   authorise=app.authorise)


def both_runs(objects: ComplianceCases, rows: ComplianceCases,
              year: int) -> tuple[RiskRunSummary, RiskRunSummary]:
    return (object_path(objects).assess(year, actor="system:risk"),
            build_risk_run(rows).assess(year, actor="system:risk"))


@pytest.mark.parametrize("few_heads", [account_directory.FEW_HEADS, 0],
                         ids=["heads-by-id", "heads-after-registration"])
def test_the_rows_of_a_risk_run_are_those_of_its_event_objects(
        app: ComplianceCases, twin_app: ComplianceCases, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch, few_heads: int) -> None:
    monkeypatch.setattr(account_directory, "FEW_HEADS", few_heads)
    numbers = [unique_importer_number() for _ in range(9)]
    year = populate(app, numbers, clock)
    assert populate(twin_app, numbers, clock) == year
    clock.advance()

    by_objects, by_rows = both_runs(app, twin_app, year)

    assert by_rows.changed == by_objects.changed == len(numbers)
    assessed = stored_rows(twin_app, ASSESSED)
    assert len(assessed) == len(numbers)
    assert {version for _, version, _, _ in assessed} == {2, 3}  # two have later events
    assert assessed == stored_rows(app, ASSESSED)
    assert stored_rows(twin_app) == stored_rows(app)
    assert risk_tables(twin_app).all_scores() == risk_tables(app).all_scores()
    assert b'"explanation":[{"effect":"' in b"".join(state for *_, state in assessed)
    for each in (app, twin_app):
        report = verify_app(each)
        assert report.ok, report
    viewed = [_register_view(each) for each in (app, twin_app)]
    assert viewed[1] == viewed[0]
    assert all(row["risk_score"] is not None for row in viewed[1])


@pytest.mark.parametrize("few_heads", [account_directory.FEW_HEADS, 0],
                         ids=["heads-by-id", "heads-after-registration"])
def test_a_later_run_links_the_changed_importers_events_to_their_heads(
        app: ComplianceCases, twin_app: ComplianceCases, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch, few_heads: int) -> None:
    """Either way the directory reads heads: by id (a few changed importers) or, for
    many, only those of accounts with events after their registration."""
    monkeypatch.setattr(account_directory, "FEW_HEADS", few_heads)
    numbers = [unique_importer_number() for _ in range(6)]
    year = populate(app, numbers, clock)
    populate(twin_app, numbers, clock)
    clock.advance()
    both_runs(app, twin_app, year)
    for each in (app, twin_app):
        each.set_compliance_class(numbers[3], "aa", actor=ACTOR, reason="audited clean")
        each.close_importer(numbers[5], actor=ACTOR, reason="ceased trading")
    clock.advance()

    by_objects, by_rows = both_runs(app, twin_app, year)

    assert by_rows.changed == by_objects.changed == 1
    assert stored_rows(twin_app) == stored_rows(app)
    latest = stored_rows(twin_app, ASSESSED)[-1]
    assert latest[1] == 4  # registered, assessed, class set, assessed again
    scores = risk_tables(twin_app).all_scores()
    assert scores == risk_tables(app).all_scores()
    assert numbers[5] not in {row["importer_number"] for row in scores}  # closed: removed
    assert len(scores) == len(numbers) - 1
    for each in (app, twin_app):
        report = verify_app(each)
        assert report.ok, report


def _register_view(app: ComplianceCases) -> list[dict[str, object]]:
    """The account register view, caught up from the log (risk scores included)."""
    projections = Projections(app)
    projections.catch_up([VIEWS["account_register"]])
    return account_register(projections.store)


def test_a_risk_run_written_as_rows_tells_the_analysts_figures_once_it_has_committed(
        twin_app: ComplianceCases, clock: FakeClock) -> None:
    """The row path bypasses `save`, so it tells CaseStore.after_bulk_run itself: once,
    after the commit, with a position at or past the run's last RiskAssessed event."""
    numbers = [unique_importer_number() for _ in range(4)]
    year = populate(twin_app, numbers, clock)
    clock.advance()
    told: list[tuple[int, int]] = []
    twin_app.after_bulk_run = lambda position: told.append(
        (position, len(stored_rows(twin_app, ASSESSED))))

    build_risk_run(twin_app).assess(year, actor="system:risk")

    assert told == [(twin_app.recorder.max_notification_id(), len(numbers))]
