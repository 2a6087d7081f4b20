"""Events written through binary COPY data made in bulk (infrastructure.copy_rows) are
read back by PostgreSQL exactly as given: ids, versions (up to 64 bits), topic, and states
holding any byte, empty ones included, across several chunks."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from infrastructure.copy_rows import HEADER, TRAILER, binary_rows

pytestmark = pytest.mark.postgres


def test_binary_rows_copy_in_as_the_events_given(postgres_url: str) -> None:
    events = [StoredEvent(uuid.uuid4(), version, "domain.x:Account.Assessed",
                          b'{"n":%d}\x00\xff\x1f' % version * (version % 7))
              for version in range(1, 2501)]
    events.append(StoredEvent(str(uuid.uuid4()), 2 ** 62, "domain.x:Account.Assessed", b""))
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TEMP TABLE copied (originator_id uuid, originator_version "
                     "bigint, topic text, state bytea)")
        with conn.cursor().copy("COPY copied FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(HEADER)
            for start in (0, 1000, 2000):
                copy.write(binary_rows(events[start:start + 1000]))
            copy.write(binary_rows([]))
            copy.write(TRAILER)
        found = conn.execute("SELECT originator_id, originator_version, topic, state "
                             "FROM copied").fetchall()
    assert [(str(i), v, t, bytes(s)) for i, v, t, s in found] == [
        (str(e.originator_id), e.originator_version, e.topic, e.state) for e in events]


def test_binary_rows_take_one_topic() -> None:
    events = [StoredEvent(uuid.uuid4(), 1, topic, b"{}") for topic in ("a:B", "a:C")]
    with pytest.raises(ValueError, match="one topic"):
        binary_rows(events)
