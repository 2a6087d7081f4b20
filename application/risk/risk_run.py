"""A risk run: tiers, compliance rates and explained risk scores for every importer, from
one year of trade activity and examined samples plus the importers' case history.

Everything is computed set-wise (numpy over all importers). Only importers whose result
changed get a RiskAssessed event, appended in bulk with the run's results tables in one
transaction; each event carries the input batch ids and the method version, so the score
can be reproduced from the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from application.bulk_work import collector_paused
from application.event_rows import EventRows, Heads
from application.ports import Authorise, Clock
from application.risk.arrays import codes, floats, id_order, ints, positions
from application.risk.input_check import InputCheck
from application.risk.ports import (
    AccountsPort,
    PreviousScores,
    RiskRunRecord,
    RiskTablesPort,
    RunWriter,
    SampleTotals,
    TradeTotals,
)
from application.risk.result_tables import rate_rows, rates_table, scores_table
from application.risk.risk_events import (
    AssessedFigures,
    AssessedRows,
    Targets,
    assessed_events,
)
from domain.base import natural_id, require_aware
from domain.compliance_rates import (
    BetaPrior,
    fit_prior,
    group_rates,
    industry_priors,
    shrunk_rates,
)
from domain.errors import InvalidValueError
from domain.importer_account import ImporterAccount
from domain.importer_history import ImporterHistory
from domain.reference import ComplianceArea
from domain.risk_scoring import (
    CATEGORIES,
    IMPACT_LEVELS,
    METHOD_VERSION,
    RiskInputs,
    RiskPolicy,
    RiskScores,
    adjustments,
    score_importers,
)
from domain.value_tiers import assign_tiers
from domain.values import parse_actor

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class RiskRunSummary:
    run_id: str
    year: int
    method_version: str
    importers: int
    changed: int
    input_batches: list[str]


class _InOrder(Executor):
    """Runs each read when it is submitted, one after another (a store whose reads cannot
    run at once)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed over as a thread pool's future would
            done.set_exception(error)
        return done


def _reads_executor(concurrent: bool) -> Executor:
    return (ThreadPoolExecutor(max_workers=4, thread_name_prefix="risk-reads") if concurrent
            else _InOrder())


@dataclass(frozen=True)
class _Reads:
    """The run's reads that depend on nothing the run computes, sent at once."""

    trade: Future[TradeTotals]
    samples: Future[SampleTotals]
    histories: Future[Mapping[str, ImporterHistory]]
    closed: Future[set[UUID]]
    batches: Future[list[UUID]]
    previous: Future[PreviousScores]


@dataclass(frozen=True)
class _Plan:
    """A run decided and ready to record: the run's row, the changed importers' events
    (as figures and targets), their accounts' heads and the writer of the run's tables."""

    run: RiskRunRecord
    figures: AssessedFigures
    targets: Targets
    heads: Heads
    write: RunWriter


@dataclass(frozen=True)
class _Samples:
    lines: npt.NDArray[np.int64]
    discrepancies: npt.NDArray[np.int64]
    loss_ratio: npt.NDArray[np.float64]


class RiskRun:
    def __init__(self, tables: RiskTablesPort, accounts: AccountsPort,
                 save: Callable[..., object], clock: Clock,
                 policy: RiskPolicy | None = None,
                 check_inputs: Callable[[Sequence[str]], None] | None = None,
                 authorise: Authorise | None = None,
                 event_rows: EventRows | None = None) -> None:
        """`check_inputs(kinds)` raises when stored ingest rows of those kinds no longer
        match the digests recorded at import: scores must not be computed from altered
        data and then recorded as genuine. `authorise(actor, "risk_run")` refuses an actor
        who may not run one (see CaseStore.authorise). `event_rows`: the RiskAssessed
        events go to the store as rows (application.event_rows), the bulk path of a
        national run; without it, as event objects through `save` (the same bytes)."""
        self.event_rows = event_rows
        self.authorise = authorise
        self.check_inputs = check_inputs
        self.tables = tables
        self.accounts = accounts
        self.save = save
        self.clock = clock
        self.policy = policy or RiskPolicy()

    @collector_paused
    def assess(self, year: int, *, actor: str,
               progress: Progress | None = None) -> RiskRunSummary:
        """Reads, scores and records one run. The reads that do not depend on one another
        are sent at once, on threads of their own, so that the database works on them
        while the run decodes the registrations and computes; among them the inputs'
        digest check (every trade and sample row's digest recomputed), and nothing is
        recorded unless it passed."""
        actor = parse_actor(actor)
        if self.authorise is not None:
            self.authorise(actor, "risk_run")
        now = require_aware(self.clock())
        step = progress or (lambda _stage, _done, _total: None)
        with _reads_executor(self.tables.concurrent_reads) as pool:
            reads = _Reads(pool.submit(self.tables.trade_totals, year),
                           pool.submit(self.tables.sample_totals, year),
                           pool.submit(self.accounts.histories),
                           pool.submit(self.accounts.closed),
                           pool.submit(self.tables.input_batches, year),
                           pool.submit(self.tables.previous_scores))
            checked = InputCheck(pool, self.check_inputs)
            try:
                plan = self._plan(year, actor, now, step, reads, pool, checked.start)
            except Exception:
                checked.result()  # altered inputs explain a failure best: that error
                raise
            try:
                checked.result()  # altered inputs: DamagedInputError, nothing recorded
            except BaseException:
                plan.write.close()
                raise
        self._record(plan)
        step("recorded", 6, 6)
        run = plan.run
        return RiskRunSummary(str(run.run_id), year, METHOD_VERSION, run.importers,
                              run.changed, [str(b) for b in run.input_batches])

    def _plan(self, year: int, actor: str, now: datetime, step: Progress,
              reads: _Reads, pool: Executor, start_check: Callable[[], None]) -> _Plan:
        registered = self.accounts.registered()
        # A run with no scores before it (a first national run) changes every open
        # importer: their accounts' heads are read (the database scanning the log for
        # later events) and hashed while the run computes, not after.
        every_head = (pool.submit(self.accounts.heads)
                      if not reads.previous.result().table.num_rows else None)
        numbers = sorted(registered)
        position = dict(zip(numbers, range(len(numbers)), strict=True))
        # Looked up once per importer, the fields taken by C loops (map, attrgetter): a
        # national run has 443,000 of them.
        accounts = list(map(registered.__getitem__, numbers))
        industries = list(map(attrgetter("facts.industry"), accounts))
        districts = list(map(attrgetter("facts.district"), accounts))
        step("read accounts", 1, 6)
        value, _duty = self._trade(reads.trade.result().table, position)
        samples_table = reads.samples.result().table
        # The reads the computing waits for are in: the digest check's scans get the
        # server while the run computes (sent at the start, they slowed those reads).
        start_check()
        samples = self._samples(samples_table, position, industries)
        step("read trade and samples", 2, 6)
        if not samples.lines.sum():
            raise InvalidValueError("year", year, "no examined sample lines of registered "
                                    "importers in that year: import samples first")
        tiers = assign_tiers(value, numbers)
        priors = industry_priors(industries, samples.discrepancies, samples.lines)
        alpha = np.array([priors[code].alpha for code in industries])
        beta = np.array([priors[code].beta for code in industries])
        rates = shrunk_rates(samples.discrepancies, samples.lines, alpha, beta)
        history = _history_arrays(reads.histories.result(), position)
        inputs = RiskInputs(
            annual_value=value, discrepancy_rate=rates.discrepancy_rate,
            compliance_low=rates.compliance_low, compliance_high=rates.compliance_high,
            loss_ratio=samples.loss_ratio, tier=tiers.tiers, industry=industries,
            findings=history.findings, enforcement=history.enforcement,
            trusted_trader=history.trusted_trader, self_assessment=history.self_assessment,
            compliance_class=history.compliance_class)
        scores = score_importers(inputs, self.policy)
        step("scored", 3, 6)
        closed = reads.closed.result()
        is_open = (np.array([found.account_id not in closed for found in accounts],
                            dtype=bool) if closed else np.ones(len(numbers), dtype=bool))
        changed = np.flatnonzero(is_open & _changed(
            reads.previous.result().table, position, scores, tiers.tiers,
            rates.compliance_rate)).tolist()
        batches = tuple(reads.batches.result())
        run = RiskRunRecord(natural_id("risk-run", f"{year}:{now.isoformat()}"), year,
                            METHOD_VERSION, now, actor, int(is_open.sum()), len(changed),
                            batches)
        explanations = adjustments(inputs, scores, np.array(changed, dtype=np.int64))
        step("explained", 4, 6)
        figures = AssessedFigures(
            now, actor, year, batches, inputs, scores, rates.compliance_rate,
            rates.compliance_low, rates.compliance_high, tiers.cumulative_share,
            samples.lines, samples.discrepancies, explanations)
        changed_ids = list(map(attrgetter("account_id"),
                               map(accounts.__getitem__, changed)))
        # Every account's head when every importer changed (a first run): no set of
        # 443,000 ids to look each account up in.
        heads = (self._heads(changed_ids, len(registered), every_head)
                 if changed else {})
        # The events in the order of their aggregates' ids, the events table's key: the
        # server adds 443,000 of them to its primary key index a third faster in order.
        by_id = id_order(changed_ids)
        ids_in_order = list(map(changed_ids.__getitem__, by_id))
        found = list(map(heads.__getitem__, ids_in_order))
        targets = Targets(list(map(changed.__getitem__, by_id)), ids_in_order,
                          [version + 1 for version, _ in found], [head for _, head in found])
        step("events prepared", 5, 6)
        table = scores_table(run.run_id, numbers, districts, industries, changed, figures)
        group_table = self._group_rates(run.run_id, samples_table, position, districts)
        removed = [numbers[i] for i in np.flatnonzero(~is_open)]
        existing = set(reads.previous.result().table["importer_number"].to_pylist())
        return _Plan(run, figures, targets, heads,
                     self.tables.writer(run, table, group_table, removed,
                                        existing=existing))

    def _heads(self, changed_ids: list[UUID], registered: int,
               every_head: Future[dict[UUID, tuple[int, str]]] | None) -> Heads:
        """The changed accounts' heads: from every account's, read meanwhile, or read
        now (every account's when every importer changed)."""
        if every_head is not None:
            found = every_head.result()
            return found if len(changed_ids) == len(found) else {
                each: found[each] for each in changed_ids}
        return self.accounts.heads(None if len(changed_ids) == registered else changed_ids)

    def _record(self, plan: _Plan) -> None:
        """The changed importers' RiskAssessed events and the run's tables, in one
        transaction: as rows streamed to the store while they are made, or as objects."""
        try:
            if self.event_rows is not None:
                rows = AssessedRows(plan.figures, plan.targets,
                                    self.event_rows.fields(ImporterAccount.RiskAssessed))
                self.event_rows.append(ImporterAccount.RiskAssessed, rows, heads=plan.heads,
                                       write_also=plan.write)
            else:
                self.save(*assessed_events(plan.figures, plan.targets),
                          known_heads=dict(plan.heads), write_also=plan.write)
        finally:
            plan.write.close()

    def _trade(self, trade: pa.Table, position: dict[str, int]
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        value = np.zeros(len(position))
        duty = np.zeros(len(position))
        if trade.num_rows:
            rows = positions(trade["importer_number"], position)
            known = rows >= 0
            value[rows[known]] = floats(trade["value_cents"])[known] / 100
            duty[rows[known]] = floats(trade["duty_cents"])[known] / 100
        return value, duty

    def _samples(self, table: pa.Table, position: dict[str, int],
                 industries: list[str]) -> _Samples:
        count = len(position)
        lines = np.zeros(count, dtype=np.int64)
        found = np.zeros(count, dtype=np.int64)
        loss = np.zeros(count)
        discrepant_value = np.zeros(count)
        if table.num_rows:
            rows = positions(table["importer_number"], position)
            known = rows >= 0
            np.add.at(lines, rows[known], ints(table["lines"])[known])
            np.add.at(found, rows[known], ints(table["discrepancies"])[known])
            np.add.at(loss, rows[known], floats(table["loss_cents"])[known])
            np.add.at(discrepant_value, rows[known],
                      floats(table["discrepant_value_cents"])[known])
        # Revenue lost per unit of non-compliant value, pooled by industry: too few
        # discrepant lines per importer to estimate it alone.
        industry_codes = np.array(industries)
        ratio = np.zeros(count)
        national = loss.sum() / discrepant_value.sum() if discrepant_value.sum() else 0.0
        for code in np.unique(industry_codes):
            members = industry_codes == code
            pooled = discrepant_value[members].sum()
            ratio[members] = loss[members].sum() / pooled if pooled else national
        return _Samples(lines, found, ratio)

    def _group_rates(self, run_id: UUID, table: pa.Table, position: dict[str, int],
                     districts: list[str]) -> pa.Table:
        """Industry (HS chapter of the line), district and area rates from the random
        sample lines (the unbiased measure), shrunk toward the national rate."""
        if not table.num_rows:
            return rates_table(run_id, [])
        random_rows = table.filter(pc.equal(table["selection"], "random"))
        sample = random_rows if random_rows.num_rows else table
        lines = ints(sample["lines"])
        found = ints(sample["discrepancies"])
        importer_rows = positions(sample["importer_number"], position)
        national = _national_prior(importer_rows, found, lines)
        chapters = sample["chapter"].to_pylist()
        district_keys = [districts[i] if i >= 0 else "??" for i in importer_rows]
        results: list[tuple[str, str, int, int, float, float, float]] = []
        for grain, keys in (("industry", chapters), ("district", district_keys)):
            grouped = group_rates(keys, found, lines, national)
            results.extend(rate_rows(grain, grouped.keys, grouped.estimates))
        areas = np.array(sample["area"].to_pylist())
        total = int(lines.sum())
        area_keys = [area.value for area in ComplianceArea]
        area_found = [int(found[areas == key].sum()) for key in area_keys]
        per_area = BetaPrior.from_mean(max(min(national.mean / len(area_keys), 0.5), 1e-6),
                                       national.strength)
        estimates = shrunk_rates(area_found, [total] * len(area_keys), per_area.alpha,
                                 per_area.beta)
        results.extend(rate_rows("area", area_keys, estimates))
        return rates_table(run_id, results)


@dataclass(frozen=True)
class _Histories:
    findings: npt.NDArray[np.int64]
    enforcement: npt.NDArray[np.int64]
    trusted_trader: npt.NDArray[np.bool_]
    self_assessment: npt.NDArray[np.bool_]
    compliance_class: list[str | None]


def _history_arrays(histories: Mapping[str, ImporterHistory],
                    position: dict[str, int]) -> _Histories:
    """The case history as the scoring's arrays, filled from the importers that have any
    (a few thousand), not looked up for every importer."""
    count = len(position)
    result = _Histories(np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64),
                        np.zeros(count, dtype=bool), np.zeros(count, dtype=bool),
                        [None] * count)
    for number, history in histories.items():
        i = position.get(number)
        if i is None:
            continue
        result.findings[i] = history.findings
        result.enforcement[i] = history.enforcement
        result.trusted_trader[i] = "trusted_trader" in history.programmes
        result.self_assessment[i] = bool(history.programmes & {"self_assessment",
                                                               "compliance_monitoring"})
        result.compliance_class[i] = history.compliance_class
    return result


def _changed(previous: pa.Table, position: dict[str, int], scores: RiskScores,
         tiers: npt.NDArray[np.int8],
         compliance: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Importers whose recorded result differs from this run's (to the cent and the
    millionth of a rate), or who have none: the scores table set against this run's
    arrays by importer position, vectorised."""
    count = len(position)
    known = np.zeros(count, dtype=bool)
    old_score = np.zeros(count)
    old_rate = np.zeros(count)
    old_tier = np.zeros(count, dtype=np.int64)
    same_labels = np.zeros(count, dtype=bool)
    if previous.num_rows:
        rows = positions(previous["importer_number"], position)
        found = rows >= 0
        at = rows[found]
        known[at] = True
        old_score[at] = floats(previous["score"])[found]
        old_rate[at] = floats(previous["compliance_rate"])[found]
        old_tier[at] = ints(previous["tier"])[found]
        method = np.asarray(pc.equal(previous["method_version"], METHOD_VERSION)
                            .to_numpy(zero_copy_only=False), dtype=bool)
        category = codes(previous["category"], CATEGORIES)
        impact = codes(previous["impact_level"], IMPACT_LEVELS)
        same_labels[at] = (method[found] & (category[found] == scores.category[at])
                           & (impact[found] == scores.impact[at]))
    same = (known & same_labels & (old_tier == tiers)
            & (np.round(old_score, 2) == np.round(scores.score, 2))
            & (np.round(old_rate, 6) == np.round(compliance, 6)))
    changed: npt.NDArray[np.bool_] = ~same
    return changed


def _national_prior(importer_rows: npt.NDArray[np.int64], found: npt.NDArray[np.int64],
                    lines: npt.NDArray[np.int64]) -> BetaPrior:
    size = int(importer_rows.max()) + 2 if len(importer_rows) else 1
    slots = np.where(importer_rows >= 0, importer_rows, size - 1)
    per_found = np.bincount(slots, weights=found, minlength=size).astype(np.int64)
    per_lines = np.bincount(slots, weights=lines, minlength=size).astype(np.int64)
    return fit_prior(per_found, per_lines)
