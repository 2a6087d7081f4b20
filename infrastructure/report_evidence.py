"""What a dossier prints so a reader can check the paper against the ledger, read from the
store: where each event sits in the notification log, the content hash of a stored event
(the chain's link, infrastructure.hash_chain), and the fingerprint of the public key that
checks commit and seal signatures. The application's report builders take it through the
`LedgerEvidence` port (application.reports.ledger_evidence), since the hash scheme and the
key file are infrastructure's business.
"""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infrastructure.hash_chain import event_hash
from infrastructure.signing_keys import SealKeyError, key_id, load_public_key


class StoreEvidence:
    """`LedgerEvidence` over the events table of either store and the ledger's public key
    file (None, or a file that is missing: the fingerprint is reported as unavailable)."""

    def __init__(self, recorder: ApplicationRecorder, public_key_path: Path | None) -> None:
        self.recorder = recorder
        self.public_key_path = public_key_path

    def notification_ids(self, originator_id: UUID, up_to: int) -> list[int]:
        """The log positions of an aggregate's events recorded at or before `up_to`, in
        version order (versions 1..n, so n is its version as of `up_to`)."""
        recorder = self.recorder
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = (f"SELECT rowid FROM {recorder.events_table_name} WHERE "
                         "originator_id = ? AND rowid <= ? ORDER BY originator_version")
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, (originator_id.hex, up_to))
                return [int(row[0]) for row in cursor.fetchall()]
        if isinstance(recorder, PostgresApplicationRecorder):
            query = SQL("SELECT notification_id FROM {table} WHERE originator_id = %s AND "
                        "notification_id <= %s ORDER BY originator_version").format(
                table=Identifier(recorder.datastore.schema, recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, \
                    conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(query, (originator_id, up_to))
                return [int(row[0]) for row in cursor.fetchall()]
        raise TypeError(f"no notification positions for a {type(recorder).__name__}")

    def content_hash(self, event: StoredEvent) -> str:
        return event_hash(event.topic, event.originator_id, event.originator_version,
                          event.state)

    def key_fingerprint(self) -> str | None:
        if self.public_key_path is None:
            return None
        try:
            return key_id(load_public_key(self.public_key_path))
        except SealKeyError:
            return None
