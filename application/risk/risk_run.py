"""A risk run: tiers, compliance rates and explained risk scores for every importer, from
one year of trade activity and examined samples plus the importers' case history.

Everything is computed set-wise (numpy over all importers). Only importers whose result
changed get a RiskAssessed event, appended in bulk with the run's results tables in one
transaction; each event carries the input batch ids and the method version, so the score
can be reproduced from the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from application.bulk_work import collector_paused
from application.ports import Authorise, Clock
from application.risk.ports import AccountsPort, RiskRunRecord, RiskTablesPort
from domain.base import natural_id
from domain.compliance_rates import (
    BetaPrior,
    fit_prior,
    group_rates,
    industry_priors,
    shrunk_rates,
)
from domain.errors import InvalidValueError
from domain.importer_account import ImporterAccount, RiskFactor, risk_assessed
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


@dataclass(frozen=True)
class RiskRunSummary:
    run_id: str
    year: int
    method_version: str
    importers: int
    changed: int
    input_batches: list[str]


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
                 authorise: Authorise | None = None) -> None:
        """`check_inputs(kinds)` raises when stored ingest rows of those kinds no longer
        match the digests recorded at import: scores must not be computed from altered
        data and then recorded as genuine. `authorise(actor, "risk_run")` refuses an actor
        who may not run one (see CaseStore.authorise)."""
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
        actor = parse_actor(actor)
        if self.authorise is not None:
            self.authorise(actor, "risk_run")
        now = self.clock()
        step = progress or (lambda _stage, _done, _total: None)
        if self.check_inputs is not None:
            self.check_inputs(("trade", "samples"))
        registered = self.accounts.registered()
        numbers = sorted(registered)
        position = {number: i for i, number in enumerate(numbers)}
        industries = [registered[n].facts.industry for n in numbers]
        districts = [registered[n].facts.district for n in numbers]
        step("read accounts", 1, 6)
        value, _duty = self._trade(year, position)
        samples_table = self.tables.sample_totals(year).table
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
        histories = self.accounts.histories()
        empty = ImporterHistory()
        history = [histories.get(n, empty) for n in numbers]
        inputs = RiskInputs(
            annual_value=value, discrepancy_rate=rates.discrepancy_rate,
            compliance_low=rates.compliance_low, compliance_high=rates.compliance_high,
            loss_ratio=samples.loss_ratio, tier=tiers.tiers, industry=industries,
            findings=np.array([h.findings for h in history], dtype=np.int64),
            enforcement=np.array([h.enforcement for h in history], dtype=np.int64),
            trusted_trader=np.array(["trusted_trader" in h.programmes for h in history]),
            self_assessment=np.array([bool(h.programmes & {"self_assessment",
                                                           "compliance_monitoring"})
                                      for h in history]),
            compliance_class=[h.compliance_class for h in history])
        scores = score_importers(inputs, self.policy)
        step("scored", 3, 6)
        closed = self.accounts.closed()
        is_open = np.array([registered[n].account_id not in closed for n in numbers],
                           dtype=bool)
        changed = np.flatnonzero(is_open & self._changed(numbers, scores, tiers.tiers,
                                                         rates.compliance_rate)).tolist()
        removed = [numbers[i] for i in np.flatnonzero(~is_open)]
        batches = tuple(self.tables.input_batches(year))
        run = RiskRunRecord(natural_id("risk-run", f"{year}:{now.isoformat()}"), year,
                            METHOD_VERSION, now, actor, int(is_open.sum()), len(changed),
                            batches)
        explanations = adjustments(inputs, scores, np.array(changed, dtype=np.int64))
        step("explained", 4, 6)
        changed_ids = [registered[numbers[i]].account_id for i in changed]
        heads = self.accounts.heads(changed_ids) if changed else {}
        events = [self._event(account_id, heads[account_id][0] + 1, now, actor, year, i,
                              inputs, scores, rates, tiers.cumulative_share, samples,
                              explanations[i], batches)
                  for i, account_id in zip(changed, changed_ids, strict=True)]
        step("events prepared", 5, 6)
        table = _scores_table(run.run_id, numbers, districts, industries, changed, inputs,
                              scores, rates, tiers.cumulative_share, samples, explanations)
        group_table = self._group_rates(run.run_id, samples_table, position, districts)
        self.save(*events, known_heads={account_id: heads[account_id]
                                        for account_id in changed_ids},
                  write_also=self.tables.writer(run, table, group_table, removed))
        step("recorded", 6, 6)
        return RiskRunSummary(str(run.run_id), year, METHOD_VERSION, run.importers,
                              len(changed), [str(b) for b in batches])

    def _changed(self, numbers: list[str], scores: RiskScores,
                 tiers: npt.NDArray[np.int8],
                 compliance: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Importers whose recorded result differs from this run's (to the cent and the
        millionth of a rate), or who have none."""
        previous = self.tables.previous_scores()
        known = np.zeros(len(numbers), dtype=bool)
        old_score = np.zeros(len(numbers))
        old_rate = np.zeros(len(numbers))
        old_tier = np.zeros(len(numbers), dtype=np.int64)
        same_labels = np.zeros(len(numbers), dtype=bool)
        for i, number in enumerate(numbers):
            found = previous.get(number)
            if found is None:
                continue
            known[i] = True
            old_score[i], old_rate[i], old_tier[i] = found.score, found.compliance_rate, \
                found.tier
            same_labels[i] = (found.method_version == METHOD_VERSION
                              and found.category == CATEGORIES[scores.category[i]]
                              and found.impact_level == IMPACT_LEVELS[scores.impact[i]])
        same = (known & same_labels & (old_tier == tiers)
                & (np.round(old_score, 2) == np.round(scores.score, 2))
                & (np.round(old_rate, 6) == np.round(compliance, 6)))
        changed: npt.NDArray[np.bool_] = ~same
        return changed

    def _trade(self, year: int, position: dict[str, int]
               ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        trade = self.tables.trade_totals(year).table
        value = np.zeros(len(position))
        duty = np.zeros(len(position))
        if trade.num_rows:
            rows = _positions(trade["importer_number"], position)
            known = rows >= 0
            value[rows[known]] = _floats(trade["value_cents"])[known] / 100
            duty[rows[known]] = _floats(trade["duty_cents"])[known] / 100
        return value, duty

    def _samples(self, table: pa.Table, position: dict[str, int],
                 industries: list[str]) -> _Samples:
        count = len(position)
        lines = np.zeros(count, dtype=np.int64)
        found = np.zeros(count, dtype=np.int64)
        loss = np.zeros(count)
        discrepant_value = np.zeros(count)
        if table.num_rows:
            rows = _positions(table["importer_number"], position)
            known = rows >= 0
            np.add.at(lines, rows[known], _ints(table["lines"])[known])
            np.add.at(found, rows[known], _ints(table["discrepancies"])[known])
            np.add.at(loss, rows[known], _floats(table["loss_cents"])[known])
            np.add.at(discrepant_value, rows[known],
                      _floats(table["discrepant_value_cents"])[known])
        # Revenue lost per unit of non-compliant value, pooled by industry: too few
        # discrepant lines per importer to estimate it alone.
        codes = np.array(industries)
        ratio = np.zeros(count)
        national = loss.sum() / discrepant_value.sum() if discrepant_value.sum() else 0.0
        for code in np.unique(codes):
            members = codes == code
            pooled = discrepant_value[members].sum()
            ratio[members] = loss[members].sum() / pooled if pooled else national
        return _Samples(lines, found, ratio)

    def _group_rates(self, run_id: UUID, table: pa.Table, position: dict[str, int],
                     districts: list[str]) -> pa.Table:
        """Industry (HS chapter of the line), district and area rates from the random
        sample lines (the unbiased measure), shrunk toward the national rate."""
        if not table.num_rows:
            return _rates_table(run_id, [])
        random_rows = table.filter(pc.equal(table["selection"], "random"))
        sample = random_rows if random_rows.num_rows else table
        lines = _ints(sample["lines"])
        found = _ints(sample["discrepancies"])
        importer_rows = _positions(sample["importer_number"], position)
        national = _national_prior(importer_rows, found, lines)
        chapters = sample["chapter"].to_pylist()
        district_keys = [districts[i] if i >= 0 else "??" for i in importer_rows]
        results: list[tuple[str, str, int, int, float, float, float]] = []
        for grain, keys in (("industry", chapters), ("district", district_keys)):
            grouped = group_rates(keys, found, lines, national)
            results.extend(_rows(grain, grouped.keys, grouped.estimates))
        areas = np.array(sample["area"].to_pylist())
        total = int(lines.sum())
        area_keys = [area.value for area in ComplianceArea]
        area_found = [int(found[areas == key].sum()) for key in area_keys]
        per_area = BetaPrior.from_mean(max(min(national.mean / len(area_keys), 0.5), 1e-6),
                                       national.strength)
        estimates = shrunk_rates(area_found, [total] * len(area_keys), per_area.alpha,
                                 per_area.beta)
        results.extend(_rows("area", area_keys, estimates))
        return _rates_table(run_id, results)

    def _event(self, account_id: UUID, version: int, now: datetime, actor: str, year: int,
               i: int, inputs: RiskInputs, scores: RiskScores, rates: Any,
               cumulative: npt.NDArray[np.float64], samples: _Samples,
               factors: list[Any], batches: tuple[UUID, ...]) -> ImporterAccount.RiskAssessed:
        return risk_assessed(
            account_id, version, now, actor=actor,
            reason=f"risk run for {year} ({METHOD_VERSION})", method_version=METHOD_VERSION,
            year=year, score=_money(scores.score[i]),
            expected_noncompliant_value=_money(scores.expected_noncompliant_value[i]),
            revenue_at_risk=_money(scores.revenue_at_risk[i]),
            compliance_rate=_rate(rates.compliance_rate[i]),
            compliance_low=_rate(rates.compliance_low[i]),
            compliance_high=_rate(rates.compliance_high[i]),
            lines_examined=int(samples.lines[i]), discrepancies=int(samples.discrepancies[i]),
            category=CATEGORIES[scores.category[i]], impact_level=IMPACT_LEVELS[scores.impact[i]],
            tier=int(inputs.tier[i]), annual_value=_money(inputs.annual_value[i]),
            cumulative_share=_rate(cumulative[i]),
            explanation=tuple(RiskFactor(f.factor, f.value, _rate(f.effect)) for f in factors),
            input_batches=batches)


def _national_prior(importer_rows: npt.NDArray[np.int64], found: npt.NDArray[np.int64],
                    lines: npt.NDArray[np.int64]) -> BetaPrior:
    size = int(importer_rows.max()) + 2 if len(importer_rows) else 1
    slots = np.where(importer_rows >= 0, importer_rows, size - 1)
    per_found = np.bincount(slots, weights=found, minlength=size).astype(np.int64)
    per_lines = np.bincount(slots, weights=lines, minlength=size).astype(np.int64)
    return fit_prior(per_found, per_lines)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _rate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _positions(column: pa.ChunkedArray, position: dict[str, int]) -> npt.NDArray[np.int64]:
    """Each row's importer position (-1 for an importer not registered), vectorised."""
    if not len(column):
        return np.zeros(0, dtype=np.int64)
    found = pc.index_in(column, value_set=pa.array(list(position), pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _floats(column: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    return np.asarray(pc.fill_null(pc.cast(column, pa.float64()), 0).to_numpy(),
                      dtype=np.float64)


def _ints(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return np.asarray(pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy(), dtype=np.int64)


def _rows(grain: str, keys: list[str], estimates: Any
          ) -> list[tuple[str, str, int, int, float, float, float]]:
    return [(grain, key, int(estimates.lines[j]), int(estimates.discrepancies[j]),
             float(estimates.compliance_rate[j]), float(estimates.compliance_low[j]),
             float(estimates.compliance_high[j])) for j, key in enumerate(keys)]


def _rates_table(run_id: UUID, rows: list[tuple[str, str, int, int, float, float, float]]
                 ) -> pa.Table:
    names = ("grain", "key", "lines", "discrepancies", "compliance_rate", "compliance_low",
             "compliance_high")
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    table = {name: list(values) for name, values in zip(names, columns, strict=True)}
    types = (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.float64(), pa.float64(),
             pa.float64())
    arrays = {name: pa.array(table[name], type_) for name, type_ in zip(names, types,
                                                                          strict=True)}
    arrays["run_id"] = pa.array([str(run_id)] * len(rows), pa.string())
    return pa.table(arrays)


def _scores_table(run_id: UUID, numbers: list[str], districts: list[str],
                  industries: list[str], rows: list[int], inputs: RiskInputs,
                  scores: RiskScores, rates: Any, cumulative: npt.NDArray[np.float64],
                  samples: _Samples, explanations: dict[int, list[Any]]) -> pa.Table:
    index = np.array(rows, dtype=np.int64)
    encode = msgspec.json.encode
    return pa.table({
        "importer_number": pa.array([numbers[i] for i in rows], pa.string()),
        "run_id": pa.array([str(run_id)] * len(rows), pa.string()),
        "district": pa.array([districts[i] for i in rows], pa.string()),
        "industry": pa.array([industries[i] for i in rows], pa.string()),
        "tier": pa.array(inputs.tier[index].astype(np.int64)),
        "annual_value": pa.array(inputs.annual_value[index]),
        "cumulative_share": pa.array(cumulative[index]),
        "lines": pa.array(samples.lines[index]),
        "discrepancies": pa.array(samples.discrepancies[index]),
        "compliance_rate": pa.array(rates.compliance_rate[index]),
        "compliance_low": pa.array(rates.compliance_low[index]),
        "compliance_high": pa.array(rates.compliance_high[index]),
        "expected_noncompliant_value": pa.array(scores.expected_noncompliant_value[index]),
        "revenue_at_risk": pa.array(scores.revenue_at_risk[index]),
        "score": pa.array(scores.score[index]),
        "category": pa.array([CATEGORIES[c] for c in scores.category[index]], pa.string()),
        "impact_level": pa.array([IMPACT_LEVELS[c] for c in scores.impact[index]],
                                 pa.string()),
        "method_version": pa.array([METHOD_VERSION] * len(rows), pa.string()),
        "adjustments": pa.array([encode(explanations[i]).decode() for i in rows], pa.string()),
    })
