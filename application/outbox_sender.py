"""Delivering the outbox: claim what is due, send it over one SMTP connection, record each
outcome at once.

Why it is shaped like this:

- Each mail is marked sent right after the server accepted it, not at the end of the
  batch. The mark commits on a worker thread while the next mail goes over the wire, and
  the next mark waits for it: so at most one outcome is ever unrecorded, and a sender
  killed mid-batch sends again at most that mail and the one in flight (with the same
  Message-ID, so receivers drop the repeat), never the batch. Overlapping the two waits
  (database, SMTP server) is what makes the outbox about as fast as a bare SMTP loop
  (benchmark 15).
- A mail the server refuses for now (4xx) waits longer after each attempt (exponential
  backoff, capped) and is parked in the dead letters after `max_attempts`; one it refuses
  for good (5xx) is parked at once, with the server's reply, for a person to look at.
- When the server cannot be reached at all, that is not the mails' fault: the batch goes
  back to the queue without using up an attempt, and goes out when the server is back.
- Claims are leases: a sender that dies mid-batch leaves claims that expire, and another
  sender (or the same one, restarted) picks the mails up.

The outbox (infrastructure.outbox.SqlOutbox) and the transport
(infrastructure.smtp_transport.SmtpTransport) are ports, declared here as Protocols."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from application.mail import OutgoingMail

DEFAULT_BATCH = 100
DEFAULT_LEASE = timedelta(minutes=5)
"""How long a claim holds: longer than a batch takes to send over a slow server."""


@dataclass(frozen=True)
class QueuedMail:
    """A row of the outbox as a sender or an operator sees it."""

    message_id: str
    cause: str
    case_number: str | None
    to_user: str
    to_address: str
    subject: str
    text_body: str
    html_body: str
    status: str
    attempts: int
    """Delivery attempts made before this one (a server that could not be reached at all
    does not count: that is not the mail's fault)."""
    queued_at: datetime
    next_attempt_at: datetime
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    discard_reason: str | None = None
    last_action: str | None = None
    """The last thing a person did to it (retried, discarded), by whom and why."""

    @classmethod
    def of(cls, mail: OutgoingMail, queued_at: datetime) -> QueuedMail:
        return cls(message_id=mail.message_id, cause=mail.cause,
                   case_number=mail.case_number, to_user=mail.to_user,
                   to_address=mail.to_address, subject=mail.subject, text_body=mail.text,
                   html_body=mail.html, status="queued", attempts=0, queued_at=queued_at,
                   next_attempt_at=queued_at)


class TemporaryMailError(Exception):
    """The server may take this mail later: a 4xx reply, a timeout, a dropped line."""


class MailServerUnavailableError(TemporaryMailError):
    """The server could not be reached or would not talk at all (refused, timed out, 421):
    no mail of the batch is to blame."""


class PermanentMailError(Exception):
    """The server refused this mail for good (a 5xx reply): sending it again is futile."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code, self.reply = code, reply


class MailTransport(Protocol):
    """One open connection to the mail server for a batch (SmtpTransport)."""

    def send(self, mail: QueuedMail) -> None:
        """Hands one mail to the server; raises TemporaryMailError (or its
        MailServerUnavailableError) or PermanentMailError."""
        ...


TransportFactory = Callable[[], AbstractContextManager[MailTransport]]
"""Opens a connection on entering (MailServerUnavailableError when it cannot), closes it
on leaving."""


class Outbox(Protocol):
    """The outbox's table (SqlOutbox), as far as a sender uses it."""

    def claim(self, now: datetime, limit: int, holder: str,
              lease: timedelta) -> list[QueuedMail]: ...

    def mark_sent(self, message_id: str, now: datetime) -> None: ...

    def mark_failed(self, message_id: str, error: str, now: datetime,
                    retry_at: datetime | None) -> None: ...

    def release(self, message_ids: Sequence[str], error: str, retry_at: datetime) -> None: ...


class DeliveryPolicy(Protocol):
    """How patiently to retry (infrastructure.mail_settings.MailSettings)."""

    @property
    def max_attempts(self) -> int: ...

    @property
    def retry_seconds(self) -> int: ...

    @property
    def retry_cap_seconds(self) -> int: ...


@dataclass
class SendOutcome:
    """What one `send_due` did; `reasons` names each mail not sent and why."""

    sent: int = 0
    deferred: int = 0
    dead: int = 0
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return f"sent {self.sent}, deferred {self.deferred}, dead {self.dead}"

    def add(self, other: SendOutcome) -> None:
        self.sent += other.sent
        self.deferred += other.deferred
        self.dead += other.dead
        self.reasons.update(other.reasons)


def retry_delay(policy: DeliveryPolicy, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ...,
    never more than the cap."""
    exponent = min(max(attempts - 1, 0), 40)  # 2**40 x base is far past any cap
    return timedelta(seconds=min(policy.retry_seconds * 2 ** exponent,
                                 policy.retry_cap_seconds))


class _OneBehind:
    """Runs outcome writes on one worker thread, at most one at a time: each new write
    first waits for the one before (and raises its error, if it failed)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        self.wait()
        self.pending = self.pool.submit(write)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[_OneBehind]:
        with ThreadPoolExecutor(1, thread_name_prefix="outbox-outcomes") as pool:
            writes = cls(pool)
            try:
                yield writes
            finally:
                writes.wait()


class OutboxSender:
    """Delivers the outbox for one `holder` (named in its claims, shown by `outbox
    list`); any number of senders may run against one outbox."""

    def __init__(self, outbox: Outbox, transport_factory: TransportFactory,
                 mail_settings: DeliveryPolicy, holder: str, *,
                 lease: timedelta = DEFAULT_LEASE) -> None:
        if not holder:
            raise ValueError("a sender needs a holder name (who claims the mails)")
        self.outbox, self.transport_factory = outbox, transport_factory
        self.policy, self.holder, self.lease = mail_settings, holder, lease

    def send_due(self, now: datetime, limit: int = DEFAULT_BATCH) -> SendOutcome:
        """Sends up to `limit` mails due at `now` over one connection."""
        outcome = SendOutcome()
        batch = self.outbox.claim(now, limit, self.holder, self.lease)
        if not batch:
            return outcome
        done = 0
        with _OneBehind.running() as writes:
            try:
                with self.transport_factory() as transport:
                    for mail in batch:
                        self._deliver(transport, mail, now, outcome, writes)
                        done += 1
            except MailServerUnavailableError as error:
                writes.wait()
                self._defer(batch[done:], f"mail server unavailable: {error}", now, outcome)
        return outcome

    def _deliver(self, transport: MailTransport, mail: QueuedMail, now: datetime,
                 outcome: SendOutcome, writes: _OneBehind) -> None:
        key = mail.message_id
        attempt = mail.attempts + 1
        try:
            transport.send(mail)
        except MailServerUnavailableError:
            raise
        except TemporaryMailError as error:
            if attempt >= self.policy.max_attempts:
                self._dead(key, f"{error} (after {attempt} attempts)", now, outcome, writes)
                return
            retry_at, reason = now + retry_delay(self.policy, attempt), str(error)
            writes.submit(lambda: self.outbox.mark_failed(key, reason, now, retry_at))
            outcome.deferred += 1
            outcome.reasons[key] = f"{reason}; retry at {retry_at.isoformat()}"
            return
        except PermanentMailError as error:
            self._dead(key, str(error), now, outcome, writes)
            return
        writes.submit(lambda: self.outbox.mark_sent(key, now))
        outcome.sent += 1

    def _dead(self, key: str, error: str, now: datetime, outcome: SendOutcome,
              writes: _OneBehind) -> None:
        writes.submit(lambda: self.outbox.mark_failed(key, error, now, None))
        outcome.dead += 1
        outcome.reasons[key] = error

    def _defer(self, mails: Sequence[QueuedMail], error: str, now: datetime,
               outcome: SendOutcome) -> None:
        retry_at = now + retry_delay(self.policy, 1)
        self.outbox.release([mail.message_id for mail in mails], error, retry_at)
        outcome.deferred += len(mails)
        outcome.reasons.update({mail.message_id: error for mail in mails})
