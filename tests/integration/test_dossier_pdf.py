"""The case dossier as a court receives it, on both stores: a case walked through findings,
an improvement plan and its verification, rendered to PDF/A-3b and read back with pypdf
(the text) and pikepdf (the structure), its figures checked against values computed here
from what the builders recorded; the attached events against the store; the bytes against
a second render, in this process and in another."""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pikepdf
import pypdf
import pytest

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.reports.document import GENERATOR_VERSION, ReportDocument
from application.reports.dossier import build_dossier
from application.reports.ledger_evidence import attached_versions, dossier_events
from domain.assessment import SampleTest
from domain.case_numbers import case_id
from domain.errors import InvalidValueError
from domain.importer_account import importer_account_id
from infrastructure.hash_chain import event_hash
from infrastructure.pdf_render import render_pdf
from infrastructure.report_evidence import StoreEvidence
from infrastructure.seal import seal_ledger
from infrastructure.settings import Settings
from infrastructure.signing_keys import key_id, load_private_key, load_public_key
from tests.builders import (
    OFFICER,
    FakeClock,
    record_retests,
    register_importer,
    walk_plan,
    walk_to_findings,
)

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAME = "Jade River <script>alert(1)</script> & Söhne"
Z_95 = 1.959963984540054


# -- the scenario ------------------------------------------------------------------------


class Walked:
    """An importer with an assessment (findings: plan required), its plan (actions done
    with evidence) and the follow-up verification (re-tested, concluded effective), then
    a seal: every section of the dossier has something to show."""

    def __init__(self, app: ComplianceCases, store: Settings, clock: FakeClock) -> None:
        self.app, self.store = app, store
        self.importer = register_importer(app, legal_name=HOSTILE_NAME)
        self.assessment, findings = walk_to_findings(app, self.importer, clock=clock)
        assert findings.plan_number is not None
        self.plan = findings.plan_number
        verification = walk_plan(app, self.plan, clock=clock)
        assert verification is not None
        self.verification = verification
        record_retests(app, verification, effective=True, clock=clock)
        clock.advance()
        app.conclude_verification(verification, actor=OFFICER, reason="re-tests all pass")
        self.seal = seal_ledger(app, load_private_key(store.seal_key_path),
                                store.seal_witness_path, "system:sealer")
        self.evidence = StoreEvidence(app.recorder, store.seal_public_key_path)

    def dossier(self, key: str, position: int | None = None) -> ReportDocument:
        return build_dossier(self.app, key, evidence=self.evidence, position=position)


@pytest.fixture
def walked(make_app: Callable[..., ComplianceCases], store: Settings,
           clock: FakeClock) -> Walked:
    return Walked(make_app(), store, clock)


# -- reading the PDF back -------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def squeezed(text: str) -> str:
    """Text without whitespace: a long hash wraps across lines in print."""
    return re.sub(r"\s+", "", text)


def wilson(compliant: int, total: int) -> tuple[float, float, float]:
    """The 95% Wilson score interval, written out here from its formula."""
    p = compliant / total
    centre = (p + Z_95**2 / (2 * total)) / (1 + Z_95**2 / total)
    margin = Z_95 * math.sqrt(p * (1 - p) / total + Z_95**2 / (4 * total**2)) / (
        1 + Z_95**2 / total)
    return p, max(0.0, centre - margin), min(1.0, centre + margin)


def pct(value: float) -> str:
    """As the dossier prints a rate: two decimals, half-even on the rate's 4 places."""
    return f"{Decimal(str(value)).quantize(Decimal('0.0001')) * 100:.2f}%"


def expected_rates(tests: tuple[SampleTest, ...]) -> dict[str, tuple[str, str, str]]:
    pooled: dict[str, list[int]] = {}
    for test in tests:
        lines, errors = pooled.setdefault(test.area.value, [0, 0])
        pooled[test.area.value] = [lines + test.lines_tested, errors + test.discrepancies]
    return {area: tuple(pct(v) for v in wilson(lines - errors, lines))  # type: ignore[misc]
            for area, (lines, errors) in pooled.items()}


def objects_with_key(pdf: pikepdf.Pdf, *keys: str) -> list[str]:
    found = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            found += [f"{obj.objgen}: {key}" for key in keys if key in obj]
    return found


def fonts_of(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    fonts = []
    for page in pdf.pages:
        for _name, font in page.resources.get("/Font", {}).items():
            fonts.append(font)
            fonts.extend(font.get("/DescendantFonts", []))
    return fonts


def stored_as_json(app: ComplianceCases, ids: list[UUID],
                   versions: Mapping[UUID, int]) -> list[dict[str, Any]]:
    """What the store holds, read and decoded here without the code under test."""
    return [{"originator_id": str(s.originator_id), "originator_version": s.originator_version,
             "topic": s.topic, "state": json.loads(s.state)}
            for case in ids for s in app.events.recorder.select_events(case)
            if s.originator_version <= versions[case]]


# -- the tests ------------------------------------------------------------------------------


def test_a_case_dossier_shows_the_case_as_recorded(walked: Walked) -> None:
    app = walked.app
    pdf = render_pdf(walked.dossier(walked.assessment))
    text = pdf_text(pdf)
    flat = squeezed(text)

    assert f"Case dossier {walked.assessment}" in text
    assert walked.importer in text
    assert HOSTILE_NAME in text  # printed as written: escaped, not interpreted
    assert "11 Shanghai" in text
    assert GENERATOR_VERSION in text
    assert re.search(r"page 1 of \d+", text)
    assessment = app.get_assessment(walked.assessment)
    rates = expected_rates(assessment.tests)
    assert set(rates) == {"value", "classification"}
    for area, (rate, lower, upper) in rates.items():
        assert re.search(rf"{area}\s.*{re.escape(rate)}\s+{re.escape(lower)} to "
                         rf"{re.escape(upper)}", text), (area, rate, lower, upper)
    assert "deficient" in text
    assert "improvement plan required" in text
    head = app.events.recorder.select_events(case_id(walked.assessment), desc=True,
                                             limit=1)[0]
    assert event_hash(head.topic, head.originator_id, head.originator_version,
                      head.state) in flat
    assert walked.seal.seal_hash in flat
    assert f"Checkpoint(logposition){walked.seal.checkpoint}" in flat
    assert key_id(load_public_key(walked.store.seal_public_key_path)) in flat
    assert "Sample test recorded" in text
    assert "Findings issued" in text


def test_plan_and_verification_dossiers_show_actions_evidence_and_results(
        walked: Walked) -> None:
    plan = walked.app.get_plan(walked.plan)
    text = pdf_text(render_pdf(walked.dossier(walked.plan)))
    flat = squeezed(text)
    assert plan.actions
    for action in plan.actions:
        assert action.evidence is not None
        assert squeezed(action.description) in flat
        assert action.evidence.sha256 in flat
    verification = walked.app.get_verification(walked.verification)
    text = pdf_text(render_pdf(walked.dossier(walked.verification)))
    for area, (rate, lower, upper) in expected_rates(verification.tests).items():
        assert f"{rate} {lower} to {upper}" in text, area
    assert "effective" in text
    assert walked.plan in text


def test_the_pdf_is_pdf_a_3b_with_the_stored_events_attached(walked: Walked) -> None:
    document = walked.dossier(walked.importer)
    with pikepdf.open(io.BytesIO(render_pdf(document))) as pdf:
        xmp = pdf.open_metadata()
        assert xmp.pdfa_status == "3B"
        assert str(xmp.get("pdfaid:part")) == "3"
        assert str(xmp.get("pdfaid:conformance")) == "B"
        assert xmp.get("xmp:CreateDate", "").startswith(
            document.as_of.strftime("%Y-%m-%dT%H:%M:%S"))
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        assert "/Encrypt" not in pdf.trailer
        assert objects_with_key(pdf, "/JS", "/JavaScript", "/OpenAction", "/AA") == []
        fonts = fonts_of(pdf)
        assert fonts
        for font in fonts:
            if font.Subtype != "/Type0":
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(
                    font.FontDescriptor.keys()), font.BaseFont
        assert str(pdf.docinfo["/Creator"]) == GENERATOR_VERSION
        assert str(pdf.docinfo["/Title"]) == f"Importer dossier {walked.importer}"

        assert list(pdf.attachments) == ["events.json"]
        spec = pdf.attachments["events.json"]
        assert spec.obj.AFRelationship == "/Source"
        assert spec.obj in list(pdf.Root.AF)
        attached = spec.get_file().read_bytes()

    ids, versions = attached_versions(attached)
    case_ids = [importer_account_id(walked.importer)] + [
        case_id(n) for n in (walked.assessment, walked.plan, walked.verification)]
    assert ids == case_ids
    assert json.loads(attached)["events"] == stored_as_json(walked.app, ids, versions)
    assert attached == dossier_events(walked.app, ids, versions=versions)


def test_an_importer_dossier_holds_all_its_cases(walked: Walked) -> None:
    text = pdf_text(render_pdf(walked.dossier(walked.importer)))
    assert f"Importer dossier {walked.importer}" in text
    for number in (walked.assessment, walked.plan, walked.verification):
        assert number in text
    assert "its 3 case(s)" in text
    assert "Registered" in text
    assert "Concluded" in text


def test_the_same_case_at_the_same_position_gives_the_same_bytes(
        walked: Walked, store_environ: Mapping[str, str]) -> None:
    first = walked.dossier(walked.assessment)
    pdf = render_pdf(first)
    assert render_pdf(walked.dossier(walked.assessment)) == pdf

    # another process (another hash seed, fresh font caches) renders the same bytes
    script = ("import sys\n"
              "from application.reports.dossier import build_dossier\n"
              "from infrastructure.pdf_render import render_pdf\n"
              "from infrastructure.report_evidence import StoreEvidence\n"
              "from infrastructure.settings import load_settings\n"
              "from interfaces.composition import build_application\n"
              "import os\nsettings = load_settings(os.environ)\n"
              "app = build_application(settings, access_control=False)\n"
              "evidence = StoreEvidence(app.recorder, settings.seal_public_key_path)\n"
              "document = build_dossier(app, sys.argv[1], evidence=evidence,\n"
              "                         position=int(sys.argv[2]))\n"
              "sys.stdout.buffer.write(render_pdf(document))\n"
              "app.close()\n")
    environment = {**os.environ, **store_environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", script, walked.assessment,
                            str(first.position)], capture_output=True, env=environment,
                           cwd=ROOT, timeout=120, check=False)
    assert other.returncode == 0, other.stderr.decode()[-2000:]
    assert other.stdout == pdf

    # the ledger moves on: the dossier at the old position does not change
    walked.app.close_assessment(walked.assessment, actor=OFFICER, reason="all done")
    later = walked.dossier(walked.assessment)
    assert later.position > first.position
    assert render_pdf(later) != pdf
    assert render_pdf(walked.dossier(walked.assessment, position=first.position)) == pdf


def test_a_dossier_as_of_an_earlier_position_shows_only_what_was_recorded_by_then(
        walked: Walked) -> None:
    versions = len(walked.evidence.notification_ids(case_id(walked.plan), 10**9))
    early = walked.evidence.notification_ids(case_id(walked.plan), 10**9)[0]
    document = walked.dossier(walked.plan, position=early)
    _ids, attached = attached_versions(document.attachments[0].content)
    assert attached == {case_id(walked.plan): 1}
    assert versions > 1
    text = pdf_text(render_pdf(document))
    assert f"as of log position {early}" in text
    assert "No corrective action recorded as of this position." in text
    assert "Action added" not in text


def test_unknown_cases_and_bad_requests_are_refused_clearly(walked: Walked) -> None:
    with pytest.raises(NotFoundError, match="no case CA-2026-09999"):
        walked.dossier("CA-2026-09999")
    with pytest.raises(NotFoundError, match="no importer 99-9999999ZZ"):
        walked.dossier("99-9999999ZZ")
    with pytest.raises(InvalidValueError, match="not a case number"):
        walked.dossier("<script>")
    with pytest.raises(InvalidValueError, match="position"):
        walked.dossier(walked.assessment, position=10**9)
    with pytest.raises(InvalidValueError, match="position"):
        walked.dossier(walked.assessment, position=0)
    first_position = walked.evidence.notification_ids(case_id(walked.assessment), 10**9)[0]
    with pytest.raises(NotFoundError, match=f"no case {walked.assessment}"):
        walked.dossier(walked.assessment, position=first_position - 1)


def test_verapdf_accepts_the_dossier(walked: Walked, tmp_path: Path) -> None:
    verapdf = shutil.which("verapdf")
    if verapdf is None:
        pytest.skip("veraPDF is not on PATH (it is not in the package registries here)")
    path = tmp_path / "dossier.pdf"
    path.write_bytes(render_pdf(walked.dossier(walked.assessment)))
    result = subprocess.run([verapdf, "--flavour", "3b", str(path)], capture_output=True,
                            text=True, timeout=300, check=False)
    assert 'isCompliant="true"' in result.stdout, result.stdout[-3000:]
