"""Fast, read-only paging of the events table for whole-log scans (verify, seals).

The library's select_notifications builds a dict row and a dataclass per event, which is
most of the cost of a scan whose real work is one SHA-256 per event; this reads plain
tuples, with the id already in its canonical text form, and falls back to the library's API
for any other recorder.
"""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

Row = tuple[int, str, int, str, bytes]
"""(notification id, canonical originator id, version, topic, state)"""


def _hyphenate(hex_id: str) -> str:
    if len(hex_id) != 32:
        return hex_id
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def pages(recorder: ApplicationRecorder, page_size: int = 10_000) -> Iterator[list[Row]]:
    last = 0
    while True:
        page = _page(recorder, last, page_size)
        if not page:
            return
        yield page
        if len(page) < page_size:
            return
        last = page[-1][0]


def _page(recorder: ApplicationRecorder, after: int, limit: int) -> list[Row]:
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = (f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                     f"{recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?")
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, limit))
            return [(r[0], _hyphenate(r[1]), r[2], r[3], bytes(r[4]))
                    for r in cursor.fetchall()]
    if isinstance(recorder, PostgresApplicationRecorder):
        query = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(table=Identifier(recorder.datastore.schema, recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(query, (after, limit))
            return [(r[0], r[1], r[2], r[3], r[4]) for r in cursor.fetchall()]
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=after + 1, limit=limit)]
