"""PostgreSQL application recorder that inserts events with one database-function call
while keeping the library's commit-order guarantee.

The library's own function (POSTGRES_ENABLE_DB_FUNCTIONS) saves a round trip but takes no
EXCLUSIVE lock on the events table, so notification ids could commit out of order under
concurrent writers and a projection following the log could pass over a gap that is filled
later. This function takes the same lock as the library's pipelined path (the lock is held
until the function's implicit transaction commits), so it is as safe and one round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Composed, Identifier

from application.histories import HistoryRequest, StoredHistory, histories_from_rows
from infrastructure import change_feed_sql
from infrastructure.copy_rows import binary_blocks
from infrastructure.pool_order import hand_out_most_recent_first

BULK_THRESHOLD = 256
"""From this many events a save goes through COPY, PostgreSQL's bulk path."""

WRITE_ALSO = "write_also"
"""Keyword of a save whose transaction must also write other tables (ingested rows, risk
scores): a callable given the transaction's cursor, run after the events are inserted."""
WRITE_FIRST = "write_first"
"""Keyword of a bulk save whose other tables are written before its events, in the same
transaction (a risk run's scores, sent while its events are still being made)."""


_WANTED = (
    "WITH wanted AS MATERIALIZED ("
    " SELECT w.id, w.ends, CASE WHEN w.ends THEN NULL ELSE {latest_snapshot} END AS snap"
    " FROM unnest({ids}::uuid[], {ends}::bool[]) AS w(id, ends))")
_LATEST_SNAPSHOT = ("(SELECT max(s.originator_version) FROM {snapshots} s"
                    " WHERE s.originator_id = w.id)")
_SNAPSHOT_ROWS = (
    " SELECT true AS is_snapshot, s.originator_id, s.originator_version, s.topic, s.state"
    " FROM wanted JOIN {snapshots} s"
    " ON s.originator_id = wanted.id AND s.originator_version = wanted.snap UNION ALL")
_EVENT_ROWS = (
    " SELECT false, e.originator_id, e.originator_version, e.topic, e.state"
    " FROM wanted JOIN {events} e ON e.originator_id = wanted.id"
    " WHERE NOT wanted.ends AND e.originator_version >= COALESCE(wanted.snap, 1)"
    " UNION ALL"
    " SELECT false, e.originator_id, e.originator_version, e.topic, e.state"
    " FROM wanted CROSS JOIN LATERAL ("
    "  (SELECT originator_id, originator_version, topic, state FROM {events}"
    "   WHERE originator_id = wanted.id ORDER BY originator_version ASC LIMIT 1)"
    "  UNION ALL"
    "  (SELECT originator_id, originator_version, topic, state FROM {events}"
    "   WHERE originator_id = wanted.id ORDER BY originator_version DESC LIMIT 1)) e"
    " WHERE wanted.ends")


def histories_statement(schema: str, events: str, snapshots: str | None, *,
                        arguments: tuple[str, str] = ("%b", "%b")) -> Composed:
    """One statement for several aggregates: each one's latest snapshot with the events
    from its version on (or all its events), or only its first and last events (see
    application.histories). Every part is an index range on the tables' primary keys.
    `arguments`: how the statement names its two arrays (the ids, whether only the ends
    are wanted): client-side placeholders, or a function's parameters."""
    ids, ends = (SQL(argument) for argument in arguments)
    if snapshots is None:
        wanted = SQL(_WANTED).format(latest_snapshot=SQL("NULL::bigint"), ids=ids, ends=ends)
        snapshot_rows: Composable = SQL("")
    else:
        table = Identifier(schema, snapshots)
        wanted = SQL(_WANTED).format(
            latest_snapshot=SQL(_LATEST_SNAPSHOT).format(snapshots=table), ids=ids, ends=ends)
        snapshot_rows = SQL(_SNAPSHOT_ROWS).format(snapshots=table)
    return Composed([wanted, snapshot_rows,
                     SQL(_EVENT_ROWS).format(events=Identifier(schema, events))])


def histories_function_name(snapshots: str | None) -> str:
    return "cl_histories" if snapshots is not None else "cl_histories_no_snapshots"


def histories_function(schema: str, events: str, snapshots: str | None) -> Composed:
    """The histories statement as a PL/pgSQL function that plans it once per session, as
    a generic plan. Sent as a prepared statement, PostgreSQL plans it afresh at every
    execution (the ids' array makes each custom plan look cheaper than the generic one):
    its planning took longer than its execution, about 0.2 ms of every command's
    load. Inside the function `plan_cache_mode` is forced to the generic plan, and that
    plan is pinned to the primary keys (no sequential scans, hash or merge joins): a
    generic plan made while the tables were small would otherwise scan them whole for
    the rest of the session as they grow. A few ids' index ranges are the plan any
    custom one would be."""
    name = Identifier(schema, histories_function_name(snapshots))
    body = histories_statement(schema, events, snapshots, arguments=("$1", "$2"))
    return SQL(
        "CREATE OR REPLACE FUNCTION {name}(uuid[], boolean[]) RETURNS TABLE ("
        "h_is_snapshot boolean, h_originator_id uuid, h_originator_version bigint, "
        "h_topic text, h_state bytea) LANGUAGE plpgsql STABLE "
        "SET plan_cache_mode = force_generic_plan SET enable_seqscan = off "
        "SET enable_hashjoin = off SET enable_mergejoin = off "
        "SET enable_bitmapscan = off AS $histories$ "
        "BEGIN RETURN QUERY {body}; END $histories$").format(name=name, body=body)


class LockingFunctionApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        hand_out_most_recent_first(datastore.pool)  # see infrastructure.pool_order
        table = Identifier(self.datastore.schema, self.events_table_name)
        self.sql_copy_events = SQL(
            "COPY {table} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)").format(table=table)
        self.sql_last_notification_id = SQL(
            "SELECT currval(pg_get_serial_sequence(%s, 'notification_id'))")
        self.qualified_table = f"{self.datastore.schema}.{self.events_table_name}"
        self._histories_statements: dict[str | None, bytes] = {}
        """By snapshots table: the call of the store's histories function, or (a store
        initialised before there was one) the statement itself."""
        self.pg_function_name_insert_events = (
            f"cl_insert_events_locked_{self.datastore.originator_id_type}")
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{insert_events}((%b))"
        ).format(schema=Identifier(self.datastore.schema),
                 insert_events=Identifier(self.pg_function_name_insert_events))
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            "CREATE OR REPLACE FUNCTION "
            "{schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint "
            "LANGUAGE plpgsql "
            "AS "
            "$BODY$"
            "DECLARE pos bigint;"
            "BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    {announce}"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "    RETURN NEXT -pos;"  # the change feed's position, told apart by its sign
            "END;"
            "$BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            announce=change_feed_sql.announce_events_sql(self.datastore.schema),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        # The change feed's sequence and function, created with the tables (and before
        # the insert function that calls it).
        self.sql_create_statements[self.create_insert_function_statement_index:
                                   self.create_insert_function_statement_index] = (
            change_feed_sql.create_statements(self.datastore.schema))
        self.create_insert_function_statement_index += 2
        self.sql_announce = change_feed_sql.announce_sql(self.datastore.schema)

    def select_histories(self, requests: Sequence[HistoryRequest],
                         snapshots_table: str | None) -> dict[UUID, StoredHistory]:
        """Several aggregates' stored rows in one round trip (see histories_statement);
        `snapshots_table` is the snapshot store's table in this schema, if there is one."""
        if not requests:
            return {}
        statement = self._histories_statements.get(snapshots_table)
        if statement is None:  # composed once: composing it on every call costs more
            statement = self._histories_call(snapshots_table)
            self._histories_statements[snapshots_table] = statement
        params = ([r.originator_id for r in requests], [r.ends for r in requests])
        # Rows in binary: a state comes as its bytes, where as text the server spells it
        # in hex and the client decodes that again.
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params, prepare=True, binary=True)
            rows = curs.fetchall()
        return histories_from_rows(
            (is_snapshot, StoredEvent(originator_id=originator_id,
                                      originator_version=version, topic=topic,
                                      state=bytes(state)))
            for is_snapshot, originator_id, version, topic, state in rows)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        write_also: Callable[[Any], None] | None = kwargs.pop(WRITE_ALSO, None)
        write_first: Callable[[Any], None] | None = kwargs.pop(WRITE_FIRST, None)
        if not stored_events and write_also is None and write_first is None:
            return []
        if write_also is None and write_first is None and (
                len(stored_events) < BULK_THRESHOLD or kwargs.get("tracking") is not None):
            ids: list[int] = self._call_insert_function(stored_events)
            return ids
        return self._copy_events(stored_events, write_also, write_first)

    def _histories_call(self, snapshots_table: str | None) -> bytes:
        """A call of the histories function when the store has it (`compliance init` and
        `compliance migrate` create it), else the statement it runs."""
        schema = self.datastore.schema
        function = histories_function_name(snapshots_table)
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute("SELECT to_regprocedure(%s) IS NOT NULL",
                         (f"{schema}.{function}(uuid[], boolean[])",))
            found = curs.fetchone()
        if found is not None and found[0]:
            return SQL("SELECT * FROM {}(%b, %b)").format(
                Identifier(schema, function)).as_bytes()
        return histories_statement(schema, self.events_table_name,
                                   snapshots_table).as_bytes()

    def create_histories_function(self, snapshots_table: str | None) -> None:
        """Created (or replaced) with the tables, by initialise_store."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(histories_function(self.datastore.schema, self.events_table_name,
                                            snapshots_table))
        self._histories_statements.pop(snapshots_table, None)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _call_insert_function(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The library's function path (same retries), reading the change feed's
        position from the last row the function returns (negative; see
        change_feed_sql.note_position)."""
        rows = [self.construct_pg_stored_event(originator_id=e.originator_id,
                                               originator_version=e.originator_version,
                                               topic=e.topic, state=e.state)
                for e in stored_events]
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.sql_invoke_pg_function_insert_events, (rows,), prepare=True)
            values = [value for (value,) in curs.fetchall()]
        for value in values:
            if value < 0:
                change_feed_sql.note_position(-value)
        return [value for value in values if value > 0]

    def _copy_events(self, stored_events: Sequence[StoredEvent],
                     write_also: Callable[[Any], None] | None = None,
                     write_first: Callable[[Any], None] | None = None) -> list[int]:
        """COPY inside the same locked, notifying transaction as a normal save. Under the
        EXCLUSIVE lock no other writer draws notification ids, so this batch's ids are the
        contiguous run ending at the sequence's current value. The rows go as binary
        blocks spelt column-wise (infrastructure.copy_rows), not a write_row each."""
        with self.datastore.transaction(commit=True) as curs:
            for statement in self.lock_table_statements:
                curs.execute(statement)
            self._notify_channel(curs)
            if write_first is not None:
                write_first(curs)
            ids = _few_ids(stored_events, change_feed_sql.MAX_IDS)
            curs.execute(self.sql_announce, (ids,))
            announced = curs.fetchone()
            with curs.copy(self.sql_copy_events) as copy:
                for block in binary_blocks(stored_events):
                    copy.write(block)
            last = 0
            if stored_events:
                curs.execute(self.sql_last_notification_id, (self.qualified_table,))
                row = curs.fetchone()
                assert row is not None
                last = int(row["currval"] if isinstance(row, dict) else row[0])
            if write_also is not None:
                write_also(curs)
        if announced is not None:
            change_feed_sql.note_position(int(next(iter(dict(announced).values()))
                                              if isinstance(announced, dict)
                                              else announced[0]))
        return list(range(last - len(stored_events) + 1, last + 1))


def _few_ids(stored_events: Sequence[StoredEvent], most: int) -> list[str] | None:
    """The events' aggregate ids, sorted, or None when there are more than `most`: looked
    at only until there are (a bulk commit of 443,000 events made as the COPY takes them,
    infrastructure.bulk_events, must not be made in full before the COPY starts)."""
    found: set[str] = set()
    for event in stored_events:
        found.add(str(event.originator_id))
        if len(found) > most:
            return None
    return sorted(found)
