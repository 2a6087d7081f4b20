"""Reading an ingest file: its SHA-256, its header, and its rows as text columns.

pyarrow's CSV reader parses a million lines in a fraction of a second and keeps every
field as text, so validation can run column by column. Rows with the wrong number of
fields are skipped by the fast reader without their line numbers, so when there are any,
the stdlib reader walks the file once more to name them.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.lib

from application.ingest.ports import CsvFile, FileProblem


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        return [name.strip() for name in next(csv.reader(stream), [])]


def read_csv_file(path: Path, expected: tuple[str, ...]) -> CsvFile:
    sha256 = file_sha256(path)
    try:
        header = read_header(path)
    except UnicodeDecodeError as error:
        return _unreadable(path, sha256, expected, f"not UTF-8 text ({error.reason})")
    if header != list(expected):
        return _unreadable(path, sha256, expected,
                           f"wrong header: expected {','.join(expected)}; "
                           f"found {','.join(header) or '(empty file)'}")
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
    except (pyarrow.lib.ArrowInvalid, UnicodeDecodeError) as error:
        return _unreadable(path, sha256, expected, f"not a readable CSV file: {error}")
    problems: list[FileProblem] = []
    blank = _blank_rows(table)
    if ragged:
        row_numbers, problems = _locate_rows(path, len(expected))
        table = table.filter(pa.array(~blank))
    else:
        row_numbers = np.arange(2, table.num_rows + 2, dtype=np.int64)[~blank]
        table = table.filter(pa.array(~blank))
    return CsvFile(path, sha256, table, row_numbers, table.num_rows + len(problems), problems)


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
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        next(reader, None)
        row = 1
        for record in reader:
            row += 1
            if not record:
                continue
            if len(record) == width:
                kept.append(row)
            else:
                problems.append(FileProblem(
                    row, "row", f"has {len(record)} fields; the header has {width}"))
    return np.array(kept, dtype=np.int64), problems


def write_rejects(path: Path, reasons: dict[int, list[str]]) -> Path:
    """The rejected rows as they were in the file, each with its row number and reasons,
    in `<name>.rejects.csv` beside it, so they can be fixed and loaded as a new file."""
    target = path.with_name(f"{path.stem}.rejects.csv")
    with path.open(newline="", encoding="utf-8-sig") as source, \
            target.open("w", newline="", encoding="utf-8") as sink:
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
