"""Use cases of people and access: users, their grants, passwords, logins and API tokens,
and turning an actor, a password or a token into the Principal every check uses.

Users are aggregates like cases, so each change of who may do what is an event with an
actor and a reason, and `history user:NAME` shows it. Passwords reach this module already
hashed or are checked through the PasswordHasher port; a token's secret is returned once by
`create_token` and only its SHA-256 is stored (a 256-bit random secret needs no slow hash).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from application.access import (
    ADMIN,
    Principal,
    UnknownActorError,
    system_principal,
)
from application.case_store import CaseStore
from application.ports import PasswordHasher
from domain.errors import InvalidValueError, RuleViolationError
from domain.user import (
    USER_DIRECTORY_ID,
    Role,
    TokenGrant,
    User,
    UserDirectory,
    parse_role,
    parse_username,
    parse_username_or_actor,
    user_id,
)
from domain.values import parse_actor, parse_reason

TOKEN_PREFIX = "clt"


class AuthenticationError(Exception):
    """A login or token that does not authenticate. One message for every cause (unknown
    user, wrong password, locked, disabled, expired or revoked token), so a caller cannot
    tell which usernames exist."""

    def __init__(self, message: str = "wrong username or password, or the account is "
                                      "locked or disabled") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: `secret` is the only time the whole token is ever shown."""

    username: str
    token_id: str
    name: str
    secret: str
    expires_at: datetime


def principal_of(user: User, grant: TokenGrant | None = None) -> Principal:
    roles = frozenset(user.roles)
    districts = frozenset(user.districts) if user.districts else None
    if grant is not None:
        roles = roles & frozenset(grant.roles)
        if grant.districts:
            districts = frozenset(grant.districts) if districts is None else (
                districts & frozenset(grant.districts))
    importers = (frozenset(user.importers) if Role.IMPORTER_REPRESENTATIVE in roles
                 else None)
    if grant is None:
        return Principal(user.actor, roles, districts, importers)
    return Principal(user.actor, roles, districts, importers, grant.token_id,
                     grant.expires_at)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class UserCommands(CaseStore):
    # -- reading -----------------------------------------------------------------------

    def get_user(self, username: str) -> User:
        name = parse_username_or_actor(username)
        return self._load(user_id(name), User, "user", name)

    def find_user(self, username: str) -> User | None:
        found = self._find(user_id(username))
        return found if isinstance(found, User) else None

    def usernames(self) -> tuple[str, ...]:
        directory = self._find(USER_DIRECTORY_ID)
        return directory.usernames if isinstance(directory, UserDirectory) else ()

    def list_users(self) -> list[User]:
        return sorted((self.get_user(n) for n in self.usernames()),
                      key=lambda u: u.username)

    def principal_for_actor(self, actor: str) -> Principal:
        """The principal an actor names: `system:<job>` is automation (see SYSTEM_ROLES);
        `user:<name>` must be an enabled user. Anything else is refused."""
        parse_actor(actor)
        if actor.startswith("system:"):
            return system_principal(actor)
        user = self.find_user(actor.split(":", 1)[1])
        if user is None:
            raise UnknownActorError(f"{actor} is not a user of this ledger: add it with "
                                    "`compliance users add` first")
        if not user.enabled:
            raise UnknownActorError(f"{actor} is disabled")
        return principal_of(user)

    # -- user management (admins) ------------------------------------------------------

    def add_user(self, username: str, *, roles: Iterable[Role | str],
                 districts: Iterable[str] = (), importers: Iterable[str] = (),
                 email: str | None = None, password_hash: str | None = None, actor: str,
                 reason: str, idempotency_key: str | None = None) -> str:
        def run() -> str:
            parse_reason(reason)
            name = parse_username(username)
            if self.find_user(name) is not None:
                raise RuleViolationError("UsernameUnique", f"user {name} already exists")
            at = self.clock()
            user = User.create(name, roles=tuple(parse_role(r) for r in roles),
                               districts=tuple(districts), importers=tuple(importers),
                               email=email, actor=actor, reason=reason, at=at)
            if password_hash is not None:
                user.set_password_hash(password_hash, actor=actor, reason="initial password",
                                       at=at)
            directory = self._find(USER_DIRECTORY_ID)
            if directory is None:
                directory = UserDirectory.start(actor=actor, at=at)
            assert isinstance(directory, UserDirectory)
            directory.list_user(name, actor=actor, at=at)
            self._save(user.label, directory, user, result=name)
            return name
        return self._once("add_user", idempotency_key, actor, str, run)

    def _user_step(self, command: str, username: str, actor: str,
                   expected_version: int | None, idempotency_key: str | None,
                   decide: Callable[[User], None], *, own_grants: bool = True) -> int:
        def checked(user: User) -> None:
            if own_grants and user.actor == actor:
                raise RuleViolationError(
                    "AdminCannotChangeOwnAccess",
                    f"{actor} cannot {command.replace('_', ' ')} on their own account: "
                    "another admin must")
            decide(user)
        return self._step(command, lambda: self.get_user(username), actor, expected_version,
                          idempotency_key, checked)

    def grant_role(self, username: str, role: Role | str, *, actor: str, reason: str,
                   expected_version: int | None = None,
                   idempotency_key: str | None = None) -> int:
        return self._user_step("grant_role", username, actor, expected_version,
                               idempotency_key, lambda u: u.grant(
                                   role, actor=actor, reason=reason, at=self.clock()))

    def revoke_role(self, username: str, role: Role | str, *, actor: str, reason: str,
                    expected_version: int | None = None,
                    idempotency_key: str | None = None) -> int:
        return self._user_step("revoke_role", username, actor, expected_version,
                               idempotency_key, lambda u: u.revoke(
                                   role, actor=actor, reason=reason, at=self.clock()))

    def assign_districts(self, username: str, districts: Iterable[str], *, actor: str,
                         reason: str, expected_version: int | None = None,
                         idempotency_key: str | None = None) -> int:
        """Empty districts make the user national."""
        codes = tuple(districts)
        return self._user_step("assign_districts", username, actor, expected_version,
                               idempotency_key, lambda u: u.assign_districts(
                                   codes, actor=actor, reason=reason, at=self.clock()))

    def assign_importers(self, username: str, importers: Iterable[str], *, actor: str,
                         reason: str, expected_version: int | None = None,
                         idempotency_key: str | None = None) -> int:
        numbers = tuple(importers)
        return self._user_step("assign_importers", username, actor, expected_version,
                               idempotency_key, lambda u: u.assign_importers(
                                   numbers, actor=actor, reason=reason, at=self.clock()))

    def set_user_email(self, username: str, email: str | None, *, actor: str, reason: str,
                       expected_version: int | None = None,
                       idempotency_key: str | None = None) -> int:
        return self._user_step("set_user_email", username, actor, expected_version,
                               idempotency_key, lambda u: u.set_email(
                                   email, actor=actor, reason=reason, at=self.clock()),
                               own_grants=False)

    def set_password(self, username: str, password_hash: str, *, actor: str, reason: str,
                     expected_version: int | None = None) -> int:
        """An admin's reset (also unlocks). Takes no idempotency key: a hash must never be
        fingerprinted into a receipt."""
        return self._user_step("set_password", username, actor, expected_version, None,
                               lambda u: u.set_password_hash(
                                   password_hash, actor=actor, reason=reason,
                                   at=self.clock()), own_grants=False)

    def disable_user(self, username: str, *, actor: str, reason: str,
                     expected_version: int | None = None,
                     idempotency_key: str | None = None) -> int:
        return self._user_step("disable_user", username, actor, expected_version,
                               idempotency_key, lambda u: u.disable(
                                   actor=actor, reason=reason, at=self.clock()))

    def enable_user(self, username: str, *, actor: str, reason: str,
                    expected_version: int | None = None,
                    idempotency_key: str | None = None) -> int:
        return self._user_step("enable_user", username, actor, expected_version,
                               idempotency_key, lambda u: u.enable(
                                   actor=actor, reason=reason, at=self.clock()))

    # -- API tokens --------------------------------------------------------------------

    def create_token(self, username: str, name: str, *, roles: Iterable[Role | str],
                     districts: Iterable[str] | None, expires_at: datetime, actor: str,
                     reason: str) -> IssuedToken:
        """A token for `username` (a system account, or oneself): returns the secret once."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_hex(32)
        chosen = tuple(districts) if districts is not None else None
        box: list[TokenGrant] = []

        def decide(user: User) -> None:
            at = self.clock()
            user.create_token(TokenGrant(
                token_id=token_id, name=name, secret_hash=token_hash(secret),
                roles=tuple(parse_role(r) for r in roles), districts=chosen or None,
                expires_at=expires_at, created_at=at), actor=actor, reason=reason, at=at)
            grant = user.token(token_id)
            assert grant is not None
            box.append(grant)
        self._user_step("create_token", username, actor, None, None, decide,
                        own_grants=False)
        user = self.get_user(username)
        return IssuedToken(user.username, token_id, box[0].name,
                           f"{TOKEN_PREFIX}_{user.username}_{token_id}_{secret}",
                           box[0].expires_at)

    def revoke_token(self, username: str, token_id: str, *, actor: str, reason: str) -> int:
        return self._user_step("revoke_token", username, actor, None, None,
                               lambda u: u.revoke_token(token_id, actor=actor, reason=reason,
                                                        at=self.clock()), own_grants=False)

    def authenticate_token(self, token: str, now: datetime) -> Principal:
        """The principal a bearer token stands for: its owner's grants as they are now,
        narrowed to the token's; refused when malformed, unknown, revoked, expired, or its
        owner disabled."""
        parts = token.strip().split("_") if isinstance(token, str) else []
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
            raise AuthenticationError("the token is malformed")
        _, username, token_id, secret = parts
        try:
            user = self.find_user(parse_username(username))
        except InvalidValueError:
            raise AuthenticationError("the token is malformed") from None
        grant = user.token(token_id) if user is not None else None
        if (user is None or grant is None or not hmac.compare_digest(
                grant.secret_hash, token_hash(secret))):
            raise AuthenticationError("the token is not valid")
        if not grant.live(now) or not user.enabled:
            raise AuthenticationError("the token is expired or revoked, or its user disabled")
        return principal_of(user, grant)

    # -- logins ------------------------------------------------------------------------

    def authenticate_password(self, username: str, password: str, hasher: PasswordHasher,
                              *, max_failures: int) -> Principal:
        """Checks a password and records the outcome on the user (a success resets the
        count of failures; the `max_failures`-th failure in a row locks the account). A
        hash made with weaker parameters than today's is replaced on success."""
        try:
            name = parse_username(username)
        except InvalidValueError:
            name = ""
        user = self.find_user(name) if name else None
        if user is None or user.password_hash is None:
            self._spend_a_check(hasher, password)
            raise AuthenticationError
        at = self.clock()
        if not user.enabled or user.locked:
            self._spend_a_check(hasher, password)
            raise AuthenticationError
        if not hasher.verify(user.password_hash, password):
            user.login_failed(max_failures=max_failures, at=at)
            self._save(user.label, user)
            raise AuthenticationError
        user.login_succeeded(at=at)
        if hasher.needs_rehash(user.password_hash):
            user.set_password_hash(hasher.hash(password), actor="system:login",
                                   reason="rehashed with today's parameters on login",
                                   at=at)
        self._save(user.label, user)
        return principal_of(user)

    _unmatchable_hash: str | None = None

    def _spend_a_check(self, hasher: PasswordHasher, password: str) -> None:
        """Verifies against a hash no password matches when the user is unknown or may not
        log in, so the refusal takes as long as a real check and timing does not tell
        which usernames exist."""
        if self._unmatchable_hash is None:
            self._unmatchable_hash = hasher.hash(secrets.token_hex(32))
        hasher.verify(self._unmatchable_hash, password)

    def change_own_password(self, principal: Principal, old_password: str, new_hash: str,
                            hasher: PasswordHasher) -> int:
        """A user changing their own password proves the old one first."""
        user = self.get_user(principal.username)
        if user.password_hash is None or not hasher.verify(user.password_hash, old_password):
            raise InvalidValueError("old_password", "<redacted>", "is not the current password")
        user.set_password_hash(new_hash, actor=principal.actor, reason="changed by the user",
                               at=self.clock())
        self._save(user.label, user)
        return user.version


__all__ = ["ADMIN", "AuthenticationError", "IssuedToken", "UserCommands", "principal_of"]
