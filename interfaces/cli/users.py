"""`compliance users ...`: who may act on the ledger, in which role and scope.

Every change is a command of the application (UserCommands), so it takes an --actor allowed
to administer users and a --reason, and `compliance history user:NAME` shows it. The very
first admin can only be added by a `system:<job>` actor (system actors hold the admin role,
see application.access.SYSTEM_ROLES); after that, people administer people.

A password only ever comes in on stdin (an option would end up in the shell's history and
in `ps`), is checked against the password policy and hashed with argon2id here, before the
application sees it; no output shows a password or its hash.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from application.compliance_cases import ComplianceCases
from domain.errors import InvalidValueError
from domain.password_policy import REDACTED, check_password
from domain.user import Role, TokenGrant, User, parse_username_or_actor
from interfaces.cli.context import (
    actor_option,
    cli_context,
    emit_json,
    idempotency_option,
    json_option,
    reason_option,
    run_guarded,
    version_option,
)
from interfaces.cli.text import one_line
from interfaces.composition import build_password_hasher, build_session_store

_ROLES = ", ".join(r.value for r in Role)
role_option = click.option("--role", "roles", multiple=True, required=True,
                           help=f"A role ({_ROLES}); repeat for several.")
district_option = click.option("--district", "districts", multiple=True,
                               help="A district 01-42 (repeat); none: national.")
password_option = click.option("--password-stdin", "password_stdin", is_flag=True,
                               help="Read the password from stdin (one line).")


# -- what is shown -------------------------------------------------------------------------


def scope_text(user: User) -> str:
    """What a user answers for: named importers, named districts, or the whole country."""
    if Role.IMPORTER_REPRESENTATIVE in user.roles:
        return "importers " + ", ".join(user.importers)
    return "districts " + ", ".join(user.districts) if user.districts else "national"


def token_state(grant: TokenGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    return "live" if grant.live(now) else "expired"


def token_summary(user: User, grant: TokenGrant, now: datetime) -> dict[str, Any]:
    """A token as anyone may see it: never its secret, nor the secret's hash."""
    return {"token_id": grant.token_id, "name": grant.name, "owner": user.username,
            "roles": [r.value for r in grant.roles],
            "districts": None if grant.districts is None else list(grant.districts),
            "created_at": grant.created_at, "expires_at": grant.expires_at,
            "revoked_at": grant.revoked_at, "state": token_state(grant, now)}


def user_summary(user: User, now: datetime) -> dict[str, Any]:
    """Everything an admin needs to know about a user; the password only as whether one is
    set."""
    return {"username": user.username, "actor": user.actor,
            "roles": [r.value for r in user.roles], "districts": list(user.districts),
            "national": not user.districts, "importers": list(user.importers),
            "email": user.email, "enabled": user.enabled, "locked": user.locked,
            "failed_logins": user.failed_logins, "last_login_at": user.last_login_at,
            "password_set": user.password_hash is not None, "version": user.version,
            "tokens": [token_summary(user, t, now) for t in user.tokens]}


def user_state(user: User) -> str:
    return "disabled" if not user.enabled else "locked" if user.locked else "enabled"


# -- passwords -------------------------------------------------------------------------


def read_password(username: str) -> str:
    """One line from stdin (its line ending dropped), or typed twice, hidden, at a
    terminal; refused unless the password policy accepts it."""
    if sys.stdin.isatty():
        password = str(click.prompt("password", hide_input=True, confirmation_prompt=True,
                                    err=True))
    else:
        password = sys.stdin.readline().removesuffix("\n")
        password = password.removesuffix("\r")
    if not password:
        raise InvalidValueError("password", REDACTED, "no password on stdin: give it as "
                                                      "one line")
    return check_password(password, username=username)


def new_password_hash(username: str) -> str:
    return build_password_hasher(cli_context().settings).hash(read_password(username))


def end_sessions(app: ComplianceCases, username: str) -> str:
    """Ends a user's sessions (after disabling them or resetting their password): what
    was done, for the command's output."""
    sessions = build_session_store(app, cli_context().settings)
    if sessions is None:
        return "no session store (run compliance migrate)"
    ended = sessions.revoke_user(username)
    return f"{ended} session{'' if ended == 1 else 's'} ended"


# -- commands ----------------------------------------------------------------------------


@click.group()
def users() -> None:
    """People and system accounts: add, grant, scope, disable, reset passwords."""


@users.command("add")
@click.argument("username")
@role_option
@district_option
@click.option("--importer", "importers", multiple=True,
              help="Importer number an importer_representative answers for (repeat).")
@click.option("--email", default=None)
@password_option
@actor_option
@reason_option
@json_option
def add_command(username: str, roles: tuple[str, ...], districts: tuple[str, ...],
                importers: tuple[str, ...], email: str | None, password_stdin: bool,
                actor: str, reason: str, as_json: bool) -> None:
    """Add a user. Without --password-stdin the user has no password, and cannot log in
    until an admin runs `users reset-password`."""
    def action() -> None:
        app = cli_context().app
        name = parse_username_or_actor(username)
        password_hash = new_password_hash(name) if password_stdin else None
        app.add_user(name, roles=roles, districts=districts, importers=importers,
                     email=email, password_hash=password_hash, actor=actor, reason=reason)
        user = app.get_user(name)
        if as_json:
            emit_json(user_summary(user, app.clock()))
            return
        password = ("password set" if password_hash else
                    "no password: cannot log in until `compliance users reset-password`")
        click.echo(one_line(f"added {user.actor}: roles {', '.join(user.roles)}; "
                            f"{scope_text(user)}; {password}"))
    run_guarded(action)


@users.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """Every user: roles, scope and whether they may log in."""
    def action() -> None:
        app = cli_context().app
        now = app.clock()
        found = app.list_users()
        if as_json:
            emit_json([user_summary(u, now) for u in found])
            return
        if found:
            click.echo(f"{'USERNAME':<28} {'STATE':<9} {'ROLES':<34} SCOPE")
        for user in found:
            click.echo(one_line(f"{user.username:<28} {user_state(user):<9} "
                                f"{','.join(user.roles):<34} {scope_text(user)}"))
        click.echo(f"{len(found)} user{'' if len(found) == 1 else 's'}")
    run_guarded(action)


@users.command("show")
@click.argument("username")
@json_option
def show_command(username: str, as_json: bool) -> None:
    """One user: roles, districts ("national") or importers, e-mail, state, logins and API
    tokens (never a password, a hash or a token's secret)."""
    def action() -> None:
        app = cli_context().app
        user = app.get_user(username)
        summary = user_summary(user, app.clock())
        if as_json:
            emit_json(summary)
            return
        shown = {"user": user.actor, "roles": ", ".join(user.roles),
                 "districts": ", ".join(user.districts) or (
                     "-" if Role.IMPORTER_REPRESENTATIVE in user.roles else "national"),
                 "importers": ", ".join(user.importers) or "-",
                 "email": user.email or "-", "state": user_state(user),
                 "enabled": user.enabled, "locked": user.locked,
                 "failed logins": user.failed_logins,
                 "last login": user.last_login_at.isoformat() if user.last_login_at else "never",
                 "password": "set" if user.password_hash else "not set",
                 "version": user.version}
        for key, value in shown.items():
            click.echo(one_line(f"{key:>14}: {value}"))
        for token in summary["tokens"]:
            click.echo(one_line(
                f"{'token':>14}: {token['token_id']} {token['name']!r} {token['state']}, "
                f"roles {', '.join(token['roles'])}, expires {token['expires_at'].isoformat()}"))
    run_guarded(action)


@dataclass(frozen=True)
class Done:
    """A change just recorded on a user, for its command to describe."""

    app: ComplianceCases
    name: str
    version: int
    options: dict[str, Any]

    @property
    def user(self) -> str:
        return f"user:{self.name}"

    def scope(self) -> str:
        return f"{self.user}: {scope_text(self.app.get_user(self.name))} (version {self.version})"

    def sessions_ended(self) -> str:
        return end_sessions(self.app, self.name)


Step = Callable[[ComplianceCases, str, dict[str, Any]], int]


def _user_step(name: str, help_text: str, call: Step, describe: Callable[[Done], str],
               extra: tuple[Callable[[Callable[..., None]], Callable[..., None]], ...] = (),
               keyed: bool = True) -> click.Command:
    """A change to one user: USERNAME, its own options, --actor, --reason,
    --expected-version (and --idempotency-key unless a password is involved)."""
    def command(username: str, **options: Any) -> None:
        def action() -> None:
            app = cli_context().app
            name = parse_username_or_actor(username)
            version = call(app, name, options)
            click.echo(one_line(describe(Done(app, name, version, options))))
        run_guarded(action)

    decorators = (*reversed(extra), *((idempotency_option,) if keyed else ()),
                  version_option, reason_option, actor_option, click.argument("username"))
    for decorate in decorators:
        command = decorate(command)
    return click.command(name=name, help=help_text)(command)


def _common(options: dict[str, Any]) -> dict[str, Any]:
    return {"actor": options["actor"], "reason": options["reason"],
            "expected_version": options["expected_version"],
            "idempotency_key": options.get("idempotency_key")}


def _reset_password(app: ComplianceCases, name: str, options: dict[str, Any]) -> int:
    if not options["password_stdin"]:
        raise click.UsageError("give the new password on stdin with --password-stdin")
    return app.set_password(name, new_password_hash(name), actor=options["actor"],
                            reason=options["reason"],
                            expected_version=options["expected_version"])


_ONE_ROLE = click.option("--role", required=True, help=f"One of {_ROLES}.")
for _command in (
    _user_step("grant", "Grant a role.",
               lambda app, n, o: app.grant_role(n, o["role"], **_common(o)),
               lambda d: f"{d.user}: role {d.options['role']} granted (version {d.version})",
               (_ONE_ROLE,)),
    _user_step("revoke", "Revoke a role (a user keeps at least one: disable instead).",
               lambda app, n, o: app.revoke_role(n, o["role"], **_common(o)),
               lambda d: f"{d.user}: role {d.options['role']} revoked (version {d.version})",
               (_ONE_ROLE,)),
    _user_step("districts", "Set the districts a user works in; none: national.",
               lambda app, n, o: app.assign_districts(n, o["districts"], **_common(o)),
               Done.scope, (district_option,)),
    _user_step("importers", "Set the importers a representative answers for.",
               lambda app, n, o: app.assign_importers(n, o["importers"], **_common(o)),
               Done.scope, (click.option("--importer", "importers", multiple=True,
                                         required=True, help="Importer number (repeat)."),)),
    _user_step("email", "Set (or, without --email, clear) a user's e-mail address.",
               lambda app, n, o: app.set_user_email(n, o["email"], **_common(o)),
               lambda d: f"{d.user}: e-mail {d.options['email'] or 'cleared'} "
                         f"(version {d.version})",
               (click.option("--email", default=None),)),
    _user_step("disable", "Disable a user: refused as an actor, logins and tokens refused, "
                          "sessions ended.",
               lambda app, n, o: app.disable_user(n, **_common(o)),
               lambda d: f"{d.user} disabled (version {d.version}); {d.sessions_ended()}"),
    _user_step("enable", "Re-enable a disabled user, or unlock one locked by failed logins.",
               lambda app, n, o: app.enable_user(n, **_common(o)),
               lambda d: f"{d.user} enabled and unlocked (version {d.version})"),
    _user_step("reset-password", "Set a new password (read from stdin; also unlocks) and "
                                 "end the user's sessions.",
               _reset_password,
               lambda d: f"{d.user}: password reset (version {d.version}); "
                         f"{d.sessions_ended()}",
               (password_option,), keyed=False),
):
    users.add_command(_command)
