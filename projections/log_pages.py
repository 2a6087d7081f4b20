"""Reading the notification log in large pages for a rebuild.

On PostgreSQL the pages are read in binary (no hex decoding of the states) on a connection
of their own, by a thread that fetches the next page while the rebuild folds the current
one, so the server's part of the read overlaps the rebuild's work. Elsewhere the
recorder's own `select_notifications` reads them. Either way a page is a list of tuples
(notification id, originator id, originator version, topic, state), which the
application's mapper decodes; the originator id is a UUID, or on PostgreSQL its text
(see _postgres_pages).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

PAGE = 5000
"""Notification ids per page (the rebuild reads by ranges of ids, see _postgres_pages)."""
PREFETCH = 2
"""Pages read ahead (bounded, so a slow fold never holds more than this in memory)."""

Row = tuple[int, Any, int, str, bytes]
Page = Sequence[Row]


def log_pages(recorder: ApplicationRecorder, start: int, stop: int,
              topics: Sequence[str] = (), page: int = PAGE) -> Iterator[Page]:
    """The notifications after `start` up to `stop` (of `topics`, or all), in order, a
    page at a time."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return _prefetched(_postgres_pages(recorder, start, stop, topics, page))
    return _recorder_pages(recorder, start, stop, topics, page)


def _recorder_pages(recorder: ApplicationRecorder, start: int, stop: int,
                    topics: Sequence[str], page: int) -> Iterator[Page]:
    while start < stop:
        found = recorder.select_notifications(start=start, limit=page, stop=stop,
                                              topics=topics, inclusive_of_start=False)
        if not found:
            return
        yield [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in found]
        start = found[-1].id


def _postgres_pages(recorder: PostgresApplicationRecorder, start: int, stop: int,
                    topics: Sequence[str], page: int) -> Generator[Page, None, None]:
    """Pages by ranges of `page` notification ids, not by counts of rows: a range is
    always read off the notification id index, whatever the planner believes of the
    table (after a bulk load its statistics can be far off, and a LIMIT with a topic
    filter was then planned as a scan and sort of the rest of the log for every page).
    The originator id comes as text: the views only ever print it, and a UUID made only
    to be printed costs the fold two conversions per event where the server's text
    costs none."""
    query = sql.SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state "
        "FROM {} WHERE notification_id > %s AND notification_id <= %s{} "
        "ORDER BY notification_id").format(
            sql.Identifier(recorder.datastore.schema, recorder.events_table_name),
            sql.SQL(" AND topic = ANY(%s)") if topics else sql.SQL(""))
    with recorder.datastore.get_connection() as conn, \
            conn.cursor(binary=True, row_factory=tuple_row) as cursor:
        while start < stop:
            upto = min(start + page, stop)
            params: list[Any] = [start, upto, *([list(topics)] if topics else [])]
            found = cursor.execute(query, params, prepare=True).fetchall()
            if found:
                yield found
            start = upto


_END = object()


def _prefetched(pages: Generator[Page, None, None]) -> Iterator[Page]:
    """`pages`, read by a thread of their own up to PREFETCH pages ahead. Stopping early
    (an error in the fold) stops the reader too."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
    stopped = threading.Event()

    def offer(item: Any) -> bool:
        """Hand `item` over unless the consumer has stopped; False once it has."""
        while not stopped.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for found in pages:
                if not offer(found):
                    return
            offer(_END)
        except BaseException as error:  # handed to the consumer
            offer(error)
        finally:
            pages.close()  # its connection back to the pool

    reader = threading.Thread(target=read, name="rebuild-log-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        reader.join(timeout=30)
