"""The Trade Compliance and Enforcement Plan and the annual report, rendered to PDF on a
small ledger built here through the application's own paths (importers, trade, samples, a
risk run, a rule, a selection plan, a plan closed effective, one still open, a penalty
decided), on both stores. The figures asserted are computed in this file from the fixture's
own inputs, never read back from the code under test; empty scopes say so; bad parameters
are refused naming the field."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from domain.errors import InvalidValueError
from domain.values import Period
from infrastructure.pdf_render import render_pdf
from interfaces.analysis_composition import build_risk_run, build_selection
from interfaces.periodic_reports import build_annual_report, build_plan_report
from tests.builders import (
    FakeClock,
    propose_penalty,
    record_retests,
    walk_enforcement,
    walk_plan,
    walk_to_findings,
)
from tests.integration.targeting_support import SUPERVISOR, import_rows, publish, register

# (district, industry) per importer
IMPORTERS = [("11", "64"), ("11", "64"), ("24", "84"), ("24", "84")]
# 2026 trade per importer: entries, lines, entered value
TRADE_2026 = [(10, 30, 500_000), (5, 12, 200_000), (8, 20, 300_000), (2, 4, 50_000)]
TRADE_2025 = (3, 6, 100_000)  # the first importer only: the trend's earlier year
LINE_VALUE = 1000  # every examined line's entered value
# examined lines: (chapter, selection, lines, discrepancies, area, loss per bad line)
SAMPLES = [("64", "random", 10, 3, "origin", 100), ("84", "random", 8, 1, "value", 50),
           ("64", "targeted", 4, 2, "origin", 0)]
HS = {"64": "6403990000", "84": "8471300000"}


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def _build(app: ComplianceCases, clock: FakeClock, folder: Path) -> list[str]:
    numbers = register(app, IMPORTERS)
    trade = [[n, "2026-01", e, ln, f"{v}.00", f"{v // 20}.00", industry, "VN"]
             for n, (_, industry), (e, ln, v) in zip(numbers, IMPORTERS, TRADE_2026,
                                                     strict=True)]
    e, ln, v = TRADE_2025
    trade.append([numbers[0], "2025-06", e, ln, f"{v}.00", f"{v // 20}.00", "64", "VN"])
    import_rows(app, folder, IngestKind.TRADE, trade)
    rows, serial = [], 0
    for chapter, selection, lines, bad, area, loss in SAMPLES:
        owner = numbers[0] if chapter == "64" else numbers[2]
        for index in range(lines):
            serial += 1
            wrong = index < bad
            rows.append([f"E{serial:05d}", 1, owner, "2026-02-10", HS[chapter], "VN",
                         f"{LINE_VALUE}.00", selection, "true" if wrong else "false",
                         area if wrong else "", f"{loss}.00" if wrong else "0"])
    import_rows(app, folder, IngestKind.SAMPLES, rows)
    clock.advance()
    build_risk_run(app).assess(2026, actor="system:risk")
    publish(app, clock, "Footwear from VN", {"hs_prefix": ["64"], "origin": ["VN"]})
    clock.advance()
    build_selection(app).plan(Period(date(2026, 1, 1), date(2026, 3, 31)), 2, 0.5,
                              actor=SUPERVISOR)
    # one plan left submitted (open), one closed effective after its verification
    _, open_findings = walk_to_findings(app, numbers[1], clock=clock)
    assert open_findings.plan_number is not None
    walk_plan(app, open_findings.plan_number, "submitted", clock=clock)
    _, closed_findings = walk_to_findings(app, numbers[2], clock=clock)
    assert closed_findings.plan_number is not None
    verification = walk_plan(app, closed_findings.plan_number, clock=clock)
    assert verification is not None
    record_retests(app, verification, effective=True, clock=clock)
    clock.advance()
    app.conclude_verification(verification, actor="user:officer.one", reason="re-tested")
    penalty = propose_penalty(app, numbers[3], amount="1500.00")
    walk_enforcement(app, penalty, "decided", decided_amount="1200.00", clock=clock)
    return numbers


@pytest.fixture
def ledger(app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> ComplianceCases:
    _build(app, clock, tmp_path)
    return app


def _percent(good: int, total: int, places: int = 1) -> str:
    return f"{good / total * 100:.{places}f}%"


def test_the_annual_report_shows_the_fixture_figures(ledger: ComplianceCases) -> None:
    document = build_annual_report(ledger, 2026)
    text = _text(render_pdf(document))
    assert f"log position {document.position}" in text
    assert document.position == ledger.recorder.max_notification_id()
    assert "compliance-ledger-reports/" in text
    entries = sum(e for e, _, _ in TRADE_2026)
    lines = sum(ln for _, ln, _ in TRADE_2026)
    value = sum(v for _, _, v in TRADE_2026)
    assert f"{entries:,} entries, {lines:,} lines, entered value {value:,}" in text
    random = [s for s in SAMPLES if s[1] == "random"]
    for chapter, _, examined, bad, _, _ in random:
        assert f"{examined} {bad} {_percent(examined - bad, examined)}" in text, chapter
    examined = sum(s[2] for s in random)
    bad = sum(s[3] for s in random)
    assert (f"National compliance rate 2026 (random sample lines): "
            f"{_percent(examined - bad, examined, 2)}") in text
    loss = sum(s[3] * s[5] for s in random)
    estimated = round(loss / (examined * LINE_VALUE) * value)
    assert f"estimated revenue loss is {estimated:,}" in text
    assert "1 enforcement action(s) proposed in 2026: penalties proposed 1,500, decided 1,200" \
        in text
    assert "1 improvement plan(s) closed in 2026: 1 closed effective, 0 escalated" in text
    assert "11 Shanghai" in text  # every district compared
    assert "42 Yinchuan" in text
    assert "2025" in text  # the earlier year, as a trend


def test_the_plan_shows_the_fixture_figures(ledger: ComplianceCases) -> None:
    document = build_plan_report(ledger, "2026-Q1", None)
    text = _text(render_pdf(document))
    assert document.parameters == {"period": "2026-Q1", "district": "national"}
    assert f"log position {document.position}" in text
    assert "Footwear from VN" in text  # the criterion in force
    assert "2 assessments planned: 1 risk picks and 1 random" in text
    assert re.search(r"submitted 1 ", text)  # the plan left open, by state
    assert "open plans 1" in text
    targeted = [s for s in SAMPLES if s[1] == "targeted"]
    hits, exams = sum(s[3] for s in targeted), sum(s[2] for s in targeted)
    assert f"{hits}/{exams}" in text  # targeted hits against exams


def test_a_year_of_the_whole_plan_lists_the_verification_due(ledger: ComplianceCases) -> None:
    text = _text(render_pdf(build_plan_report(ledger, "2026", None)))
    assert "No follow-up verification is due" in text  # the only one was concluded


def test_empty_district_and_empty_year_say_so(ledger: ComplianceCases) -> None:
    plan = _text(render_pdf(build_plan_report(ledger, "2026-Q1", "05")))
    assert "No importer has been scored in district 05" in plan
    assert "No improvement plan is open." in plan
    annual = _text(render_pdf(build_annual_report(ledger, 2024)))
    assert "No samples were examined in 2024" in annual
    assert "No enforcement action was proposed in 2024." in annual


@pytest.mark.parametrize(("period", "district", "field"), [
    ("2026-Q5", None, "period"), ("2026-13", None, "period"), ("2027", None, "period"),
    ("2026-Q2", None, "period"), ("26", None, "period"), ("2026-Q1", "43", "district"),
])
def test_bad_plan_parameters_are_refused_naming_the_field(
        app: ComplianceCases, period: str, district: str | None, field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        build_plan_report(app, period, district)
    assert refused.value.field == field


@pytest.mark.parametrize("year", [2027, 1989, "20x6"])
def test_bad_years_are_refused(app: ComplianceCases, year: int | str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        build_annual_report(app, year)
    assert refused.value.field == "year"
