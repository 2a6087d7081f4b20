"""The outbox table on both stores: a mail queued twice is one row; two senders claiming
at once never get the same mail; a claim whose sender died is claimed again once its lease
ran out; outcomes, the operator's retry and discard, and the counts; and a mail queued with
a save commits with its events, or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.mail import OutgoingMail, message_id
from domain.errors import InvalidTransitionError, InvalidValueError
from domain.seal_log import SealLog
from infrastructure.outbox import SqlOutbox, parse_message_id
from infrastructure.sql_tables import SqlTables
from tests.builders import START

LEASE = timedelta(minutes=5)


def mail(n: int, *, user: str = "officer.one") -> OutgoingMail:
    cause = f"reminder:test-{n}"
    return OutgoingMail(message_id(cause, user), f"{user}@customs.example", user,
                        f"CA-2026-{n:05d}: plan proposal due in 3 days", f"text {n}",
                        f"<p>html {n}</p>", cause, f"CA-2026-{n:05d}")


def outbox_of(app: ComplianceCases) -> SqlOutbox:
    return SqlOutbox(SqlTables(app.recorder))


@pytest.fixture
def outbox(app: ComplianceCases) -> SqlOutbox:
    return outbox_of(app)


def test_the_same_mail_queued_twice_is_one_row(outbox: SqlOutbox) -> None:
    assert outbox.enqueue([mail(1), mail(2)], START) == 2
    assert outbox.enqueue([mail(2), mail(3)], START + timedelta(hours=1)) == 1

    assert outbox.counts()["queued"] == 3
    second = outbox.get(mail(2).message_id)
    assert second is not None
    assert (second.queued_at, second.subject, second.case_number) == (
        START, mail(2).subject, "CA-2026-00002")


def test_two_senders_claiming_at_once_never_get_the_same_mail(
        make_app: Callable[..., ComplianceCases]) -> None:
    """Two applications: two connection pools, as two sender processes have."""
    outboxes = [outbox_of(make_app()), outbox_of(make_app())]
    mails = [mail(n) for n in range(120)]
    outboxes[0].enqueue(mails, START)
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender(holder: str, box: SqlOutbox) -> None:
        try:
            start.wait()
            while batch := box.claim(START, 7, holder, LEASE):
                claimed[holder].extend(m.message_id for m in batch)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(holder, box))
               for holder, box in zip(claimed, outboxes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert set(claimed["a"]).isdisjoint(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(m.message_id for m in mails)
    assert outboxes[1].counts()["sending"] == len(mails)
    holders = {m.message_id: m.claimed_by for m in outboxes[1].list("sending", 1000)}
    assert {mid for mid, holder in holders.items() if holder == "a"} == set(claimed["a"])


def test_a_claim_whose_lease_ran_out_is_claimed_again(outbox: SqlOutbox) -> None:
    outbox.enqueue([mail(1), mail(2)], START)
    first = outbox.claim(START, 10, "killed-sender", LEASE)
    assert len(first) == 2

    assert outbox.claim(START + LEASE - timedelta(seconds=1), 10, "other", LEASE) == []
    again = outbox.claim(START + LEASE, 10, "other", LEASE)

    assert sorted(m.message_id for m in again) == sorted(m.message_id for m in first)
    assert {m.claimed_by for m in again} == {"other"}
    assert {m.claimed_until for m in again} == {START + 2 * LEASE}


def test_mails_not_yet_due_wait(outbox: SqlOutbox) -> None:
    outbox.enqueue([mail(1)], START + timedelta(hours=1))
    assert outbox.claim(START, 10, "sender", LEASE) == []
    assert len(outbox.claim(START + timedelta(hours=1), 10, "sender", LEASE)) == 1


def test_sent_failed_dead_and_the_counts(outbox: SqlOutbox) -> None:
    outbox.enqueue([mail(n) for n in range(1, 5)], START)
    one, two, three, four = (m.message_id for m in outbox.claim(START, 10, "s", LEASE))
    later = START + timedelta(minutes=1)

    outbox.mark_sent(one, later)
    outbox.mark_failed(two, "450 mailbox busy", later, START + timedelta(hours=1))
    outbox.mark_failed(three, "550 5.1.1 no such user", later, None)

    assert outbox.counts() == {"queued": 1, "sending": 1, "sent": 1, "dead": 1,
                               "discarded": 0}
    sent, waiting, dead = (outbox.get(key) for key in (one, two, three))
    assert sent is not None
    assert (sent.status, sent.sent_at, sent.attempts) == (
        "sent", later, 1)
    assert waiting is not None
    assert (waiting.status, waiting.attempts, waiting.last_error,
                                    waiting.next_attempt_at, waiting.claimed_by) == (
        "queued", 1, "450 mailbox busy", START + timedelta(hours=1), None)
    assert dead is not None
    assert (dead.status, dead.last_error) == (
        "dead", "550 5.1.1 no such user")
    # An outcome for a mail no longer being sent changes nothing; sent twice counts once.
    outbox.mark_failed(one, "late failure", later, None)
    outbox.mark_sent(one, later + timedelta(minutes=1))
    again = outbox.get(one)
    assert again is not None
    assert (again.status, again.attempts, again.sent_at) == (
        "sent", 1, later)
    assert [m.message_id for m in outbox.list("dead")] == [three]
    assert four in {m.message_id for m in outbox.list("sending")}


def test_release_returns_claims_without_using_an_attempt(outbox: SqlOutbox) -> None:
    outbox.enqueue([mail(1)], START)
    [claimed] = outbox.claim(START, 10, "s", LEASE)
    outbox.release([claimed.message_id], "mail server unavailable", START + timedelta(
        minutes=1))

    back = outbox.get(claimed.message_id)
    assert back is not None
    assert (back.status, back.attempts, back.last_error) == (
        "queued", 0, "mail server unavailable")
    assert outbox.claim(START, 10, "s", LEASE) == []
    assert len(outbox.claim(START + timedelta(minutes=1), 10, "s", LEASE)) == 1


def test_retry_and_discard_by_the_operator(outbox: SqlOutbox) -> None:
    outbox.enqueue([mail(1), mail(2), mail(3)], START)
    for queued in outbox.claim(START, 2, "s", LEASE):
        outbox.mark_failed(queued.message_id, "550 gone", START, None)
    first, second = (m.message_id for m in outbox.list("dead"))
    third = mail(3).message_id

    retried = outbox.retry(first, "retried by user:admin: address fixed")
    assert (retried.status, retried.attempts, retried.last_action) == (
        "queued", 0, "retried by user:admin: address fixed")
    assert [m.message_id for m in outbox.claim(START, 10, "s", LEASE)] in (
        [first, third], [third, first])

    with pytest.raises(InvalidTransitionError, match="is sending: cannot discard"):
        outbox.discard(first, "no longer wanted")
    discarded = outbox.discard(second, "the importer closed", "discarded by user:admin")
    assert (discarded.status, discarded.discard_reason) == ("discarded", "the importer closed")
    with pytest.raises(InvalidTransitionError, match="is discarded: cannot discard"):
        outbox.discard(second, "twice")
    outbox.mark_sent(first, START)
    with pytest.raises(InvalidTransitionError, match="is sent: cannot retry"):
        outbox.retry(first)
    with pytest.raises(NotFoundError):
        outbox.retry(mail(99).message_id)
    with pytest.raises(InvalidValueError, match="message id"):
        outbox.retry("not a message id")

    outbox.mark_failed(third, "550 gone", START, None)
    assert outbox.retry_all_dead() == 1
    assert outbox.counts() == {"queued": 1, "sending": 0, "sent": 1, "dead": 0,
                               "discarded": 1}


def test_message_ids_are_taken_with_or_without_angle_brackets() -> None:
    key = mail(1).message_id
    assert parse_message_id(key.strip("<>")) == key
    assert parse_message_id(f"  {key} ") == key
    for bad in ("", "<>", "<no-at-sign>", "<a@b>\n<c@d>", "<a b@c>"):
        with pytest.raises(InvalidValueError):
            parse_message_id(bad)


def test_a_mail_queued_with_a_save_commits_with_its_events_or_not_at_all(
        app: ComplianceCases, outbox: SqlOutbox) -> None:
    events = app.recorder.max_notification_id() or 0
    app.save(SealLog.start(actor="system:test", at=START),
             write_also=outbox.writer([mail(1)], START))
    assert (app.recorder.max_notification_id() or 0) == events + 1
    assert [m.message_id for m in outbox.list()] == [mail(1).message_id]

    # The same aggregate started again: its first event conflicts with the stored one,
    # so the save fails, and the mail written in its transaction goes with it.
    with pytest.raises(IntegrityError):
        app.save(SealLog.start(actor="system:test", at=START),
                 write_also=outbox.writer([mail(2)], START))

    assert (app.recorder.max_notification_id() or 0) == events + 1
    assert [m.message_id for m in outbox.list()] == [mail(1).message_id]
    assert outbox.get(mail(2).message_id) is None
