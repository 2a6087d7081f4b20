"""A run's adjustments as columns (domain.risk_scoring.Adjustments) give what the Factor
lists per importer gave: the same factors in the same order (largest effect first, ties in
the scores' factor order), the scores table's JSON byte for byte as msgspec encodes each
list, and the events' lists of texts."""

from __future__ import annotations

import random

import msgspec
import numpy as np
import pytest

from application.risk.factor_columns import adjustments_json, factor_lists
from application.risk.fixed_texts import fixed_text
from domain.risk_scoring import (
    Adjustments,
    Factor,
    RiskPolicy,
    RiskScores,
    adjustments,
    score_importers,
)
from tests.unit.test_risk_scoring import inputs

AWKWARD = ['class "d"', "back\\slash", "naïve \u2013 ünïcode", "line\nbreak", "", "HS chapter 87"]


def _per_importer(data_inputs: object, scores: RiskScores, rows: list[int]
                  ) -> dict[int, list[Factor]]:
    """The earlier implementation: a Factor list per importer, each sorted by its key."""
    assert hasattr(data_inputs, "findings")
    values = {
        "prior findings": lambda i: f"{int(data_inputs.findings[i])} assessment(s) with "
                                    "findings",
        "enforcement history": lambda i: f"{int(data_inputs.enforcement[i])} enforcement "
                                         "action(s)",
        "primary focus industry": lambda i: f"HS chapter {data_inputs.industry[i]}",
        "compliance class": lambda i: str(data_inputs.compliance_class[i]).upper(),
    }
    wanted = np.zeros(len(scores.score), dtype=bool)
    wanted[rows] = True
    result: dict[int, list[Factor]] = {i: [] for i in rows}
    for name, multipliers in scores.factors.items():
        for index in np.flatnonzero(wanted & (multipliers != 1.0)).tolist():
            value = values.get(name, lambda _i: "member")(index)
            result[index].append(Factor(name, value, float(multipliers[index])))
    for factors in result.values():
        factors.sort(key=lambda f: -abs(np.log(f.effect)))
    return result


def test_the_columns_order_the_factors_as_each_importer_s_sort_did() -> None:
    rng = random.Random(7)
    rows = [{"findings": rng.choice([0, 0, 1, 3]), "enforcement": rng.choice([0, 0, 2]),
             "industry": rng.choice(["87", "64", "01", "99"]),
             "compliance_class": rng.choice([None, "aa", "a", "b", "c", "d"]),
             "trusted_trader": rng.random() < 0.2, "self_assessment": rng.random() < 0.2}
            for _ in range(2_000)]
    data = inputs(*rows)
    # Equal strengths on purpose: |ln 2| = |ln 0.5| ties enforcement with trusted trader.
    policy = RiskPolicy(enforcement_factor=2.0, trusted_trader_factor=0.5)
    scores = score_importers(data, policy)
    listed = sorted(rng.sample(range(len(rows)), 1_500))
    columns = adjustments(data, scores, np.array(listed, dtype=np.int64))
    expected = _per_importer(data, scores, listed)
    assert {i: columns[i] for i in listed} == expected
    assert sum(len(f) for f in expected.values()) > 1_000  # not a trivial case
    assert any(len(f) >= 3 for f in expected.values())
    with pytest.raises(KeyError):
        columns[next(i for i in range(len(rows)) if i not in set(listed))]


def test_the_scores_table_json_is_msgspec_s_for_each_list() -> None:
    rng = random.Random(11)
    effects = [1.25, 0.5, 2.0, 0.6, 1 / 3, 1e-7, 123456.789]
    names = ["primary focus industry", 'a "quoted" factor', "trusted trader"]
    lists = {i: [Factor(rng.choice(names), rng.choice(AWKWARD), rng.choice(effects))
                 for _ in range(rng.randint(0, 4))] for i in range(0, 3_000, 3)}
    columns = Adjustments.of(lists)
    order = list(lists)
    rng.shuffle(order)
    made = adjustments_json(columns, np.array(order, dtype=np.int64)).to_pylist()
    assert made == [msgspec.json.encode(lists[i]).decode() for i in order]
    assert "[]" in made
    decoded = msgspec.json.decode(made[0], type=list[Factor])
    assert decoded == lists[order[0]]


def test_the_event_lists_carry_each_factor_s_texts() -> None:
    lists = {5: [Factor("compliance class", 'class "d"', 1.3),
                 Factor("trusted trader", "member", 0.5)],
             9: [],
             2: [Factor("primary focus industry", "HS chapter 87", 1 / 3)]}
    made = factor_lists(Adjustments.of(lists), np.array([9, 2, 5], dtype=np.int64))
    assert made.to_pylist() == [
        [],
        [{"effect": fixed_text(1 / 3, 6), "factor": "primary focus industry",
          "value": "HS chapter 87"}],
        [{"effect": "1.300000", "factor": "compliance class", "value": 'class "d"'},
         {"effect": "0.500000", "factor": "trusted trader", "value": "member"}]]
    with pytest.raises(KeyError):
        factor_lists(Adjustments.of(lists), np.array([4], dtype=np.int64))
