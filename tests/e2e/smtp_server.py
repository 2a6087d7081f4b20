"""A real SMTP server on loopback (aiosmtpd) that records what it receives, refuses one
address for good and answers another "try later": the e-mail tests and the scheduler's
simulation read what actually arrived."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

PUBLIC_URL = "https://ledger.customs.example"
REFUSED = "gone@importer.example"
REFUSAL = "550 5.1.1 <gone@importer.example>: mailbox unavailable"
BUSY = "busy@importer.example"
BUSY_REPLY = "450 4.2.1 <busy@importer.example>: mailbox busy, try later"
LOGIN, PASSWORD = "ledger", "s3cret mail password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Records every envelope it accepts; refuses REFUSED for good; waits `delay` seconds
    before accepting each message (a slow server, to kill a sender mid-batch)."""

    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    delay: float = 0.0

    async def handle_RCPT(self, _server: SMTP, _session: Session,  # noqa: N802 (aiosmtpd's)
                          envelope: Envelope, address: str, _options: list[str]) -> str:
        if address == REFUSED:
            return REFUSAL
        if address == BUSY:
            return BUSY_REPLY
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session,  # noqa: N802 (aiosmtpd's)
                          envelope: Envelope) -> str:
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: one message at a time
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                      parsed))
        return "250 Message accepted for delivery"

    def authenticate(self, _server: SMTP, _session: Session, _envelope: Envelope,
                     _mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (LOGIN, PASSWORD)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # False: the server replies 235/535


class SmtpServer:
    """A real SMTP server on a fixed loopback port that can be stopped and started again
    (the outage tests); a login is required when `auth` is set."""

    def __init__(self, *, auth: bool = False) -> None:
        self.port = free_port()
        self.handler = RecordingHandler()
        self.auth = auth
        self.controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.auth:
            options = {"auth_required": True, "auth_require_tls": False,
                       "authenticator": self.handler.authenticate}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def message_ids(self) -> list[str]:
        return sorted(str(r.message["Message-ID"]) for r in self.received)

    def environ(self) -> dict[str, str]:
        return {"COMPLIANCE_SMTP_HOST": "127.0.0.1", "COMPLIANCE_SMTP_PORT": str(self.port),
                "COMPLIANCE_MAIL_FROM": "Compliance Ledger <ledger@customs.example>",
                "COMPLIANCE_PUBLIC_URL": PUBLIC_URL, "COMPLIANCE_SMTP_TIMEOUT_SECONDS": "5"}
