"""The tables a risk run writes beside its events: the changed importers' scores (one row
each, with the factors that adjusted the score as JSON) and the compliance rates by grain.
Built column-wise with pyarrow from the run's arrays."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from application.risk.factor_columns import adjustments_json
from application.risk.risk_events import AssessedFigures
from domain.risk_scoring import CATEGORIES, IMPACT_LEVELS, METHOD_VERSION


def rate_rows(grain: str, keys: list[str], estimates: Any
          ) -> list[tuple[str, str, int, int, float, float, float]]:
    return [(grain, key, int(estimates.lines[j]), int(estimates.discrepancies[j]),
             float(estimates.compliance_rate[j]), float(estimates.compliance_low[j]),
             float(estimates.compliance_high[j])) for j, key in enumerate(keys)]


def rates_table(run_id: UUID, rows: list[tuple[str, str, int, int, float, float, float]]
                 ) -> pa.Table:
    names = ("grain", "key", "lines", "discrepancies", "compliance_rate", "compliance_low",
             "compliance_high")
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    table = {name: list(values) for name, values in zip(names, columns, strict=True)}
    types = (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.float64(), pa.float64(),
             pa.float64())
    arrays = {name: pa.array(table[name], type_) for name, type_ in zip(names, types,
                                                                          strict=True)}
    arrays["run_id"] = pa.array([str(run_id)] * len(rows), pa.string())
    return pa.table(arrays)


def scores_table(run_id: UUID, numbers: list[str], districts: list[str],
                  industries: list[str], rows: list[int], figures: AssessedFigures
                  ) -> pa.Table:
    index = np.array(rows, dtype=np.int64)
    scores, inputs, explanations = figures.scores, figures.inputs, figures.explanations
    return pa.table({
        "importer_number": pa.array([numbers[i] for i in rows], pa.string()),
        "run_id": pa.array([str(run_id)] * len(rows), pa.string()),
        "district": pa.array([districts[i] for i in rows], pa.string()),
        "industry": pa.array([industries[i] for i in rows], pa.string()),
        "tier": pa.array(inputs.tier[index].astype(np.int64)),
        "annual_value": pa.array(inputs.annual_value[index]),
        "cumulative_share": pa.array(figures.cumulative_share[index]),
        "lines": pa.array(figures.lines[index]),
        "discrepancies": pa.array(figures.discrepancies[index]),
        "compliance_rate": pa.array(figures.compliance_rate[index]),
        "compliance_low": pa.array(figures.compliance_low[index]),
        "compliance_high": pa.array(figures.compliance_high[index]),
        "expected_noncompliant_value": pa.array(scores.expected_noncompliant_value[index]),
        "revenue_at_risk": pa.array(scores.revenue_at_risk[index]),
        "score": pa.array(scores.score[index]),
        "category": _labels(CATEGORIES, scores.category[index]),
        "impact_level": _labels(IMPACT_LEVELS, scores.impact[index]),
        "method_version": pa.array([METHOD_VERSION] * len(rows), pa.string()),
        "adjustments": adjustments_json(explanations, index),
    })


def _labels(labels: tuple[str, ...], which: npt.NDArray[np.int8]) -> pa.Array:
    """labels[i] for each i, taken by pyarrow (not a Python string per importer)."""
    return pa.array(labels, pa.string()).take(pa.array(which.astype(np.int64)))
