"""Every bad input gets a clear message naming the field and value, a non-zero exit, and
writes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.cli import Cli
from tests.e2e.test_cli_assessment_lifecycle import (
    IMPORTER,
    WHO,
    open_assessment,
    register,
    today,
)


@pytest.fixture
def prepared(cli: Cli) -> Cli:
    register(cli)
    cli.provision([WHO[1], "user:a"])  # users first: the tests count the events they write
    return cli


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("accounts", "register", "--importer-number", "12-0000001AA", "--name", "X",
          "--district", "43", "--industry", "61", *WHO, "r"), 2, "district='43'"),
        (("accounts", "register", "--importer-number", "12-0000001AA", "--name", "X",
          "--district", "11", "--industry", "77", *WHO, "r"), 2, "industry='77'"),
        (("accounts", "register", "--importer-number", "nope", "--name", "X",
          "--district", "11", "--industry", "61", *WHO, "r"), 2, "importer_number='nope'"),
        (("accounts", "register", "--importer-number", "12-0000001AA", "--name", "X",
          "--district", "11", "--industry", "61", "--registered-on", "2024-13-01", *WHO, "r"),
         2, "registered_on='2024-13-01'"),
        (("accounts", "register", "--importer-number", IMPORTER, "--name", "Again",
          "--district", "11", "--industry", "61", *WHO, "r"), 3, "already registered"),
        (("accounts", "register", "--importer-number", "12-0000001AA", "--name", "X",
          "--district", "11", "--industry", "61", "--actor", "bob", "--reason", "r"),
         2, "actor='bob'"),
        (("accounts", "register", "--importer-number", "12-0000001AA", "--name", "X",
          "--district", "11", "--industry", "61", "--actor", "user:a", "--reason", "  "),
         2, "reason"),
        (("assessments", "open", "99-9999999ZZ", "--origin", "random", "--period-start",
          "2025-01-01", "--period-end", "2025-12-31", "--scope", "value", *WHO, "r"),
         4, "no importer 99-9999999ZZ"),
        (("assessments", "open", IMPORTER, "--origin", "random", "--period-start",
          "2025-01-01", "--period-end", "2025-02-30", "--scope", "value", *WHO, "r"),
         2, "period_end='2025-02-30'"),
        (("assessments", "open", IMPORTER, "--origin", "random", "--period-start",
          "2025-01-01", "--period-end", "2025-12-31", "--scope", "value,colour", *WHO, "r"),
         2, "scope='colour'"),
        (("assessments", "assign", "CA-2026-99999", "--officer", "user:officer-7", *WHO, "r"),
         4, "no assessment CA-2026-99999"),
        (("assessments", "assign", "XX-1", "--officer", "user:officer-7", *WHO, "r"),
         2, "case_number='XX-1'"),
        (("history", "CA-2031-00001"), 4, "no case"),
    ],
)
def test_a_bad_command_is_refused_with_a_clear_message_and_writes_nothing(
        prepared: Cli, args: tuple[str, ...], code: int, expected: str) -> None:
    before = prepared.events()
    result = prepared(*args)
    assert result.code == code, result.err
    assert expected in result.err
    assert prepared.events() == before


def test_findings_without_a_test_in_every_scoped_area_are_refused(prepared: Cli) -> None:
    number = open_assessment(prepared)
    prepared.ok("assessments", "assign", number, "--officer", "user:o", *WHO, "r")
    prepared.ok("assessments", "survey", number, "--rating", "classification=weak",
                "--rating", "origin=strong", "--on", today(), *WHO, "visit")
    prepared.ok("assessments", "test", number, "--area", "origin", "--lines", "100",
                "--discrepancies", "1", "--value-tested", "1000", "--value-in-error", "10",
                "--revenue-loss", "1", *WHO, "sample")
    before = prepared.events()
    negative = prepared("assessments", "test", number, "--area", "classification", "--lines",
                        "100", "--discrepancies", "-1", "--value-tested", "1000",
                        "--value-in-error", "0", "--revenue-loss", "0", *WHO, "sample")
    assert negative.code == 2
    assert "discrepancies='-1'" in negative.err
    too_many = prepared("assessments", "test", number, "--area", "classification", "--lines",
                        "10", "--discrepancies", "11", "--value-tested", "1000",
                        "--value-in-error", "0", "--revenue-loss", "0", *WHO, "sample")
    assert too_many.code == 3
    assert "DiscrepanciesDoNotExceedLinesTested" in too_many.err
    refused = prepared("assessments", "findings", number, *WHO, "done")
    assert refused.code == 3
    assert "FindingsNeedATestInEveryScopedArea" in refused.err
    assert "untested: classification" in refused.err
    assert prepared.events() == before


def test_a_malformed_setting_is_named(tmp_path: Path) -> None:
    cli = Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "c.db"),
               "COMPLIANCE_POSTGRES_LOCK_TIMEOUT": "soon"})
    result = cli("status")
    assert result.code == 2
    assert "COMPLIANCE_POSTGRES_LOCK_TIMEOUT='soon'" in result.err


def test_an_unreachable_database_is_reported_not_crashed() -> None:
    cli = Cli({"COMPLIANCE_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"})
    result = cli("status")
    assert result.code == 6
    assert "cannot reach PostgreSQL" in result.err
    assert "Traceback" not in result.err


def test_verify_names_the_aggregate_and_version_of_an_edited_event(sqlite_cli: Cli,
                                                                    tmp_path: Path) -> None:
    register(sqlite_cli)
    number = open_assessment(sqlite_cli)
    for officer in ("user:o-1", "user:o-2", "user:o-3"):
        sqlite_cli.ok("assessments", "assign", number, "--officer", officer, *WHO, "shift")
    case_id = sqlite_cli.ok("assessments", "show", number, "--json").json()["id"]
    database = tmp_path / "var" / "compliance.db"
    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT state FROM stored_events WHERE originator_id=? AND "
                           "originator_version=3", (case_id.replace("-", ""),)).fetchone()
        assert row is not None
        conn.execute("UPDATE stored_events SET state=? WHERE originator_id=? AND "
                     "originator_version=3",
                     (bytes(row[0]).replace(b"user:o-2", b"user:o-9"),
                      case_id.replace("-", "")))
    result = sqlite_cli("verify")
    assert result.code == 1
    assert f"TAMPERED: {number} version 3:" in result.err
