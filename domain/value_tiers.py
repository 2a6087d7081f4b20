"""Account tiers from cumulative value share, so management attention follows the money.

Importers are ranked by annual value (largest first, ties by key so reruns agree). An
importer's tier is set by the share of total value carried by the importers ranked above it:
below 50% -> tier 1, below 60% -> tier 2, below 82% -> tier 3, otherwise tier 4. The importer
that crosses a bound therefore belongs to the tier it completes (the one crossing 50% is tier 1).

When the total value is zero nobody carries any share: every importer is tier 4 with a
cumulative share of 0, since no one warrants the attention reserved for large accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TIER_BOUNDS: tuple[float, float, float] = (0.50, 0.60, 0.82)
TIERS = 4


@dataclass(frozen=True)
class TierAssignment:
    """Arrays aligned with the input order, so callers can zip them with their importers."""

    tiers: npt.NDArray[np.int8]
    cumulative_share: npt.NDArray[np.float64]
    rank: npt.NDArray[np.int64]


@dataclass(frozen=True)
class TierSummary:
    tier: int
    importers: int
    value: float
    value_share: float


def _values(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"values must be finite, got {float(array[index])!r} at index {index}")
    negative = array < 0
    if negative.any():
        index = int(np.flatnonzero(negative)[0])
        raise ValueError(
            f"values must not be negative, got {float(array[index])!r} at index {index}"
        )
    return array


def _check_bounds(bounds: tuple[float, ...]) -> npt.NDArray[np.float64]:
    edges = np.asarray(bounds, dtype=np.float64)
    if edges.ndim != 1 or edges.size == 0:
        raise ValueError(f"bounds must be a non-empty sequence of shares, got {bounds!r}")
    if not (np.all(edges > 0) and np.all(edges < 1) and np.all(np.diff(edges) > 0)):
        raise ValueError(f"bounds must be strictly increasing shares within (0, 1), got {bounds!r}")
    if edges.size >= np.iinfo(np.int8).max:
        raise ValueError(f"too many bounds ({edges.size}) for int8 tiers")
    return edges


def assign_tiers(
    values: npt.ArrayLike,
    keys: Sequence[str] | None = None,
    bounds: tuple[float, ...] = TIER_BOUNDS,
) -> TierAssignment:
    """Rank by value and tier by the share carried above each importer (see module docstring);
    ties are broken by key, or by input position when no keys are given."""
    amounts = _values(values)
    edges = _check_bounds(bounds)
    count = amounts.size
    if keys is not None and len(keys) != count:
        raise ValueError(f"keys and values have different lengths ({len(keys)} != {count})")
    if count == 0:
        return TierAssignment(np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.float64),
                              np.zeros(0, dtype=np.int64))

    # lexsort sorts by the last key first and is stable, so position breaks remaining ties.
    if keys is None:
        order = np.argsort(-amounts, kind="stable")
    else:
        order = np.lexsort((np.asarray(keys, dtype=str), -amounts))
    ranked = amounts[order]
    running = np.cumsum(ranked)
    total = float(running[-1])

    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(1, count + 1, dtype=np.int64)
    share = np.zeros(count, dtype=np.float64)
    tiers = np.full(count, edges.size + 1, dtype=np.int8)
    if total > 0:
        after = running / total
        before = np.concatenate(([0.0], after[:-1]))
        share[order] = after
        tiers[order] = (np.searchsorted(edges, before, side="right") + 1).astype(np.int8)
    return TierAssignment(tiers=tiers, cumulative_share=share, rank=rank)


def tier_summary(values: npt.ArrayLike, tiers: npt.ArrayLike) -> list[TierSummary]:
    """One row per tier 1-4, empty tiers included, so reports always have the same shape."""
    amounts = _values(values)
    labels = np.atleast_1d(np.asarray(tiers))
    if labels.shape != amounts.shape:
        raise ValueError(
            f"values and tiers have different lengths ({amounts.size} != {labels.size})"
        )
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 1 or labels.max() > TIERS):
        raise ValueError(f"tiers must be whole numbers 1-{TIERS}")
    index = labels.astype(np.int64) - 1
    importers = np.bincount(index, minlength=TIERS)
    value = np.bincount(index, weights=amounts, minlength=TIERS)
    total = float(value.sum())
    return [
        TierSummary(
            tier=tier + 1,
            importers=int(importers[tier]),
            value=float(value[tier]),
            value_share=float(value[tier]) / total if total > 0 else 0.0,
        )
        for tier in range(TIERS)
    ]
