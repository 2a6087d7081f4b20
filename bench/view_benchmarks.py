"""Benchmark 6, the views: (a) rebuilding every view over a store of a million events, against
a raw read of the same rows; (b) how far the live views lag behind a command.

Both run in a fresh schema (or SQLite file) dropped afterwards, like benchmarks 1-5."""

from __future__ import annotations

import functools
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import Recording
from psycopg import sql

from application.compliance_cases import ComplianceCases
from bench.benchmarks import (
    ADAPT,
    ADAPT_PART,
    UI,
    WAIT,
    Sizes,
    _stage_summary,
)
from bench.common import (
    WAITING,
    Measure,
    ProfileSummary,
    Result,
    StageSpec,
    application,
    events_table,
    median_ms,
    p95_ms,
    percentile_ms,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
    sqlite_file,
    sqlite_settings,
)
from bench.verify_load_benchmarks import DECODE, verify_chains
from bench.workflow_benchmark import FINDINGS_REASON
from bench.workloads import (
    ACTOR,
    OFFICER,
    PLAN_DUTY_PAID,
    PLAN_RATINGS,
    PLAN_SCOPE,
    PLAN_TESTS,
    SUPERVISOR,
    Replication,
    registrations,
    replicate_log,
)
from domain.importer_account import ImporterAccount
from domain.values import parse_period
from infrastructure.sqlite_recorder import POLL_INTERVAL_S
from interfaces.demo_population import DemoClock, generate
from projections.catalogue import VIEWS
from projections.runner import CATCH_UP_PAGE, ViewRunner
from projections.stores import ViewStore
from projections.view import View
from projections.views.audit_log import AuditLog
from projections.views.worklist import WorkList
from projections.worker import Projections

# -- 6a. rebuild of every view ---------------------------------------------------------------

REBUILD_STAGES: list[StageSpec] = [
    WAIT,
    ADAPT,
    ("psycopg client side of the queries, pipelines and commits (protocol, results), "
     "excluding waiting and parameter adaptation",
     [("psycopg/cursor.py", "execute|executemany", "cum", 1),
      ("psycopg/_pipeline.py", "__exit__", "cum", 1),
      (*WAITING[:3], -1), (*ADAPT_PART[:3], -1)]),
    ("reading: fetched rows to Notification objects (eventsourcing select_notifications)",
     [("eventsourcing/postgres.py", "<listcomp>", "cum", 1)]),
    DECODE,
    ("views: building each event's SQL statements (the handlers)",
     [("projections/view.py", "statements", "cum", 1)]),
]


@dataclass
class _Census:
    """What the views do with the base log, counted in Python without a database."""

    events: int
    by_aggregate: Counter[str]
    of_topics: dict[str, int]  # view -> events of its topics
    statements: dict[str, int]  # view -> SQL statements its handlers produce


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


def _raw_read_one_cursor(conn: psycopg.Connection[Any], table: sql.Composable,
                         page: int) -> int:
    count = 0
    with conn.transaction(), conn.cursor(name="bench_raw_read") as cursor:
        cursor.itersize = page
        cursor.execute(sql.SQL("SELECT notification_id, originator_id, originator_version, "
                               "topic, state FROM {} ORDER BY notification_id").format(table))
        for _row in cursor:
            count += 1
    return count


def _rebuild_all(projections: Projections, views: Sequence[type[View]]) -> float:
    start = time.perf_counter()
    for view in views:
        projections.rebuild(view)
    return time.perf_counter() - start


@dataclass
class _ViewRun:
    name: str
    seconds: float
    cpu_seconds: float
    applied: int


def _one_lookup(url: str, schema: str, table: str, topic_suffix: str, key: str) -> str:
    with pg_connect(url) as conn:
        row = conn.execute(sql.SQL(
            "SELECT state FROM {} WHERE topic LIKE %s ORDER BY notification_id DESC LIMIT 1"
        ).format(sql.Identifier(schema, table)), (f"%{topic_suffix}",)).fetchone()
    assert row is not None
    return str(msgspec.json.decode(bytes(row[0]))[key])


def bench_rebuild(url: str, sizes: Sizes, ui: UI) -> Result:
    target = sizes.rebuild_events
    views = list(VIEWS.values())
    clock = DemoClock(datetime.now(UTC))
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
               "assessments); counting what the views do with it")
        census = _census(app, store)

        # On the base log: batch pipeline on (as configured) and off, interleaved.
        piped: list[float] = []
        unpiped: list[float] = []
        with ui.phase("rebuild: base log, batches pipelined vs not (2 rounds)", 4) as advance:
            for _ in range(2):
                piped.append(_rebuild_all(projections, views))
                advance(1)
                setattr(store, "_execute_grouped",  # noqa: B010 (instance attribute on purpose)
                        functools.partial(ViewStore._execute_grouped, store))
                try:
                    unpiped.append(_rebuild_all(projections, views))
                finally:
                    delattr(store, "_execute_grouped")
                advance(1)
        ui.log(f"rebuild: profiling a rebuild of every view over the base log "
               f"({demo.events:,} events)")
        summary = profile(lambda: _rebuild_all(projections, views),
                          f"rebuild of all {len(views)} views over the base log "
                          f"({demo.events:,} events, same mix)", REBUILD_STAGES)

        with (pg_connect(url) as conn,
              ui.phase(f"rebuild: replicating the base log to {target:,} events by COPY",
                       max(target - demo.events, 0)) as advance):
            replication = replicate_log(conn, schema, table, target, advance)
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

        raw_runs: list[float] = []
        runs: list[_ViewRun] = []
        with pg_connect(url) as raw:
            ui.log("rebuild: warm-up raw read (not timed)")
            if _raw_read(raw, events, CATCH_UP_PAGE) != total:
                raise AssertionError("the raw read did not return every row")

            def raw_once() -> None:
                start = time.perf_counter()
                count = _raw_read(raw, events, CATCH_UP_PAGE)
                raw_runs.append(time.perf_counter() - start)
                assert count == total

            raw_once()
            for view in views:
                with ui.phase(f"rebuild: {view.name} ({total:,} events), then a raw read",
                              total) as advance:
                    cpu = time.process_time()
                    start = time.perf_counter()
                    applied = projections.rebuild(view, advance)
                    seconds = time.perf_counter() - start
                    runs.append(_ViewRun(view.name, seconds, time.process_time() - cpu,
                                         applied))
                raw_once()
            ui.log("rebuild: raw read in one server-side cursor (diagnostic)")
            one_cursor = time.perf_counter()
            assert _raw_read_one_cursor(raw, events, CATCH_UP_PAGE) == total
            one_cursor = time.perf_counter() - one_cursor

            # The views hold what the log says: every event in the audit log, every
            # registration in the register, every view at the end of the log.
            registered = raw.execute(sql.SQL("SELECT count(*) FROM {} WHERE topic = %s").format(
                events), (f"{ImporterAccount.Registered.__module__}:"
                          f"{ImporterAccount.Registered.__qualname__}",)).fetchone()
        audit_rows = store.rows(f"SELECT count(*) FROM {store.qualified('al_events')}")[0][0]
        accounts_rows = store.rows(
            f"SELECT count(*) FROM {store.qualified('ar_accounts')}")[0][0]
        positions = {view.name: store.position(view) for view in views}
        if audit_rows != total or registered is None or accounts_rows != registered[0]:
            raise AssertionError(f"views incomplete: audit log {audit_rows} of {total}, "
                                 f"register {accounts_rows} of {registered}")
        if any(position != total for position in positions.values()):
            raise AssertionError(f"views not at the end of the log: {positions}")

    return _rebuild_result(demo.accounts, demo.assessments, census, replication,
                           runs, raw_runs, one_cursor, piped, unpiped, summary, verify_s,
                           report.aggregates)


def _rebuild_result(accounts: int, assessments: int, census: _Census,
                    replication: Replication, runs: list[_ViewRun], raw_runs: list[float],
                    one_cursor_s: float, piped: list[float], unpiped: list[float],
                    summary: ProfileSummary, verify_s: float, aggregates: int) -> Result:
    total = replication.total_events
    ours_s = sum(run.seconds for run in runs)
    cpu_s = sum(run.cpu_seconds for run in runs)
    raw_s = sorted(raw_runs)[len(raw_runs) // 2]
    read_rows = sum(run.applied for run in runs)
    scale = total / census.events
    statements = sum(census.statements.values())
    ours_m = Measure(f"Projections(app).rebuild(view) for each of the {len(runs)} views, "
                     "summed", ours_s, total, "events",
                     note="; ".join(f"{run.name} {run.seconds:.1f}s" for run in runs))
    base_m = Measure(f"raw psycopg: SELECT notification_id, originator_id, originator_version, "
                     f"topic, state ... ORDER BY notification_id, keyset pages of "
                     f"{CATCH_UP_PAGE:,} rows (as the catch-up pages)", raw_s, total, "rows",
                     note=f"median of {len(raw_runs)} reads, one before the first view and one "
                          "after each: " + ", ".join(f"{t:.2f}s" for t in raw_runs))
    result = Result(
        key="rebuild", title=f"6a. Rebuild of all views over {total:,} events",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="raw read time ÷ the summed rebuild time of every view (events/s ÷ rows/s)",
        target=0.25, target_text="≥ 25% of the raw read's throughput", higher_is_better=True,
        sizes={"events": total,
               "base log": f"{census.events:,} events written through the application by the "
                           f"demo population generator: {accounts:,} importer accounts "
                           f"(registration, tier, managers, partnerships, classes, "
                           f"suspensions, closures, saved 500 per transaction) and "
                           f"{assessments} assessments walked command by command to every "
                           "state, with the improvement plans, follow-up verifications and "
                           "enforcement actions their findings started",
               "replication": f"{replication.copies} copies of the base log appended by "
                              "binary COPY"
                              + (f" (the last cut to {replication.partial_rows:,} rows)"
                                 if replication.partial_rows else ""),
               "views": ", ".join(run.name for run in runs),
               "catch-up page": CATCH_UP_PAGE},
        profile=summary)
    for run in runs:
        name = run.name
        per_event = census.statements[name] / max(census.of_topics[name], 1)
        result.diagnostics.append(Measure(
            f"diagnostic: rebuild of {name} alone", run.seconds, run.applied, "events",
            note=f"{run.applied / total:.0%} of the log is of its topics; "
                 f"{per_event:.2f} SQL statements per event; client CPU "
                 f"{run.cpu_seconds / run.seconds:.0%} of its time"))
    result.diagnostics.append(Measure(
        "diagnostic: raw read of the same rows in one server-side cursor", one_cursor_s, total,
        "rows", note=f"named cursor, itersize {CATCH_UP_PAGE:,}; read once after the rebuilds"))
    piped_s, unpiped_s = min(piped), min(unpiped)
    result.diagnostics.append(Measure(
        "diagnostic: rebuild of every view over the base log, each batch in one pipeline "
        "(as configured)", piped_s, census.events, "events",
        note="best of " + ", ".join(f"{t:.2f}s" for t in piped)))
    result.diagnostics.append(Measure(
        "diagnostic: the same without the pipeline (a round trip per group of identical "
        "consecutive statements, ViewStore's default)", unpiped_s, census.events, "events",
        note="best of " + ", ".join(f"{t:.2f}s" for t in unpiped)
             + "; interleaved with the row above"))

    mix = ", ".join(f"{name} {count / census.events:.0%}"
                    for name, count in census.by_aggregate.most_common())
    result.facts.append(
        f"The {total:,} events: the base log ({census.events:,} events) and "
        f"{replication.copies} replicas of it, in the base log's order, each with fresh ids "
        "and numbers (importer numbers get the copy's number as their last two "
        "characters, case numbers an offset of "
        f"{replication.case_serial_stride:,} per copy in their serial, natural ids are "
        "re-derived from the new numbers, other ids get a fresh uuid5) inside the states "
        "and in originator_id, the same topics and state shapes, and each `_prev` link "
        "recomputed so every replica is a valid hash chain. Events by aggregate type: "
        f"{mix}. Replication took {replication.seconds:.1f} s (not timed as ours).")
    result.facts.append(
        f"Checks: verify_chains passes over all {total:,} events ({aggregates:,} "
        f"aggregates, {verify_s:.1f} s); a replicated importer and assessment load by their "
        "new numbers; after the rebuild the audit log holds one row per event, the account "
        "register one row per registration, and every view's position is the end of the "
        "log.")
    result.facts.append(
        f"The {len(runs)} rebuilds read {read_rows:,} rows between them (each view reads "
        f"only its topics), {read_rows / total:.1f}x the raw read's {total:,}, and their "
        f"handlers issue about {statements * scale / 1e6:.2f} million SQL statements "
        f"({statements / census.events:.2f} per event in the log, counted on the base log), "
        "each one executed by PostgreSQL on its own, maintaining the view's indexes.")
    slowest = sorted(runs, key=lambda run: run.seconds, reverse=True)[:2]
    result.facts.append(
        "Slowest views: " + "; ".join(
            f"{run.name} {run.seconds:.1f} s ({run.seconds / ours_s:.0%} of ours, "
            f"{run.applied / run.seconds:,.0f} events/s, "
            f"{census.statements[run.name] / max(census.of_topics[run.name], 1):.2f} "
            "statements per event)" for run in slowest) + ".")
    result.facts.append(
        f"Sending each batch's statements in one pipeline rebuilt the base log "
        f"{unpiped_s / piped_s:.1f}x faster than a round trip per group of statements "
        f"({piped_s:.2f} s against {unpiped_s:.2f} s, best of {len(piped)}).")
    cap = raw_s / cpu_s if cpu_s else float("inf")
    result.facts.append(
        f"Client CPU (decoding, building statements, psycopg) was {cpu_s:.1f} s of the "
        f"rebuilds' {ours_s:.1f} s ({cpu_s / ours_s:.0%}); the rest is waiting for PostgreSQL "
        f"to execute the statements. Even with PostgreSQL's time free, the client work alone "
        f"would cap ours at about {cap:.0%} of the raw read.")
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + f"The raw read fetches {total:,} rows once ({raw_s:.2f} s); the rebuilds fetch "
        f"{read_rows / total:.1f}x as many rows, decode every one into a domain event, and "
        f"turn them into about {statements * scale / 1e6:.2f} million individual INSERT/UPDATE "
        f"statements ({statements / census.events:.2f} per event) that PostgreSQL executes one "
        f"by one with index maintenance — {slowest[0].name} alone takes "
        f"{slowest[0].seconds / ours_s:.0%} of ours. The client work alone ({cpu_s:.1f} s of "
        f"CPU) caps ours at about {cap:.0%} of raw"
        + (", below the target before PostgreSQL executes anything" if cap < 0.25 else "")
        + ", and PostgreSQL's execution of the statements comes on top; reaching 25% needs "
        "set-based rebuilds (COPY into the shadow tables, secondary indexes built after the "
        f"load) rather than per-event statements. Profile of ours: "
        f"{_stage_summary(result, 4)}.")
    return result


# -- 6b. lag of the live views ---------------------------------------------------------------

LAG_VIEWS: tuple[type[View], ...] = (WorkList, AuditLog)
POLL_S = 0.001
PAUSE_S = POLL_INTERVAL_S  # the longest random pause between two commands
LAG_TIMEOUT_S = 15.0


def _assessment_steps(app: ComplianceCases, importer_numbers: Sequence[str]
                      ) -> Iterator[tuple[str, Callable[[], object]]]:
    """One command at a time: open, assign, survey, a sample test per area, findings
    (which draft an improvement plan), for each importer in turn."""
    year = date.today().year - 1
    period = parse_period(date(year, 1, 1), date(year, 12, 31))
    for importer in importer_numbers:
        yield from _steps_of_one(app, importer, period)


def _steps_of_one(app: ComplianceCases, importer: str, period: Any
                  ) -> Iterator[tuple[str, Callable[[], object]]]:
    number: list[str] = []

    def open_it() -> object:
        number.append(app.open_assessment(
            importer, origin="risk_selection", period=period, scope=PLAN_SCOPE,
            actor="user:analyst-bench", reason="selected for the annual plan"))
        return number[0]

    def assign() -> object:
        return app.assign_officer(number[0], OFFICER, actor=SUPERVISOR,
                                  reason="district workload plan")

    def survey() -> object:
        return app.record_survey(number[0], PLAN_RATINGS, app.clock().date(), actor=OFFICER,
                                 reason="pre-assessment survey at the importer's premises")

    def findings() -> object:
        return app.issue_findings(number[0], duty_paid=PLAN_DUTY_PAID, actor=OFFICER,
                                  reason=FINDINGS_REASON)

    yield "open_assessment", open_it
    yield "assign_officer", assign
    yield "record_survey", survey
    for test in PLAN_TESTS:
        def record(test: Any = test) -> object:
            return app.record_test(number[0], test, actor=OFFICER,
                                   reason=f"statistical sample of {test.area.value} lines")
        yield "record_test", record
    yield "issue_findings", findings


STEPS_PER_ASSESSMENT = 4 + len(PLAN_TESTS)


@dataclass
class _LagSample:
    command: str
    command_s: float
    lag: dict[str, float] = field(default_factory=dict)  # view -> save returned .. seen
    picked: dict[str, float] = field(default_factory=dict)  # .. the runner's apply started
    applied: dict[str, float] = field(default_factory=dict)  # .. the runner's apply returned


class _Instrumented:
    """Clock reads around the application's save and each runner's apply (two per call, on
    the instances only), so each command's lag can be split into delivery and apply."""

    def __init__(self, app: ComplianceCases, projections: Projections) -> None:
        self.saves: list[tuple[float, list[Recording[Any]]]] = []
        self.applies: list[tuple[str, float, float, int]] = []  # view, start, end, last id
        self._lock = threading.Lock()
        save = app.save

        def timed_save(*objs: Any, **kwargs: Any) -> list[Recording[Any]]:
            recordings = save(*objs, **kwargs)
            self.saves.append((time.perf_counter(), recordings))
            return recordings

        make_runner = projections.runner

        def runner(view: type[View], suffix: str = "") -> ViewRunner:
            made = make_runner(view, suffix)
            apply = made.apply

            def timed_apply(batch: Sequence[Any]) -> int:
                start = time.perf_counter()
                applied = apply(batch)
                end = time.perf_counter()
                if batch:
                    with self._lock:
                        self.applies.append((made.name, start, end, batch[-1].id))
                return applied

            setattr(made, "apply", timed_apply)  # noqa: B010 (instance attribute on purpose)
            return made

        setattr(app, "save", timed_save)  # noqa: B010
        setattr(projections, "runner", runner)  # noqa: B010


def _lag_backend(app: ComplianceCases, backend: str,
                 poll: Callable[[Sequence[str]], dict[str, int]], sizes: Sizes, ui: UI,
                 prefix: int) -> Result:
    commands, warmup = sizes.lag_commands, sizes.lag_warmup
    assessments = -(-(commands + warmup) // STEPS_PER_ASSESSMENT)
    regs = registrations(assessments, seed=31, prefix=prefix)
    app.register_importers(regs, actor=ACTOR, reason="national importer register")
    projections = Projections(app)
    probe = _Instrumented(app, projections)
    names = {view.name: projections.store.tracking_name(view) for view in LAG_VIEWS}
    topics = {view.name: set(view.topics) for view in LAG_VIEWS}
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            projections.follow(stop, LAG_VIEWS)
        except BaseException as error:  # reported below
            errors.append(error)

    follower = threading.Thread(target=follow, name="bench-follow", daemon=True)
    follower.start()
    samples: list[_LagSample] = []
    try:
        end = app.recorder.max_notification_id() or 0
        deadline = time.perf_counter() + LAG_TIMEOUT_S
        while min(poll(list(names.values())).get(n, 0) for n in names.values()) < end:
            if errors or time.perf_counter() > deadline:
                raise AssertionError(f"views did not catch up: {errors[:1]}")
            time.sleep(POLL_S)

        def one(command: str, step: Callable[[], object]) -> _LagSample:
            probe.saves.clear()
            start = time.perf_counter()
            step()
            sample = _LagSample(command, time.perf_counter() - start)
            if len(probe.saves) != 1:
                raise AssertionError(f"{command} saved {len(probe.saves)} times, not once")
            saved_at, recordings = probe.saves[0]
            targets = {}
            for view, view_topics in topics.items():
                ids = [r.notification.id for r in recordings
                       if not view_topics or r.notification.topic in view_topics]
                if ids:
                    targets[view] = max(ids)
            sample.picked = dict.fromkeys(targets, float("nan"))
            waiting = dict(targets)
            give_up = time.perf_counter() + LAG_TIMEOUT_S
            while waiting:
                positions = poll([names[view] for view in waiting])
                now = time.perf_counter()
                for view in list(waiting):
                    if positions.get(names[view], 0) >= waiting[view]:
                        sample.lag[view] = now - saved_at
                        del waiting[view]
                if waiting:
                    if errors:
                        raise errors[0]
                    if now > give_up:
                        raise AssertionError(f"{sorted(waiting)} not current "
                                             f"{LAG_TIMEOUT_S:.0f} s after {command}")
                    time.sleep(POLL_S)
            # The runner records its apply just after the commit the poll may already have
            # seen: give it a moment before matching.
            give_up = time.perf_counter() + 1.0
            while True:
                for view, target_id in targets.items():
                    for name, began, ended, last_id in list(probe.applies):
                        if name == view and last_id >= target_id and view not in sample.applied:
                            sample.picked[view] = began - saved_at
                            sample.applied[view] = ended - saved_at
                if len(sample.applied) == len(targets) or time.perf_counter() > give_up:
                    break
                time.sleep(POLL_S / 4)
            probe.applies.clear()
            return sample

        steps = _assessment_steps(app, [r.importer_number for r in regs])
        pauses = random.Random(5)
        with ui.phase(f"lag ({backend}): warm-up, {warmup} commands", warmup) as advance:
            for _ in range(warmup):
                one(*next(steps))
                advance(1)
        with ui.phase(f"lag ({backend}): {commands} commands, one at a time", commands
                      ) as advance:
            for _ in range(commands):
                # A random pause, so commands do not phase-lock with a polling tick.
                time.sleep(pauses.uniform(0.0, PAUSE_S))
                samples.append(one(*next(steps)))
                advance(1)
    finally:
        stop.set()
        follower.join(timeout=30)
    if errors:
        raise errors[0]
    return _lag_result(backend, samples, warmup)


def _lag_measure(label: str, values: list[float], unit: str = "commands",
                 note: str = "") -> Measure:
    return Measure(label, sum(values), len(values), unit, median_ms(values), p95_ms(values),
                   note, percentile_ms(values, 0.99), max(values) * 1000)


def _lag_result(backend: str, samples: list[_LagSample], warmup: int) -> Result:
    worklist, audit = WorkList.name, AuditLog.name
    lag_w = [s.lag[worklist] for s in samples]
    lag_a = [s.lag[audit] for s in samples]
    command = [s.command_s for s in samples]
    kinds = Counter(s.command for s in samples)
    ours_m = _lag_measure(f"lag of the {worklist} view: save returned → its position reaches "
                          "the command's last work-list event", lag_w,
                          note=f"polled every {POLL_S * 1000:.0f} ms with one query on a "
                               "separate connection")
    base_m = _lag_measure("the command itself: call → return (load, decide, save, commit)",
                          command, note=", ".join(f"{n} {k}" for k, n in kinds.most_common()))
    pg = backend == "PostgreSQL"
    result = Result(
        key="lag", title="6b. Lag of the live views after a command", backend=backend,
        ours=ours_m, baseline=base_m, ratio=(ours_m.median_ms or 0.0) / (base_m.median_ms or 1.0),
        ratio_text="median lag ÷ median command latency", target=0.0,
        target_text="none (lag reported as p50/p95/p99/max)", higher_is_better=False,
        has_target=False, comparison_only=not pg,
        sizes={"commands measured": len(samples), "warm-up commands": warmup,
               "commands": "assessment steps, one at a time: open, assign, survey, a sample "
                           "test per area, findings drafting an improvement plan; each "
                           "issued once both views are current, after a random pause of "
                           f"0-{PAUSE_S * 1000:.0f} ms (so commands do not phase-lock with "
                           "a polling tick)",
               "views followed": f"{worklist}, {audit} (Projections(app).follow in a thread)",
               "subscription": "LISTEN/NOTIFY" if pg else
                               f"polling every {POLL_INTERVAL_S * 1000:.0f} ms "
                               "(POLL_INTERVAL_S)"})
    result.diagnostics.append(_lag_measure(
        f"diagnostic: lag of the {audit} view (every event of the command)", lag_a))
    parts: dict[str, tuple[float, float]] = {}
    for view in (worklist, audit):
        picked = [s.picked[view] for s in samples if view in s.applied]
        applied = [s.applied[view] for s in samples if view in s.applied]
        apply_only = [s.applied[view] - s.picked[view] for s in samples if view in s.applied]
        if not applied:
            continue
        result.diagnostics.append(_lag_measure(
            f"diagnostic: {view}: save returned → the runner's apply starts (delivery: "
            + ("NOTIFY, the library's pull thread selecting the new rows" if pg else
               "the next poll tick, the pull thread selecting the new rows") + ")", picked,
            note=f"{len(applied)} of {len(samples)} commands matched to their batch"))
        result.diagnostics.append(_lag_measure(
            f"diagnostic: {view}: the runner's apply (position read, decoding, statements, "
            "tracking, commit)", apply_only))
        parts[view] = (median_ms(picked), median_ms(apply_only))
    lag_ms, cmd_ms = ours_m.median_ms or 0.0, base_m.median_ms or 0.0
    result.facts.append(
        f"Work list: lag median {lag_ms:.2f} ms, p99 {ours_m.p99_ms:.2f} ms, max "
        f"{ours_m.max_ms:.2f} ms; audit log: median {median_ms(lag_a):.2f} ms, p99 "
        f"{percentile_ms(lag_a, 0.99):.2f} ms, max {max(lag_a) * 1000:.2f} ms; the command "
        f"itself median {cmd_ms:.2f} ms, so a reader sees the work list current about "
        f"{lag_ms + cmd_ms:.1f} ms (median) after sending a command.")
    delivery, apply_ms = parts.get(worklist, (float("nan"), float("nan")))
    rest = lag_ms - delivery - apply_ms
    lag_p99, cmd_p99 = ours_m.p99_ms or 0.0, base_m.p99_ms or 0.0
    if cmd_p99 >= 0.5 * lag_p99:
        tail = (f" The tail (p99 {lag_p99:.1f} ms, max {ours_m.max_ms:.1f} ms) is of the order "
                f"of the command's own tail measured in the same loop (p99 {cmd_p99:.1f} ms, "
                f"max {base_m.max_ms:.1f} ms), so it comes from stalls of the machine "
                "(thread scheduling, commits) that hit commands too, not from the view's "
                f"work (apply median {apply_ms:.2f} ms).")
    else:
        tail = (f" The tail (p99 {lag_p99:.1f} ms, max {ours_m.max_ms:.1f} ms) is well above "
                f"the command's own (p99 {cmd_p99:.1f} ms).")
    if pg:
        result.limits = (
            "Reported (no target). After the save commits, PostgreSQL delivers the NOTIFY to "
            "the runner's listening connection and the library's pull thread selects the new "
            f"notifications (median {delivery:.2f} ms from the save returning to the runner's "
            f"apply starting); the apply is one more transaction with its own commit (median "
            f"{apply_ms:.2f} ms); the remaining {rest:.2f} ms is observing it (a "
            f"{POLL_S * 1000:.0f} ms poll interval and one query). Both views follow in their "
            "own threads, so the audit log, which sees every event of the command, lags by "
            "about as much." + tail)
    else:
        result.limits = (
            f"Reported (no target). On SQLite the subscription polls MAX(rowid) every "
            f"{POLL_INTERVAL_S * 1000:.0f} ms (POLL_INTERVAL_S), so a command's events wait "
            f"for the next tick (0-{POLL_INTERVAL_S * 1000:.0f} ms) before the runner wakes: "
            f"median {delivery:.2f} ms from the save returning to the runner's apply "
            f"starting, then {apply_ms:.2f} ms for the apply itself. The poll interval, not "
            "the apply, sets the lag; a shorter interval would cut it at the cost of more "
            "polling queries.")
    return result


def bench_lag(url: str, sizes: Sizes, ui: UI, *, sqlite: bool = True) -> list[Result]:
    results = []
    with pg_schema(url, "lag") as schema, application(pg_settings(url, schema)) as app, \
            pg_connect(url, prepare_threshold=0) as conn:
        tracking = sql.Identifier(schema, "view_tracking")
        query = sql.SQL("SELECT application_name, max(notification_id) FROM {} WHERE "
                        "application_name = ANY(%s) GROUP BY application_name").format(tracking)

        def poll_pg(names: Sequence[str]) -> dict[str, int]:
            return {str(name): int(position) for name, position in
                    conn.execute(query, (list(names),)).fetchall()}

        results.append(_lag_backend(app, "PostgreSQL", poll_pg, sizes, ui, prefix=61))
    if sqlite:
        with sqlite_file("lag") as path, application(sqlite_settings(path)) as app:
            lite = _sqlite_reader(path)
            try:
                def poll_lite(names: Sequence[str]) -> dict[str, int]:
                    marks = ", ".join("?" for _ in names)
                    return {str(name): int(position) for name, position in lite.execute(
                        f"SELECT application_name, max(notification_id) FROM tracking "
                        f"WHERE application_name IN ({marks}) GROUP BY application_name",
                        tuple(names)).fetchall()}

                results.append(_lag_backend(app, "SQLite (file)", poll_lite, sizes, ui,
                                            prefix=62))
            finally:
                lite.close()
    return results


def _sqlite_reader(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=30)
