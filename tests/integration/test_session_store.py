"""Server-side sessions (infrastructure.session_store) on SQLite and on PostgreSQL: a
session is found until it has been idle too long, reaches its absolute timeout or is
revoked; use is recorded at most once a minute; a user's sessions end together; ended
sessions are purged a day later; every process on the database sees the same sessions;
and the table holds only the SHA-256 of each secret, never the secret."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from application.compliance_cases import ComplianceCases
from application.ports import SessionStore
from infrastructure.session_store import SESSIONS_TABLE, SqlSessionStore
from infrastructure.sql_tables import SqlTables
from tests.builders import START, FakeClock

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


def store_of(app: ComplianceCases, clock: FakeClock) -> SqlSessionStore:
    return SqlSessionStore(SqlTables(app.recorder), idle=IDLE, absolute=ABSOLUTE, clock=clock)


@pytest.fixture
def sessions(app: ComplianceCases, clock: FakeClock) -> SqlSessionStore:
    return store_of(app, clock)


def table(sessions: SqlSessionStore) -> list[tuple[object, ...]]:
    tables = sessions.tables
    return tables.rows(f"SELECT session_hash, username, created_at, last_seen_at, "
                       f"expires_at, revoked_at FROM {tables.name(SESSIONS_TABLE)} "
                       "ORDER BY created_at, username")


def last_seen(sessions: SqlSessionStore, secret: str) -> object:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return next(row[3] for row in table(sessions) if row[0] == digest)


def test_a_new_session_is_found_by_its_secret(sessions: SqlSessionStore) -> None:
    port: SessionStore = sessions
    secret = port.create("alice", START)
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert port.find(secret, START) == "alice"
    assert port.find(secret, START + timedelta(minutes=5)) == "alice"
    assert port.create("alice", START) != secret


@pytest.mark.parametrize("wrong", ["", "nope", "x" * 10_000, "lone \udc80 surrogate",
                                   "'; DROP TABLE compliance_sessions; --"])
def test_anything_but_a_live_secret_finds_nothing(sessions: SqlSessionStore,
                                                  wrong: str) -> None:
    secret = sessions.create("alice", START)
    assert sessions.find(wrong, START) is None
    sessions.revoke(wrong)  # ignored
    assert sessions.find(secret, START) == "alice"


def test_the_secret_is_stored_only_as_its_sha256(sessions: SqlSessionStore) -> None:
    secret = sessions.create("alice", START)
    [row] = table(sessions)
    assert row[0] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row)
    assert row[1:] == ("alice", "2026-03-01T09:00:00.000000Z", "2026-03-01T09:00:00.000000Z",
                       "2026-03-01T21:00:00.000000Z", None)


def test_a_session_idle_too_long_is_refused(sessions: SqlSessionStore) -> None:
    secret = sessions.create("alice", START)
    assert sessions.find(secret, START + IDLE) == "alice"  # exactly idle: still live
    later = START + IDLE + IDLE + timedelta(seconds=1)
    assert sessions.find(secret, later) is None
    assert sessions.find(secret, later + timedelta(minutes=1)) is None


def test_use_keeps_a_session_alive_past_the_idle_timeout(sessions: SqlSessionStore) -> None:
    secret = sessions.create("alice", START)
    for minutes in range(20, 200, 20):
        assert sessions.find(secret, START + timedelta(minutes=minutes)) == "alice"


def test_use_is_recorded_only_once_it_moved_a_minute(sessions: SqlSessionStore) -> None:
    secret = sessions.create("alice", START)
    assert sessions.find(secret, START + timedelta(seconds=59)) == "alice"
    assert last_seen(sessions, secret) == "2026-03-01T09:00:00.000000Z"
    assert sessions.find(secret, START + timedelta(seconds=60)) == "alice"
    assert last_seen(sessions, secret) == "2026-03-01T09:01:00.000000Z"
    assert sessions.find(secret, START + timedelta(seconds=61)) == "alice"
    assert last_seen(sessions, secret) == "2026-03-01T09:01:00.000000Z"
    assert sessions.find(secret, START + timedelta(seconds=30)) == "alice"  # skewed clock
    assert last_seen(sessions, secret) == "2026-03-01T09:01:00.000000Z"


def test_a_session_ends_at_its_absolute_timeout_however_busy(
        sessions: SqlSessionStore) -> None:
    secret = sessions.create("alice", START)
    for minutes in range(10, 12 * 60, 10):
        assert sessions.find(secret, START + timedelta(minutes=minutes)) == "alice"
    assert sessions.find(secret, START + ABSOLUTE - timedelta(seconds=1)) == "alice"
    assert sessions.find(secret, START + ABSOLUTE) is None


def test_a_revoked_session_is_refused_and_records_when(sessions: SqlSessionStore,
                                                       clock: FakeClock) -> None:
    secret = sessions.create("alice", START)
    other = sessions.create("alice", START)
    clock.advance(timedelta(minutes=5))
    sessions.revoke(secret)
    sessions.revoke(secret)  # twice: nothing more happens
    assert sessions.find(secret, START + timedelta(minutes=6)) is None
    assert sessions.find(other, START + timedelta(minutes=6)) == "alice"
    assert sorted(str(row[5]) for row in table(sessions)) == [
        "2026-03-01T09:05:00.000000Z", "None"]


def test_revoking_a_user_ends_all_their_live_sessions(sessions: SqlSessionStore,
                                                      clock: FakeClock) -> None:
    first = sessions.create("alice", START)
    ended = sessions.create("alice", START - ABSOLUTE)  # timed out already
    bob = sessions.create("bob", START)
    second = sessions.create("alice", START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    assert sessions.revoke_user("alice") == 2
    assert sessions.revoke_user("alice") == 0
    assert sessions.revoke_user("nobody") == 0
    now = clock()
    assert [sessions.find(s, now) for s in (first, ended, second)] == [None, None, None]
    assert sessions.find(bob, now) == "bob"


def test_purge_deletes_sessions_ended_more_than_a_day_ago(sessions: SqlSessionStore,
                                                          clock: FakeClock) -> None:
    now = START + timedelta(days=10)
    day = timedelta(days=1)
    live = sessions.create("live", now - timedelta(minutes=10))
    # Timed out more than a day ago after use until shortly before: only the absolute
    # timeout makes it go.
    born = now - ABSOLUTE - day - timedelta(minutes=5)
    timed_out = sessions.create("timed-out-long-ago", born)
    for minutes in range(20, 12 * 60, 20):
        assert sessions.find(timed_out, born + timedelta(minutes=minutes)) is not None
    recent = sessions.create("timed-out-recently", now - ABSOLUTE - timedelta(hours=1))
    sessions.create("idle-long-ago", now - IDLE - day - timedelta(minutes=1))
    sessions.create("idle-recently", now - IDLE - timedelta(hours=23))
    # Revoked more than a day ago but last used so shortly before that its idle timeout
    # alone would keep it: only the revocation time makes it go.
    revoked = sessions.create("revoked-long-ago", now - day - timedelta(minutes=15))
    clock.now = now - day - timedelta(minutes=10)
    assert sessions.find(revoked, clock.now) == "revoked-long-ago"
    sessions.revoke(revoked)
    just_revoked = sessions.create("revoked-recently", now - timedelta(hours=2))
    clock.now = now - timedelta(hours=1)
    sessions.revoke(just_revoked)

    assert sessions.purge(now) == 3
    assert sorted(str(row[1]) for row in table(sessions)) == [
        "idle-recently", "live", "revoked-recently", "timed-out-recently"]
    assert sessions.purge(now) == 0
    assert sessions.find(live, now) == "live"
    assert sessions.find(recent, now) is None


def test_sessions_are_shared_by_every_process_on_the_database(
        make_app: Callable[..., ComplianceCases], clock: FakeClock) -> None:
    one, two = store_of(make_app(), clock), store_of(make_app(), clock)
    secret = one.create("alice", START)
    assert two.find(secret, START + timedelta(minutes=10)) == "alice"
    assert last_seen(one, secret) == "2026-03-01T09:10:00.000000Z"
    two.revoke(secret)
    assert one.find(secret, START + timedelta(minutes=11)) is None
    again = two.create("alice", START)
    assert one.revoke_user("alice") == 1
    assert two.find(again, START) is None


def test_times_without_a_timezone_are_refused(sessions: SqlSessionStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sessions.create("alice", datetime(2026, 3, 1, 9, 0))


def test_timeouts_must_be_positive(sessions: SqlSessionStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        SqlSessionStore(sessions.tables, idle=timedelta(0), absolute=ABSOLUTE)
