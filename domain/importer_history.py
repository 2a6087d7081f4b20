"""What an importer's cases say about it, as risk scoring and selection use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ImporterHistory:
    findings: int = 0
    """Assessments whose findings required an improvement plan or enforcement."""
    enforcement: int = 0
    programmes: set[str] = field(default_factory=set)
    """Partnership programmes the importer is in now."""
    compliance_class: str | None = None
    closed: bool = False
    last_assessed: date | None = None
    """When the latest assessment of the importer was opened."""
