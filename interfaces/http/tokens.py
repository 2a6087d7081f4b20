"""/api/tokens: the API tokens systems call with, as `compliance tokens` manages them.

A token acts for its owner, narrowed to some of the owner's roles and districts, until it
expires (at most a year, so a forgotten token does not live for ever) or is revoked. Its
secret is in the answer to its creation, once, with `Cache-Control: no-store`; only its
SHA-256 is stored, and no list or history ever shows either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.params import Body, FromPath, HeaderParameter, QueryParameter

from application.access import acting_as
from domain.errors import InvalidValueError
from domain.user import parse_username_or_actor
from domain.values import parse_reason
from interfaces.http.auth import services_of
from interfaces.http.commands import CommandResult, ReasonOnly, parse_fields, parse_if_match
from interfaces.http.params import Caller
from interfaces.http.problems import PreconditionFailedError
from interfaces.http.users import AnyRequest, TokenView, Username, token_view

TokenId = FromPath[str]
MAX_TOKEN_DAYS = 366
SHOWN_ONCE = ("this token is shown only now and cannot be shown again: store it in a secret "
              "store; if it is lost, revoke it and create another")


class TokenList(msgspec.Struct):
    items: list[TokenView]


@get("/api/tokens", sync_to_thread=True, tags=["users"],
     summary="Every API token of every user (or of one): never a secret")
def list_tokens(request: AnyRequest, caller: Caller,
                username: Annotated[str | None, QueryParameter(
                    description="Only this user's tokens")] = None) -> TokenList:
    caller.require("read:users")
    services = services_of(request)
    with acting_as(caller):
        owners = ([services.app.get_user(username)] if username
                  else services.app.list_users())
    now = services.now()
    return TokenList([token_view(user, grant, now) for user in owners
                      for grant in user.tokens])


class NewToken(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    name: str
    roles: list[str]
    reason: str
    districts: list[str] | None = None
    """Some of the owner's districts; none: the owner's."""
    expires_in_days: int = 90


class IssuedToken(msgspec.Struct):
    """`token` is the secret to send as `Authorization: Bearer <token>`: shown now only."""

    token: str
    token_id: str
    name: str
    owner: str
    roles: list[str]
    districts: list[str] | None
    created_at: datetime
    expires_at: datetime
    version: int
    warning: str


def _days(value: int) -> int:
    if isinstance(value, bool) or not 1 <= value <= MAX_TOKEN_DAYS:
        raise InvalidValueError("expires_in_days", value, f"from 1 to {MAX_TOKEN_DAYS}")
    return value


@post("/api/tokens", sync_to_thread=True, tags=["users"], status_code=201,
      summary="Create an API token (its secret is in this answer, and never again)")
def create_token(request: AnyRequest, caller: Caller,
                 data: Annotated[NewToken, Body(media_type="application/json")],
                 ) -> Response[IssuedToken]:
    caller.require("create_token")
    services = services_of(request)
    app = services.app
    fields = parse_fields(username=lambda: parse_username_or_actor(data.username),
                          expires_in_days=lambda: _days(data.expires_in_days),
                          reason=lambda: parse_reason(data.reason))
    with acting_as(caller):
        issued = app.create_token(
            fields["username"], data.name, roles=data.roles, districts=data.districts or None,
            expires_at=app.clock() + timedelta(days=fields["expires_in_days"]),
            actor=caller.actor, reason=data.reason)
        user = app.get_user(issued.username)
    grant = user.token(issued.token_id)
    assert grant is not None
    shown = token_view(user, grant, services.now())
    return Response(
        IssuedToken(issued.secret, shown.token_id, shown.name, shown.owner, shown.roles,
                    shown.districts, shown.created_at, shown.expires_at, user.version,
                    SHOWN_ONCE),
        status_code=201, headers={"Cache-Control": "no-store", "ETag": f'"{user.version}"',
                                  "Location": f"/api/users/{user.username}"})


@post("/api/tokens/{username:str}/{token_id:str}/revoke", sync_to_thread=True, tags=["users"],
      status_code=200, summary="Revoke a token: refused from then on, everywhere")
def revoke_token(request: AnyRequest, caller: Caller, username: Username, token_id: TokenId,
                 data: Annotated[ReasonOnly, Body(media_type="application/json")],
                 if_match: Annotated[str | None, HeaderParameter(
                     name="If-Match", required=False,
                     description="The owner's version (its ETag) you read")] = None,
                 ) -> Response[CommandResult]:
    caller.require("revoke_token")
    services = services_of(request)
    expected = parse_if_match(if_match)
    with acting_as(caller):
        user = services.app.get_user(username)
        if expected is not None and expected != user.version:
            raise PreconditionFailedError(user.label, expected, user.version)
        version = services.app.revoke_token(user.username, token_id, actor=caller.actor,
                                            reason=data.reason)
    services.callers.clear()
    return Response(CommandResult(number=user.username, version=version),
                    headers={"ETag": f'"{version}"'})


ROUTES = [list_tokens, create_token, revoke_token]
