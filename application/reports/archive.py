"""Issuing, listing and checking reports.

Issuing stores the exact bytes by their SHA-256 and records `ReportIssued` (an
`IssuedReport` aggregate whose id is that hash) with the index row in one transaction: the
same document issued again is recognised, not duplicated. Checking a file answers three
questions: did this ledger issue these exact bytes; if not, which issued report does the
file claim to be (its metadata names the kind, parameters and log position), so "altered"
can be told from "never issued"; and, for a dossier, do the events attached to it still
equal the events the ledger holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError, RecordConflictError

from application.access import Principal, acting_as
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.reports.document import GENERATOR_VERSION, ReportDocument
from domain.report import IssuedReport, parse_sha256, report_id

CLAIM_PREFIX = "compliance-ledger-report:"
"""Keyword a report carries in its PDF metadata: the claim `report verify` reads back."""


def claim_keyword(document: ReportDocument) -> str:
    return CLAIM_PREFIX + json.dumps({"kind": document.kind, "position": document.position,
                                      "parameters": document.parameters},
                                     sort_keys=True, separators=(",", ":"))


class ArchiveStore(Protocol):
    def writer(self, entry: Any, content: bytes) -> Callable[[Any], None]: ...

    def content(self, sha256: str) -> bytes | None: ...

    def find(self, sha256: str) -> Any: ...

    def claimed(self, kind: str, parameters: dict[str, str], position: int) -> list[Any]: ...

    def listed(self, *, districts: frozenset[str] | None, importers: frozenset[str] | None,
               kind: str | None = None, limit: int = 100) -> list[Any]: ...


@dataclass(frozen=True)
class IndexedReport:
    """An issued report as the archive's index lists it."""

    sha256: str
    kind: str
    title: str
    parameters: dict[str, str]
    position: int
    generator: str
    size: int
    district: str
    importer_number: str | None
    issued_at: datetime
    issued_by: str
    file_name: str


@dataclass(frozen=True)
class Issued:
    report: IssuedReport
    new: bool
    """False when these bytes had been issued before (the earlier record stands)."""


@dataclass
class Verdict:
    ok: bool
    report: Any | None = None
    """The index entry of the issued report the file is (or claims to be)."""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


PdfReader = Callable[[bytes], tuple[str, dict[str, bytes]]]
"""(the PDF's keywords as one text, its attached files by name): infrastructure.
pdf_inspect reads them; ValueError when the bytes are not a readable PDF."""
EventsOf = Callable[[bytes], tuple[bytes, list[str]]]
"""Given a dossier's attached events.json: (the same events as the store holds them now,
up to the versions attached; cases named in it the store does not hold)."""


class ReportArchive:
    def __init__(self, app: ComplianceCases, store: ArchiveStore) -> None:
        self.app, self.store = app, store

    def issue(self, document: ReportDocument, content: bytes, *, actor: str, reason: str,
              file_name: str) -> Issued:
        self.app.authorise(actor, "issue_report")
        sha = hashlib.sha256(content).hexdigest()
        existing = self.app.find_aggregate(report_id(sha))
        if isinstance(existing, IssuedReport):
            return Issued(existing, new=False)
        now = self.app.clock()
        report = IssuedReport.issue(
            kind=document.kind, title=document.title, parameters=document.parameters,
            position=document.position, generator=GENERATOR_VERSION, sha256=sha,
            size=len(content), district=document.district,
            importer_number=document.importer_number, file_name=file_name, actor=actor,
            reason=reason, at=now)
        entry = IndexedReport(sha, report.kind, report.title, report.parameters,
                              report.position, report.generator, report.size,
                              report.district, report.importer_number, now, actor, file_name)
        try:
            self.app.save(report, write_also=self.store.writer(entry, content))
        except (IntegrityError, RecordConflictError):
            found = self.app.find_aggregate(report.id)
            assert isinstance(found, IssuedReport)
            return Issued(found, new=False)
        return Issued(report, new=True)

    def listed(self, caller: Principal | None, *, kind: str | None = None,
               limit: int = 100) -> list[Any]:
        districts, importers = (None, None) if caller is None else caller.list_scope()
        if caller is not None and districts is None and importers is None:
            return self.store.listed(districts=None, importers=None, kind=kind, limit=limit)
        return self.store.listed(districts=districts, importers=importers, kind=kind,
                                 limit=limit)

    def get(self, sha256: str, caller: Principal | None) -> tuple[IssuedReport, bytes]:
        """The report and its bytes, if the caller may see it (else not found, as a case)."""
        digest = parse_sha256(sha256, "report")
        with acting_as(caller):
            found = self.app.find_aggregate(report_id(digest))
            if not isinstance(found, IssuedReport):
                raise NotFoundError("report", sha256)
            if caller is not None and not caller.sees(found.district, found.importer_number):
                raise NotFoundError("report", sha256)
        content = self.store.content(digest)
        if content is None:
            raise NotFoundError("report", sha256)
        return found, content

    def verify(self, content: bytes, read_pdf: PdfReader, events_of: EventsOf,
               sees: Callable[[Any], bool] | None = None) -> Verdict:
        """Whether `content` is a report this ledger issued, unaltered (and for a dossier,
        whether its attached events equal the stored ones). `sees`: whether the caller may
        see an issued report's index entry (None: the operator, who sees all). A report
        outside the caller's scope is confirmed or refused as such, without naming who
        issued it, when, or what its events hold now."""
        sha = hashlib.sha256(content).hexdigest()
        entry = self.store.find(sha)
        if entry is not None and sees is not None and not sees(entry):
            return self._verify_unseen(content, read_pdf, sha)
        try:
            keywords, attachments = read_pdf(content)
        except ValueError as error:
            if entry is None:
                return Verdict(False, problems=[f"not a PDF this ledger could read: {error}"])
            keywords, attachments = "", {}
        verdict = Verdict(entry is not None, entry)
        if entry is not None:
            verdict.notes.append(f"issued by {entry.issued_by} at "
                                 f"{entry.issued_at.isoformat(timespec='seconds')}, "
                                 f"computed at log position {entry.position}, "
                                 f"SHA-256 {sha}")
        else:
            claim = _claim(keywords)
            if claim is None:
                verdict.problems.append(f"not a report this ledger issued: no report has "
                                        f"SHA-256 {sha}, and the file claims to be none")
                return verdict
            candidates = self.store.claimed(claim["kind"], claim["parameters"],
                                            claim["position"])
            if candidates and sees is not None and not sees(candidates[0]):
                verdict.problems.append(
                    f"altered: the file claims to be a report this ledger issued outside "
                    f"your scope, but no issued report has its SHA-256 {sha}")
                return verdict
            if candidates:
                issued = candidates[0]
                verdict.report = issued
                verdict.problems.append(
                    f"altered: the file claims to be report {issued.sha256} ({issued.title}, "
                    f"issued {issued.issued_at.isoformat(timespec='seconds')}), but its "
                    f"SHA-256 is {sha}")
            else:
                verdict.problems.append(
                    f"not a report this ledger issued: it claims to be a {claim['kind']} at "
                    f"log position {claim['position']} with {claim['parameters']}, and no "
                    "such report was issued")
        kind = entry.kind if entry is not None else (_claim(keywords) or {}).get("kind")
        if kind == "dossier":
            self._check_events(verdict, attachments, events_of)
        return verdict

    @staticmethod
    def _verify_unseen(content: bytes, read_pdf: PdfReader, sha: str) -> Verdict:
        verdict = Verdict(True)
        verdict.notes.append(f"a report this ledger issued, unaltered (SHA-256 {sha}); it "
                             "is outside your scope, so who issued it and when is not shown")
        try:
            _keywords, attachments = read_pdf(content)
        except ValueError:
            return verdict
        if "events.json" in attachments:
            verdict.notes.append("its attached events were not compared with the ledger's: "
                                 "the case is outside your scope")
        return verdict

    @staticmethod
    def _check_events(verdict: Verdict, attachments: dict[str, bytes],
                      events_of: EventsOf) -> None:
        attached = attachments.get("events.json")
        if attached is None:
            verdict.ok = False
            verdict.problems.append("the dossier's events.json attachment is missing")
            return
        stored, missing = events_of(attached)
        for case in missing:
            verdict.ok = False
            verdict.problems.append(f"{case}: named in the attached events, not in the ledger")
        if stored != attached:
            verdict.ok = False
            verdict.problems.extend(_event_differences(attached, stored))
        elif not missing:
            verdict.notes.append("its attached events equal the events the ledger holds")


def _claim(keywords: str) -> dict[str, Any] | None:
    """The claim in the PDF's keywords (which PDF joins with commas, as JSON has them too:
    the claim is decoded from where its prefix starts)."""
    start = keywords.find(CLAIM_PREFIX)
    if start < 0:
        return None
    try:
        claim, _ = json.JSONDecoder().raw_decode(keywords, start + len(CLAIM_PREFIX))
    except ValueError:
        return None
    if isinstance(claim, dict) and {"kind", "position", "parameters"} <= set(claim):
        return claim
    return None


def _event_differences(attached: bytes, stored: bytes) -> list[str]:
    """Names each event that differs, by case and version."""
    def by_key(raw: bytes) -> dict[tuple[str, int], Any]:
        try:
            events = json.loads(raw)["events"]
        except (ValueError, KeyError, TypeError):
            return {}
        return {(str(e.get("originator_id")), int(e["originator_version"])): e
                for e in events if isinstance(e, dict) and "originator_version" in e}
    mine, theirs = by_key(attached), by_key(stored)
    if not mine:
        return ["the attached events.json cannot be read"]
    names: dict[str, str] = {}
    for (originator, _), event in (*mine.items(), *theirs.items()):
        state = event.get("state")
        if isinstance(state, dict) and isinstance(state.get("number"), str):
            names.setdefault(originator, state["number"])
    problems = []
    for key in sorted(set(mine) | set(theirs)):
        originator, version = key
        case = names.get(originator, originator)
        if key not in theirs:
            problems.append(f"{case} version {version}: attached, but not in the ledger")
        elif key not in mine:
            problems.append(f"{case} version {version}: in the ledger, missing from the "
                            "attachment")
        elif mine[key] != theirs[key]:
            problems.append(f"{case} version {version}: the attached event differs from "
                            "the ledger's")
    return problems or ["the attached events differ from the ledger's"]

