"""`compliance import accounts|trade|samples` through the real executable: good files load
once, a repeated file loads nothing, every bad row is named by row, column and reason, a
file with a bad row loads nothing unless --skip-invalid, and --dry-run writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.cli import Cli, Result
from tests.e2e.ingest_files import (
    ACCOUNTS_HEADER,
    SAMPLES_HEADER,
    TRADE_HEADER,
    count,
    event_count,
    query,
    read_csv,
    run_together,
    write_csv,
)

ACME, BETA, GAMMA, DELTA = "12-0000001AA", "12-0000002AA", "12-0000003AA", "12-0000004AA"
UNREGISTERED = "12-0000009ZZ"
ACCOUNTS = [
    (ACME, "Acme Imports Ltd", "11", "61", "2020-01-15"),
    (BETA, "Beta Trading", "5", "84", "2021-06-30"),
    (GAMMA, "Gamma Pharma", "42", "30", "2022-03-01"),
]
TRADE = [
    (ACME, "2026-01", "10", "25", "150000.50", "7500.25", "61", "CN"),
    (ACME, "2026-02", "4", "4", "20000", "1000", "61", "cn"),
    (BETA, "2026-01", "1", "3", "999.99", "0", "84", "DE"),
]
SAMPLES = [
    ("E-1001", "1", ACME, "2026-03-01", "6109.10.00", "CN", "1200.00", "random", "false",
     "", "0"),
    ("E-1001", "2", ACME, "2026-03-01", "610910", "CN", "800", "random", "true",
     "classification", "45.50"),
    ("E-1002", "1", BETA, "2026-04-02", "8471300000", "DE", "5000", "targeted", "yes",
     "Value", "120"),
]

Expected = list[tuple[int, str, str]]
"""(row, column, words the reason must contain) per error, in the report's order."""


def _future_day() -> str:
    return (datetime.now(UTC).date() + timedelta(days=400)).isoformat()


def _import(cli: Cli, kind: str, path: Path, *options: str) -> tuple[Result, dict[str, Any]]:
    result = cli(*("import", kind, str(path), *options, "--json"))
    return result, result.json()


def _assert_errors(report: dict[str, Any], expected: Expected) -> None:
    found = [(e["row"], e["column"]) for e in report["errors"]]
    assert found == [(row, column) for row, column, _ in expected], report["errors"]
    for error, (_, _, words) in zip(report["errors"], expected, strict=True):
        assert words in error["reason"], error


def test_the_register_loads_once_and_a_known_importer_is_never_overwritten(
        cli: Cli, tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER, ACCOUNTS)

    result, report = _import(cli, "accounts", accounts, "--actor", "system:nightly")

    assert result.code == 0, result.err
    assert report["status"] == "loaded"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (3, 3, 0)
    assert (report["errors"], report["changes"], report["rows_unchanged"]) == ([], [], 0)
    assert report["file_name"] == "accounts.csv"
    assert event_count(cli) == 3 + 1  # three registrations and the batch's provenance
    assert query(cli, "SELECT kind, file_name, rows_read, rows_loaded, actor, sha256 "
                      "FROM {ingest_batches}") == [
        ("accounts", "accounts.csv", 3, 3, "system:nightly", report["sha256"])]

    update = write_csv(tmp_path / "update.csv", ACCOUNTS_HEADER, [
        ACCOUNTS[0],
        (BETA, "Beta Trading GmbH", "05", "84", "2021-06-30"),
        (GAMMA.lower(), "Gamma Pharma", "42", "30", "2022-03-01"),
        (DELTA, "Delta Foods", "7", "02", "2023-09-09"),
    ])

    again, changed = run_together(cli, ("import", "accounts", str(accounts), "--json"),
                                  ("import", "accounts", str(update), "--json"))

    assert again.code == 0, again.err
    repeat = again.json()
    assert repeat["status"] == "already_imported"
    assert (repeat["rows_loaded"], repeat["batch_id"]) == (0, report["batch_id"])
    assert changed.code == 0, changed.err
    assert changed.json()["status"] == "loaded"
    assert (changed.json()["rows_read"], changed.json()["rows_loaded"],
            changed.json()["rows_unchanged"]) == (4, 1, 2)
    assert changed.json()["changes"] == [{"row": 3, "importer_number": BETA, "differences": {
        "legal_name": ["Beta Trading", "Beta Trading GmbH"]}}]
    # The update's registration and provenance; the repeated file recorded nothing.
    assert event_count(cli) == 4 + 1 + 1
    assert count(cli, "ingest_batches") == 2
    beta = cli.ok("accounts", "show", BETA, "--json").json()
    assert (beta["legal_name"], beta["district"], beta["industry"], beta["version"]) == (
        "Beta Trading", "05", "84", 1)


def test_every_bad_register_row_is_named_and_nothing_is_loaded(
        cli: Cli, tmp_path: Path) -> None:
    future = _future_day()
    bad = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER, [
        (ACME, "Acme Imports Ltd", "11", "61", "2020-01-15"),
        (BETA, "Beta Trading", "11", "61"),
        (GAMMA, "Gamma", "11", "61", "2020-1-5"),
        (DELTA, "Delta", "11", "61", future),
        ("12-0000005AA", "Epsilon", "43", "61", "2020-01-01"),
        ("12-0000006AA", "Zeta", "11", "77", "2020-01-01"),
        (ACME, "Acme again", "11", "61", "2020-01-15"),
        ("nope", "Eta", "11", "61", "2020-01-01"),
        ("12-0000008AA", "  ", "11", "61", "2020-01-01"),
        ("12-0000009AA", "Theta", "11", "61", "15/01/2020"),
    ])
    header = write_csv(tmp_path / "header.csv",
                       ("importer", "legal_name", "district", "industry", "registered_on"),
                       ACCOUNTS)
    impossible = write_csv(tmp_path / "calendar.csv", ACCOUNTS_HEADER, [
        (ACME, "Acme Imports Ltd", "11", "61", "2021-02-29"),
        (BETA, "Beta Trading", "11", "61", "2020-04-31"),
        (GAMMA, "Gamma Pharma", "11", "61", "2020-02-29"),
    ])

    rows, wrong, calendar = run_together(
        cli, *(("import", "accounts", str(path), "--json")
               for path in (bad, header, impossible)))

    assert rows.code == 2, rows.err
    report = rows.json()
    assert report["status"] == "rejected"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (10, 0, 9)
    _assert_errors(report, [
        (3, "row", "has 4 fields; the header has 5"),
        (4, "registered_on", "not an ISO date YYYY-MM-DD: '2020-1-5'"),
        (5, "registered_on", "is after today ("),
        (6, "district", "not one of the 42 district codes 01-42: '43'"),
        (7, "industry", "not an HS chapter 01-97: '77'"),
        (8, "importer_number", f"duplicate key '{ACME}': same as row 2"),
        (9, "importer_number", "not an importer number"),
        (10, "legal_name", "is empty"),
        (11, "registered_on", "not an ISO date YYYY-MM-DD: '15/01/2020'"),
    ])
    assert report["errors"][2]["reason"].endswith(f"{future!r}")

    assert wrong.code == 2, wrong.err
    assert (wrong.json()["status"], wrong.json()["rows_loaded"]) == ("rejected", 0)
    _assert_errors(wrong.json(), [
        (1, "header", "wrong header: expected importer_number,legal_name")])
    assert "found importer,legal_name" in wrong.json()["errors"][0]["reason"]
    assert event_count(cli) == 0
    assert count(cli, "ingest_batches") == 0

    # A well-shaped day that is not in the calendar is a bad row like any other.
    assert calendar.code == 2, calendar.err
    _assert_errors(calendar.json(), [
        (2, "registered_on", "not an ISO date YYYY-MM-DD: '2021-02-29'"),
        (3, "registered_on", "not an ISO date YYYY-MM-DD: '2020-04-31'")])
    assert event_count(cli) == 0


def test_a_blank_line_does_not_shift_the_row_named_or_written_to_the_rejects_file(
        sqlite_cli: Cli, tmp_path: Path) -> None:
    """Reading the file is the same for both stores, so SQLite alone is enough here."""
    path = tmp_path / "accounts.csv"
    bad = (BETA, "Beta Trading", "43", "84", "2021-06-30")
    path.write_text("\n".join([",".join(ACCOUNTS_HEADER), ",".join(ACCOUNTS[0]), "",
                               ",".join(bad), ",".join(ACCOUNTS[2])]) + "\n")

    result, report = _import(sqlite_cli, "accounts", path, "--skip-invalid")

    assert result.code == 0, result.err
    assert (report["rows_loaded"], report["rows_rejected"]) == (2, 1)
    # The file's fourth line, as a file with a ragged row elsewhere would name it too.
    _assert_errors(report, [(4, "district", "not one of the 42 district codes 01-42: '43'")])
    rejects = read_csv(tmp_path / "accounts.rejects.csv")
    assert rejects[1:] == [["4", "district: not one of the 42 district codes 01-42: '43'",
                            *bad]]


TRADE_KEY = "importer_number,period,hs_chapter,origin_country"
BAD_TRADE = [  # row 2 onwards
    (BETA, "2026-02", "1", "1", "100.00", "5.00", "84", "DE"),
    (BETA, "2026-03", "1", "1", "-5.00", "0", "84", "DE"),
    (BETA, "2026-04", "1", "1", "10", "1.005", "84", "DE"),
    (BETA, "2026-05", "1", "1", "abc", "0", "84", "DE"),
    (BETA, "2026-06", "1", "1", "10", "0", "84", "XX"),
    (BETA, "2026-13", "1", "1", "10", "0", "84", "DE"),
    (UNREGISTERED, "2026-02", "1", "1", "10", "0", "84", "DE"),
    (BETA, "2026-07", "1", "1", "10", "0", "77", "DE"),
    (BETA, "2026-02", "2", "2", "20", "0", "84", "de"),
    (ACME, "2026-01", "1", "1", "10", "0", "61", "CN"),
    (BETA, "2026-08", "5", "2", "10", "0", "84", "DE"),
    (BETA, "2026-09", "1", "1", "10", "0", "84"),
    (GAMMA, "2026-03", "2", "2", "50.5", "0", "30", "US"),
]
BAD_TRADE_ERRORS: Expected = [
    (3, "entered_value", "must not be negative: '-5.00'"),
    (4, "duty_paid", "has more than 2 decimal places: '1.005'"),
    (5, "entered_value", "not a decimal amount: 'abc'"),
    (6, "origin_country", "not an ISO 3166 alpha-2 country code: 'XX'"),
    (7, "period", "not a period YYYY-MM: '2026-13'"),
    (8, "importer_number", f"unknown importer (not registered): '{UNREGISTERED}'"),
    (9, "hs_chapter", "not an HS chapter 01-97: '77'"),
    (10, TRADE_KEY, "same as row 2"),
    (11, TRADE_KEY, "already loaded by an earlier import"),
    (12, "lines", "fewer lines than entries"),
    (13, "row", "has 7 fields; the header has 8"),
]
_DAY = "2026-05-05"
BAD_SAMPLES = [  # row 2 onwards
    ("E-2001", "1", GAMMA, _DAY, "300490", "US", "100", "random", "false", "", "0"),
    ("E-2002", "1", GAMMA, _DAY, "300490", "US", "100", "random", "true", "", "5"),
    ("E-2003", "1", GAMMA, _DAY, "300490", "US", "100", "random", "false", "origin", "0"),
    ("E-2004", "1", GAMMA, _DAY, "300490", "US", "100", "sometimes", "false", "", "0"),
    ("E-2005", "1", GAMMA, _DAY, "12AB56", "US", "100", "random", "false", "", "0"),
    ("E-2006", "1", GAMMA, _DAY, "770000", "US", "100", "random", "false", "", "0"),
    ("E-2007", "1", UNREGISTERED, _DAY, "300490", "US", "100", "random", "false", "", "0"),
    ("E-2001", "1", GAMMA, _DAY, "300490", "US", "90", "random", "false", "", "0"),
    ("E-1001", "1", ACME, _DAY, "610910", "CN", "100", "random", "false", "", "0"),
    ("E-2008", "1", GAMMA, _DAY, "300490", "US", "100", "random", "false", "", "7"),
    ("E-2009", "1", GAMMA, _future_day(), "300490", "US", "100", "random", "false", "", "0"),
    ("E-2010", "1", GAMMA, _DAY, "300490", "US", "100", "random", "maybe", "", "0"),
    ("E-2011", "1", GAMMA, _DAY, "300490", "US", "100", "random", "true", "colour", "1"),
    ("E-2012", "2", GAMMA, _DAY, "3004.90", "us", "100.5", "targeted", "TRUE", "IPR", "9"),
]
BAD_SAMPLES_ERRORS: Expected = [
    (3, "discrepancy_type", "is empty, but the line has a discrepancy"),
    (4, "discrepancy_type", "is given, but the line has no discrepancy"),
    (5, "selection", "expected one of: random, targeted: 'sometimes'"),
    (6, "hs_code", "not an HS code of 6 to 10 digits: '12AB56'"),
    (7, "hs_code", "does not start with an HS chapter 01-97: '770000'"),
    (8, "importer_number", "unknown importer (not registered)"),
    (9, "entry_number,line", "duplicate key 'E-2001,1': same as row 2"),
    (10, "entry_number,line", "already loaded by an earlier import"),
    (11, "revenue_loss", "is above 0, but the line has no discrepancy"),
    (12, "exam_date", "is after today"),
    (13, "discrepancy", "expected true or false: 'maybe'"),
    (14, "discrepancy_type", "expected one of: value, classification"),
]


def test_trade_and_samples_load_and_a_file_with_bad_rows_loads_only_when_told_to_skip_them(
        cli: Cli, tmp_path: Path) -> None:
    report = cli.ok("import", "accounts", str(write_csv(tmp_path / "accounts.csv",
                                                        ACCOUNTS_HEADER, ACCOUNTS)),
                    "--json").json()
    assert (report["status"], report["rows_loaded"]) == ("loaded", len(ACCOUNTS))
    trade = write_csv(tmp_path / "trade.csv", TRADE_HEADER, TRADE)
    samples = write_csv(tmp_path / "samples.csv", SAMPLES_HEADER, SAMPLES)

    dry, loaded = run_together(cli, ("import", "trade", str(trade), "--dry-run", "--json"),
                               ("import", "samples", str(samples), "--json"))

    assert dry.code == 0, dry.err
    assert (dry.json()["status"], dry.json()["rows_read"], dry.json()["rows_loaded"],
            dry.json()["errors"]) == ("validated", 3, 0, [])
    assert count(cli, "trade_activity") == 0
    assert loaded.code == 0, loaded.err
    assert (loaded.json()["status"], loaded.json()["rows_read"],
            loaded.json()["rows_loaded"]) == ("loaded", 3, 3)
    assert query(cli, "SELECT entry_number, line, hs_code, selection, discrepancy_type, "
                      "entered_value_cents, revenue_loss_cents FROM {compliance_samples} "
                      "ORDER BY entry_number, line") == [
        ("E-1001", 1, "61091000", "random", None, 120000, 0),
        ("E-1001", 2, "610910", "random", "classification", 80000, 4550),
        ("E-1002", 1, "8471300000", "targeted", "value", 500000, 12000)]
    assert count(cli, "ingest_batches") == 2

    summary = cli.ok("import", "trade", str(trade))

    assert "trade trade.csv: loaded" in summary.out
    assert "rows read 3, loaded 3, rejected 0" in summary.out
    assert query(cli, "SELECT importer_number, period, origin_country, entries, lines, "
                      "entered_value_cents, duty_paid_cents FROM {trade_activity} "
                      "ORDER BY importer_number, period") == [
        (ACME, "2026-01", "CN", 10, 25, 15000050, 750025),
        (ACME, "2026-02", "CN", 4, 4, 2000000, 100000),
        (BETA, "2026-01", "DE", 1, 3, 99999, 0)]

    bad_trade = write_csv(tmp_path / "trade_bad.csv", TRADE_HEADER, BAD_TRADE)
    bad_samples = write_csv(tmp_path / "samples_bad.csv", SAMPLES_HEADER, BAD_SAMPLES)
    refused, skipped_samples = run_together(
        cli, ("import", "trade", str(bad_trade), "--json"),
        ("import", "samples", str(bad_samples), "--skip-invalid", "--json"))

    assert refused.code == 2, refused.err
    assert (refused.json()["status"], refused.json()["rows_read"],
            refused.json()["rows_loaded"], refused.json()["rows_rejected"]) == (
        "rejected", 13, 0, 11)
    _assert_errors(refused.json(), BAD_TRADE_ERRORS)
    assert refused.json()["rejects_file"] is None
    assert not (tmp_path / "trade_bad.rejects.csv").exists()
    assert count(cli, "trade_activity") == 3

    assert skipped_samples.code == 0, skipped_samples.err
    report = skipped_samples.json()
    assert (report["status"], report["rows_read"], report["rows_loaded"],
            report["rows_rejected"]) == ("loaded", 14, 2, 12)
    _assert_errors(report, BAD_SAMPLES_ERRORS)
    assert query(cli, "SELECT entry_number, line, hs_code, origin_country, selection, "
                      "discrepancy_type, entered_value_cents, revenue_loss_cents "
                      "FROM {compliance_samples} WHERE batch_id = '" + report["batch_id"]
                 + "' ORDER BY entry_number") == [
        ("E-2001", 1, "300490", "US", "random", None, 10000, 0),
        ("E-2012", 2, "300490", "US", "targeted", "ipr", 10050, 900)]
    rejects = read_csv(tmp_path / "samples_bad.rejects.csv")
    assert [int(line[0]) for line in rejects[1:]] == list(range(3, 15))
    assert rejects[1][1:] == ["discrepancy_type: is empty, but the line has a discrepancy: "
                              "name its area", *BAD_SAMPLES[1]]

    # The refused file again: had the refused run stored anything, this would be
    # "already_imported" or refuse rows 2 and 14 as loaded before.
    result, skipped = _import(cli, "trade", bad_trade, "--skip-invalid")

    assert result.code == 0, result.err
    assert (skipped["status"], skipped["rows_loaded"], skipped["rows_rejected"]) == (
        "loaded", 2, 11)
    _assert_errors(skipped, BAD_TRADE_ERRORS)
    assert skipped["rejects_file"] == str(tmp_path / "trade_bad.rejects.csv")
    assert count(cli, "trade_activity") == 5
    assert query(cli, "SELECT rows_read, rows_loaded, rows_rejected FROM {ingest_batches} "
                      "WHERE kind = 'trade' AND file_name = 'trade_bad.csv'") == [(13, 2, 11)]
    rejects = read_csv(tmp_path / "trade_bad.rejects.csv")
    assert rejects[0] == ["row", "errors", *TRADE_HEADER]
    assert [int(line[0]) for line in rejects[1:]] == list(range(3, 14))
    for line, error in zip(rejects[1:], skipped["errors"], strict=True):
        assert line[1] == f"{error['column']}: {error['reason']}", line
        assert line[2:] == list(BAD_TRADE[error["row"] - 2]), line
