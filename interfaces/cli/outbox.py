"""`compliance outbox ...`: what mail is waiting, what was sent, and the dead letters.

Mails are queued by the scheduler's jobs together with the events that cause them and
delivered by the scheduler's `outbox` job; `outbox send` delivers them from here too (once,
or as a worker with --loop). A mail the server refused for good, or that failed too often,
is parked as `dead`, never dropped: a person looks at it and retries it (the address was
fixed) or discards it (with a reason). Those two change what the ledger sends, so they take
an --actor allowed to manage the outbox (an admin) and a --reason, kept on the mail."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from application.outbox_sender import QueuedMail, SendOutcome
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason
from infrastructure.outbox import STATUSES, SqlOutbox, parse_message_id
from interfaces.cli.context import (
    actor_option,
    cli_context,
    emit_json,
    json_option,
    reason_option,
    run_guarded,
)
from interfaces.cli.text import one_line
from interfaces.composition import utc_now
from interfaces.scheduler.outbox_job import build_outbox, build_sender, holder_name, send_all_due

PERMISSION = "manage_outbox"
LOOP_SECONDS = 5.0
MAX_LIST = 1000
_WIDE = 220
"""Columns of the table when not on a terminal (a pipe, a test): no id cut in two."""


def parse_now(raw: str | None) -> datetime:
    """--now: an ISO 8601 moment; one without a zone is taken as UTC. None: the clock."""
    if raw is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidValueError("--now", raw, "expected an ISO 8601 timestamp such as "
                                "2026-03-01T09:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _outbox() -> SqlOutbox:
    return build_outbox(cli_context().app)


def _authorised(actor: str, reason: str) -> tuple[SqlOutbox, str]:
    """The outbox, once the actor may manage it; and who did it, when and why, for the
    note kept on the mail."""
    actor, reason = parse_actor(actor), parse_reason(reason)
    app = cli_context().app
    app.authorise(actor, PERMISSION)
    return build_outbox(app), f"by {actor} at {utc_now().isoformat()}: {reason}"


def mail_summary(mail: QueuedMail) -> dict[str, Any]:
    """A mail as `list --json` shows it: everything but the bodies."""
    return {"message_id": mail.message_id, "status": mail.status, "to": mail.to_address,
            "to_user": mail.to_user, "subject": mail.subject, "cause": mail.cause,
            "case_number": mail.case_number, "attempts": mail.attempts,
            "queued_at": mail.queued_at, "next_attempt_at": mail.next_attempt_at,
            "claimed_by": mail.claimed_by, "sent_at": mail.sent_at,
            "last_error": mail.last_error, "discard_reason": mail.discard_reason,
            "last_action": mail.last_action}


def _table(mails: list[QueuedMail]) -> Table:
    table = Table(show_lines=False)
    for column in ("id", "to", "subject", "status", "attempts", "last error"):
        table.add_column(column, overflow="fold")
    for mail in mails:
        error = mail.discard_reason if mail.status == "discarded" else mail.last_error
        table.add_row(*(Text(one_line(value)) for value in (
            mail.message_id, mail.to_address, mail.subject, mail.status, mail.attempts,
            error or "")))
    return table


def _echo_outcome(outcome: SendOutcome, quiet_when_idle: bool = False) -> None:
    if quiet_when_idle and not (outcome.sent or outcome.deferred or outcome.dead):
        return
    click.echo(outcome.summary)
    for message_id, reason in outcome.reasons.items():
        click.echo(one_line(f"  {message_id}: {reason}"))


@click.group()
def outbox() -> None:
    """The e-mail outbox: list, deliver, retry or discard mails."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None,
              help="Only mails in this state.")
@click.option("--limit", type=click.IntRange(1, MAX_LIST), default=100, show_default=True)
@json_option
def list_command(status: str | None, limit: int, as_json: bool) -> None:
    """Mails, newest first, and how many there are in each state."""
    def action() -> None:
        box = _outbox()
        mails = box.list(status, limit)
        if as_json:
            emit_json([mail_summary(mail) for mail in mails])
            return
        console = Console(width=None if sys.stdout.isatty() else _WIDE, highlight=False)
        console.print(_table(mails))
        counts = box.counts()
        click.echo(f"{len(mails)} mail(s) shown; " + ", ".join(
            f"{name} {counts[name]}" for name in STATUSES))
    run_guarded(action)


@outbox.command("retry")
@click.argument("message_id", required=False)
@click.option("--all-dead", is_flag=True, help="Every dead mail.")
@actor_option
@reason_option
def retry_command(message_id: str | None, all_dead: bool, actor: str, reason: str) -> None:
    """Queue a dead (or discarded) mail again, with a fresh set of attempts, due at once."""
    if (message_id is None) == (not all_dead):
        raise click.UsageError("give either MESSAGE_ID or --all-dead")

    def action() -> None:
        key = None if message_id is None else parse_message_id(message_id)
        box, note = _authorised(actor, reason)
        if key is None:
            click.echo(f"{box.retry_all_dead(f'retried {note}')} dead mail(s) queued "
                       "again")
            return
        mail = box.retry(key, f"retried {note}")
        click.echo(one_line(f"{mail.message_id}: queued again (to {mail.to_address})"))
    run_guarded(action)


@outbox.command("discard")
@click.argument("message_id")
@actor_option
@reason_option
def discard_command(message_id: str, actor: str, reason: str) -> None:
    """Never send a queued or dead mail; it stays listed, with the reason."""
    def action() -> None:
        key = parse_message_id(message_id)
        box, note = _authorised(actor, reason)
        mail = box.discard(key, parse_reason(reason), f"discarded {note}")
        click.echo(one_line(f"{mail.message_id}: discarded (to {mail.to_address})"))
    run_guarded(action)


@outbox.command("send")
@click.option("--now", "now_text", default=None,
              help="Deliver what is due at this moment (ISO 8601; default: the clock).")
@click.option("--loop", is_flag=True,
              help=f"Keep delivering every {LOOP_SECONDS:.0f} s until Ctrl-C or SIGTERM.")
def send_command(now_text: str | None, loop: bool) -> None:
    """Deliver the queued mails that are due, over SMTP (COMPLIANCE_SMTP_*)."""
    def action() -> None:
        now = parse_now(now_text)
        context = cli_context()
        sender = build_sender(context.app, context.settings, holder_name("outbox-send"))
        if not loop:
            _echo_outcome(send_all_due(sender, now))
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"delivering mail through {context.settings.mail.describe()} every "
                   f"{LOOP_SECONDS:.0f} s; Ctrl-C to stop", err=True)
        while not stop.is_set():
            moment = utc_now() if now_text is None else now
            _echo_outcome(send_all_due(sender, moment), quiet_when_idle=True)
            stop.wait(LOOP_SECONDS)
    run_guarded(action)
