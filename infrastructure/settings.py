"""Settings, read once at an entry point from the environment (never at import time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote, urlparse

from domain.assessment import FindingsPolicy
from domain.penalties import CapPolicy
from domain.reminder import ReminderPolicy
from domain.workflow_policy import WorkflowPolicy
from infrastructure.mail_settings import MailSettings, load_mail_settings


class SettingsError(ValueError):
    """A setting is malformed; the message names the variable and the value."""


@dataclass(frozen=True)
class PostgresParams:
    host: str
    port: int
    dbname: str
    user: str
    password: str


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    sqlite_path: Path
    postgres_schema: str = "public"
    postgres_lock_timeout_s: int = 5
    postgres_pool_size: int = 5
    snapshot_interval: int = 50
    seal_key_path: Path = Path("var/keys/seal.key")
    seal_public_key_path: Path = Path("var/keys/seal.key.pub")
    seal_witness_path: Path = Path("var/keys/seal-witness.jsonl")
    """Every seal is also appended here, outside the database (see infrastructure.seal)."""
    workflow: WorkflowPolicy = field(default_factory=WorkflowPolicy)
    selection_exclude_months: int = 24
    """Accounts assessed within this many months are not selected again."""
    channel_random_share: Decimal = Decimal("0.02")
    """Share of every channel sent to exam at random (to measure compliance)."""
    session_idle_minutes: int = 30
    """A person's session ends after this long without a request."""
    session_absolute_hours: int = 12
    """A person's session ends this long after login, however busy (one working day)."""
    caller_cache_seconds: int = 2
    """How long an API process trusts a session or token it has already checked before
    reading it again (0: every request). A user disabled, or a session ended, through
    another process stops working within this many seconds; through the same process,
    at once."""
    login_max_failures: int = 5
    """Failed logins in a row an account may have before further logins are refused."""
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    """argon2id cost of password hashes (RFC 9106 low-memory profile: t=3, 64 MiB)."""
    max_upload_mb: int = 512
    """Largest ingest file the HTTP API takes (streamed to disk, refused with 413 above)."""
    mail: MailSettings = field(default_factory=MailSettings)
    report_store: Path | None = None
    """Where issued reports' bytes are kept: a directory (COMPLIANCE_REPORT_STORE), or the
    database when unset."""
    report_recipients: tuple[str, ...] = ()
    """Who receives the periodic reports the scheduler issues (COMPLIANCE_REPORT_RECIPIENTS,
    comma-separated addresses)."""
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    """When the scheduler reminds, and when it escalates (COMPLIANCE_REMINDER_DAYS_BEFORE,
    COMPLIANCE_REMINDER_OVERDUE_EVERY_DAYS, COMPLIANCE_ESCALATION_GRACE_DAYS)."""
    """SMTP server, sender address, public URL and retries of the outbox."""

    @property
    def findings_policy(self) -> FindingsPolicy:
        return self.workflow.findings

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def describe(self) -> str:
        if self.database_url:
            params = self.postgres
            return (f"PostgreSQL {params.user}@{params.host}:{params.port}/{params.dbname}"
                    f" schema {self.postgres_schema}")
        return f"SQLite {self.sqlite_path}"

    @property
    def postgres(self) -> PostgresParams:
        return parse_postgres_url(self.database_url or "")


def parse_postgres_url(url: str) -> PostgresParams:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise SettingsError(f"COMPLIANCE_DATABASE_URL={url!r}: expected postgresql://...")
    dbname = parsed.path.lstrip("/")
    if not dbname:
        raise SettingsError(f"COMPLIANCE_DATABASE_URL={url!r}: no database name in the URL")
    try:
        port = parsed.port or 5432
    except ValueError:
        raise SettingsError(f"COMPLIANCE_DATABASE_URL={url!r}: bad port") from None
    return PostgresParams(
        host=parsed.hostname or "127.0.0.1", port=port, dbname=dbname,
        user=unquote(parsed.username or "postgres"), password=unquote(parsed.password or ""),
    )


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _decimal(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SettingsError(f"{name}={raw!r}: expected a decimal number") from None
    if not value.is_finite() or value < 0:
        raise SettingsError(f"{name}={raw!r}: expected a non-negative number")
    return value


def _share(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    value = _decimal(environ, name, default)
    if value >= 1:
        raise SettingsError(f"{name}={value}: expected a share below 1, e.g. 0.02")
    return value


def _report_store(environ: Mapping[str, str]) -> Path | None:
    raw = environ.get("COMPLIANCE_REPORT_STORE", "").strip()
    if not raw or raw.lower() == "database":
        return None
    path = Path(raw)
    if path.exists() and not path.is_dir():
        raise SettingsError(f"COMPLIANCE_REPORT_STORE={raw!r}: not a directory")
    return path


def _recipients(environ: Mapping[str, str]) -> tuple[str, ...]:
    from domain.errors import InvalidValueError
    from domain.user import parse_email

    name = "COMPLIANCE_REPORT_RECIPIENTS"
    raw = environ.get(name, "").strip()
    found = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            found.append(parse_email(part))
        except InvalidValueError:
            raise SettingsError(f"{name}: {part!r} is not an e-mail address") from None
    return tuple(found)


def _reminder_policy(environ: Mapping[str, str]) -> ReminderPolicy:
    name = "COMPLIANCE_REMINDER_DAYS_BEFORE"
    raw = environ.get(name, "").strip()
    before = ReminderPolicy().days_before
    if raw:
        try:
            before = tuple(sorted({int(part) for part in raw.split(",") if part.strip()},
                                  reverse=True))
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected whole days before the due date, "
                                "e.g. 14,3") from None
        if any(day <= 0 for day in before):
            raise SettingsError(f"{name}={raw!r}: days before the due date must be positive "
                                "(the day itself always has a reminder)")
    return ReminderPolicy(
        days_before=before,
        overdue_every_days=_int(environ, "COMPLIANCE_REMINDER_OVERDUE_EVERY_DAYS", 7, 1),
        escalation_grace_days=_int(environ, "COMPLIANCE_ESCALATION_GRACE_DAYS", 30, 0))


def _sqlite_key_home(sqlite_path: Path) -> Path:
    """`keys/` beside the default `compliance.db`; any other file gets `keys/<its stem>/`,
    so two stores in one folder never share a seal witness (the second store's verify
    would otherwise count the first one's seals as missing: a false alarm of tampering)."""
    keys = sqlite_path.parent / "keys"
    return keys if sqlite_path.name == "compliance.db" else keys / sqlite_path.stem


def load_settings(environ: Mapping[str, str]) -> Settings:
    url = environ.get("COMPLIANCE_DATABASE_URL", "").strip() or None
    if url is not None and url.startswith("sqlite:///"):
        sqlite_path, url = Path(url.removeprefix("sqlite:///")), None
    else:
        sqlite_path = Path(environ.get("COMPLIANCE_SQLITE_PATH", "").strip()
                           or "var/compliance.db")
    if url is not None:
        parse_postgres_url(url)
    schema = environ.get("COMPLIANCE_POSTGRES_SCHEMA", "").strip() or "public"
    if not schema.replace("_", "").isalnum():
        raise SettingsError(f"COMPLIANCE_POSTGRES_SCHEMA={schema!r}: letters, digits and _ only")
    defaults = FindingsPolicy()
    key_home = _sqlite_key_home(sqlite_path) if url is None else Path("var/keys") / schema
    seal_key = Path(environ.get("COMPLIANCE_SEAL_KEY", "").strip() or key_home / "seal.key")
    seal_public = Path(environ.get("COMPLIANCE_SEAL_PUBLIC_KEY", "").strip()
                       or f"{seal_key}.pub")
    seal_witness = Path(environ.get("COMPLIANCE_SEAL_WITNESS", "").strip()
                        or seal_key.parent / "seal-witness.jsonl")
    return Settings(
        database_url=url,
        sqlite_path=sqlite_path,
        postgres_schema=schema,
        postgres_lock_timeout_s=_int(environ, "COMPLIANCE_POSTGRES_LOCK_TIMEOUT", 5, 1),
        postgres_pool_size=_int(environ, "COMPLIANCE_POSTGRES_POOL_SIZE", 5, 1),
        snapshot_interval=_int(environ, "COMPLIANCE_SNAPSHOT_INTERVAL", 50, 2),
        seal_key_path=seal_key,
        seal_public_key_path=seal_public,
        seal_witness_path=seal_witness,
        selection_exclude_months=_int(environ, "COMPLIANCE_SELECTION_EXCLUDE_MONTHS", 24, 0),
        channel_random_share=_share(environ, "COMPLIANCE_CHANNEL_RANDOM_SHARE",
                                    Decimal("0.02")),
        session_idle_minutes=_int(environ, "COMPLIANCE_SESSION_IDLE_MINUTES", 30, 1),
        session_absolute_hours=_int(environ, "COMPLIANCE_SESSION_ABSOLUTE_HOURS", 12, 1),
        caller_cache_seconds=_int(environ, "COMPLIANCE_CALLER_CACHE_SECONDS", 2, 0),
        login_max_failures=_int(environ, "COMPLIANCE_LOGIN_MAX_FAILURES", 5, 1),
        argon2_time_cost=_int(environ, "COMPLIANCE_ARGON2_TIME_COST", 3, 1),
        argon2_memory_kib=_int(environ, "COMPLIANCE_ARGON2_MEMORY_KIB", 65536, 8),
        max_upload_mb=_int(environ, "COMPLIANCE_MAX_UPLOAD_MB", 512, 1),
        mail=load_mail_settings(environ),
        reminders=_reminder_policy(environ),
        report_store=_report_store(environ),
        report_recipients=_recipients(environ),
        workflow=WorkflowPolicy(
            findings=FindingsPolicy(
                minimum_lower_bound=_decimal(environ, "COMPLIANCE_MIN_RATE_LOWER_BOUND",
                                             defaults.minimum_lower_bound),
                material_loss=_decimal(environ, "COMPLIANCE_MATERIAL_LOSS",
                                       defaults.material_loss),
                material_loss_share_of_duty=_decimal(environ, "COMPLIANCE_MATERIAL_LOSS_SHARE",
                                                     defaults.material_loss_share_of_duty),
            ),
            caps=CapPolicy(interest_rate=_decimal(environ, "COMPLIANCE_INTEREST_RATE",
                                                  CapPolicy().interest_rate)),
            plan_proposal_days=_int(environ, "COMPLIANCE_PLAN_PROPOSAL_DAYS", 60, 1),
            verification_after_days=_int(environ, "COMPLIANCE_VERIFICATION_AFTER_DAYS", 182, 1),
            plan_target_rate=_decimal(environ, "COMPLIANCE_PLAN_TARGET_RATE",
                                      WorkflowPolicy().plan_target_rate),
        ),
    )
