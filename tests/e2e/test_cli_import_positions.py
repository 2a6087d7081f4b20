"""Where an ingest file is wrong, said at its real row and column in plain words: bytes that
are not UTF-8 (early or late in the file), a field of megabytes, a file with no data rows,
a trade period or an exam or entry date after today; the errors of the human output on
stderr (the `--json` report on stdout), and the rejects file named as the README says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from domain.countries import ISO_3166_ALPHA2
from domain.reference import INDUSTRIES
from tests.e2e.cli import Cli, Result
from tests.e2e.ingest_files import (
    ACCOUNTS_HEADER,
    SAMPLES_HEADER,
    TRADE_HEADER,
    count,
    event_count,
    write_csv,
)

README = Path(__file__).resolve().parents[2] / "README.md"
ACME, BETA, GAMMA = "12-0000001AA", "12-0000002AA", "12-0000003AA"
ACCOUNTS = [
    (ACME, "Acme Imports Ltd", "11", "61", "2020-01-15"),
    (BETA, "Beta Trading", "05", "84", "2021-06-30"),
    (GAMMA, "Gamma Pharma", "42", "30", "2022-03-01"),
]
ENTRIES_HEADER = ("entry_number", "importer_number", "entry_date", "district", "hs_code",
                  "origin_country", "entered_value", "duty")
INTERNALS = ("straddl", "block size", "ArrowInvalid", "pyarrow", "CSV conversion",
             "field larger than field limit", "codec can't decode", "Traceback")


def _line(*fields: str) -> bytes:
    return (",".join(fields) + "\n").encode()


def _import(cli: Cli, kind: str, path: Path, *options: str) -> tuple[Result, dict[str, Any]]:
    result = cli("import", kind, str(path), *options, "--json")
    assert not any(word in result.out + result.err for word in INTERNALS), result
    return result, result.json()


def _errors(report: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["reason"]) for e in report["errors"]]


def _nothing_recorded(cli: Cli) -> None:
    assert event_count(cli) == 0
    assert count(cli, "ingest_batches") == 0


def _today() -> datetime:
    return datetime.now(UTC)


def _registered(cli: Cli, tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "register.csv", ACCOUNTS_HEADER, ACCOUNTS)
    cli.ok("import", "accounts", str(accounts))


def test_a_byte_that_is_not_utf8_in_row_2_is_named_at_row_2_and_its_column(
        cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(_line(*ACCOUNTS_HEADER)
                     + b"12-0000001AA,Acme Im\xffports,11,61,2020-01-15\n"
                     + _line(*ACCOUNTS[1]))

    result, report = _import(cli, "accounts", path)

    assert result.code == 2, result.err
    assert report["status"] == "rejected"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (2, 0, 1)
    assert _errors(report) == [
        (2, "legal_name", "not valid UTF-8 (byte 0xff at position 8)")]
    _nothing_recorded(cli)

    human = cli("import", "accounts", str(path))

    assert human.code == 2
    assert "row 2, column legal_name: not valid UTF-8 (byte 0xff at position 8)" in human.err
    assert "row 2" not in human.out
    assert "REJECTED, nothing loaded" in human.out

    skipped, report = _import(cli, "accounts", path, "--skip-invalid")

    assert skipped.code == 0, skipped.err
    assert (report["status"], report["rows_loaded"], report["rows_rejected"]) == (
        "loaded", 1, 1)
    # The rejected row as it was in the file, its byte included, to be fixed there.
    rejects = (tmp_path / "accounts.rejects.csv").read_bytes().splitlines()
    assert rejects[1] == (b"2,legal_name: not valid UTF-8 (byte 0xff at position 8),"
                          b"12-0000001AA,Acme Im\xffports,11,61,2020-01-15")


def test_a_byte_that_is_not_utf8_in_row_150002_is_named_there(cli: Cli,
                                                               tmp_path: Path) -> None:
    _registered(cli, tmp_path)
    chapters = sorted(INDUSTRIES)
    countries = sorted(ISO_3166_ALPHA2)
    periods = [f"{year}-{month:02d}" for year in (2023, 2024, 2025) for month in range(1, 13)]
    lines = [_line(*TRADE_HEADER)]
    for index in range(150_000):  # rows 2 to 150,001, each with its own key
        chapter = chapters[index % len(chapters)]
        country = countries[index // len(chapters) % len(countries)]
        period = periods[index // (len(chapters) * len(countries))]
        lines.append(_line(ACME, period, "1", "2", "100.00", "5.00", chapter, country))
    lines.append(_line(ACME, "2025-12", "1", "2", "100.00", "5.00", "61").rstrip(b"\n")
                 + b",D\xe9\n")  # row 150,002: Latin-1, not UTF-8
    path = tmp_path / "trade.csv"
    path.write_bytes(b"".join(lines))
    batches = count(cli, "ingest_batches")

    result, report = _import(cli, "trade", path)

    assert result.code == 2, result.err
    assert (report["status"], report["rows_read"], report["rows_loaded"]) == (
        "rejected", 150_001, 0)
    assert _errors(report) == [
        (150_002, "origin_country", "not valid UTF-8 (byte 0xe9 at position 2)")]
    assert count(cli, "trade_activity") == 0
    assert count(cli, "ingest_batches") == batches


def test_a_field_of_10_mb_is_a_field_too_long_at_its_row_and_column(
        cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(_line(*ACCOUNTS_HEADER) + _line(*ACCOUNTS[0])
                     + _line(BETA, "B" * 10_000_000, "05", "84", "2021-06-30")
                     + _line(*ACCOUNTS[2]))

    result, report = _import(cli, "accounts", path)

    assert result.code == 2, result.err
    assert _errors(report) == [(3, "legal_name", "field longer than 1,000 characters")]
    _nothing_recorded(cli)

    human = cli("import", "accounts", str(path), "--skip-invalid")

    assert human.code == 0, human.err
    assert "row 3, column legal_name: field longer than 1,000 characters" in human.err
    assert not any(word in human.out + human.err for word in INTERNALS), human
    assert "rows read 3, loaded 2, rejected 1" in human.out
    rejects = (tmp_path / "accounts.rejects.csv").read_text().splitlines()
    assert rejects[1] == ('3,"legal_name: field longer than 1,000 characters",'
                          f"{BETA},{'B' * 10_000_000},05,84,2021-06-30")


def test_a_long_field_the_fast_reader_can_hold_is_refused_the_same_way(
        cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER, [
        ACCOUNTS[0], (BETA, "Beta", "05", "84" + " " * 5000, "2021-06-30")])

    result, report = _import(cli, "accounts", path)

    assert result.code == 2, result.err
    assert _errors(report) == [(3, "industry", "field longer than 1,000 characters")]


def test_a_file_with_only_its_header_is_refused_and_records_no_batch(
        cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER, [])
    blank = tmp_path / "blank.csv"
    blank.write_text(",".join(ACCOUNTS_HEADER) + "\n\n\n")

    for file in (path, blank):
        for options in ((), ("--skip-invalid",), ("--dry-run",)):
            result, report = _import(cli, "accounts", file, *options)
            assert result.code == 2, (file, options, result.err)
            assert report["status"] in ("rejected", "validated")
            assert _errors(report) == [
                (1, "file", "no data rows: the file has only its header")]
            assert (report["rows_read"], report["rows_rejected"]) == (0, 0)
    human = cli("import", "accounts", str(path))
    assert human.code == 2
    assert "no data rows" in human.err
    _nothing_recorded(cli)


def test_a_trade_period_after_the_current_month_is_refused(cli: Cli, tmp_path: Path) -> None:
    _registered(cli, tmp_path)
    now = _today()
    month = f"{now.year:04d}-{now.month:02d}"
    following = (now.replace(day=28) + timedelta(days=7)).strftime("%Y-%m")
    path = write_csv(tmp_path / "trade.csv", TRADE_HEADER, [
        (ACME, month, "1", "1", "10", "0", "61", "CN"),
        (ACME, "2099-01", "1", "1", "10", "0", "61", "CN"),
        (BETA, following, "1", "1", "10", "0", "84", "DE"),
        (BETA, "2025-12", "1", "1", "10", "0", "84", "DE"),
    ])

    result, report = _import(cli, "trade", path)

    assert result.code == 2, result.err
    assert _errors(report) == [
        (3, "period", f"is after the current month ({month}): '2099-01'"),
        (4, "period", f"is after the current month ({month}): '{following}'")]
    assert count(cli, "trade_activity") == 0


def test_an_exam_or_entry_date_of_tomorrow_is_refused(cli: Cli, tmp_path: Path) -> None:
    _registered(cli, tmp_path)
    today = _today().date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    samples = write_csv(tmp_path / "samples.csv", SAMPLES_HEADER, [
        ("E-1", "1", ACME, today.isoformat(), "610910", "CN", "100", "random", "false", "",
         "0"),
        ("E-2", "1", ACME, tomorrow, "610910", "CN", "100", "random", "false", "", "0"),
    ])
    entries = write_csv(tmp_path / "entries.csv", ENTRIES_HEADER, [
        ("D-1", ACME, tomorrow, "11", "6109100000", "CN", "100.00", "5.00"),
        ("D-2", ACME, today.isoformat(), "11", "6109100000", "CN", "100.00", "5.00"),
    ])

    exams, report = _import(cli, "samples", samples)

    assert exams.code == 2, exams.err
    assert _errors(report) == [
        (3, "exam_date", f"is after today ({today.isoformat()}): '{tomorrow}'")]

    lodged, report = _import(cli, "entries", entries)

    assert lodged.code == 2, lodged.err
    assert _errors(report) == [
        (2, "entry_date", f"is after today ({today.isoformat()}): '{tomorrow}'")]


def test_the_rejects_file_is_named_as_the_readme_says(cli: Cli, tmp_path: Path) -> None:
    readme = README.read_text()
    named = re.search(r"`(<name>\.rejects\.csv)` beside the input \(`trade-2026\.csv` → "
                      r"`trade-2026\.rejects\.csv`\)", readme)
    assert named, "the README names the rejects file"
    path = write_csv(tmp_path / "trade-2026.csv", ACCOUNTS_HEADER, [
        ACCOUNTS[0], (BETA, "Beta", "43", "84", "2021-06-30")])

    result, report = _import(cli, "accounts", path, "--skip-invalid")

    assert result.code == 0, result.err
    assert report["rejects_file"] == str(tmp_path / "trade-2026.rejects.csv")
    assert (tmp_path / "trade-2026.rejects.csv").exists()
    help_text = cli.ok("import", "accounts", "--help").out
    assert "<name>.rejects.csv" in help_text
