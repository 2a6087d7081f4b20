"""ImportBatch: the provenance of one ingested file. Its id derives from the kind of data
and the file's SHA-256, so the same file can be recorded only once."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason, refuse_control_characters

INGEST_KINDS = ("accounts", "trade", "samples", "entries")


def import_batch_id(kind: str, sha256: str) -> UUID:
    return natural_id("import-batch", f"{kind}:{sha256}")


class ImportBatch(CaseAggregate):
    kind: str
    file_name: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_digest: str

    def __init__(self) -> None:
        """State is set by the Imported event's apply."""

    class Imported(CaseAggregate.Created):
        kind: str
        file_name: str
        sha256: str
        rows_read: int
        rows_loaded: int
        rows_rejected: int
        rows_digest: str
        """SHA-256 over the stored rows' digests (application.ingest.row_digest); empty for
        the importer register, whose rows are events themselves."""

        def apply(self, aggregate: ImportBatch) -> None:
            aggregate.kind = self.kind
            aggregate.file_name = self.file_name
            aggregate.sha256 = self.sha256
            aggregate.rows_read = self.rows_read
            aggregate.rows_loaded = self.rows_loaded
            aggregate.rows_rejected = self.rows_rejected
            aggregate.rows_digest = self.rows_digest

    @classmethod
    def record(cls, kind: str, file_name: str, sha256: str, *, rows_read: int,
               rows_loaded: int, rows_rejected: int, actor: str, reason: str,
               at: datetime, rows_digest: str = "") -> ImportBatch:
        refuse_control_characters("file_name", file_name)
        if kind not in INGEST_KINDS:
            raise InvalidValueError("kind", kind, f"expected one of: {', '.join(INGEST_KINDS)}")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidValueError("sha256", sha256, "not a SHA-256 hex digest")
        if min(rows_read, rows_loaded, rows_rejected) < 0 or \
                rows_loaded + rows_rejected > rows_read:
            raise InvalidValueError("rows_loaded", rows_loaded,
                                    f"loaded {rows_loaded} + rejected {rows_rejected} "
                                    f"exceed the {rows_read} rows read")
        if rows_digest and (len(rows_digest) != 64
                            or any(c not in "0123456789abcdef" for c in rows_digest)):
            raise InvalidValueError("rows_digest", rows_digest, "not a SHA-256 hex digest")
        return cls._create(cls.Imported, id=import_batch_id(kind, sha256), timestamp=at,
                           actor=parse_actor(actor), reason=parse_reason(reason), kind=kind,
                           file_name=file_name, sha256=sha256, rows_read=rows_read,
                           rows_loaded=rows_loaded, rows_rejected=rows_rejected,
                           rows_digest=rows_digest)
