"""Column helpers of a risk run: importers' positions and labels' codes looked up
vectorised, columns as numpy arrays, and ids in the events table's order."""

from __future__ import annotations

from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


def id_order(ids: list[UUID]) -> list[int]:
    """The positions of `ids` in the order of their bytes (PostgreSQL's order of uuids),
    sorted by numpy on their two halves."""
    if not ids:
        return []
    halves = np.frombuffer(b"".join([each.bytes for each in ids]), dtype=">u8").reshape(-1, 2)
    order: list[int] = np.lexsort((halves[:, 1], halves[:, 0])).tolist()
    return order


def positions(column: pa.ChunkedArray, position: dict[str, int]) -> npt.NDArray[np.int64]:
    """Each row's importer position (-1 for an importer not registered), vectorised."""
    if not len(column):
        return np.zeros(0, dtype=np.int64)
    found = pc.index_in(column, value_set=pa.array(list(position), pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def codes(column: pa.ChunkedArray, labels: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Each row's label as its index in `labels` (-1 for one not among them)."""
    found = pc.index_in(column, value_set=pa.array(labels, pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def floats(column: pa.ChunkedArray) -> npt.NDArray[np.float64]:
    return np.asarray(pc.fill_null(pc.cast(column, pa.float64()), 0).to_numpy(),
                      dtype=np.float64)


def ints(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return np.asarray(pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy(), dtype=np.int64)
