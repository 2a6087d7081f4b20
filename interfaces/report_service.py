"""The reports, composed once for every interface (the CLI's `compliance report`, the HTTP
API's /api/reports and the scheduler's periodic reports): build a document as the caller
may see it, render it, archive it with its `ReportIssued` event, list and fetch issued
reports within the caller's scope, and check a file against the ledger."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.access import ForbiddenError, Principal, acting_as
from application.compliance_cases import ComplianceCases
from application.reports.archive import (
    IndexedReport,
    Issued,
    ReportArchive,
    Verdict,
    claim_keyword,
)
from application.reports.document import ReportDocument
from domain.errors import InvalidValueError
from infrastructure.report_archive import ReportArchiveStore
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables

Progress = Callable[[str], None]
"""Told each stage of a long report as it starts (gathering, rendering, archiving)."""


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    subject: str | None = None
    """A dossier's case number or importer number."""
    period: str | None = None
    district: str | None = None
    year: str | None = None

    def describe(self) -> str:
        if self.kind == "dossier":
            return f"dossier of {self.subject}"
        if self.kind == "plan":
            return f"plan {self.period} ({self.district or 'national'})"
        return f"annual report {self.year}"


def file_name(document: ReportDocument) -> str:
    """A readable name for the download: kind, what it is about, the log position."""
    about = "-".join(v for v in document.parameters.values() if v) or "report"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in about)
    return f"{document.kind}-{safe}-at-{document.position}.pdf"


class ReportService:
    def __init__(self, app: ComplianceCases, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.store = ReportArchiveStore(SqlTables(app.recorder), settings.report_store)
        self.archive = ReportArchive(app, self.store)

    # -- building ---------------------------------------------------------------------

    def build(self, request: ReportRequest, caller: Principal | None,
              position: int | None = None) -> ReportDocument:
        """The document as `caller` may see it: a dossier's cases load within the caller's
        scope (outside it: not found); a plan for a district needs that district, a
        national plan or annual report a national caller."""
        if request.kind == "dossier":
            if not request.subject:
                raise InvalidValueError("subject", request.subject,
                                        "name a case number or an importer number")
            from application.reports.dossier import build_dossier
            from infrastructure.report_evidence import StoreEvidence

            evidence = StoreEvidence(self.app.recorder, self.settings.seal_public_key_path)
            with acting_as(caller):
                document = build_dossier(self.app, request.subject, evidence=evidence,
                                         position=position)
                if position is not None:
                    return document
                stable = self._dossier_position(document, evidence)
                if stable == document.position:
                    return document
                return build_dossier(self.app, request.subject, evidence=evidence,
                                     position=stable)
        from interfaces.periodic_reports import build_annual_report, build_plan_report

        if request.kind == "plan":
            self._may_see(caller, request.district)
            return build_plan_report(self.app, request.period or "", request.district,
                                     position=position)
        if request.kind == "annual":
            self._may_see(caller, None)
            return build_annual_report(self.app, request.year or "", position=position)
        raise InvalidValueError("kind", request.kind, "expected dossier, plan or annual")

    def _dossier_position(self, document: ReportDocument, evidence: Any) -> int:
        """Where a dossier is computed by default: at the first seal that covers the
        case's last event, else at that event. So the same case at the same version gives
        the same bytes, whatever was recorded elsewhere since, and once sealed the dossier
        shows the seal that proves it."""
        from application.reports.ledger_evidence import EVENTS_NAME, attached_versions
        from domain.seal_log import SEAL_LOG_ID, SealLog

        events = next((a.content for a in document.attachments if a.name == EVENTS_NAME),
                      None)
        if events is None:
            return document.position
        order, _ = attached_versions(events)
        end = self.app.recorder.max_notification_id() or 0
        last = max((ids[-1] for ids in (evidence.notification_ids(case, end)
                                        for case in order) if ids), default=0)
        if last == 0:
            return document.position
        seal_positions = evidence.notification_ids(SEAL_LOG_ID, end)
        stored = self.app.events.recorder.select_events(SEAL_LOG_ID)
        for where, event in zip(seal_positions, stored, strict=False):
            decoded = self.app.decode_stored_event(event)
            if (where > last and isinstance(decoded, SealLog.Sealed)
                    and decoded.checkpoint >= last):
                return int(where)
        return int(last)

    @staticmethod
    def _may_see(caller: Principal | None, district: str | None) -> None:
        if caller is None:
            return
        districts, importers = caller.list_scope()
        if importers is not None:
            raise ForbiddenError(caller.actor, "read:reports", f"{caller.actor} may read "
                                 "only the dossiers of the importers they represent")
        if districts is not None and (district is None or district not in districts):
            where = f"district {district}" if district else "the whole country"
            raise ForbiddenError(caller.actor, "read:reports", f"{caller.actor} may not "
                                 f"issue a report on {where}: it is outside their districts")

    # -- issuing ----------------------------------------------------------------------

    def issue(self, request: ReportRequest, *, actor: str, reason: str,
              caller: Principal | None = None, position: int | None = None,
              progress: Progress | None = None) -> tuple[Issued, bytes]:
        """Builds, renders (PDF/A-3b) and archives; the same report at the same position
        gives the same bytes, so issuing it again finds the first record."""
        from infrastructure.pdf_render import render_pdf

        self.app.authorise(actor, "issue_report")
        say = progress or (lambda _: None)
        say(f"gathering the {request.describe()}")
        document = self.build(request, caller, position)
        document = dataclasses.replace(document, keywords=(*document.keywords,
                                                           claim_keyword(document)))
        say("rendering the PDF")
        content = render_pdf(document)
        say("archiving")
        issued = self.archive.issue(document, content, actor=actor, reason=reason,
                                    file_name=file_name(document))
        return issued, content

    # -- reading ----------------------------------------------------------------------

    def listed(self, caller: Principal | None, kind: str | None = None,
               limit: int = 100) -> list[IndexedReport]:
        found: list[IndexedReport] = self.archive.listed(caller, kind=kind, limit=limit)
        return found

    def get(self, sha256: str, caller: Principal | None) -> tuple[Any, bytes]:
        return self.archive.get(sha256, caller)

    def _visible(self, case: Any, caller: Principal | None) -> bool:
        """Whether the case is stored and within the caller's scope: a dossier's attached
        events are compared only with cases the caller may read (else named missing)."""
        found = self.app.find_aggregate(case)
        if found is None or caller is None:
            return found is not None
        district = getattr(found, "district", None)
        importer = getattr(found, "importer_number", None)
        return caller.sees(None if district is None else str(district),
                           None if importer is None else str(importer))

    def verify(self, content: bytes, caller: Principal | None = None) -> Verdict:
        """`caller`: whose scope limits what the verdict names (None: the operator's CLI)."""
        from application.reports.ledger_evidence import attached_versions, dossier_events
        from infrastructure.pdf_inspect import read_report

        def events_of(attached: bytes) -> tuple[bytes, list[str]]:
            try:
                order, versions = attached_versions(attached)
            except ValueError:
                return b"", ["the attached events.json is not a dossier's events"]
            missing = [str(case) for case in order if not self._visible(case, caller)]
            present = [case for case in order if str(case) not in missing]
            return dossier_events(self.app, present, versions=versions), missing

        sees = None if caller is None else (
            lambda entry: caller.sees(entry.district, entry.importer_number))
        return self.archive.verify(content, read_report, events_of, sees)
