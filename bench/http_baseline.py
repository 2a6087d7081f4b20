"""The baseline of the HTTP read benchmark: a bare litestar + msgspec endpoint returning
the very bytes our authenticated case read returned, served by the same uvicorn, with the
same workers, in the same run. What separates the two is authentication, authorisation,
the case load and its encoding: our layers."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get

BODY_FILE = "BENCH_BASELINE_BODY"


def create_baseline_app() -> Litestar:
    body = Path(os.environ[BODY_FILE]).read_bytes()

    @get("/api/assessments/{number:str}", sync_to_thread=False)
    def read(number: str) -> Response[bytes]:  # noqa: ARG001 - parsed, as ours is
        return Response(body, media_type="application/json", headers={"ETag": '"1"'})

    return Litestar(route_handlers=[read], openapi_config=None)


DSN_VAR, TABLE_VAR, ORIGINATOR_VAR, VERSION_VAR = (
    "BENCH_BASELINE_DSN", "BENCH_BASELINE_TABLE", "BENCH_BASELINE_ORIGINATOR",
    "BENCH_BASELINE_VERSION")


def create_db_baseline_app() -> Litestar:
    """The second baseline: the bare endpoint plus the one database read a current case
    read cannot avoid (are there events after the version this process holds? the query
    the aggregate cache's fast-forward sends), through a psycopg pool of the same size,
    in a worker thread as ours. Against it the ratio measures our layers, not the round
    trip that keeps every API process's reads current."""
    from psycopg import sql
    from psycopg_pool import ConnectionPool

    body = Path(os.environ[BODY_FILE]).read_bytes()
    schema, _, table = os.environ[TABLE_VAR].rpartition(".")
    name = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    statement = sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                        "WHERE originator_id = %s AND originator_version > %s "
                        "ORDER BY originator_version ASC").format(name)
    originator, version = os.environ[ORIGINATOR_VAR], int(os.environ[VERSION_VAR])
    pool = ConnectionPool(os.environ[DSN_VAR], min_size=5, max_size=5, open=True)

    @get("/api/assessments/{number:str}", sync_to_thread=True)
    def read(number: str) -> Response[bytes]:  # noqa: ARG001 - parsed, as ours is
        with pool.connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, (originator, version), prepare=True)
            cursor.fetchall()
        return Response(body, media_type="application/json", headers={"ETag": '"1"'})

    return Litestar(route_handlers=[read], openapi_config=None, on_shutdown=[lambda: pool.close()])
