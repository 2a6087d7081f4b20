"""An e-mail the ledger wants sent, as the application composes it and the outbox keeps it.

Mails are never sent from inside a command: they are rows of the outbox, written in the
same transaction as the events that cause them, and delivered later by the sender
(application.outbox_sender) over SMTP. The `message_id` is derived from the cause and the
recipient, so the same mail queued twice is one row, and a mail sent again after a crash
carries the same Message-ID (receivers discard the repeat)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MESSAGE_ID_DOMAIN = "compliance-ledger.invalid"


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    """The Message-ID header, angle brackets included; the outbox's key."""
    to_address: str
    to_user: str
    """The username the mail is for (the address may change; the user does not)."""
    subject: str
    text: str
    html: str
    cause: str
    """What made it: e.g. `reminder:<id>`, `digest:<district>:<date>`, `alert:verify:<date>`."""
    case_number: str | None = None


def message_id(cause: str, username: str) -> str:
    """Deterministic: the same cause for the same user is always the same message."""
    digest = hashlib.sha256(f"{cause}\x00{username}".encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"
