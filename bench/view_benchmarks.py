"""Benchmark 6, the views: (a) rebuilding every view over a store of a million events, against
a raw read of the same rows (bench.rebuild_benchmark, re-exported here); (b) how far the live
views lag behind a command.

Both run in a fresh schema (or SQLite file) dropped afterwards, like benchmarks 1-5."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Recording
from psycopg import sql

from application.compliance_cases import ComplianceCases
from bench.benchmarks import (
    UI,
    Sizes,
)
from bench.common import (
    Measure,
    Result,
    application,
    median_ms,
    p95_ms,
    percentile_ms,
    pg_connect,
    pg_schema,
    pg_settings,
    sqlite_file,
    sqlite_settings,
)
from bench.rebuild_benchmark import bench_rebuild
from bench.workflow_benchmark import FINDINGS_REASON
from bench.workloads import (
    ACTOR,
    OFFICER,
    PLAN_DUTY_PAID,
    PLAN_RATINGS,
    PLAN_SCOPE,
    PLAN_TESTS,
    SUPERVISOR,
    registrations,
)
from domain.values import parse_period
from infrastructure.sqlite_recorder import POLL_INTERVAL_S
from projections.runner import ViewRunner
from projections.view import View
from projections.views.audit_log import AuditLog
from projections.views.worklist import WorkList
from projections.worker import Projections

__all__ = ["bench_lag", "bench_rebuild"]

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
