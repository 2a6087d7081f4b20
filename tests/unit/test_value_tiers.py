"""Value tiers: rank by value, tier by the share carried by the larger importers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest

from domain.value_tiers import TIER_BOUNDS, TierSummary, assign_tiers, tier_summary

# Ten importers, total value 100, given out of order.
KEYS = ["E", "A", "H", "C", "J", "B", "G", "D", "F", "I"]
VALUES = [8, 30, 4, 12, 1, 20, 5, 10, 7, 3]
# By rank:  A 30  B 20  C 12  D 10  E 8   F 7   G 5   H 4   I 3   J 1
# before:   0     .30   .50   .62   .72   .80   .87   .92   .96   .99
# after:    .30   .50   .62   .72   .80   .87   .92   .96   .99   1.0
# tier:     1     1     2     3     3     3     4     4     4     4
EXPECTED = {
    "A": (1, 1, 0.30), "B": (2, 1, 0.50), "C": (3, 2, 0.62), "D": (4, 3, 0.72),
    "E": (5, 3, 0.80), "F": (6, 3, 0.87), "G": (7, 4, 0.92), "H": (8, 4, 0.96),
    "I": (9, 4, 0.99), "J": (10, 4, 1.00),
}


def test_hand_worked_ten_importers() -> None:
    result = assign_tiers(VALUES, KEYS)
    assert result.tiers.dtype == np.int8
    assert result.rank.dtype == np.int64
    for index, key in enumerate(KEYS):
        rank, tier, share = EXPECTED[key]
        assert result.rank[index] == rank, key
        assert result.tiers[index] == tier, key
        assert result.cumulative_share[index] == pytest.approx(share), key


def test_hand_worked_summary() -> None:
    result = assign_tiers(VALUES, KEYS)
    assert tier_summary(VALUES, result.tiers) == [
        TierSummary(tier=1, importers=2, value=50.0, value_share=0.50),
        TierSummary(tier=2, importers=1, value=12.0, value_share=0.12),
        TierSummary(tier=3, importers=3, value=25.0, value_share=0.25),
        TierSummary(tier=4, importers=4, value=13.0, value_share=0.13),
    ]


def test_the_importer_crossing_a_bound_belongs_to_the_tier_it_completes() -> None:
    # 40 carries 0.40; 25 crosses 50% (0.40 -> 0.65) and is tier 1; the next one starts at
    # 0.65, past 60%, so tier 2 is empty, and crosses 82% (0.65 -> 0.85) as tier 3; the rest
    # start at 0.85 and 0.95: tier 4.
    result = assign_tiers([40, 25, 20, 10, 5])
    assert result.tiers.tolist() == [1, 1, 3, 4, 4]
    assert result.cumulative_share.tolist() == pytest.approx([0.40, 0.65, 0.85, 0.95, 1.0])
    summary = tier_summary([40, 25, 20, 10, 5], result.tiers)
    assert [row.importers for row in summary] == [2, 0, 1, 2]
    assert summary[1].value == 0.0


def test_one_giant_importer_is_tier_1_alone() -> None:
    result = assign_tiers([1, 97, 1, 1])
    assert result.tiers.tolist() == [4, 1, 4, 4]
    assert result.rank.tolist() == [2, 1, 3, 4]


def test_ties_are_broken_by_key_then_by_position() -> None:
    by_key = assign_tiers([5, 5, 5], ["c", "a", "b"])
    assert by_key.rank.tolist() == [3, 1, 2]
    assert by_key.cumulative_share.tolist() == pytest.approx([1.0, 1 / 3, 2 / 3])
    # The tie decides the tier: 'a' ranks first and is tier 1, 'b' starts at 50% -> tier 2.
    assert assign_tiers([50, 50], ["b", "a"]).tiers.tolist() == [2, 1]
    assert assign_tiers([50, 50]).tiers.tolist() == [1, 2]
    assert assign_tiers([50, 50]).rank.tolist() == [1, 2]


def test_zero_total_makes_everyone_tier_4_with_no_share() -> None:
    result = assign_tiers([0, 0, 0], ["b", "a", "c"])
    assert result.tiers.tolist() == [4, 4, 4]
    assert result.cumulative_share.tolist() == [0.0, 0.0, 0.0]
    assert result.rank.tolist() == [2, 1, 3]
    assert [row.value_share for row in tier_summary([0, 0, 0], result.tiers)] == [0, 0, 0, 0]


def test_zero_value_importers_after_the_total_is_reached_are_tier_4() -> None:
    result = assign_tiers([0, 10, 0])
    assert result.tiers.tolist() == [4, 1, 4]
    assert result.cumulative_share.tolist() == [1.0, 1.0, 1.0]


def test_custom_bounds() -> None:
    result = assign_tiers([40, 30, 20, 10], bounds=(0.5,))
    assert result.tiers.tolist() == [1, 1, 2, 2]


def test_empty_input() -> None:
    result = assign_tiers([], [])
    assert result.tiers.shape == result.cumulative_share.shape == result.rank.shape == (0,)
    assert [row.importers for row in tier_summary([], [])] == [0, 0, 0, 0]


def _seed_curve(count: int) -> npt.NDArray[np.float64]:
    """Values whose top 463 carry 50%, top 1,000 carry 60% and top 8,601 carry 82% of
    443,000: log-log interpolation of the cumulative share, with the seed points put half an
    importer early so each crossing importer is unambiguous."""
    ranks = np.arange(count + 1, dtype=np.float64)
    points = [(462.5, 0.50), (999.5, 0.60), (8600.5, 0.82), (float(count), 1.0)]
    share = np.zeros(count + 1)
    first_rank, first_share = points[0]
    head = ranks <= first_rank
    share[head] = first_share * np.sqrt(ranks[head] / first_rank)
    for (r0, s0), (r1, s1) in itertools.pairwise(points):
        segment = (ranks > r0) & (ranks <= r1)
        slope = math.log(s1 / s0) / math.log(r1 / r0)
        share[segment] = s0 * (ranks[segment] / r0) ** slope
    values: npt.NDArray[np.float64] = np.diff(share) * 1.422e12
    return values


def test_the_seed_curve_gives_the_seed_tier_counts() -> None:
    count = 443_000
    values = _seed_curve(count)
    assert np.all(np.diff(values) <= 0)  # a proper rank curve: values fall with rank
    shuffled = np.random.default_rng(7).permutation(count)
    keys = [f"{index:06d}" for index in range(count)]
    result = assign_tiers(values[shuffled], [keys[i] for i in shuffled])
    counts = np.bincount(result.tiers, minlength=5)[1:].tolist()
    assert counts == [463, 537, 7_601, 434_399]
    assert result.tiers[np.argsort(result.rank)][[462, 463]].tolist() == [1, 2]
    summary = tier_summary(values[shuffled], result.tiers)
    assert [row.importers for row in summary] == counts
    assert sum(row.value_share for row in summary) == pytest.approx(1.0)
    assert [row.value_share for row in summary] == pytest.approx([0.50, 0.10, 0.22, 0.18],
                                                                 abs=0.002)


def test_a_national_population_is_tiered_whole() -> None:
    count = 443_000
    values = _seed_curve(count)[np.random.default_rng(11).permutation(count)]
    keys = [f"12-{index:07d}AB" for index in range(count)]
    result = assign_tiers(values, keys)
    summary = tier_summary(values, result.tiers)
    assert sum(row.importers for row in summary) == count
    assert sorted(result.rank.tolist()) == list(range(1, count + 1))


def test_summary_shares_sum_to_one() -> None:
    values = np.random.default_rng(3).pareto(1.2, 2000) * 1000
    result = assign_tiers(values)
    summary = tier_summary(values, result.tiers)
    assert [row.tier for row in summary] == [1, 2, 3, 4]
    assert sum(row.value_share for row in summary) == pytest.approx(1.0)
    assert sum(row.value for row in summary) == pytest.approx(float(values.sum()))
    assert sum(row.importers for row in summary) == 2000
    assert summary[0].value_share >= TIER_BOUNDS[0]


@pytest.mark.parametrize(("values", "message"), [
    ([3, -1, 2], r"values must not be negative, got -1\.0 at index 1"),
    ([3, math.nan], "values must be finite"),
    ([3, math.inf], "values must be finite"),
    ([[1, 2], [3, 4]], "values must be one-dimensional"),
])
def test_bad_values_are_refused(values: npt.ArrayLike, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign_tiers(values)


@pytest.mark.parametrize("bounds", [(0.6, 0.5, 0.82), (0.5, 0.5, 0.82), (0.0, 0.6), (0.5, 1.0),
                                    (-0.1, 0.5), ()])
def test_bad_bounds_are_refused(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="bounds must be"):
        assign_tiers([1, 2, 3], bounds=bounds)


def test_misaligned_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match=r"keys and values have different lengths \(1 != 2\)"):
        assign_tiers([1, 2], ["a"])
    with pytest.raises(ValueError, match=r"values and tiers have different lengths \(2 != 3\)"):
        tier_summary([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="tiers must be whole numbers 1-4"):
        tier_summary([1, 2], [1, 5])
    with pytest.raises(ValueError, match="tiers must be whole numbers 1-4"):
        tier_summary([1, 2], [0, 1])
    with pytest.raises(ValueError, match="values must not be negative"):
        tier_summary([1, -2], [1, 2])
