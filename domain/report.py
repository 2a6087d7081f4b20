"""An issued report, as the ledger remembers it: what kind, about what, computed at which
position in the log, by which generator, and the SHA-256 of the exact bytes handed out.

Its id is derived from that hash: the same document issued twice (a dossier of an
unchanged case, a re-run of the quarter's plan) is one report, recorded once. Its
district (or "national") and importer scope who may read it, like a case."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason

REPORT_KINDS = ("dossier", "plan", "annual")
NATIONAL = "national"
"""The district of a report about every district: only national users read it."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def report_id(sha256: str) -> UUID:
    return natural_id("report", sha256)


def parse_sha256(value: str, field: str = "sha256") -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _SHA256.match(text):
        raise InvalidValueError(field, value, "expected 64 hexadecimal digits (a SHA-256)")
    return text


class IssuedReport(CaseAggregate):
    kind: str
    title: str
    parameters: dict[str, str]
    position: int
    generator: str
    sha256: str
    size: int
    district: str
    importer_number: str | None
    file_name: str

    def __init__(self) -> None:
        """State is set by the Issued event's apply."""

    @property
    def label(self) -> str:
        return f"report {self.sha256[:12]} ({self.title})"

    @property
    def issued_at(self) -> datetime:
        return self.created_on

    @property
    def issued_by(self) -> str:
        return self.issuer

    issuer: str = ""

    class Issued(CaseAggregate.Created):
        kind: str
        title: str
        parameters: dict[str, str]
        position: int
        generator: str
        sha256: str
        size: int
        district: str
        importer_number: str | None
        file_name: str

        def apply(self, aggregate: IssuedReport) -> None:
            for name in ("kind", "title", "parameters", "position", "generator", "sha256",
                         "size", "district", "importer_number", "file_name"):
                setattr(aggregate, name, getattr(self, name))
            aggregate.issuer = self.actor

    @classmethod
    def issue(cls, *, kind: str, title: str, parameters: Mapping[str, str], position: int,
              generator: str, sha256: str, size: int, district: str | None,
              importer_number: str | None, file_name: str, actor: str, reason: str,
              at: datetime) -> IssuedReport:
        if kind not in REPORT_KINDS:
            raise InvalidValueError("kind", kind, f"expected one of {', '.join(REPORT_KINDS)}")
        if position < 0 or size <= 0:
            raise InvalidValueError("position", position, "a report is computed at a "
                                                          "position of the log, and has bytes")
        digest = parse_sha256(sha256)
        return cls._create(
            cls.Issued, id=report_id(digest), timestamp=require_aware(at),
            actor=parse_actor(actor), reason=parse_reason(reason), kind=kind,
            title=parse_reason(title, "title"),
            parameters={str(k): str(v) for k, v in sorted(parameters.items())},
            position=position, generator=generator, sha256=digest, size=size,
            district=district or NATIONAL, importer_number=importer_number,
            file_name=file_name)
