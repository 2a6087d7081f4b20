"""Findings math: Wilson intervals, area acceptability and the assessment outcome.

Expected intervals are worked by hand from the Wilson score formula in its count form,

    (x + z^2/2 -+ z * sqrt(x (n - x) / n + z^2/4)) / (n + z^2),

with z taken from the normal distribution (not from the module under test). For an
all-compliant sample (x = n) it reduces to [n / (n + z^2), 1], and for x = 0 to
[0, z^2 / (n + z^2)].
"""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

import pytest

from domain.assessment import (
    AreaFinding,
    FindingsPolicy,
    Outcome,
    SampleTest,
    decide_outcome,
    evaluate_area,
)
from domain.reference import ComplianceArea, ControlRating
from domain.statistics import Z_95, RateEstimate, wilson_interval

from .builders import OFFICER, POLICY, REASON, assessment_in_testing, at, sample

Z = NormalDist().inv_cdf(0.975)
Z2 = Z * Z
VALUE, CLASSIFICATION = ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION


def wilson_by_hand(compliant: int, lines: int) -> tuple[float, float]:
    centre = compliant + Z2 / 2
    spread = Z * math.sqrt(compliant * (lines - compliant) / lines + Z2 / 4)
    return (centre - spread) / (lines + Z2), (centre + spread) / (lines + Z2)


def test_the_95_percent_z_is_the_normal_quantile() -> None:
    assert pytest.approx(Z, abs=1e-12) == Z_95


# -- the Wilson interval ------------------------------------------------------------------


def test_100_compliant_lines_of_100_give_a_lower_bound_of_0_9630() -> None:
    estimate = wilson_interval(100, 100)
    assert estimate.rate == 1.0
    assert estimate.lower == pytest.approx(100 / (100 + Z2), abs=1e-12)
    assert estimate.lower == pytest.approx(0.9630, abs=5e-5)
    assert estimate.upper == 1.0


def test_91_compliant_lines_of_100_give_0_8377_to_0_9519() -> None:
    estimate = wilson_interval(91, 100)
    lower, upper = wilson_by_hand(91, 100)
    assert estimate.rate == pytest.approx(0.91)
    assert (estimate.lower, estimate.upper) == (pytest.approx(lower, abs=1e-12),
                                                pytest.approx(upper, abs=1e-12))
    assert (estimate.lower, estimate.upper) == (pytest.approx(0.8377, abs=5e-5),
                                                pytest.approx(0.9519, abs=5e-5))


def test_3_compliant_lines_of_3_are_not_over_read() -> None:
    estimate = wilson_interval(3, 3)
    assert estimate.rate == 1.0
    assert estimate.lower == pytest.approx(3 / (3 + Z2), abs=1e-12)
    assert estimate.lower == pytest.approx(0.4385, abs=5e-5)
    assert estimate.upper == 1.0


def test_no_compliant_lines_of_10_give_0_to_0_2775() -> None:
    estimate = wilson_interval(0, 10)
    assert (estimate.rate, estimate.lower) == (0.0, 0.0)
    assert estimate.upper == pytest.approx(Z2 / (10 + Z2), abs=1e-12)
    assert estimate.upper == pytest.approx(0.2775, abs=5e-5)


def test_no_lines_at_all_say_nothing_about_the_rate() -> None:
    assert wilson_interval(0, 0) == RateEstimate(0.0, 0.0, 1.0)


GRID = [(x, n) for n in (1, 2, 3, 7, 10, 30, 100, 1000) for x in sorted({0, 1, n // 2, n - 1, n})]


@pytest.mark.parametrize(("compliant", "lines"), GRID)
def test_the_interval_matches_the_formula_and_contains_the_rate(compliant: int,
                                                                lines: int) -> None:
    estimate = wilson_interval(compliant, lines)
    lower, upper = wilson_by_hand(compliant, lines)
    assert estimate.lower == pytest.approx(max(0.0, lower), abs=1e-12)
    assert estimate.upper == pytest.approx(min(1.0, upper), abs=1e-12)
    assert 0.0 <= estimate.lower <= estimate.rate <= estimate.upper <= 1.0


@pytest.mark.parametrize("rate", [Decimal("1"), Decimal("0.95"), Decimal("0.9"), Decimal("0.5"),
                                  Decimal("0")])
def test_the_interval_narrows_as_lines_grow_for_the_same_rate(rate: Decimal) -> None:
    widths = []
    for lines in (20, 40, 100, 200, 1000, 10_000):
        estimate = wilson_interval(int(rate * lines), lines)
        assert estimate.rate == pytest.approx(float(rate))
        widths.append(estimate.upper - estimate.lower)
    assert widths == sorted(widths, reverse=True)
    assert len(set(widths)) == len(widths)


# -- one area's finding ---------------------------------------------------------------------


def finding(*tests: SampleTest, rating: ControlRating = ControlRating.ADEQUATE,
            policy: FindingsPolicy = POLICY, duty_paid: Decimal | None = None) -> AreaFinding:
    return evaluate_area(VALUE, tests, rating, policy, duty_paid)


def test_a_clean_sample_of_100_lines_is_acceptable() -> None:
    result = finding(sample(lines=100))
    assert result == AreaFinding(
        area=VALUE, lines_tested=100, discrepancies=0, compliance_rate=Decimal("1.0000"),
        rate_lower=Decimal("0.9630"), rate_upper=Decimal("1.0000"),
        revenue_loss=Decimal("0.00"), control_rating=ControlRating.ADEQUATE, acceptable=True)


def test_9_discrepancies_in_100_lines_are_deficient() -> None:
    result = finding(sample(lines=100, discrepancies=9, value_in_error="900.00"))
    assert (result.compliance_rate, result.rate_lower, result.rate_upper) == (
        Decimal("0.9100"), Decimal("0.8377"), Decimal("0.9519"))
    assert not result.acceptable


def test_3_clean_lines_are_too_few_to_be_acceptable() -> None:
    result = finding(sample(lines=3, value_tested="30.00"))
    assert (result.compliance_rate, result.rate_lower) == (Decimal("1.0000"), Decimal("0.4385"))
    assert not result.acceptable


@pytest.mark.parametrize(("lines", "lower", "acceptable"), [
    (72, Decimal("0.9493"), False),  # 72 / (72 + z^2) = 0.94935
    (73, Decimal("0.9500"), True),   # 73 / (73 + z^2) = 0.95001
])
def test_an_area_is_acceptable_from_a_lower_bound_of_0_95(lines: int, lower: Decimal,
                                                          acceptable: bool) -> None:
    result = finding(sample(lines=lines))
    assert result.rate_lower == lower
    assert result.acceptable is acceptable


def test_an_area_pools_all_its_samples() -> None:
    result = finding(sample(lines=40, discrepancies=1, value_in_error="50.00",
                            revenue_loss="7.50"),
                     sample(lines=60, discrepancies=2, value_in_error="20.00",
                            revenue_loss="2.55"))
    assert (result.lines_tested, result.discrepancies, result.revenue_loss) == (
        100, 3, Decimal("10.05"))
    lower, upper = wilson_by_hand(97, 100)
    assert result.compliance_rate == Decimal("0.9700")
    assert float(result.rate_lower) == pytest.approx(lower, abs=5e-5)
    assert float(result.rate_upper) == pytest.approx(upper, abs=5e-5)


def loss_sample(loss: str) -> SampleTest:
    """1 discrepancy in 1000 lines: a rate well above the bar (lower bound 0.9944)."""
    return sample(lines=1000, discrepancies=1, value_tested="5000000.00",
                  value_in_error="200000.00", revenue_loss=loss)


@pytest.mark.parametrize(("loss", "duty_paid", "acceptable"), [
    ("49999.99", None, True),
    ("50000.00", None, False),
    ("9999.99", Decimal("1000000.00"), True),
    ("10000.00", Decimal("1000000.00"), False),
    ("10000.00", None, True),
    ("10000.00", Decimal("0.00"), True),
])
def test_a_material_revenue_loss_makes_a_well_tested_area_deficient(
        loss: str, duty_paid: Decimal | None, acceptable: bool) -> None:
    result = finding(loss_sample(loss), duty_paid=duty_paid)
    assert result.rate_lower >= Decimal("0.95")
    assert result.acceptable is acceptable


@pytest.mark.parametrize(("loss", "duty_paid", "material"), [
    (Decimal("50000.00"), None, True),
    (Decimal("49999.99"), None, False),
    (Decimal("49999.99"), Decimal("4999999.00"), True),
    (Decimal("100.00"), Decimal("10000.00"), True),
    (Decimal("99.99"), Decimal("10000.00"), False),
    (Decimal("0.00"), Decimal("0.00"), False),
])
def test_a_loss_is_material_from_50000_or_from_1_percent_of_duty_paid(
        loss: Decimal, duty_paid: Decimal | None, material: bool) -> None:
    assert POLICY.is_material(loss, duty_paid) is material


def test_a_configured_policy_moves_the_bar() -> None:
    lenient = FindingsPolicy(minimum_lower_bound=Decimal("0.80"),
                             material_loss=Decimal("1000000.00"))
    deficient = sample(lines=100, discrepancies=9, value_in_error="900.00",
                       revenue_loss="60000.00")
    assert finding(deficient, policy=lenient).acceptable
    assert not finding(deficient).acceptable


# -- the assessment's outcome ---------------------------------------------------------------


def outcome_of(value_test: SampleTest, *, rating: str = "adequate",
               duty_paid: str | None = None, fraud: bool = False,
               classification_test: SampleTest | None = None,
               classification_rating: str = "strong") -> Outcome:
    assessment = assessment_in_testing(
        value_test, classification_test or sample("classification"),
        ratings={"value": rating, "classification": classification_rating})
    outcome = assessment.issue_findings(policy=POLICY, duty_paid=duty_paid,
                                        fraud_indicators=fraud, actor=OFFICER, reason=REASON,
                                        at=at(10))
    assert assessment.outcome is outcome
    return outcome


def test_an_assessment_is_acceptable_when_every_area_clears_the_bar_without_loss() -> None:
    assert outcome_of(sample(lines=100)) is Outcome.ACCEPTABLE


def test_fraud_indicators_alone_mean_referral() -> None:
    assert outcome_of(sample(lines=100), rating="strong", fraud=True) is (
        Outcome.REFERRAL_FOR_ENFORCEMENT)


@pytest.mark.parametrize("rating", ["strong", "adequate", "weak", "none"])
def test_a_deficient_rate_without_material_loss_needs_an_improvement_plan(rating: str) -> None:
    deficient = sample(lines=100, discrepancies=9, value_in_error="900.00", revenue_loss="90.00")
    assert outcome_of(deficient, rating=rating) is Outcome.IMPROVEMENT_PLAN_REQUIRED


@pytest.mark.parametrize("rating", ["weak", "none"])
def test_a_material_loss_where_controls_are_weak_or_absent_means_referral(rating: str) -> None:
    assert outcome_of(loss_sample("50000.00"), rating=rating) is (
        Outcome.REFERRAL_FOR_ENFORCEMENT)


@pytest.mark.parametrize("rating", ["strong", "adequate"])
def test_a_material_loss_where_controls_are_sound_needs_an_improvement_plan(rating: str) -> None:
    assert outcome_of(loss_sample("50000.00"), rating=rating) is (
        Outcome.IMPROVEMENT_PLAN_REQUIRED)


def test_a_loss_of_1_percent_of_duty_paid_is_material_enough_for_referral() -> None:
    assert outcome_of(loss_sample("10000.00"), rating="weak", duty_paid="1000000.00") is (
        Outcome.REFERRAL_FOR_ENFORCEMENT)
    assert outcome_of(loss_sample("9999.99"), rating="weak", duty_paid="1000000.00") is (
        Outcome.ACCEPTABLE)


def test_a_loss_just_under_50000_with_no_duty_given_stays_acceptable() -> None:
    assert outcome_of(loss_sample("49999.99"), rating="none") is Outcome.ACCEPTABLE


def test_decide_outcome_puts_fraud_before_everything_else() -> None:
    clean = finding(sample(lines=100))
    assert decide_outcome([clean], POLICY, None, fraud_indicators=True) is (
        Outcome.REFERRAL_FOR_ENFORCEMENT)
    assert decide_outcome([clean], POLICY, None, fraud_indicators=False) is Outcome.ACCEPTABLE
    assert decide_outcome([], POLICY, None, fraud_indicators=False) is Outcome.ACCEPTABLE


def test_a_material_total_loss_spread_over_areas_is_not_acceptable() -> None:
    split = outcome_of(loss_sample("30000.00"), rating="weak",
                       classification_test=sample("classification", lines=1000,
                                                  discrepancies=1, value_tested="1000.00",
                                                  value_in_error="1000.00",
                                                  revenue_loss="30000.00"),
                       classification_rating="weak")
    assert split is not Outcome.ACCEPTABLE
