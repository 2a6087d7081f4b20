"""How good targeting really is: the hit rate (share of examined lines with a discrepancy)
of targeted against random selection, overall, by district and by rule, each with a 95%
interval (the China Customs performance evaluation); and a rule's backtest on the samples
already loaded."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
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


SampleGroup = tuple[str, bool, bool, str, int]
"""Examined lines alike for every figure of `measure`: (district: the entry's, else the
importer's, else "??"; random selection; a hit (any discrepancy); the rules behind the
exam, "rule@version,..." or ""; how many lines). A database groups lines so far
(infrastructure.targeting_tables.sample_groups) and hands over a few hundred rows, not
every line."""


class SamplesPort(Protocol):
    def samples_with_risk(self) -> pa.Table: ...


class HistoriesPort(Protocol):
    def histories(self) -> Mapping[str, ImporterHistory]: ...


class TargetingEffectiveness:
    def __init__(self, samples: SamplesPort, accounts: HistoriesPort) -> None:
        self.samples = samples
        self.accounts = accounts

    def measure(self) -> Effectiveness:
        """Over every loaded sample line (the same figures as effectiveness_of)."""
        table = self.samples.samples_with_risk()
        lines: Counter[tuple[str, bool, bool, str]] = Counter(zip(
            [entry or importer or "??" for entry, importer in zip(
                table["entry_district"].to_pylist(), table["importer_district"].to_pylist(),
                strict=True)],
            [selection == "random" for selection in table["selection"].to_pylist()],
            [int(found) > 0 for found in table["discrepancy"].to_pylist()],
            [rules or "" for rules in table["rules"].to_pylist()], strict=True))
        return effectiveness_of((*key, count) for key, count in lines.items())

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


def effectiveness_of(groups: Iterable[SampleGroup]) -> Effectiveness:
    """Targeted against random hit rates, overall, by district and by rule (a line counts
    once for each distinct rule behind it), from lines grouped as SampleGroup says."""
    overall = _Tally()
    by_district: dict[str, _Tally] = defaultdict(_Tally)
    by_rule: dict[str, _Tally] = defaultdict(_Tally)
    for district, random, hit, rules, lines in groups:
        overall.add(random, hit, lines)
        by_district[district].add(random, hit, lines)
        for rule in {rule.split("@")[0] for rule in rules.split(",") if rule}:
            by_rule[rule].add(random, hit, lines)
    return Effectiveness(overall.compare("national"),
                         [by_district[code].compare(code) for code in sorted(by_district)],
                         [by_rule[rule].compare(rule) for rule in sorted(by_rule)])


class _Tally:
    """Examined lines and hits, targeted and random, of one comparison."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0, 0]
        """targeted examined, targeted hits, random examined, random hits."""

    def add(self, random: bool, hit: bool, lines: int) -> None:
        side = 2 if random else 0
        self.counts[side] += lines
        if hit:
            self.counts[side + 1] += lines

    def compare(self, key: str) -> Comparison:
        examined, hits, random_examined, random_hits = self.counts
        return Comparison(key, HitRate.of(hits, examined),
                          HitRate.of(random_hits, random_examined))


def _rate(hits: np.ndarray, mask: np.ndarray) -> HitRate:
    return HitRate.of(int((hits & mask).sum()), int(mask.sum()))
