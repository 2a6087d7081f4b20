"""Benchmark 6a: rebuilding every view, set-wise, over a store of a million events, against a
raw read of the same rows; on PostgreSQL (the target) and on SQLite (a labelled comparison,
the same events copied into a SQLite file).

Ours is `Projections(app).rebuild_all()`: one read of the log for all views, each event
decoded once and folded into rows in memory, the rows loaded by COPY (PostgreSQL) or large
executemany transactions (SQLite), indexes built after the load, the shadow views caught up
and taking over. The baseline is unchanged from the per-view rebuild this replaced: a
keyset read of every row of the events table in pages of 2,000 (as the live catch-up pages),
so the ratio stays comparable."""

from __future__ import annotations

import contextlib
import resource
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from psycopg import sql

import projections.worker as worker_module
from application.compliance_cases import ComplianceCases
from bench.benchmarks import UI, WAIT, Sizes
from bench.common import (
    Result,
    StageSpec,
    application,
    events_table,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
    sqlite_file,
    sqlite_settings,
)
from bench.rebuild_report import postgres_result, sqlite_result
from bench.verify_load_benchmarks import verify_chains
from bench.workloads import replicate_log
from domain.importer_account import ImporterAccount
from infrastructure.event_store import ChainedEventStore
from interfaces.demo_population import DemoClock, generate
from projections.catalogue import VIEWS
from projections.rebuild_views import FORK_FROM
from projections.runner import CATCH_UP_PAGE
from projections.stores import REBUILD, ViewStore
from projections.view import View
from projections.worker import Projections

REBUILD_STAGES: list[StageSpec] = [
    ("waiting for the next page of the log (read by a thread of its own)",
     [("/queue.py", "get", "cum", 1)]),
    ("mapper: decoding the events (msgspec, one decoder per topic)",
     [("infrastructure/mapper.py", "decoded|to_domain_event", "cum", 1)]),
    ("memory rows: applying each handler's changes (projections/memory_rows.py)",
     [("projections/memory_rows.py", "insert|update|update_where|delete", "cum", 1),
      ("psycopg/_copy.py", "write_row", "cum", -1)]),
    ("COPY of the audit log's rows as they are folded (psycopg write_row)",
     [("psycopg/_copy.py", "write_row", "cum", 1)]),
    ("views: the handlers' own work (the rules, without their row changes) and the loop",
     [("projections/rebuild.py", "fold", "cum", 1), ("/queue.py", "get", "cum", -1),
      ("infrastructure/mapper.py", "decoded|to_domain_event", "cum", -1),
      ("projections/memory_rows.py", "insert|update|update_where|delete", "cum", -1)]),
    ("bulk loads and index builds (waiting for the database, several connections at once)",
     [("projections/rebuild.py", "at_once", "cum", 1)]),
    ("catching the shadow views up and taking over (the live path)",
     [("projections/runner.py", "catch_up", "cum", 1),
      ("projections/stores.py", "promote", "cum", 1)]),
    WAIT,
]


@dataclass
class _Census:
    """What the views' live path does with the base log, counted without a database."""

    events: int
    by_aggregate: Counter[str]
    of_topics: dict[str, int]  # view -> events of its topics
    statements: dict[str, int]  # view -> SQL statements the live path runs for them


def _census(app: ComplianceCases, store: ViewStore) -> _Census:
    notifications = app.recorder.select_notifications(start=1, limit=10_000_000)
    decoded = [(app.mapper.to_domain_event(n), n.id, n.topic) for n in notifications]
    by_aggregate = Counter(topic.rsplit(":", 1)[-1].split(".")[0] for _, _, topic in decoded)
    of_topics: dict[str, int] = {}
    statements: dict[str, int] = {}
    for view_class in VIEWS.values():
        view = view_class(store.tracking, store)
        topics = set(view_class.topics)
        chosen = [(e, n) for e, n, topic in decoded if not topics or topic in topics]
        of_topics[view_class.name] = len(chosen)
        statements[view_class.name] = sum(len(view.statements(e, n)) for e, n in chosen)
    return _Census(len(decoded), by_aggregate, of_topics, statements)


def _raw_read(conn: psycopg.Connection[Any], table: sql.Composable, page: int) -> int:
    """The baseline: every row, in log order, in keyset pages of `page` rows, as the
    catch-up reads them (the same five columns, psycopg's default row conversion)."""
    query = sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {} WHERE notification_id > %s ORDER BY notification_id "
                    "LIMIT %s").format(table)
    count, last = 0, 0
    with conn.cursor() as cursor:
        while True:
            rows = cursor.execute(query, (last, page)).fetchall()
            if not rows:
                return count
            count += len(rows)
            last = rows[-1][0]


def _raw_read_sqlite(path: Path, table: str, page: int) -> int:
    """The same read on SQLite: rowid keyset pages through the sqlite3 module."""
    count, last = 0, 0
    with contextlib.closing(sqlite3.connect(path)) as conn:
        while True:
            rows = conn.execute(f"SELECT rowid, originator_id, originator_version, topic, state "
                                f"FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                (last, page)).fetchall()
            if not rows:
                return count
            count += len(rows)
            last = rows[-1][0]


def _signer(app: ComplianceCases) -> Callable[[bytes], bytes]:
    """The ledger's commit signing, so the replicas' commits verify as the base log's do."""
    events = app.events
    assert isinstance(events, ChainedEventStore)
    return events.signer.sign


def _one_lookup(url: str, schema: str, table: str, topic_suffix: str, key: str) -> str:
    with pg_connect(url) as conn:
        row = conn.execute(sql.SQL(
            "SELECT state FROM {} WHERE topic LIKE %s ORDER BY notification_id DESC LIMIT 1"
        ).format(sql.Identifier(schema, table)), (f"%{topic_suffix}",)).fetchone()
    assert row is not None
    return str(msgspec.json.decode(bytes(row[0]))[key])


@dataclass
class _Run:
    """One timed rebuild: wall time, CPU of this process and of the processes it forked,
    the part spent folding, loading and indexing (the rest: catch-up and takeover)."""

    seconds: float
    cpu_s: float
    forked_cpu_s: float
    set_based_s: float
    applied: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def _timing_set_based(into: list[float]) -> Iterator[None]:
    """Times projections.rebuild_views inside the rebuild (wrapped on the worker module
    for the duration only)."""
    original: Callable[..., dict[str, int]] = getattr(worker_module, "rebuild_views")  # noqa: B009

    def timed(*args: Any, **kwargs: Any) -> dict[str, int]:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - start)

    setattr(worker_module, "rebuild_views", timed)  # noqa: B010 (for the duration only)
    try:
        yield
    finally:
        setattr(worker_module, "rebuild_views", original)  # noqa: B010


def _timed_rebuild(projections: Projections, views: Sequence[type[View]]) -> _Run:
    before, forked = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    inner: list[float] = []
    with _timing_set_based(inner):
        start = time.perf_counter()
        applied = projections.rebuild_all(views)
        seconds = time.perf_counter() - start
    after, forked_after = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return _Run(seconds, _cpu(after) - _cpu(before), _cpu(forked_after) - _cpu(forked),
                sum(inner), applied)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest process it forked (MiB;
    for the whole benchmark so far, an upper bound for the rebuild)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def _live_path(projections: Projections, views: Sequence[type[View]]) -> float:
    """The per-batch path the rebuild used before: each view caught up from nothing into
    shadow tables with its indexes, a transaction of statements per page, then dropped."""
    store = projections.store
    start = time.perf_counter()
    for view in views:
        store.drop(view, REBUILD)
        store.create(view, REBUILD)
        projections.runner(view, REBUILD).catch_up()
    seconds = time.perf_counter() - start
    for view in views:
        store.drop(view, REBUILD)
    return seconds


def _interleaved(rounds: int, first: Callable[[], float], second: Callable[[], float],
                 advance: Callable[[int], None]) -> tuple[list[float], list[float]]:
    ones, twos = [], []
    for _ in range(rounds):
        ones.append(first())
        advance(1)
        twos.append(second())
        advance(1)
    return ones, twos


def bench_rebuild(url: str, sizes: Sizes, ui: UI, *, sqlite: bool = True) -> list[Result]:
    target = sizes.rebuild_events
    views = list(VIEWS.values())
    clock = DemoClock(datetime.now(UTC))
    results: list[Result] = []
    with pg_schema(url, "rebuild") as schema, application(pg_settings(url, schema),
                                                           clock) as app:
        accounts = sizes.rebuild_base_accounts
        with ui.phase(f"rebuild: demo population of {accounts:,} accounts through the "
                      "application (base log)", accounts) as advance:
            demo = generate(app, clock, accounts=accounts, seed=2024, today=date.today(),
                            on_accounts=advance)
        table = events_table(app)
        events = sql.Identifier(schema, table)
        projections = Projections(app)
        store = projections.store
        ui.log(f"rebuild: base log of {demo.events:,} events ({demo.assessments} "
               "assessments); counting what the views' live path does with it")
        census = _census(app, store)
        with ui.phase("rebuild: base log, the live path vs set-based (2 rounds)", 4) as advance:
            live, set_based = _interleaved(
                2, lambda: _live_path(projections, views),
                lambda: _timed_rebuild(projections, views).seconds, advance)
        ui.log(f"rebuild: profiling a rebuild of every view over the base log "
               f"({demo.events:,} events)")
        summary = profile(lambda: projections.rebuild_all(views),
                          f"rebuild of all {len(views)} views over the base log "
                          f"({demo.events:,} events, same mix; one process, below "
                          f"{FORK_FROM:,} events; main thread only)", REBUILD_STAGES)

        with (pg_connect(url) as conn,
              ui.phase(f"rebuild: replicating the base log to {target:,} events by COPY",
                       max(target - demo.events, 0)) as advance):
            replication = replicate_log(conn, schema, table, target, advance,
                                        sign=_signer(app))
        total = app.recorder.max_notification_id() or 0
        if total != replication.total_events:
            raise AssertionError(f"{total} events in the store, expected "
                                 f"{replication.total_events}")
        ui.log(f"rebuild: verify_chains over {total:,} events (the replicas' hash chains)")
        verify_s = time.perf_counter()
        report = verify_chains(app)
        verify_s = time.perf_counter() - verify_s
        if not report.ok or report.events != total:
            raise AssertionError(f"replicated store fails verify: {report.findings[:3]}")
        importer = _one_lookup(url, schema, table, "ImporterAccount.Registered",
                               "importer_number")
        assessment = _one_lookup(url, schema, table, "Assessment.Opened", "number")
        if (app.get_importer(importer).importer_number != importer
                or app.get_assessment(assessment).number != assessment):
            raise AssertionError("a replicated importer or assessment does not load by number")

        runs = _PostgresRuns(views, total)
        with pg_connect(url) as raw:
            runs.measure(projections, lambda: _raw_read(raw, events, CATCH_UP_PAGE), ui)
            registered = raw.execute(sql.SQL("SELECT count(*) FROM {} WHERE topic = %s").format(
                events), (f"{ImporterAccount.Registered.__module__}:"
                          f"{ImporterAccount.Registered.__qualname__}",)).fetchone()
        _check(store, views, total, None if registered is None else int(registered[0]))
        results.append(postgres_result(
            demo.accounts, demo.assessments, census, replication, runs, live, set_based,
            summary, verify_s, report.aggregates))
        if sqlite:
            results.append(sqlite_result(_sqlite_runs(url, schema, table, views, total, ui)))
    return results


OURS_RUNS = 3
"""Rebuilds of all views timed on PostgreSQL, each followed by a raw read: the ratio takes
the median of each side, as noisy as each other on a shared machine."""


@dataclass
class _PostgresRuns:
    """Ours, the raw reads around it, and the groups of views rebuilt alone."""

    views: list[type[View]]
    total: int
    ours: _Run | None = None
    """The median of `ours_runs` (by wall time)."""
    ours_runs: list[_Run] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    alone: dict[str, _Run] = field(default_factory=dict)
    peak_rss_mib: tuple[float, float] = (0.0, 0.0)

    def measure(self, projections: Projections, read: Callable[[], int], ui: UI) -> None:
        def raw_once() -> None:
            start = time.perf_counter()
            count = read()
            self.raw.append(time.perf_counter() - start)
            if count != self.total:
                raise AssertionError(f"the raw read returned {count} of {self.total} rows")

        ui.log("rebuild: warm-up raw read (not timed)")
        read()
        raw_once()
        with ui.phase(f"rebuild: all {len(self.views)} views ({self.total:,} events), "
                      f"{OURS_RUNS} times, each followed by a raw read", OURS_RUNS) as advance:
            for _ in range(OURS_RUNS):
                self.ours_runs.append(_timed_rebuild(projections, self.views))
                advance(1)
                raw_once()
        self.ours = sorted(self.ours_runs, key=lambda run: run.seconds)[OURS_RUNS // 2]
        self.peak_rss_mib = _peak_rss_mib()
        everything = [view for view in self.views if view.handles_everything]
        others = [view for view in self.views if not view.handles_everything]
        for label, group in (("the views that see every event", everything),
                             ("the other views", others)):
            with ui.phase(f"rebuild (diagnostic): {label} alone, then a raw read", 1) as adv:
                self.alone[", ".join(view.name for view in group)] = _timed_rebuild(
                    projections, group)
                adv(1)
            raw_once()


def _check(store: ViewStore, views: Sequence[type[View]], total: int,
           registered: int | None) -> None:
    """The views hold what the log says: every event in the audit log, every registration
    in the register, every view at the end of the log."""
    audit_rows = store.rows(f"SELECT count(*) FROM {store.qualified('al_events')}")[0][0]
    accounts_rows = store.rows(f"SELECT count(*) FROM {store.qualified('ar_accounts')}")[0][0]
    positions = {view.name: store.position(view) for view in views}
    if audit_rows != total or (registered is not None and accounts_rows != registered):
        raise AssertionError(f"views incomplete: audit log {audit_rows} of {total}, "
                             f"register {accounts_rows} of {registered}")
    if any(position != total for position in positions.values()):
        raise AssertionError(f"views not at the end of the log: {positions}")


@dataclass
class SqliteRuns:
    total: int
    copy_s: float
    ours: _Run
    raw: list[float]
    peak_rss_mib: tuple[float, float]


def _sqlite_runs(url: str, schema: str, table: str, views: list[type[View]], total: int,
                 ui: UI) -> SqliteRuns:
    """The PostgreSQL log's rows, byte for byte, in a SQLite file; the same rebuild there."""
    with sqlite_file("rebuild") as path, application(sqlite_settings(path)) as app:
        lite_table = events_table(app)
        start = time.perf_counter()
        with ui.phase(f"rebuild (SQLite): copying the {total:,} events into a SQLite file",
                      total) as advance:
            _copy_to_sqlite(url, schema, table, path, lite_table, advance)
        copy_s = time.perf_counter() - start
        raw: list[float] = []

        def raw_once() -> None:
            begin = time.perf_counter()
            if _raw_read_sqlite(path, lite_table, CATCH_UP_PAGE) != total:
                raise AssertionError("the SQLite raw read did not return every row")
            raw.append(time.perf_counter() - begin)

        _raw_read_sqlite(path, lite_table, CATCH_UP_PAGE)  # warm-up
        raw_once()
        projections = Projections(app)
        with ui.phase(f"rebuild (SQLite): all {len(views)} views", 1) as advance:
            ours = _timed_rebuild(projections, views)
            advance(1)
        raw_once()
        _check(projections.store, views, total, None)
        return SqliteRuns(total, copy_s, ours, raw, _peak_rss_mib())


def _copy_to_sqlite(url: str, schema: str, table: str, path: Path, lite_table: str,
                    advance: Callable[[int], None]) -> None:
    with pg_connect(url) as conn, contextlib.closing(sqlite3.connect(path)) as lite, \
            conn.transaction(), conn.cursor(name="bench_copy_out", binary=True) as cursor:
        cursor.itersize = 20_000
        cursor.execute(sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                               "ORDER BY notification_id").format(sql.Identifier(schema, table)))
        while rows := cursor.fetchmany(20_000):
            with lite:
                lite.executemany(f"INSERT INTO {lite_table} (originator_id, originator_version, "
                                 "topic, state) VALUES (?, ?, ?, ?)",
                                 [(r[0].hex, r[1], r[2], bytes(r[3])) for r in rows])
            advance(len(rows))

