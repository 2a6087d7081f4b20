"""Risk scoring against hand-worked figures: the score, each factor's multiplier, each risk
category and enforce-impact boundary, and the order in which adjustments are explained.

The base importer (BASE) has annual value 1,000,000.00, estimated non-compliance 4% and a
loss ratio of 0.25, in HS chapter 30 (not a primary focus industry), with no history:

    expected non-compliant value = 0.04 x 1,000,000 = 40,000
    revenue at risk              = 40,000 x 0.25    = 10,000
    score                        = 40,000 x 1.0     = 40,000 (no adjustment applies)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from domain.risk_scoring import (
    CATEGORIES,
    IMPACT_LEVELS,
    RiskInputs,
    RiskPolicy,
    RiskScores,
    adjustments,
    score_importers,
)

BASE: dict[str, Any] = {
    "annual_value": 1_000_000.0, "discrepancy_rate": 0.04, "compliance_low": 0.93,
    "compliance_high": 0.98, "loss_ratio": 0.25, "tier": 2, "industry": "30", "findings": 0,
    "enforcement": 0, "trusted_trader": False, "self_assessment": False,
    "compliance_class": None,
}


def inputs(*rows: dict[str, Any]) -> RiskInputs:
    """One importer per row: BASE with the row's overrides."""
    full = [{**BASE, **row} for row in rows]

    def column(name: str, dtype: Any) -> Any:
        return np.array([row[name] for row in full], dtype=dtype)

    return RiskInputs(
        annual_value=column("annual_value", np.float64),
        discrepancy_rate=column("discrepancy_rate", np.float64),
        compliance_low=column("compliance_low", np.float64),
        compliance_high=column("compliance_high", np.float64),
        loss_ratio=column("loss_ratio", np.float64), tier=column("tier", np.int8),
        industry=[row["industry"] for row in full], findings=column("findings", np.int64),
        enforcement=column("enforcement", np.int64),
        trusted_trader=column("trusted_trader", np.bool_),
        self_assessment=column("self_assessment", np.bool_),
        compliance_class=[row["compliance_class"] for row in full])


def score_one(policy: RiskPolicy | None = None, **row: Any) -> RiskScores:
    return score_importers(inputs(row), policy)


def test_the_base_importer_scores_its_expected_non_compliant_value() -> None:
    scores = score_one()
    assert scores.expected_noncompliant_value[0] == pytest.approx(40_000.0)
    assert scores.revenue_at_risk[0] == pytest.approx(10_000.0)
    assert scores.score[0] == pytest.approx(40_000.0)
    # compliance_high 0.98 >= 0.90, 1 - 0.04 = 0.96 >= 0.95, compliance_low 0.93 < 0.95
    assert CATEGORIES[scores.category[0]] == "moderate"
    # 5,000 <= revenue 10,000 < 50,000 and tier 2
    assert IMPACT_LEVELS[scores.impact[0]] == "moderate"
    assert {name: float(values[0]) for name, values in scores.factors.items()} == {
        "prior findings": 1.0, "enforcement history": 1.0, "trusted trader": 1.0,
        "self-assessment": 1.0, "primary focus industry": 1.0, "compliance class": 1.0}


@pytest.mark.parametrize(("row", "factor", "multiplier"), [
    ({"findings": 2}, "prior findings", 1.5),
    ({"enforcement": 1}, "enforcement history", 2.0),
    ({"trusted_trader": True}, "trusted trader", 0.5),
    ({"self_assessment": True}, "self-assessment", 0.75),
    ({"industry": "64"}, "primary focus industry", 1.25),    # footwear
    ({"industry": "01"}, "primary focus industry", 1.25),    # agriculture, chapters 01-24
    ({"industry": "63"}, "primary focus industry", 1.25),    # textiles, chapters 50-63
    ({"industry": "25"}, "primary focus industry", 1.0),     # salt, stone: not a focus
    ({"compliance_class": "aa"}, "compliance class", 0.6),
    ({"compliance_class": "a"}, "compliance class", 0.8),
    ({"compliance_class": "b"}, "compliance class", 1.0),
    ({"compliance_class": "c"}, "compliance class", 1.3),
    ({"compliance_class": "d"}, "compliance class", 1.6),
], ids=lambda value: str(value))
def test_each_factor_multiplies_the_score_by_its_weight(row: dict[str, Any], factor: str,
                                                        multiplier: float) -> None:
    scores = score_one(**row)
    assert scores.factors[factor][0] == pytest.approx(multiplier)
    others = {name: float(v[0]) for name, v in scores.factors.items() if name != factor}
    assert set(others.values()) == {1.0}
    # Only the multiplier moves: 40,000 x multiplier; the base figures stay as they were.
    assert scores.score[0] == pytest.approx(40_000.0 * multiplier)
    assert scores.expected_noncompliant_value[0] == pytest.approx(40_000.0)
    assert scores.revenue_at_risk[0] == pytest.approx(10_000.0)


def test_factors_multiply_together() -> None:
    # 1 finding (x1.5), 1 enforcement action (x2.0), HS chapter 87 (x1.25), class C (x1.3):
    # 40,000 x 1.5 x 2.0 x 1.25 x 1.3 = 40,000 x 4.875 = 195,000
    assert score_one(findings=1, enforcement=1, industry="87",
                     compliance_class="c").score[0] == pytest.approx(195_000.0)
    # trusted trader (x0.5) and self-assessment, which a trusted trader does not get again
    # (x1.0), class AA (x0.6): 40,000 x 0.5 x 1.0 x 0.6 = 12,000
    scores = score_one(trusted_trader=True, self_assessment=True, compliance_class="aa")
    assert scores.factors["self-assessment"][0] == 1.0
    assert scores.score[0] == pytest.approx(12_000.0)


def test_the_policy_weights_replace_the_defaults() -> None:
    policy = RiskPolicy(findings_factor=3.0, class_factors={"d": 2.0})
    # 40,000 x 3.0 x 2.0 = 240,000; class C is not in this policy's table: x1.0
    assert score_one(policy, findings=1, compliance_class="d").score[0] == pytest.approx(
        240_000.0)
    assert score_one(policy, compliance_class="c").score[0] == pytest.approx(40_000.0)


# -- risk categories: how sure we are the importer is non-compliant ---------------------------
# high:     compliance_high < 0.90 (even the best case is below the high-risk rate)
# elevated: 1 - discrepancy_rate < 0.95 (the estimate itself is below acceptable)
# moderate: compliance_low < 0.95 (acceptable cannot be shown)
# low:      otherwise; the first that applies wins


@pytest.mark.parametrize(("row", "category"), [
    ({"compliance_high": 0.8999}, "high"),
    ({"compliance_high": 0.90, "discrepancy_rate": 0.0501}, "elevated"),   # 0.9499 < 0.95
    ({"compliance_high": 0.90, "discrepancy_rate": 0.0499}, "moderate"),   # 0.9501
    ({"compliance_low": 0.9499, "discrepancy_rate": 0.0499}, "moderate"),
    ({"compliance_low": 0.95, "discrepancy_rate": 0.0499}, "low"),
    ({"compliance_low": 0.99, "compliance_high": 0.999, "discrepancy_rate": 0.005}, "low"),
    # precedence: a low upper bound makes it high whatever the other two say
    ({"compliance_high": 0.85, "compliance_low": 0.99, "discrepancy_rate": 0.0}, "high"),
], ids=lambda value: str(value))
def test_each_risk_category_boundary(row: dict[str, Any], category: str) -> None:
    assert CATEGORIES[score_one(**row).category[0]] == category


def test_a_category_threshold_itself_is_not_below_it() -> None:
    # Thresholds exact in binary, so "at the threshold" is exact: 1 - 0.25 = 0.75 is not
    # below 0.75, and compliance_high 0.5 is not below 0.5.
    policy = RiskPolicy(acceptable_rate=0.75, high_risk_rate=0.5)
    at_both = {"discrepancy_rate": 0.25, "compliance_high": 0.5, "compliance_low": 0.75}
    assert CATEGORIES[score_one(policy, **at_both).category[0]] == "low"
    assert CATEGORIES[score_one(policy, **{**at_both, "compliance_high": 0.4999})
                      .category[0]] == "high"
    assert CATEGORIES[score_one(policy, **{**at_both, "discrepancy_rate": 0.2501})
                      .category[0]] == "elevated"
    assert CATEGORIES[score_one(policy, **{**at_both, "compliance_low": 0.7499})
                      .category[0]] == "moderate"


# -- enforce-impact levels: how much it would matter (materiality 50,000) ----------------------
# critical: revenue at risk >= 500,000, or tier 1; major: >= 50,000; moderate: >= 5,000
# With discrepancy_rate 0.5 and loss_ratio 0.5, revenue at risk = annual value / 4 exactly.


@pytest.mark.parametrize(("annual_value", "tier", "revenue", "impact"), [
    (2_000_000.0, 2, 500_000.0, "critical"),
    (1_999_996.0, 2, 499_999.0, "major"),
    (200_000.0, 2, 50_000.0, "major"),
    (199_996.0, 2, 49_999.0, "moderate"),
    (20_000.0, 2, 5_000.0, "moderate"),
    (19_996.0, 2, 4_999.0, "minor"),
    (0.0, 2, 0.0, "minor"),
    (0.0, 1, 0.0, "critical"),          # tier 1 is critical whatever its revenue at risk
], ids=lambda value: str(value))
def test_each_impact_boundary(annual_value: float, tier: int, revenue: float,
                              impact: str) -> None:
    scores = score_one(annual_value=annual_value, tier=tier, discrepancy_rate=0.5,
                       loss_ratio=0.5)
    assert scores.revenue_at_risk[0] == revenue
    assert IMPACT_LEVELS[scores.impact[0]] == impact


def test_the_materiality_threshold_sets_the_impact_levels() -> None:
    # materiality 1,000: critical from 10,000, major from 1,000, moderate from 100;
    # revenue at risk = annual value / 4: 10,000, 9,999, 1,000, 999, 100, 99.
    policy = RiskPolicy(materiality=1_000.0)
    levels = [IMPACT_LEVELS[score_one(policy, annual_value=value, discrepancy_rate=0.5,
                                      loss_ratio=0.5).impact[0]]
              for value in (40_000.0, 39_996.0, 4_000.0, 3_996.0, 400.0, 396.0)]
    assert levels == ["critical", "major", "major", "moderate", "moderate", "minor"]


def test_importers_are_scored_independently_in_one_call() -> None:
    both = score_importers(inputs({}, {"annual_value": 500_000.0, "enforcement": 3}))
    # second: 0.04 x 500,000 = 20,000, x2.0 = 40,000; revenue 20,000 x 0.25 = 5,000
    assert both.score.tolist() == pytest.approx([40_000.0, 40_000.0])
    assert both.revenue_at_risk.tolist() == pytest.approx([10_000.0, 5_000.0])
    assert both.factors["enforcement history"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(("row", "message"), [
    ({"discrepancy_rate": -0.01}, "discrepancy_rate"),
    ({"discrepancy_rate": 1.01}, "discrepancy_rate"),
    ({"annual_value": -1.0}, "annual_value"),
])
def test_impossible_inputs_are_refused(row: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_one(**row)


def test_adjustments_explain_the_factors_that_apply_largest_effect_first() -> None:
    data = inputs({"findings": 1, "enforcement": 1, "industry": "87",
                   "compliance_class": "c"}, {}, {"trusted_trader": True})
    scores = score_importers(data)
    explained = adjustments(data, scores, np.array([0, 1, 2], dtype=np.int64))
    # |ln 2.0| 0.693 > |ln 1.5| 0.405 > |ln 1.3| 0.262 > |ln 1.25| 0.223
    assert [(f.factor, f.value, f.effect) for f in explained[0]] == [
        ("enforcement history", "1 enforcement action(s)", 2.0),
        ("prior findings", "1 assessment(s) with findings", 1.5),
        ("compliance class", "C", 1.3),
        ("primary focus industry", "HS chapter 87", 1.25)]
    assert explained[1] == []
    assert [(f.factor, f.value, f.effect) for f in explained[2]] == [
        ("trusted trader", "member", 0.5)]
