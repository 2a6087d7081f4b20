"""What the scheduler keeps in the ledger's database: each job's runs, and its leader.

`compliance_scheduler_jobs` holds one row per job: its last start and finish, outcome,
run count and next run. A run is *claimed* by one conditional UPDATE (only when the job
is due), so two instances ticking at once (a `scheduler tick` beside a running worker,
or a split second of two leaders) never both start the same run; the jobs are safe to run
twice anyway, by their deterministic ids, so this saves work rather than guarding
correctness.

The leader lease decides which `scheduler run` instance ticks:

- PostgreSQL: a session-level advisory lock on a connection of its own, held for the
  process's life. The server releases it the moment that connection ends, however the
  process ended (kill -9 included), so a standby re-acquires it at its next try.
- SQLite: an exclusive, non-blocking `flock` on `<db>.scheduler.lock`. The kernel drops it
  when the process dies. SQLite serves one machine, and one scheduler is enough there:
  a second refuses to start (SchedulerBusyError).

The row in `compliance_scheduler_leader` (holder, pid, host, heartbeat) is for people and
`scheduler status` only; the lock, not the row, decides who leads.

Times are fixed-width UTC text (as in infrastructure.session_store): the same columns on
both stores, and text order is time order, so "due" is compared in SQL.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from infrastructure.stores import DatabaseUnavailableError, postgres_conninfo

__all__ = ["JOBS_TABLE", "LEADER_TABLE", "JobRecord", "JobRunLog", "LeaderLease",
           "LeaderRecord", "PostgresLease", "SchedulerBusyError", "SqliteLease",
           "from_stamp", "instance_name", "lock_path", "open_lease", "scheduler_ddl", "stamp"]

JOBS_TABLE = "compliance_scheduler_jobs"
LEADER_TABLE = "compliance_scheduler_leader"
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
_LOCK_CLASS = 0x5343
"""First key of the two-key advisory lock ('SC'); the second is the schema's hash, so
schedulers of different ledgers in one database do not contend."""


def scheduler_ddl() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{JOBS_TABLE} ("
            "name TEXT PRIMARY KEY, last_started_at TEXT, last_finished_at TEXT, "
            "last_ok INTEGER, last_summary TEXT, last_details TEXT, "
            "runs BIGINT NOT NULL DEFAULT 0, next_run_at TEXT, last_instance TEXT, "
            "last_run_id TEXT)",
            f"CREATE TABLE IF NOT EXISTS {{schema}}{LEADER_TABLE} ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT, pid INTEGER, host TEXT, "
            "acquired_at TEXT, heartbeat_at TEXT)"]


def stamp(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"scheduler times must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC).strftime(_STAMP)


def from_stamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


def instance_name() -> str:
    """Who ran a job or holds the lease: host, pid and a random tail (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# -- the job-run log ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRecord:
    """One job's row: its latest run and the next."""

    name: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_ok: bool | None
    """None: never finished, or a run is in flight (or died in flight)."""
    last_summary: str | None
    last_details: dict[str, Any]
    runs: int
    next_run_at: datetime | None
    last_instance: str | None
    last_run_id: str | None

    @property
    def running(self) -> bool:
        """Started and not finished: in flight, or its process died during it."""
        return self.last_started_at is not None and self.last_ok is None


@dataclass(frozen=True)
class LeaderRecord:
    holder: str
    pid: int | None
    host: str | None
    acquired_at: datetime | None
    heartbeat_at: datetime | None


_JOB_COLUMNS = ("name, last_started_at, last_finished_at, last_ok, last_summary, last_details, "
                "runs, next_run_at, last_instance, last_run_id")


class JobRunLog:
    """Claims, records and lists the jobs' runs in the ledger's database."""

    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables
        self._jobs = tables.name(JOBS_TABLE)
        self._leader = tables.name(LEADER_TABLE)

    def claim(self, name: str, run_id: str, instance: str, now: datetime,
              next_run_at: datetime, started_at: datetime | None = None) -> bool:
        """Marks a run of `name` (started at `started_at`, default `now`) if it is due at
        `now` (never run, or its next run at or before `now`) and moves its next run on;
        False when it is not due (another instance claimed it first, or it ran already)."""
        with self.tables.transaction() as cursor:
            self.tables.execute_in(cursor, f"INSERT INTO {self._jobs} (name, runs) "
                                   "VALUES (?, 0) ON CONFLICT (name) DO NOTHING", (name,))
            self.tables.execute_in(
                cursor, f"UPDATE {self._jobs} SET last_started_at = ?, last_ok = NULL, "
                "last_summary = NULL, last_details = NULL, last_instance = ?, "
                "last_run_id = ?, next_run_at = ? "
                "WHERE name = ? AND (next_run_at IS NULL OR next_run_at <= ?)",
                (stamp(started_at or now), instance, run_id, stamp(next_run_at), name,
                 stamp(now)))
            return _rowcount(cursor) == 1

    def finish(self, name: str, run_id: str, finished_at: datetime, *, ok: bool,
               summary: str, details: Mapping[str, Any]) -> bool:
        """Records the outcome of the run `run_id` claimed; False when a later claim
        replaced it (its outcome is then that run's to record)."""
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self._jobs} SET last_finished_at = ?, last_ok = ?, "
                "last_summary = ?, last_details = ?, runs = runs + 1 "
                "WHERE name = ? AND last_run_id = ?",
                (stamp(finished_at), 1 if ok else 0, summary,
                 json.dumps(dict(details), sort_keys=True, default=str), name, run_id))
            return _rowcount(cursor) == 1

    def records(self) -> dict[str, JobRecord]:
        rows = self.tables.read(f"SELECT {_JOB_COLUMNS} FROM {self._jobs} ORDER BY name")
        return {row[0]: _job_record(row) for row in rows}

    def record(self, name: str) -> JobRecord | None:
        rows = self.tables.read(f"SELECT {_JOB_COLUMNS} FROM {self._jobs} WHERE name = ?",
                                (name,))
        return _job_record(rows[0]) if rows else None

    def leader(self) -> LeaderRecord | None:
        rows = self.tables.read(f"SELECT holder, pid, host, acquired_at, heartbeat_at "
                                f"FROM {self._leader} WHERE id = 1 AND holder IS NOT NULL")
        return _leader_record(rows[0]) if rows else None


def _rowcount(cursor: Any) -> int:
    """Rows the last statement changed (the library's SQLite cursor wraps sqlite3's)."""
    return int(getattr(cursor, "sqlite_cursor", cursor).rowcount)


def _job_record(row: Sequence[Any]) -> JobRecord:
    try:
        details = json.loads(row[5]) if row[5] else {}
    except ValueError:
        details = {"unreadable": str(row[5])}
    return JobRecord(name=row[0], last_started_at=from_stamp(row[1]),
                     last_finished_at=from_stamp(row[2]),
                     last_ok=None if row[3] is None else bool(row[3]), last_summary=row[4],
                     last_details=details if isinstance(details, dict) else {"value": details},
                     runs=int(row[6]), next_run_at=from_stamp(row[7]), last_instance=row[8],
                     last_run_id=row[9])


def _leader_record(row: Sequence[Any]) -> LeaderRecord:
    return LeaderRecord(holder=str(row[0]), pid=None if row[1] is None else int(row[1]),
                        host=row[2], acquired_at=from_stamp(row[3]),
                        heartbeat_at=from_stamp(row[4]))


# -- the leader lease ----------------------------------------------------------------------


class SchedulerBusyError(Exception):
    """Another scheduler already runs on this SQLite ledger; one is enough there."""


class LeaderLease(Protocol):
    """Who ticks. `try_acquire` and `heartbeat` are called from one thread only."""

    instance: str

    @property
    def is_leader(self) -> bool: ...

    def try_acquire(self, now: datetime) -> bool:
        """True when this instance leads (now, or already)."""
        ...

    def heartbeat(self, now: datetime) -> bool:
        """Records that the leader lives; False when leadership was lost (its database
        connection ended)."""
        ...

    def holder(self) -> str:
        """Who leads, in words ("pid 12 on host-a"), for a standby's message."""
        ...

    def close(self) -> None:
        """Releases the lease (and clears the leader row when it is ours)."""
        ...


_UPSERT_LEADER = ("INSERT INTO {table} (id, holder, pid, host, acquired_at, heartbeat_at) "
                  "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                  "holder = excluded.holder, pid = excluded.pid, host = excluded.host, "
                  "acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at")


def _describe(pid: object, host: object) -> str:
    return f"pid {pid if pid is not None else '?'} on {host or 'an unknown host'}"


class PostgresLease:
    """pg_try_advisory_lock on a dedicated connection kept for the process's life."""

    def __init__(self, settings: Settings, instance: str | None = None) -> None:
        self.instance = instance or instance_name()
        self.conninfo = postgres_conninfo(settings)
        self.schema = settings.postgres_schema
        self.where = settings.describe
        self.key = int.from_bytes(hashlib.sha256(self.schema.encode()).digest()[:4], "big",
                                  signed=True)
        self.table = f'"{self.schema}"."{LEADER_TABLE}"'
        self._conn: psycopg.Connection[Any] | None = None
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.conninfo, autocommit=True,
                                             application_name="compliance scheduler")
            except psycopg.OperationalError as error:
                raise DatabaseUnavailableError(
                    f"cannot reach {self.where}: {str(error).strip()}") from error
        return self._conn

    def _lost(self) -> None:
        """The connection (and with it the lock) is gone."""
        self._leader = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def try_acquire(self, now: datetime) -> bool:
        if self._leader:
            return self.heartbeat(now)
        try:
            conn = self._connection()
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                               (_LOCK_CLASS, self.key)).fetchone()
            if not (row and row[0]):
                return False
            host, pid = socket.gethostname(), os.getpid()
            conn.execute(_UPSERT_LEADER.format(table=self.table).replace("?", "%s"),
                         (self.instance, pid, host, stamp(now), stamp(now)))
        except psycopg.OperationalError:
            self._lost()
            return False
        self._leader = True
        return True

    def heartbeat(self, now: datetime) -> bool:
        if not self._leader or self._conn is None:
            return False
        try:
            updated = self._conn.execute(
                f"UPDATE {self.table} SET heartbeat_at = %s WHERE id = 1 AND holder = %s",
                (stamp(now), self.instance))
            if updated.rowcount != 1:  # cleared by hand: write ourselves back
                self._conn.execute(_UPSERT_LEADER.format(table=self.table).replace("?", "%s"),
                                   (self.instance, os.getpid(), socket.gethostname(),
                                    stamp(now), stamp(now)))
        except psycopg.OperationalError:
            self._lost()
            return False
        return True

    def holder(self) -> str:
        try:
            row = self._connection().execute(
                f"SELECT pid, host FROM {self.table} WHERE id = 1 AND holder IS NOT NULL"
            ).fetchone()
        except (psycopg.Error, DatabaseUnavailableError):
            return "another instance"
        return "another instance" if row is None else _describe(row[0], row[1])

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                if self._leader:
                    self._conn.execute(f"UPDATE {self.table} SET holder = NULL, pid = NULL, "
                                       "host = NULL WHERE id = 1 AND holder = %s",
                                       (self.instance,))
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)",
                                       (_LOCK_CLASS, self.key))
        self._lost()


def lock_path(settings: Settings) -> Path:
    return Path(f"{settings.sqlite_path}.scheduler.lock")


class SqliteLease:
    """An exclusive flock on `<db>.scheduler.lock`, naming its holder inside the file."""

    def __init__(self, settings: Settings, instance: str | None = None) -> None:
        self.instance = instance or instance_name()
        self.path = lock_path(settings)
        self.database = settings.sqlite_path
        self._fd: int | None = None

    @property
    def is_leader(self) -> bool:
        return self._fd is not None

    def try_acquire(self, now: datetime) -> bool:
        if self._fd is not None:
            return self.heartbeat(now)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise DatabaseUnavailableError(
                f"cannot open the scheduler's lock file {self.path}: {error.strerror}"
            ) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        host, pid = socket.gethostname(), os.getpid()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": pid, "host": host,
                                  "instance": self.instance}).encode(), 0)
        self._fd = fd
        self._write(_UPSERT_LEADER.format(table=LEADER_TABLE),
                    (self.instance, pid, host, stamp(now), stamp(now)))
        return True

    def heartbeat(self, now: datetime) -> bool:
        if self._fd is None:
            return False
        self._write(f"UPDATE {LEADER_TABLE} SET heartbeat_at = ? WHERE id = 1 AND holder = ?",
                    (stamp(now), self.instance))
        return True

    def holder(self) -> str:
        try:
            found = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            found = {}
        if not isinstance(found, dict):
            found = {}
        return _describe(found.get("pid"), found.get("host"))

    def refuse(self) -> SchedulerBusyError:
        return SchedulerBusyError(f"another scheduler ({self.holder()}) already runs on this "
                                  f"SQLite ledger ({self.database}); one is enough")

    def close(self) -> None:
        if self._fd is None:
            return
        self._write(f"UPDATE {LEADER_TABLE} SET holder = NULL, pid = NULL, host = NULL "
                    "WHERE id = 1 AND holder = ?", (self.instance,))
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the last descriptor releases the flock
        self._fd = None

    def _write(self, statement: str, params: Sequence[Any]) -> None:
        """The leader row is for status only: a busy database (a long write in flight)
        costs a heartbeat, not the lease."""
        try:
            conn = sqlite3.connect(self.database, timeout=2)
            try:
                with conn:
                    conn.execute(statement, tuple(params))
            finally:
                conn.close()
        except sqlite3.Error:
            return


def open_lease(settings: Settings, instance: str | None = None) -> PostgresLease | SqliteLease:
    if settings.database_url is None:
        return SqliteLease(settings, instance)
    return PostgresLease(settings, instance)
