"""Beta-binomial compliance rates: hand-worked posteriors, shrinkage properties, prior fits."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from domain.compliance_rates import (
    THIN_INDUSTRY_LINES,
    BetaPrior,
    fit_prior,
    group_rates,
    industry_priors,
    shrunk_rates,
)

PRIOR = BetaPrior(2.0, 38.0)  # prior discrepancy rate 5%, worth 40 lines


# --- BetaPrior -------------------------------------------------------------------------------


def test_prior_mean_and_strength() -> None:
    assert PRIOR.mean == pytest.approx(0.05)
    assert PRIOR.strength == pytest.approx(40.0)
    built = BetaPrior.from_mean(0.05, 40.0)
    assert built.alpha == pytest.approx(2.0)
    assert built.beta == pytest.approx(38.0)


@pytest.mark.parametrize(("alpha", "beta"), [(0.0, 1.0), (1.0, -2.0), (math.nan, 1.0)])
def test_prior_parameters_must_be_positive(alpha: float, beta: float) -> None:
    with pytest.raises(ValueError, match="must be a positive finite number"):
        BetaPrior(alpha, beta)


@pytest.mark.parametrize(("mean", "strength", "message"), [
    (0.0, 10.0, "mean must be strictly between 0 and 1"),
    (1.0, 10.0, "mean must be strictly between 0 and 1"),
    (0.5, 0.0, "strength must be a positive finite number"),
])
def test_from_mean_refuses_degenerate_priors(mean: float, strength: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BetaPrior.from_mean(mean, strength)


# --- shrunk_rates: hand-worked ---------------------------------------------------------------


def test_three_clean_lines_against_a_five_percent_prior() -> None:
    # Posterior of p: Beta(2 + 0, 38 + 3) = Beta(2, 41); compliance 1 - p ~ Beta(41, 2).
    estimates = shrunk_rates([0], [3], PRIOR.alpha, PRIOR.beta)
    assert estimates.discrepancy_rate[0] == pytest.approx(2 / 43)
    assert estimates.discrepancy_rate[0] == pytest.approx(0.046511627906976744)
    assert estimates.compliance_rate[0] == pytest.approx(1 - 2 / 43)
    assert estimates.raw_compliance_rate[0] == 1.0
    low, high = stats.beta.ppf(0.025, 41, 2), stats.beta.ppf(0.975, 41, 2)
    assert estimates.compliance_low[0] == pytest.approx(low, rel=1e-12)
    assert estimates.compliance_high[0] == pytest.approx(high, rel=1e-12)
    # Closed form for Beta(a, 2): F(x) = x^a ((a + 1) - a x); check the bounds by hand too.
    assert estimates.compliance_low[0] ** 41 * (42 - 41 * estimates.compliance_low[0]) == (
        pytest.approx(0.025))
    assert estimates.compliance_high[0] ** 41 * (42 - 41 * estimates.compliance_high[0]) == (
        pytest.approx(0.975))
    assert 0.87 < estimates.compliance_low[0] < 0.88
    assert 0.99 < estimates.compliance_high[0] < 1.0


def test_three_of_three_discrepancies_is_not_called_zero_percent_compliant() -> None:
    # Posterior of p: Beta(2 + 3, 38 + 0) = Beta(5, 38).
    estimates = shrunk_rates([3], [3], PRIOR.alpha, PRIOR.beta)
    assert estimates.raw_compliance_rate[0] == 0.0
    assert estimates.discrepancy_rate[0] == pytest.approx(5 / 43)
    assert estimates.compliance_rate[0] == pytest.approx(38 / 43)
    assert estimates.compliance_low[0] == pytest.approx(stats.beta.ppf(0.025, 38, 5))
    assert estimates.compliance_low[0] > 0.7


def test_unit_without_lines_gets_the_prior_and_a_nan_raw_rate() -> None:
    estimates = shrunk_rates([0, 1], [0, 10], PRIOR.alpha, PRIOR.beta)
    assert math.isnan(estimates.raw_compliance_rate[0])
    assert estimates.raw_compliance_rate[1] == pytest.approx(0.9)
    assert estimates.compliance_rate[0] == pytest.approx(0.95)
    assert estimates.compliance_low[0] == pytest.approx(stats.beta.ppf(0.025, 38, 2))
    assert estimates.lines.tolist() == [0, 10]
    assert estimates.discrepancies.tolist() == [0, 1]
    assert estimates.lines.dtype == np.int64


def test_each_unit_can_have_its_own_prior() -> None:
    estimates = shrunk_rates([1, 1], [10, 10], [2.0, 10.0], [38.0, 10.0])
    assert estimates.discrepancy_rate.tolist() == pytest.approx([3 / 50, 11 / 30])


def test_higher_confidence_gives_a_wider_interval() -> None:
    narrow = shrunk_rates([4], [50], 2.0, 38.0, confidence=0.80)
    wide = shrunk_rates([4], [50], 2.0, 38.0, confidence=0.99)
    assert wide.compliance_low[0] < narrow.compliance_low[0]
    assert wide.compliance_high[0] > narrow.compliance_high[0]
    assert narrow.compliance_rate[0] == wide.compliance_rate[0]


def test_empty_input_gives_empty_estimates() -> None:
    estimates = shrunk_rates([], [], 2.0, 38.0)
    assert estimates.compliance_rate.shape == (0,)
    assert estimates.lines.shape == (0,)


# --- shrunk_rates: properties ----------------------------------------------------------------


@pytest.mark.parametrize("prior", [BetaPrior(2, 38), BetaPrior(1, 1), BetaPrior(30, 70)])
@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 3), (3, 3), (1, 5), (4, 20), (0, 50),
                                      (17, 40), (200, 1000)])
def test_shrinkage_moves_toward_the_prior(prior: BetaPrior, k: int, n: int) -> None:
    estimates = shrunk_rates([k], [n], prior.alpha, prior.beta)
    raw = k / n
    posterior = estimates.discrepancy_rate[0]
    assert abs(posterior - prior.mean) < abs(raw - prior.mean)
    # ... and stays between the prior mean and the raw rate.
    assert min(raw, prior.mean) < posterior < max(raw, prior.mean)


def test_intervals_narrow_as_lines_grow_and_converge_to_the_raw_rate() -> None:
    n = np.array([10, 100, 1000, 10000])
    k = n // 10  # raw compliance rate 90% throughout
    estimates = shrunk_rates(k, n, PRIOR.alpha, PRIOR.beta)
    width = estimates.compliance_high - estimates.compliance_low
    assert np.all(np.diff(width) < 0)
    assert width[-1] < 0.015
    assert np.all(estimates.compliance_low < estimates.compliance_rate)
    assert np.all(estimates.compliance_rate < estimates.compliance_high)
    error = np.abs(estimates.compliance_rate - 0.9)
    assert np.all(np.diff(error) < 0)
    assert error[-1] < 0.001
    assert estimates.compliance_low[-1] < 0.9 < estimates.compliance_high[-1]


# --- shrunk_rates: refusals ------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n", "message"), [
    ([0, 4, 1], [3, 3, 3], "discrepancies exceed lines at index 1"),
    ([0, -1], [3, 3], "discrepancies must not be negative, got -1 at index 1"),
    ([0, 1], [3, -3], "lines must not be negative"),
    ([0, 1], [3, 3, 3], r"different lengths \(2 != 3\)"),
    ([0.5], [3], "discrepancies must be whole numbers"),
    ([0], [math.inf], "lines must be whole numbers"),
    ([[0, 1]], [[3, 3]], "must be one-dimensional"),
])
def test_bad_counts_are_refused(k: npt.ArrayLike, n: npt.ArrayLike, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shrunk_rates(k, n, 2.0, 38.0)


def test_bad_priors_and_confidence_are_refused() -> None:
    with pytest.raises(ValueError,
                       match=r"prior_alpha must be positive and finite, got 0\.0 at index 0"):
        shrunk_rates([0], [3], 0.0, 38.0)
    with pytest.raises(ValueError, match="prior_beta must be positive and finite"):
        shrunk_rates([0, 0], [3, 3], 2.0, [38.0, -1.0])
    with pytest.raises(ValueError, match="prior_alpha of shape"):
        shrunk_rates([0, 0, 0], [3, 3, 3], [2.0, 2.0], 38.0)
    for confidence in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
            shrunk_rates([0], [3], 2.0, 38.0, confidence=confidence)


# --- fit_prior -------------------------------------------------------------------------------


def test_fit_prior_hand_worked_two_units() -> None:
    # Pooled mean 100/200 = 0.5. S = 100 (0.1^2) * 2 = 2; S / (0.5 * 0.5) - (m - 1) = 7;
    # N - sum(n^2)/N - (m - 1) = 200 - 100 - 1 = 99; rho = 7/99; strength = 99/7 - 1 = 92/7.
    prior = fit_prior([40, 60], [100, 100])
    assert prior.mean == pytest.approx(0.5)
    assert prior.strength == pytest.approx(92 / 7)


def test_fit_prior_ignores_units_without_lines() -> None:
    assert fit_prior([40, 0, 60], [100, 0, 100]) == fit_prior([40, 60], [100, 100])


def test_fit_prior_recovers_a_known_beta_binomial() -> None:
    rng = np.random.default_rng(20260302)
    units = 5000
    lines = rng.integers(5, 300, size=units)
    rates = rng.beta(3.0, 57.0, size=units)
    discrepancies = rng.binomial(lines, rates)
    prior = fit_prior(discrepancies, lines)
    assert prior.mean == pytest.approx(0.05, abs=0.005)
    assert prior.strength == pytest.approx(60.0, rel=0.25)


@pytest.mark.parametrize(("k", "n"), [
    ([5, 5, 5, 5], [100, 100, 100, 100]),  # identical rates: no spread at all
    ([5, 10, 1], [100, 200, 20]),  # identical rates, different sizes
    ([3], [60]),  # a single unit
    ([0, 0, 0], [10, 40, 5]),  # no discrepancy anywhere
    ([0, 1, 0, 1], [1, 1, 1, 1]),  # one line each: spread is not identifiable
])
def test_fit_prior_without_overdispersion_uses_the_default_strength(k: list[int],
                                                                    n: list[int]) -> None:
    assert fit_prior(k, n).strength == pytest.approx(50.0)
    assert fit_prior(k, n, default_strength=80.0).strength == pytest.approx(80.0)


def test_fit_prior_clips_the_mean_and_the_strength() -> None:
    none_found = fit_prior([0, 0], [10, 40])
    assert none_found.mean == pytest.approx(1e-6)
    assert none_found.alpha > 0
    assert fit_prior([10, 40], [10, 40]).mean == pytest.approx(1 - 1e-6)
    # Millions of clean lines are no evidence of spread, whatever the clipped mean.
    assert fit_prior([0, 0], [10_000_000, 5_000_000]).strength == pytest.approx(50.0)
    assert fit_prior([10_000_000, 5], [10_000_000, 5]).strength == pytest.approx(50.0)
    # All-or-nothing units: rho >= 1, strength clipped up to min_strength.
    assert fit_prior([0, 10, 0, 10], [10, 10, 10, 10]).strength == pytest.approx(2.0)
    assert fit_prior([0, 10, 0, 10], [10, 10, 10, 10], min_strength=5).strength == (
        pytest.approx(5.0))
    # Barely overdispersed: a huge strength, clipped down to max_strength.
    k, n = [475, 525], [10000, 10000]  # rho = 1.63e-4, strength ~6100
    assert fit_prior(k, n).strength == pytest.approx(2000.0)
    assert fit_prior(k, n, max_strength=1000).strength == pytest.approx(1000.0)


@pytest.mark.parametrize(("k", "n", "message"), [
    ([], [], "cannot fit a prior to no units: discrepancies and lines are empty"),
    ([0, 0], [0, 0], "no unit has any examined lines"),
    ([4], [3], "discrepancies exceed lines at index 0"),
    ([-1], [3], "discrepancies must not be negative"),
    ([1, 2], [3], "different lengths"),
])
def test_fit_prior_refuses_bad_input(k: list[int], n: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_prior(k, n)


def test_fit_prior_refuses_inconsistent_strength_limits() -> None:
    with pytest.raises(ValueError, match="min_strength <= default_strength <= max_strength"):
        fit_prior([1], [10], default_strength=1.0)


# --- group_rates -----------------------------------------------------------------------------


def test_group_rates_pools_repeated_keys_and_sorts_them() -> None:
    result = group_rates(["85", "61", "85", "03"], [1, 2, 3, 0], [10, 20, 30, 0], PRIOR)
    assert result.keys == ["03", "61", "85"]
    assert result.prior == PRIOR
    assert result.estimates.discrepancies.tolist() == [0, 2, 4]
    assert result.estimates.lines.tolist() == [0, 20, 40]
    assert result.estimates.discrepancy_rate.tolist() == pytest.approx(
        [2 / 40, 4 / 60, 6 / 80])
    assert result.estimates.compliance_low[2] == pytest.approx(stats.beta.ppf(0.025, 74, 6))


def test_group_rates_refuses_misaligned_keys_and_accepts_none() -> None:
    with pytest.raises(ValueError, match=r"keys and lines have different lengths \(1 != 2\)"):
        group_rates(["61"], [1, 2], [10, 20], PRIOR)
    empty = group_rates([], [], [], PRIOR)
    assert empty.keys == []
    assert empty.estimates.compliance_rate.shape == (0,)


# --- industry_priors -------------------------------------------------------------------------


def test_industry_priors_fit_each_industry_and_borrow_the_national_mean_when_thin() -> None:
    industries = ["61", "61", "72", "72", "03"]
    k = [40, 60, 5, 10, 2]
    n = [100, 100, 100, 200, THIN_INDUSTRY_LINES - 1]
    priors = industry_priors(industries, k, n)
    assert sorted(priors) == ["03", "61", "72"]
    assert priors["61"] == fit_prior([40, 60], [100, 100])
    assert priors["72"].mean == pytest.approx(15 / 300)
    assert priors["72"].strength == pytest.approx(50.0)  # identical rates: default strength
    national = fit_prior(k, n)
    assert priors["03"].mean == pytest.approx(national.mean)
    assert priors["03"].mean == pytest.approx(117 / 529)
    assert priors["03"].strength == pytest.approx(50.0)


def test_industry_priors_use_the_given_national_prior() -> None:
    priors = industry_priors(["03", "61"], [1, 3], [5, 60], national=BetaPrior(1, 9),
                             default_strength=20.0)
    assert priors["03"].mean == pytest.approx(0.1)
    assert priors["03"].strength == pytest.approx(20.0)
    assert priors["61"].mean == pytest.approx(0.05)
    assert priors["61"].strength == pytest.approx(20.0)


def test_industry_with_exactly_the_threshold_fits_its_own_mean() -> None:
    priors = industry_priors(["03"], [3], [THIN_INDUSTRY_LINES], national=BetaPrior(1, 1))
    assert priors["03"].mean == pytest.approx(3 / THIN_INDUSTRY_LINES)


def test_industry_priors_of_nothing_is_empty() -> None:
    assert industry_priors([], [], []) == {}
