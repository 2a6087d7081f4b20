"""Which rows a rule's conditions select, for a whole table at once (declarations to
channel, or examined sample lines to backtest on)."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from domain.targeting_rule import RuleConditions, RuleDefinition

Mask = npt.NDArray[np.bool_]


def _flags(array: pa.Array | pa.ChunkedArray) -> Mask:
    filled = pc.fill_null(array, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def condition_mask(rows: pa.Table, conditions: RuleConditions) -> Mask:
    """`rows` has hs_code, origin_country, tier, compliance_class, category, score and
    value_cents columns (null where unknown; an unknown value never matches)."""
    mask = np.ones(rows.num_rows, dtype=bool)
    if conditions.hs_prefixes:
        any_prefix = np.zeros(rows.num_rows, dtype=bool)
        for prefix in conditions.hs_prefixes:
            any_prefix |= _flags(pc.starts_with(rows["hs_code"], prefix))
        mask &= any_prefix
    for column, values in (("origin_country", conditions.origins),
                           ("compliance_class", conditions.compliance_classes),
                           ("category", conditions.risk_categories)):
        if values:
            mask &= _flags(pc.is_in(rows[column], value_set=pa.array(list(values))))
    if conditions.tiers:
        mask &= _flags(pc.is_in(rows["tier"], value_set=pa.array(list(conditions.tiers),
                                                                  pa.int64())))
    if conditions.min_risk_score is not None:
        mask &= _flags(pc.greater_equal(rows["score"], float(conditions.min_risk_score)))
    if conditions.min_value is not None:
        mask &= _flags(pc.greater_equal(rows["value_cents"],
                                        int(conditions.min_value * 100)))
    return mask


def rule_mask(rows: pa.Table, definition: RuleDefinition) -> Mask:
    """The conditions, on the entries dated within the rule's effective dates and lodged
    in its districts (all, when it names none)."""
    mask = condition_mask(rows, definition.conditions)
    dates = rows["entry_date"]
    mask &= _flags(pc.greater_equal(dates, _day(definition.effective_from, dates.type)))
    if definition.effective_to is not None:
        mask &= _flags(pc.less_equal(dates, _day(definition.effective_to, dates.type)))
    if definition.districts:
        mask &= _flags(pc.is_in(rows["district"], value_set=pa.array(list(definition.districts))))
    return mask


def _day(day: date, kind: pa.DataType) -> pa.Scalar:
    return pa.scalar(day.isoformat()) if pa.types.is_string(kind) else pa.scalar(day)
