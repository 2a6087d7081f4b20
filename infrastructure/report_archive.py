"""Where issued reports are kept: their bytes by SHA-256 (in the database, or in a directory
named by COMPLIANCE_REPORT_STORE), and an index row per report for listing, both written in
the transaction that records the `ReportIssued` event (a file is written first: a file
nobody issued is harmless, an issued report without its bytes is not)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from application.reports.archive import IndexedReport
from infrastructure.sql_tables import SqlTables

INDEX_TABLE = "compliance_report_index"
CONTENT_TABLE = "compliance_report_content"


def report_ddl(postgres: bool) -> list[str]:
    blob = "BYTEA" if postgres else "BLOB"
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{INDEX_TABLE} ("
            "sha256 TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, "
            "parameters TEXT NOT NULL, position BIGINT NOT NULL, generator TEXT NOT NULL, "
            "size BIGINT NOT NULL, district TEXT NOT NULL, importer_number TEXT, "
            "issued_at TEXT NOT NULL, issued_by TEXT NOT NULL, file_name TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {INDEX_TABLE}_by_claim "
            f"ON {{schema}}{INDEX_TABLE} (kind, position)",
            f"CREATE TABLE IF NOT EXISTS {{schema}}{CONTENT_TABLE} ("
            f"sha256 TEXT PRIMARY KEY, content {blob} NOT NULL)"]


def _entry(row: Sequence[Any]) -> IndexedReport:
    (sha, kind, title, parameters, position, generator, size, district, importer,
     issued_at, issued_by, file_name) = row
    return IndexedReport(str(sha), str(kind), str(title), dict(json.loads(str(parameters))),
                         int(position), str(generator), int(size), str(district),
                         None if importer is None else str(importer),
                         datetime.fromisoformat(str(issued_at)), str(issued_by),
                         str(file_name))


COLUMNS = ("sha256, kind, title, parameters, position, generator, size, district, "
           "importer_number, issued_at, issued_by, file_name")


def canonical_parameters(parameters: dict[str, str]) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


class ReportArchiveStore:
    """The index (always in the database) and the bytes (database or directory)."""

    def __init__(self, tables: SqlTables, directory: Path | None = None) -> None:
        self.tables, self.directory = tables, directory
        self._index = tables.name(INDEX_TABLE)
        self._content = tables.name(CONTENT_TABLE)

    @property
    def where(self) -> str:
        return str(self.directory) if self.directory else "the database"

    def writer(self, entry: IndexedReport, content: bytes) -> Callable[[Any], None]:
        """For the save of the `ReportIssued` event: the index row, and the bytes when they
        live in the database. With a directory the file is written here, before."""
        if hashlib.sha256(content).hexdigest() != entry.sha256:
            raise ValueError("the content does not have the report's SHA-256")
        if self.directory is not None:
            self._write_file(entry.sha256, content)
        row = (entry.sha256, entry.kind, entry.title, canonical_parameters(entry.parameters),
               entry.position, entry.generator, entry.size, entry.district,
               entry.importer_number, entry.issued_at.isoformat(), entry.issued_by,
               entry.file_name)

        def write(cursor: Any) -> None:
            self.tables.execute_in(cursor, f"INSERT INTO {self._index} ({COLUMNS}) VALUES "
                                   f"({', '.join('?' * 12)}) ON CONFLICT (sha256) DO NOTHING",
                                   row)
            if self.directory is None:
                self.tables.execute_in(cursor, f"INSERT INTO {self._content} (sha256, "
                                       "content) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING",
                                       (entry.sha256, content))
        return write

    def _write_file(self, sha256: str, content: bytes) -> None:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{sha256}.pdf"
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            return
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)

    def content(self, sha256: str) -> bytes | None:
        """The bytes as issued, checked against their hash (a file or row edited since is
        refused, never served)."""
        if self.directory is not None:
            path = self.directory / f"{sha256}.pdf"
            data = path.read_bytes() if path.exists() else None
        else:
            found = self.tables.read(f"SELECT content FROM {self._content} WHERE sha256 = ?",
                                     (sha256,))
            data = bytes(found[0][0]) if found else None
        if data is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"the stored bytes of report {sha256[:12]} no longer have its "
                             "SHA-256: the archive was altered")
        return data

    def find(self, sha256: str) -> IndexedReport | None:
        rows = self.tables.read(f"SELECT {COLUMNS} FROM {self._index} WHERE sha256 = ?",
                                (sha256,))
        return _entry(rows[0]) if rows else None

    def claimed(self, kind: str, parameters: dict[str, str],
                position: int) -> list[IndexedReport]:
        """Reports issued for the same kind, parameters and log position (what a PDF says it
        is): the candidates an altered file was made from."""
        rows = self.tables.read(f"SELECT {COLUMNS} FROM {self._index} WHERE kind = ? AND "
                                "position = ? AND parameters = ?",
                                (kind, position, canonical_parameters(parameters)))
        return [_entry(row) for row in rows]

    def listed(self, *, districts: frozenset[str] | None, importers: frozenset[str] | None,
               kind: str | None = None, limit: int = 100) -> list[IndexedReport]:
        """Newest first, within a scope: `districts` None is every district and the
        national reports; `importers` narrows to those importers' dossiers."""
        clauses, params = [], []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if importers is not None:
            marks = ", ".join("?" * len(importers)) or "NULL"
            clauses.append(f"importer_number IN ({marks})")
            params.extend(sorted(importers))
        elif districts is not None:
            marks = ", ".join("?" * len(districts)) or "NULL"
            clauses.append(f"district IN ({marks})")
            params.extend(sorted(districts))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.tables.read(f"SELECT {COLUMNS} FROM {self._index}{where} "
                                f"ORDER BY issued_at DESC, sha256 LIMIT {int(limit)}",
                                tuple(params))
        return [_entry(row) for row in rows]
