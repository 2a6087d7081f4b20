"""/api/users: who may act on the ledger, in which roles and scope; `compliance users`
over HTTP (the API tokens are interfaces.http.tokens).

A user is a case like any other: each change is a command with a reason, recorded as the
caller, and its version is the ETag an `If-Match` names. Nothing here ever shows a password,
its hash or a token's secret hash. A password comes only in a request body, is checked
against the password policy and hashed here, before the application sees it; disabling a
user or resetting their password also ends their sessions at once.

These commands are built here rather than by interfaces.http.commands because they need
the server's password hasher and session store, and name users, whose names are not
upper-cased like case numbers; they keep its If-Match, Idempotency-Key and ETag rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, HeaderParameter

from application.access import Principal, acting_as
from application.errors import ConcurrencyConflictError
from domain.password_policy import check_password
from domain.user import TokenGrant, User, parse_username
from domain.values import parse_reason
from interfaces.http.auth import services_of
from interfaces.http.commands import (
    CommandResult,
    Common,
    ReasonOnly,
    parse_fields,
    parse_if_match,
)
from interfaces.http.params import Caller
from interfaces.http.problems import InvalidParam, InvalidRequestError, PreconditionFailedError
from interfaces.http.services import HttpServices

AnyRequest = Request[Any, Any, Any]
Username = FromPath[str]


# -- what is shown ----------------------------------------------------------------------


class TokenView(msgspec.Struct):
    """A token as anyone may see it: never its secret, nor the secret's hash."""

    token_id: str
    name: str
    owner: str
    roles: list[str]
    districts: list[str] | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: str


class UserView(msgspec.Struct):
    """A user as an admin needs to know it; the password only as whether one is set.
    `districts` empty (and `national` true) means all 42."""

    username: str
    actor: str
    roles: list[str]
    districts: list[str]
    national: bool
    importers: list[str]
    email: str | None
    enabled: bool
    locked: bool
    failed_logins: int
    last_login_at: datetime | None
    password_set: bool
    version: int
    tokens: list[TokenView]


class UserList(msgspec.Struct):
    items: list[UserView]


def token_view(user: User, grant: TokenGrant, now: datetime) -> TokenView:
    state = ("revoked" if grant.revoked_at is not None
             else "live" if grant.live(now) else "expired")
    return TokenView(grant.token_id, grant.name, user.username, [r.value for r in grant.roles],
                     None if grant.districts is None else list(grant.districts),
                     grant.created_at, grant.expires_at, grant.revoked_at, state)


def user_view(user: User, now: datetime) -> UserView:
    return UserView(user.username, user.actor, [r.value for r in user.roles],
                    list(user.districts), not user.districts, list(user.importers),
                    user.email, user.enabled, user.locked, user.failed_logins,
                    user.last_login_at, user.password_hash is not None, user.version,
                    [token_view(user, grant, now) for grant in user.tokens])


@get("/api/users", sync_to_thread=True, tags=["users"],
     summary="Every user: roles, scope, state and tokens (never a password or secret)")
def list_users(request: AnyRequest, caller: Caller) -> UserList:
    caller.require("read:users")
    services = services_of(request)
    with acting_as(caller):
        found = services.app.list_users()
    return UserList([user_view(user, services.now()) for user in found])


@get("/api/users/{username:str}", sync_to_thread=True, tags=["users"],
     summary="One user; its version is the ETag commands name in If-Match")
def show_user(request: AnyRequest, caller: Caller, username: Username) -> Response[UserView]:
    caller.require("read:users")
    services = services_of(request)
    with acting_as(caller):
        user = services.app.get_user(username)
    return Response(user_view(user, services.now()), headers={"ETag": f'"{user.version}"'})


# -- commands on a user -------------------------------------------------------------------


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    roles: list[str]
    reason: str
    districts: list[str] = msgspec.field(default_factory=list)
    """None given: national."""
    importers: list[str] = msgspec.field(default_factory=list)
    email: str | None = None
    password: str | None = None
    """Without one the user cannot log in until an admin resets it."""


class OneRole(msgspec.Struct, forbid_unknown_fields=True):
    role: str
    reason: str


class Districts(msgspec.Struct, forbid_unknown_fields=True):
    districts: list[str]
    """Empty: national."""
    reason: str


class Importers(msgspec.Struct, forbid_unknown_fields=True):
    importers: list[str]
    reason: str


class Email(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    email: str | None = None
    """None (or absent): the address is cleared."""



class NewPassword(msgspec.Struct, forbid_unknown_fields=True):
    password: str
    reason: str


Call = Callable[[HttpServices, str, Any, Common], Any]


@dataclass(frozen=True)
class UserCommand:
    """POST /api/users/{username}/<name> (or POST /api/users when `creates`): `call` gets
    the server's services, the username, the body and the common arguments."""

    name: str
    body: type[msgspec.Struct]
    permission: str
    call: Call
    summary: str
    creates: bool = False
    keyed: bool = True
    """Takes an Idempotency-Key (never a command that carries a password hash: a fresh
    hash of one password differs every time, and must not be kept in a receipt)."""


def _header(name: str, description: str) -> Any:
    return Annotated[str | None, HeaderParameter(name=name, required=False,
                                                 description=description)]


def build_user_command(spec: UserCommand) -> HTTPRouteHandler:
    def run(request: AnyRequest, caller: Principal, data: Any, username: str,
            if_match: str | None, idempotency_key: str | None) -> Response[CommandResult]:
        caller.require(spec.permission)  # a role that never may: 403 before any lookup
        services = services_of(request)
        expected = parse_if_match(if_match)
        if idempotency_key is not None and not spec.keyed:
            raise InvalidRequestError([InvalidParam(
                "Idempotency-Key", "not taken by a command carrying a password; send it "
                                   "without one")])
        with acting_as(caller):
            if not spec.creates:
                user = services.app.get_user(username)
                username = user.username
                # With a key, a repeat of a request that was recorded must get its first
                # answer, not a 412 for the version it moved the user to: the application
                # looks for the receipt before it compares versions.
                if expected not in (None, user.version) and idempotency_key is None:
                    raise PreconditionFailedError(user.label, expected, user.version)
            common = Common(caller.actor, data.reason, expected, idempotency_key)
            try:
                result = spec.call(services, username, data, common)
            except ConcurrencyConflictError as error:
                if (idempotency_key is None or expected is None or spec.creates
                        or error.expected != expected):
                    raise  # without a key the version was compared above: a lost race
                raise PreconditionFailedError(f"user:{username}", expected,
                                              error.current or 0) from None
            services.callers.clear()  # the change bites on this process's next request
            name = str(result) if spec.creates else username
            version = services.app.get_user(name).version
        headers = {"ETag": f'"{version}"'}
        if spec.creates:
            headers["Location"] = f"/api/users/{name}"
        plain = None if result is None else msgspec.to_builtins(result)
        return Response(CommandResult(number=name, version=version, result=plain),
                        status_code=201 if spec.creates else 200, headers=headers)

    annotations: dict[str, Any] = {
        "request": AnyRequest, "caller": Caller,
        "data": Annotated[spec.body, Body(media_type="application/json")],
        "return": Response[CommandResult]}
    annotations["idempotency_key"] = _header(
        "Idempotency-Key", "Run at most once for this key (8-200 characters)" if spec.keyed
        else "Not taken by this command (it carries a password): refused when sent")
    handler: Callable[..., Response[CommandResult]]
    if spec.creates:
        def create(request: AnyRequest, caller: Principal, data: Any,
                   idempotency_key: str | None = None) -> Response[CommandResult]:
            return run(request, caller, data, "", None, idempotency_key)
        handler, path = create, "/api/users"
    else:
        def step(request: AnyRequest, caller: Principal, data: Any, username: str,
                 if_match: str | None = None, idempotency_key: str | None = None,
                 ) -> Response[CommandResult]:
            return run(request, caller, data, username, if_match, idempotency_key)
        handler, path = step, f"/api/users/{{username:str}}/{spec.name}"
        annotations["username"] = Username
        annotations["if_match"] = _header("If-Match", "The user's version (its ETag) you read")
    handler.__annotations__ = annotations
    handler.__name__ = handler.__qualname__ = f"users_{spec.name}".replace("-", "_")
    return post(path, sync_to_thread=True, tags=["users"], summary=spec.summary,
                operation_id=f"users-{spec.name}",
                status_code=201 if spec.creates else 200)(handler)


def _add(services: HttpServices, _: str, body: NewUser, common: Common) -> str:
    if body.password is not None and common.idempotency_key is not None:
        raise InvalidRequestError([InvalidParam(
            "Idempotency-Key", "not taken with a password; add the user without one")])
    password = body.password
    fields = parse_fields(
        username=lambda: parse_username(body.username),
        password=lambda: None if password is None else check_password(
            password, username=str(body.username).strip().lower()),
        reason=lambda: parse_reason(body.reason))
    name = fields["username"]
    digest = None if password is None else services.hasher.hash(password)
    return services.app.add_user(name, roles=body.roles, districts=body.districts,
                                 importers=body.importers, email=body.email,
                                 password_hash=digest, **common.without_version())


def _ended(services: HttpServices, name: str) -> dict[str, int]:
    return {"sessions_ended": services.sessions.revoke_user(name)}


def _disable(services: HttpServices, name: str, _: ReasonOnly,
             common: Common) -> dict[str, int]:
    services.app.disable_user(name, **common.kwargs())
    return _ended(services, name)


def _reset(services: HttpServices, name: str, body: NewPassword,
           common: Common) -> dict[str, int]:
    parse_fields(password=lambda: check_password(body.password, username=name),
                 reason=lambda: parse_reason(body.reason))
    services.app.set_password(name, services.hasher.hash(body.password),
                              actor=common.actor, reason=common.reason,
                              expected_version=common.expected_version)
    return _ended(services, name)


COMMANDS = [
    UserCommand("add", NewUser, "add_user", _add, "Add a user (with a password, or none "
                "yet)", creates=True),
    UserCommand("grant", OneRole, "grant_role",
                lambda s, n, b, c: s.app.grant_role(n, b.role, **c.kwargs()),
                "Grant a role (never on one's own account)"),
    UserCommand("revoke", OneRole, "revoke_role",
                lambda s, n, b, c: s.app.revoke_role(n, b.role, **c.kwargs()),
                "Revoke a role (a user keeps at least one: disable instead)"),
    UserCommand("districts", Districts, "assign_districts",
                lambda s, n, b, c: s.app.assign_districts(n, b.districts, **c.kwargs()),
                "Set the districts a user works in; none: national"),
    UserCommand("importers", Importers, "assign_importers",
                lambda s, n, b, c: s.app.assign_importers(n, b.importers, **c.kwargs()),
                "Set the importers a representative answers for"),
    UserCommand("email", Email, "set_user_email",
                lambda s, n, b, c: s.app.set_user_email(n, b.email, **c.kwargs()),
                "Set (or clear) a user's e-mail address"),
    UserCommand("disable", ReasonOnly, "disable_user", _disable,
                "Disable a user: logins, sessions and tokens refused at once"),
    UserCommand("enable", ReasonOnly, "enable_user",
                lambda s, n, _b, c: s.app.enable_user(n, **c.kwargs()),
                "Re-enable a disabled user, or unlock one locked by failed logins"),
    UserCommand("reset-password", NewPassword, "set_password", _reset,
                "Set a new password (also unlocks) and end the user's sessions",
                keyed=False),
]


ROUTES: list[HTTPRouteHandler] = [list_users, show_user,
                                  *(build_user_command(spec) for spec in COMMANDS)]
