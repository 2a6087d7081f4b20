"""The two readings of a view's rules agree: the changes a handler makes
(projections.rows), run as SQL statements on the real database (the live path) and applied
to rows in memory (the set-based rebuild), leave the same rows, change kind by change kind,
on both stores. And a rebuild that folds the audit log in a forked process (PostgreSQL)
equals the views kept current event by event, and names the event that stops it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from application.compliance_cases import ComplianceCases
from projections import rebuild_views
from projections.catalogue import VIEWS
from projections.memory_rows import DuplicateKeyError, MemoryRows
from projections.rebuild_views import _ForkedRebuild
from projections.rows import (
    AtLeast,
    Difference,
    Lookup,
    OnConflict,
    Plus,
    Rows,
    WithoutWord,
    WithWord,
)
from projections.runner import ProjectionFailedError
from projections.stores import ViewStore
from projections.view import Handler, View
from projections.worker import Projections
from tests.builders import FakeClock, register_importer, walk_assessment
from tests.integration.view_support import (
    GHOST_TOPIC,
    RawLog,
    differences,
    dump_all,
    load_demo,
)

Script = Callable[[Rows], None]


@dataclass
class Change:
    """Stands in for a domain event: what it does to the rows is `script`."""

    script: Script


def _event(script: Script) -> Any:
    return Change(script)


def _run(rows: Rows, event: Any, _: int) -> None:
    event.script(rows)


class Ledger(View):
    """A view with every shape of table the real views have."""

    name = "rows_ledger"
    tables: ClassVar[dict[str, str]] = {
        "rl_cases": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, district TEXT, "
                     "officer TEXT, opened_day INTEGER NOT NULL, days INTEGER, "
                     "open_items INTEGER NOT NULL, roles TEXT"),
        "rl_items": ("case_id TEXT NOT NULL, item TEXT NOT NULL, number TEXT NOT NULL, "
                     "due_on TEXT NOT NULL, done INTEGER NOT NULL, reminded INTEGER, "
                     "overdue INTEGER NOT NULL, note TEXT, PRIMARY KEY (case_id, item)"),
        "rl_names": "name TEXT PRIMARY KEY, case_id TEXT NOT NULL",
    }
    handlers: ClassVar[dict[type[Any], Handler]] = {Change: _run}


AGAIN = OnConflict(update=("due_on", "done", "note"), kept=("reminded", "overdue"),
                   unless_same="due_on")


def _case(rows: Rows, case: str, district: str | None = "11", officer: str | None = None,
          ) -> None:
    rows.insert("rl_cases", (case, f"N-{case}", district, officer, 100, None, 0, " "))


def _item(rows: Rows, case: str, item: str, due_on: str, note: str | None = None) -> None:
    rows.insert("rl_items", (case, item, Lookup("rl_cases", case, "number"), due_on, 0, None,
                             0, note), requires=("rl_cases", case), on_conflict=AGAIN)


SCRIPTS: dict[str, list[Script]] = {
    "insert once, a second insert of the key ignored": [
        lambda r: _case(r, "a"), lambda r: _case(r, "a", district="99")],
    "insert requiring a row that is there, and one that is not": [
        lambda r: _case(r, "a"), lambda r: _item(r, "a", "x", "2026-01-01"),
        lambda r: _item(r, "zz", "x", "2026-01-01")],
    "due again: the same date keeps its flags, a new one resets them": [
        lambda r: _case(r, "a"), lambda r: _item(r, "a", "x", "2026-01-01"),
        lambda r: _item(r, "a", "y", "2026-01-01"),
        lambda r: r.update("rl_items", ("a", "x"), {"reminded": 3, "overdue": 1, "done": 1}),
        lambda r: r.update("rl_items", ("a", "y"), {"reminded": 3, "overdue": 1}),
        lambda r: _item(r, "a", "x", "2026-01-01", note="same"),
        lambda r: _item(r, "a", "y", "2026-02-01", note="moved")],
    "lookups: found, missing (default), NULL column (default), chained": [
        lambda r: _case(r, "a", officer="ann"), lambda r: _case(r, "b", district=None),
        lambda r: r.insert("rl_names", ("n1", Lookup("rl_cases", "a", "officer", "none"))),
        lambda r: r.insert("rl_names", ("n2", Lookup("rl_cases", "zz", "officer", "none"))),
        lambda r: r.insert("rl_names", ("n3", Lookup("rl_cases", "b", "officer", "none"))),
        lambda r: r.insert("rl_names", ("n5", "a")),
        lambda r: r.insert("rl_names", ("n4", Lookup(
            "rl_cases", Lookup("rl_names", "n5", "case_id"), "number", "-"))),
        lambda r: r.insert("rl_names", ("n6", Lookup(
            "rl_cases", Lookup("rl_names", "n1", "case_id"), "number", "-")))],
    "updates by key, conditional, of a missing row, keyed by a lookup": [
        lambda r: _case(r, "a"), lambda r: _case(r, "b"),
        lambda r: r.insert("rl_names", ("bee", "b")),
        lambda r: r.update("rl_cases", "a", {"officer": "ann", "district": None}),
        lambda r: r.update("rl_cases", "a", {"number": "X"}, when={"officer": "bob"}),
        lambda r: r.update("rl_cases", "a", {"number": "Y"}, when={"officer": "ann"}),
        lambda r: r.update("rl_cases", "a", {"number": "Z"}, when={"district": None}),
        lambda r: r.update("rl_cases", "zz", {"number": "W"}),
        lambda r: r.update("rl_cases", Lookup("rl_names", "bee", "case_id"), {"officer": "b"}),
        lambda r: r.update("rl_cases", Lookup("rl_names", "nobody", "case_id"),
                           {"officer": "c"})],
    "expressions see the row as it was": [
        lambda r: _case(r, "a"),
        lambda r: r.update("rl_cases", "a", {"open_items": Plus(1)}),
        lambda r: r.update("rl_cases", "a", {"open_items": Plus(1), "days": AtLeast(2)}),
        lambda r: r.update("rl_cases", "a", {"open_items": Plus(-1), "days": AtLeast(1)}),
        lambda r: r.update("rl_cases", "a", {"days": Difference(130, "opened_day"),
                                             "opened_day": 7}),
        lambda r: r.update("rl_cases", "a", {"roles": WithWord("officer")}),
        lambda r: r.update("rl_cases", "a", {"roles": WithWord("officer")}),
        lambda r: r.update("rl_cases", "a", {"roles": WithWord("supervisor")}),
        lambda r: r.update("rl_cases", "a", {"roles": WithoutWord("officer")}),
        lambda r: r.update("rl_cases", "a", {"district": None}),
        lambda r: r.update("rl_cases", "a", {"days": None}),
        lambda r: r.update("rl_cases", "a", {"days": AtLeast(5)})],
    "updates by a non-key column, deletes by single and composite keys": [
        lambda r: _case(r, "a"), lambda r: _case(r, "b"),
        lambda r: _item(r, "a", "x", "2026-01-01", note="k"),
        lambda r: _item(r, "a", "y", "2026-01-02", note="k"),
        lambda r: _item(r, "b", "x", "2026-01-03", note="k"),
        lambda r: r.update_where("rl_items", {"case_id": "a", "item": "y"}, {"note": "only"}),
        lambda r: r.update_where("rl_items", {"case_id": "a"}, {"done": 1}),
        lambda r: r.update_where("rl_items", {"note": None}, {"done": 7}),
        lambda r: r.delete("rl_items", ("a", "x")), lambda r: r.delete("rl_cases", "b"),
        lambda r: r.delete("rl_cases", "zz"),
        lambda r: _item(r, "a", "x", "2026-03-01"),
        lambda r: r.update_where("rl_items", {"case_id": "a"}, {"reminded": 1})],
}


def _text(rows: Any) -> list[tuple[str, ...]]:
    return sorted(tuple("" if v is None else str(v) for v in row) for row in rows)


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_the_statements_and_the_memory_fold_leave_the_same_rows(
        app: ComplianceCases, script: list[Script]) -> None:
    store = Projections(app).store
    store.create(Ledger)
    view = Ledger(store.tracking, store)
    store.apply(view, [(_event(step), n) for n, step in enumerate(script, start=1)],
                Tracking(store.tracking_name(Ledger), len(script)))
    memory = MemoryRows(Ledger.schemas)
    for step in script:
        step(memory)

    in_memory = {table: _text(memory.rows(table)) for table in Ledger.tables}
    assert store.dump(Ledger) == in_memory
    assert any(in_memory.values())


def test_an_insert_without_conflict_handling_fails_on_a_second_row_in_both_readings(
        app: ComplianceCases) -> None:
    store = Projections(app).store
    store.create(Ledger)
    twice: list[Script] = [lambda r: r.insert("rl_names", ("n", "a"), on_conflict=None)] * 2
    with pytest.raises(IntegrityError):
        store.apply(Ledger(store.tracking, store), [(_event(s), n) for n, s in
                                                    enumerate(twice, start=1)],
                    Tracking(store.tracking_name(Ledger), 2))
    memory = MemoryRows(Ledger.schemas)
    twice[0](memory)
    with pytest.raises(DuplicateKeyError):
        twice[1](memory)


def test_rows_written_as_they_come_are_emitted_once_and_never_changed_or_looked_up() -> None:
    emitted: list[list[Any]] = []
    memory = MemoryRows(Ledger.schemas, {"rl_names": emitted.append})
    memory.insert("rl_names", ("n", "a"))
    memory.insert("rl_names", ("n", "b"))  # the key again: ignored, as in SQL
    assert emitted == [["n", "a"]]
    assert list(memory.rows("rl_names")) == []
    refusals: list[Callable[[], None]] = [
        lambda: memory.update("rl_names", "n", {"case_id": "c"}),
        lambda: memory.delete("rl_names", "n"),
        lambda: memory.insert("rl_cases", ("a", Lookup("rl_names", "n", "case_id"), None, None,
                                           1, None, 0, None))]
    for refused in refusals:
        with pytest.raises(ValueError, match="written as they come"):
            refused()


# -- the rebuild across two processes ----------------------------------------------------


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[_ForkedRebuild]:
    """Every rebuild forks (on PostgreSQL), however short the log; the forks made."""
    made: list[_ForkedRebuild] = []

    class Counted(_ForkedRebuild):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(rebuild_views, "FORK_FROM", 0)
    monkeypatch.setattr(rebuild_views, "_ForkedRebuild", Counted)
    return made


def _postgres(store: ViewStore) -> bool:
    return type(store).__name__ == "PostgresViewStore"


def test_views_rebuilt_in_two_processes_equal_the_views_kept_current_event_by_event(
        app: ComplianceCases, forks: list[_ForkedRebuild]) -> None:
    load_demo(app, accounts=120)
    projections = Projections(app)
    projections.catch_up()
    kept = dump_all(projections.store)

    applied = projections.rebuild_all()

    assert differences(kept, dump_all(projections.store)) == {}
    assert applied["audit_log"] == app.recorder.max_notification_id()
    assert len(forks) == (1 if _postgres(projections.store) else 0)
    end = app.recorder.max_notification_id()
    assert {view.name: projections.store.position(view) for view in VIEWS.values()} == \
        dict.fromkeys(VIEWS, end)


@pytest.mark.usefixtures("forks")
def test_a_rebuild_in_two_processes_stops_at_an_event_the_audit_log_cannot_decode(
        app: ComplianceCases, clock: FakeClock, store: Any) -> None:
    walk_assessment(app, register_importer(app), "surveyed", clock=clock)
    ghost = RawLog(app, store).insert(
        uuid4(), 1, GHOST_TOPIC, b'{"actor":"user:ghost","reason":"r",'
        b'"timestamp":"2026-03-01T10:00:00+00:00"}')
    register_importer(app)
    projections = Projections(app)

    with pytest.raises(ProjectionFailedError) as failure:
        projections.rebuild_all()

    assert (failure.value.view, failure.value.notification_id) == ("audit_log", ghost)
    assert projections.store.position(VIEWS["audit_log"]) is None  # the live view is as it was
