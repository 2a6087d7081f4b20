"""The outbox: mails as rows of the events database, written in the transaction of the
events that cause them, sent later by an OutboxSender (application.outbox_sender).

Why a table and not a queue server: a reminder's event and its mail commit together or not
at all (`writer`, given to `app.save(..., write_also=...)`), so no mail is lost when a
save fails after the mail was handed to some other system, and none is sent for an event
that was never recorded. The Message-ID is the key, so queueing the same mail twice (two
schedulers, a retry) leaves one row.

Senders claim mails with a lease (status `sending`, `claimed_until`): on PostgreSQL with
FOR UPDATE SKIP LOCKED, so that two senders take disjoint batches without waiting for each
other; on SQLite in one writing statement, which the database runs one at a time. A claim
whose lease ran out (its sender was killed mid-batch) is claimed again.

Times are fixed-width UTC text, as in infrastructure.session_store: the same columns on
both databases, and text order is time order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from application.errors import NotFoundError
from application.mail import OutgoingMail
from application.outbox_sender import QueuedMail
from domain.errors import InvalidTransitionError, InvalidValueError
from infrastructure.sql_tables import SqlTables

__all__ = ["OUTBOX_TABLE", "STATUSES", "SqlOutbox", "outbox_ddl", "parse_message_id"]

OUTBOX_TABLE = "compliance_outbox"
STATUSES = ("queued", "sending", "sent", "dead", "discarded")
MAX_ERROR_LENGTH = 2000
"""A server's reply is kept whole up to this length (they are a line or a few)."""
MAX_MESSAGE_ID_LENGTH = 250
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
_COLUMNS = ("message_id", "cause", "case_number", "to_user", "to_address", "subject",
            "text_body", "html_body", "status", "attempts", "queued_at", "next_attempt_at",
            "claimed_by", "claimed_until", "sent_at", "last_error", "discard_reason",
            "last_action")
_TIMES = frozenset({"queued_at", "next_attempt_at", "claimed_until", "sent_at"})
_SELECT = ", ".join(_COLUMNS)


def outbox_ddl() -> list[str]:
    """`next_attempt_at` is when a mail is next due: for a queued mail the time of its next
    attempt, for a claimed one the end of its lease. So one index serves the claim, which
    takes queued mails that are due and claimed ones whose lease ran out."""
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{OUTBOX_TABLE} ("
            "message_id TEXT PRIMARY KEY, cause TEXT NOT NULL, case_number TEXT, "
            "to_user TEXT NOT NULL, to_address TEXT NOT NULL, subject TEXT NOT NULL, "
            "text_body TEXT NOT NULL, html_body TEXT NOT NULL, "
            "status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN "
            "('queued', 'sending', 'sent', 'dead', 'discarded')), "
            "attempts INTEGER NOT NULL DEFAULT 0, queued_at TEXT NOT NULL, "
            "next_attempt_at TEXT NOT NULL, claimed_by TEXT, claimed_until TEXT, "
            "sent_at TEXT, last_error TEXT, discard_reason TEXT, last_action TEXT)",
            f"CREATE INDEX IF NOT EXISTS {OUTBOX_TABLE}_due "
            f"ON {{schema}}{OUTBOX_TABLE} (status, next_attempt_at)",
            f"CREATE INDEX IF NOT EXISTS {OUTBOX_TABLE}_by_queued_at "
            f"ON {{schema}}{OUTBOX_TABLE} (queued_at)"]


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"outbox times must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC).strftime(_STAMP)


def _moment(stamp: str | None) -> datetime | None:
    return None if stamp is None else datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


def _queued(row: Sequence[Any]) -> QueuedMail:
    values: dict[str, Any] = {name: _moment(value) if name in _TIMES else value
                              for name, value in zip(_COLUMNS, row, strict=True)}
    values["attempts"] = int(values["attempts"])
    return QueuedMail(**values)


def parse_message_id(raw: str) -> str:
    """A Message-ID as the outbox keys it, `<local@domain>`; the angle brackets may be
    left out (a shell makes them awkward to type)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if text and not text.startswith("<"):
        text = f"<{text}>"
    inner = text[1:-1]
    local, _, domain = inner.partition("@")
    if (not text.endswith(">") or not local or not domain or len(text) > MAX_MESSAGE_ID_LENGTH
            or any(c in inner for c in "<> \t\r\n\"\\") or not inner.isprintable()):
        raise InvalidValueError("message id", raw, "expected a Message-ID such as "
                                "<3f2a...@compliance-ledger.invalid>, as `outbox list` "
                                "shows it")
    return text


class SqlOutbox:
    """The outbox table: queueing, claiming for delivery, outcomes, and the operator's
    retry and discard of dead letters."""

    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables
        self._table = tables.name(OUTBOX_TABLE)

    # -- queueing ------------------------------------------------------------------------

    def writer(self, mails: Iterable[OutgoingMail], queued_at: datetime,
               ) -> Callable[[Any], None]:
        """Inserts `mails` with the cursor of a transaction it does not own (a save's:
        `app.save(..., write_also=outbox.writer(mails, now))`); a mail already queued is
        left as it is."""
        rows = [self._row(mail, queued_at) for mail in mails]

        def write(cursor: Any) -> None:
            self._insert(cursor, rows)
        return write

    def enqueue(self, mails: Iterable[OutgoingMail], queued_at: datetime) -> int:
        """In a transaction of its own; returns how many were new."""
        rows = [self._row(mail, queued_at) for mail in mails]
        with self.tables.transaction() as cursor:
            return self._insert(cursor, rows)

    def _row(self, mail: OutgoingMail, queued_at: datetime) -> tuple[Any, ...]:
        key = parse_message_id(mail.message_id)
        if key != mail.message_id:
            raise InvalidValueError("message id", mail.message_id, "must be <local@domain>")
        if not mail.to_address or any(c in mail.to_address for c in "\r\n,"):
            raise InvalidValueError("to address", mail.to_address, "one address, one line")
        if any(c in mail.subject for c in "\r\n"):
            raise InvalidValueError("subject", mail.subject, "one line")
        stamp = _stamp(queued_at)
        return (mail.message_id, mail.cause, mail.case_number, mail.to_user,
                mail.to_address, mail.subject, mail.text, mail.html, stamp, stamp)

    def _insert(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> int:
        statement = (f"INSERT INTO {self._table} (message_id, cause, case_number, to_user, "
                     "to_address, subject, text_body, html_body, queued_at, next_attempt_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (message_id) DO NOTHING RETURNING message_id")
        added = 0
        for row in rows:
            self.tables.execute_in(cursor, statement, row)
            added += len(cursor.fetchall())
        return added

    # -- delivery ------------------------------------------------------------------------

    def claim(self, now: datetime, limit: int, holder: str,
              lease: timedelta) -> list[QueuedMail]:
        """Up to `limit` mails due at `now` (oldest due first), now `sending` under
        `holder` until `now + lease`; mails another sender holds are skipped, not waited
        for."""
        if limit < 1 or lease <= timedelta(0) or not holder:
            raise ValueError(f"claim needs limit >= 1, a positive lease and a holder, not "
                             f"{limit}, {lease}, {holder!r}")
        until = _stamp(now + lease)
        lock = " FOR UPDATE SKIP LOCKED" if self.tables.postgres else ""
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self._table} SET status = 'sending', claimed_by = ?, "
                "claimed_until = ?, next_attempt_at = ? WHERE message_id IN ("
                f"SELECT message_id FROM {self._table} WHERE status IN ('queued', 'sending') "
                f"AND next_attempt_at <= ? ORDER BY next_attempt_at, message_id LIMIT ?{lock})"
                f" RETURNING {_SELECT}", (holder, until, until, _stamp(now), limit))
            claimed = [_queued(row) for row in cursor.fetchall()]
        return sorted(claimed, key=lambda mail: (mail.queued_at, mail.message_id))

    def mark_sent(self, message_id: str, now: datetime) -> None:
        """The server took it. Recorded whatever happened meanwhile (a lease that ran out
        and another sender's outcome): it was delivered."""
        self._update("status = 'sent', sent_at = ?, attempts = attempts + 1, "
                     "claimed_by = NULL, claimed_until = NULL", (_stamp(now),),
                     "message_id = ? AND status <> 'sent'", (message_id,), outcome=True)

    def mark_failed(self, message_id: str, error: str, now: datetime,
                    retry_at: datetime | None) -> None:
        """One more failed attempt: queued again for `retry_at`, or (None) dead. Only a
        mail still being sent is touched (another sender may have finished it since)."""
        status, due = ("dead", _stamp(now)) if retry_at is None else ("queued",
                                                                      _stamp(retry_at))
        self._update("status = ?, next_attempt_at = ?, attempts = attempts + 1, "
                     "claimed_by = NULL, claimed_until = NULL, last_error = ?",
                     (status, due, error[:MAX_ERROR_LENGTH]),
                     "message_id = ? AND status = 'sending'", (message_id,), outcome=True)

    def release(self, message_ids: Sequence[str], error: str, retry_at: datetime) -> None:
        """Claimed mails back to the queue for `retry_at`, no attempt counted (the server
        could not be reached: not these mails' fault)."""
        with self.tables.transaction() as cursor:
            for message_id in message_ids:
                self.tables.execute_in(
                    cursor, f"UPDATE {self._table} SET status = 'queued', "
                    "next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, "
                    "last_error = ? WHERE message_id = ? AND status = 'sending'",
                    (_stamp(retry_at), error[:MAX_ERROR_LENGTH], message_id))

    def _update(self, assignments: str, values: Sequence[Any], condition: str,
                arguments: Sequence[Any], *, outcome: bool = False) -> int:
        with self.tables.transaction() as cursor:
            if outcome and self.tables.postgres:
                # A delivery outcome need not wait for the disk: visible at once, and
                # lost only if the database server itself crashes in the next moment,
                # when the mail is sent again under the same Message-ID (receivers drop
                # it). Halves the cost of the per-mail mark (benchmark 15).
                cursor.execute("SET LOCAL synchronous_commit = off")
            self.tables.execute_in(cursor, f"UPDATE {self._table} SET {assignments} "
                                   f"WHERE {condition} RETURNING message_id",
                                   (*values, *arguments))
            return len(cursor.fetchall())

    # -- reading -------------------------------------------------------------------------

    def get(self, message_id: str) -> QueuedMail | None:
        found = self.tables.read(f"SELECT {_SELECT} FROM {self._table} WHERE message_id = ?",
                                 (parse_message_id(message_id),))
        return _queued(found[0]) if found else None

    def list(self, status: str | None = None, limit: int = 100) -> list[QueuedMail]:
        """Newest first."""
        if status is not None and status not in STATUSES:
            raise InvalidValueError("status", status, f"expected one of {', '.join(STATUSES)}")
        if limit < 1:
            raise InvalidValueError("limit", limit, "must be at least 1")
        where = "WHERE status = ? " if status is not None else ""
        found = self.tables.read(f"SELECT {_SELECT} FROM {self._table} {where}"
                                 "ORDER BY queued_at DESC, message_id LIMIT ?",
                                 (*([status] if status is not None else []), limit))
        return [_queued(row) for row in found]

    def counts(self) -> dict[str, int]:
        """Mails by status, every status present (0 when none)."""
        found = dict(self.tables.read(f"SELECT status, COUNT(*) FROM {self._table} "
                                      "GROUP BY status"))
        return {status: int(found.get(status, 0)) for status in STATUSES}

    # -- the operator's hand -------------------------------------------------------------

    def retry(self, message_id: str, note: str | None = None) -> QueuedMail:
        """A dead (or discarded) mail back to the queue with a fresh set of attempts, due
        at once."""
        return self._move(message_id, "retry", ("dead", "discarded"),
                          "status = 'queued', attempts = 0, discard_reason = NULL", (), note)

    def retry_all_dead(self, note: str | None = None) -> int:
        with self.tables.transaction() as cursor:
            self.tables.execute_in(
                cursor, f"UPDATE {self._table} SET status = 'queued', attempts = 0, "
                "last_action = COALESCE(?, last_action) WHERE status = 'dead' "
                "RETURNING message_id", (note,))
            return len(cursor.fetchall())

    def discard(self, message_id: str, reason: str, note: str | None = None) -> QueuedMail:
        """A queued or dead mail is not to be sent (an address that no longer exists):
        kept, with the reason, never dropped silently."""
        if not reason.strip():
            raise InvalidValueError("reason", reason, "say why the mail is discarded")
        return self._move(message_id, "discard", ("queued", "dead"),
                          "status = 'discarded', discard_reason = ?", (reason.strip(),), note)

    def _move(self, message_id: str, step: str, allowed: tuple[str, ...], assignments: str,
              values: Sequence[Any], note: str | None) -> QueuedMail:
        key = parse_message_id(message_id)
        marks = ", ".join("?" for _ in allowed)
        changed = self._update(f"{assignments}, last_action = COALESCE(?, last_action)",
                               (*values, note), f"message_id = ? AND status IN ({marks})",
                               (key, *allowed))
        mail = self.get(key)
        if mail is None:
            raise NotFoundError("mail", key)
        if not changed:
            raise InvalidTransitionError(f"mail {key}", mail.status, step, allowed)
        return mail
