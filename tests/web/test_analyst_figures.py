"""The analyst's stored dashboard figures (infrastructure.figure_store, interfaces.
analyst_figures, interfaces.analyst_refresh) on a real SQLite file and a real PostgreSQL
schema: a figure is computed once however many processes ask (the others wait for the
first one's row; a claim of a process that died is taken over, one whose computation
failed is dropped); a bulk run computes the figures of the scopes analysts asked for, and
only those; the latest bulk run is found by its own position, the same in every process;
`compliance migrate` adds the table to a ledger of schema version 5."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from application.analyst_charts import ANALYST_CHARTS
from application.compliance_cases import ComplianceCases
from application.figure_version import FIGURES_VERSION
from application.ingest.schemas import IngestKind
from infrastructure.figure_store import (
    FIGURES_TABLE,
    PICTURE,
    FigureKey,
    FigureStore,
    latest_position_of,
)
from infrastructure.schema import SCHEMA_VERSION, LedgerUnavailableError, check_ledger
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from interfaces.analyst_figures import decode_picture, scope_districts, scope_name
from interfaces.analyst_refresh import refresh_after_bulk_run
from interfaces.composition import initialise_store
from interfaces.web.analysis_marker import AnalysisMarker
from tests.builders import register_importer
from tests.integration.targeting_support import import_rows

DAY = date(2026, 3, 2)


def _store(app: ComplianceCases, clock: Callable[[], float] | None = None) -> FigureStore:
    tables = SqlTables(app.recorder)
    if clock is None:
        return FigureStore(tables, version=FIGURES_VERSION)
    return FigureStore(tables, clock, version=FIGURES_VERSION)


def test_figures_drawn_by_another_version_of_the_code_are_never_served(
        app: ComplianceCases) -> None:
    key = FigureKey("11", 7, DAY)
    older = FigureStore(SqlTables(app.recorder), version="older")
    older.put(key, {PICTURE: b"drawn the old way"}, asked_on=DAY)
    current = _store(app)
    assert current.get(key, PICTURE) is None
    assert current.get_or_compute(key, PICTURE, lambda: b"drawn now") == b"drawn now"
    assert older.get(key, PICTURE) == b"drawn the old way"  # each version its own row
    assert current.in_use(DAY, 14, 8) == []  # asked for under the old version only


def _sample(app: ComplianceCases, number: str, district: str = "11") -> None:
    """A bulk run: one random sample line imported (an ImportBatch recorded)."""
    with tempfile.TemporaryDirectory() as folder:
        import_rows(app, Path(folder), IngestKind.SAMPLES, [
            [number, 1, register_importer(app, district=district),
             app.clock().date().isoformat(), "6403990000", "VN", "1000.00", "random",
             "false", "", "0.00"]])


def test_a_figure_claimed_by_another_process_is_waited_for_not_computed_again(
        app: ComplianceCases) -> None:
    first, second = _store(app), _store(app)
    key = FigureKey("11", 7, DAY)
    assert first.claim(key, PICTURE)
    assert not second.claim(key, PICTURE)  # one claim only
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(second.get_or_compute, key, PICTURE,
                              lambda: pytest.fail("computed by a second process"))
        first.put(key, {PICTURE: b"the first process's picture"})
        assert waiting.result(timeout=60) == b"the first process's picture"
    assert second.get_or_compute(key, PICTURE, lambda: b"other") == (
        b"the first process's picture")


def test_a_claim_left_by_a_dead_process_is_taken_over_and_a_failed_one_dropped(
        app: ComplianceCases) -> None:
    key = FigureKey("national", 3, DAY)
    dead = _store(app, clock=lambda: 1_000.0)  # claimed long ago, never filled
    assert dead.claim(key, "concentration")
    alive = _store(app)
    assert alive.get_or_compute(key, "concentration", lambda: b"<svg/>") == b"<svg/>"

    def broken() -> bytes:
        raise RuntimeError("the picture could not be read")
    with pytest.raises(RuntimeError):
        alive.get_or_compute(key, "channels", broken)
    assert alive.get_or_compute(key, "channels", lambda: b"<svg>again</svg>") == (
        b"<svg>again</svg>")


def test_a_newer_bulk_run_prunes_the_scopes_older_figures_only(app: ComplianceCases) -> None:
    store = _store(app)
    older, newer = FigureKey("11", 5, DAY), FigureKey("11", 9, DAY)
    other = FigureKey("12", 5, DAY)
    store.put(older, {PICTURE: b"old", "channels": b"old chart"}, asked_on=DAY)
    store.put(other, {PICTURE: b"twelve"}, asked_on=DAY)
    store.put(newer, {PICTURE: b"new"}, asked_on=DAY)
    assert store.get(older, PICTURE) is None
    assert store.get(older, "channels") is None
    assert store.get(newer, PICTURE) == b"new"
    assert store.get(other, PICTURE) == b"twelve"


def test_scopes_in_use_are_those_asked_for_lately_the_latest_first(
        app: ComplianceCases) -> None:
    store = _store(app)
    store.put(FigureKey("national", 1, date(2026, 1, 2)), {PICTURE: b"n"},
              asked_on=date(2026, 1, 2))
    store.put(FigureKey("11", 1, DAY), {PICTURE: b"a"})
    store.mark_asked(FigureKey("11", 1, DAY))
    store.put(FigureKey("12", 1, DAY), {PICTURE: b"b"})  # stored, never asked for
    assert store.in_use(DAY, 14, 8) == [("11", DAY)]
    assert store.in_use(DAY, 90, 8) == [("11", DAY), ("national", date(2026, 1, 2))]
    assert store.in_use(DAY, 90, 1) == [("11", DAY)]


def test_scopes_are_named_alike_in_every_process() -> None:
    assert scope_name(None) == "national"
    assert scope_name(frozenset({"12", "11"})) == "11,12"
    assert scope_districts("11,12") == frozenset({"11", "12"})
    assert scope_districts("national") is None


def test_a_bulk_run_computes_the_figures_of_the_scopes_asked_for_and_only_those(
        make_app: Callable[..., ComplianceCases]) -> None:
    app = make_app()  # as composed: its bulk runs refresh the figures
    store = _store(app)
    today = app.clock().date()
    _sample(app, "S00001")  # nobody asked for a picture yet: nothing computed
    assert SqlTables(app.recorder).rows(f"SELECT COUNT(*) FROM {store.table}") == [(0,)]
    store.put(FigureKey("11", 0, today), {PICTURE: b"asked"}, asked_on=today)
    _sample(app, "S00002")
    position = latest_position_of(app.recorder, _topics(), 0,
                                  app.recorder.max_notification_id() or 0)
    assert position is not None
    key = FigureKey("11", position, today)
    picture = store.get(key, PICTURE)
    assert picture is not None
    assert decode_picture(picture).districts == frozenset({"11"})
    for name in ANALYST_CHARTS:
        assert (store.get(key, name) or b"").startswith(b"<svg")
    assert store.get(FigureKey("national", position, today), PICTURE) is None
    assert store.in_use(today, 14, 8) == [("11", today)]  # still asked for
    assert store.get(FigureKey("11", 0, today), PICTURE) is None  # pruned


def test_a_bulk_path_that_knows_only_the_head_stores_at_the_bulk_runs_own_position(
        make_app: Callable[..., ComplianceCases]) -> None:
    app = make_app()
    app.after_bulk_run = None  # as a path that appends rows and calls the hook itself
    store = _store(app)
    today = app.clock().date()
    store.put(FigureKey("national", 0, today), {PICTURE: b"asked"}, asked_on=today)
    _sample(app, "S00004")
    bulk = app.recorder.max_notification_id()
    register_importer(app, district="12")  # the log moves on before the hook runs
    assert refresh_after_bulk_run(app, app.recorder.max_notification_id() or 0) == [
        "national"]
    found = store.get(FigureKey("national", bulk, today), PICTURE)
    assert found is not None
    assert decode_picture(found).districts is None


def test_a_failed_refresh_never_fails_the_bulk_run(app: ComplianceCases) -> None:
    tables = SqlTables(app.recorder)
    with tables.transaction() as cursor:
        tables.execute_in(cursor, f"DROP TABLE {tables.name(FIGURES_TABLE)}")
    assert refresh_after_bulk_run(app, 1) == []  # logged, not raised


def test_every_process_finds_the_same_latest_bulk_run(
        make_app: Callable[..., ComplianceCases]) -> None:
    app = make_app()
    early, late = AnalysisMarker(), AnalysisMarker()
    assert early.position(app.recorder) == 0
    _sample(app, "S00003")
    after_bulk = app.recorder.max_notification_id()
    register_importer(app, district="11")  # a case event: not a bulk run
    assert early.position(app.recorder) == after_bulk == late.position(app.recorder)
    register_importer(app, district="12")
    assert early.position(app.recorder) == after_bulk


def _topics() -> list[str]:
    from application.bulk_runs import bulk_run_topics

    return bulk_run_topics()


def test_migrate_adds_the_figures_table_to_a_ledger_of_schema_version_5(
        store: Settings, app: ComplianceCases) -> None:
    tables = SqlTables(app.recorder)
    with tables.transaction() as cursor:
        tables.execute_in(cursor, f"DROP TABLE {tables.name(FIGURES_TABLE)}")
        tables.execute_in(cursor, f"UPDATE {tables.name('compliance_meta')} SET value = '5' "
                          "WHERE key = 'schema_version'")
    with pytest.raises(LedgerUnavailableError, match="run compliance migrate"):
        check_ledger(store)
    migrated = initialise_store(store)
    assert migrated.previous_version == 5
    assert FIGURES_TABLE in migrated.created
    assert SCHEMA_VERSION >= 6
    check_ledger(store)
    assert _store(app).in_use(DAY, 14, 8) == []
