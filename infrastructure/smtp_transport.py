"""Handing mails to an SMTP server with smtplib: one connection per batch, plain, STARTTLS or
TLS from the first byte, with a login when a user is set.

Why it sorts failures the way it does: the sender (application.outbox_sender) must know
whether to try a mail again later (TemporaryMailError: a 4xx reply, a line that dropped
twice), to park it for a person (PermanentMailError: a 5xx reply, kept with the server's
code and words), or to leave the whole batch waiting because the server cannot be reached
or will not let us in (MailServerUnavailableError: refused, timed out, 421, login
refused). A connection that drops between two mails (servers close idle ones) is opened
again once before the mail is counted as failed."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from types import TracebackType

from application.mail import OutgoingMail
from application.outbox_sender import (
    MailServerUnavailableError,
    PermanentMailError,
    QueuedMail,
    TemporaryMailError,
)
from infrastructure.mail_settings import MailSettings

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
SERVICE_UNAVAILABLE = 421
"""The server is shutting the connection down: it is the server, not the mail."""


def build_message(mail: QueuedMail | OutgoingMail, mail_from: str,
                  date: datetime | None = None) -> Message:
    """The mail as it goes on the wire: a text part and an HTML alternative (UTF-8,
    quoted-printable, so the raw message stays readable), and headers that are the same
    each time it is sent (the Date is when it was queued), so a repeat after a crash is
    the same message. Built with the email package's classic API, which is several times
    faster than EmailMessage's header parsing (benchmark 15) and writes the same bytes."""
    text, html = ((mail.text_body, mail.html_body) if isinstance(mail, QueuedMail)
                  else (mail.text, mail.html))
    when = mail.queued_at if isinstance(mail, QueuedMail) else date or datetime.now(UTC)
    message = MIMEMultipart("alternative")
    message["Message-ID"] = mail.message_id
    message["From"] = formataddr(parseaddr(mail_from), charset="utf-8")
    message["To"] = mail.to_address
    message["Date"] = format_datetime(when.astimezone(UTC))
    message["Subject"] = (mail.subject if mail.subject.isascii()
                          else Header(mail.subject, "utf-8").encode())
    message.attach(MIMEText(text, "plain", _UTF8))  # type: ignore[arg-type]
    message.attach(MIMEText(html, "html", _UTF8))  # type: ignore[arg-type]
    return message


def _reply(text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(words.split())


def _refusal(code: int, text: bytes | str, what: str) -> Exception:
    reply = _reply(text)
    if code == SERVICE_UNAVAILABLE:
        return MailServerUnavailableError(f"{what}: {code} {reply}")
    if 500 <= code < 600:
        return PermanentMailError(code, reply)
    return TemporaryMailError(f"{what}: {code} {reply}")


class SmtpTransport:
    """`with SmtpTransport(settings) as transport: transport.send(mail)` for each mail of
    a batch; entering connects (MailServerUnavailableError when it cannot)."""

    def __init__(self, mail_settings: MailSettings) -> None:
        self.settings = mail_settings
        self.envelope_from = parseaddr(mail_settings.mail_from)[1]
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        self._connection()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        settings, where = self.settings, self.settings.describe()
        smtp: smtplib.SMTP | None = None
        try:
            if settings.smtp_tls == "ssl":
                smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                        timeout=settings.timeout_seconds,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                                    timeout=settings.timeout_seconds)
            smtp.ehlo()
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user is not None:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
        except smtplib.SMTPAuthenticationError as error:
            self._abandon(smtp)
            raise MailServerUnavailableError(
                f"{where}: login as {settings.smtp_user} refused: {error.smtp_code} "
                f"{_reply(error.smtp_error)}") from error
        except smtplib.SMTPResponseException as error:
            self._abandon(smtp)
            raise MailServerUnavailableError(
                f"{where}: {error.smtp_code} {_reply(error.smtp_error)}") from error
        except (smtplib.SMTPException, OSError) as error:
            self._abandon(smtp)
            raise MailServerUnavailableError(
                f"{where}: {type(error).__name__}: {error}".rstrip(": ")) from error
        self._smtp = smtp
        return smtp

    @staticmethod
    def _abandon(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            smtp.close()

    def send(self, mail: QueuedMail | OutgoingMail) -> None:
        message = build_message(mail, self.settings.mail_from)
        for attempt in (1, 2):
            smtp = self._connection()
            try:
                smtp.send_message(message, from_addr=self.envelope_from,
                                  to_addrs=[mail.to_address])
                return
            except smtplib.SMTPRecipientsRefused as error:
                code, text = next(iter(error.recipients.values()))
                raise self._refused(code, text, f"recipient {mail.to_address}") from error
            except smtplib.SMTPSenderRefused as error:
                # Our own address (COMPLIANCE_MAIL_FROM) refused: every mail would be,
                # so none of them is to blame; the batch waits for the setting's fix.
                self._drop()
                raise MailServerUnavailableError(
                    f"sender {self.envelope_from} refused: {error.smtp_code} "
                    f"{_reply(error.smtp_error)}") from error
            except smtplib.SMTPResponseException as error:
                raise self._refused(error.smtp_code, error.smtp_error,
                                    "message refused") from error
            except (smtplib.SMTPException, OSError) as error:
                # The line dropped (an idle connection the server closed, a reset): open
                # it again and send once more; a repeat is harmless (same Message-ID).
                self._drop()
                if attempt == 2:
                    raise TemporaryMailError(
                        f"connection lost while sending: {type(error).__name__}: {error}"
                    ) from error

    def _refused(self, code: int, text: bytes | str, what: str) -> Exception:
        refusal = _refusal(code, text, what)
        if isinstance(refusal, MailServerUnavailableError):
            self._drop()
        return refusal

    def _drop(self) -> None:
        """Forget the connection (it is broken or closing); the next mail opens another."""
        smtp, self._smtp = self._smtp, None
        self._abandon(smtp)
