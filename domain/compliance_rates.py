"""Beta-binomial compliance rates, so an importer with 3 clean lines is not called 100% compliant.

We model the discrepancy (non-compliance) rate p of examined entry lines; the compliance rate
is 1 - p. Each unit (importer, industry, district, area) has k discrepancies in n lines, with
k ~ Binomial(n, p) and p ~ Beta(alpha, beta) across the units of a peer group. The posterior
Beta(alpha + k, beta + n - k) shrinks a small sample toward the peer group's rate and leaves a
large one near its own rate; intervals are equal-tailed posterior intervals (scipy.stats.beta).

Fitting the prior (`fit_prior`) is by the method of moments with weights w_i = n_i (Kleinman,
1973, first step), chosen because it is closed-form, vectorised and needs no optimiser that
could fail to converge inside a projection rebuild:

- mean: the pooled rate sum(k) / sum(n), clipped into [1e-6, 1 - 1e-6] so alpha, beta > 0
  even when no unit has a discrepancy (or every line has one);
- intra-class correlation rho = 1 / (alpha + beta + 1) from the weighted between-unit spread
  S = sum(n_i (k_i/n_i - mean)^2), whose expectation is
  mean (1 - mean) [(m - 1) + rho (N - sum(n_i^2) / N - (m - 1))] for m units and N lines;
- strength alpha + beta = 1/rho - 1, clipped into [min_strength, max_strength].

When there is no evidence of overdispersion (fewer than 2 units with lines, S not above the
binomial expectation, or every unit with one line so rho is not identifiable), the strength
is `default_strength`: the data then cannot say how far units differ, and a moderate prior
is safer than an infinitely strong one (which would give every unit the pooled rate).
Units with no lines carry no evidence and are ignored when fitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats  # scipy ships no type information

_MEAN_FLOOR = 1e-6
THIN_INDUSTRY_LINES = 30
"""Below this many lines an industry's own mean is noise; it takes the national mean."""


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) belief about a discrepancy rate before a unit's own lines are seen."""

    alpha: float
    beta: float

    def __post_init__(self) -> None:
        for name, value in (("alpha", self.alpha), ("beta", self.beta)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(
                    f"prior {name} must be a positive finite number, got {float(value)!r}"
                )

    @property
    def mean(self) -> float:
        """Prior discrepancy rate."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """How many lines of evidence the prior is worth."""
        return self.alpha + self.beta

    @classmethod
    def from_mean(cls, mean: float, strength: float) -> BetaPrior:
        """Rates and evidence weights are easier to reason about than alpha and beta."""
        if not (0.0 < mean < 1.0):
            raise ValueError(f"prior mean must be strictly between 0 and 1, got {mean!r}")
        if not (math.isfinite(strength) and strength > 0):
            raise ValueError(f"prior strength must be a positive finite number, got {strength!r}")
        return cls(alpha=mean * strength, beta=(1.0 - mean) * strength)


@dataclass(frozen=True)
class RateEstimates:
    """Per-unit estimates, aligned with the inputs, so callers can zip them with their keys."""

    lines: npt.NDArray[np.int64]
    discrepancies: npt.NDArray[np.int64]
    discrepancy_rate: npt.NDArray[np.float64]
    compliance_rate: npt.NDArray[np.float64]
    compliance_low: npt.NDArray[np.float64]
    compliance_high: npt.NDArray[np.float64]
    raw_compliance_rate: npt.NDArray[np.float64]


@dataclass(frozen=True)
class GroupRates:
    """Estimates per distinct key (sorted), with the prior they were shrunk toward."""

    keys: list[str]
    estimates: RateEstimates
    prior: BetaPrior


def _counts(values: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    """Counts arrive from projections as ints or floats; refuse anything not a whole number."""
    array = np.atleast_1d(np.asarray(values))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be whole numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.floor(array))
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(
            f"{name} must be whole numbers, got {float(array[index])!r} at index {index}"
        )
    counts = array.astype(np.int64)
    negative = counts < 0
    if negative.any():
        index = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name} must not be negative, got {counts[index]} at index {index}")
    return counts


def _paired_counts(
    discrepancies: npt.ArrayLike, lines: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    k = _counts(discrepancies, "discrepancies")
    n = _counts(lines, "lines")
    if k.shape != n.shape:
        raise ValueError(
            f"discrepancies and lines have different lengths ({k.size} != {n.size})"
        )
    over = k > n
    if over.any():
        index = int(np.flatnonzero(over)[0])
        raise ValueError(
            f"discrepancies exceed lines at index {index} ({k[index]} > {n[index]})"
        )
    return k, n


def _prior_parameter(
    values: npt.ArrayLike, name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    try:
        broadcast = np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {array.shape} does not broadcast to the {shape[0]} units"
        ) from None
    bad = ~(np.isfinite(broadcast) & (broadcast > 0))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be positive and finite, got {float(broadcast[index])!r} "
                         f"at index {index}")
    return broadcast


def fit_prior(
    discrepancies: npt.ArrayLike,
    lines: npt.ArrayLike,
    *,
    default_strength: float = 50.0,
    min_strength: float = 2.0,
    max_strength: float = 2000.0,
) -> BetaPrior:
    """Peer-group prior by weighted method of moments; see the module docstring for why."""
    if not (0 < min_strength <= default_strength <= max_strength):
        raise ValueError(
            "strengths must satisfy 0 < min_strength <= default_strength <= max_strength, got "
            f"{min_strength!r}, {default_strength!r}, {max_strength!r}"
        )
    k_all, n_all = _paired_counts(discrepancies, lines)
    if k_all.size == 0:
        raise ValueError("cannot fit a prior to no units: discrepancies and lines are empty")
    seen = n_all > 0
    if not seen.any():
        raise ValueError("cannot fit a prior: no unit has any examined lines")
    k = k_all[seen].astype(np.float64)
    n = n_all[seen].astype(np.float64)
    total = float(n.sum())
    pooled = float(k.sum()) / total
    mean = min(max(pooled, _MEAN_FLOOR), 1.0 - _MEAN_FLOOR)

    units = k.size
    strength = default_strength
    # A pooled rate of 0 or 1 means every unit has that rate: no spread to measure (and the
    # clipped mean would otherwise turn millions of clean lines into spurious overdispersion).
    if units >= 2 and 0.0 < pooled < 1.0:
        spread = float(np.sum(n * (k / n - pooled) ** 2))
        binomial = pooled * (1.0 - pooled)
        excess = spread / binomial - (units - 1)
        denominator = total - float(np.sum(n * n)) / total - (units - 1)
        if excess > 0 and denominator > 0:
            rho = excess / denominator
            strength = 1.0 / rho - 1.0 if rho < 1.0 else min_strength
            strength = min(max(strength, min_strength), max_strength)
    return BetaPrior.from_mean(mean, strength)


def shrunk_rates(
    discrepancies: npt.ArrayLike,
    lines: npt.ArrayLike,
    prior_alpha: npt.ArrayLike,
    prior_beta: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> RateEstimates:
    """Posterior Beta(alpha + k, beta + n - k) per unit; priors broadcast so each unit can be
    shrunk toward its own peer group. Empty inputs give empty estimates."""
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    k, n = _paired_counts(discrepancies, lines)
    alpha = _prior_parameter(prior_alpha, "prior_alpha", k.shape)
    beta = _prior_parameter(prior_beta, "prior_beta", k.shape)

    post_alpha = alpha + k
    post_beta = beta + (n - k)
    discrepancy_rate = post_alpha / (post_alpha + post_beta)
    # The compliance rate 1 - p is Beta(post_beta, post_alpha); taking its quantiles directly
    # avoids the cancellation in 1 - ppf(p) when p is tiny.
    tail = (1.0 - confidence) / 2.0
    low, high = _beta_quantiles((tail, 1.0 - tail), post_beta, post_alpha)
    raw = np.full(k.shape, np.nan, dtype=np.float64)
    np.divide(n - k, n, out=raw, where=n > 0)
    return RateEstimates(
        lines=n,
        discrepancies=k,
        discrepancy_rate=discrepancy_rate,
        compliance_rate=1.0 - discrepancy_rate,
        compliance_low=low.reshape(k.shape),
        compliance_high=high.reshape(k.shape),
        raw_compliance_rate=raw,
    )


def _beta_quantiles(quantiles: tuple[float, float], a: npt.NDArray[np.float64],
                    b: npt.NDArray[np.float64]
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Beta(a, b) quantiles per unit, each distinct (a, b) pair computed once: a national
    run's 443,000 importers share a few tens of thousands of posteriors (most have no
    examined line, so theirs is their industry's prior), and the quantile function costs
    microseconds a call. The same values as computing every unit's."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    pairs = np.empty(a.size, dtype=np.complex128)  # (a, b) as one sortable value
    pairs.real, pairs.imag = a.reshape(-1), b.reshape(-1)
    if pairs.size < 1024:
        return (np.asarray(stats.beta.ppf(quantiles[0], a, b), dtype=np.float64),
                np.asarray(stats.beta.ppf(quantiles[1], a, b), dtype=np.float64))
    distinct, inverse = np.unique(pairs, return_inverse=True)
    inverse = inverse.reshape(-1)
    first, second = (np.asarray(stats.beta.ppf(q, distinct.real, distinct.imag),
                                dtype=np.float64)[inverse].reshape(a.shape) for q in quantiles)
    return first, second


def _sum_by_key(
    keys: Sequence[str], discrepancies: npt.ArrayLike, lines: npt.ArrayLike
) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    k, n = _paired_counts(discrepancies, lines)
    if len(keys) != k.size:
        raise ValueError(f"keys and lines have different lengths ({len(keys)} != {n.size})")
    if k.size == 0:
        return [], k, n, np.zeros(0, dtype=np.intp)
    distinct, inverse = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
    inverse = inverse.reshape(-1)
    k_sum = np.zeros(distinct.size, dtype=np.int64)
    n_sum = np.zeros(distinct.size, dtype=np.int64)
    np.add.at(k_sum, inverse, k)
    np.add.at(n_sum, inverse, n)
    return [str(key) for key in distinct], k_sum, n_sum, inverse


def group_rates(
    keys: Sequence[str],
    discrepancies: npt.ArrayLike,
    lines: npt.ArrayLike,
    prior: BetaPrior,
    *,
    confidence: float = 0.95,
) -> GroupRates:
    """Industry/district/area rates: rows may repeat a key (one per importer), so lines are
    pooled per key before shrinking toward the national prior."""
    distinct, k, n, _ = _sum_by_key(keys, discrepancies, lines)
    estimates = shrunk_rates(k, n, prior.alpha, prior.beta, confidence=confidence)
    return GroupRates(keys=distinct, estimates=estimates, prior=prior)


def industry_priors(
    industries: Sequence[str],
    discrepancies: npt.ArrayLike,
    lines: npt.ArrayLike,
    *,
    national: BetaPrior | None = None,
    default_strength: float = 50.0,
) -> dict[str, BetaPrior]:
    """Each industry's prior is fitted over its own importers, so importers are compared with
    their peers; an industry with fewer than THIN_INDUSTRY_LINES lines takes the national mean
    at `default_strength`, as its own mean and spread would be noise."""
    k, n = _paired_counts(discrepancies, lines)
    distinct, _, line_totals, inverse = _sum_by_key(industries, k, n)
    if not distinct:
        return {}
    # One stable sort groups each industry's importers without a scan per industry.
    order = np.argsort(inverse, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(inverse, minlength=len(distinct)))[:-1])
    priors: dict[str, BetaPrior] = {}
    for industry, total, rows in zip(distinct, line_totals, members, strict=True):
        if total < THIN_INDUSTRY_LINES:
            if national is None:
                national = fit_prior(k, n, default_strength=default_strength)
            priors[industry] = BetaPrior.from_mean(national.mean, default_strength)
        else:
            priors[industry] = fit_prior(k[rows], n[rows], default_strength=default_strength)
    return priors
