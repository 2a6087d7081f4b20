"""Benchmark 13, the lists at national scale over HTTP (`--only http-national`).

`GET /api/worklist?district=11` and `GET /api/register?district=11` (and the register's
second page, through the cursor the first returned) on the national demo data set (443,000
importers, 1,000,000 declarations: what `compliance demo --scale national` loads, through
the same code), served by the real server (`uvicorn --workers 2`), logged in as district
11's supervisor, 4 keep-alive connections. Target: p95 < 100 ms. The baseline is the SQL
the endpoint sends, sent straight to PostgreSQL by as many threads (psycopg, one connection
each): what our layers add is the difference.

Loading the data set takes about 9 minutes and is not timed. With BENCH_NATIONAL_SCHEMA
set, that schema is used as it is when it holds a ledger, else loaded and kept (keys in
$TMPDIR/<schema>-keys), so later runs skip the load; without it a fresh schema is loaded
and dropped afterwards. `--quick` loads 20,000 importers instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from bench.common import (
    Measure,
    Result,
    drop_schema,
    percentile_ms,
    pg_connect,
    pg_settings,
    unique_schema,
)
from bench.http_harness import WORKERS, environment, measure_load, uvicorn_server
from bench.http_load import request_bytes, run_load
from domain.user import Role
from infrastructure.settings import Settings
from interfaces.composition import build_password_hasher, initialise_store, utc_now

SCHEMA_VARIABLE = "BENCH_NATIONAL_SCHEMA"
TARGET_MS = 100.0
CONNECTIONS = 4
DISTRICT = "11"
USER = f"supervisor-{DISTRICT}"
QUICK_IMPORTERS = 20_000
Log = Callable[[str], None]


@contextmanager
def national_store(url: str, importers: int, log: Log) -> Iterator[Settings]:
    """Settings of a schema holding the national demo, caught up, with USER able to log in."""
    kept = os.environ.get(SCHEMA_VARIABLE)
    schema = kept or unique_schema("national")
    keys = Path(tempfile.gettempdir()) / f"{schema}-keys"
    settings = dataclasses.replace(
        pg_settings(url, schema), seal_key_path=keys / "seal.key",
        seal_public_key_path=keys / "seal.key.pub", seal_witness_path=keys / "witness.jsonl")
    try:
        with pg_connect(url) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        _load(settings, importers, log)
        yield settings
    finally:
        if not kept:
            drop_schema(url, schema)
            for name in ("seal.key", "seal.key.pub", "witness.jsonl"):
                (keys / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                keys.rmdir()


def _load(settings: Settings, importers: int, log: Log) -> None:
    # Imported here: the demo loads numpy and pyarrow, which other benchmarks do without.
    from interfaces.cli.context import CliContext
    from interfaces.cli.national_demo import load_national
    from interfaces.cli.step_times import StepTimes
    from interfaces.demo_users import Person, create_people, give_logins
    from interfaces.national_data import NATIONAL_ENTRIES, NATIONAL_SAMPLES, scaled
    from projections.views.account_register import AccountRegister
    from projections.views.worklist import WorkList
    from projections.worker import Projections

    initialise_store(settings)
    context = CliContext(settings)
    try:
        app = context.app
        if not app.recorder.max_notification_id():
            log(f"loading the national demo ({importers:,} importers) into "
                f"{settings.postgres_schema} (not timed)")
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="compliance-bench-national-") as folder:
                load_national(context, importers=importers,
                              samples=scaled(NATIONAL_SAMPLES, importers, 1000),
                              entries=scaled(NATIONAL_ENTRIES, importers, 2000), seed=42,
                              today=date.today(), directory=Path(folder), times=StepTimes())
            log(f"loaded in {time.perf_counter() - started:.0f} s")
        else:
            log(f"reusing the national demo in {settings.postgres_schema}")
        if create_people(app, [Person(USER, (Role.SUPERVISOR,), (DISTRICT,))], utc_now()):
            password = build_password_hasher(settings).hash(_password())
            give_logins(app, {Role.SUPERVISOR: USER}, password, utc_now())
        Projections(app).catch_up([WorkList, AccountRegister])  # the views the lists read
    finally:
        context.close()


def _password() -> str:
    from interfaces.demo_users import DEMO_PASSWORD

    return DEMO_PASSWORD


Statements = list[tuple[str, tuple[Any, ...]]]


def _direct_sql(settings: Settings, read: Callable[[Any], object]) -> Statements:
    """The statements `read(store)` sends to the database, in psycopg's placeholders."""
    from interfaces.composition import build_application
    from projections.worker import Projections

    app = build_application(settings)
    try:
        store = Projections(app).store
        with mock.patch.object(store, "rows", wraps=store.rows) as rows:
            read(store)
        return [(store.placeholders(call.args[0]), tuple(call.args[1]))
                for call in rows.call_args_list]
    finally:
        app.close()


def _baseline(url: str, label: str, statements: Statements, requests: int) -> Measure:
    """The same statements straight to PostgreSQL, CONNECTIONS threads, one connection each."""
    latencies: list[float] = []
    lock = threading.Lock()

    def work(count: int) -> None:
        with pg_connect(url) as conn:
            for index in range(count + count // 10):
                started = time.perf_counter()
                for statement, params in statements:
                    conn.execute(statement, params, prepare=True).fetchall()
                if index >= count // 10:  # the first tenth warms up
                    with lock:
                        latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=work, args=(requests // CONNECTIONS,))
               for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Measure(label, time.perf_counter() - started, len(latencies), "queries",
                   median_ms=percentile_ms(latencies, 0.5),
                   p95_ms=percentile_ms(latencies, 0.95),
                   p99_ms=percentile_ms(latencies, 0.99), max_ms=max(latencies) * 1000)


def bench_http_national(url: str, *, quick: bool = False, requests: int | None = None,
                        seconds: float = 30.0, log: Log = print) -> list[Result]:
    from interfaces.national_data import NATIONAL_IMPORTERS
    from projections import queries
    from projections.listing import account_page

    importers = QUICK_IMPORTERS if quick else NATIONAL_IMPORTERS
    requests = requests or (200 if quick else 1000)
    with national_store(url, importers, log) as settings:
        with uvicorn_server("interfaces.http.app:create_app_from_env",
                            environment(settings)) as port:
            base = f"http://127.0.0.1:{port}"
            login = httpx.post(f"{base}/api/auth/login",
                               json={"username": USER, "password": _password()})
            login.raise_for_status()
            cookie = f"cl_session={login.cookies['cl_session']}"
            first = httpx.get(f"{base}/api/register?district={DISTRICT}",
                              headers={"Cookie": cookie}).json()
            worklist_rows = len(httpx.get(f"{base}/api/worklist?district={DISTRICT}",
                                          headers={"Cookie": cookie}).json()["items"])
            cursor = first["next_cursor"]
            paths = {"worklist": f"/api/worklist?district={DISTRICT}",
                     "register": f"/api/register?district={DISTRICT}"}
            if cursor:
                paths["register page 2"] = f"/api/register?district={DISTRICT}&cursor={cursor}"
            measured = {}
            for name, path in paths.items():
                request = request_bytes("GET", path, {"Cookie": cookie})
                run_load(port, request, connections=CONNECTIONS,
                         max_requests=requests // 10, max_seconds=seconds / 3)  # warm-up
                label = f"GET {path.split('&')[0]}" + (" (page 2)" if "&" in path else "")
                measured[name] = measure_load(label, run_load(
                    port, request, connections=CONNECTIONS, max_requests=requests,
                    max_seconds=seconds))
                log(f"{name}: median {measured[name].median_ms:.1f} ms, "
                    f"p95 {measured[name].p95_ms:.1f} ms")
        today, scope = utc_now().date(), frozenset({DISTRICT})
        reads: dict[str, Callable[[Any], object]] = {
            "worklist": lambda store: queries.worklist(store, today, district=DISTRICT),
            "register": lambda store: account_page(store, districts=scope, importers=None,
                                                   district=DISTRICT, limit=100),
            "register page 2": lambda store: account_page(
                store, districts=scope, importers=None, district=DISTRICT, limit=100,
                cursor=cursor)}
        baselines = {name: _baseline(url, "the same SQL straight to PostgreSQL",
                                     _direct_sql(settings, reads[name]), requests)
                     for name in measured}
    return [_result(f"13{'abc'[i]}", name, measured[name], baselines[name], importers,
                    worklist_rows if name == "worklist" else len(first["items"]))
            for i, name in enumerate(measured)]


def _result(key: str, name: str, ours: Measure, baseline: Measure, importers: int,
            rows: int) -> Result:
    p95 = ours.p95_ms or 0.0
    return Result(
        key, f"National {name} over HTTP (district {DISTRICT})", "PostgreSQL", ours,
        baseline, p95 / TARGET_MS, "p95 latency / 100 ms", 1.0, "p95 < 100 ms", False,
        sizes={"importers": importers, "rows per page": rows, "connections": CONNECTIONS,
               "workers": WORKERS},
        facts=[f"p95 ours {p95:.1f} ms, the same SQL alone {baseline.p95_ms or 0.0:.1f} ms; "
               f"medians {ours.median_ms or 0.0:.1f} ms and {baseline.median_ms or 0.0:.1f} ms",
               f"logged in as {USER} (supervisor, district {DISTRICT})",
               *([f"the national demo opens no cases: the work list holds {rows} rows, so "
                  "this measures the request path more than the query"]
                 if name == "worklist" else [])],
        limits="per request: the caller (cached), whether the view is behind the log (two "
               "small queries), the list's SQL, encoding; the baseline is that SQL alone")
