"""The database half of the change feed: every transaction that changes what an API
process may have cached announces it, in the same transaction, with `pg_notify`.

What is announced: the ids of the aggregates whose events the transaction writes (or `*`,
"everything", when there are more than fit a notification's 8000 bytes), or `sessions`
when a session is ended. Each announcement carries a *position* from a sequence of its
own, drawn under a transaction-level advisory lock that is held until commit; so positions
are handed out in commit order, and PostgreSQL delivers notifications in commit order:
a listener that has received position p has received every announcement before it. A
client that was told p by a write can therefore ask any process "have you seen p?"
(interfaces.http.freshness).

Announcing writes nothing but the sequence; a transaction that rolls back announces
nothing (its position is a gap, which no reader waits on for long).
"""

from __future__ import annotations

import hashlib
import threading

from psycopg.sql import SQL, Composed, Identifier, Literal

SEQUENCE = "cl_change_position"
FUNCTION = "cl_announce"
MAX_IDS = 200
"""Ids named in one announcement at most (36 characters each and a space: under 8000
bytes); more are announced as `*`, and every listener forgets everything."""
EVERYTHING = "*"
SESSIONS = "sessions"


def channel_name(schema: str) -> str:
    """One channel per schema (tests and benchmarks run many schemas in one database),
    short enough for PostgreSQL's 63-byte identifiers whatever the schema is called."""
    return "cl_changes_" + hashlib.sha256(schema.encode()).hexdigest()[:24]


def lock_key(schema: str) -> str:
    return f"{schema}/change positions"


def create_statements(schema: str) -> list[Composed]:
    """The sequence and the announcing function (idempotent: run by every migrate)."""
    sequence = Identifier(schema, SEQUENCE)
    return [
        SQL("CREATE SEQUENCE IF NOT EXISTS {sequence}").format(sequence=sequence),
        SQL("CREATE OR REPLACE FUNCTION {function}(ids text[]) RETURNS bigint "
            "LANGUAGE plpgsql AS $BODY$ "
            "DECLARE pos bigint; "
            "BEGIN "
            "  PERFORM pg_advisory_xact_lock(hashtext({key})); "
            "  pos := nextval({sequence_name}); "
            "  PERFORM pg_notify({channel}, pos::text || ' ' || CASE "
            "    WHEN ids IS NULL OR cardinality(ids) > {max_ids} THEN {everything} "
            "    ELSE array_to_string(ids, ' ') END); "
            "  RETURN pos; "
            "END; $BODY$").format(
            function=Identifier(schema, FUNCTION), key=Literal(lock_key(schema)),
            sequence_name=Literal(f'"{schema}"."{SEQUENCE}"'),
            channel=Literal(channel_name(schema)), max_ids=Literal(MAX_IDS),
            everything=Literal(EVERYTHING)),
    ]


_WRITTEN = threading.local()


def note_position(position: int) -> None:
    """A write in this thread was announced at `position` (kept for its response)."""
    _WRITTEN.position = max(position, getattr(_WRITTEN, "position", 0))


def take_position() -> int:
    """The latest position this thread's writes were announced at since the last take
    (0: none), forgotten once taken."""
    position = int(getattr(_WRITTEN, "position", 0))
    _WRITTEN.position = 0
    return position


def announce_events_sql(schema: str) -> Composed:
    """The line the insert function runs (its `events` argument is the batch; `pos` a
    variable of the function)."""
    return SQL("pos := {function}(ARRAY(SELECT DISTINCT e.originator_id::text "
               "FROM unnest(events) AS e));").format(function=Identifier(schema, FUNCTION))


def announce_sql(schema: str) -> Composed:
    """A statement announcing the ids given as its one parameter (a text[])."""
    return SQL("SELECT {function}(%s::text[])").format(function=Identifier(schema, FUNCTION))


def position_sql(schema: str) -> Composed:
    """The latest position handed out. Under the advisory lock it is also the latest
    committed one (no announcing transaction is then in flight)."""
    return SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}"
               ).format(sequence=Identifier(schema, SEQUENCE))


def locked_position_sql(schema: str) -> Composed:
    return SQL("SELECT pg_advisory_xact_lock(hashtext({key}))").format(
        key=Literal(lock_key(schema)))


def function_exists_sql(schema: str) -> Composed:
    return SQL("SELECT to_regprocedure({name}) IS NOT NULL").format(
        name=Literal(f'"{schema}".{FUNCTION}(text[])'))
