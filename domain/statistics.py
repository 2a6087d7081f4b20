"""Interval estimates of compliance rates, so small samples are not over-read."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class RateEstimate:
    rate: float
    lower: float
    upper: float


def wilson_interval(compliant: int, total: int, z: float = Z_95) -> RateEstimate:
    """Wilson score interval: well behaved near 0% and 100% and for few lines, unlike the
    normal approximation, which is why the lower bound can be compared to a threshold."""
    if total <= 0:
        return RateEstimate(0.0, 0.0, 1.0)
    p = compliant / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # The interval always contains p; clamping to it only undoes floating-point error
    # (e.g. 0 of 100 would otherwise give a lower bound of 3e-18, above the rate).
    return RateEstimate(p, max(0.0, min(p, centre - margin)), min(1.0, max(p, centre + margin)))
