"""Shared sizes and benchmarks 1-2 (3-4 in bench.verify_load_benchmarks, 5 in
bench.workflow_benchmark, 6 in bench.view_benchmarks, 7-9 in bench.ingest_benchmarks, 10-11
in bench.targeting_benchmarks). Each returns Results comparing ours with a baseline measured
in the same run, on the same database, in a fresh schema (or SQLite file) dropped
afterwards."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.persistence import StoredEvent
from psycopg import sql

from application.account_commands import BULK_REGISTRATION_BATCH
from application.compliance_cases import ComplianceCases
from bench.common import (
    WAITING,
    WAITING_LABEL,
    Measure,
    Result,
    StageSpec,
    application,
    create_baseline_table,
    median_ms,
    p95_ms,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
)
from bench.harness import pct, stage_summary
from bench.workloads import (
    FiveEventCommands,
)
from interfaces.composition import utc_now

NATIONAL_IMPORTERS = 443_000


class UI(Protocol):
    def phase(self, description: str, total: int | None = None
              ) -> AbstractContextManager[Callable[[int], None]]: ...

    def log(self, message: str) -> None: ...


@dataclass(frozen=True)
class Sizes:
    commit_ops: int = 3000
    commit_warmup: int = 100
    commit_rounds: int = 10
    bulk_accounts: int = 100_000
    bulk_batch: int = BULK_REGISTRATION_BATCH
    bulk_copy_runs: int = 3
    bulk_profile_accounts: int = 10_000
    verify_accounts: int = 40_000
    verify_assessments: int = 150
    verify_runs: int = 5
    load_long: int = 10_000
    load_short: int = 10
    load_reps: int = 300
    sqlite_load_long: int = 10_000
    workflow_steps: int = 300
    workflow_warmup: int = 30
    workflow_rounds: int = 10
    workflow_breakdown: int = 100
    workflow_profile: int = 60
    rebuild_events: int = 1_000_000
    rebuild_base_accounts: int = 5_000
    lag_commands: int = 300
    lag_warmup: int = 30
    ingest_samples: int = 1_000_000
    ingest_importers: int = 20_000
    ingest_rounds: int = 3
    register_accounts: int = 443_000
    register_profile_accounts: int = 44_300
    risk_samples: int = 100_000
    risk_profile_accounts: int = 22_150
    channel_entries: int = 1_000_000
    channel_rounds: int = 3
    select_capacity: int = 2_000
    select_rounds: int = 3
    http_requests: int = 20_000
    http_seconds: float = 30.0
    http_commands: int = 2_000


FULL = Sizes()
QUICK = Sizes(commit_ops=100, commit_warmup=20, commit_rounds=4, bulk_accounts=10_000,
              bulk_copy_runs=2, bulk_profile_accounts=2_000, verify_accounts=4_000,
              verify_assessments=30, verify_runs=5, load_long=1_000, load_reps=100,
              sqlite_load_long=1_000, workflow_steps=60, workflow_warmup=10,
              workflow_rounds=4, workflow_breakdown=30, workflow_profile=20,
              rebuild_events=100_000, rebuild_base_accounts=1_500, lag_commands=60,
              lag_warmup=12, ingest_samples=10_000, ingest_importers=200, ingest_rounds=2,
              register_accounts=4_430, register_profile_accounts=1_000, risk_samples=1_000,
              risk_profile_accounts=1_000, channel_entries=10_000, select_capacity=200,
              http_requests=2_000, http_seconds=10.0, http_commands=200)

SAVE_PATHS = "application/compliance_cases.py|eventsourcing/application.py"
PUT = ("infrastructure/event_store.py", "put")
ENCODE_PARTS = [("infrastructure/mapper.py", "to_stored_event", "cum", 1),
                ("infrastructure/hash_chain.py", "event_hash", "cum", 1)]
ADAPT_PART = ("psycopg/_cursor_base.py", "_convert_query", "cum", 1)

WAIT: StageSpec = (WAITING_LABEL, [WAITING])
SAVE_OUTSIDE_STORE: StageSpec = (
    "app.save outside the event store (collecting pending events, snapshot check)",
    [(SAVE_PATHS, "save", "outer", 1), (*PUT, "cum", -1)])
ENCODE: StageSpec = ("msgspec encoding + hash chain (SHA-256 links)", ENCODE_PARTS)
ADAPT: StageSpec = ("psycopg: SQL composition + query parameter adaptation", [ADAPT_PART])
WRITE_CLIENT: StageSpec = (
    "write path, client side (recorder, psycopg protocol / COPY handling, pool), excluding "
    "waiting and query parameter adaptation",
    [(*PUT, "cum", 1), *[(f, n, m, -sign) for f, n, m, sign in ENCODE_PARTS],
     (*WAITING[:3], -1), (*ADAPT_PART[:3], -1)])



def recorder_name(app: ComplianceCases) -> str:
    kind = type(app.recorder)
    return f"{kind.__module__}.{kind.__qualname__}"


# -- 1. durable commit of one command ------------------------------------------------------


def bench_commit(url: str, sizes: Sizes, ui: UI) -> Result:
    make = FiveEventCommands()
    with pg_schema(url, "commit") as schema, application(pg_settings(url, schema)) as app:
        with ui.phase("commit: warm-up (ours)", sizes.commit_warmup) as advance:
            for _ in range(sizes.commit_warmup):
                last = make(utc_now())
                app.save(last)
                advance(1)
        template = app.recorder.select_events(last.id)
        assert len(template) == 5, template
        create_baseline_table(url, schema, "baseline_events")
        insert = sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                         "VALUES (%s, %s, %s, %s)").format(
                             sql.Identifier(schema, "baseline_events"))

        with pg_connect(url) as raw:
            def ours_once() -> float:
                account = make(utc_now())
                start = time.perf_counter()
                app.save(account)
                return time.perf_counter() - start

            def raw_once() -> float:
                oid = uuid.uuid4()
                params = [(oid, e.originator_version, e.topic, e.state) for e in template]
                start = time.perf_counter()
                with raw.transaction(), raw.cursor() as cursor:
                    cursor.executemany(insert, params)
                return time.perf_counter() - start

            def recorder_once() -> float:
                oid = uuid.uuid4()
                stored = [StoredEvent(originator_id=oid, originator_version=e.originator_version,
                                      topic=e.topic, state=e.state) for e in template]
                start = time.perf_counter()
                app.recorder.insert_events(stored)
                return time.perf_counter() - start

            with ui.phase("commit: warm-up (baseline, write path)",
                          2 * sizes.commit_warmup) as advance:
                for _ in range(sizes.commit_warmup):
                    raw_once()
                    recorder_once()
                    advance(2)
            ours: list[float] = []
            base: list[float] = []
            written: list[float] = []
            per_round = max(1, sizes.commit_ops // sizes.commit_rounds)
            with ui.phase(f"commit: {sizes.commit_rounds} interleaved rounds of {per_round}",
                          3 * per_round * sizes.commit_rounds) as advance:
                for _ in range(sizes.commit_rounds):
                    for _ in range(per_round):
                        ours.append(ours_once())
                        advance(1)
                    for _ in range(per_round):
                        base.append(raw_once())
                        advance(1)
                    for _ in range(per_round):
                        written.append(recorder_once())
                        advance(1)

        def measure(label: str, samples: list[float], note: str = "") -> Measure:
            return Measure(label, sum(samples), len(samples), "commits",
                           median_ms(samples), p95_ms(samples), note)

        ours_m = measure("ComplianceCases: app.save(aggregate with 5 new events)", ours)
        base_m = measure("raw psycopg: BEGIN; executemany INSERT x5; COMMIT", base)
        write_m = measure(
            "diagnostic: the write path alone, app.recorder.insert_events(5 encoded rows)",
            written, f"{recorder_name(app)}; same rows, no event collection, encoding or "
            "hashing")
        ui.log("commit: profiling 300 saves of ours")
        pending = [make(utc_now()) for _ in range(300)]
        summary = profile(lambda: [app.save(account) for account in pending],
                          "300 x app.save(5-event aggregate)",
                          [WAIT, ADAPT, WRITE_CLIENT, SAVE_OUTSIDE_STORE, ENCODE])
        recorder = recorder_name(app)

    result = Result(
        key="commit", title="1. Durable commit of one command (5-event save)",
        backend="PostgreSQL", ours=ours_m, baseline=base_m,
        ratio=ours_m.rate / base_m.rate,
        ratio_text="ours commits/s ÷ raw commits/s (sequential, one connection each)",
        target=0.70, target_text="≥ 70% of the raw throughput", higher_is_better=True,
        sizes={"commits per side": len(ours), "warm-up per side": sizes.commit_warmup,
               "rounds (interleaved)": sizes.commit_rounds,
               "payload": "the 5 stored rows of a saved aggregate (same topics and state "
                          "bytes), fresh originator id per commit"},
        diagnostics=[write_m], profile=summary)
    assert ours_m.median_ms is not None
    assert base_m.median_ms is not None
    assert write_m.median_ms is not None
    gap = ours_m.median_ms - base_m.median_ms
    in_write = max(write_m.median_ms - base_m.median_ms, 0.0)
    result.facts.append(
        f"Median latency: ours {ours_m.median_ms:.3f} ms, the write path alone "
        f"{write_m.median_ms:.3f} ms, raw {base_m.median_ms:.3f} ms; of the {gap:.3f} ms "
        f"gap, {in_write:.3f} ms ({pct(in_write / gap) if gap > 0 else '-'}) is in the "
        f"write path ({recorder}) and the rest is Python work above it.")
    result.facts.append(
        f"Ratio of median latencies (less sensitive to tail outliers than throughput): "
        f"{base_m.median_ms / ours_m.median_ms:.1%}; p95 ours {ours_m.p95_ms:.3f} ms, raw "
        f"{base_m.p95_ms:.3f} ms.")
    write_ratio = write_m.rate / base_m.rate
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + "Both sides commit one transaction with one fsync. What separates them: (1) the "
        f"write path ({recorder}) with pre-encoded rows reaches {write_ratio:.1%} of raw"
        f"{', below the target on its own' if write_ratio < result.target else ''}; (2) the "
        "Python work above it (collecting events, msgspec encoding, hash chain, snapshot "
        f"check) brings ours to {result.ratio:.1%}. Profile of ours: "
        f"{stage_summary(result)}.")
    return result


# -- 2. bulk registration: bench.registration_benchmark -----------------------------------


# -- 3. verify ---------------------------------------------------------------------------------
