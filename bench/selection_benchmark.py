"""Benchmark 11: a national selection plan over a store of 443,000 importers with risk
scores.

`SelectionPlanner.plan` (what `compliance select` runs) for a year, capacity 2,000, random
share 0.1, over every scored importer (target: a time). The baseline (a diagnostic ratio)
is the raw read of the scores table, highest score first.

The store is benchmark 9's when it ran earlier in the same run (`--only risk,select`) and
otherwise one built the same way (bench.scored_store); building it is never timed. Ours is
built as production composes it (interfaces.analysis_composition.build_selection), afresh
for each run, as each CLI invocation would.
"""

from __future__ import annotations

import os
import time
from datetime import date

from psycopg import sql

from application.compliance_cases import ComplianceCases
from application.targeting.selection import PlanResult, SelectionPlanner
from bench.benchmarks import UI, Sizes
from bench.common import Measure, ProfileSummary, Result, StageSpec, profile
from bench.harness import (
    TimeTargetResult,
    load_fact,
    median,
    profile_seconds,
    secs,
    share,
    stage_summary,
    where,
)
from bench.ingest_benchmarks import IngestBenchmarks
from bench.pg_raw import raw_select, scalar
from bench.scored_store import DIRECTORY, REGISTERED, SAVE, ScoredStore
from domain.values import Period
from infrastructure.account_directory import AccountDirectory
from interfaces.analysis_composition import build_selection, risk_tables

SELECT_ACTOR = "system:selection"
SELECT_RANDOM_SHARE = 0.1
# The same statement as RiskTables.all_scores.
ALL_SCORES = (
    "SELECT importer_number, score, tier, district, category, compliance_rate, "
    "expected_noncompliant_value FROM {risk} ORDER BY score DESC, importer_number")


SELECTION = "application/targeting/selection.py"
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


def bench_select(url: str, sizes: Sizes, ui: UI, ingest: IngestBenchmarks) -> list[Result]:
    """Benchmark 11 over the ingest group's scored store (benchmark 9's, or one built the
    same way)."""
    load = os.getloadavg()[0]
    store = ingest.scored_store()
    app = store.app
    period = Period(date(store.year, 1, 1), date(store.year, 12, 31))
    capacity = sizes.select_capacity
    random_count = round(capacity * SELECT_RANDOM_SHARE)
    statement = sql.SQL(ALL_SCORES).format(risk=store.table("risk_scores"))
    scored = scalar(url, sql.SQL("SELECT count(*) FROM {}").format(
        store.table("risk_scores")))
    runs: list[float] = []
    reads: list[float] = []
    for round_ in range(sizes.select_rounds):
        if round_ % 2:
            seconds, plan = _plan(app, period, capacity, seed=round_)
            runs.append(seconds)
        seconds, rows = raw_select(url, statement)
        reads.append(seconds)
        if round_ % 2 == 0:
            seconds, plan = _plan(app, period, capacity, seed=round_)
            runs.append(seconds)
        if rows != scored:
            raise AssertionError(f"raw SELECT returned {rows:,}, expected {scored:,}")
        _check_plan(plan, capacity, random_count)
        ui.log(f"select: round {round_ + 1}: ours {runs[-1]:.2f}s, raw SELECT "
               f"{reads[-1]:.2f}s")
    histories_s = store.time_histories()
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
    result.facts.append(load_fact(load))
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



def _select_result(runs: list[float], reads: list[float], histories_s: float,
                   scores_s: float, scored: int, plan: PlanResult, store: ScoredStore,
                   summary: ProfileSummary) -> Result:
    ours_s, read_s = median(runs), median(reads)
    risk = sum(pick.basis == "risk" for pick in plan.picks)
    drawn = len(plan.picks) - risk
    ours_m = Measure(f"SelectionPlanner.plan(period {plan.period}, capacity {plan.capacity:,}, "
                     "random share 0.1): account histories, every score, risk picks, random "
                     "draw, the SelectionPlan event", ours_s, scored, "importers",
                     median_ms=ours_s * 1000,
                     note=f"median of {len(runs)}: {secs(runs)}")
    base_m = Measure("raw psycopg: SELECT importer_number, score, tier, district, category, "
                     "compliance_rate, expected_noncompliant_value FROM risk_scores ORDER BY "
                     "score DESC, importer_number, fetched into Python tuples", read_s, scored,
                     "rows", median_ms=read_s * 1000,
                     note=f"median of {len(reads)} (interleaved with ours): {secs(reads)}")
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
    registered = profile_seconds(summary, REGISTERED)
    result.limits = (
        ("Met" if result.met else "Missed")
        + f" ({ours_s:.1f} s against 5 s). Reading the scores is not the main limit: the raw "
        "read "
        f"of every score takes {read_s:.2f} s and RiskTables.all_scores, a dict per row, "
        f"{scores_s:.2f} s. Most of the time is AccountDirectory.histories "
        f"({where(AccountDirectory.histories)}; {histories_s:.1f} s measured alone, "
        f"{share(histories_s, ours_s)} of ours): its registered() "
        f"({where(AccountDirectory.registered)}) reads and msgspec-decodes all "
        f"{store.register.count:,} Registered events, one Python loop iteration each, only "
        "to map account ids to importer numbers for the history events "
        f"({registered:.1f} s of the {summary.total_s:.1f} s profiled; this store has no "
        "assessments, programmes or classes, so the history events themselves cost little). "
        f"Then plan's own loop over every score ({where(SelectionPlanner.plan)}: a dict "
        "lookup, a float() and a list append per importer, then the eligible list rebuilt "
        f"without the picks; {profile_seconds(summary, PLAN_OWN):.1f} s in the profile). The picks "
        "and the SelectionPlan event are a few percent. Profile of ours: "
        f"{stage_summary(result, 4)}.")
    return result
