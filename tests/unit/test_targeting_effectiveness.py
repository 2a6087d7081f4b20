"""Targeting effectiveness on eleven hand-made sample lines, every figure worked by hand.

Wilson 95% interval (z = 1.959964, z^2 = 3.841459) of k hits in n examined lines, p = k/n:
    d = 1 + z^2/n;  centre = (p + z^2/(2n)) / d;  margin = z * sqrt(p(1-p)/n + z^2/(4n^2)) / d
    low = centre - margin, high = centre + margin (clamped to [0, 1] and to contain p)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pytest

from application.targeting.effectiveness import Comparison, HitRate, TargetingEffectiveness
from domain.importer_history import ImporterHistory

R1, R2 = "TR-2026-00001", "TR-2026-00002"

#        discrepancies, selection, entry district, importer district, rules (rule@version)
LINES = [
    (2, "targeted", "11", "11", f"{R1}@v1"),            # hit
    (1, "targeted", "11", "11", f"{R1}@v1,{R2}@v1"),    # hit
    (0, "targeted", None, "11", f"{R2}@v2"),            # no entry district: the importer's
    (3, "targeted", "24", "11", f"{R1}@v1"),            # hit; the entry's district wins
    (0, "random", "11", "11", None),
    (0, "random", "11", "11", ""),
    (1, "random", "11", "11", None),                    # hit
    (0, "random", "11", "11", None),
    (0, "random", "11", "11", None),
    (0, "random", "24", "24", None),
    (4, "random", None, None, None),                    # hit; no district at all: "??"
]


class Samples:
    def samples_with_risk(self) -> pa.Table:
        columns = ("discrepancy", "selection", "entry_district", "importer_district", "rules")
        return pa.table({name: [line[i] for line in LINES] for i, name in enumerate(columns)})


class NoHistories:
    def histories(self) -> Mapping[str, ImporterHistory]:
        return {}


def figures(rate: HitRate) -> tuple[int, int, Any, Any, Any]:
    return (rate.examined, rate.hits, pytest.approx(rate.rate, abs=1e-6),
            pytest.approx(rate.low, abs=1e-6), pytest.approx(rate.high, abs=1e-6))


def expect(examined: int, hits: int, rate: float, low: float,
           high: float) -> tuple[int, int, float, float, float]:
    return (examined, hits, rate, low, high)


@pytest.fixture
def measured() -> Any:
    return TargetingEffectiveness(Samples(), NoHistories()).measure()


def test_the_national_comparison_is_worked_by_hand(measured: Any) -> None:
    overall: Comparison = measured.overall
    assert overall.key == "national"
    # targeted: lines 1-4, hits 1, 2, 4 -> 3 of 4, p = 0.75
    #   z^2/n = 0.960365, d = 1.960365, z^2/(2n) = 0.480182
    #   centre = (0.75 + 0.480182) / 1.960365 = 0.627527
    #   p(1-p)/n = 0.046875, z^2/(4n^2) = 0.060023, sqrt(0.106898) = 0.326952
    #   margin = 1.959964 x 0.326952 / 1.960365 = 0.326885
    #   low = 0.300642, high = 0.954413
    assert figures(overall.targeted) == expect(4, 3, 0.75, 0.300642, 0.954413)
    # random: lines 5-11, hits 7 and 11 -> 2 of 7, p = 0.285714
    #   z^2/n = 0.548780, d = 1.548780, z^2/(2n) = 0.274390
    #   centre = (0.285714 + 0.274390) / 1.548780 = 0.361642
    #   p(1-p)/n = 0.029155, z^2/(4n^2) = 0.019599, sqrt(0.048754) = 0.220803
    #   margin = 1.959964 x 0.220803 / 1.548780 = 0.279423
    #   low = 0.082219, high = 0.641066
    assert figures(overall.random) == expect(7, 2, 2 / 7, 0.082219, 0.641066)
    # lift = 0.75 / (2/7) = 2.625; the intervals overlap (0.300642 < 0.641066)
    assert overall.lift == pytest.approx(2.625)
    assert overall.clearly_better is False


def test_each_district_is_compared_on_its_own_lines(measured: Any) -> None:
    assert [c.key for c in measured.by_district] == ["11", "24", "??"]
    eleven, twenty_four, unknown = measured.by_district
    # "11": targeted lines 1-3 -> 2 of 3, p = 0.666667
    #   z^2/n = 1.280486, d = 2.280486, centre = (0.666667 + 0.640243) / 2.280486 = 0.573084
    #   sqrt(0.074074 + 0.106707) = 0.425184, margin = 1.959964 x 0.425184 / 2.280486
    #   = 0.365424 -> low 0.207660, high 0.938508
    assert figures(eleven.targeted) == expect(3, 2, 2 / 3, 0.207660, 0.938508)
    # "11": random lines 5-9 -> 1 of 5, p = 0.2
    #   z^2/n = 0.768292, d = 1.768292, centre = (0.2 + 0.384146) / 1.768292 = 0.330345
    #   sqrt(0.032 + 0.038415) = 0.265357, margin = 1.959964 x 0.265357 / 1.768292
    #   = 0.294121 -> low 0.036224, high 0.624465
    assert figures(eleven.random) == expect(5, 1, 0.2, 0.036224, 0.624465)
    # lift = (2/3) / 0.2 = 3.333333
    assert eleven.lift == pytest.approx(10 / 3)
    # "24": targeted line 4 -> 1 of 1, p = 1
    #   z^2/n = 3.841459, d = 4.841459, centre = (1 + 1.920729) / 4.841459 = 0.603275
    #   sqrt(0 + 0.960365) = 0.979982, margin = 1.959964 x 0.979982 / 4.841459 = 0.396725
    #   -> low 0.206549, high 1 (clamped from 1.000000)
    assert figures(twenty_four.targeted) == expect(1, 1, 1.0, 0.206549, 1.0)
    # "24": random line 10 -> 0 of 1: the mirror image, low 0, high 1 - 0.206549
    assert figures(twenty_four.random) == expect(1, 0, 0.0, 0.0, 0.793451)
    assert twenty_four.lift is None                      # no random hit to divide by
    assert twenty_four.clearly_better is False           # 0.206549 < 0.793451
    # "??": no targeted line (no estimate: 0, [0, 1]); random line 11 -> 1 of 1
    assert figures(unknown.targeted) == expect(0, 0, 0.0, 0.0, 1.0)
    assert figures(unknown.random) == expect(1, 1, 1.0, 0.206549, 1.0)
    assert unknown.lift == 0.0
    assert unknown.clearly_better is False
    # the districts' targeted lines add up to the national ones
    assert sum(c.targeted.examined for c in measured.by_district) == 4


def test_each_rule_is_measured_on_the_lines_it_selected_whatever_the_version(
        measured: Any) -> None:
    assert [c.key for c in measured.by_rule] == [R1, R2]
    first, second = measured.by_rule
    # R1 selected lines 1, 2 and 4, all hits: 3 of 3
    #   z^2/n = 1.280486, d = 2.280486, centre = (1 + 0.640243) / 2.280486 = 0.719251
    #   sqrt(0 + 0.106707) = 0.326661, margin = 1.959964 x 0.326661 / 2.280486 = 0.280749
    #   -> low 0.438503, high 1 (clamped)
    assert figures(first.targeted) == expect(3, 3, 1.0, 0.438503, 1.0)
    # R2 (versions 1 and 2 alike) selected lines 2 and 3: 1 of 2, p = 0.5
    #   z^2/n = 1.920729, d = 2.920729, centre = (0.5 + 0.960365) / 2.920729 = 0.5
    #   sqrt(0.125 + 0.240091) = 0.604228, margin = 1.959964 x 0.604228 / 2.920729
    #   = 0.405469 -> low 0.094531, high 0.905469
    assert figures(second.targeted) == expect(2, 1, 0.5, 0.094531, 0.905469)
    # no random line carries a rule: the random side of a rule is empty
    for comparison in (first, second):
        assert figures(comparison.random) == expect(0, 0, 0.0, 0.0, 1.0)
        assert comparison.lift is None
        assert comparison.clearly_better is False
