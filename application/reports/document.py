"""What a report builder hands the renderer: complete HTML (its own stylesheet and SVG
charts inline), the files to attach inside the PDF, and the metadata to stamp. Everything
in it is derived from the ledger as of `position`, never from the clock, so the same
report at the same position renders to the same bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

GENERATOR_VERSION = "compliance-ledger-reports/3"
"""Printed on every report and recorded when it is issued; raise it when a report's
content or layout changes, so an archived report can be told from a re-render."""


@dataclass(frozen=True)
class Attachment:
    name: str
    """File name inside the PDF, e.g. `events.json`."""
    content: bytes
    media_type: str
    description: str
    relationship: str = "Source"
    """PDF/A-3 AFRelationship: Source, Data, Supplement, ..."""


@dataclass(frozen=True)
class ReportDocument:
    kind: str
    """"dossier", "plan" or "annual"."""
    title: str
    html: str
    as_of: datetime
    """The time of the last event at `position`: the document's creation date."""
    position: int
    """The log position (notification id) the figures were computed at."""
    parameters: dict[str, str]
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    district: str | None = None
    """The district the report is about (None: national), which scopes who may read it."""
    importer_number: str | None = None
    """For a dossier: the importer, so its representatives may read it."""
    subject: str = ""
    keywords: tuple[str, ...] = ()
