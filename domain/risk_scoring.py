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

from dataclasses import dataclass, field

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


def adjustments(inputs: RiskInputs, scores: RiskScores,
                rows: npt.NDArray[np.int64]) -> dict[int, list[Factor]]:
    """The factors that scaled each listed importer's score, largest effect first. Only
    these are stored with a score; the base factors are the score's own figures."""
    wanted = np.zeros(len(scores.score), dtype=bool)
    wanted[rows] = True
    result: dict[int, list[Factor]] = {int(i): [] for i in rows}
    for name, values in scores.factors.items():
        for index in np.flatnonzero(wanted & (values != 1.0)).tolist():
            result[index].append(Factor(name, _adjustment_value(name, inputs, index),
                                        float(values[index])))
    for factors in result.values():
        factors.sort(key=lambda f: -abs(np.log(f.effect)))
    return result


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
def _adjustment_value(name: str, inputs: RiskInputs, index: int) -> str:
    if name == "prior findings":
        return f"{int(inputs.findings[index])} assessment(s) with findings"
    if name == "enforcement history":
        return f"{int(inputs.enforcement[index])} enforcement action(s)"
    if name == "primary focus industry":
        return f"HS chapter {inputs.industry[index]}"
    if name == "compliance class":
        return str(inputs.compliance_class[index]).upper()
    return "member"
