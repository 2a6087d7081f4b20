"""A run's adjustments (domain.risk_scoring.Adjustments) in the two forms it stores them,
made a column at a time rather than a Factor object at a time:

- `adjustments_json`: the scores table's `adjustments` column, each importer's factors as
  the JSON msgspec writes for its list of Factor objects (`[{"factor":…,"value":…,
  "effect":1.25}]`, `[]` for none), which application.risk.explained_rows decodes;
- `factor_lists`: the RiskAssessed events' `explanation` column, each importer's factors as
  a list of objects of texts (the effect as the text of a six-place Decimal), the form the
  store encodes column-wise (infrastructure.column_events).

A policy has a handful of distinct factor names, values and effects, so each is encoded
once by msgspec itself and taken per entry: the bytes are those of encoding each object.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from application.risk.fixed_texts import fixed_texts
from domain.risk_scoring import Adjustments


def adjustments_json(adjusted: Adjustments, importers: npt.NDArray[np.int64]) -> pa.Array:
    """The JSON of each of `importers`' factors (all listed), in that order."""
    entries, counts = adjusted.entries(importers)
    objects = pc.binary_join_element_wise(
        '{"factor":', _encoded(adjusted.names, adjusted.name[entries]),
        ',"value":', _encoded_values(adjusted.value, entries),
        ',"effect":', _encoded_floats(adjusted.effect[entries]), "}", "")
    return _lists(objects, counts, "[", "]")


def factor_lists(adjusted: Adjustments, importers: npt.NDArray[np.int64]) -> pa.ListArray:
    """Each of `importers`' factors (all listed) as a list of objects of texts: effect (a
    six-place Decimal's text), factor and value."""
    entries, counts = adjusted.entries(importers)
    items = pa.StructArray.from_arrays(
        [fixed_texts(adjusted.effect[entries], 6),
         pa.array(adjusted.names, pa.string()).take(pa.array(adjusted.name[entries])),
         pa.array([adjusted.value[e] for e in entries.tolist()], pa.string())],
        names=["effect", "factor", "value"])
    return pa.ListArray.from_arrays(pa.array(_offsets(counts)), items)


def _offsets(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _lists(objects: pa.Array, counts: npt.NDArray[np.int64], start: str, end: str
           ) -> pa.Array:
    lists = pa.ListArray.from_arrays(pa.array(_offsets(counts)), objects)
    return pc.binary_join_element_wise(start, pc.binary_join(lists, ","), end, "")


def _encoded(texts: tuple[str, ...], which: npt.NDArray[np.int64]) -> pa.Array:
    """msgspec's JSON of texts[i] for each i in `which`."""
    spelt = pa.array([msgspec.json.encode(text).decode() for text in texts], pa.string())
    return spelt.take(pa.array(which, pa.int64()))


def _encoded_values(values: list[str], entries: npt.NDArray[np.int64]) -> pa.Array:
    """msgspec's JSON of each entry's value, each distinct value encoded once."""
    chosen = [values[e] for e in entries.tolist()]
    distinct: dict[str, int] = {}
    which = [distinct.setdefault(value, len(distinct)) for value in chosen]
    return _encoded(tuple(distinct), np.array(which, dtype=np.int64))


def _encoded_floats(effects: npt.NDArray[np.float64]) -> pa.Array:
    """msgspec's JSON of each float, each distinct value encoded once."""
    distinct, which = np.unique(effects, return_inverse=True)
    spelt: list[Any] = [msgspec.json.encode(float(each)).decode() for each in distinct.tolist()]
    return pa.array(spelt, pa.string()).take(pa.array(which.reshape(-1).astype(np.int64)))
