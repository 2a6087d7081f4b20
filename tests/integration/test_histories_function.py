"""The histories read through the store's PL/pgSQL function (infrastructure
postgres_recorder.histories_function): `compliance init` creates it, the rows it gives are
the statement's own, and a store initialised before it existed still loads every aggregate
through the statement until `compliance migrate` creates it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from application.histories import HistoryRequest
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.importer_account import importer_account_id
from infrastructure.postgres_recorder import (
    LockingFunctionApplicationRecorder,
    histories_function_name,
    histories_statement,
)
from infrastructure.settings import Settings, load_settings
from interfaces.composition import build_application, initialise_store
from tests.builders import FakeClock, register_importer, walk_to_findings
from tests.conftest import drop_schema, unique_schema

pytestmark = pytest.mark.postgres

SNAPSHOTS = "compliancecases_snapshots"


@pytest.fixture
def settings(postgres_url: str, tmp_path: Any) -> Iterator[Settings]:
    schema = unique_schema()
    try:
        found = load_settings({"COMPLIANCE_DATABASE_URL": postgres_url,
                               "COMPLIANCE_POSTGRES_SCHEMA": schema,
                               "COMPLIANCE_SEAL_KEY": str(tmp_path / "seal.key")})
        initialise_store(found)
        # Every second event snapshotted: the function's snapshot rows are read too.
        yield dataclasses.replace(found, snapshot_interval=2)
    finally:
        drop_schema(postgres_url, schema)


def _function_exists(url: str, schema: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (
            f"{schema}.{histories_function_name(SNAPSHOTS)}(uuid[], boolean[])",)).fetchone()
    return bool(row and row[0])


def _ids(settings: Settings) -> list[HistoryRequest]:
    """Every kind of request: whole histories (with snapshots), first and last events
    only, and an aggregate that does not exist."""
    clock = FakeClock()
    app = build_application(settings, clock=clock, access_control=False)
    try:
        importer = register_importer(app)
        assessment, _findings = walk_to_findings(app, importer, clock=clock)
        year = clock().year
    finally:
        app.close()
    return [HistoryRequest.full(case_id(assessment)),
            HistoryRequest.full(case_file_id(importer)),
            HistoryRequest.full(importer_account_id(importer)),
            HistoryRequest.first_and_last(sequence_id("CA", year)),
            HistoryRequest.full(uuid.uuid4())]


def test_init_creates_the_function_and_it_gives_the_statements_rows(
        settings: Settings) -> None:
    assert settings.database_url is not None
    assert _function_exists(settings.database_url, settings.postgres_schema)
    requests = _ids(settings)
    params = ([r.originator_id for r in requests], [r.ends for r in requests])
    statement = histories_statement(settings.postgres_schema, "compliancecases_events",
                                    SNAPSHOTS)
    call = sql.SQL("SELECT * FROM {}(%b, %b)").format(
        sql.Identifier(settings.postgres_schema, histories_function_name(SNAPSHOTS)))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        direct = conn.execute(statement, params).fetchall()
        called = conn.execute(call, params).fetchall()
    assert sorted(called) == sorted(direct)
    assert any(is_snapshot for is_snapshot, *_ in called)
    assert len({row[1] for row in called}) == 4  # the missing aggregate has no rows

    app = build_application(settings, clock=FakeClock(), access_control=False)
    try:
        recorder = app.recorder
        assert isinstance(recorder, LockingFunctionApplicationRecorder)
        histories = recorder.select_histories(requests, SNAPSHOTS)
        assert b"cl_histories" in recorder._histories_statements[SNAPSHOTS]
    finally:
        app.close()
    assert set(histories) == {r.originator_id for r in requests[:4]}


def test_a_store_without_the_function_loads_the_same_until_migrate_creates_it(
        settings: Settings) -> None:
    assert settings.database_url is not None
    requests = _ids(settings)
    ids = [r.originator_id for r in requests[:3]]
    before = build_application(settings, clock=FakeClock(), access_control=False)
    try:
        expected = {oid: vars(found) for oid, found in before.load_many(ids).items()}
    finally:
        before.close()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP FUNCTION {}(uuid[], boolean[])").format(
            sql.Identifier(settings.postgres_schema, histories_function_name(SNAPSHOTS))))

    older = build_application(settings, clock=FakeClock(), access_control=False)
    try:
        loaded = {oid: vars(found) for oid, found in older.load_many(ids).items()}
        recorder = older.recorder
        assert isinstance(recorder, LockingFunctionApplicationRecorder)
        assert b"cl_histories" not in recorder._histories_statements[SNAPSHOTS]
    finally:
        older.close()
    assert loaded.keys() == expected.keys() == set(ids)
    for oid in ids:
        assert {k: v for k, v in loaded[oid].items() if k != "_pending_events"} == {
            k: v for k, v in expected[oid].items() if k != "_pending_events"}

    initialise_store(settings)  # compliance migrate
    assert _function_exists(settings.database_url, settings.postgres_schema)
