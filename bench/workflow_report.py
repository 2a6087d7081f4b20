"""Benchmark 5's figures: the two comparisons (against raw SQL doing the step's reads and
writes, and against raw inserts alone), their diagnostics and what limits them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from application.compliance_cases import ComplianceCases
from bench.benchmarks import ADAPT, ADAPT_PART, ENCODE, WAIT, Sizes
from bench.benchmarks import recorder_name as _recorder_name
from bench.common import (
    WAITING,
    Measure,
    ProfileSummary,
    Result,
    StageSpec,
    median_ms,
    p95_ms,
)
from bench.harness import pct, stage_summary
from bench.verify_load_benchmarks import DECODE
from bench.workflow_parts import StepParts

WORKFLOW_STAGES: list[StageSpec] = [
    WAIT,
    ADAPT,
    ("client side of the queries and inserts (recorder, psycopg protocol, pool), excluding "
     "waiting and query parameter adaptation",
     [("infrastructure/postgres_recorder.py", "select_histories|insert_events", "cum", 1),
      ("eventsourcing/postgres.py", "select_events", "cum", 1),
      (*WAITING[:3], -1), (*ADAPT_PART[:3], -1)]),
    DECODE,
    ("application: stored rows to aggregates (snapshot restore, mutate/apply)",
     [("application/aggregate_loading.py", "_materialise|project", "cum", 1),
      ("infrastructure/mapper.py", "to_domain_event", "cum", -1)]),
    ENCODE,
    ("domain: findings, plan draft, number issued, case-file entry",
     [("domain/assessment.py", "issue_findings", "cum", 1),
      ("domain/improvement_plan.py", "draft", "cum", 1),
      ("domain/case_numbers.py", "issue", "cum", 1),
      ("domain/case_file.py", "add", "cum", 1)]),
]


@dataclass
class Run:
    """The sizes of one run of benchmark 5 and the samples it took (seconds each)."""

    rounds: int
    per_round: int
    warmup: int
    parts_n: int
    profile_n: int
    cold_per_round: int
    ours: list[float] = field(default_factory=list)
    read_write: list[float] = field(default_factory=list)
    raw_reads: list[float] = field(default_factory=list)
    write: list[float] = field(default_factory=list)
    recorder: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    step_times: list[float] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, sizes: Sizes) -> Run:
        rounds = sizes.workflow_rounds
        per_round = max(1, sizes.workflow_steps // rounds)
        return cls(rounds, per_round, sizes.workflow_warmup, sizes.workflow_breakdown,
                   sizes.workflow_profile, max(1, per_round // 3))

    @property
    def steps(self) -> int:
        return self.rounds * self.per_round

    @property
    def cold_steps(self) -> int:
        return self.rounds * self.cold_per_round

    @property
    def total(self) -> int:
        """Assessments prepared: every step of ours takes one."""
        return self.warmup + self.steps + self.cold_steps + self.parts_n + self.profile_n


def _measure(label: str, samples: list[float], note: str = "") -> Measure:
    return Measure(label, sum(samples), len(samples), "steps", median_ms(samples),
                   p95_ms(samples), note)


@dataclass
class _Figures:
    ours: Measure
    read_write: Measure
    write: Measure
    recorder: Measure
    loads: Measure
    cold: Measure
    raw_read_ms: float


def _figures(run: Run, recorder: str) -> _Figures:
    rows = len(run.topics)
    raw_read_ms = statistics.median(run.raw_reads) * 1000
    return _Figures(
        ours=_measure("ComplianceCases: app.issue_findings (findings -> improvement plan "
                      "drafted, one transaction)", run.ours,
                      "every step checked: outcome improvement_plan_required, plan drafted; "
                      "a process that has seen the case (its reads in one query)"),
        read_write=_measure(
            "raw psycopg: the step's rows read in one query (the same SELECT: assessment, "
            f"case file, IP sequence's first and last events), then BEGIN; executemany INSERT "
            f"x{rows}; COMMIT", run.read_write,
            f"read part median {raw_read_ms:.3f} ms; rows as the step reads them (read "
            "just before ours steps the same assessments)"),
        write=_measure(f"raw psycopg: BEGIN; executemany INSERT x{rows} (the same rows); "
                       "COMMIT", run.write, "no reads"),
        recorder=_measure(f"diagnostic: the write path alone, app.recorder.insert_events("
                          f"{rows} encoded rows)", run.recorder,
                          f"{recorder}; same rows, no loading, deciding, encoding or hashing"),
        loads=_measure("diagnostic: the step's loads alone (assessment, IP number sequence, "
                       "case file; the same calls)", run.loads,
                       "for the assessment ours had just stepped; reads only"),
        cold=_measure("diagnostic: the same step in a process that has not seen the case "
                      "(neither its importer nor the year known: two queries of reads)",
                      run.cold, "a few per round, interleaved with the rows above"),
        raw_read_ms=raw_read_ms)


def _breakdown(run: Run, parts: StepParts, rows: int) -> tuple[Measure, str, dict[str, float]]:
    n = run.parts_n
    mean = {key: value / n * 1000 for key, value in parts.seconds.items()}
    step_mean = sum(run.step_times) / n * 1000
    reads = parts.reads / n * 1000
    encode = mean["put"] - mean["insert"]
    decide = max(step_mean - reads - mean["put"] - mean["snapshot"], 0.0)
    by_type = ", ".join(f"{kind} {seconds / n * 1000:.3f} ms" for kind, seconds in
                        sorted(parts.by_type.items(), key=lambda item: -item[1]))
    measure = Measure(
        "diagnostic: the same step, instrumented (mean per step by part)",
        sum(run.step_times), n, "steps", median_ms(run.step_times), p95_ms(run.step_times),
        f"reads {reads:.3f} ms; decision + glue {decide:.3f} ms; encoding + hash chain "
        f"{encode:.3f} ms; insert {mean['insert']:.3f} ms; snapshots {mean['snapshot']:.3f} ms")
    fact = (
        f"Where a step's time goes ({n} instrumented steps, mean {step_mean:.3f} ms): loading "
        f"{parts.loads / n:.1f} aggregates with {parts.queries / n:.1f} queries "
        f"{reads:.3f} ms ({pct(reads / step_mean)}: the query {mean['query']:.3f} ms, rows "
        f"to aggregates {mean['materialise']:.3f} ms, by aggregate {by_type}); domain "
        f"decision and application glue {decide:.3f} ms ({pct(decide / step_mean)}); "
        f"msgspec encoding + hash chain {encode:.3f} ms ({pct(encode / step_mean)}); the "
        f"insert (one call, {rows} rows, one transaction) {mean['insert']:.3f} ms "
        f"({pct(mean['insert'] / step_mean)}); snapshots {mean['snapshot']:.3f} ms "
        f"({pct(mean['snapshot'] / step_mean)}; {parts.snapshots} taken in {n} steps).")
    return measure, fact, {"reads": reads, "decide": decide, "encode": encode,
                           "queries": parts.queries / n, "snapshot": mean["snapshot"]}


def results(run: Run, parts: StepParts, summary: ProfileSummary,
            app: ComplianceCases) -> list[Result]:
    """Two rows of the summary from one run: ours against raw reads + writes (target
    ≥ 60%) and against raw inserts alone (target ≥ 30%)."""
    recorder = _recorder_name(app)
    rows = len(run.topics)
    f = _figures(run, recorder)
    instrumented, where, part = _breakdown(run, parts, rows)
    sizes = {"steps per side": run.steps, "warm-up per side": run.warmup,
             "rounds (interleaved step by step)": run.rounds,
             "rows per step": f"{rows} ({', '.join(run.topics)})",
             "assessments prepared": run.total,
             "payload": "the rows the last warm-up step wrote, read back from the events "
                        "table (same topics and state bytes), fresh originator ids per "
                        "transaction"}
    full = Result(
        key="workflow", title="5. A full workflow step (findings → plan drafted)",
        backend="PostgreSQL", ours=f.ours, baseline=f.read_write,
        ratio=f.ours.rate / f.read_write.rate,
        ratio_text="ours steps/s ÷ raw steps/s making the same reads (one query) and writes "
                   "(one transaction), sequential, one connection each",
        target=0.60, target_text="≥ 60% of raw reads + writes", higher_is_better=True,
        sizes=sizes, diagnostics=[f.cold, f.recorder, f.loads, instrumented], profile=summary)
    writes = Result(
        key="workflow-writes", title="5. A full workflow step, against raw inserts alone",
        backend="PostgreSQL", ours=f.ours, baseline=f.write, ratio=f.ours.rate / f.write.rate,
        ratio_text="ours steps/s ÷ raw insert transactions/s of the step's rows, no reads",
        target=0.30, target_text="≥ 30% of raw inserts alone", higher_is_better=True,
        sizes=sizes)
    _facts(full, writes, f, part, where, recorder)
    return [full, writes]


def _facts(full: Result, writes: Result, f: _Figures, part: dict[str, float], where: str,
           recorder: str) -> None:
    assert f.ours.median_ms
    assert f.read_write.median_ms
    assert f.write.median_ms
    assert f.recorder.median_ms
    assert f.loads.median_ms
    assert f.cold.median_ms
    per_step = (
        f"Per step: ours median {f.ours.median_ms:.3f} ms (p95 {f.ours.p95_ms:.3f}), "
        f"{f.ours.rate:,.0f} steps/s; raw reads + writes median {f.read_write.median_ms:.3f} "
        f"ms (its read {f.raw_read_ms:.3f} ms), {f.read_write.rate:,.0f} steps/s; raw inserts "
        f"alone median {f.write.median_ms:.3f} ms, {f.write.rate:,.0f} transactions/s. "
        f"Ratios of median latencies: {f.read_write.median_ms / f.ours.median_ms:.1%} of raw "
        f"reads + writes, {f.write.median_ms / f.ours.median_ms:.1%} of raw inserts alone.")
    cold_ratio = f.cold.rate / f.read_write.rate
    cold = (f"A process that has not seen the case (a CLI command, a server's first command "
            f"on it) cannot name the case file or the year's sequence before loading the "
            f"assessment, so it reads in two queries: median {f.cold.median_ms:.3f} ms, "
            f"{f.cold.rate:,.0f} steps/s, {cold_ratio:.1%} of raw reads + writes.")
    floor = f.loads.median_ms + f.recorder.median_ms
    ceiling = f.read_write.median_ms / floor
    alongside = (
        f"Medians measured alongside: the loads alone {f.loads.median_ms:.3f} ms (raw's "
        f"same query {f.raw_read_ms:.3f} ms), the write path alone {f.recorder.median_ms:.3f}"
        f" ms (raw {f.write.median_ms:.3f} ms), together {floor:.3f} ms: a step that did "
        f"nothing but these loads and this write would reach about {ceiling:.0%} of raw "
        "reads + writes.")
    full.facts += [per_step, where, cold, alongside]
    writes.facts += [per_step, "The reads, the cold path and where a step's time goes: see "
                     "the row above (the same run of ours)."]
    write_ratio = f.recorder.rate / f.write.rate
    full.limits = (
        ("Met. " if full.met else "Missed. ")
        + f"Raw reads the step's rows with one query (median {f.raw_read_ms:.3f} ms) and "
        f"inserts its rows in one transaction. Ours makes the same query "
        f"({part['queries']:.1f} queries per step), turns the rows into aggregates, decides, "
        f"encodes and hashes ({part['decide'] + part['encode']:.3f} ms per step besides the "
        f"reads), then writes through {recorder}, whose write path alone reaches "
        f"{write_ratio:.1%} of raw; snapshots add {part['snapshot']:.3f} ms per step on "
        f"average. Profile of ours: {stage_summary(full)}.")
    writes.limits = (
        ("Met. " if writes.met else "Missed. ")
        + "Raw only inserts the step's rows; ours must also read what it decides on (one "
        f"query, {part['reads']:.3f} ms of an instrumented step's reads) and decide, encode "
        "and hash before the same insert.")
