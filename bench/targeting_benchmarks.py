"""Benchmarks 10-11: channel decisions for a million declarations and a national selection
plan, over a store of 443,000 importers with risk scores.

10. `ChannelDecisions.decide` (what `compliance channel` runs) over 1,000,000 loaded
    declarations under four published rules, random share 0.02: ours is decide()'s wall
    time, judged on entries/s. The baseline (a diagnostic ratio) is the database work alone:
    the same SELECT of the undecided entries joined with risk_scores fetched into Python,
    plus a raw COPY of the same 1,000,000 decision rows into a copy of channel_decisions.
11. `SelectionPlanner.plan` (what `compliance select` runs) for a year, capacity 2,000,
    random share 0.1, over every scored importer (target: a time). The baseline (a
    diagnostic ratio) is the raw read of the scores table, highest score first.

The store is benchmark 9's when it ran earlier in the same run (`--only risk,channel,select`)
and otherwise one built the same way (register, a year of trade and sample lines, one risk
run); building it, generating the declarations (interfaces.national_data.write_entries),
importing them (`compliance import entries`) and publishing the rules are never timed. Ours
is built as production composes it (interfaces.analysis_composition.build_channel /
build_selection), afresh for each run, as each CLI invocation would.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from psycopg import sql

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from application.targeting.channel import ChannelDecisions, ChannelSummary
from application.targeting.selection import PlanResult, SelectionPlanner
from bench.benchmarks import UI, Sizes, _stage_summary
from bench.common import (
    Measure,
    ProfileSummary,
    Result,
    StageSpec,
    pg_connect,
    profile,
)
from bench.ingest_benchmarks import (
    SQL_TABLES,
    IngestBenchmarks,
    ScoredStore,
    TimeTargetResult,
    _copy_file,
    _import,
    _load_fact,
    _median,
    _secs,
    _share,
    _stage_measures,
)
from domain.values import Period
from infrastructure.account_directory import AccountDirectory
from infrastructure.sql_tables import SqlTables
from interfaces.analysis_composition import build_channel, build_selection, risk_tables
from interfaces.cli.national_demo import publish_demo_rules
from interfaces.national_data import NationalFiles, write_entries

CHANNEL_ACTOR = "system:channel"
SELECT_ACTOR = "system:selection"
RANDOM_SHARE = 0.02
SELECT_RANDOM_SHARE = 0.1
DECISION_COLUMNS = ("entry_number", "run_id", "importer_number", "district", "entry_date",
                    "channel", "targeted_channel", "basis", "rules", "reason")
# The same statements as TargetingTables.undecided_entries and RiskTables.all_scores.
UNDECIDED = (
    "SELECT e.entry_number, e.importer_number, e.entry_date, e.district, e.hs_code, "
    "e.origin_country, e.entered_value_cents, e.batch_id, r.tier, r.category, r.score "
    "FROM {entries} e LEFT JOIN {risk} r ON r.importer_number = e.importer_number "
    "WHERE NOT EXISTS (SELECT 1 FROM {decisions} d WHERE d.entry_number = e.entry_number) "
    "ORDER BY e.entry_number")
ALL_SCORES = (
    "SELECT importer_number, score, tier, district, category, compliance_rate, "
    "expected_noncompliant_value FROM {risk} ORDER BY score DESC, importer_number")


@dataclass
class RateTargetResult(Result):
    """A result judged on ours' throughput: `target` is a number of units per second. Its
    ratio (ours' throughput ÷ the baseline's) is a diagnostic, not what is judged."""

    @property
    def met(self) -> bool:
        return self.ours.rate >= self.target


# -- timed runs ----------------------------------------------------------------------------

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


def _raw_select(url: str, statement: sql.Composed) -> tuple[float, int]:
    """The statement on one connection, every row fetched as a Python tuple."""
    with pg_connect(url) as conn:
        start = time.perf_counter()
        rows = conn.execute(statement).fetchall()
        return time.perf_counter() - start, len(rows)


def _server_ms(url: str, statement: sql.Composed) -> float:
    """The statement's execution time inside PostgreSQL (EXPLAIN ANALYZE, no per-node
    timing), i.e. without sending the rows."""
    with pg_connect(url) as conn:
        row = conn.execute(sql.SQL("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ")
                           + statement).fetchone()
    assert row is not None
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return float(plan[0]["Execution Time"])


def _dump_decisions(url: str, table: sql.Composable, path: Path) -> int:
    """The stored decisions as CSV with a header, in entry order (not timed)."""
    statement = sql.SQL("COPY (SELECT {} FROM {} ORDER BY entry_number) TO STDOUT "
                        "(FORMAT csv, HEADER true)").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in DECISION_COLUMNS), table)
    size = 0
    with pg_connect(url) as conn, conn.cursor() as cursor, cursor.copy(statement) as copy, \
            path.open("wb") as stream:
        for chunk in copy:
            stream.write(chunk)
            size += len(chunk)
    return size


def _execute(url: str, *statements: sql.Composed) -> None:
    with pg_connect(url) as conn:
        for statement in statements:
            conn.execute(statement)


def _scalar(url: str, statement: sql.Composed) -> Any:
    with pg_connect(url) as conn:
        row = conn.execute(statement).fetchone()
    assert row is not None
    return row[0]


# -- profile stages ------------------------------------------------------------------------

CHANNEL = "application/targeting/channel.py"
MATCHING = "application/targeting/matching.py"
DIRECTORY = "infrastructure/account_directory.py"
SELECTION = "application/targeting/selection.py"
SAVE = "application/case_store.py|application/compliance_cases.py|eventsourcing/application.py"
RULES_READ = ("application/targeting_commands.py", "rules", "cum")

READ_FETCH = "read entries: the SELECT executed, its rows fetched as Python tuples"
READ_ARROW = "read entries: the tuples transposed into pyarrow arrays"
REGISTERED = "account directory: every Registered event read and decoded"
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

PLAN_OWN = "plan's own Python"
SCORES = "scores:"
SELECT_PROFILE_STAGES: list[StageSpec] = [
    (f"{REGISTERED} (AccountDirectory.registered, called by histories)",
     [(DIRECTORY, "registered", "cum", 1)]),
    ("account directory: history events read and folded per importer (the rest of "
     "histories)", [(DIRECTORY, "histories", "cum", 1), (DIRECTORY, "registered", "cum", -1)]),
    (f"{SCORES} every scored importer read as a dict, highest score first "
     "(RiskTables.all_scores)", [("infrastructure/risk_tables.py", "all_scores", "cum", 1)]),
    (f"{PLAN_OWN}: the loop over every score (exclusions, eligible list, risk pool), picks "
     "and their reasons, the eligible-but-not-picked list, the random draw",
     [(SELECTION, "plan", "cum", 1), (DIRECTORY, "histories", "cum", -1),
      ("infrastructure/risk_tables.py", "all_scores", "cum", -1),
      ("domain/selection_plan.py", "record", "cum", -1), (SAVE, "save", "outer", -1)]),
    ("the SelectionPlan event: recorded and saved (picks encoded, hashed, inserted, commit)",
     [("domain/selection_plan.py", "record", "cum", 1), (SAVE, "save", "outer", 1)]),
]


# -- the group -------------------------------------------------------------------------------


@dataclass
class _Channelled:
    """The declarations loaded into the store and the rules published, for benchmark 10."""

    path: Path
    count: int
    rules: list[str]
    load_s: float


class TargetingBenchmarks:
    """Benchmarks 10-11, over the scored store of the ingest group (benchmark 9's, or one
    built the same way). The store and temporary files go when the ingest group closes."""

    def __init__(self, url: str, sizes: Sizes, ui: UI, ingest: IngestBenchmarks) -> None:
        self.url = url
        self.sizes = sizes
        self.ui = ui
        self.ingest = ingest

    def _table(self, store: ScoredStore, name: str) -> sql.Identifier:
        return sql.Identifier(store.schema, name)

    # -- 10 --------------------------------------------------------------------------------

    def _load_entries(self, store: ScoredStore) -> _Channelled:
        """Declarations for the store's importers, imported, and the rules published (not
        timed)."""
        url, ui, count = self.url, self.ui, self.sizes.channel_entries
        app, register = store.app, store.register
        with pg_connect(url) as conn:
            values = dict(conn.execute(sql.SQL(
                "SELECT importer_number, annual_value FROM {}").format(
                    self._table(store, "risk_scores"))).fetchall())
        files = NationalFiles(register.path, store.trade.path, store.samples, register.count,
                              store.trade.rows, store.sample_lines, frozenset(),
                              {number: float(values[number]) for number in register.numbers})
        path = self.ingest.directory / "entries.csv"
        ui.log(f"channel: generating {count:,} declarations of {store.year} over "
               f"{register.count:,} importers (not timed)")
        write_entries(path, files, count=count, year=store.year, today=date.today(), seed=10)
        with ui.phase(f"channel: importing {count:,} declarations (not timed)",
                      2 * count) as advance:
            loaded = _import(store.ingestion, IngestKind.ENTRIES, path, advance)
        numbers = publish_demo_rules(app, store.year)
        # A settled table, as a day's declarations would be by the time they are channelled
        # (otherwise autovacuum analyses the fresh million rows during the first run).
        _execute(url, sql.SQL("VACUUM ANALYZE {}").format(self._table(store, "entries")))
        return _Channelled(path, count, numbers, loaded.seconds)

    def channel(self) -> list[Result]:
        url, sizes, ui = self.url, self.sizes, self.ui
        load = os.getloadavg()[0]
        store = self.ingest.scored_store()
        app = store.app
        loaded = self._load_entries(store)
        count = loaded.count
        build_channel(app)  # creates channel_decisions
        decisions = self._table(store, "channel_decisions")
        baseline = self._table(store, "channel_decisions_baseline")
        _execute(url, sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            baseline, decisions))
        select = sql.SQL(UNDECIDED).format(entries=self._table(store, "entries"),
                                           risk=self._table(store, "risk_scores"),
                                           decisions=decisions)
        dump = self.ingest.directory / "decisions.csv"
        runs: list[_Decision] = []
        reads: list[float] = []
        copies: list[float] = []
        server: list[float] = []
        size = 0
        for round_ in range(sizes.channel_rounds):
            if round_:
                _execute(url, sql.SQL("TRUNCATE {}").format(decisions))
            seconds, rows = _raw_select(url, select)
            if rows != count:
                raise AssertionError(f"raw SELECT returned {rows:,} rows, expected {count:,}")
            reads.append(seconds)
            server.append(_server_ms(url, select) / 1000)
            channel = build_channel(app)
            with ui.phase(f"channel: decide over {count:,} declarations (round "
                          f"{round_ + 1})", 3 * count) as advance:
                run = _decide(channel, advance)
            runs.append(run)
            stored = _scalar(url, sql.SQL("SELECT count(*) FROM {}").format(decisions))
            if run.summary.entries != count or stored != count:
                raise AssertionError(f"decide: {run.summary.entries:,} channelled, {stored:,} "
                                     f"stored, expected {count:,}")
            if round_ == 0:
                size = _dump_decisions(url, decisions, dump)
            _execute(url, sql.SQL("TRUNCATE {}").format(baseline))
            copies.append(_copy_file(url, baseline, DECISION_COLUMNS, dump))
            ui.log(f"channel: round {round_ + 1}: ours {run.seconds:.2f}s; raw SELECT "
                   f"{reads[-1]:.2f}s + raw COPY {copies[-1]:.2f}s")
        rules = [(number, _scalar(url, sql.SQL(
            "SELECT count(*) FROM {} WHERE rules LIKE {}").format(
                decisions, sql.Literal(f"%{number}@%")))) for number in loaded.rules]
        histories_s = self._time_histories(store)

        _execute(url, sql.SQL("TRUNCATE {}").format(decisions))
        ui.log(f"channel: profiling a decide over the same {count:,} declarations")
        summary = profile(lambda: build_channel(app).decide(
            actor=CHANNEL_ACTOR, random_share=RANDOM_SHARE, seed=0),
            f"ChannelDecisions.decide over {count:,} declarations", CHANNEL_PROFILE_STAGES,
            top=10)
        result = _channel_result(runs, reads, copies, server, histories_s, loaded, rules,
                                 size, store, summary)
        result.facts.append(_load_fact(load))
        return [result]

    def _time_histories(self, store: ScoredStore) -> float:
        """AccountDirectory.histories() alone, on a fresh directory (as decide and plan
        call it)."""
        start = time.perf_counter()
        AccountDirectory(store.app.recorder).histories()
        return time.perf_counter() - start

    # -- 11 --------------------------------------------------------------------------------

    def select(self) -> list[Result]:
        url, sizes, ui = self.url, self.sizes, self.ui
        load = os.getloadavg()[0]
        store = self.ingest.scored_store()
        app = store.app
        period = Period(date(store.year, 1, 1), date(store.year, 12, 31))
        capacity = sizes.select_capacity
        random_count = round(capacity * SELECT_RANDOM_SHARE)
        statement = sql.SQL(ALL_SCORES).format(risk=self._table(store, "risk_scores"))
        scored = _scalar(url, sql.SQL("SELECT count(*) FROM {}").format(
            self._table(store, "risk_scores")))
        runs: list[float] = []
        reads: list[float] = []
        for round_ in range(sizes.select_rounds):
            if round_ % 2:
                seconds, plan = _plan(app, period, capacity, seed=round_)
                runs.append(seconds)
            seconds, rows = _raw_select(url, statement)
            reads.append(seconds)
            if round_ % 2 == 0:
                seconds, plan = _plan(app, period, capacity, seed=round_)
                runs.append(seconds)
            if rows != scored:
                raise AssertionError(f"raw SELECT returned {rows:,}, expected {scored:,}")
            _check_plan(plan, capacity, random_count)
            ui.log(f"select: round {round_ + 1}: ours {runs[-1]:.2f}s, raw SELECT "
                   f"{reads[-1]:.2f}s")
        histories_s = self._time_histories(store)
        start = time.perf_counter()
        risk_tables(app).all_scores()
        scores_s = time.perf_counter() - start
        ui.log("select: profiling one plan")
        summary = profile(lambda: build_selection(app).plan(
            period, capacity, SELECT_RANDOM_SHARE, actor=SELECT_ACTOR, seed=99),
            f"SelectionPlanner.plan over {scored:,} scored importers, capacity {capacity:,}",
            SELECT_PROFILE_STAGES, top=10)
        result = _select_result(runs, reads, histories_s, scores_s, scored, plan, store,
                                summary)
        result.facts.append(_load_fact(load))
        return [result]


def _plan(app: ComplianceCases, period: Period, capacity: int, *, seed: int
          ) -> tuple[float, PlanResult]:
    """What `compliance select` runs, timed: a planner composed afresh, then plan()."""
    planner = build_selection(app)
    start = time.perf_counter()
    plan = planner.plan(period, capacity, SELECT_RANDOM_SHARE, actor=SELECT_ACTOR, seed=seed)
    return time.perf_counter() - start, plan


def _check_plan(plan: PlanResult, capacity: int, random_count: int) -> None:
    risk = sum(pick.basis == "risk" for pick in plan.picks)
    drawn = sum(pick.basis == "random" for pick in plan.picks)
    distinct = len({pick.importer_number for pick in plan.picks})
    if (risk, drawn, distinct) != (capacity - random_count, random_count, capacity):
        raise AssertionError(f"plan has {risk} risk and {drawn} random picks ({distinct} "
                             f"distinct importers); expected {capacity - random_count} and "
                             f"{random_count}")


# -- results ---------------------------------------------------------------------------------


def _which(count: int) -> str:
    """How `_median` and `_middle` pick: the middle value, the slower of the two middle
    ones for an even count."""
    return f"median of {count}" if count % 2 else f"upper median of {count}"


def _middle(runs: Sequence[Any], seconds: Callable[[Any], float]) -> Any:
    return sorted(runs, key=seconds)[len(runs) // 2]


def _profile_share(summary: ProfileSummary, prefix: str) -> float:
    return sum(stage.share for stage in summary.stages if stage.label.startswith(prefix))


def _channel_result(runs: list[_Decision], reads: list[float], copies: list[float],
                    server: list[float], histories_s: float, loaded: _Channelled,
                    rules: list[tuple[str, int]], size: int, store: ScoredStore,
                    summary: ProfileSummary) -> Result:
    count = loaded.count
    middle: _Decision = _middle(runs, lambda run: run.seconds)
    read_s, copy_s = _median(reads), _median(copies)
    ours_m = Measure("ChannelDecisions.decide(random_share=0.02): read the undecided "
                     "declarations with their importer's risk, match 4 published rules, "
                     "store one decision each by COPY + a ChannelRun event in one transaction",
                     middle.seconds, count, "entries",
                     note=f"{_which(len(runs))}: {_secs([run.seconds for run in runs])}")
    base_m = Measure("raw psycopg: the same SELECT (entries ⋈ risk_scores, undecided, in "
                     "entry order) fetched into Python tuples + raw COPY FROM STDIN (FORMAT "
                     "csv) of the same decision rows into a copy of channel_decisions (LIKE "
                     "... INCLUDING ALL), one transaction", read_s + copy_s, count, "entries",
                     note=f"SELECT {read_s:.2f}s ({_which(len(reads))}: {_secs(reads)}) + COPY "
                          f"{copy_s:.2f}s ({_which(len(copies))}: {_secs(copies)})")
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
                    note=_which(len(reads))),
            Measure("diagnostic: the same SELECT inside PostgreSQL (EXPLAIN ANALYZE, rows "
                    "not sent)", _median(server), count, "rows",
                    note=f"{_which(len(server))}: {_secs(server)}"),
            Measure("diagnostic: the raw COPY alone", copy_s, count, "rows",
                    note=_which(len(copies))),
            Measure("diagnostic: AccountDirectory.histories() alone (fresh directory)",
                    histories_s, store.register.count, "importers", note="one run"),
            *_stage_measures(middle.stages, count, "entries", middle.seconds)],
        profile=summary)
    channelled = middle.summary
    result.facts.append(
        f"Stages of ours (the median run, {middle.seconds:.2f} s, from the progress "
        "callback): " + "; ".join(f"{label} {seconds:.2f} s ({_share(seconds, middle.seconds)})"
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
    result.limits = _channel_limits(result, middle, read_s, copy_s, _median(server),
                                    histories_s)
    return result


def _where(function: Callable[..., Any]) -> str:
    """`path:line` of a production function's definition as this process loaded it (the
    code object's, as the profile names it; the file may have changed since)."""
    code = function.__code__
    path = Path(code.co_filename).resolve()
    root = Path(__file__).resolve().parents[1]
    relative = path.relative_to(root) if path.is_relative_to(root) else path
    return f"{relative}:{code.co_firstlineno}"


def _line_of(function: Callable[..., Any], text: str) -> str:
    """`path:line` of the first line of `function` containing `text` (its definition when
    no line does). Read from the source file, so call it at import time, when the file is
    the one just loaded."""
    lines, first = inspect.getsourcelines(function)
    offset = next((index for index, line in enumerate(lines) if text in line), 0)
    return f"{_where(function).rsplit(':', 1)[0]}:{first + offset}"


MATCHED_LISTS_AT = _line_of(ChannelDecisions.decide, "[[] for _ in range(count)]")


def _stage_s(summary: ProfileSummary, prefix: str) -> float:
    return sum(stage.seconds for stage in summary.stages if stage.label.startswith(prefix))


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
        f"({_share(database, middle.seconds)} of ours): the raw SELECT {read_s:.1f} s "
        f"({server_s:.1f} s of it inside PostgreSQL, the rest sending the rows and psycopg "
        f"building Python tuples) and the raw COPY {copy_s:.1f} s. By the progress callback "
        "ours spends "
        f"{read:.1f} s reading, {decided:.1f} s deciding and {stored + commit:.1f} s "
        "storing. Reading: SqlTables.rows fetches the same tuples as the raw SELECT "
        f"({_stage_s(summary, READ_FETCH):.1f} s in the profile), then SqlTables.arrow "
        f"({_where(SqlTables.arrow)}) transposes them with zip(*rows) and builds each "
        f"pyarrow column from a Python list ({_stage_s(summary, READ_ARROW):.1f} s). "
        "Deciding is mostly not the rules (the vectorised masks take "
        f"{_stage_s(summary, MASKS):.2f} s) but _with_class "
        f"({_where(ChannelDecisions._with_class)}): "
        f"to find compliance classes it calls AccountDirectory.histories "
        f"({_where(AccountDirectory.histories)}; {histories_s:.1f} s measured alone), whose "
        f"registered() ({_where(AccountDirectory.registered)}) reads and msgspec-decodes every "
        f"one of the {result.sizes['importers (with risk scores)']:,} Registered events "
        f"({_stage_s(summary, REGISTERED):.1f} s in the profile), then decide's own "
        f"per-declaration Python ({_stage_s(summary, DECIDE_OWN):.1f} s; the largest part "
        "an empty list per declaration for its matched rules, "
        f"`[[] for _ in range(count)]` at {MATCHED_LISTS_AT}: "
        "a million list objects, whose allocation sets off the garbage collector's passes "
        "over every object still alive, the cached registered importers among them). "
        f"Storing is the COPY of the decisions (SqlTables.insert_in, "
        f"{_stage_s(summary, STORE):.1f} s in the profile, against the raw COPY's "
        f"{copy_s:.1f} s: PostgreSQL parsing and inserting the rows with their text primary "
        f"key and run_id index, under the events table's lock) after _reasons' Python loop "
        f"({_stage_s(summary, REASONS):.2f} s). Profile of ours: "
        f"{_stage_summary(result, 4)}.")


def _select_result(runs: list[float], reads: list[float], histories_s: float,
                   scores_s: float, scored: int, plan: PlanResult, store: ScoredStore,
                   summary: ProfileSummary) -> Result:
    ours_s, read_s = _median(runs), _median(reads)
    risk = sum(pick.basis == "risk" for pick in plan.picks)
    drawn = len(plan.picks) - risk
    ours_m = Measure(f"SelectionPlanner.plan(period {plan.period}, capacity {plan.capacity:,}, "
                     "random share 0.1): account histories, every score, risk picks, random "
                     "draw, the SelectionPlan event", ours_s, scored, "importers",
                     median_ms=ours_s * 1000,
                     note=f"median of {len(runs)}: {_secs(runs)}")
    base_m = Measure("raw psycopg: SELECT importer_number, score, tier, district, category, "
                     "compliance_rate, expected_noncompliant_value FROM risk_scores ORDER BY "
                     "score DESC, importer_number, fetched into Python tuples", read_s, scored,
                     "rows", median_ms=read_s * 1000,
                     note=f"median of {len(reads)} (interleaved with ours): {_secs(reads)}")
    result = TimeTargetResult(
        key="select", title=f"11. Selection plan over {scored:,} scored importers",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_s / read_s,
        ratio_text="ours' time ÷ the raw read's time, a diagnostic; the target is on ours' "
                   "time",
        target=5.0, target_text="ours ≤ 5 s", higher_is_better=False,
        sizes={"scored importers": scored, "capacity": plan.capacity,
               "random share": f"{SELECT_RANDOM_SHARE:.0%}",
               "picks (checked every run)": f"{risk:,} risk + {drawn:,} random"},
        diagnostics=[
            Measure("diagnostic: AccountDirectory.histories() alone (fresh directory)",
                    histories_s, store.register.count, "importers",
                    median_ms=histories_s * 1000, note="one run"),
            Measure("diagnostic: RiskTables.all_scores() alone (rows as dicts)", scores_s,
                    scored, "rows", median_ms=scores_s * 1000, note="one run")],
        profile=summary)
    result.facts.append(
        f"Every run's plan was checked: exactly {risk:,} risk picks (the highest scores) and "
        f"{drawn:,} random picks, {len(plan.picks):,} distinct importers. Excluded in the "
        "last plan: " + ", ".join(f"{key.replace('_', ' ')} {n:,}"
                                  for key, n in plan.excluded.items()) + ".")
    result.facts.append(f"The store came from {store.built_by}.")
    registered = _stage_s(summary, REGISTERED)
    result.limits = (
        ("Met" if result.met else "Missed")
        + f" ({ours_s:.1f} s against 5 s). Reading the scores is not the main limit: the raw "
        "read "
        f"of every score takes {read_s:.2f} s and RiskTables.all_scores, a dict per row, "
        f"{scores_s:.2f} s. Most of the time is AccountDirectory.histories "
        f"({_where(AccountDirectory.histories)}; {histories_s:.1f} s measured alone, "
        f"{_share(histories_s, ours_s)} of ours): its registered() "
        f"({_where(AccountDirectory.registered)}) reads and msgspec-decodes all "
        f"{store.register.count:,} Registered events, one Python loop iteration each, only "
        "to map account ids to importer numbers for the history events "
        f"({registered:.1f} s of the {summary.total_s:.1f} s profiled; this store has no "
        "assessments, programmes or classes, so the history events themselves cost little). "
        f"Then plan's own loop over every score ({_where(SelectionPlanner.plan)}: a dict "
        "lookup, a float() and a list append per importer, then the eligible list rebuilt "
        f"without the picks; {_stage_s(summary, PLAN_OWN):.1f} s in the profile). The picks "
        "and the SelectionPlan event are a few percent. Profile of ours: "
        f"{_stage_summary(result, 4)}.")
    return result
