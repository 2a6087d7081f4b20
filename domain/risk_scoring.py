"""Risk scores for every importer at once, each with the factors that made it.

The ranking key is the expected non-compliant value: the importer's estimated
non-compliance (beta-binomial, shrunk toward its industry) times its annual value. That is
what a selection maximises when it directs scarce audits to where most non-compliant value
is. History and status then scale it: findings and enforcement raise it, partnership
programmes and a good compliance class lower it, a primary focus industry raises it. The
score stays in money units ("adjusted expected non-compliant value"), so it reads plainly.

Risk categories say how sure we are that the importer is non-compliant (from its
compliance-rate interval); enforce-impact levels say how much it would matter (revenue at
risk against the materiality threshold, and value tier). Both are explained, not ranked on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

METHOD_VERSION = "risk-2026.11-1"

PRIMARY_FOCUS_INDUSTRIES: frozenset[str] = frozenset({
    # agriculture
    *(f"{chapter:02d}" for chapter in range(1, 25)),
    "87",  # automotive
    "73", "84",  # critical components: fasteners, bearings; production equipment
    "64",  # footwear
    "72",  # steel
    *(f"{chapter:02d}" for chapter in range(50, 64)),  # textiles and wearing apparel
    "85",  # telecommunications
})
"""The source's primary focus industries as HS chapters."""

CATEGORIES = ("low", "moderate", "elevated", "high")
IMPACT_LEVELS = ("minor", "moderate", "major", "critical")
CLASS_FACTORS = {"aa": 0.6, "a": 0.8, "b": 1.0, "c": 1.3, "d": 1.6}


@dataclass(frozen=True)
class RiskPolicy:
    """Weights and thresholds: defaults here, overridable by settings."""

    materiality: float = 50_000.0
    acceptable_rate: float = 0.95
    high_risk_rate: float = 0.90
    findings_factor: float = 1.5
    enforcement_factor: float = 2.0
    trusted_trader_factor: float = 0.5
    self_assessment_factor: float = 0.75
    focus_industry_factor: float = 1.25
    class_factors: dict[str, float] = field(default_factory=lambda: dict(CLASS_FACTORS))


@dataclass(frozen=True)
class RiskInputs:
    """One row per importer; arrays aligned."""

    annual_value: npt.NDArray[np.float64]
    discrepancy_rate: npt.NDArray[np.float64]
    """Posterior mean non-compliance (shrunk toward the industry)."""
    compliance_low: npt.NDArray[np.float64]
    compliance_high: npt.NDArray[np.float64]
    loss_ratio: npt.NDArray[np.float64]
    """Revenue lost per unit of value of a non-compliant line (from the industry's samples)."""
    tier: npt.NDArray[np.int8]
    industry: list[str]
    findings: npt.NDArray[np.int64]
    """Assessments whose findings required a plan or enforcement."""
    enforcement: npt.NDArray[np.int64]
    trusted_trader: npt.NDArray[np.bool_]
    self_assessment: npt.NDArray[np.bool_]
    compliance_class: list[str | None]


@dataclass(frozen=True)
class RiskScores:
    expected_noncompliant_value: npt.NDArray[np.float64]
    revenue_at_risk: npt.NDArray[np.float64]
    score: npt.NDArray[np.float64]
    category: npt.NDArray[np.int8]
    impact: npt.NDArray[np.int8]
    factors: dict[str, npt.NDArray[np.float64]]
    """Multiplier per adjustment factor per importer (1.0 where it does not apply)."""


def score_importers(inputs: RiskInputs, policy: RiskPolicy | None = None) -> RiskScores:
    policy = policy or RiskPolicy()
    rate = inputs.discrepancy_rate
    if np.any((rate < 0) | (rate > 1)):
        raise ValueError("discrepancy_rate must lie in [0, 1]")
    if np.any(inputs.annual_value < 0):
        raise ValueError("annual_value must not be negative")
    expected = rate * inputs.annual_value
    revenue = expected * inputs.loss_ratio
    factors = {
        "prior findings": np.where(inputs.findings > 0, policy.findings_factor, 1.0),
        "enforcement history": np.where(inputs.enforcement > 0, policy.enforcement_factor, 1.0),
        "trusted trader": np.where(inputs.trusted_trader, policy.trusted_trader_factor, 1.0),
        "self-assessment": np.where(inputs.self_assessment & ~inputs.trusted_trader,
                                    policy.self_assessment_factor, 1.0),
        "primary focus industry": np.array(
            [policy.focus_industry_factor if code in PRIMARY_FOCUS_INDUSTRIES else 1.0
             for code in inputs.industry]),
        "compliance class": np.array([policy.class_factors.get(c or "", 1.0)
                                      for c in inputs.compliance_class]),
    }
    multiplier = np.ones_like(expected)
    for values in factors.values():
        multiplier = multiplier * values
    category = np.select(
        [inputs.compliance_high < policy.high_risk_rate,
         (1 - rate) < policy.acceptable_rate,
         inputs.compliance_low < policy.acceptable_rate],
        [3, 2, 1], default=0).astype(np.int8)
    impact = np.select(
        [(revenue >= 10 * policy.materiality) | (inputs.tier == 1),
         revenue >= policy.materiality,
         revenue >= policy.materiality / 10],
        [3, 2, 1], default=0).astype(np.int8)
    return RiskScores(expected, revenue, expected * multiplier, category, impact, factors)


@dataclass(frozen=True)
class Factor:
    factor: str
    value: str
    effect: float
    """How much this factor multiplies the score (1.0 for the base factors, which make
    the expected non-compliant value itself)."""


@dataclass(frozen=True)
class Adjustments:
    """The factors that scaled each listed importer's score, largest effect first (ties in
    the order of RiskScores.factors), held as columns of entries, one per factor that
    applies to an importer: the entries of `rows[k]` are `offsets[k]` to `offsets[k + 1]`.

    A first national run lists 443,000 importers: a list of Factor objects per importer,
    each sorted by a key computed per factor, took seconds of the run, and the event rows
    and the scores table then took them apart again. Here the entries are made a factor
    at a time and sorted once; `self[importer]` still gives an importer's Factor list."""

    rows: npt.NDArray[np.int64]
    """The listed importers (their positions in the run's arrays), as listed."""
    offsets: npt.NDArray[np.int64]
    names: tuple[str, ...]
    """The factors' names, in the order of RiskScores.factors."""
    name: npt.NDArray[np.int64]
    """Per entry: its factor, as an index into `names`."""
    value: list[str]
    """Per entry: what applies (e.g. '2 enforcement action(s)', 'HS chapter 87')."""
    effect: npt.NDArray[np.float64]
    """Per entry: how much it multiplies the score."""

    @classmethod
    def of(cls, factors: Mapping[int, Sequence[Factor]]) -> Adjustments:
        """Each importer's factors, in the order given (largest effect first, as
        `adjustments` orders them)."""
        flat = [factor for listed in factors.values() for factor in listed]
        names: dict[str, int] = {}
        name = np.array([names.setdefault(f.factor, len(names)) for f in flat], dtype=np.int64)
        offsets = np.zeros(len(factors) + 1, dtype=np.int64)
        np.cumsum([len(listed) for listed in factors.values()], out=offsets[1:])
        return cls(np.array(list(factors), dtype=np.int64), offsets, tuple(names), name,
                   [f.value for f in flat], np.array([f.effect for f in flat],
                                                     dtype=np.float64))

    def __getitem__(self, importer: int) -> list[Factor]:
        listed = self.listed(np.array([importer], dtype=np.int64))
        if listed[0] < 0:
            raise KeyError(importer)
        k = int(listed[0])
        return [Factor(self.names[int(self.name[e])], self.value[e], float(self.effect[e]))
                for e in range(int(self.offsets[k]), int(self.offsets[k + 1]))]

    def listed(self, importers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Each importer's position k in `rows` (-1 where it is not listed)."""
        if not len(self.rows):
            return np.full(len(importers), -1, dtype=np.int64)
        order, ordered = self._by_importer
        k = order[np.minimum(np.searchsorted(ordered, importers), len(self.rows) - 1)]
        return np.where(self.rows[k] == importers, k, -1).astype(np.int64)

    @cached_property
    def _by_importer(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The positions in `rows` that sort it, and `rows` sorted: sorted once, for
        every chunk of a run that looks its importers up."""
        order = np.argsort(self.rows, kind="stable").astype(np.int64)
        return order, self.rows[order]

    def entries(self, importers: npt.NDArray[np.int64]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The entries of each of `importers` (all listed), importer after importer, and
        how many each has."""
        k = self.listed(importers)
        if (k < 0).any():
            raise KeyError(int(importers[np.flatnonzero(k < 0)[0]]))
        starts = self.offsets[k]
        counts = self.offsets[k + 1] - starts
        ends = np.cumsum(counts)
        shift = np.repeat(starts - (ends - counts), counts)
        return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) + shift, counts


def adjustments(inputs: RiskInputs, scores: RiskScores,
                rows: npt.NDArray[np.int64]) -> Adjustments:
    """The factors that scaled each listed importer's score, largest effect first. Only
    these are stored with a score; the base factors are the score's own figures."""
    rows = np.asarray(rows, dtype=np.int64)
    position = np.full(len(scores.score), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows), dtype=np.int64)
    owners, names, effects = [], [], []
    values: list[str] = []
    for j, (factor, multipliers) in enumerate(scores.factors.items()):
        applies = np.flatnonzero((position >= 0) & (multipliers != 1.0))
        owners.append(position[applies])
        names.append(np.full(len(applies), j, dtype=np.int64))
        effects.append(multipliers[applies].astype(np.float64))
        values += _adjustment_values(factor, inputs, applies)
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    name = np.concatenate(names) if names else np.zeros(0, dtype=np.int64)
    effect = np.concatenate(effects) if effects else np.zeros(0, dtype=np.float64)
    # The key of the earlier per-importer sort (-|ln effect|, by np.log of each value),
    # computed once per distinct effect: a policy has a handful.
    distinct, which = np.unique(effect, return_inverse=True)
    strength = np.array([-abs(np.log(float(each))) for each in distinct.tolist()],
                        dtype=np.float64)[which.reshape(-1)]
    order = np.lexsort((name, strength, owner))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(rows)), out=offsets[1:])
    return Adjustments(rows, offsets, tuple(scores.factors), name[order],
                       [values[i] for i in order.tolist()], effect[order])


@dataclass(frozen=True)
class ScoreFigures:
    """What a recorded score says about one importer (from its RiskAssessed event or the
    scores table)."""

    annual_value: float
    tier: int
    discrepancy_rate: float
    compliance_low: float
    compliance_high: float
    lines: int
    discrepancies: int
    expected_noncompliant_value: float
    revenue_at_risk: float
    impact_level: str


def explanation(figures: ScoreFigures, adjusted_by: list[Factor], top: int = 5) -> list[Factor]:
    """The contributing factors of a score as shown to an analyst: the base factors that
    make the expected non-compliant value, then the adjustments by effect."""
    base = [
        Factor("annual value", f"{figures.annual_value:,.2f} (tier {figures.tier})", 1.0),
        Factor("estimated non-compliance",
               f"{figures.discrepancy_rate:.2%} (compliance 95% interval "
               f"{figures.compliance_low:.1%}-{figures.compliance_high:.1%}; "
               f"{figures.discrepancies} of {figures.lines} examined lines with a "
               "discrepancy)", 1.0),
        Factor("expected non-compliant value",
               f"{figures.expected_noncompliant_value:,.2f}", 1.0),
        Factor("revenue at risk", f"{figures.revenue_at_risk:,.2f} (impact "
                                  f"{figures.impact_level})", 1.0),
    ]
    return (base + list(adjusted_by))[:max(top, len(base))]


def _adjustment_values(name: str, inputs: RiskInputs,
                       rows: npt.NDArray[np.int64]) -> list[str]:
    """What applies, for each of `rows` to which the factor `name` applies."""
    if name == "prior findings":
        return [f"{count} assessment(s) with findings"
                for count in inputs.findings[rows].tolist()]
    if name == "enforcement history":
        return [f"{count} enforcement action(s)" for count in inputs.enforcement[rows].tolist()]
    if name == "primary focus industry":
        return [f"HS chapter {inputs.industry[i]}" for i in rows.tolist()]
    if name == "compliance class":
        return [str(inputs.compliance_class[i]).upper() for i in rows.tolist()]
    return ["member"] * len(rows)
