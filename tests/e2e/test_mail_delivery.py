"""Mail goes out through a real SMTP server on loopback (aiosmtpd), and the tests read what
it received: text and HTML parts, subject, Message-ID and links intact; the server down
for a while (mails wait, then go out once); a recipient refused for good (dead, with the
server's reply, listed, retried, discarded); a login; a sender killed -9 mid-batch; and
bad mail settings refused at start, naming the variable."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from application.mail import OutgoingMail, message_id
from application.outbox_sender import QueuedMail
from domain.user import Role
from infrastructure.mail_settings import MailSettings, load_mail_settings
from infrastructure.settings import SettingsError, load_settings
from infrastructure.smtp_transport import SmtpTransport
from interfaces.composition import build_application
from interfaces.scheduler.jobs import JobContext
from interfaces.scheduler.outbox_job import build_outbox, run
from tests.builders import START
from tests.e2e.cli import EXECUTABLE, Cli
from tests.e2e.smtp_server import (
    BUSY,
    BUSY_REPLY,
    LOGIN,
    PASSWORD,
    PUBLIC_URL,
    REFUSAL,
    REFUSED,
    SmtpServer,
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def with_smtp(cli: Cli, server: SmtpServer, **extra: str) -> Cli:
    cli.env.update(server.environ())
    cli.env.update(extra)
    return cli


def reminder(n: int, to: str = "officer.seven@customs.example",
             user: str = "officer-7") -> OutgoingMail:
    case = f"CA-2026-{n:05d}"
    link = f"{PUBLIC_URL}/cases/{case}"
    cause = f"reminder:{case}:proposal:2026-05-01:3"
    return OutgoingMail(
        message_id(cause, user), to, user, f"{case}: plan proposal due 2026-05-01 (3 days)",
        f"The plan proposal of {case} is due on 2026-05-01.\nOpen the case: {link}\n",
        f'<p>The plan proposal of <a href="{link}">{case}</a> is due on 2026-05-01.</p>',
        cause, case)


def queue(cli: Cli, mails: list[OutgoingMail]) -> None:
    """Queues as the scheduler's jobs do (in-process, on the store the CLI uses)."""
    app = build_application(load_settings(cli.env), access_control=False)
    try:
        build_outbox(app).enqueue(mails, START)
    finally:
        app.close()


def mails_in(cli: Cli, status: str | None = None) -> list[QueuedMail]:
    """The outbox as it is, read in-process (where the CLI's listing is not what a test
    is about), oldest first."""
    app = build_application(load_settings(cli.env), access_control=False)
    try:
        return sorted(build_outbox(app).list(status, 1000),
                      key=lambda mail: mail.message_id)
    finally:
        app.close()


def at(delta: timedelta = timedelta(0)) -> str:
    return (START + delta).isoformat()


# -- delivery ----------------------------------------------------------------------------


def test_mails_arrive_with_both_parts_subject_message_id_and_links(
        cli: Cli, smtp: SmtpServer) -> None:
    with_smtp(cli, smtp)
    mails = [reminder(1), reminder(2), reminder(3, to="rep@importer.example", user="rep-1")]
    queue(cli, mails)

    sent = cli.ok("outbox", "send", "--now", at())

    assert sent.out.splitlines()[0] == "sent 3, deferred 0, dead 0"
    assert smtp.message_ids() == sorted(m.message_id for m in mails)
    by_id = {str(r.message["Message-ID"]): r for r in smtp.received}
    for mail in mails:
        got = by_id[mail.message_id]
        assert got.mail_from == "ledger@customs.example"
        assert got.rcpt_tos == [mail.to_address]
        assert got.message["To"] == mail.to_address
        assert got.message["From"] == "Compliance Ledger <ledger@customs.example>"
        assert got.message["Subject"] == mail.subject
        assert got.message["Date"] is not None
        assert got.message.get_content_type() == "multipart/alternative"
        text = got.message.get_body(("plain",))
        html = got.message.get_body(("html",))
        assert text is not None
        assert html is not None
        assert text.get_content() == mail.text
        assert html.get_content().strip() == mail.html
        assert f"{PUBLIC_URL}/cases/{mail.case_number}" in text.get_content()
        assert f'href="{PUBLIC_URL}/cases/{mail.case_number}"' in html.get_content()
    rows = cli.ok("outbox", "list", "--status", "sent", "--json").json()
    assert {row["message_id"] for row in rows} == {m.message_id for m in mails}
    assert {(row["status"], row["attempts"]) for row in rows} == {("sent", 1)}

    again = cli.ok("outbox", "send", "--now", at(timedelta(hours=1)))
    assert again.out.splitlines()[0] == "sent 0, deferred 0, dead 0"
    assert len(smtp.received) == 3


def test_smtp_down_mails_wait_then_go_out_once_when_it_is_back(
        cli: Cli, smtp: SmtpServer) -> None:
    with_smtp(cli, smtp)
    smtp.stop()
    mails = [reminder(1), reminder(2)]
    queue(cli, mails)

    down = cli.ok("outbox", "send", "--now", at())
    assert down.out.splitlines()[0] == "sent 0, deferred 2, dead 0"
    assert "mail server unavailable" in down.out
    waiting = mails_in(cli, "queued")
    assert {mail.message_id for mail in waiting} == {m.message_id for m in mails}
    assert {mail.attempts for mail in waiting} == {0}
    assert all("unavailable" in (mail.last_error or "") for mail in waiting)

    smtp.start()
    early = cli.ok("outbox", "send", "--now", at(timedelta(seconds=30)))
    assert early.out.splitlines()[0] == "sent 0, deferred 0, dead 0"
    back = cli.ok("outbox", "send", "--now", at(timedelta(minutes=2)))
    assert back.out.splitlines()[0] == "sent 2, deferred 0, dead 0"

    assert smtp.message_ids() == sorted(m.message_id for m in mails)
    assert [mail.status for mail in mails_in(cli)] == ["sent", "sent"]


def test_a_refused_recipient_is_a_dead_letter_with_the_servers_reply(
        cli: Cli, smtp: SmtpServer) -> None:
    with_smtp(cli, smtp)
    good, gone = reminder(1), reminder(2, to=REFUSED, user="rep-gone")
    queue(cli, [good, gone])

    sent = cli.ok("outbox", "send", "--now", at())

    assert sent.out.splitlines()[0] == "sent 1, deferred 0, dead 1"
    assert f"{gone.message_id}: {REFUSAL}" in sent.out
    assert smtp.message_ids() == [good.message_id]
    table = cli.ok("outbox", "list", "--status", "dead").out
    assert gone.message_id in table
    assert REFUSAL in table
    assert good.message_id not in table
    assert "dead 1" in table.splitlines()[-1]
    [dead] = mails_in(cli, "dead")
    assert (dead.message_id, dead.attempts, dead.last_error) == (gone.message_id, 1, REFUSAL)

    retried = cli.ok("outbox", "retry", gone.message_id, "--actor", "user:admin",
                     "--reason", "the representative's address was fixed")
    assert retried.out.strip() == f"{gone.message_id}: queued again (to {REFUSED})"
    [queued] = mails_in(cli, "queued")
    assert (queued.message_id, queued.attempts) == (gone.message_id, 0)
    assert queued.last_action is not None
    assert "by user:admin" in queued.last_action
    assert "fixed" in queued.last_action


def test_retry_and_discard_name_what_is_wrong(sqlite_cli: Cli, smtp: SmtpServer) -> None:
    cli = with_smtp(sqlite_cli, smtp)
    first, second = reminder(1, to=REFUSED, user="a"), reminder(2, to=REFUSED, user="b")
    queue(cli, [first, second])
    settings = load_settings(cli.env)
    app = build_application(settings, access_control=False)
    try:
        assert run(JobContext(app=app, settings=settings, now=START)).summary == (
            "sent 0, deferred 0, dead 2")
        app.add_user("clerk", roles=[Role.OFFICER], actor="system:test-setup",
                     reason="an officer, not an admin")
    finally:
        app.close()

    refused = cli.as_is("outbox", "retry", first.message_id, "--actor", "user:clerk",
                        "--reason", "try again")
    assert refused.code == 3
    assert "may not manage outbox" in refused.err
    malformed = cli("outbox", "discard", "no-such-thing", "--actor", "user:admin",
                    "--reason", "x")
    assert malformed.code == 2
    assert "message id" in malformed.err
    unknown = cli("outbox", "retry", reminder(9).message_id, "--actor", "user:admin",
                  "--reason", "x")
    assert unknown.code == 4
    assert f"no mail {reminder(9).message_id}" in unknown.err
    neither = cli("outbox", "retry", "--actor", "user:admin", "--reason", "x")
    assert neither.code == 2
    assert "MESSAGE_ID or --all-dead" in neither.err
    for result in (refused, malformed, unknown, neither):
        assert "Traceback" not in result.err
    assert [mail.status for mail in mails_in(cli)] == ["dead", "dead"]

    discarded = cli.ok("outbox", "discard", first.message_id.strip("<>"), "--actor",
                       "user:admin", "--reason", "the importer has no representative")
    assert discarded.out.strip() == f"{first.message_id}: discarded (to {REFUSED})"
    out = cli.ok("outbox", "retry", "--all-dead", "--actor", "user:admin",
                 "--reason", "the server's rule was fixed").out
    assert out.strip() == "1 dead mail(s) queued again"
    statuses = {mail.message_id: (mail.status, mail.discard_reason) for mail in mails_in(cli)}
    assert statuses == {first.message_id: ("discarded", "the importer has no representative"),
                        second.message_id: ("queued", None)}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_when_a_user_is_set(sqlite_cli: Cli) -> None:
    server = SmtpServer(auth=True)
    server.start()
    try:
        cli = with_smtp(sqlite_cli, server, COMPLIANCE_SMTP_USER=LOGIN,
                        COMPLIANCE_SMTP_PASSWORD="wrong password")
        queue(cli, [reminder(1)])
        wrong = cli.ok("outbox", "send", "--now", at())
        assert wrong.out.splitlines()[0] == "sent 0, deferred 1, dead 0"
        assert f"login as {LOGIN} refused: 535" in wrong.out
        assert "wrong password" not in wrong.out + wrong.err

        cli.env["COMPLIANCE_SMTP_PASSWORD"] = PASSWORD
        right = cli.ok("outbox", "send", "--now", at(timedelta(minutes=5)))
        assert right.out.splitlines()[0] == "sent 1, deferred 0, dead 0"
        assert server.handler.logins == [LOGIN]
        assert server.message_ids() == [reminder(1).message_id]
    finally:
        server.stop()


def test_the_scheduler_job_delivers_retries_with_backoff_and_parks_dead_letters(
        sqlite_cli: Cli, smtp: SmtpServer) -> None:
    """In-process, as `scheduler tick` runs it: a mail the server defers (450) is tried
    again after 60 s, then 120 s, and parked after the third attempt; one it refuses
    (550) is parked at once."""
    settings = load_settings(with_smtp(sqlite_cli, smtp, COMPLIANCE_MAIL_MAX_ATTEMPTS="3",
                                       COMPLIANCE_MAIL_RETRY_SECONDS="60").env)
    good, gone, busy = reminder(1), reminder(2, to=REFUSED, user="gone"), reminder(
        3, to=BUSY, user="busy")
    queue(sqlite_cli, [good, gone, busy])
    app = build_application(settings)
    outbox = build_outbox(app)

    def tick(after: timedelta) -> str:
        return run(JobContext(app=app, settings=settings, now=START + after)).summary

    try:
        first = run(JobContext(app=app, settings=settings, now=START))
        assert first.summary == "sent 1, deferred 1, dead 1"
        assert first.details["reasons"][gone.message_id] == REFUSAL
        waiting = outbox.get(busy.message_id)
        assert waiting is not None
        assert (waiting.attempts, waiting.next_attempt_at) == (
            1, START + timedelta(seconds=60))
        assert tick(timedelta(seconds=59)) == "sent 0, deferred 0, dead 0"
        assert tick(timedelta(seconds=60)) == "sent 0, deferred 1, dead 0"
        waiting = outbox.get(busy.message_id)
        assert waiting is not None
        assert (waiting.attempts, waiting.next_attempt_at) == (
            2, START + timedelta(seconds=180))
        assert tick(timedelta(seconds=180)) == "sent 0, deferred 0, dead 1"
        dead = outbox.get(busy.message_id)
        assert dead is not None
        assert dead.status == "dead"
        assert dead.last_error == f"recipient {BUSY}: {BUSY_REPLY} (after 3 attempts)"
    finally:
        app.close()
    assert smtp.message_ids() == [good.message_id]


def test_a_connection_that_dropped_between_two_mails_is_opened_again(
        smtp: SmtpServer) -> None:
    settings = load_mail_settings(smtp.environ())
    with SmtpTransport(settings) as transport:
        transport.send(reminder(1))
        smtp.stop()  # the server goes away and comes back while the batch is open
        smtp.start()
        transport.send(reminder(2))
    assert smtp.message_ids() == sorted([reminder(1).message_id, reminder(2).message_id])


def test_a_sender_killed_mid_batch_loses_nothing(cli: Cli, smtp: SmtpServer) -> None:
    """kill -9 while the server is taking the batch: afterwards, once the claims' lease
    ran out, every mail is sent and received; at most two twice (the one whose mark was
    committing and the one in flight, with the same Message-ID)."""
    with_smtp(cli, smtp)
    smtp.handler.delay = 0.1
    mails = [reminder(n) for n in range(1, 31)]
    queue(cli, mails)
    worker = subprocess.Popen([str(EXECUTABLE), "outbox", "send", "--now", at()],
                              env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    deadline = time.monotonic() + 60
    while len(smtp.received) < 5 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.poll() is None, worker.communicate()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    smtp.handler.delay = 0.0
    time.sleep(0.5)  # the server finishes taking the message that was in flight
    before = len(smtp.received)
    assert 5 <= before < len(mails)
    statuses = [mail.status for mail in mails_in(cli)]
    assert before - 2 <= statuses.count("sent") <= before  # killed before marking them
    assert statuses.count("sent") + statuses.count("sending") == len(mails)

    cli.ok("outbox", "send", "--now", at(timedelta(minutes=10)))  # the lease ran out

    assert sorted(set(smtp.message_ids())) == sorted(m.message_id for m in mails)
    assert len(smtp.received) - len(mails) <= 2
    assert len(mails_in(cli, "sent")) == len(mails)


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value"), [
    ("COMPLIANCE_SMTP_PORT", "twenty-five"),
    ("COMPLIANCE_SMTP_PORT", "70000"),
    ("COMPLIANCE_SMTP_TLS", "tls"),
    ("COMPLIANCE_MAIL_FROM", "ledger at customs"),
    ("COMPLIANCE_MAIL_FROM", "a@customs.example, b@customs.example"),
    ("COMPLIANCE_PUBLIC_URL", "ftp://ledger.customs.example"),
    ("COMPLIANCE_MAIL_MAX_ATTEMPTS", "0"),
    ("COMPLIANCE_MAIL_RETRY_SECONDS", "-5"),
    ("COMPLIANCE_SMTP_TIMEOUT_SECONDS", "soon"),
])
def test_bad_mail_settings_are_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_mail_settings({variable: value})


def test_mail_settings_defaults_and_values() -> None:
    assert load_mail_settings({}) == MailSettings()
    chosen = load_mail_settings({
        "COMPLIANCE_SMTP_HOST": "smtp.customs.example", "COMPLIANCE_SMTP_PORT": "587",
        "COMPLIANCE_SMTP_USER": "ledger", "COMPLIANCE_SMTP_PASSWORD": "pw",
        "COMPLIANCE_SMTP_TLS": "STARTTLS",
        "COMPLIANCE_MAIL_FROM": '"Customs, Ledger" <ledger@customs.example>',
        "COMPLIANCE_PUBLIC_URL": "https://ledger.customs.example/",
        "COMPLIANCE_MAIL_MAX_ATTEMPTS": "3", "COMPLIANCE_MAIL_RETRY_SECONDS": "30"})
    assert dataclasses.asdict(chosen) == {
        **dataclasses.asdict(MailSettings()), "smtp_host": "smtp.customs.example",
        "smtp_port": 587, "smtp_user": "ledger", "smtp_password": "pw",
        "smtp_tls": "starttls", "mail_from": '"Customs, Ledger" <ledger@customs.example>',
        "public_url": "https://ledger.customs.example", "max_attempts": 3,
        "retry_seconds": 30}
    assert "pw" not in chosen.describe()


def test_a_bad_mail_setting_stops_the_command_before_it_starts(sqlite_cli: Cli) -> None:
    sqlite_cli.env["COMPLIANCE_SMTP_TLS"] = "starttls-please"
    result = sqlite_cli.as_is("outbox", "send")
    assert result.code == 2
    assert result.err.startswith("error: invalid setting: COMPLIANCE_SMTP_TLS=")
    assert "Traceback" not in result.err
