"""Benchmark 5: a full workflow step (findings -> plan drafted) against raw SQL that makes
the same reads and writes (the step's aggregates' rows in one query, then the same rows
inserted in one transaction), and against raw inserts of the same rows alone."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg import Connection, sql

from application.aggregate_loading import CaseHints
from application.compliance_cases import ComplianceCases, FindingsResult
from bench.benchmarks import UI, Sizes
from bench.common import (
    Result,
    application,
    create_baseline_table,
    events_table,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
)
from bench.workflow_parts import StepParts
from bench.workflow_report import WORKFLOW_STAGES, Run, results
from bench.workloads import OFFICER, PLAN_DUTY_PAID, assessments_in_testing
from domain.assessment import AssessmentState, Outcome
from domain.case_file import case_file_id
from domain.case_numbers import CaseNumberSequence, case_id, sequence_id
from infrastructure.postgres_recorder import histories_statement

FINDINGS_REASON = "sample testing complete"


def _template_rows(url: str, schema: str, table: str, after: int) -> list[StoredEvent]:
    """The rows a save wrote, read back from the events table in log order."""
    with pg_connect(url) as conn:
        rows = conn.execute(sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {} WHERE "
            "notification_id > %s ORDER BY notification_id").format(
                sql.Identifier(schema, table)), (after,)).fetchall()
    return [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2],
                        state=bytes(r[3])) for r in rows]


def _short_topic(topic: str) -> str:
    return topic.rsplit(":", 1)[-1]


def checked(number: str, findings: FindingsResult) -> None:
    if findings.outcome is not Outcome.IMPROVEMENT_PLAN_REQUIRED or findings.plan_number is None:
        raise AssertionError(f"findings of {number} gave {findings}, not a drafted "
                             "improvement plan")


@dataclass
class Sides:
    """Each measured operation, timing one step or one transaction."""

    app: ComplianceCases
    raw: Connection[Any]
    template: list[StoredEvent]
    importers: dict[str, str]  # assessment number -> importer number
    insert: sql.Composed
    read: sql.Composed
    raw_reads: list[float] = field(default_factory=list)  # the read part of read_write

    def issue(self, number: str) -> FindingsResult:
        return self.app.issue_findings(number, duty_paid=PLAN_DUTY_PAID, actor=OFFICER,
                                       reason=FINDINGS_REASON)

    def ours(self, number: str) -> float:
        start = time.perf_counter()
        findings = self.issue(number)
        elapsed = time.perf_counter() - start
        checked(number, findings)
        return elapsed

    def cold(self, number: str) -> float:
        """The step in a process that has not seen the case: it knows neither the case's
        importer nor the year numbers were last taken in (two round trips of reads)."""
        warm, self.app.hints = self.app.hints, CaseHints()
        try:
            return self.ours(number)
        finally:
            self.app.hints = warm

    def _fresh_rows(self) -> list[tuple[Any, ...]]:
        fresh = {oid: uuid.uuid4() for oid in dict.fromkeys(
            r.originator_id for r in self.template)}
        return [(fresh[r.originator_id], r.originator_version, r.topic, r.state)
                for r in self.template]

    def read_write(self, number: str) -> float:
        """Raw SQL doing the step's reads and writes: the rows of its aggregates (the
        assessment, the importer's case file, the IP sequence's first and last events)
        in one query, then the step's rows inserted in one transaction."""
        ids = [case_id(number), case_file_id(self.importers[number]),
               sequence_id("IP", self.app.clock().year)]
        params = self._fresh_rows()
        start = time.perf_counter()
        rows = self.raw.execute(self.read, (ids, [False, False, True]), prepare=True).fetchall()
        read = time.perf_counter()
        with self.raw.transaction(), self.raw.cursor() as cursor:
            cursor.executemany(self.insert, params)
        end = time.perf_counter()
        if len(rows) < 4:
            raise AssertionError(f"the raw read of {number}'s aggregates found {len(rows)} rows")
        self.raw_reads.append(read - start)
        return end - start

    def write(self) -> float:
        params = self._fresh_rows()
        start = time.perf_counter()
        with self.raw.transaction(), self.raw.cursor() as cursor:
            cursor.executemany(self.insert, params)
        return time.perf_counter() - start

    def recorder(self) -> float:
        stored = [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2],
                              state=r[3]) for r in self._fresh_rows()]
        start = time.perf_counter()
        self.app.recorder.insert_events(stored)
        return time.perf_counter() - start

    def loads(self, number: str) -> float:
        """The loads a findings step makes, with the same calls, for a step just taken."""
        app, at = self.app, self.app.clock()
        start = time.perf_counter()
        with app._prefetching(app._case_loads(number, "IP")):
            assessment = app.get_assessment(number)
            app._before_filing("IP", at, assessment.importer_number)
            app._find_first_and_last(sequence_id("IP", at.year))
            app._find(case_file_id(assessment.importer_number))
        return time.perf_counter() - start


def _statements(app: ComplianceCases, schema: str) -> tuple[sql.Composed, sql.Composed]:
    insert = sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                     "VALUES (%s, %s, %s, %s)").format(sql.Identifier(schema, "baseline_events"))
    snapshots = app.snapshots.recorder if app.snapshots is not None else None
    read = histories_statement(schema, events_table(app),
                               getattr(snapshots, "events_table_name", None))
    return insert, read


def _rounds(sides: Sides, queue: Any, run: Run, ui: UI) -> None:
    """Interleaved step by step: raw reads and writes of an assessment, then ours on it,
    the loads alone, raw inserts alone and the write path alone; a few steps of a process
    that has not seen their cases end each round. On a shared machine the disk's commit
    time wanders by the second; alternating at every step puts each side under the same
    conditions (batches of a round per side let one stall land on one side only)."""
    with ui.phase(f"workflow: {run.rounds} interleaved rounds of {run.per_round}",
                  5 * run.steps + run.cold_steps) as advance:
        for _ in range(run.rounds):
            for _ in range(run.per_round):
                number = next(queue)
                run.read_write.append(sides.read_write(number))
                run.ours.append(sides.ours(number))
                run.loads.append(sides.loads(number))
                run.write.append(sides.write())
                run.recorder.append(sides.recorder())
                advance(5)
            for _ in range(run.cold_per_round):
                run.cold.append(sides.cold(next(queue)))
                advance(1)


def _check_rows(url: str, schema: str, app: ComplianceCases, run: Run, before: int,
                rows_per_step: int) -> None:
    appended = (app.recorder.max_notification_id() or 0) - before
    ours_rows = appended - run.steps * rows_per_step  # the write-path diagnostic's rows
    if ours_rows != (run.steps + run.cold_steps) * rows_per_step:
        raise AssertionError(f"{run.steps + run.cold_steps} findings steps wrote {ours_rows} "
                             f"rows, not {rows_per_step} each")
    with pg_connect(url) as conn:
        found = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(schema, "baseline_events"))).fetchone()
    expected = 2 * (run.steps + run.warmup) * rows_per_step  # raw writes and raw reads+writes
    if found is None or found[0] != expected:
        raise AssertionError(f"baseline rows {found}, expected {expected}")


def _instrumented(sides: Sides, queue: Any, run: Run, ui: UI) -> StepParts:
    with (StepParts(sides.app) as parts,
          ui.phase(f"workflow: {run.parts_n} instrumented steps (where the time goes)",
                   run.parts_n) as advance):
        for _ in range(run.parts_n):
            start = time.perf_counter()
            number = next(queue)
            findings = sides.issue(number)
            run.step_times.append(time.perf_counter() - start)
            checked(number, findings)
            advance(1)
    rows = len(sides.template)
    if parts.insert_calls != [rows] * run.parts_n:
        raise AssertionError("each findings step should write its rows in one insert call "
                             f"of {rows} rows: {parts.insert_calls[:10]}")
    return parts


def bench_workflow(url: str, sizes: Sizes, ui: UI) -> list[Result]:
    run = Run.of(sizes)
    with pg_schema(url, "workflow") as schema, application(pg_settings(url, schema)) as app:
        with ui.phase(f"workflow: walking {run.total} assessments to 'testing' (not timed)",
                      run.total) as advance:
            numbers = assessments_in_testing(app, run.total, on_assessment=lambda: advance(1))
        if app.get_assessment(numbers[0]).state is not AssessmentState.TESTING:
            raise AssertionError(f"prepared assessment {numbers[0]} is not in testing")
        importers = {n: app.get_assessment(n).importer_number for n in numbers}
        queue = iter(numbers)
        create_baseline_table(url, schema, "baseline_events")
        insert, read = _statements(app, schema)
        with pg_connect(url) as raw:
            sides = Sides(app, raw, [], importers, insert, read)
            with ui.phase("workflow: warm-up (ours)", run.warmup) as advance:
                warmed = []
                for _ in range(run.warmup):
                    warmed.append(next(queue))
                    mark = app.recorder.max_notification_id() or 0
                    checked(warmed[-1], sides.issue(warmed[-1]))
                    advance(1)
            # The rows the last warm-up step's save wrote: the baselines insert these.
            sides.template = _template_rows(url, schema, events_table(app), mark)
            run.topics = [_short_topic(row.topic) for row in sides.template]
            if "ImprovementPlan.Drafted" not in run.topics:
                raise AssertionError(f"unexpected rows for a findings step: {run.topics}")
            with ui.phase("workflow: warm-up (baselines)", 3 * run.warmup) as advance:
                for number in warmed:
                    sides.read_write(number)
                    sides.write()
                    sides.recorder()
                    advance(3)
            sides.raw_reads.clear()
            before = app.recorder.max_notification_id() or 0
            _rounds(sides, queue, run, ui)
            run.raw_reads = list(sides.raw_reads)
        _check_rows(url, schema, app, run, before, len(sides.template))
        parts = _instrumented(sides, queue, run, ui)
        ui.log(f"workflow: profiling {run.profile_n} findings steps of ours")
        profiled = [next(queue) for _ in range(run.profile_n)]
        summary = profile(lambda: [sides.issue(n) for n in profiled],
                          f"{run.profile_n} x app.issue_findings (findings -> plan drafted)",
                          WORKFLOW_STAGES)
        plans = app.find_aggregate(sequence_id("IP", app.clock().year))
        if not isinstance(plans, CaseNumberSequence) or plans.last_serial != run.total:
            raise AssertionError(f"{run.total} findings steps drafted "
                                 f"{getattr(plans, 'last_serial', None)} plans")
        return results(run, parts, summary, app)

