"""Figures both periodic reports derive the same way from what the sources return: the
value concentration curve and its tiers, hit-rate rows of targeted against random exams,
and the ledger position and as-of time every report states. Kept apart from the builders
so the plan and the annual report cannot drift in how they compute one figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from application.reports.sources import PeriodicSources
from application.targeting.effectiveness import Comparison, HitRate


@dataclass(frozen=True)
class Stamp:
    position: int
    as_of: datetime


def stamp(sources: PeriodicSources, position: int | None) -> Stamp:
    """Catch the views up to the position, then state it and its time."""
    at = sources.prepare(position)
    return Stamp(at, sources.as_of(at))


def tiers(values: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """Importers and value per account tier, with each tier's share and the cumulative
    share at its end (the cut-off the concentration curve marks), from (annual value,
    tier) pairs."""
    count = len(values)
    return tiers_of(np.fromiter((value for value, _ in values), np.float64, count),
                    np.fromiter((tier for _, tier in values), np.int64, count))


def tiers_of(values: npt.NDArray[np.float64], numbers: npt.NDArray[np.int64],
             ) -> list[dict[str, Any]]:
    """As `tiers`, from two arrays (each importer's value and tier): counted and summed in
    numpy rather than a loop over 443,000 importers. Sums run through the values in the
    order given, one at a time (cumsum, bincount), as the loop did, so the figures are the
    same to the last bit."""
    if not len(values):
        return []
    total = float(np.cumsum(values)[-1])
    found, where = np.unique(numbers, return_inverse=True)
    counts = np.bincount(where, minlength=len(found))
    sums = np.bincount(where, weights=values, minlength=len(found))
    running, result = 0.0, []
    for tier, count, value in zip(found.tolist(), counts.tolist(), sums.tolist(), strict=True):
        running += value
        result.append({"tier": int(tier), "importers": int(count), "value": float(value),
                       "share": value / total if total else 0.0,
                       "cumulative_share": running / total if total else 0.0})
    return result


def hit_row(comparison: Comparison) -> dict[str, Any]:
    """A targeted-vs-random row; a side with no exams has no rate (not 0%)."""
    def side(rate: HitRate) -> dict[str, Any]:
        if not rate.examined:
            return {"examined": 0, "hits": 0, "rate": None, "low": None, "high": None}
        return {"examined": rate.examined, "hits": rate.hits, "rate": rate.rate,
                "low": rate.low, "high": rate.high}
    return {"key": comparison.key, "targeted": side(comparison.targeted),
            "random": side(comparison.random), "lift": comparison.lift,
            "better": comparison.clearly_better}
