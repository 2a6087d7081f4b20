"""Benchmark 15, mail throughput (`--only mail`).

Ours: mails queued in the outbox are delivered by the OutboxSender exactly as the
scheduler's `outbox` job does it: claim a batch (one UPDATE ... RETURNING), open one SMTP
connection, send each mail and mark it sent right after the server took it (one UPDATE per
mail, its own transaction), batch after batch.
Baseline: a bare smtplib loop sending the same messages (built beforehand) over one
connection, recording nothing. Target: >= 50% of the baseline's mails/s.

The SMTP server is aiosmtpd in a process of its own on 127.0.0.1, counting what it
receives (so neither side shares its interpreter with the server, and the count proves
every mail arrived). On PostgreSQL, with a labelled SQLite comparison.

    python -m bench.mail_benchmark serve PORT COUNT_FILE   # the server (used internally)
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from application.mail import OutgoingMail, message_id
from application.outbox_sender import OutboxSender, QueuedMail
from bench.common import Measure, Result, application, pg_schema, pg_settings, sqlite_file
from bench.common import sqlite_settings as sqlite_store
from infrastructure.mail_settings import MailSettings
from infrastructure.outbox import SqlOutbox
from infrastructure.settings import Settings
from infrastructure.smtp_transport import SmtpTransport, build_message
from infrastructure.sql_tables import SqlTables
from interfaces.scheduler.outbox_job import send_all_due

FULL_MAILS = 3000
QUICK_MAILS = 300
ROUNDS = 4
WARMUP = 20
PUBLIC_URL = "https://ledger.customs.example"
_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the server process ----------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, _server: Any, _session: Any,  # noqa: N802 (aiosmtpd's name)
                          _envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def serve(port: int, count_file: Path) -> None:
    """Runs until SIGTERM, then writes how many messages it accepted."""
    from aiosmtpd.controller import Controller

    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    count_file.write_text(str(counter.count))


@contextmanager
def smtp_server() -> Iterator[tuple[int, Callable[[], int]]]:
    """The server process on a free port; yields the port and a function that stops it
    and returns how many messages it accepted."""
    port = _free_port()
    count_file = Path(tempfile.mkstemp(prefix="bench-mail-count-")[1])
    process = subprocess.Popen([sys.executable, "-m", "bench.mail_benchmark", "serve",
                                str(port), str(count_file)], stdout=subprocess.PIPE, text=True)
    stopped: list[int] = []

    def stop() -> int:
        if not stopped:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            stopped.append(int(count_file.read_text() or "0"))
        return stopped[0]

    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server process did not start")
        yield port, stop
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        count_file.unlink(missing_ok=True)


# -- the workload ------------------------------------------------------------------------


def reminders(count: int, round_number: int) -> list[OutgoingMail]:
    """Reminders the size of the due scan's: a subject with the case, a few lines of text,
    the same as HTML with a link."""
    mails = []
    for n in range(count):
        case = f"CA-2026-{n + 1:05d}"
        user = f"officer.{n % 50}"
        cause = f"bench:{round_number}:{case}:proposal:2026-05-01:3"
        link = f"{PUBLIC_URL}/cases/{case}"
        text = (f"Dear {user},\n\nThe plan proposal of {case} is due on 2026-05-01, in 3 "
                f"days.\n\nOpen the case: {link}\n\n-- Compliance Ledger\n")
        html = (f"<p>Dear {user},</p><p>The plan proposal of <a href=\"{link}\">{case}</a> "
                "is due on <strong>2026-05-01</strong>, in 3 days.</p>"
                "<p>-- Compliance Ledger</p>")
        mails.append(OutgoingMail(message_id(cause, user), f"{user}@customs.example", user,
                                  f"{case}: plan proposal due 2026-05-01 (in 3 days)", text,
                                  html, cause, case))
    return mails


def _ours(settings: Settings, mail: MailSettings, mails: list[OutgoingMail]) -> float:
    """The first WARMUP mails go out untimed (connection pool, imports, caches); they
    were queued earlier, so they are claimed first."""
    with application(settings) as app:
        outbox = SqlOutbox(SqlTables(app.recorder))
        outbox.enqueue(mails[:WARMUP], _NOW - timedelta(minutes=1))
        outbox.enqueue(mails[WARMUP:], _NOW)
        sender = OutboxSender(outbox, lambda: SmtpTransport(mail), mail, "bench")
        warm = sender.send_due(_NOW, limit=WARMUP)
        start = time.perf_counter()
        outcome = send_all_due(sender, _NOW, max_batches=len(mails))
        elapsed = time.perf_counter() - start
        if (warm.sent + outcome.sent != len(mails)
                or outbox.counts()["sent"] != len(mails)):
            raise AssertionError(f"ours sent {outcome.summary}: {outcome.reasons}")
    return elapsed


def _baseline(mail: MailSettings, mails: list[OutgoingMail]) -> float:
    """The same messages, built beforehand; the first WARMUP untimed, as for ours."""
    messages = [(build_message(QueuedMail.of(m, _NOW), mail.mail_from), m.to_address)
                for m in mails]
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        for index, (message, to) in enumerate(messages):
            if index == WARMUP:
                start = time.perf_counter()
            smtp.send_message(message, from_addr="ledger@customs.example", to_addrs=[to])
    return time.perf_counter() - start


def _run(settings_for: Callable[[int], Any], backend: str, count: int,
         log: Callable[[str], None]) -> Result:
    ours_s = base_s = 0.0
    with smtp_server() as (port, stop):
        mail = MailSettings(smtp_port=port, public_url=PUBLIC_URL,
                            mail_from="Compliance Ledger <ledger@customs.example>")
        for round_number in range(ROUNDS):
            mails = reminders(WARMUP + count, round_number)
            if round_number % 2:  # alternate who goes first
                base_s += _baseline(mail, mails)
            with settings_for(round_number) as settings:
                ours_s += _ours(settings, mail, mails)
            if not round_number % 2:
                base_s += _baseline(mail, mails)
            log(f"mail ({backend}) round {round_number + 1}/{ROUNDS}: ours "
                f"{ours_s:.2f} s, baseline {base_s:.2f} s so far")
        received = stop()
    total = count * ROUNDS
    if received != 2 * (total + WARMUP * ROUNDS):
        raise AssertionError(f"the server received {received} mails, not "
                             f"{2 * (total + WARMUP * ROUNDS)}")
    ours = Measure("outbox + OutboxSender (claim, send, mark sent)", ours_s, total, "mails",
                   note="one SMTP connection per batch of 100")
    baseline = Measure("bare smtplib loop, one connection", base_s, total, "mails")
    return Result("15", "Mail throughput to a loopback SMTP server", backend, ours, baseline,
                  ours.rate / baseline.rate, "ours / bare smtplib loop (mails/s)", 0.5,
                  ">= 50%", True, sizes={"mails per round (timed)": count, "rounds": ROUNDS,
                                         "warm-up mails per round": WARMUP},
                  facts=[f"the server (aiosmtpd, its own process) received {received:,} "
                         "mails: every one of both sides",
                         "ours per mail: a text and HTML message built from the row, "
                         "MAIL/RCPT/DATA, then an UPDATE marking it sent in its own "
                         "transaction; per batch of 100: one claiming UPDATE ... RETURNING"],
                  limits="the per-mail commit that marks each mail sent as soon as the "
                         "server took it (what keeps the duplicate window after a crash to "
                         "one mail), and the server's round trips, which both sides pay.",
                  comparison_only=backend == "SQLite")


def bench_mail(url: str, *, quick: bool = False, sqlite: bool = True,
               log: Callable[[str], None] = print) -> list[Result]:
    count = QUICK_MAILS if quick else FULL_MAILS

    @contextmanager
    def postgres(_round: int) -> Iterator[Settings]:
        with pg_schema(url, "mail") as schema:
            yield pg_settings(url, schema)

    @contextmanager
    def sqlite_store_for(_round: int) -> Iterator[Settings]:
        with sqlite_file("mail") as path:
            yield sqlite_store(path)

    results = [_run(postgres, "PostgreSQL", count, log)]
    if sqlite:
        results.append(_run(sqlite_store_for, "SQLite", count, log))
    return results


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        for result in bench_mail(os.environ.get("COMPLIANCE_BENCH_DATABASE_URL")
                                 or "postgresql://postgres@127.0.0.1:5432/test",
                                 quick="--quick" in sys.argv):
            print(f"{result.title} ({result.backend}): ours {result.ours.rate:,.0f} mails/s, "
                  f"baseline {result.baseline.rate:,.0f} mails/s -> {result.ratio:.1%}")
