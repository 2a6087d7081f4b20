"""The events' binary COPY blocks (infrastructure.copy_rows) are the bytes PostgreSQL
itself writes for the same rows, and load as the rows psycopg's write_row loads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from itertools import groupby
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from infrastructure.copy_rows import (
    ROWS_PER_BLOCK,
    SIGNATURE,
    TRAILER,
    ColumnBlocks,
    EventColumns,
    binary_blocks,
)
from tests.conftest import drop_schema, unique_schema

pytestmark = pytest.mark.postgres

COLUMNS = "(originator_id, originator_version, topic, state)"


@pytest.fixture
def conn(postgres_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    schema = unique_schema()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for table in ("by_rows", "by_blocks"):
            connection.execute(f"CREATE TABLE {table} (originator_id uuid NOT NULL, "
                               "originator_version bigint NOT NULL, topic text, state bytea, "
                               "position bigserial)")
        try:
            yield connection
        finally:
            drop_schema(postgres_url, schema)


def _events() -> list[StoredEvent]:
    """More than a block of rows, with the values whose spelling could go wrong: a
    version past 32 bits, an empty state, bytes that are not text, a topic whose UTF-8
    is longer than its characters, an id given as text (StoredEvent allows one; it is
    taken as the uuid it spells)."""
    events = [StoredEvent(uuid.uuid4(), n + 1, "domain.importer_account:ImporterAccount."
                          "RiskAssessed", f'{{"n":{n}}}'.encode())
              for n in range(ROWS_PER_BLOCK + 7)]
    events += [
        StoredEvent(uuid.uuid4(), 2 ** 40 + 3, "domain.x:Long", b""),
        StoredEvent(uuid.uuid4(), 1, "domain.é:Café.Ouvert", bytes(range(256))),
        StoredEvent(str(UUID(int=7)), 9, "domain.x:TextId", b"\x00\xff"),
    ]
    return events


def _copy_in(conn: psycopg.Connection[tuple[object, ...]], table: str,
             events: list[StoredEvent], *, blocks: bool) -> None:
    with conn.cursor() as cursor, cursor.copy(
            f"COPY {table} {COLUMNS} FROM STDIN (FORMAT BINARY)") as copy:
        if blocks:
            for block in binary_blocks(events):
                copy.write(block)
        else:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for e in events:
                copy.write_row((UUID(str(e.originator_id)), e.originator_version, e.topic,
                                e.state))


def _copy_out(conn: psycopg.Connection[tuple[object, ...]], table: str) -> bytes:
    with conn.cursor() as cursor, cursor.copy(
            f"COPY (SELECT originator_id, originator_version, topic, state FROM {table} "
            "ORDER BY position) TO STDOUT (FORMAT BINARY)") as copy:
        return b"".join(bytes(data) for data in copy)


def test_the_blocks_load_the_rows_write_row_loads(
        conn: psycopg.Connection[tuple[object, ...]]) -> None:
    events = _events()
    _copy_in(conn, "by_rows", events, blocks=False)
    _copy_in(conn, "by_blocks", events, blocks=True)
    query = f"SELECT {COLUMNS[1:-1]} FROM {{}} ORDER BY position"
    loaded = conn.execute(query.format("by_blocks")).fetchall()
    assert loaded == conn.execute(query.format("by_rows")).fetchall()
    assert [(str(row[0]), row[1], row[2], bytes(row[3])) for row in loaded] == [  # type: ignore[call-overload]
        (str(e.originator_id), e.originator_version, e.topic, e.state) for e in events]


def test_the_blocks_are_the_bytes_postgres_writes_for_the_same_rows(
        conn: psycopg.Connection[tuple[object, ...]]) -> None:
    events = _events()
    _copy_in(conn, "by_rows", events, blocks=False)
    blocks = list(binary_blocks(events))
    assert blocks[0] == SIGNATURE
    assert blocks[-1] == TRAILER
    assert len(blocks) == 2 + 2  # the rows in two blocks: a full one and the rest
    assert b"".join(blocks) == _copy_out(conn, "by_rows")


def test_no_events_make_an_empty_copy(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    assert list(binary_blocks([])) == [SIGNATURE, TRAILER]
    _copy_in(conn, "by_blocks", [], blocks=True)
    assert conn.execute("SELECT count(*) FROM by_blocks").fetchone() == (0,)


class _Blocked(list[StoredEvent]):
    """Events that can also be given as columns, a block per run of one topic (as a bulk
    commit gives them)."""

    def column_blocks(self) -> Iterator[EventColumns]:
        for _topic, run in groupby(self, key=lambda event: event.topic):
            yield EventColumns.of(list(run))


def test_events_given_as_columns_are_spelt_as_the_same_bytes(
        conn: psycopg.Connection[tuple[object, ...]]) -> None:
    events = _events()
    _copy_in(conn, "by_rows", events, blocks=False)
    blocked = _Blocked(events)
    assert isinstance(blocked, ColumnBlocks)
    blocks = list(binary_blocks(blocked))
    assert len(blocks) == 2 + 4  # a block per run of one topic
    assert b"".join(blocks) == _copy_out(conn, "by_rows")


def test_columns_give_back_the_events_they_hold() -> None:
    events = _events()[:5]
    columns = EventColumns.of(events)
    assert list(columns) == events
    assert columns[1] == events[1]
    assert columns[1:3] == events[1:3]
    signed = columns.with_last_state(b"signed")
    assert list(signed)[:-1] == events[:-1]
    assert signed[-1] == StoredEvent(events[-1].originator_id,
                                     events[-1].originator_version, events[-1].topic,
                                     b"signed")
    with pytest.raises(ValueError, match="one topic"):
        EventColumns.of(_events()[-3:])
