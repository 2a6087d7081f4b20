"""How good targeting really is: the hit rate (share of examined lines with a discrepancy)
of targeted against random selection, overall, by district and by rule, each with a 95%
interval (the China Customs performance evaluation); and a rule's backtest on the samples
already loaded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from application.targeting.matching import condition_mask
from domain.importer_history import ImporterHistory
from domain.statistics import wilson_interval
from domain.targeting_rule import TargetingRule


@dataclass(frozen=True)
class HitRate:
    examined: int
    hits: int
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, hits: int, examined: int) -> HitRate:
        estimate = wilson_interval(hits, examined)
        return cls(examined, hits, estimate.rate, estimate.lower, estimate.upper)


@dataclass(frozen=True)
class Comparison:
    key: str
    targeted: HitRate
    random: HitRate

    @property
    def lift(self) -> float | None:
        return self.targeted.rate / self.random.rate if self.random.rate else None

    @property
    def clearly_better(self) -> bool:
        """The intervals do not overlap: targeting beats chance beyond doubt."""
        return self.targeted.examined > 0 and self.targeted.low > self.random.high


@dataclass(frozen=True)
class Effectiveness:
    overall: Comparison
    by_district: list[Comparison]
    by_rule: list[Comparison]


@dataclass(frozen=True)
class Backtest:
    rule: str
    version: int
    matched: HitRate
    """Every loaded sample line the rule's conditions select."""
    matched_random: HitRate
    """Only the random lines it selects: the unbiased estimate of its hit rate."""
    all_random: HitRate
    """The random lines it does not select: the baseline it must beat."""


class SamplesPort(Protocol):
    def samples_with_risk(self) -> pa.Table: ...


class HistoriesPort(Protocol):
    def histories(self) -> Mapping[str, ImporterHistory]: ...


class TargetingEffectiveness:
    def __init__(self, samples: SamplesPort, accounts: HistoriesPort) -> None:
        self.samples = samples
        self.accounts = accounts

    def measure(self) -> Effectiveness:
        table = self.samples.samples_with_risk()
        hits = np.array(table["discrepancy"].to_pylist(), dtype=np.int64) > 0
        random = np.array(table["selection"].to_pylist()) == "random"
        districts = [entry or importer or "??" for entry, importer in zip(
            table["entry_district"].to_pylist(), table["importer_district"].to_pylist(),
            strict=True)]
        overall = _compare("national", hits, random, np.ones(len(hits), dtype=bool))
        codes = np.array(districts)  # once, not once per district (42 districts, 158,000 lines)
        by_district = [_compare(code, hits, random, codes == code)
                       for code in sorted(set(districts))]
        per_rule: dict[str, list[int]] = defaultdict(list)
        for index, rules in enumerate(table["rules"].to_pylist()):
            for rule in (rules or "").split(","):
                if rule:
                    per_rule[rule.split("@")[0]].append(index)
        by_rule = []
        for rule, indices in sorted(per_rule.items()):
            member = np.zeros(len(hits), dtype=bool)
            member[indices] = True
            by_rule.append(_compare(rule, hits, random, member))
        return Effectiveness(overall, by_district, by_rule)

    def backtest(self, rule: TargetingRule) -> Backtest:
        table = self.samples.samples_with_risk()
        histories = self.accounts.histories()
        classes = [histories[n].compliance_class if n in histories else None
                   for n in table["importer_number"].to_pylist()]
        table = table.append_column("compliance_class", pa.array(classes, pa.string()))
        definition = rule.in_force or rule.definition
        version = rule.in_force_version or rule.rule_version
        selected = condition_mask(table, definition.conditions)
        if definition.districts:
            districts = [entry or importer for entry, importer in zip(
                table["entry_district"].to_pylist(), table["importer_district"].to_pylist(),
                strict=True)]
            selected &= np.isin(np.array(districts, dtype=object),
                                list(definition.districts))
        hits = np.array(table["discrepancy"].to_pylist(), dtype=np.int64) > 0
        random = np.array(table["selection"].to_pylist()) == "random"
        return Backtest(rule.number, version, _rate(hits, selected),
                        _rate(hits, selected & random), _rate(hits, ~selected & random))


def _rate(hits: np.ndarray, mask: np.ndarray) -> HitRate:
    return HitRate.of(int((hits & mask).sum()), int(mask.sum()))


def _compare(key: str, hits: np.ndarray, random: np.ndarray,
             member: np.ndarray) -> Comparison:
    return Comparison(key, _rate(hits, member & ~random), _rate(hits, member & random))
