"""Evidence documents an importer's representative uploads for a plan action: kept by
their SHA-256 (the hash the `ActionCompleted` event records), in the events database, with
the type found from the bytes themselves (never the browser's claim). A document is only
ever served back as a download, as the type it was accepted as, so an upload can never
become a page or a script on this site."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidValueError
from infrastructure.sql_tables import SqlTables

EVIDENCE_TABLE = "compliance_evidence_documents"
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
"""Scans of certificates, procedures and audit reports fit; a video does not."""

ACCEPTED: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"PK\x03\x04", "application/zip", "zip"),
)
"""Signatures of what is accepted (PDF, PNG, JPEG, and office documents, which are zip
containers); plain text is accepted when it decodes as UTF-8 with no control characters
and is not markup (HTML, SVG, XML: a page or a script, whatever its name says)."""

REFUSED_SUFFIXES = (".html", ".htm", ".xhtml", ".svg", ".xml", ".js", ".mjs", ".exe", ".bat",
                    ".cmd", ".sh", ".ps1", ".jar", ".msi", ".dll", ".scr", ".hta", ".php")


def evidence_ddl(postgres: bool) -> list[str]:
    blob = "BYTEA" if postgres else "BLOB"
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{EVIDENCE_TABLE} ("
            "sha256 TEXT PRIMARY KEY, file_name TEXT NOT NULL, content_type TEXT NOT NULL, "
            f"size BIGINT NOT NULL, stored_at TEXT NOT NULL, stored_by TEXT NOT NULL, "
            f"content {blob} NOT NULL)"]


@dataclass(frozen=True)
class EvidenceDocument:
    sha256: str
    file_name: str
    content_type: str
    size: int


def sniff(content: bytes, field: str = "document_file", file_name: str = "") -> str:
    """The content type the bytes are, or a refusal naming the field."""
    if file_name.lower().rstrip(". ").endswith(REFUSED_SUFFIXES):
        raise InvalidValueError(field, file_name, "pages, scripts and programs are not "
                                "accepted as evidence")
    if not content:
        raise InvalidValueError(field, "", "the file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidValueError(field, f"{len(content)} bytes",
                                f"is over the limit of {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
    for signature, content_type, _ in ACCEPTED:
        if content.startswith(signature):
            return content_type
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if (text is not None and not text.lstrip().startswith("<")
            and all(c.isprintable() or c in "\n\r\t" for c in text)):
        return "text/plain"
    raise InvalidValueError(field, "upload", "accepted are PDF, PNG, JPEG, office documents "
                            "and plain UTF-8 text")


def clean_file_name(name: str) -> str:
    """The name as shown and offered on download: no path, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')
    return cleaned.strip()[:120] or "document"


class EvidenceStore:
    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables
        self._table = tables.name(EVIDENCE_TABLE)

    def store(self, content: bytes, file_name: str, *, by: str,
              at: datetime) -> EvidenceDocument:
        """Kept once per content (a second upload of the same bytes keeps the first)."""
        content_type = sniff(content, file_name=file_name)
        document = EvidenceDocument(hashlib.sha256(content).hexdigest(),
                                    clean_file_name(file_name), content_type, len(content))
        with self.tables.transaction() as cursor:
            cursor.execute(self.tables.sql(
                f"INSERT INTO {self._table} (sha256, file_name, content_type, size, "
                "stored_at, stored_by, content) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING"),
                (document.sha256, document.file_name, content_type, len(content),
                 at.isoformat(), by, content))
        return document

    def fetch(self, sha256: str) -> tuple[EvidenceDocument, bytes] | None:
        """The document, its bytes checked against its hash (altered bytes are refused)."""
        rows = self.tables.read(f"SELECT file_name, content_type, size, content FROM "
                                f"{self._table} WHERE sha256 = ?", (sha256,))
        if not rows:
            return None
        file_name, content_type, size, content = rows[0]
        data = bytes(content)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"the stored bytes of evidence {sha256[:12]} no longer have its "
                             "SHA-256: the store was altered")
        return EvidenceDocument(sha256, str(file_name), str(content_type), int(size)), data
