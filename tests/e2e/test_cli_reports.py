"""`compliance report` from the command line: a dossier issued, archived and verified; the
same case at the same version giving the same bytes; `report verify` catching an edited
byte, a swapped attachment and a report the ledger never issued; bad parameters refused
with a clear message; and scope (a district officer cannot issue the national plan)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pikepdf
import pytest

from infrastructure.settings import load_settings
from interfaces.composition import build_application
from tests.builders import register_importer, walk_to_findings
from tests.e2e.cli import Cli


@pytest.fixture
def ledger(sqlite_cli: Cli) -> tuple[Cli, str, str]:
    """A plan drafted from findings in district 11, sealed; an auditor and an officer."""
    app = build_application(load_settings(sqlite_cli.env), access_control=False)
    try:
        importer = register_importer(app, district="11")
        assessment, result = walk_to_findings(app, importer)
        for name, roles, districts in (("auditor", ["auditor"], []),
                                       ("officer11", ["officer"], ["11"])):
            app.add_user(name, roles=roles, districts=districts, actor="system:setup",
                         reason="staff")
    finally:
        app.close()
    sqlite_cli.ok("seal", "--actor", "system:setup")
    assert result.plan_number is not None
    return sqlite_cli, assessment, importer


def test_a_dossier_is_issued_verified_and_the_same_case_gives_the_same_bytes(
        ledger: tuple[Cli, str, str], tmp_path: Path) -> None:
    cli, assessment, _ = ledger
    first = cli.ok("report", "dossier", assessment, "-o", str(tmp_path / "a.pdf"),
                   "--actor", "user:auditor", "--json").json()
    assert first["new"] is True
    content = (tmp_path / "a.pdf").read_bytes()
    assert hashlib.sha256(content).hexdigest() == first["sha256"]
    cli.ok("users", "add", "clerk", "--role", "officer", "--district", "12", "--actor",
           "system:setup", "--reason", "an unrelated change elsewhere in the ledger")
    again = cli.ok("report", "dossier", assessment, "-o", str(tmp_path / "b.pdf"),
                   "--actor", "user:auditor", "--json").json()
    assert (tmp_path / "b.pdf").read_bytes() == content
    assert again["new"] is False
    assert again["sha256"] == first["sha256"]

    verified = cli.as_is("report", "verify", str(tmp_path / "a.pdf"))
    assert verified.code == 0, verified.err
    assert "VERIFIED" in verified.out
    assert "its attached events equal the events the ledger holds" in verified.out
    listed = cli.ok("report", "list", "--json").json()
    assert [r["sha256"] for r in listed] == [first["sha256"]]
    assert listed[0]["issued_by"] == "user:auditor"


def test_verify_names_an_edited_byte_a_swapped_attachment_and_a_stranger(
        ledger: tuple[Cli, str, str], tmp_path: Path) -> None:
    cli, assessment, importer = ledger
    original = tmp_path / "a.pdf"
    issued = cli.ok("report", "dossier", assessment, "-o", str(original), "--actor",
                    "user:auditor", "--json").json()

    edited = tmp_path / "edited.pdf"
    data = bytearray(original.read_bytes())
    where = data.find(b"/Producer")
    data[where + 12] ^= 0x01
    edited.write_bytes(bytes(data))
    result = cli.as_is("report", "verify", str(edited))
    assert result.code == 1
    assert "altered" in result.out
    assert issued["sha256"] in result.out

    swapped = tmp_path / "swapped.pdf"
    with pikepdf.open(original) as pdf:
        attached = pdf.attachments["events.json"].get_file().read_bytes()
        events = json.loads(attached)
        events["events"][0]["state"]["reason"] = "a reason nobody gave"
        forged = json.dumps(events, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        pdf.attachments["events.json"] = pikepdf.AttachedFileSpec(pdf, forged,
                                                                   filename="events.json")
        pdf.save(swapped)
    result = cli.as_is("report", "verify", str(swapped))
    assert result.code == 1
    assert "altered" in result.out
    assert f"{assessment} version 1: the attached event differs" in result.out

    stranger = tmp_path / "stranger.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        buffer = io.BytesIO()
        pdf.save(buffer)
    stranger.write_bytes(buffer.getvalue())
    result = cli.as_is("report", "verify", str(stranger))
    assert result.code == 1
    assert "not a report this ledger issued" in result.out

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7 this is not really a pdf")
    result = cli.as_is("report", "verify", str(garbage))
    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    assert importer  # the dossier's importer is the one its cover names


@pytest.mark.parametrize(("args", "words"), [
    (["dossier", "CA-2026-99999"], "not found"),
    (["dossier", "not a case"], "case"),
    (["plan", "--period", "2026-Q5"], "period"),
    (["plan", "--period", "2026-Q1", "--district", "99"], "district"),
    (["annual", "--year", "2999"], "year"),
    (["annual", "--year", "twenty"], "year"),
])
def test_bad_parameters_are_refused_naming_what_is_wrong(
        ledger: tuple[Cli, str, str], tmp_path: Path, args: list[str], words: str) -> None:
    cli, _, _ = ledger
    result = cli.as_is("report", *args, "-o", str(tmp_path / "x.pdf"), "--actor",
                       "user:auditor")
    assert result.code in (2, 4), (result.code, result.err)
    assert words in result.err.lower()
    assert "Traceback" not in result.err
    assert not (tmp_path / "x.pdf").exists()
    assert cli.ok("report", "list", "--json").json() == []


def test_a_district_officer_may_not_issue_the_national_plan(
        ledger: tuple[Cli, str, str], tmp_path: Path) -> None:
    cli, _, _ = ledger
    refused = cli.as_is("report", "plan", "--period", "2026-Q1", "-o",
                        str(tmp_path / "p.pdf"), "--actor", "user:officer11")
    assert refused.code == 3
    assert "outside their districts" in refused.err
    district = cli.ok("report", "plan", "--period", "2026-Q1", "--district", "11", "-o",
                      str(tmp_path / "p11.pdf"), "--actor", "user:officer11", "--json").json()
    assert district["parameters"] == {"district": "11", "period": "2026-Q1"}
    mine = cli.ok("report", "list", "--actor", "user:officer11", "--json").json()
    assert [r["sha256"] for r in mine] == [district["sha256"]]
