"""Validating a whole ingest file before anything is written: every bad row is named with
its row number, its column and the reason, and the good rows come out in their stored form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from application.ingest.column_checks import Checked
from application.ingest.ports import CsvFile, RowError
from application.ingest.schemas import FileSchema

KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class ValidatedFile:
    rows: pa.Table
    """The good rows, every column in its stored form."""
    row_numbers: npt.NDArray[np.int64]
    """The file row of each good row."""
    rows_read: int
    errors: list[RowError]

    @property
    def rejected_rows(self) -> list[int]:
        """The data rows refused (a problem of the header or the whole file, row 1, is
        not a rejected row)."""
        return sorted({error.row for error in self.errors if error.row > 1})


def row_keys(table: pa.Table, key: tuple[str, ...]) -> pa.Array | pa.ChunkedArray:
    """One text key per row, the key columns joined."""
    parts = [pc.cast(table[name], pa.string()) for name in key]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, KEY_SEPARATOR)


def validate(csv_file: CsvFile, schema: FileSchema, *,
             known_importers: pa.Array | None = None,
             loaded_keys: pa.Array | None = None) -> ValidatedFile:
    """`known_importers`: the registered importer numbers (rows naming others are refused);
    `loaded_keys`: keys already loaded by earlier batches (rows repeating them are refused)."""
    errors = list(csv_file.problems)
    if csv_file.header_is_wrong:
        return ValidatedFile(csv_file.columns, csv_file.row_numbers, 0, errors)
    if csv_file.rows_read == 0:
        # A header alone (or blank lines) is no batch: refused, so nothing is recorded.
        return ValidatedFile(csv_file.columns, csv_file.row_numbers, 0, [RowError(
            1, "file", "no data rows: the file has only its header")])
    raw = csv_file.columns
    numbers = csv_file.row_numbers
    bad = np.zeros(raw.num_rows, dtype=bool)
    checked: dict[str, Checked] = {}
    for name, check in schema.checks.items():
        column = check(raw[name])
        checked[name] = column
        column_bad = np.zeros(raw.num_rows, dtype=bool)
        for mask, reason in column.failures:
            hits = _indices(mask) if not column_bad.all() else np.zeros(0, dtype=np.int64)
            hits = hits[~column_bad[hits]]
            column_bad[hits] = True
            errors.extend(_row_errors(raw[name], hits, numbers, name, reason))
        bad |= column_bad
    for name, mask, reason in schema.cross_checks(checked):
        hits = _indices(mask)
        hits = hits[~bad[hits]]
        bad[hits] = True
        errors.extend(RowError(int(numbers[i]), name, reason) for i in hits)
    stored = pa.table({name: column.values for name, column in checked.items()})
    if known_importers is not None and "importer_number" in stored.column_names:
        unknown = _indices(pc.invert(pc.is_in(stored["importer_number"],
                                              value_set=known_importers)))
        unknown = unknown[~bad[unknown]]
        bad[unknown] = True
        errors.extend(_row_errors(stored["importer_number"], unknown, numbers,
                                  "importer_number", "unknown importer (not registered)"))
    keys = row_keys(stored, schema.key)
    bad |= _duplicates(keys, bad, numbers, schema, errors)
    if loaded_keys is not None and len(loaded_keys):
        again = _indices(pc.is_in(keys, value_set=loaded_keys))
        again = again[~bad[again]]
        bad[again] = True
        errors.extend(RowError(int(numbers[i]), ",".join(schema.key),
                               "duplicate key: already loaded by an earlier import")
                      for i in again)
    good = ~bad
    errors.sort(key=lambda error: (error.row, error.column))
    return ValidatedFile(stored.filter(pa.array(good)), numbers[good],
                         csv_file.rows_read, errors)


def _indices(mask: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    flags = pc.fill_null(mask, False)
    if isinstance(flags, pa.ChunkedArray):
        flags = flags.combine_chunks()
    return np.flatnonzero(flags.to_numpy(zero_copy_only=False)).astype(np.int64)


def _row_errors(column: pa.Array | pa.ChunkedArray, hits: npt.NDArray[np.int64],
                numbers: npt.NDArray[np.int64], name: str, reason: str) -> list[RowError]:
    if not len(hits):
        return []
    values = column.take(pa.array(hits)).to_pylist()
    return [RowError(int(numbers[i]), name, f"{reason}: {value!r}")
            for i, value in zip(hits, values, strict=True)]


def _duplicates(keys: pa.Array | pa.ChunkedArray, bad: npt.NDArray[np.bool_],
                numbers: npt.NDArray[np.int64], schema: FileSchema,
                errors: list[RowError]) -> npt.NDArray[np.bool_]:
    """Every row repeating the key of an earlier good row of the file."""
    repeated = np.zeros(len(bad), dtype=bool)
    if len(pc.unique(keys)) == len(keys):
        return repeated  # the usual case, found by one hash pass in C++
    first_seen: dict[str, int] = {}
    for index, key in enumerate(keys.to_pylist()):
        if bad[index]:
            continue
        first = first_seen.setdefault(key, index)
        if first != index:
            repeated[index] = True
            errors.append(RowError(
                int(numbers[index]), ",".join(schema.key),
                f"duplicate key {key.replace(KEY_SEPARATOR, ',')!r}: "
                f"same as row {int(numbers[first])}"))
    return repeated
