"""Reading an ingest file: its SHA-256, its header, and its rows as text columns.

pyarrow's CSV reader parses a million lines in a fraction of a second and keeps every
field as text, so validation can run column by column. Rows with the wrong number of
fields are skipped by the fast reader without their line numbers, so when there are any,
the stdlib reader walks the file once more to name them. A file the fast reader refuses
(bytes that are not UTF-8, a field longer than its blocks) is read by the stdlib reader
alone, which names each such field by its row and column: none of the readers' own messages
reaches the user.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.lib

from application.ingest.ports import CsvFile, FileProblem

MAX_FIELD_CHARS = 1000
"""No column of an ingest file holds more than 200 characters: a longer field is refused as
it is read (so a megabyte-long field is one bad row, not a file the reader chokes on)."""
_NO_FIELD_LIMIT = 2**31 - 1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _whole_fields() -> Iterator[None]:
    """The stdlib reader refuses fields over 128 KiB with its own error; read them whole
    so that they are named like any other bad field."""
    previous = csv.field_size_limit(_NO_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _open_text(path: Path) -> TextIO:
    """The file as text; bytes that are not UTF-8 come through as lone surrogates
    (`surrogateescape`), to be named where they are instead of failing the whole read."""
    return path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")


def read_header(path: Path) -> list[str]:
    with _whole_fields(), _open_text(path) as stream:
        return [name.strip() for name in next(csv.reader(stream), [])]


def _not_utf8(value: str) -> str | None:
    """Why a field read with `surrogateescape` is not UTF-8 text, or None if it is."""
    for position, char in enumerate(value, start=1):
        if "\udc80" <= char <= "\udcff":
            return f"not valid UTF-8 (byte 0x{ord(char) - 0xDC00:02x} at position {position})"
    return None


def _field_problem(value: str) -> str | None:
    if len(value) > MAX_FIELD_CHARS:
        return f"field longer than {MAX_FIELD_CHARS:,} characters"
    return _not_utf8(value)


def _shown(names: list[str]) -> str:
    text = ",".join(names)
    return text if len(text) <= 200 else text[:200] + "..."


def read_csv_file(path: Path, expected: tuple[str, ...]) -> CsvFile:
    sha256 = file_sha256(path)
    header = read_header(path)
    for name in header:
        problem = _field_problem(name)
        if problem is not None:
            return _unreadable(path, sha256, expected, problem)
    if header != list(expected):
        return _unreadable(path, sha256, expected,
                           f"wrong header: expected {','.join(expected)}; "
                           f"found {_shown(header) or '(empty file)'}")
    ragged = 0

    def skip_ragged(_row: pacsv.InvalidRow) -> str:
        nonlocal ragged
        ragged += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=list(expected), skip_rows=1),
            # Blank lines are kept (as empty rows, dropped below) so that row numbers
            # stay the file's.
            parse_options=pacsv.ParseOptions(invalid_row_handler=skip_ragged,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(expected, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pyarrow.lib.ArrowInvalid, UnicodeDecodeError):
        # Not UTF-8, or a row longer than the reader's blocks: the stdlib reader names them.
        return _read_row_by_row(path, sha256, expected)
    problems: list[FileProblem] = []
    blank = _blank_rows(table)
    if ragged:
        row_numbers, problems = _locate_rows(path, len(expected))
        table = table.filter(pa.array(~blank))
    else:
        row_numbers = np.arange(2, table.num_rows + 2, dtype=np.int64)[~blank]
        table = table.filter(pa.array(~blank))
    table, row_numbers, too_long = _without_long_fields(table, row_numbers)
    problems = sorted([*problems, *too_long], key=lambda p: (p.row, p.column))
    rows_read = table.num_rows + len({problem.row for problem in problems})
    return CsvFile(path, sha256, table, row_numbers, rows_read, problems)


def _without_long_fields(table: pa.Table, row_numbers: npt.NDArray[np.int64]
                         ) -> tuple[pa.Table, npt.NDArray[np.int64], list[FileProblem]]:
    """The rows with no field longer than MAX_FIELD_CHARS, and a problem for each such field."""
    problems: list[FileProblem] = []
    long = np.zeros(table.num_rows, dtype=bool)
    for name in table.column_names:
        over = np.asarray(pc.greater(pc.utf8_length(table[name]), MAX_FIELD_CHARS).to_numpy(
            zero_copy_only=False), dtype=bool)
        problems.extend(FileProblem(int(row), name,
                                    f"field longer than {MAX_FIELD_CHARS:,} characters")
                        for row in row_numbers[over])
        long |= over
    if not problems:
        return table, row_numbers, []
    return table.filter(pa.array(~long)), row_numbers[~long], problems


def _read_row_by_row(path: Path, sha256: str, expected: tuple[str, ...]) -> CsvFile:
    """Every row through the stdlib reader: the good rows, and a problem naming the row and
    column of each field that is not UTF-8 or is too long, and of each row of the wrong
    width."""
    width = len(expected)
    kept: list[list[str]] = []
    numbers: list[int] = []
    problems: list[FileProblem] = []
    with _whole_fields(), _open_text(path) as stream:
        reader = csv.reader(stream)
        next(reader, None)
        row = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error:
                row += 1
                problems.append(FileProblem(row, "row", "is not a well-formed CSV row"))
                continue
            row += 1
            if not record or not any(record):
                continue
            if len(record) != width:
                problems.append(FileProblem(
                    row, "row", f"has {len(record)} fields; the header has {width}"))
                continue
            found = [FileProblem(row, name, problem) for name, value in zip(
                expected, record, strict=True) if (problem := _field_problem(value))]
            if found:
                problems.extend(found)
                continue
            kept.append(record)
            numbers.append(row)
    table = pa.table({name: pa.array([record[index] for record in kept], pa.string())
                      for index, name in enumerate(expected)})
    return CsvFile(path, sha256, table, np.array(numbers, dtype=np.int64),
                   len(kept) + len({problem.row for problem in problems}), problems)


def _blank_rows(table: pa.Table) -> npt.NDArray[np.bool_]:
    """Rows read from blank lines: every field empty."""
    blank = np.ones(table.num_rows, dtype=bool)
    for column in table.columns:
        blank &= np.asarray(pc.equal(pc.utf8_length(column), 0).to_numpy(
            zero_copy_only=False), dtype=bool)
    return blank


def _unreadable(path: Path, sha256: str, expected: tuple[str, ...], reason: str) -> CsvFile:
    empty = pa.table({name: pa.array([], pa.string()) for name in expected})
    return CsvFile(path, sha256, empty, np.zeros(0, dtype=np.int64), 0,
                   [FileProblem(1, "header", reason)])


def _locate_rows(path: Path, width: int) -> tuple[npt.NDArray[np.int64], list[FileProblem]]:
    """The rows the fast reader kept, and a problem for each it skipped."""
    kept: list[int] = []
    problems: list[FileProblem] = []
    with _whole_fields(), _open_text(path) as stream:
        reader = csv.reader(stream)
        next(reader, None)
        row = 1
        for record in reader:
            row += 1
            if not record:
                continue
            if len(record) == width:
                if any(record):  # a row of empty fields is a blank row, as in the table
                    kept.append(row)
            else:
                problems.append(FileProblem(
                    row, "row", f"has {len(record)} fields; the header has {width}"))
    return np.array(kept, dtype=np.int64), problems


def write_rejects(path: Path, reasons: dict[int, list[str]]) -> Path:
    """The rejected rows as they were in the file, each with its row number and reasons,
    in `<name>.rejects.csv` beside it, so they can be fixed and loaded as a new file."""
    target = path.with_name(f"{path.stem}.rejects.csv")
    # Bytes that are not UTF-8 are written back as they were, to be fixed in the rejects.
    with _whole_fields(), _open_text(path) as source, \
            target.open("w", newline="", encoding="utf-8", errors="surrogateescape") as sink:
        reader = csv.reader(source)
        writer = csv.writer(sink)
        header = next(reader, [])
        writer.writerow(["row", "errors", *header])
        if 1 in reasons:
            return target
        for row, record in enumerate(reader, start=2):
            if row in reasons:
                writer.writerow([row, "; ".join(reasons[row]), *record])
    return target
