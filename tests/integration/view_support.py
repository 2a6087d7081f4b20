"""What the view tests share (test_views, test_view_runners, test_view_rows and
test_view_catch_up_far_behind): a demo loaded into a store, the views dumped and compared,
waiting for runners, the raw log."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from application.compliance_cases import ComplianceCases
from infrastructure.settings import Settings
from infrastructure.stores import postgres_conninfo
from interfaces.demo_population import DemoClock, DemoSummary, generate
from projections.catalogue import VIEWS
from projections.stores import ViewStore
from projections.view import View
from projections.worker import Projections

DEMO_TODAY = date(2026, 11, 1)
FOLLOW_TIMEOUT_S = 10.0
GHOST_TOPIC = "domain.nowhere:Ghost.Appeared"
"""A topic no code defines: an event a view cannot decode."""


# -- helpers ------------------------------------------------------------------------------


def load_demo(app: ComplianceCases, *, accounts: int = 300, seed: int = 11,
              on_assessment: Callable[[], None] | None = None) -> DemoSummary:
    """The demo population (as `compliance demo` loads it) driven through `app`."""
    clock = DemoClock(app.clock())
    app.clock = clock
    return generate(app, clock, accounts=accounts, seed=seed, today=DEMO_TODAY,
                    on_assessment=on_assessment)


def dump_all(store: ViewStore) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    return {view.name: store.dump(view) for view in VIEWS.values()}


def rebuilt_dumps(projections: Projections) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every view rebuilt from the whole log, then dumped."""
    for view in VIEWS.values():
        projections.rebuild(view)
    return dump_all(projections.store)


def differences(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Per view and table, the rows only on one side (for a readable failure)."""
    found: dict[str, Any] = {}
    for view in sorted(set(left) | set(right)):
        for table in sorted(set(left.get(view, {})) | set(right.get(view, {}))):
            a = Counter(left.get(view, {}).get(table, []))
            b = Counter(right.get(view, {}).get(table, []))
            if a != b:
                found[f"{view}.{table}"] = {"only_left": list((a - b).elements())[:5],
                                            "only_right": list((b - a).elements())[:5]}
    return found


def wait_until(condition: Callable[[], bool], timeout: float = FOLLOW_TIMEOUT_S,
               what: str = "condition", state: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s {state()}")
        time.sleep(0.05)


def positions(projections: Projections) -> dict[str, int]:
    return {view.name: projections.store.position(view) or 0 for view in VIEWS.values()}


def all_current(projections: Projections) -> bool:
    newest = projections.app.recorder.max_notification_id() or 0
    return all(position == newest for position in positions(projections).values())


class RawLog:
    """The events table itself, read and written with plain SQL (no library code)."""

    def __init__(self, app: ComplianceCases, settings: Settings) -> None:
        self.table = app.recorder.events_table_name  # type: ignore[attr-defined]
        self.settings = settings
        self.is_sqlite = settings.database_url is None

    def notification_ids(self) -> list[int]:
        if self.is_sqlite:
            with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as conn:
                return [int(row[0]) for row in conn.execute(
                    f"SELECT rowid FROM {self.table} ORDER BY rowid")]
        with psycopg.connect(postgres_conninfo(self.settings)) as conn:
            return [int(row[0]) for row in conn.execute(sql.SQL(
                "SELECT notification_id FROM {} ORDER BY notification_id").format(
                    sql.Identifier(self.settings.postgres_schema, self.table)))]

    def insert(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        """Inserts one row and returns its notification id."""
        if self.is_sqlite:
            with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as conn, conn:
                cursor = conn.execute(
                    f"INSERT INTO {self.table} (originator_id, originator_version, topic, "
                    "state) VALUES (?, ?, ?, ?)", (originator_id.hex, version, topic, state))
                assert cursor.lastrowid is not None
                return int(cursor.lastrowid)
        with psycopg.connect(postgres_conninfo(self.settings)) as conn:
            row = conn.execute(sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s) RETURNING notification_id").format(
                    sql.Identifier(self.settings.postgres_schema, self.table)),
                (originator_id, version, topic, state)).fetchone()
            assert row is not None
            return int(row[0])


def audit_ids(store: ViewStore) -> list[int]:
    return [int(row[0]) for row in store.rows(
        f"SELECT notification_id FROM {store.qualified('al_events')} ORDER BY notification_id")]


@pytest.fixture
def projections(app: ComplianceCases) -> Projections:
    return Projections(app)


# -- 1. caught-up views equal rebuilt views and agree with the cases -----------------------


def follow_in_thread(follower: Projections, stop: threading.Event,
                     views: list[type[View]] | None = None,
                     ) -> tuple[threading.Thread, list[BaseException]]:
    """`follower` following the log on a thread until `stop`; what it raises is collected
    in the returned list (asserted empty by the caller)."""
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            follower.follow(stop, views)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    return thread, errors
