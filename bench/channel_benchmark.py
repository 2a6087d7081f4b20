"""Benchmark 10: channel decisions for a million declarations over a store of 443,000
importers with risk scores.

`ChannelDecisions.decide` (what `compliance channel` runs) over 1,000,000 loaded
declarations under four published rules, random share 0.02: ours is decide()'s wall time,
judged on entries/s. The baseline (a diagnostic ratio) is the database work alone: the same
SELECT of the undecided entries joined with risk_scores fetched into Python, plus a raw COPY
of the same 1,000,000 decision rows into a copy of channel_decisions.

The store is benchmark 9's when it ran earlier in the same run (`--only risk,channel`) and
otherwise one built the same way (bench.scored_store); building it, generating the
declarations (interfaces.national_data.write_entries), importing them (`compliance import
entries`) and publishing the rules are never timed. Ours is built as production composes it
(interfaces.analysis_composition.build_channel), afresh for each run, as each CLI invocation
would.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from psycopg import sql

from application.ingest.schemas import IngestKind
from application.targeting.channel import ChannelDecisions, ChannelSummary
from bench.benchmarks import UI, Sizes
from bench.common import Measure, ProfileSummary, Result, StageSpec, pg_connect, profile
from bench.harness import (
    RateTargetResult,
    line_of,
    load_fact,
    median,
    profile_seconds,
    secs,
    share,
    stage_measures,
    stage_summary,
    where,
    which,
)
from bench.harness import middle as middle_of
from bench.ingest_benchmarks import IngestBenchmarks
from bench.ingest_runs import timed_import
from bench.pg_raw import copy_file, copy_out, execute, raw_select, scalar, server_ms
from bench.scored_store import DIRECTORY, REGISTERED, SAVE, SQL_TABLES, ScoredStore
from infrastructure.account_directory import AccountDirectory
from infrastructure.sql_tables import SqlTables
from interfaces.analysis_composition import build_channel
from interfaces.cli.national_demo import publish_demo_rules
from interfaces.national_data import NationalFiles, write_entries

CHANNEL_ACTOR = "system:channel"
RANDOM_SHARE = 0.02
DECISION_COLUMNS = ("entry_number", "run_id", "importer_number", "district", "entry_date",
                    "channel", "targeted_channel", "basis", "rules", "reason")
# The same statement as TargetingTables.undecided_entries.
UNDECIDED = (
    "SELECT e.entry_number, e.importer_number, e.entry_date, e.district, e.hs_code, "
    "e.origin_country, e.entered_value_cents, e.batch_id, r.tier, r.category, r.score "
    "FROM {entries} e LEFT JOIN {risk} r ON r.importer_number = e.importer_number "
    "WHERE NOT EXISTS (SELECT 1 FROM {decisions} d WHERE d.entry_number = e.entry_number) "
    "ORDER BY e.entry_number")

CHANNEL_STAGES = {
    "read entries": "read entries (undecided_entries: SELECT entries ⋈ risk_scores, rows "
                    "into Python tuples, then pyarrow arrays)",
    "decided": "decide (published rules loaded, compliance class per declaration from the "
               "account histories, rule masks, risk categories, random draw)",
    "stored": "store (reasons, decision table, ChannelRun event, then the decisions by COPY "
              "in 100,000-row chunks, up to the last chunk)",
    "after": "commit (after the last chunk)",
}


@dataclass
class _Decision:
    summary: ChannelSummary
    seconds: float
    stages: dict[str, float]
    """label -> seconds, in order, summing to `seconds`"""
    to_first_chunk: float
    """seconds from 'decided' to the first stored chunk: reasons, table, event, one chunk"""


def _decide(channel: ChannelDecisions, advance: Callable[[int], None]) -> _Decision:
    """decide() timed stage by stage from its progress callback (the time of the last call
    for each stage; 'stored' is called once per COPY chunk)."""
    marks: list[tuple[str, float]] = []

    def progress(stage: str, done: int, _total: int) -> None:
        marks.append((stage, time.perf_counter()))
        advance(done)

    start = time.perf_counter()
    summary = channel.decide(actor=CHANNEL_ACTOR, random_share=RANDOM_SHARE, seed=0,
                             progress=progress)
    end = time.perf_counter()
    last: dict[str, float] = {}
    for stage, at in marks:
        last[stage] = at
    first_stored = next(at for stage, at in marks if stage == "stored")
    stages: dict[str, float] = {}
    before = start
    for stage in ("read entries", "decided", "stored"):
        stages[CHANNEL_STAGES[stage]] = last[stage] - before
        before = last[stage]
    stages[CHANNEL_STAGES["after"]] = end - before
    return _Decision(summary, end - start, stages, first_stored - last["decided"])


CHANNEL = "application/targeting/channel.py"
MATCHING = "application/targeting/matching.py"
RULES_READ = ("application/targeting_commands.py", "rules", "cum")

READ_FETCH = "read entries: the SELECT executed, its rows fetched as Python tuples"
READ_ARROW = "read entries: the tuples transposed into pyarrow arrays"
HISTORY_REST = "account directory: history events, and a dict lookup per declaration"
MASKS = "rule masks"
REASONS = "reasons:"
DECIDE_OWN = "decide's own per-declaration Python"
STORE = "store: the decisions encoded to CSV"
CHANNEL_PROFILE_STAGES: list[StageSpec] = [
    (f"{READ_FETCH} (SqlTables.rows: psycopg execute + fetchall, incl. waiting)",
     [(SQL_TABLES, "rows", "cum", 1)]),
    (f"{READ_ARROW} (SqlTables.arrow: zip(*rows), pa.array per column) and freed",
     [("infrastructure/targeting_tables.py", "undecided_entries", "cum", 1),
      (SQL_TABLES, "rows", "cum", -1)]),
    (f"{REGISTERED} (AccountDirectory.registered, called by histories for _with_class)",
     [(DIRECTORY, "registered", "cum", 1)]),
    (f"{HISTORY_REST} (the rest of _with_class)",
     [(CHANNEL, "_with_class", "cum", 1), (DIRECTORY, "registered", "cum", -1)]),
    (f"{MASKS} (pyarrow compute, vectorised: matching.rule_mask)",
     [(MATCHING, "rule_mask", "cum", 1)]),
    ("published rules loaded (rule_numbers scans the event notifications for Drafted "
     "events, then each rule is loaded)", [(*RULES_READ, 1)]),
    (f"{REASONS} a Python loop building one text per declaration (_reasons)",
     [(CHANNEL, "_reasons", "cum", 1)]),
    (f"{DECIDE_OWN}: an empty list per declaration for its matched rules, the category "
     "list and risk test, batch ids, the rules column joined, decision-table columns",
     [(CHANNEL, "decide", "cum", 1),
      ("infrastructure/targeting_tables.py", "undecided_entries", "cum", -1),
      (CHANNEL, "_with_class|_reasons", "cum", -1), (MATCHING, "rule_mask", "cum", -1),
      (SAVE, "save", "outer", -1), (*RULES_READ, -1)]),
    (f"{STORE} by pyarrow and sent by COPY, 100,000 rows a chunk, incl. waiting for the "
     "server to insert and index them (SqlTables.insert_in)",
     [(SQL_TABLES, "insert_in", "cum", 1)]),
    ("save around the decisions' COPY: the ChannelRun event (collected, encoded, hashed, "
     "inserted under the table lock) and the commit",
     [(SAVE, "save", "outer", 1), (SQL_TABLES, "insert_in", "cum", -1)]),
]


@dataclass
class _Channelled:
    """The declarations loaded into the store and the rules published, for benchmark 10."""

    path: Path
    count: int
    rules: list[str]
    load_s: float


def _load_entries(url: str, sizes: Sizes, ui: UI, ingest: IngestBenchmarks,
                  store: ScoredStore) -> _Channelled:
    """Declarations for the store's importers, imported, and the rules published (not
    timed)."""
    count = sizes.channel_entries
    app, register = store.app, store.register
    with pg_connect(url) as conn:
        values = dict(conn.execute(sql.SQL(
            "SELECT importer_number, annual_value FROM {}").format(
                store.table("risk_scores"))).fetchall())
    files = NationalFiles(register.path, store.trade.path, store.samples, register.count,
                          store.trade.rows, store.sample_lines, frozenset(),
                          {number: float(values[number]) for number in register.numbers})
    path = ingest.directory / "entries.csv"
    ui.log(f"channel: generating {count:,} declarations of {store.year} over "
           f"{register.count:,} importers (not timed)")
    write_entries(path, files, count=count, year=store.year, today=date.today(), seed=10)
    with ui.phase(f"channel: importing {count:,} declarations (not timed)",
                  2 * count) as advance:
        loaded = timed_import(store.ingestion, IngestKind.ENTRIES, path, advance)
    numbers = publish_demo_rules(app, store.year)
    # A settled table, as a day's declarations would be by the time they are channelled
    # (otherwise autovacuum analyses the fresh million rows during the first run).
    execute(url, sql.SQL("VACUUM ANALYZE {}").format(store.table("entries")))
    return _Channelled(path, count, numbers, loaded.seconds)


def bench_channel(url: str, sizes: Sizes, ui: UI, ingest: IngestBenchmarks) -> list[Result]:
    """Benchmark 10 over the ingest group's scored store (benchmark 9's, or one built the
    same way)."""
    load = os.getloadavg()[0]
    store = ingest.scored_store()
    app = store.app
    loaded = _load_entries(url, sizes, ui, ingest, store)
    count = loaded.count
    build_channel(app)  # creates channel_decisions
    decisions = store.table("channel_decisions")
    baseline = store.table("channel_decisions_baseline")
    execute(url, sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
        baseline, decisions))
    select = sql.SQL(UNDECIDED).format(entries=store.table("entries"),
                                       risk=store.table("risk_scores"),
                                       decisions=decisions)
    dump = ingest.directory / "decisions.csv"
    runs: list[_Decision] = []
    reads: list[float] = []
    copies: list[float] = []
    server: list[float] = []
    size = 0
    for round_ in range(sizes.channel_rounds):
        if round_:
            execute(url, sql.SQL("TRUNCATE {}").format(decisions))
        seconds, rows = raw_select(url, select)
        if rows != count:
            raise AssertionError(f"raw SELECT returned {rows:,} rows, expected {count:,}")
        reads.append(seconds)
        server.append(server_ms(url, select) / 1000)
        channel = build_channel(app)
        with ui.phase(f"channel: decide over {count:,} declarations (round "
                      f"{round_ + 1})", 3 * count) as advance:
            run = _decide(channel, advance)
        runs.append(run)
        stored = scalar(url, sql.SQL("SELECT count(*) FROM {}").format(decisions))
        if run.summary.entries != count or stored != count:
            raise AssertionError(f"decide: {run.summary.entries:,} channelled, {stored:,} "
                                 f"stored, expected {count:,}")
        if round_ == 0:
            size = copy_out(url, decisions, DECISION_COLUMNS, "entry_number", dump)
        execute(url, sql.SQL("TRUNCATE {}").format(baseline))
        copies.append(copy_file(url, baseline, DECISION_COLUMNS, dump))
        ui.log(f"channel: round {round_ + 1}: ours {run.seconds:.2f}s; raw SELECT "
               f"{reads[-1]:.2f}s + raw COPY {copies[-1]:.2f}s")
    rules = [(number, scalar(url, sql.SQL(
        "SELECT count(*) FROM {} WHERE rules LIKE {}").format(
            decisions, sql.Literal(f"%{number}@%")))) for number in loaded.rules]
    histories_s = store.time_histories()

    execute(url, sql.SQL("TRUNCATE {}").format(decisions))
    ui.log(f"channel: profiling a decide over the same {count:,} declarations")
    summary = profile(lambda: build_channel(app).decide(
        actor=CHANNEL_ACTOR, random_share=RANDOM_SHARE, seed=0),
        f"ChannelDecisions.decide over {count:,} declarations", CHANNEL_PROFILE_STAGES,
        top=10)
    result = _channel_result(runs, reads, copies, server, histories_s, loaded, rules,
                             size, store, summary)
    result.facts.append(load_fact(load))
    return [result]


def _channel_result(runs: list[_Decision], reads: list[float], copies: list[float],
                    server: list[float], histories_s: float, loaded: _Channelled,
                    rules: list[tuple[str, int]], size: int, store: ScoredStore,
                    summary: ProfileSummary) -> Result:
    count = loaded.count
    middle: _Decision = middle_of(runs, lambda run: run.seconds)
    read_s, copy_s = median(reads), median(copies)
    ours_m = Measure("ChannelDecisions.decide(random_share=0.02): read the undecided "
                     "declarations with their importer's risk, match 4 published rules, "
                     "store one decision each by COPY + a ChannelRun event in one transaction",
                     middle.seconds, count, "entries",
                     note=f"{which(len(runs))}: {secs([run.seconds for run in runs])}")
    base_m = Measure("raw psycopg: the same SELECT (entries ⋈ risk_scores, undecided, in "
                     "entry order) fetched into Python tuples + raw COPY FROM STDIN (FORMAT "
                     "csv) of the same decision rows into a copy of channel_decisions (LIKE "
                     "... INCLUDING ALL), one transaction", read_s + copy_s, count, "entries",
                     note=f"SELECT {read_s:.2f}s ({which(len(reads))}: {secs(reads)}) + COPY "
                          f"{copy_s:.2f}s ({which(len(copies))}: {secs(copies)})")
    result = RateTargetResult(
        key="channel", title=f"10. Channel decisions for {count:,} declarations",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="ours entries/s ÷ the raw SELECT + COPY's entries/s, a diagnostic; the "
                   "target is on ours' throughput",
        target=50_000, target_text="ours ≥ 50,000 entries/s", higher_is_better=True,
        sizes={"declarations": count, "importers (with risk scores)": store.register.count,
               "published rules": len(loaded.rules), "random share": f"{RANDOM_SHARE:.0%}",
               "decision rows": f"{size / count:.0f} bytes each as CSV "
                                f"({size / 1024 / 1024:.0f} MiB)",
               "rounds (SELECT before ours, COPY after; decisions truncated between)":
                   len(runs)},
        diagnostics=[
            Measure("diagnostic: the raw SELECT alone", read_s, count, "rows",
                    note=which(len(reads))),
            Measure("diagnostic: the same SELECT inside PostgreSQL (EXPLAIN ANALYZE, rows "
                    "not sent)", median(server), count, "rows",
                    note=f"{which(len(server))}: {secs(server)}"),
            Measure("diagnostic: the raw COPY alone", copy_s, count, "rows",
                    note=which(len(copies))),
            Measure("diagnostic: AccountDirectory.histories() alone (fresh directory)",
                    histories_s, store.register.count, "importers", note="one run"),
            *stage_measures(middle.stages, count, "entries", middle.seconds)],
        profile=summary)
    channelled = middle.summary
    result.facts.append(
        f"Stages of ours (the median run, {middle.seconds:.2f} s, from the progress "
        "callback): " + "; ".join(f"{label} {seconds:.2f} s ({share(seconds, middle.seconds)})"
                                  for label, seconds in middle.stages.items())
        + f". From 'decided' to the first 100,000-row chunk stored: "
        f"{middle.to_first_chunk:.2f} s.")
    result.facts.append(
        "Decisions: " + ", ".join(f"{channel} {n:,}" for channel, n in channelled.counts.items())
        + f" ({channelled.random_exams:,} at random); by basis "
        + ", ".join(f"{basis} {n:,}" for basis, n in sorted(channelled.by_basis.items()))
        + "; declarations matched per rule: "
        + ", ".join(f"{number} {n:,}" for number, n in rules) + ".")
    result.facts.append(
        f"Set-up, not timed: the store came from {store.built_by}; {count:,} declarations of "
        f"{store.year} (interfaces.national_data.write_entries: importers drawn by the square "
        "root of their annual value, one in five lodged outside the home district) imported "
        f"through `compliance import entries` in {loaded.load_s:.1f} s, then VACUUM ANALYZE "
        "of entries; the 4 rules drafted, approved by a second user and published.")
    result.limits = _channel_limits(result, middle, read_s, copy_s, median(server),
                                    histories_s)
    return result


MATCHED_LISTS_AT = line_of(ChannelDecisions.decide, "[[] for _ in range(count)]")


def _channel_limits(result: Result, middle: _Decision, read_s: float, copy_s: float,
                    server_s: float, histories_s: float) -> str:
    summary = result.profile
    assert summary is not None
    read, decided, stored, commit = middle.stages.values()
    database = read_s + copy_s
    return (
        ("Met" if result.met else "Missed")
        + f" ({result.ours.rate:,.0f} entries/s against 50,000; {middle.seconds:.1f} s for "
        f"the {result.ours.count:,}). The database work alone takes {database:.1f} s "
        f"({share(database, middle.seconds)} of ours): the raw SELECT {read_s:.1f} s "
        f"({server_s:.1f} s of it inside PostgreSQL, the rest sending the rows and psycopg "
        f"building Python tuples) and the raw COPY {copy_s:.1f} s. By the progress callback "
        "ours spends "
        f"{read:.1f} s reading, {decided:.1f} s deciding and {stored + commit:.1f} s "
        "storing. Reading: SqlTables.rows fetches the same tuples as the raw SELECT "
        f"({profile_seconds(summary, READ_FETCH):.1f} s in the profile), then SqlTables.arrow "
        f"({where(SqlTables.arrow)}) transposes them with zip(*rows) and builds each "
        f"pyarrow column from a Python list ({profile_seconds(summary, READ_ARROW):.1f} s). "
        "Deciding is mostly not the rules (the vectorised masks take "
        f"{profile_seconds(summary, MASKS):.2f} s) but _with_class "
        f"({where(ChannelDecisions._with_class)}): "
        f"to find compliance classes it calls AccountDirectory.histories "
        f"({where(AccountDirectory.histories)}; {histories_s:.1f} s measured alone), whose "
        f"registered() ({where(AccountDirectory.registered)}) reads and msgspec-decodes every "
        f"one of the {result.sizes['importers (with risk scores)']:,} Registered events "
        f"({profile_seconds(summary, REGISTERED):.1f} s in the profile), then decide's own "
        f"per-declaration Python ({profile_seconds(summary, DECIDE_OWN):.1f} s; the largest part "
        "an empty list per declaration for its matched rules, "
        f"`[[] for _ in range(count)]` at {MATCHED_LISTS_AT}: "
        "a million list objects, whose allocation sets off the garbage collector's passes "
        "over every object still alive, the cached registered importers among them). "
        f"Storing is the COPY of the decisions (SqlTables.insert_in, "
        f"{profile_seconds(summary, STORE):.1f} s in the profile, against the raw COPY's "
        f"{copy_s:.1f} s: PostgreSQL parsing and inserting the rows with their text primary "
        f"key and run_id index, under the events table's lock) after _reasons' Python loop "
        f"({profile_seconds(summary, REASONS):.2f} s). Profile of ours: "
        f"{stage_summary(result, 4)}.")
