"""How the ledger reaches its SMTP server, and how patiently it retries: read once from the
environment at an entry point, like every other setting (infrastructure.settings).

Every value is checked here, at start-up, so that a worker with a mistyped port or TLS mode
refuses to start naming the variable, instead of queueing mail it can never deliver and
failing only when the first reminder falls due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import HeaderRegistry
from urllib.parse import urlparse

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_FROM = "Compliance Ledger <ledger@localhost>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
_HEADERS = HeaderRegistry()


def _refuse(message: str) -> Exception:
    """infrastructure.settings.SettingsError, imported when needed: settings imports this
    module for its `mail` field, so importing it back at the top would be a cycle."""
    from infrastructure.settings import SettingsError

    return SettingsError(message)
MAX_RETRY_SECONDS = 6 * 60 * 60
"""The longest wait between two attempts of one mail, whatever the backoff reaches."""


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"
    """none, starttls (upgrade after connecting) or ssl (TLS from the first byte)."""
    mail_from: str = DEFAULT_FROM
    public_url: str = DEFAULT_PUBLIC_URL
    """Where people open the ledger; links in mails start with it (no trailing slash)."""
    max_attempts: int = 8
    """Delivery attempts of one mail before it is parked in the dead letters."""
    retry_seconds: int = 60
    """Wait after the first failed attempt; doubled after each further one."""
    retry_cap_seconds: int = MAX_RETRY_SECONDS
    timeout_seconds: int = 30
    """Of each SMTP connection and command."""

    def describe(self) -> str:
        """For log lines and errors: never the password."""
        login = f"{self.smtp_user}@" if self.smtp_user else ""
        return f"smtp://{login}{self.smtp_host}:{self.smtp_port} (tls {self.smtp_tls})"


def _text(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    return raw or None


def _whole(environ: Mapping[str, str], name: str, default: int, minimum: int,
           maximum: int | None = None) -> int:
    raw = _text(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _refuse(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None \
            else f"at least {minimum}"
        raise _refuse(f"{name}={raw!r}: must be {bound}")
    return value


def parse_mail_address(name: str, raw: str) -> str:
    """A single address, with or without a display name (`Name <user@host>`), in its
    canonical form. Refused: several addresses, no user or domain, anything the e-mail
    parser finds a defect in, and new lines (header injection)."""
    if "\n" in raw or "\r" in raw:
        raise _refuse(f"{name}={raw!r}: one line only")
    problem = f"{name}={raw!r}: expected one address such as 'Ledger <ledger@example.org>'"
    try:
        header = _HEADERS("To", raw)
    except (HeaderParseError, ValueError, IndexError):
        raise _refuse(problem) from None
    addresses = header.addresses  # type: ignore[attr-defined]
    if header.defects or len(addresses) != 1:
        raise _refuse(problem)
    address = addresses[0]
    if not address.username or not address.domain:
        raise _refuse(problem)
    return str(address)


def _public_url(environ: Mapping[str, str]) -> str:
    raw = _text(environ, "COMPLIANCE_PUBLIC_URL")
    if raw is None:
        return DEFAULT_PUBLIC_URL
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise _refuse(f"COMPLIANCE_PUBLIC_URL={raw!r}: expected http(s)://host[:port]"
                            "[/path]")
    if parsed.query or parsed.fragment:
        raise _refuse(f"COMPLIANCE_PUBLIC_URL={raw!r}: no query or fragment")
    try:
        parsed.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise _refuse(f"COMPLIANCE_PUBLIC_URL={raw!r}: bad port") from None
    return raw.rstrip("/")


def load_mail_settings(environ: Mapping[str, str]) -> MailSettings:
    tls = (_text(environ, "COMPLIANCE_SMTP_TLS") or "none").lower()
    if tls not in TLS_MODES:
        raise _refuse(f"COMPLIANCE_SMTP_TLS={tls!r}: expected one of "
                            f"{', '.join(TLS_MODES)}")
    host = _text(environ, "COMPLIANCE_SMTP_HOST") or "127.0.0.1"
    if any(c.isspace() for c in host) or "/" in host:
        raise _refuse(f"COMPLIANCE_SMTP_HOST={host!r}: expected a host name or address")
    user = _text(environ, "COMPLIANCE_SMTP_USER")
    password = environ.get("COMPLIANCE_SMTP_PASSWORD") or None
    if password is not None and user is None:
        raise _refuse("COMPLIANCE_SMTP_PASSWORD is set but COMPLIANCE_SMTP_USER is not:"
                            " set both to log in, or neither")
    raw_from = _text(environ, "COMPLIANCE_MAIL_FROM")
    return MailSettings(
        smtp_host=host,
        smtp_port=_whole(environ, "COMPLIANCE_SMTP_PORT", 25, 1, 65535),
        smtp_user=user,
        smtp_password=password,
        smtp_tls=tls,
        mail_from=DEFAULT_FROM if raw_from is None
        else parse_mail_address("COMPLIANCE_MAIL_FROM", raw_from),
        public_url=_public_url(environ),
        max_attempts=_whole(environ, "COMPLIANCE_MAIL_MAX_ATTEMPTS", 8, 1, 100),
        retry_seconds=_whole(environ, "COMPLIANCE_MAIL_RETRY_SECONDS", 60, 1,
                             MAX_RETRY_SECONDS),
        timeout_seconds=_whole(environ, "COMPLIANCE_SMTP_TIMEOUT_SECONDS", 30, 1, 3600),
    )
