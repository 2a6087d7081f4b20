"""Benchmarks 3 (verify over every event) and 4 (loading a long aggregate with snapshots)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from application.compliance_cases import ComplianceCases
from bench.benchmarks import (
    UI,
    WAIT,
    Sizes,
)
from bench.common import (
    WAITING,
    Measure,
    Result,
    StageSpec,
    application,
    events_table,
    median_ms,
    p95_ms,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
    sqlite_file,
    sqlite_settings,
)
from bench.harness import stage_summary
from bench.workloads import (
    ACTOR,
    populate_accounts,
    walk_assessments,
)
from domain.importer_account import ComplianceClass, Registration
from infrastructure.event_store import ChainedEventStore
from infrastructure.verify import LedgerReport, verify_ledger
from interfaces.demo_population import DemoClock

_NO_WITNESS = Path("/nonexistent/seal-witness.jsonl")


def verify_chains(app: ComplianceCases) -> LedgerReport:
    """verify's pass over the log: links, content hashes and every commit signature."""
    events = app.events
    assert isinstance(events, ChainedEventStore)
    return verify_ledger(app.recorder, events.signer.key.public_key(), _NO_WITNESS)


def _public_key(app: ComplianceCases) -> Ed25519PublicKey:
    events = app.events
    assert isinstance(events, ChainedEventStore)
    return events.signer.key.public_key()


_SIG_MARK = b',"~sig":"'


def _bare_signature_check(public_key: Ed25519PublicKey, state: bytes) -> None:
    """The same Ed25519 work verify does per commit, done bare: one verify over a
    32-byte digest for every event that closes a commit."""
    if state[-139:-130] == _SIG_MARK:
        with contextlib.suppress(InvalidSignature):
            public_key.verify(bytes.fromhex(state[-130:-2].decode()),
                              hashlib.sha256(state).digest())


def _raw_pg_hash(conn: Any, schema: str, table: str, public_key: Ed25519PublicKey) -> int:
    """Raw baseline: one SELECT of the same rows in log order + SHA-256 of each row + one
    Ed25519 verify per signed commit."""
    count = 0
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                               "ORDER BY notification_id").format(sql.Identifier(schema, table)))
        for originator_id, version, topic, state in cursor:
            digest = hashlib.sha256(topic.encode())
            digest.update(originator_id.bytes)
            digest.update(version.to_bytes(8, "big"))
            digest.update(state)
            digest.hexdigest()
            _bare_signature_check(public_key, state)
            count += 1
    return count


def _raw_sqlite_hash(conn: sqlite3.Connection, table: str,
                     public_key: Ed25519PublicKey) -> int:
    count = 0
    query = f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY rowid"
    for originator_id, version, topic, state in conn.execute(query):
        digest = hashlib.sha256(topic.encode())
        digest.update(originator_id.encode())
        digest.update(version.to_bytes(8, "big"))
        digest.update(state)
        digest.hexdigest()
        _bare_signature_check(public_key, state)
        count += 1
    return count


def _verify_rounds(app: ComplianceCases, raw: Callable[[], int], runs: int, ui: UI,
                   label: str) -> tuple[list[float], list[float], list[float], int]:
    """Interleaved runs of ours, the raw baseline and ours with the cyclic GC paused."""
    report = verify_chains(app)  # warm-up, and the correctness check
    if not report.ok:
        raise AssertionError(f"verify found problems in a clean store: {report.findings[:3]}")
    events = report.events
    assert raw() == events
    ours: list[float] = []
    base: list[float] = []
    no_gc: list[float] = []
    with ui.phase(f"verify ({label}): {runs} interleaved rounds", 3 * runs) as advance:
        for _ in range(runs):
            start = time.perf_counter()
            verify_chains(app)
            ours.append(time.perf_counter() - start)
            advance(1)
            start = time.perf_counter()
            raw()
            base.append(time.perf_counter() - start)
            advance(1)
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                verify_chains(app)
                no_gc.append(time.perf_counter() - start)
            finally:
                gc.enable()
            advance(1)
    return ours, base, no_gc, events


def _gc_measure(samples: list[float], events: int) -> Measure:
    seconds = sorted(samples)[len(samples) // 2]
    return Measure("diagnostic: verify_chains with Python's cyclic GC paused", seconds, events,
                   "events", note="median of " + ", ".join(f"{t:.2f}s" for t in samples))


def _verify_result(backend: str, ours: list[float], base: list[float], events: int,
                   aggregates: int, sizes: dict[str, Any], raw_label: str) -> Result:
    ours_s, base_s = sorted(ours)[len(ours) // 2], sorted(base)[len(base) // 2]
    ours_m = Measure("verify_chains(app)", ours_s, events, "events",
                     note="median of " + ", ".join(f"{t:.2f}s" for t in ours))
    base_m = Measure(raw_label, base_s, events, "rows",
                     note="median of " + ", ".join(f"{t:.2f}s" for t in base))
    return Result(
        key="verify", title="3. verify over every event in the store", backend=backend,
        ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="ours events/s ÷ raw rows/s", target=0.50,
        target_text="≥ 50% of raw SELECT + SHA-256 + Ed25519 per commit", higher_is_better=True,
        sizes={**sizes, "events": events, "aggregates": aggregates},
        comparison_only=backend != "PostgreSQL")


READ_PAGES = ("infrastructure/raw_log.py|eventsourcing/postgres.py|eventsourcing/sqlite.py",
              "_page|select_notifications")
VERIFY_COMMON: list[StageSpec] = [
    ("hash chain: event_hash (SHA-256 over the canonical framing)",
     [("infrastructure/hash_chain.py", "event_hash", "cum", 1)]),
    ("hash chain: recorded_prev (reading the link)",
     [("infrastructure/hash_chain.py", "recorded_prev", "cum", 1)]),
    ("verify loop itself (chain heads dict, comparisons)",
     [("infrastructure/verify.py", "verify_chains", "tot", 1)]),
]
VERIFY_STAGES_PG: list[StageSpec] = [
    WAIT,
    ("reading the log pages, client side (driver row conversion, row objects)",
     [(*READ_PAGES, "outer", 1), (*WAITING[:3], -1)]),
    *VERIFY_COMMON,
]
VERIFY_STAGES_SQLITE: list[StageSpec] = [
    ("reading the log pages (sqlite3 query and fetch, row objects)",
     [(*READ_PAGES, "outer", 1)]),
    *VERIFY_COMMON,
]


def bench_verify(url: str, sizes: Sizes, ui: UI, *, sqlite: bool = True) -> list[Result]:
    results: list[Result] = []
    clock = DemoClock(datetime.now(UTC))
    with pg_schema(url, "verify") as schema, application(pg_settings(url, schema),
                                                          clock) as app:
        with ui.phase(f"verify: populating {sizes.verify_accounts:,} accounts",
                      sizes.verify_accounts) as advance:
            population = populate_accounts(app, clock, accounts=sizes.verify_accounts,
                                           on_accounts=advance)
        with ui.phase(f"verify: walking {sizes.verify_assessments} assessments",
                      sizes.verify_assessments) as advance:
            walk_assessments(app, clock, population, sizes.verify_assessments,
                             on_assessment=lambda: advance(1))
        del population
        table = events_table(app)
        with pg_connect(url) as raw:
            ours, base, paused, events = _verify_rounds(
                app, lambda: _raw_pg_hash(raw, schema, table, _public_key(app)),
                sizes.verify_runs, ui, "PostgreSQL")
        aggregates = verify_chains(app).aggregates
        no_gc = _gc_measure(paused, events)
        result = _verify_result("PostgreSQL", ours, base, events, aggregates,
                                {"accounts": sizes.verify_accounts,
                                 "assessments": sizes.verify_assessments},
                                "raw psycopg: SELECT .. ORDER BY notification_id + SHA-256 "
                                "per row + Ed25519 verify per signed commit")
        result.diagnostics.append(no_gc)
        ui.log("verify: profiling one verify (PostgreSQL)")
        result.profile = profile(lambda: verify_chains(app),
                                 f"one verify_chains over {events:,} events", VERIFY_STAGES_PG)
        result.limits = _verify_limits(result)
        results.append(result)
        if sqlite:
            with sqlite_file("verify") as path, application(sqlite_settings(path)) as lite:
                with ui.phase("verify: copying the same events to SQLite", events) as advance:
                    for chunk in _stored_events(url, schema, table):
                        lite.recorder.insert_events(chunk)
                        advance(len(chunk))
                lite_table = events_table(lite)
                raw_lite = sqlite3.connect(path)
                try:
                    ours, base, paused, lite_events = _verify_rounds(
                        lite, lambda: _raw_sqlite_hash(
                            raw_lite, lite_table, _public_key(lite)),
                        sizes.verify_runs, ui, "SQLite")
                finally:
                    raw_lite.close()
                assert lite_events == events
                lite_no_gc = _gc_measure(paused, events)
                lite_result = _verify_result(
                    "SQLite (file)", ours, base, events, aggregates,
                    {"accounts": sizes.verify_accounts,
                     "assessments": sizes.verify_assessments,
                     "data": "the same stored events, copied from PostgreSQL"},
                    ("raw sqlite3: SELECT .. ORDER BY rowid + SHA-256 per row + Ed25519 "
                     "verify per signed commit"))
                lite_result.diagnostics.append(lite_no_gc)
                ui.log("verify: profiling one verify (SQLite)")
                lite_result.profile = profile(lambda: verify_chains(lite),
                                              f"one verify_chains over {events:,} events",
                                              VERIFY_STAGES_SQLITE)
                lite_result.limits = _verify_limits(lite_result)
                results.append(lite_result)
    return results


def _stored_events(url: str, schema: str, table: str,
                   chunk: int = 5_000) -> Iterator[list[StoredEvent]]:
    with pg_connect(url) as conn, conn.transaction(), conn.cursor(name="copy_out") as cursor:
        cursor.itersize = chunk
        cursor.execute(sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                               "ORDER BY notification_id").format(sql.Identifier(schema, table)))
        while rows := cursor.fetchmany(chunk):
            yield [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2],
                               state=bytes(r[3])) for r in rows]


def _verify_limits(result: Result) -> str:
    no_gc = result.diagnostics[0] if result.diagnostics else None
    gc_text = ""
    if no_gc is not None:
        saved = 1 - result.ours.rate / no_gc.rate
        paused_ratio = no_gc.rate / result.baseline.rate
        gc_text = (f" With the cyclic GC paused ours reaches {paused_ratio:.0%} of raw, so "
                   f"about {saved:.0%} of its time is garbage collection triggered by the "
                   "objects made per event." if saved > 0.05 else
                   f" Pausing the cyclic GC makes no measurable difference ({paused_ratio:.0%}"
                   " of raw), so garbage collection is not what limits it.")
    return (("Met. " if result.met else "Missed. ")
            + "Both sides read the same rows in log order and hash each once; ours adds, per "
            "event and in Python, reading the recorded link, the canonical framing for the "
            "hash, the chain-head lookup and its comparisons, plus its own row conversion."
            + gc_text + " Profile of ours: " + stage_summary(result, 4) + ".")


# -- 4. loading a long aggregate ---------------------------------------------------------------


DECODE: StageSpec = ("mapper: decoding snapshot / events (msgspec)",
                    [("infrastructure/mapper.py", "to_domain_event", "cum", 1)])
PROJECT: StageSpec = (
    "eventsourcing: projecting events onto the aggregate (mutate/apply, Protocol checks)",
    [("eventsourcing/application.py", "project_aggregate", "cum", 1),
     ("infrastructure/mapper.py", "to_domain_event", "cum", -1)])
LOAD_STAGES_PG: list[StageSpec] = [
    WAIT,
    ("client side of the two queries (psycopg + recorder), excluding waiting",
     [("eventsourcing/postgres.py|infrastructure/postgres_recorder.py", "select_events",
       "outer", 1), (*WAITING[:3], -1)]),
    DECODE, PROJECT,
]
LOAD_STAGES_SQLITE: list[StageSpec] = [
    ("the two queries (sqlite3 + recorder)",
     [("eventsourcing/sqlite.py", "select_events", "outer", 1)]),
    DECODE, PROJECT,
]


def _build_account(app: ComplianceCases, number: str, events: int, ui: UI, label: str) -> None:
    registration = Registration.parse(number, "Long History Trading Co.", "11", "73",
                                      "2015-03-02")
    app.register_importer(registration, actor=ACTOR, reason="benchmark account")
    classes = list(ComplianceClass)
    with ui.phase(f"load ({label}): building a {events:,}-event aggregate", events) as advance:
        advance(1)
        for index in range(events - 1):
            app.set_compliance_class(number, classes[index % len(classes)], actor=ACTOR,
                                     reason="credit management system rating")
            advance(1)


def _median_loads(app: ComplianceCases, ids: Sequence[uuid.UUID], reps: int,
                  ui: UI, label: str) -> list[list[float]]:
    for aggregate_id in ids:
        for _ in range(20):
            app.repository.get(aggregate_id)
    samples: list[list[float]] = [[] for _ in ids]
    with ui.phase(f"load ({label}): {reps} interleaved loads of each", reps * len(ids)) as advance:
        for _ in range(reps):
            for index, aggregate_id in enumerate(ids):
                start = time.perf_counter()
                app.repository.get(aggregate_id)
                samples[index].append(time.perf_counter() - start)
            advance(len(ids))
    return samples


def _load_backend(app: ComplianceCases, backend: str, long_events: int, sizes: Sizes,
                  ui: UI) -> Result:
    long_no, short_no = "50-0000001LG", "50-0000002SH"
    _build_account(app, long_no, long_events, ui, backend)
    _build_account(app, short_no, sizes.load_short, ui, backend)
    long_id = app.get_importer(long_no).id
    short_id = app.get_importer(short_no).id
    assert app.repository.get(long_id).version == long_events
    assert app.repository.get(short_id).version == sizes.load_short
    assert app.snapshots is not None
    snapshot = app.snapshots.recorder.select_events(long_id, desc=True, limit=1)
    snapshot_version = snapshot[0].originator_version if snapshot else None
    long_s, short_s = _median_loads(app, [long_id, short_id], sizes.load_reps, ui, backend)
    ours_m = Measure(f"app.repository.get of the {long_events:,}-event aggregate",
                     sum(long_s), len(long_s), "loads", median_ms(long_s), p95_ms(long_s),
                     f"latest snapshot at version {snapshot_version}")
    base_m = Measure(f"app.repository.get of a {sizes.load_short}-event aggregate",
                     sum(short_s), len(short_s), "loads", median_ms(short_s), p95_ms(short_s),
                     "no snapshot yet (interval 50)")
    result = Result(
        key="load", title=f"4. Loading a {long_events:,}-event aggregate", backend=backend,
        ours=ours_m, baseline=base_m,
        ratio=ours_m.median_ms / base_m.median_ms,  # type: ignore[operator]
        ratio_text=f"median load time, {long_events:,}-event ÷ {sizes.load_short}-event",
        target=3.0, target_text="≤ 3x the 10-event load", higher_is_better=False,
        sizes={"long aggregate events": long_events, "short aggregate events":
               sizes.load_short, "snapshot interval": 50, "loads per aggregate":
               sizes.load_reps}, comparison_only=backend != "PostgreSQL")

    ui.log(f"load ({backend}): profiling 200 loads of the long aggregate")
    stages = LOAD_STAGES_PG if backend == "PostgreSQL" else LOAD_STAGES_SQLITE
    result.profile = profile(lambda: [app.repository.get(long_id) for _ in range(200)],
                             "200 x app.repository.get(long aggregate)", stages)

    # Diagnostics: the worst point of the snapshot cycle, and what snapshots save.
    extra = (long_events // 50) * 50 + 49 - long_events
    classes = list(ComplianceClass)
    for index in range(extra):
        app.set_compliance_class(long_no, classes[index % len(classes)], actor=ACTOR,
                                 reason="credit management system rating")
    worst, short_again = _median_loads(app, [long_id, short_id], max(50, sizes.load_reps // 2),
                                       ui, f"{backend}, worst case")
    worst_ratio = median_ms(worst) / median_ms(short_again)
    result.diagnostics.append(Measure(
        f"diagnostic: get at version {long_events + extra:,} (snapshot + {extra} events, the "
        "worst point of the snapshot cycle)", sum(worst), len(worst), "loads",
        median_ms(worst), p95_ms(worst),
        f"{worst_ratio:.2f}x the 10-event load measured alongside "
        f"({median_ms(short_again):.3f} ms)"))
    worst_profile = profile(lambda: [app.repository.get(long_id) for _ in range(200)],
                            "worst case", stages)
    top = sorted(worst_profile.stages, key=lambda stage: stage.share, reverse=True)[:2]
    result.facts.append(
        f"At the worst point of the snapshot cycle (version {long_events + extra:,}: the "
        f"snapshot plus {extra} events) a load takes {median_ms(worst):.3f} ms, "
        f"{worst_ratio:.2f}x the 10-event load; its profile: "
        + "; ".join(f"{stage.label} {stage.share:.0%}" for stage in top) + ".")
    replays: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        project_aggregate(None, app.events.get(long_id))
        replays.append(time.perf_counter() - start)
    result.diagnostics.append(Measure(
        f"diagnostic: replay of all {long_events + extra:,} events without a snapshot",
        sum(replays), len(replays), "replays", median_ms(replays), None,
        f"{median_ms(replays) / base_m.median_ms:.0f}x the short load"))  # type: ignore[operator]
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + f"With a snapshot every 50 versions a load reads at most one snapshot and 49 "
        f"events whatever the history length, so both loads cost about two indexed queries; "
        f"the short one decodes {sizes.load_short} events, the long one the snapshot at "
        f"version {snapshot_version} plus {long_events - (snapshot_version or 0)} events. "
        f"Profile of the long load: {stage_summary(result)}.")
    return result


def bench_load(url: str, sizes: Sizes, ui: UI, *, sqlite: bool = True) -> list[Result]:
    results = []
    with pg_schema(url, "load") as schema, application(pg_settings(url, schema)) as app:
        results.append(_load_backend(app, "PostgreSQL", sizes.load_long, sizes, ui))
    if sqlite:
        with sqlite_file("load") as path, application(sqlite_settings(path)) as app:
            results.append(_load_backend(app, "SQLite (file)", sizes.sqlite_load_long, sizes,
                                         ui))
    return results


# -- 5. a full workflow step: findings -> improvement plan drafted ----------------------------
