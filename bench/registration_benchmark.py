"""Benchmark 2: registering the importer register in bulk (`register_importers`, batches of
10,000, its default, each batch one transaction), against a raw bulk load of the same
stored rows into a table of the events table's shape: COPY on PostgreSQL, and, as a
labelled comparison, one executemany on a SQLite file.

Ours checks every registration first (the rule one by one registration checks), then writes
each batch's Registered events as rows (application.event_rows): fields, msgspec encoding,
hash-chain link and commit signature, through the recorder's own insert, each batch made
while the one before is written on a writer thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg import sql

from application.compliance_cases import ComplianceCases
from bench.benchmarks import (
    NATIONAL_IMPORTERS,
    UI,
    Sizes,
    recorder_name,
)
from bench.common import (
    Measure,
    ProfileSummary,
    Result,
    StageSpec,
    application,
    create_baseline_table,
    events_table,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
    sqlite_file,
    sqlite_settings,
)
from bench.harness import stage_summary
from bench.workloads import ACTOR, registrations
from domain.importer_account import Registration
from infrastructure.settings import Settings

REASON = "national importer register"
ROWS = "infrastructure/bulk_events.py"
ENCODE_PARTS = [("infrastructure/mapper.py", "encode_state", "cum", 1),
                ("infrastructure/hash_chain.py", "content_hash|commit_digest|with_signature",
                 "cum", 1),
                ("infrastructure/signing_keys.py", "sign", "cum", 1)]
STAGES: list[StageSpec] = [
    ("domain: checked_registration (the registration rule, uuid5 ids)",
     [("domain/importer_account.py", "checked_registration", "cum", 1)]),
    ("the Registered events' fields, one dict per importer (_registered_fields)",
     [("application/account_commands.py", "_registered_fields", "cum", 1)]),
    ("msgspec encoding + hash chain (content hashes, the commit signature)", ENCODE_PARTS),
    ("the row path around them (fields checked, links, stored-event rows)",
     [(ROWS, "_stored_events", "cum", 1), *[(f, n, m, -1) for f, n, m, _ in ENCODE_PARTS]]),
    ("waiting for the batch before to be written (COPY and commit on the writer thread, "
     "which this profile of the main thread does not see into)",
     [("concurrent/futures/_base.py", "result", "cum", 1)]),
]
def bench_bulk(url: str, sizes: Sizes, ui: UI, *, sqlite: bool = True) -> list[Result]:
    count = sizes.bulk_accounts
    ui.log(f"bulk: preparing {count:,} registrations (input data, not timed)")
    regs = registrations(count)
    results = [_postgres(url, sizes, ui, regs)]
    if sqlite:
        results.append(_sqlite(sizes, ui, regs))
    return results


def _register(app: ComplianceCases, regs: Sequence[Registration], batch: int,
              advance: Callable[[int], None]) -> tuple[float, list[tuple[float, int]]]:
    marks: list[tuple[float, int]] = []

    def progress(n: int) -> None:
        marks.append((time.perf_counter(), n))
        advance(n)

    start = time.perf_counter()
    outcome = app.register_importers(regs, actor=ACTOR, reason=REASON, batch_size=batch,
                                     progress=progress)
    seconds = time.perf_counter() - start
    assert outcome.registered == len(regs), outcome
    marks.insert(0, (start, 0))
    return seconds, marks


def _profiled(fresh: Callable[[], AbstractContextManager[Settings]], sizes: Sizes,
              what: str, stages: list[StageSpec]) -> ProfileSummary:
    profile_count = sizes.bulk_profile_accounts
    profile_regs = registrations(profile_count, seed=8, prefix=21)
    with fresh() as settings, application(settings) as app:
        return profile(
            lambda: app.register_importers(profile_regs, actor=ACTOR, reason="profiled",
                                           batch_size=sizes.bulk_batch),
            f"register_importers of {profile_count:,} accounts, batch {sizes.bulk_batch:,} "
            f"({what})", stages)


def _postgres(url: str, sizes: Sizes, ui: UI, regs: Sequence[Registration]) -> Result:
    count, batch = len(regs), sizes.bulk_batch
    with pg_schema(url, "bulk") as schema:
        with application(pg_settings(url, schema)) as app:
            with ui.phase(f"bulk: register_importers, batch {batch:,}", count) as advance:
                ours_s, marks = _register(app, regs, batch, advance)
            table = events_table(app)
            recorder = recorder_name(app)
        with pg_connect(url) as conn:
            rows = conn.execute(sql.SQL(
                "SELECT originator_id, originator_version, topic, state FROM {} "
                "ORDER BY notification_id").format(sql.Identifier(schema, table))).fetchall()
        assert len(rows) == count
        create_baseline_table(url, schema, "baseline_events")
        copies: list[float] = []
        baseline = sql.Identifier(schema, "baseline_events")
        with pg_connect(url) as conn, ui.phase("bulk: raw COPY of the same rows",
                                               sizes.bulk_copy_runs) as advance:
            for _ in range(sizes.bulk_copy_runs):
                conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(baseline))
                copies.append(_copy_rows(conn, baseline, rows))
                advance(1)

    stored = [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2], state=r[3])
              for r in rows]
    del rows
    with (pg_schema(url, "bulkwrite") as schema, application(pg_settings(url, schema)) as app,
          ui.phase("bulk: the write path alone (recorder.insert_events)", count) as advance):
        start = time.perf_counter()
        for first in range(0, count, batch):
            chunk = stored[first:first + batch]
            app.recorder.insert_events(chunk)
            advance(len(chunk))
        write_s = time.perf_counter() - start
    del stored

    small_batch, small_count = max(batch // 10, 1), max(batch, count // 5)
    small_regs = registrations(small_count, seed=9, prefix=23)
    with (pg_schema(url, "bulksmall") as schema, application(pg_settings(url, schema)) as app,
          ui.phase(f"bulk: register_importers, batch {small_batch:,}", small_count)
          as advance):
        small_s, _ = _register(app, small_regs, small_batch, advance)
    del small_regs

    ui.log(f"bulk: profiling register_importers of {sizes.bulk_profile_accounts:,}")
    summary = _profiled(lambda: _fresh_pg(url), sizes, "PostgreSQL", STAGES)
    copy_s = sorted(copies)[len(copies) // 2]
    ours_m = Measure(f"ComplianceCases.register_importers (batch {batch:,})", ours_s, count,
                     "accounts")
    base_m = Measure("raw COPY of the same rows (one transaction)", copy_s, count, "rows",
                     note="median of " + ", ".join(f"{c:.2f}s" for c in copies))
    write_m = Measure("diagnostic: the write path alone, app.recorder.insert_events",
                      write_s, count, "rows",
                      note=f"{recorder}; the same encoded rows in batches of {batch:,}")
    result = Result(
        key="bulk", title=f"2. Registering {count:,} importer accounts",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="ours accounts/s ÷ COPY rows/s", target=0.40,
        target_text="≥ 40% of raw COPY throughput", higher_is_better=True,
        sizes={"accounts": count, "batch size": batch, "events per account": 1,
               "COPY runs": sizes.bulk_copy_runs},
        diagnostics=[write_m, Measure(
            f"diagnostic: register_importers with batch {small_batch:,}", small_s,
            small_count, "accounts",
            note="fresh schema; a tenth of the batch: shorter holds of the events table's "
                 "lock, ten times the commits")],
        profile=summary)
    _facts(result, marks, ours_m, base_m)
    write_ratio = write_m.rate / base_m.rate
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + "Ours writes each batch's Registered events as rows (no aggregate or event "
        "object per importer): every registration checked first by the domain's rule "
        "(checked_registration), then per account its fields, the mapper's msgspec "
        "encoding, a SHA-256 link and a stored-event row, and one commit signature per "
        "batch; each batch is made while the one before is written on a writer thread "
        f"({recorder}: a locked, notifying transaction per batch, binary COPY, commit), so "
        "the two overlap. The write path alone, batch after batch, reaches "
        f"{write_ratio:.1%} of the one-transaction COPY"
        f"{', below the target on its own' if write_ratio < result.target else ''}; ours "
        f"is {result.ratio:.1%}. Profile of ours (the main thread): "
        f"{stage_summary(result, 4)}.")
    return result


@contextmanager
def _fresh_pg(url: str) -> Iterator[Settings]:
    with pg_schema(url, "bulkprof") as schema:
        yield pg_settings(url, schema)


@contextmanager
def _fresh_sqlite() -> Iterator[Settings]:
    with sqlite_file("bulkprof") as path:
        yield sqlite_settings(path)


def _facts(result: Result, marks: list[tuple[float, int]], ours_m: Measure,
           base_m: Measure) -> None:
    projected = NATIONAL_IMPORTERS / ours_m.rate
    result.facts.append(
        f"Projected time for {NATIONAL_IMPORTERS:,} accounts at this rate: {projected:.0f} s "
        f"({projected / 60:.1f} min); the raw load would take "
        f"{NATIONAL_IMPORTERS / base_m.rate:.0f} s.")
    batches = marks[1:]
    if len(batches) < 10:
        return
    tenth = len(batches) // 10
    checked = batches[0][0] - marks[0][0]
    first_rate = sum(n for _, n in batches[1:tenth + 1]) / (batches[tenth][0] - batches[0][0])
    last_rate = sum(n for _, n in batches[-tenth:]) / (batches[-1][0] - batches[-tenth - 1][0])
    change = last_rate / first_rate - 1
    trend = ("roughly flat, which supports the linear projection" if abs(change) <= 0.15
             else f"a {-change:.0%} fall, so the linear projection is optimistic" if change < 0
             else f"a {change:.0%} rise (warm-up), so the projection is conservative")
    result.facts.append(
        f"Checking every registration before the first batch took {checked:.2f} s (with "
        f"the first batch's write); after it, throughput of the first tenth of batches "
        f"{first_rate:,.0f}/s, of the last tenth {last_rate:,.0f}/s: {trend}.")


def _copy_rows(conn: Any, table: sql.Composable, rows: Sequence[tuple[Any, ...]]) -> float:
    start = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor, cursor.copy(sql.SQL(
            "COPY {} (originator_id, originator_version, topic, state) FROM STDIN").format(
                table)) as copy:
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - start


# -- SQLite (file), a labelled comparison --------------------------------------------------


def _sqlite(sizes: Sizes, ui: UI, regs: Sequence[Registration]) -> Result:
    count, batch = len(regs), sizes.bulk_batch
    with sqlite_file("bulk") as path:
        with application(sqlite_settings(path)) as app:
            with ui.phase(f"bulk (SQLite): register_importers, batch {batch:,}",
                          count) as advance:
                ours_s, marks = _register(app, regs, batch, advance)
            table = events_table(app)
        with sqlite3.connect(path) as conn:
            rows = conn.execute(f"SELECT originator_id, originator_version, topic, state "
                                f"FROM {table} ORDER BY rowid").fetchall()
    assert len(rows) == count
    inserts = [_sqlite_insert(rows) for _ in range(sizes.bulk_copy_runs)]
    del rows
    ui.log("bulk (SQLite): profiling register_importers")
    summary = _profiled(_fresh_sqlite, sizes, "SQLite", STAGES)
    insert_s = sorted(inserts)[len(inserts) // 2]
    ours_m = Measure(f"ComplianceCases.register_importers (batch {batch:,})", ours_s, count,
                     "accounts")
    base_m = Measure("raw sqlite3: one executemany INSERT of the same rows into a table of "
                     "the events table's shape (one transaction)", insert_s, count, "rows",
                     note="median of " + ", ".join(f"{s:.2f}s" for s in inserts))
    result = Result(
        key="bulk-sqlite", title=f"2. Registering {count:,} importer accounts",
        backend="SQLite (file)", ours=ours_m, baseline=base_m,
        ratio=ours_m.rate / base_m.rate, ratio_text="ours accounts/s ÷ raw INSERT rows/s",
        target=0.40, target_text="≥ 40% of the raw bulk load's throughput",
        higher_is_better=True, comparison_only=True,
        sizes={"accounts": count, "batch size": batch, "raw runs": len(inserts)},
        profile=summary)
    _facts(result, marks, ours_m, base_m)
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + "The same row path as on PostgreSQL, each batch made while the one before is "
        "written; the library's SQLite recorder then inserts the events one statement each "
        "(to learn each notification id), where the baseline makes one executemany. "
        f"Profile of ours (the main thread): {stage_summary(result, 4)}.")
    return result


def _sqlite_insert(rows: Sequence[tuple[Any, ...]]) -> float:
    """The rows into a fresh file, one transaction: the events table's columns and key."""
    with sqlite_file("bulkraw") as path:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE baseline_events (originator_id TEXT, "
                         "originator_version INTEGER, topic TEXT, state BLOB, "
                         "PRIMARY KEY (originator_id, originator_version))")
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO baseline_events VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
            return time.perf_counter() - start
        finally:
            conn.close()
