"""User: a person (or a system account) who may act on the ledger, and what they may do.

Every change of who may see and do what is an event: created, e-mail set, password set,
roles granted and revoked, districts and importers assigned, disabled and re-enabled,
logins that succeeded and failed, locked after repeated failures, API tokens created and
revoked. So "who could do what, at any moment" is answered by replaying the user's history,
like any case. The password is only ever here as its argon2id hash, which `history` hides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.values import parse_district, parse_importer_number, parse_text


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"
    IMPORTER_REPRESENTATIVE = "importer_representative"


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9.@-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
_TOKEN_ID = re.compile(r"^[a-z0-9]{8,32}$")

SECRET_FIELDS = frozenset({"password_hash", "secret_hash"})
"""Event fields that hold a credential's hash: never shown by history, audit or the API."""


def parse_username(value: str, field: str = "username") -> str:
    """Lower-case letters, digits, '.', '-' and '@', up to 64: it becomes the actor
    `user:<username>` of every event the user records, and the separator-free alphabet
    lets an API token carry it (see application.identity)."""
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "a username is required")
    name = parse_text(field, value, 64).lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidValueError(field, value, "use 1-64 lower-case letters, digits, '.', '-' "
                                              "or '@', starting with a letter or digit")
    return name


def parse_username_or_actor(value: str, field: str = "username") -> str:
    """A username, also accepted as its actor form `user:<username>`."""
    if isinstance(value, str) and value.strip().lower().startswith("user:"):
        value = value.strip()[5:]
    return parse_username(value, field)


def parse_email(value: str, field: str = "email") -> str:
    address = parse_text(field, value, 254)
    if not _EMAIL.fullmatch(address):
        raise InvalidValueError(field, value, "expected an address like name@example.org")
    return address


def parse_role(value: Role | str, field: str = "role") -> Role:
    try:
        return Role(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidValueError(field, value, "one of " + ", ".join(r.value for r in Role)
                                ) from None


def parse_districts(values: tuple[str, ...] | list[str], field: str = "district",
                    ) -> tuple[str, ...]:
    """Named districts, sorted and without repeats; empty means national (all 42)."""
    return tuple(sorted({parse_district(v, field) for v in values}))


def parse_importers(values: tuple[str, ...] | list[str], field: str = "importer",
                    ) -> tuple[str, ...]:
    return tuple(sorted({parse_importer_number(v, field) for v in values}))


def user_id(username: str) -> UUID:
    return natural_id("user", username)


@dataclass(frozen=True)
class TokenGrant:
    """An API token for a system: what it may do (a subset of its owner's grants, checked
    when it is used, so revoking a role from the owner narrows the token too), until when,
    and the SHA-256 of its secret (the secret itself is shown once and never stored)."""

    token_id: str
    name: str
    secret_hash: str
    roles: tuple[Role, ...]
    districts: tuple[str, ...] | None
    """None: the owner's districts; else a subset of them."""
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _refuse(rule: str, message: str) -> RuleViolationError:
    return RuleViolationError(rule, message)


class User(CaseAggregate):
    username: str
    email: str | None
    password_hash: str | None
    roles: tuple[Role, ...]
    districts: tuple[str, ...]
    importers: tuple[str, ...]
    enabled: bool
    failed_logins: int
    locked: bool
    last_login_at: datetime | None
    tokens: tuple[TokenGrant, ...]

    def __init__(self) -> None:
        """State is set by the Created event's apply."""

    @property
    def label(self) -> str:
        return f"user:{self.username}"

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @property
    def national(self) -> bool:
        return not self.districts

    # -- creation ----------------------------------------------------------------------

    class Created(CaseAggregate.Created):
        username: str
        roles: tuple[Role, ...]
        districts: tuple[str, ...]
        importers: tuple[str, ...]
        email: str | None

        def apply(self, user: User) -> None:
            user.username = self.username
            user.roles = tuple(Role(r) for r in self.roles)
            user.districts = tuple(self.districts)
            user.importers = tuple(self.importers)
            user.email = self.email
            user.password_hash = None
            user.enabled = True
            user.failed_logins = 0
            user.locked = False
            user.last_login_at = None
            user.tokens = ()

    @classmethod
    def create(cls, username: str, *, roles: tuple[Role, ...], districts: tuple[str, ...],
               importers: tuple[str, ...], email: str | None, actor: str, reason: str,
               at: datetime) -> User:
        name = parse_username(username)
        granted = tuple(sorted({parse_role(r) for r in roles}))
        if not granted:
            raise InvalidValueError("role", "", "a user needs at least one role")
        _check_grants(granted, importers)
        return cls._create(cls.Created, id=user_id(name), timestamp=require_aware(at),
                           actor=actor, reason=reason, username=name, roles=granted,
                           districts=parse_districts(districts),
                           importers=parse_importers(importers),
                           email=None if email is None else parse_email(email))

    # -- grants ------------------------------------------------------------------------

    class EmailSet(CaseAggregate.Event):
        email: str | None

        def apply(self, user: User) -> None:
            user.email = self.email

    def set_email(self, email: str | None, *, actor: str, reason: str, at: datetime) -> None:
        self._record(self.EmailSet, at, actor=actor, reason=reason,
                     email=None if email is None else parse_email(email))

    class RoleGranted(CaseAggregate.Event):
        role: Role

        def apply(self, user: User) -> None:
            user.roles = tuple(sorted({*user.roles, Role(self.role)}))

    def grant(self, role: Role | str, *, actor: str, reason: str, at: datetime) -> None:
        granted = parse_role(role)
        if granted in self.roles:
            raise _refuse("RoleAlreadyHeld", f"{self.label} already holds role {granted}")
        _check_grants((*self.roles, granted), self.importers)
        self._record(self.RoleGranted, at, actor=actor, reason=reason, role=granted)

    class RoleRevoked(CaseAggregate.Event):
        role: Role

        def apply(self, user: User) -> None:
            user.roles = tuple(r for r in user.roles if r != Role(self.role))

    def revoke(self, role: Role | str, *, actor: str, reason: str, at: datetime) -> None:
        revoked = parse_role(role)
        if revoked not in self.roles:
            raise _refuse("RoleNotHeld", f"{self.label} does not hold role {revoked}")
        if len(self.roles) == 1:
            raise _refuse("UserKeepsOneRole", f"{revoked} is the only role of {self.label}: "
                                              "disable the user instead")
        self._record(self.RoleRevoked, at, actor=actor, reason=reason, role=revoked)

    class DistrictsAssigned(CaseAggregate.Event):
        districts: tuple[str, ...]

        def apply(self, user: User) -> None:
            user.districts = tuple(self.districts)

    def assign_districts(self, districts: tuple[str, ...], *, actor: str, reason: str,
                         at: datetime) -> None:
        self._record(self.DistrictsAssigned, at, actor=actor, reason=reason,
                     districts=parse_districts(districts))

    class ImportersAssigned(CaseAggregate.Event):
        importers: tuple[str, ...]

        def apply(self, user: User) -> None:
            user.importers = tuple(self.importers)

    def assign_importers(self, importers: tuple[str, ...], *, actor: str, reason: str,
                         at: datetime) -> None:
        parsed = parse_importers(importers)
        _check_grants(self.roles, parsed)
        self._record(self.ImportersAssigned, at, actor=actor, reason=reason, importers=parsed)

    # -- credentials and logins --------------------------------------------------------

    class PasswordSet(CaseAggregate.Event):
        password_hash: str

        def apply(self, user: User) -> None:
            user.password_hash = self.password_hash
            user.failed_logins = 0
            user.locked = False

    def set_password_hash(self, password_hash: str, *, actor: str, reason: str,
                          at: datetime) -> None:
        if not isinstance(password_hash, str) or not password_hash.startswith("$argon2id$"):
            raise InvalidValueError("password_hash", "<redacted>", "expected an argon2id hash")
        self._record(self.PasswordSet, at, actor=actor, reason=reason,
                     password_hash=password_hash)

    class Disabled(CaseAggregate.Event):
        def apply(self, user: User) -> None:
            user.enabled = False

    def disable(self, *, actor: str, reason: str, at: datetime) -> None:
        if not self.enabled:
            raise InvalidTransitionError(self.label, "disabled", "disable", ("enabled",))
        self._record(self.Disabled, at, actor=actor, reason=reason)

    class Enabled(CaseAggregate.Event):
        def apply(self, user: User) -> None:
            user.enabled = True
            user.locked = False
            user.failed_logins = 0

    def enable(self, *, actor: str, reason: str, at: datetime) -> None:
        """Re-enables a disabled user, or unlocks one locked by failed logins."""
        if self.enabled and not self.locked:
            raise InvalidTransitionError(self.label, "enabled", "enable",
                                         ("disabled", "locked"))
        self._record(self.Enabled, at, actor=actor, reason=reason)

    class LoginSucceeded(CaseAggregate.Event):
        def apply(self, user: User) -> None:
            user.failed_logins = 0
            user.last_login_at = self.timestamp

    def login_succeeded(self, *, at: datetime) -> None:
        self._record(self.LoginSucceeded, at, actor=self.actor, reason="password accepted")

    class LoginFailed(CaseAggregate.Event):
        failures: int

        def apply(self, user: User) -> None:
            user.failed_logins = self.failures

    class Locked(CaseAggregate.Event):
        failures: int

        def apply(self, user: User) -> None:
            user.locked = True

    def login_failed(self, *, max_failures: int, at: datetime) -> None:
        """Counts a failed login; the `max_failures`-th in a row locks the account until an
        admin enables it (or resets its password). A locked account's further failures
        are not recorded, so guessing cannot grow the log without bound."""
        if self.locked:
            return
        failures = self.failed_logins + 1
        self._record(self.LoginFailed, at, actor="system:login",
                     reason=f"wrong password (failure {failures} of {max_failures})",
                     failures=failures)
        if failures >= max_failures:
            self._record(self.Locked, at, actor="system:login",
                         reason=f"locked after {failures} failed logins in a row",
                         failures=failures)

    # -- API tokens --------------------------------------------------------------------

    class TokenCreated(CaseAggregate.Event):
        grant: TokenGrant

        def apply(self, user: User) -> None:
            user.tokens = (*user.tokens, self.grant)

    def create_token(self, grant: TokenGrant, *, actor: str, reason: str, at: datetime) -> None:
        if not _TOKEN_ID.fullmatch(grant.token_id):
            raise InvalidValueError("token_id", grant.token_id, "8-32 lower-case letters/digits")
        name = parse_text("name", grant.name, 100)
        if any(t.name == name and t.live(at) for t in self.tokens):
            raise _refuse("TokenNameUnique", f"{self.label} already has a live token named "
                                             f"{name!r}: revoke it first, or choose another "
                                             "name")
        roles = tuple(sorted({parse_role(r) for r in grant.roles}))
        extra = [r.value for r in roles if r not in self.roles]
        if not roles or extra:
            raise InvalidValueError("role", ",".join(extra), f"a token's roles must be some "
                                    f"of its owner's: {', '.join(self.roles)}")
        districts = None if grant.districts is None else parse_districts(grant.districts)
        if districts is not None and self.districts and not set(districts) <= set(
                self.districts):
            raise InvalidValueError("district", ",".join(districts), "a token's districts "
                                    "must be some of its owner's: " + ", ".join(self.districts))
        if require_aware(grant.expires_at, "expires_at") <= at:
            raise InvalidValueError("expires_at", grant.expires_at.isoformat(),
                                    "must be in the future")
        self._record(self.TokenCreated, at, actor=actor, reason=reason,
                     grant=replace(grant, name=name, roles=roles, districts=districts,
                                   created_at=at))

    class TokenRevoked(CaseAggregate.Event):
        token_id: str

        def apply(self, user: User) -> None:
            user.tokens = tuple(replace(t, revoked_at=self.timestamp)
                                if t.token_id == self.token_id else t for t in user.tokens)

    def revoke_token(self, token_id: str, *, actor: str, reason: str, at: datetime) -> None:
        grant = self.token(token_id)
        if grant is None:
            raise InvalidValueError("token", token_id, f"no token of {self.label} has this id")
        if grant.revoked_at is not None:
            raise InvalidTransitionError(f"token {token_id}", "revoked", "revoke", ("live",))
        self._record(self.TokenRevoked, at, actor=actor, reason=reason, token_id=token_id)

    def token(self, token_id: str) -> TokenGrant | None:
        return next((t for t in self.tokens if t.token_id == token_id), None)


def _check_grants(roles: tuple[Role, ...], importers: tuple[str, ...]) -> None:
    """An importer's representative answers for named importers and holds no customs role
    (the trader must never decide its own case); only representatives hold importers."""
    representative = Role.IMPORTER_REPRESENTATIVE in roles
    if representative and len(set(roles)) > 1:
        raise _refuse("RepresentativeHoldsNoCustomsRole",
                      "an importer's representative cannot also hold a customs role")
    if representative and not importers:
        raise InvalidValueError("importer", "", "an importer's representative must be bound "
                                                "to at least one importer number")
    if importers and not representative:
        raise InvalidValueError("importer", ",".join(importers),
                                "only an importer_representative is bound to importers")


USER_DIRECTORY_ID = natural_id("user-directory", "all")


class UserDirectory(CaseAggregate):
    """Every username ever created, in order: saved with each new user, so listing the
    users reads one aggregate instead of scanning the log, and two people creating the same
    user at once conflict on it."""

    usernames: tuple[str, ...]

    def __init__(self) -> None:
        """State is set by the Started event's apply."""

    class Started(CaseAggregate.Created):
        def apply(self, directory: UserDirectory) -> None:
            directory.usernames = ()

    @classmethod
    def start(cls, *, actor: str, at: datetime) -> UserDirectory:
        return cls._create(cls.Started, id=USER_DIRECTORY_ID, timestamp=require_aware(at),
                           actor=actor, reason="first user created")

    class Listed(CaseAggregate.Event):
        username: str

        def apply(self, directory: UserDirectory) -> None:
            directory.usernames = (*directory.usernames, self.username)

    def list_user(self, username: str, *, actor: str, at: datetime) -> None:
        self._record(self.Listed, at, actor=actor, reason=f"user {username} created",
                     username=username)
