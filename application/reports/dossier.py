"""The case dossier: everything the ledger knows about one case (CA-, IP-, EA-, FV-) or
about an importer and all its cases, as of a stated log position, for a court or an
oversight body: cover, decisions, findings with their intervals, plan actions with their
evidence hashes, enforcement amounts against the statutory caps, verification results,
then the whole timeline; and the proof to check the paper against the ledger (each chain
head, the latest seal, the public key's fingerprint, and the stored events attached as
`events.json`, see application.reports.ledger_evidence).

`build_dossier` gathers (application.reports.dossier_data), shapes the figures into rows
here, and renders the Jinja template `dossier.html`; infrastructure.pdf_render makes
the PDF/A-3b.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.history import HistoryEntry
from application.reports.document import Attachment, ReportDocument
from application.reports.dossier_data import DossierData, SealSeen, gather
from application.reports.jinja_env import day, environment, money, percent
from application.reports.ledger_evidence import (
    EVENTS_FORMAT,
    EVENTS_NAME,
    LedgerEvidence,
    events_json,
)
from application.reports.timeline import TimelineRow, event_title, plain, timeline_row, when
from domain.assessment import AreaFinding, Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from domain.penalties import CapPolicy, penalty_cap
from domain.reference import DISTRICTS, INDUSTRIES

__all__ = ["build_dossier", "dossier_document"]

DECISIONS: dict[str, tuple[str, ...]] = {
    "FindingsIssued": ("outcome", "fraud_indicators"), "Closed": (), "Cancelled": (),
    "Submitted": (), "Approved": (), "SentBack": (), "ImplementationReported": (),
    "VerificationScheduled": ("verification_number", "due_on"),
    "ClosedEffective": ("verified_rate",), "Escalated": ("enforcement_number",),
    "CulpabilityChanged": ("proposed_amount",), "ReviewConcluded": ("approved",),
    "Issued": ("response_due_on",), "PenaltyNoticeIssued": ("response_due_on",),
    "Decided": ("decided_amount",), "PaymentRecorded": ("amount", "paid_on"),
    "ReferredForCollection": (), "Withdrawn": (), "Concluded": ("effective", "verified_rate"),
    "Suspended": (), "Reinstated": (), "ComplianceClassSet": ("compliance_class",)}
"""Events that decide something, and the fields of each worth a line in the summary."""


@dataclass(frozen=True)
class Row:
    """A table row of label/value pairs, already text (the template escapes it)."""

    cells: tuple[str, ...]


def _fields(pairs: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(label, value if type(value) is str else plain(value)) for label, value
            in pairs]


def _finding_rows(findings: tuple[AreaFinding, ...], with_rating: bool) -> list[Row]:
    rows = []
    for f in findings:
        cells = [plain(f.area), f"{f.lines_tested:,}", f"{f.discrepancies:,}",
                 percent(f.compliance_rate), f"{percent(f.rate_lower)} to {percent(f.rate_upper)}",
                 money(f.revenue_loss)]
        if with_rating:
            cells.append(plain(f.control_rating))
        cells.append("acceptable" if f.acceptable else "deficient")
        rows.append(Row(tuple(cells)))
    return rows


def _sample_rows(case: Assessment | FollowUpVerification) -> list[Row]:
    """Samples pooled per area: how many, lines, discrepancies, values (each sample is in
    the timeline)."""
    areas = case.scope if isinstance(case, Assessment) else case.areas
    rows = []
    for area in areas:
        tests = [t for t in case.tests if t.area is area]
        rows.append(Row((plain(area), f"{len(tests):,}",
                         f"{sum(t.lines_tested for t in tests):,}",
                         f"{sum(t.discrepancies for t in tests):,}",
                         money(sum((t.value_tested for t in tests), Decimal(0))),
                         money(sum((t.value_in_error for t in tests), Decimal(0))),
                         money(sum((t.revenue_loss for t in tests), Decimal(0))))))
    return rows


def _assessment(case: Assessment, _caps: CapPolicy) -> dict[str, Any]:
    return {"facts": _fields([
        ("Origin", case.origin),
        ("Period under review", f"{day(case.period.start)} to {day(case.period.end)}"),
        ("Scope", case.scope), ("Officer", case.officer or "not assigned"),
        ("Internal-control survey", case.survey or "not recorded"),
        ("Outcome", case.outcome or "findings not issued"),
        ("Fraud indicators", case.fraud_indicators)]),
        "samples": _sample_rows(case),
        "findings": _finding_rows(case.findings, with_rating=True)}


def _plan(case: ImprovementPlan, _caps: CapPolicy) -> dict[str, Any]:
    actions = []
    for a in case.actions:
        proof = a.evidence
        actions.append(Row((
            a.action_id, plain(a.area), a.description, a.owner, day(a.due_on),
            day(a.completed_on),
            "—" if proof is None else f"{proof.description} ({proof.document_ref})",
            "—" if proof is None else proof.sha256)))
    return {"facts": _fields([
        ("Assessment", case.assessment_number), ("Deficient areas", case.deficient_areas),
        ("Target rate (95% lower bound)", percent(case.target_rate)),
        ("Proposal due", case.proposal_due_on),
        ("Follow-up verification", case.verification_number or "none scheduled"),
        ("Verification due", case.verification_due_on),
        ("Escalated to", case.enforcement_number or "—")]),
        "actions": actions}


def _enforcement(case: EnforcementAction, caps: CapPolicy) -> dict[str, Any]:
    facts: list[tuple[str, Any]] = [
        ("Kind", case.kind), ("Legal basis", case.legal_basis), ("Facts", case.facts),
        ("Source case", case.source_case or "—"), ("Proposed by", case.proposer),
        ("Response due", case.response_due_on),
        ("Increased examinations until", case.examinations_until)]
    amounts: list[Row] = []
    if case.basis is not None:
        cap = penalty_cap(case.basis, caps)
        facts += [("Culpability", case.basis.culpability),
                  ("Revenue loss", money(case.basis.revenue_loss)),
                  ("Domestic value", money(case.basis.domestic_value)),
                  ("Dutiable value", money(case.basis.dutiable_value)),
                  ("Prior disclosure", case.basis.prior_disclosure)]
        for label, amount in (("Proposed", case.proposed_amount),
                              ("Decided", case.decided_amount), ("Paid", case.paid_amount)):
            if amount is None:
                amounts.append(Row((label, "—", money(cap), "—")))
            else:
                within = "within the cap" if amount <= cap else "EXCEEDS THE CAP"
                amounts.append(Row((label, money(amount), money(cap),
                                    f"{within} ({percent(amount / cap if cap else 0, 1)})")))
    votes = [Row((v.reviewer, plain(v.vote), v.reason)) for v in case.votes]
    return {"facts": _fields(facts), "amounts": amounts, "votes": votes}


def _verification(case: FollowUpVerification, _caps: CapPolicy) -> dict[str, Any]:
    return {"facts": _fields([
        ("Improvement plan", case.plan_number), ("Areas re-tested", case.areas),
        ("Target rate (95% lower bound)", percent(case.target_rate)),
        ("Due", case.due_on), ("Officer", case.officer or "not assigned"),
        ("Verified rate", percent(case.verified_rate)),
        ("Result", {"concluded_effective": "effective",
                    "concluded_not_effective": "not effective"}.get(
                        case.state.value, "not concluded"))]),
        "samples": _sample_rows(case),
        "findings": _finding_rows(case.findings, with_rating=False)}


def _importer(account: ImporterAccount, _caps: CapPolicy) -> dict[str, Any]:
    return {"facts": _fields([
        ("Legal name", account.legal_name), ("Registered on", account.registered_on),
        ("Industry", f"{account.industry} {INDUSTRIES.get(account.industry, '')}".strip()),
        ("Account manager", account.account_manager or "—"),
        ("Compliance class", account.compliance_class), ("Tier", account.tier),
        ("Annual value", money(account.annual_value)),
        ("Risk", f"{account.risk_category} (score {account.risk_score})"
         if account.risk_category else "—"),
        ("Partnerships", account.partnerships or "none")])}


_SECTIONS: dict[type, Callable[[Any, CapPolicy], dict[str, Any]]] = {
    Assessment: _assessment, ImprovementPlan: _plan, EnforcementAction: _enforcement,
    FollowUpVerification: _verification, ImporterAccount: _importer}


def _decision(entry: HistoryEntry, case: str, names: Mapping[UUID, str]) -> Row | None:
    name = entry.event.rsplit(".", 1)[-1]
    if name not in DECISIONS:
        return None
    detail = ", ".join(f"{key.replace('_', ' ')}: {plain(entry.data.get(key), names)}"
                       for key in DECISIONS[name])
    return Row((when(entry.recorded_at), case, event_title(entry.event), detail, entry.actor,
                entry.reason))


def _district(code: str) -> str:
    return f"{code} {DISTRICTS.get(code, '')}".strip()


def _cover(data: DossierData) -> list[tuple[str, str]]:
    first = data.subjects[0]
    subject = first.aggregate
    importer = data.importer
    rows = [("Dossier of", f"{first.kind} {first.number}" if not data.is_importer
             else f"importer {data.key} and its {len(data.subjects) - 1} case(s)")]
    if importer is not None:
        rows += [("Importer", f"{importer.legal_name} ({importer.importer_number})")]
    rows += [("District", _district(subject.district)),
             ("State", plain(getattr(subject, "state", None) or subject.status)),
             ("Opened", when(subject.created_on)),
             ("Last recorded", when(max(s.aggregate.modified_on for s in data.subjects))),
             ("As of log position", f"{data.position:,} (recorded {when(data.as_of)})"),
             ("Events in this dossier", f"{len(data.events):,}")]
    return rows


def _proof(data: DossierData) -> dict[str, Any]:
    seal: SealSeen | None = data.seal
    heads = []
    for s in data.subjects:
        covered = ("—" if seal is None else
                   f"yes, seal {seal.number}" if s.positions[-1] <= seal.checkpoint else
                   "no: recorded after the latest seal")
        heads.append(Row((s.number, f"{s.version:,}", f"{s.positions[-1]:,}", s.head_hash,
                          covered)))
    return {"heads": heads, "seal": seal, "fingerprint": data.key_fingerprint,
            "sealed_at": when(seal.sealed_at) if seal else "",
            "events_format": EVENTS_FORMAT, "events_name": EVENTS_NAME}


def _timeline(data: DossierData, names: Mapping[UUID, str]) -> list[TimelineRow]:
    rows = [timeline_row(entry, position=position, case=s.number, names=names)
            for s in data.subjects
            for entry, position in zip(s.entries, s.positions, strict=True)]
    return sorted(rows, key=lambda r: r.position)


def dossier_document(data: DossierData, caps: CapPolicy) -> ReportDocument:
    """The dossier's HTML and attachment from gathered data."""
    names = data.names
    sections = [{"subject": s, "title": f"{s.kind.capitalize()} {s.number}",
                 "state": plain(getattr(s.aggregate, "state", None)
                                or getattr(s.aggregate, "status", None)),
                 **_SECTIONS[type(s.aggregate)](s.aggregate, caps)} for s in data.subjects]
    decisions = sorted(
        ((position, row) for s in data.subjects
         for entry, position in zip(s.entries, s.positions, strict=True)
         if (row := _decision(entry, s.number, names)) is not None),
        key=lambda pair: pair[0])
    first = data.subjects[0]
    heading = (f"Importer dossier {data.key}" if data.is_importer
               else f"Case dossier {first.number}")
    html = environment().get_template("dossier.html").render(
        heading=heading, key=data.key, position=data.position, as_of=when(data.as_of),
        cover=_cover(data), sections=sections, decisions=[r for _, r in decisions],
        timeline=_timeline(data, names), many=len(data.subjects) > 1, proof=_proof(data))
    importer = data.importer
    events = events_json(data.events)
    return ReportDocument(
        kind="dossier", title=heading, html=html, as_of=data.as_of, position=data.position,
        parameters={"case": data.key, "position": str(data.position)},
        attachments=(Attachment(
            EVENTS_NAME, events, "application/json",
            f"The stored events of {data.key} up to log position {data.position} "
            f"({EVENTS_FORMAT})", "Source"),),
        district=first.aggregate.district,
        importer_number=importer.importer_number if importer is not None else None,
        subject=f"{heading} as of log position {data.position}",
        keywords=("case dossier", data.key, *(s.number for s in data.subjects[1:]),
                  *((importer.importer_number,) if importer is not None
                    and not data.is_importer else ())))


def build_dossier(app: ComplianceCases, number_or_importer: str, *,
                  evidence: LedgerEvidence, position: int | None = None) -> ReportDocument:
    """The dossier of a case or an importer as of `position` (default: the log's last
    notification). NotFoundError for an unknown case or importer (or one outside the
    caller's scope), InvalidValueError for a malformed number or a position the log does
    not hold. `evidence`: infrastructure.report_evidence.StoreEvidence in production."""
    return dossier_document(gather(app, number_or_importer, evidence, position),
                            app.workflow.caps)
