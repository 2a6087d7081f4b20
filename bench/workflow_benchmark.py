"""Benchmark 5: a full workflow step (findings -> plan drafted) against raw inserts of the
same rows."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg import sql

from application.compliance_cases import ComplianceCases, FindingsResult
from bench.benchmarks import (
    ADAPT,
    ADAPT_PART,
    ENCODE,
    UI,
    WAIT,
    Sizes,
    _pct,
    _stage_summary,
    recorder_name,
)
from bench.common import (
    WAITING,
    Measure,
    Result,
    StageSpec,
    application,
    create_baseline_table,
    events_table,
    median_ms,
    p95_ms,
    pg_connect,
    pg_schema,
    pg_settings,
    profile,
)
from bench.verify_load_benchmarks import DECODE, PROJECT
from bench.workloads import (
    OFFICER,
    PLAN_DUTY_PAID,
    assessments_in_testing,
)
from domain.assessment import AssessmentState, Outcome
from domain.case_file import case_file_id
from domain.case_numbers import CaseNumberSequence, sequence_id

FINDINGS_REASON = "sample testing complete"
WORKFLOW_STAGES: list[StageSpec] = [
    WAIT,
    ADAPT,
    ("client side of the queries and inserts (recorder, psycopg protocol, pool), excluding "
     "waiting and query parameter adaptation",
     [("eventsourcing/postgres.py", "select_events|insert_events", "cum", 1),
      (*WAITING[:3], -1), (*ADAPT_PART[:3], -1)]),
    DECODE,
    PROJECT,
    ENCODE,
    ("domain: findings, plan draft, number issued, case-file entry",
     [("domain/assessment.py", "issue_findings", "cum", 1),
      ("domain/improvement_plan.py", "draft", "cum", 1),
      ("domain/case_numbers.py", "issue", "cum", 1),
      ("domain/case_file.py", "add", "cum", 1)]),
]


class _StepParts:
    """Times the parts of each findings step by wrapping, on the instances and for one
    diagnostic pass only (never during the measured rounds), the repository's get, the
    event store's put, the recorder's insert and select, and take_snapshot. Reads made
    while taking a snapshot count as snapshot time."""

    def __init__(self, app: ComplianceCases) -> None:
        self.app = app
        self.seconds: dict[str, float] = dict.fromkeys(("read", "put", "insert", "snapshot"),
                                                       0.0)
        self.read_by_type: dict[str, float] = {}
        self.loads = 0
        self.queries = 0
        self.insert_calls: list[int] = []  # rows per call of app.recorder.insert_events
        self.snapshots = 0
        self._in_snapshot = False
        self._patched: list[tuple[object, str]] = []

    def _wrap(self, owner: object, name: str, after: Callable[[float, Any, tuple[Any, ...]],
                                                               None]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            value = original(*args, **kwargs)
            after(time.perf_counter() - start, value, args)
            return value

        setattr(owner, name, wrapper)
        self._patched.append((owner, name))

    def __enter__(self) -> _StepParts:
        app = self.app
        assert app.snapshots is not None

        def read(seconds: float, aggregate: Any, _args: tuple[Any, ...]) -> None:
            if not self._in_snapshot:
                self.seconds["read"] += seconds
                kind = type(aggregate).__name__
                self.read_by_type[kind] = self.read_by_type.get(kind, 0.0) + seconds
                self.loads += 1

        def query(_seconds: float, _value: Any, _args: tuple[Any, ...]) -> None:
            if not self._in_snapshot:
                self.queries += 1

        def put(seconds: float, _value: Any, _args: tuple[Any, ...]) -> None:
            self.seconds["put"] += seconds

        def insert(seconds: float, _value: Any, args: tuple[Any, ...]) -> None:
            self.seconds["insert"] += seconds
            self.insert_calls.append(len(args[0]))

        self._wrap(app.repository, "get", read)
        self._wrap(app.recorder, "select_events", query)
        self._wrap(app.snapshots.recorder, "select_events", query)
        self._wrap(app.events, "put", put)
        self._wrap(app.recorder, "insert_events", insert)
        take_snapshot = app.take_snapshot

        def snapshot(*args: Any, **kwargs: Any) -> None:
            self._in_snapshot = True
            start = time.perf_counter()
            try:
                take_snapshot(*args, **kwargs)
            finally:
                self.seconds["snapshot"] += time.perf_counter() - start
                self._in_snapshot = False
                self.snapshots += 1

        setattr(app, "take_snapshot", snapshot)  # noqa: B010 (an instance attribute on purpose)
        self._patched.append((app, "take_snapshot"))
        return self

    def __exit__(self, *_exc: object) -> None:
        for owner, name in reversed(self._patched):
            delattr(owner, name)  # the class's method shows through again
        self._patched.clear()


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


def bench_workflow(url: str, sizes: Sizes, ui: UI) -> Result:
    rounds = sizes.workflow_rounds
    per_round = max(1, sizes.workflow_steps // rounds)
    steps = per_round * rounds
    warmup, parts_n, profile_n = (sizes.workflow_warmup, sizes.workflow_breakdown,
                                  sizes.workflow_profile)
    total = warmup + steps + parts_n + profile_n
    with pg_schema(url, "workflow") as schema, application(pg_settings(url, schema)) as app:
        with ui.phase(f"workflow: walking {total} assessments to 'testing' (not timed)",
                      total) as advance:
            numbers = assessments_in_testing(app, total, on_assessment=lambda: advance(1))
        first = app.get_assessment(numbers[0])
        if first.state is not AssessmentState.TESTING:
            raise AssertionError(f"prepared assessment is {first.state}, not testing")
        queue = iter(numbers)
        table = events_table(app)
        recorder = recorder_name(app)

        def issue(number: str) -> FindingsResult:
            return app.issue_findings(number, duty_paid=PLAN_DUTY_PAID, actor=OFFICER,
                                      reason=FINDINGS_REASON)

        def checked(number: str, findings: FindingsResult) -> None:
            if (findings.outcome is not Outcome.IMPROVEMENT_PLAN_REQUIRED
                    or findings.plan_number is None):
                raise AssertionError(f"findings of {number} gave {findings}, not a drafted "
                                     "improvement plan")

        with ui.phase("workflow: warm-up (ours)", warmup) as advance:
            for _ in range(warmup):
                number = next(queue)
                mark = app.recorder.max_notification_id() or 0
                findings = issue(number)
                checked(number, findings)
                advance(1)
        # The rows the last warm-up step's save wrote: the baseline inserts these.
        template = _template_rows(url, schema, table, mark)
        assert findings.plan_number is not None
        plan = app.get_plan(findings.plan_number)
        if plan.assessment_number != number:
            raise AssertionError(f"plan {plan.number} is for {plan.assessment_number}")
        topics = [_short_topic(row.topic) for row in template]
        if "ImprovementPlan.Drafted" not in topics or "Assessment.FindingsIssued" not in topics:
            raise AssertionError(f"unexpected rows for a findings step: {topics}")
        create_baseline_table(url, schema, "baseline_events")
        insert = sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) "
                         "VALUES (%s, %s, %s, %s)").format(
                             sql.Identifier(schema, "baseline_events"))
        originators = list(dict.fromkeys(row.originator_id for row in template))

        plan_numbers = sequence_id("IP", app.clock().year)
        issued: list[str] = []

        with pg_connect(url) as raw:
            def ours_once() -> float:
                number = next(queue)
                start = time.perf_counter()
                findings = issue(number)
                elapsed = time.perf_counter() - start
                checked(number, findings)
                issued.append(number)
                return elapsed

            def reads_once(number: str) -> float:
                # The loads a findings step makes, with the same calls, for a step just taken.
                start = time.perf_counter()
                assessment = app.get_assessment(number)
                app.find_aggregate(plan_numbers)
                app.find_aggregate(case_file_id(assessment.importer_number))
                return time.perf_counter() - start

            def raw_once() -> float:
                fresh = {oid: uuid.uuid4() for oid in originators}
                params = [(fresh[r.originator_id], r.originator_version, r.topic, r.state)
                          for r in template]
                start = time.perf_counter()
                with raw.transaction(), raw.cursor() as cursor:
                    cursor.executemany(insert, params)
                return time.perf_counter() - start

            def recorder_once() -> float:
                fresh = {oid: uuid.uuid4() for oid in originators}
                stored = [StoredEvent(originator_id=fresh[r.originator_id],
                                      originator_version=r.originator_version, topic=r.topic,
                                      state=r.state) for r in template]
                start = time.perf_counter()
                app.recorder.insert_events(stored)
                return time.perf_counter() - start

            with ui.phase("workflow: warm-up (baseline, write path)", 2 * warmup) as advance:
                for _ in range(warmup):
                    raw_once()
                    recorder_once()
                    advance(2)
            before = app.recorder.max_notification_id() or 0
            ours: list[float] = []
            base: list[float] = []
            written: list[float] = []
            loaded: list[float] = []
            with ui.phase(f"workflow: {rounds} interleaved rounds of {per_round}",
                          4 * steps) as advance:
                for _ in range(rounds):
                    for _ in range(per_round):
                        ours.append(ours_once())
                        advance(1)
                    for _ in range(per_round):
                        base.append(raw_once())
                        advance(1)
                    for _ in range(per_round):
                        written.append(recorder_once())
                        advance(1)
                    for number in issued[-per_round:]:
                        loaded.append(reads_once(number))
                        advance(1)
            appended = (app.recorder.max_notification_id() or 0) - before
        # Ours and the write-path diagnostic both append to the events table; the
        # diagnostic appends exactly len(template) rows per call.
        ours_rows = appended - steps * len(template)
        if ours_rows != steps * len(template):
            raise AssertionError(f"{steps} findings steps wrote {ours_rows} rows, not "
                                 f"{steps} x {len(template)}")
        with pg_connect(url) as conn:
            baseline_rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(schema, "baseline_events"))).fetchone()
        assert baseline_rows is not None
        assert baseline_rows[0] == (steps + warmup) * len(template), baseline_rows

        # Diagnostic pass: where the time of a step goes (instrumented, so not the figure).
        step_times: list[float] = []
        with (_StepParts(app) as parts,
              ui.phase(f"workflow: {parts_n} instrumented steps (where the time goes)",
                       parts_n) as advance):
            for _ in range(parts_n):
                number = next(queue)
                start = time.perf_counter()
                findings = issue(number)
                step_times.append(time.perf_counter() - start)
                checked(number, findings)
                advance(1)
        if parts.insert_calls != [len(template)] * parts_n:
            raise AssertionError("each findings step should write its rows in one insert "
                                 f"call of {len(template)} rows: {parts.insert_calls[:10]}")

        ui.log(f"workflow: profiling {profile_n} findings steps of ours")
        profiled = [next(queue) for _ in range(profile_n)]
        summary = profile(lambda: [issue(n) for n in profiled],
                          f"{profile_n} x app.issue_findings (findings -> plan drafted)",
                          WORKFLOW_STAGES)
        plans = app.find_aggregate(sequence_id("IP", app.clock().year))
        assert isinstance(plans, CaseNumberSequence)
        if plans.last_serial != total:
            raise AssertionError(f"{total} findings steps drafted {plans.last_serial} plans")

    def measure(label: str, samples: list[float], note: str = "") -> Measure:
        return Measure(label, sum(samples), len(samples), "steps", median_ms(samples),
                       p95_ms(samples), note)

    ours_m = measure("ComplianceCases: app.issue_findings (findings -> improvement plan "
                     "drafted, one transaction)", ours,
                     "every step checked: outcome improvement_plan_required, plan drafted")
    base_m = measure(f"raw psycopg: BEGIN; executemany INSERT x{len(template)} (the same "
                     "rows); COMMIT", base)
    write_m = measure(f"diagnostic: the write path alone, app.recorder.insert_events("
                      f"{len(template)} encoded rows)", written,
                      f"{recorder}; same rows, no loading, deciding, encoding or hashing")
    read_m = measure("diagnostic: the step's loads alone (assessment, IP number sequence, "
                     "case file; the same calls)", loaded,
                     "for the assessments the round's steps had just taken; reads only")
    result = Result(
        key="workflow", title="5. A full workflow step (findings → plan drafted)",
        backend="PostgreSQL", ours=ours_m, baseline=base_m, ratio=ours_m.rate / base_m.rate,
        ratio_text="ours steps/s ÷ raw transactions/s (sequential, one connection each)",
        target=0.60, target_text="≥ 60% of the raw throughput", higher_is_better=True,
        sizes={"steps per side": steps, "warm-up per side": warmup,
               "rounds (interleaved)": rounds,
               "rows per step": f"{len(template)} ({', '.join(topics)})",
               "assessments prepared": total,
               "payload": "the rows the last warm-up step wrote, read back from the events "
                          "table (same topics and state bytes), fresh originator ids per "
                          "transaction"},
        diagnostics=[write_m, read_m], profile=summary)
    assert ours_m.median_ms is not None
    assert base_m.median_ms is not None
    assert write_m.median_ms is not None
    assert read_m.median_ms is not None
    result.facts.append(
        f"Per step: ours median {ours_m.median_ms:.3f} ms (p95 {ours_m.p95_ms:.3f}), "
        f"{ours_m.rate:,.0f} steps/s; raw median {base_m.median_ms:.3f} ms (p95 "
        f"{base_m.p95_ms:.3f}), {base_m.rate:,.0f} transactions/s; ratio of median latencies "
        f"{base_m.median_ms / ours_m.median_ms:.1%}.")

    n = parts_n
    mean_ms = {key: value / n * 1000 for key, value in parts.seconds.items()}
    step_mean = sum(step_times) / n * 1000
    reads, insert_ms, snap = mean_ms["read"], mean_ms["insert"], mean_ms["snapshot"]
    encode = mean_ms["put"] - insert_ms
    decide = max(step_mean - reads - mean_ms["put"] - snap, 0.0)
    by_type = ", ".join(f"{kind} {seconds / n * 1000:.3f} ms" for kind, seconds in
                        sorted(parts.read_by_type.items(), key=lambda item: -item[1]))
    result.diagnostics.append(Measure(
        "diagnostic: the same step, instrumented (mean per step by part)", sum(step_times), n,
        "steps", median_ms(step_times), p95_ms(step_times),
        f"reads {reads:.3f} ms; decision + glue {decide:.3f} ms; encoding + hash chain "
        f"{encode:.3f} ms; insert {insert_ms:.3f} ms; snapshots {snap:.3f} ms"))
    result.facts.append(
        f"Where a step's time goes ({n} instrumented steps, mean {step_mean:.3f} ms): loading "
        f"{parts.loads / n:.1f} aggregates with {parts.queries / n:.1f} queries "
        f"{reads:.3f} ms ({_pct(reads / step_mean)}; by aggregate: {by_type}); domain "
        f"decision and application glue {decide:.3f} ms ({_pct(decide / step_mean)}); "
        f"msgspec encoding + hash chain {encode:.3f} ms ({_pct(encode / step_mean)}); the "
        f"insert (one call, {len(template)} rows, one transaction) {insert_ms:.3f} ms "
        f"({_pct(insert_ms / step_mean)}); snapshots {snap:.3f} ms "
        f"({_pct(snap / step_mean)}; {parts.snapshots} taken in {n} steps).")
    write_ratio = write_m.rate / base_m.rate
    # With all Python work above the database removed, a step would still load and write:
    # the medians of the two diagnostics measured alongside bound what ours can reach.
    floor = read_m.median_ms + write_m.median_ms
    ceiling = base_m.median_ms / floor if floor else float("inf")
    result.facts.append(
        f"Medians measured alongside: the loads alone {read_m.median_ms:.3f} ms, the write "
        f"path alone {write_m.median_ms:.3f} ms, together {floor:.3f} ms against ours "
        f"{ours_m.median_ms:.3f} ms and raw {base_m.median_ms:.3f} ms: a step that did "
        f"nothing but these loads and this write would reach about {ceiling:.0%} of raw.")
    result.limits = (
        ("Met. " if result.met else "Missed. ")
        + f"Raw inserts the step's {len(template)} rows in one transaction (median "
        f"{base_m.median_ms:.3f} ms). A step of ours must first load what it decides on "
        f"(the assessment, the IP number sequence, the importer's case file: "
        f"{parts.queries / n:.1f} queries, one round trip each; alone {read_m.median_ms:.3f} "
        f"ms median, {_pct(reads / step_mean)} of an instrumented step), then write the same "
        f"rows through {recorder}, whose write path alone reaches {write_ratio:.1%} of raw; "
        f"loads plus write alone cap ours at about {ceiling:.0%} of raw"
        + (", below the target before any deciding, encoding or hashing"
           if ceiling < result.target else "")
        + f". Deciding, encoding and hashing add {decide + encode:.3f} ms and snapshots "
        f"{snap:.3f} ms per step on average. Profile of ours: {_stage_summary(result)}.")
    return result
