"""Benchmark 6a's results: what was measured (bench.rebuild_benchmark), as report rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.common import Measure, ProfileSummary, Result
from bench.harness import stage_summary
from projections.rebuild_views import FORK_FROM
from projections.runner import CATCH_UP_PAGE
from projections.stores import LOAD_CHUNK, PostgresViewStore, SQLiteViewStore
from projections.worker import FAR_BEHIND

if TYPE_CHECKING:
    from bench.rebuild_benchmark import SqliteRuns, _Census, _PostgresRuns, _Run
    from bench.workloads import Replication

BASELINE = ("raw {driver}: SELECT notification_id, originator_id, originator_version, topic, "
            "state ... ORDER BY notification_id, keyset pages of {page:,} rows (as the "
            "catch-up pages)")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _ours(run: _Run, views: int, total: int, backend: str) -> Measure:
    rest = run.seconds - run.set_based_s
    forked = (f", in the forked process {run.forked_cpu_s:.1f}s"
              if run.forked_cpu_s >= 0.05 else "")
    return Measure(f"Projections(app).rebuild_all(): the {views} views rebuilt set-wise "
                   f"({backend})", run.seconds, total, "events",
                   note=f"fold, load and index {run.set_based_s:.1f}s, catch-up and takeover "
                        f"{rest:.1f}s; CPU here {run.cpu_s:.1f}s{forked}")


def postgres_result(accounts: int, assessments: int, census: _Census,
                    replication: Replication, runs: _PostgresRuns, live: list[float],
                    set_based: list[float], summary: ProfileSummary, verify_s: float,
                    aggregates: int) -> Result:
    assert runs.ours is not None
    total, ours = runs.total, runs.ours
    raw_s = _median(runs.raw)
    ours_m = _ours(ours, len(runs.views), total, "PostgreSQL")
    if len(runs.ours_runs) > 1:
        ours_m.note = (f"median of {len(runs.ours_runs)} rebuilds: "
                       + ", ".join(f"{run.seconds:.2f}s" for run in runs.ours_runs)
                       + f"; that one's {ours_m.note}")
    base_m = Measure(BASELINE.format(driver="psycopg", page=CATCH_UP_PAGE), raw_s, total,
                     "rows", note=f"median of {len(runs.raw)} reads, before ours, after each "
                                  "of its runs and after each diagnostic: "
                                  + ", ".join(f"{t:.2f}s" for t in runs.raw))
    result = Result(
        key="rebuild", title=f"6a. Rebuild of all views over {total:,} events",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="raw read time ÷ the rebuild's time (events/s ÷ rows/s)",
        target=0.25, target_text="≥ 25% of the raw read's throughput", higher_is_better=True,
        sizes={"events": total,
               "base log": f"{census.events:,} events written through the application by the "
                           f"demo population generator: {accounts:,} importer accounts and "
                           f"{assessments} assessments walked command by command to every "
                           "state, with the plans, verifications and enforcement actions their "
                           "findings started",
               "replication": f"{replication.copies} copies of the base log appended by "
                              "binary COPY"
                              + (f" (the last cut to {replication.partial_rows:,} rows)"
                                 if replication.partial_rows else ""),
               "views": ", ".join(view.name for view in runs.views),
               "catch-up page (baseline)": CATCH_UP_PAGE},
        profile=summary)
    for names, run in runs.alone.items():
        result.diagnostics.append(Measure(
            f"diagnostic: rebuild of {names} alone (one process)", run.seconds, total,
            "events", note=f"fold, load and index {run.set_based_s:.1f}s; CPU "
                           f"{run.cpu_s:.1f}s"))
    live_s, set_s = min(live), min(set_based)
    result.diagnostics.append(Measure(
        "diagnostic: the live path over the base log (each view caught up from nothing, a "
        "transaction of SQL statements per page, the rebuild before this one)", live_s,
        census.events, "events", note="best of " + ", ".join(f"{t:.2f}s" for t in live)))
    result.diagnostics.append(Measure(
        "diagnostic: the set-based rebuild over the same base log (one process)", set_s,
        census.events, "events",
        note="best of " + ", ".join(f"{t:.2f}s" for t in set_based)
             + "; interleaved with the row above"))
    _postgres_facts(result, census, replication, runs, live_s, set_s, verify_s, aggregates)
    return result


def _postgres_facts(result: Result, census: _Census, replication: Replication,
                    runs: _PostgresRuns, live_s: float, set_s: float, verify_s: float,
                    aggregates: int) -> None:
    assert runs.ours is not None
    total, ours = runs.total, runs.ours
    mix = ", ".join(f"{name} {count / census.events:.0%}"
                    for name, count in census.by_aggregate.most_common())
    statements = sum(census.statements.values())
    result.facts.append(
        f"The {total:,} events: the base log ({census.events:,} events) and "
        f"{replication.copies} replicas of it, in the base log's order, each with fresh ids "
        "and numbers inside the states and in originator_id, the same topics and state "
        "shapes, and each `_prev` link recomputed so every replica is a valid hash chain. "
        f"Events by aggregate type: {mix}. Replication took {replication.seconds:.1f} s "
        "(not timed as ours).")
    result.facts.append(
        f"Checks: verify_chains passes over all {total:,} events ({aggregates:,} "
        f"aggregates, {verify_s:.1f} s); a replicated importer and assessment load by their "
        "new numbers; after the rebuild the audit log holds one row per event, the account "
        "register one row per registration, and every view's position is the end of the "
        "log. That a rebuilt view equals the view kept current event by event is proven by "
        "the tests (tests/integration/test_views.py, test_view_rows.py), on both stores.")
    rss_here, rss_forked = runs.peak_rss_mib
    result.facts.append(
        f"How: the log read once per process in pages of 5,000 notification ids (binary, "
        f"by a reader thread), each event decoded once and folded by the views' own "
        f"handlers into rows held in memory; the audit log (it sees every event) folded in a "
        f"forked process at the same time as the other views here (logs of {FORK_FROM:,} "
        f"events or more), its rows sent by binary COPY as they are folded; the other "
        f"tables loaded by COPY after the fold; every table's primary key and indexes built "
        f"after its load, several at once. CPU: {ours.cpu_s:.1f} s here, "
        f"{ours.forked_cpu_s:.1f} s in the forked process, for {ours.seconds:.1f} s of wall "
        f"time. Peak resident memory: "
        f"{rss_here:,.0f} MiB here (the benchmark process, an upper bound), "
        f"{rss_forked:,.0f} MiB in the forked process.")
    result.facts.append(
        f"On the base log the set-based rebuild took {set_s:.2f} s against {live_s:.2f} s "
        f"for the live path ({live_s / set_s:.1f}x faster), which runs "
        f"{statements / census.events:.2f} SQL statements per event of the log. "
        "Projections.catch_up takes this path for views far behind the log "
        f"(Projections.far_behind: at least {FAR_BEHIND:,} events behind, and behind by more "
        f"than 1/{PostgresViewStore.rebuild_speedup} of the log on PostgreSQL, "
        f"1/{SQLiteViewStore.rebuild_speedup} on SQLite), then goes on live.")
    raw_s = _median(runs.raw)
    slowest = max(runs.alone.items(), key=lambda item: item[1].seconds, default=None)
    alone = "" if slowest is None else (
        f" Alone, {slowest[0]} takes {slowest[1].seconds:.1f} s ({slowest[1].cpu_s:.1f} s of "
        "CPU): the two processes' folds overlap, so the slower of the two sets ours.")
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + f"The raw read fetches {total:,} rows once ({raw_s:.2f} s, mostly the server's "
        "work); the rebuild reads them too, and then its work is Python's: decoding each "
        "event and running each view's handlers on it, a few microseconds per event per "
        f"view, one processor per process.{alone} The database's share is the COPY of the "
        "rows (which overlaps the fold for the audit log's events and follows it for the "
        "other tables), then the primary keys and indexes built after the load. On a "
        "machine shared with other work the folds get less than a processor each, which the "
        f"raw read (mostly waiting on the server) feels less. Profile of the fold (one "
        f"process, base log): "
        f"{stage_summary(result, 4)}.")


def sqlite_result(runs: SqliteRuns) -> Result:
    total, ours = runs.total, runs.ours
    raw_s = _median(runs.raw)
    ours_m = Measure(
        "Projections(app).rebuild_all(): every view rebuilt set-wise (SQLite file)",
        ours.seconds, total, "events",
        note=f"fold, load and index {ours.set_based_s:.1f}s, catch-up and takeover "
             f"{ours.seconds - ours.set_based_s:.1f}s (which on SQLite builds the indexes "
             f"again under the live names: SQLite cannot rename an index); CPU "
             f"{ours.cpu_s:.1f}s")
    base_m = Measure(BASELINE.format(driver="sqlite3", page=CATCH_UP_PAGE).replace(
        "notification_id", "rowid"), raw_s, total, "rows",
        note=f"median of {len(runs.raw)} reads, before and after ours: "
             + ", ".join(f"{t:.2f}s" for t in runs.raw))
    result = Result(
        key="rebuild", title=f"6a. Rebuild of all views over {total:,} events",
        backend="SQLite (file)", ours=ours_m, baseline=base_m,
        ratio=ours_m.rate / base_m.rate,
        ratio_text="raw read time ÷ the rebuild's time (events/s ÷ rows/s)", target=0.25,
        target_text="≥ 25% of the raw read's throughput", higher_is_better=True,
        comparison_only=True,
        sizes={"events": f"{total:,}: the PostgreSQL run's events, byte for byte, copied into "
                         f"a SQLite file in {runs.copy_s:.1f} s (not timed)",
               "load transactions": f"{LOAD_CHUNK:,} rows each (commands go on between)"})
    rss_here, _ = runs.peak_rss_mib
    result.facts.append(
        f"One process (the fold is not split on SQLite: a second writer would only wait for "
        f"the first); peak resident memory of the benchmark process {rss_here:,.0f} MiB.")
    result.limits = (
        "Comparison only. SQLite reads its own file without a server round trip, so the raw "
        "read is faster than PostgreSQL's while the rebuild's Python work is the same; the "
        "rows are loaded by executemany in transactions of "
        f"{LOAD_CHUNK:,} rows, and the takeover builds the indexes again.")
    return result
