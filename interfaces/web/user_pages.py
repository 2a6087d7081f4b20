"""/users: who may act on the ledger. Admins add users, grant and revoke roles, assign
districts and importers, set e-mail addresses, disable, enable and reset passwords, and
create and revoke API tokens; others with read:users (auditors) see the same pages
without the forms; everyone else gets the 403 page.

Every form runs the API's own command (interfaces.http.users COMMANDS and the token calls
of interfaces.http.tokens): the same permission, the same password policy and hashing with
the server's hasher, the same ending of sessions on disable and reset, each refusal beside
its field. A form sent on a version the user has left meanwhile shows what changed and is
offered again, never applied silently. A token's secret is shown on the page that answers
its creation, once: nothing stores it, and no page can show it again."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from litestar import Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.errors import ConcurrencyConflictError, NotFoundError
from application.history import history
from application.user_queries import USER_STATES, UserPage, checked_user_filter, user_page
from domain.errors import DomainError, InvalidValueError
from domain.user import User, parse_username_or_actor
from domain.values import parse_reason
from interfaces.http.auth import services_of
from interfaces.http.case_lists import caught_up
from interfaces.http.commands import Common, parse_fields
from interfaces.http.params import Caller
from interfaces.http.problems import InvalidRequestError
from interfaces.http.tokens import MAX_TOKEN_DAYS, SHOWN_ONCE, _days
from interfaces.http.users import COMMANDS, UserCommand, Username, token_view, user_view
from interfaces.web.rendering import is_htmx, page
from interfaces.web.user_forms import (
    DISTRICT_CHOICES,
    PASSWORD_POLICY,
    ROLES,
    AnyRequest,
    Sent,
    answered,
    command_body,
)
from projections.views.people import People

SPECS = {spec.name: spec for spec in COMMANDS}
RECENT_EVENTS = 12
PAGE_SIZE = 50
DONE = {"add": "the user was added", "grant": "the role was granted",
        "revoke": "the role was revoked", "districts": "the districts were assigned",
        "importers": "the importers were assigned", "email": "the e-mail address was set",
        "disable": "the user was disabled: their sessions ended",
        "enable": "the user was enabled", "reset-password": "the password was reset: "
        "the user's sessions ended", "revoke-token": "the token was revoked"}
"""What the page says after a form was recorded (the name of the step in ?done=)."""
SHOWN_PERMISSIONS = (*(spec.permission for spec in COMMANDS), "create_token",
                     "revoke_token", "read:history")


def _run(request: AnyRequest, caller: Principal, spec: UserCommand, username: str,
         form: FormMultiDict) -> Response[Any]:
    """One user command as the API runs it; the page again with the refusals otherwise."""
    services = services_of(request)
    sent = Sent.of(spec.name, form)
    fields = (*spec.body.__struct_fields__, "username")
    key = sent.key if spec.keyed and not form.get("password") else None
    try:
        with acting_as(caller):
            if not spec.creates:
                user = services.app.get_user(username)
                username = user.username
                if sent.version not in (None, user.version) and not answered(request, key):
                    stale = _what_changed(request, user, sent.version or 0)
                    sent.version = user.version  # offered again on the version it is now
                    return _again(request, caller, username, sent, stale, 409)
            common = Common(caller.actor, str(sent.values.get("reason", "")), sent.version, key)
            result = spec.call(services, username, command_body(spec, form), common)
    except InvalidRequestError as bad:
        for param in bad.params:
            sent.refuse(param.name, param.reason, fields)
    except InvalidValueError as bad:
        sent.refuse(bad.field, bad.reason, fields)
    except (DomainError, ConcurrencyConflictError) as refused:
        sent.refusal = str(refused)
    else:
        services.callers.clear()  # the change bites on this process's next request
        name = str(result) if spec.creates else username
        return Redirect(f"/users/{name}?done={spec.name}", status_code=303)
    return _again(request, caller, username, sent, None, 422)


def _again(request: AnyRequest, caller: Principal, username: str, sent: Sent,
           stale: dict[str, Any] | None, status: int) -> Template:
    if status >= 400 and is_htmx(request):
        status = 200  # htmx swaps only a success: the refusals are in the page
    if sent.command == "add":
        return _list_page(request, caller, sent, status)
    return _user_page(request, caller, username, sent, stale=stale, status=status)


def _what_changed(request: AnyRequest, user: User, since: int) -> dict[str, Any]:
    entries = history(services_of(request).app, user.id, user.label)
    return {"since": since, "now": user.version,
            "events": [e for e in entries if e.version > since]}


# -- pages ----------------------------------------------------------------------------


def _list_page(request: AnyRequest, caller: Principal, sent: Sent | None = None,
               status: int = 200, query: dict[str, str] | None = None) -> Template:
    """A page of the list (the people view, filtered and paged), each user shown loaded."""
    caller.require("read:users")
    services = services_of(request)
    params = {k: v for k, v in (query or {}).items() if v}
    errors: dict[str, str] = {}
    found = UserPage([], None)
    try:
        wanted = checked_user_filter(params.get("role"), params.get("district"),
                                     params.get("state"), params.get("q"))
        caught_up(services, People)
        found = user_page(services.projections.store, wanted, limit=PAGE_SIZE,
                          cursor=params.get("cursor"))
    except InvalidValueError as bad:
        errors[bad.field] = bad.reason
    with acting_as(caller):
        users = [user_view(user, services.now()) for user in
                 (services.app.find_user(name) for name in found.usernames) if user]
    if errors and status == 200:
        status = 200 if is_htmx(request) else 422
    return page(request, caller, "users.html", status_code=status, users=users,
                next_cursor=found.next_cursor, params=params, filter_errors=errors,
                states=[(state, state) for state in USER_STATES],
                form=sent or Sent("add", {"roles": []}), roles=ROLES,
                districts=DISTRICT_CHOICES, may_add=caller.may("add_user"),
                policy=PASSWORD_POLICY)


def _blank_forms(user: User) -> dict[str, Sent]:
    current = {"districts": list(user.districts), "importers": " ".join(user.importers),
               "email": user.email or ""}
    names = [*SPECS, "token"]
    forms = {name: Sent(name, {k: v for k, v in current.items() if k in _fields(name)},
                        version=user.version) for name in names if name != "add"}
    forms["token"].values = {"expires_in_days": "90", "roles": [], "districts": []}
    return forms


def _fields(name: str) -> tuple[str, ...]:
    spec = SPECS.get(name)
    return spec.body.__struct_fields__ if spec else ("name", "roles", "districts",
                                                     "expires_in_days", "reason")


def _user_page(request: AnyRequest, caller: Principal, username: str,
               sent: Sent | None = None, *, stale: dict[str, Any] | None = None,
               done: str | None = None, status: int = 200) -> Template:
    caller.require("read:users")
    services = services_of(request)
    with acting_as(caller):
        user = services.app.get_user(username)
        recent = history(services.app, user.id, user.label)[-RECENT_EVENTS:]
    forms = _blank_forms(user)
    if sent is not None:
        forms[sent.command] = sent
    held = {role.value for role in user.roles}
    return page(request, caller, "user.html", status_code=status,
                user=user_view(user, services.now()), forms=forms, stale=stale,
                recent=list(reversed(recent)), done=DONE.get(done or ""),
                grantable=[r for r in ROLES if r[0] not in held],
                held=[r for r in ROLES if r[0] in held],
                districts=DISTRICT_CHOICES, policy=PASSWORD_POLICY,
                token_districts=[c for c in DISTRICT_CHOICES
                                 if not user.districts or c[0] in user.districts],
                may={p: caller.may(p) for p in SHOWN_PERMISSIONS},
                max_days=MAX_TOKEN_DAYS, sent_command=sent.command if sent else None)


@get("/users", sync_to_thread=True, include_in_schema=False)
def user_list(request: AnyRequest, caller: Caller, role: FromQuery[str | None] = None,
              district: FromQuery[str | None] = None,
              in_state: Annotated[str | None, QueryParameter(name="state")] = None,
              q: FromQuery[str | None] = None,
              cursor: FromQuery[str | None] = None) -> Template:
    return _list_page(request, caller, query={"role": role or "", "district": district or "",
                                              "state": in_state or "", "q": q or "",
                                              "cursor": cursor or ""})


@get("/users/{username:str}", sync_to_thread=True, include_in_schema=False)
def user_show(request: AnyRequest, caller: Caller, username: Username,
              done: FromQuery[str | None] = None) -> Template:
    return _user_page(request, caller, username, done=done)


@post("/users", include_in_schema=False, status_code=303)
async def user_add(request: AnyRequest, caller: Caller) -> Response[Any]:
    spec = SPECS["add"]
    caller.require(spec.permission)  # refused before the form is read
    form = await request.form()
    return await anyio.to_thread.run_sync(partial(_run, request, caller, spec, "", form))


@post("/users/{username:str}/{command:str}", include_in_schema=False, status_code=303)
async def user_step(request: AnyRequest, caller: Caller, username: Username,
                    command: FromPath[str]) -> Response[Any]:
    spec = SPECS.get(command)
    if spec is None or spec.creates:
        raise NotFoundError("step of users", command)
    caller.require(spec.permission)
    form = await request.form()
    return await anyio.to_thread.run_sync(partial(_run, request, caller, spec, username, form))


# -- tokens ---------------------------------------------------------------------------


def _create_token(request: AnyRequest, caller: Principal, username: str,
                  form: FormMultiDict) -> Template:
    services = services_of(request)
    app = services.app
    sent = Sent.of("token", form)
    fields = _fields("token")
    days_text = str(sent.values.get("expires_in_days", "")).strip()
    try:
        with acting_as(caller):
            user = app.get_user(username)
            checked = parse_fields(
                username=lambda: parse_username_or_actor(username),
                expires_in_days=lambda: _days(int(days_text) if days_text.isdigit() else 0),
                reason=lambda: parse_reason(str(sent.values.get("reason", ""))))
            issued = app.create_token(
                user.username, str(sent.values.get("name", "")),
                roles=sent.values.get("roles", []),
                districts=sent.values.get("districts") or None,
                expires_at=app.clock() + timedelta(days=checked["expires_in_days"]),
                actor=caller.actor, reason=checked["reason"])
            user = app.get_user(issued.username)
    except InvalidRequestError as bad:
        for param in bad.params:
            sent.refuse(param.name, param.reason, fields)
    except InvalidValueError as bad:
        sent.refuse(bad.field, bad.reason, fields)
    except DomainError as refused:
        sent.refusal = str(refused)
    else:
        services.callers.clear()
        grant = user.token(issued.token_id)
        assert grant is not None
        return page(request, caller, "user_token.html", status_code=201,
                    token=token_view(user, grant, services.now()), secret=issued.secret,
                    warning=SHOWN_ONCE, username=user.username)
    return _again(request, caller, username, sent, None, 422)


def _revoke_token(request: AnyRequest, caller: Principal, username: str, token_id: str,
                  form: FormMultiDict) -> Response[Any]:
    services = services_of(request)
    sent = Sent.of("revoke-token", form)
    sent.values["token_id"] = token_id
    try:
        reason = parse_reason(str(sent.values.get("reason", "")))
        with acting_as(caller):
            user = services.app.get_user(username)
            services.app.revoke_token(user.username, token_id, actor=caller.actor,
                                      reason=reason)
    except InvalidValueError as bad:
        sent.refuse(bad.field, bad.reason, ("reason", "token_id"))
    except DomainError as refused:
        sent.refusal = str(refused)
    else:
        services.callers.clear()
        return Redirect(f"/users/{user.username}?done=revoke-token", status_code=303)
    return _again(request, caller, username, sent, None, 422)


@post("/users/{username:str}/tokens", include_in_schema=False, status_code=201)
async def token_create(request: AnyRequest, caller: Caller, username: Username) -> Template:
    """Answered with the page that shows the secret (no redirect: a redirect's page would
    need the secret kept somewhere to show it)."""
    caller.require("create_token")
    form = await request.form()
    return await anyio.to_thread.run_sync(partial(_create_token, request, caller, username,
                                                  form))


@post("/users/{username:str}/tokens/{token_id:str}/revoke", include_in_schema=False,
      status_code=303)
async def token_revoke(request: AnyRequest, caller: Caller, username: Username,
                       token_id: FromPath[str]) -> Response[Any]:
    caller.require("revoke_token")
    form = await request.form()
    return await anyio.to_thread.run_sync(partial(_revoke_token, request, caller, username,
                                                  token_id, form))


ROUTES = [user_list, user_show, user_add, user_step, token_create, token_revoke]
