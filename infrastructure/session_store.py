"""Server-side sessions in the events database (the application's SessionStore).

In the database, not in process memory, so that every API process sees the same sessions
and a logout or a disabled account takes effect everywhere at once. Only the SHA-256 of
a secret is stored: someone who reads the table (a backup, a read-only role) cannot log
in with what they read. A secret holds 256 random bits, so an unsalted fast hash is
enough; salting and stretching are for low-entropy passwords.

Times are stored as fixed-width UTC text (`2024-05-01T09:30:00.000000Z`): the same
columns on SQLite and PostgreSQL, and text order is time order, so the purge compares
them in SQL.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from infrastructure.change_feed import announce_sessions_ended
from infrastructure.sql_tables import SqlTables

__all__ = ["MARK_EVERY", "PURGE_AFTER", "SESSIONS_TABLE", "SqlSessionStore", "session_ddl"]

SESSIONS_TABLE = "compliance_sessions"
MARK_EVERY = timedelta(seconds=60)
"""`find` records use only when it moved this much: not one write per request."""
PURGE_AFTER = timedelta(days=1)
"""Ended sessions stay this long, so that a recent one can still be looked at (who was
logged in when a complaint came in); `find` refuses them all the same."""
_SECRET_BYTES = 32
_MAX_SECRET_LENGTH = 256
"""Cookie values longer than this are not ours; refused before hashing."""
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def session_ddl() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{SESSIONS_TABLE} ("
            "session_hash TEXT PRIMARY KEY, username TEXT NOT NULL, "
            "created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, "
            "expires_at TEXT NOT NULL, revoked_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {SESSIONS_TABLE}_by_username "
            f"ON {{schema}}{SESSIONS_TABLE} (username)"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"session times must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC).strftime(_STAMP)


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


def _digest(secret: str) -> str | None:
    """The stored key of a secret; None for what cannot be one of ours.

    Looking a session up by this digest needs no constant-time comparison: the database
    compares digests, not secrets, so timing could at most hint at part of a stored
    digest, and even a whole digest does not let anyone in: they would need a secret that
    hashes to it (a SHA-256 preimage) to present as the cookie."""
    if not isinstance(secret, str) or not 0 < len(secret) <= _MAX_SECRET_LENGTH:
        return None
    try:
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # lone surrogates: not a cookie value we issued
        return None


class SqlSessionStore:
    """Sessions end `idle` after their last use, `absolute` after their creation, or when
    revoked, whichever comes first.

    Use is recorded at most every MARK_EVERY (60 s), so a session in steady use may time
    out up to that much before `idle` has passed since its very last request; that is the
    price of not writing on every request. `clock` gives the time revocations are recorded
    with (revoke has no `now` parameter); tests pass their fake clock."""

    def __init__(self, tables: SqlTables, *, idle: timedelta, absolute: timedelta,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        if idle <= timedelta(0) or absolute <= timedelta(0):
            raise ValueError(f"session timeouts must be positive: idle={idle}, "
                             f"absolute={absolute}")
        self.tables, self.idle, self.absolute, self.clock = tables, idle, absolute, clock
        self._table = tables.name(SESSIONS_TABLE)

    def create(self, username: str, now: datetime) -> str:
        if not isinstance(username, str) or not username:
            raise ValueError("a session needs a username")
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        key = _digest(secret)
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"INSERT INTO {self._table} (session_hash, username, created_at, "
                "last_seen_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)",
                (key, username, _stamp(now), _stamp(now), _stamp(now + self.absolute)))
        return secret

    def find(self, secret: str, now: datetime) -> str | None:
        found = self.find_until(secret, now)
        return found[0] if found is not None else None

    def find_until(self, secret: str, now: datetime) -> tuple[str, datetime] | None:
        """The session's user, and until when a caller that remembers this answer
        (interfaces.http.caller_cache) may trust it without asking again: never past the
        session's absolute expiry, nor past the moment its next use must be marked (so
        remembering does not let a session in use time out, nor one unused live on)."""
        key = _digest(secret)
        if key is None:
            return None
        found = self.tables.read(f"SELECT username, last_seen_at, expires_at, revoked_at "
                                 f"FROM {self._table} WHERE session_hash = ?", (key,))
        if not found:
            return None
        username, last_seen_text, expires_text, revoked = found[0]
        last_seen = _moment(last_seen_text)
        if revoked is not None or now >= _moment(expires_text) or now - last_seen > self.idle:
            return None
        if now - last_seen >= MARK_EVERY:
            last_seen = now
            # A transaction of its own (SQLite would refuse to upgrade a read transaction
            # while another process writes); the condition keeps a later mark that
            # another process wrote meanwhile.
            with self.tables.transaction() as cursor:
                self.tables.execute_in(
                    cursor, f"UPDATE {self._table} SET last_seen_at = ? "
                    "WHERE session_hash = ? AND last_seen_at < ?",
                    (_stamp(now), key, _stamp(now)))
        return str(username), min(_moment(expires_text), last_seen + MARK_EVERY)

    def revoke(self, secret: str) -> None:
        key = _digest(secret)
        if key is None:
            return
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self._table} SET revoked_at = ? "
                "WHERE session_hash = ? AND revoked_at IS NULL", (_stamp(self.clock()), key))
            announce_sessions_ended(self.tables, cursor)

    def revoke_user(self, username: str) -> int:
        """Counts only the sessions that were still live: the number a person disabling an
        account wants to see ("2 sessions ended"), not the ones that had ended anyway."""
        now = self.clock()
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self._table} SET revoked_at = ? WHERE username = ? "
                "AND revoked_at IS NULL AND expires_at > ? AND last_seen_at >= ? "
                "RETURNING session_hash",
                (_stamp(now), username, _stamp(now), _stamp(now - self.idle)))
            ended = len(cursor.fetchall())
            announce_sessions_ended(self.tables, cursor)
            return ended

    def purge(self, now: datetime) -> int:
        """Delete the sessions that ended (timed out, idle or revoked) more than
        PURGE_AFTER before `now`; returns how many. Housekeeping only: `find` already
        refuses every ended session."""
        cutoff = now - PURGE_AFTER
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"DELETE FROM {self._table} WHERE expires_at < ? "
                "OR last_seen_at < ? OR revoked_at < ? RETURNING session_hash",
                (_stamp(cutoff), _stamp(cutoff - self.idle), _stamp(cutoff)))
            return len(cursor.fetchall())
