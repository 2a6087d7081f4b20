"""The views' keys compare by code point on both stores: a page read after a key (LIMIT
after the key) and the sort Python does over the same values agree only if the database
orders text as Python does. SQLite compares by code point already; PostgreSQL follows the
database's locale unless a column says otherwise, so every column marked CODE_POINTS must
be COLLATE "C" there, both as the views are created and after a rebuild. The schema is
what is checked, not an ORDER BY: on a database whose own locale is C (the test database
here is C.UTF-8) an order would come out right without the collation."""

from __future__ import annotations

import re

from application.compliance_cases import ComplianceCases
from projections.catalogue import VIEWS
from projections.stores import PostgresViewStore, ViewStore
from projections.view import CODE_POINTS
from projections.worker import Projections
from tests.builders import register_importer
from tests.integration.view_support import projections

__all__ = ["projections"]  # fixtures, used by name

_MARKED = re.compile(rf"(\w+) TEXT {re.escape(CODE_POINTS)}")


def _marked_columns() -> dict[str, set[str]]:
    """Per view table, the columns its definition marks CODE_POINTS."""
    marked: dict[str, set[str]] = {}
    for view in VIEWS.values():
        for table, definition in view.tables.items():
            columns = set(_MARKED.findall(definition))
            if columns:
                marked[table] = columns
    return marked


def _collations(store: PostgresViewStore) -> dict[str, dict[str, str | None]]:
    found: dict[str, dict[str, str | None]] = {}
    for table, column, collation in store.rows(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = ? AND data_type = 'text'", (store.schema,)):
        found.setdefault(str(table), {})[str(column)] = (
            None if collation is None else str(collation))
    return found


def test_the_views_mark_the_keys_they_page_by() -> None:
    """The mark is on the columns lists page after (a view losing it would sort by locale
    on PostgreSQL without any test here noticing the difference)."""
    marked = _marked_columns()
    assert {"case_id", "recorded_at", "actor", "case_ref"} <= (
        marked["al_cases"] | marked["al_events"])
    assert {"importer_id", "importer_number"} <= marked["ar_accounts"]


def _check_postgres(store: PostgresViewStore, marked: dict[str, set[str]]) -> None:
    collations = _collations(store)
    for table, columns in marked.items():
        for column in columns:
            assert collations[table][column] == "C", (table, column)
        unmarked = set(collations[table]) - columns
        assert all(collations[table][c] != "C" for c in unmarked), table


def _check_sqlite(store: ViewStore, marked: dict[str, set[str]]) -> None:
    """SQLite's BINARY comparison is by code point: the mark becomes nothing there
    (a COLLATE clause naming PostgreSQL's "C" would not even parse)."""
    for table in marked:
        found = store.rows("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (table,))
        definition = str(found[0][0])
        assert CODE_POINTS not in definition, table
        assert "COLLATE" not in definition.upper(), table


def test_marked_columns_are_code_point_ordered_as_created_and_as_rebuilt(
        app: ComplianceCases, projections: Projections) -> None:
    store = projections.store
    register_importer(app, district="11")
    projections.catch_up()
    marked = _marked_columns()
    for _ in ("created", "rebuilt"):
        if isinstance(store, PostgresViewStore):
            _check_postgres(store, marked)
        else:
            _check_sqlite(store, marked)
        projections.rebuild_all()
