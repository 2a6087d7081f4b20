"""`compliance tokens ...`: API tokens for systems that call the HTTP API.

A token acts for its owner, narrowed to some of the owner's roles and districts, until it
expires (at most a year: a forgotten token must not live for ever) or is revoked. Its
secret is printed once, by `create`, and only its SHA-256 is stored: nobody can show it
again, so a lost token is revoked and replaced, never recovered.
"""

from __future__ import annotations

from datetime import timedelta

import click

from interfaces.cli.context import (
    actor_option,
    cli_context,
    emit_json,
    json_option,
    reason_option,
    run_guarded,
)
from interfaces.cli.text import one_line
from interfaces.cli.users import district_option, role_option, token_summary

MAX_DAYS = 366
SHOWN_ONCE = ("this token is shown only now and cannot be shown again: store it in a secret "
              "store; if it is lost, revoke it (compliance tokens revoke) and create another")


@click.group()
def tokens() -> None:
    """API tokens: create (the secret is shown once), list, revoke."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. nightly-import.")
@role_option
@district_option
@click.option("--expires-in-days", type=click.IntRange(1, MAX_DAYS), default=90,
              show_default=True, help=f"Days until it expires (at most {MAX_DAYS}).")
@actor_option
@reason_option
@json_option
def create_command(username: str, name: str, roles: tuple[str, ...],
                   districts: tuple[str, ...], expires_in_days: int, actor: str, reason: str,
                   as_json: bool) -> None:
    """Create a token for USERNAME with some of its roles (and, optionally, some of its
    districts; none: the owner's)."""
    def action() -> None:
        app = cli_context().app
        issued = app.create_token(username, name, roles=roles, districts=districts or None,
                                  expires_at=app.clock() + timedelta(days=expires_in_days),
                                  actor=actor, reason=reason)
        grant = app.get_user(issued.username).token(issued.token_id)
        assert grant is not None
        summary = token_summary(app.get_user(issued.username), grant, app.clock())
        if as_json:
            emit_json({**summary, "token": issued.secret, "warning": SHOWN_ONCE})
            return
        click.echo(one_line(f"token {issued.token_id} ({issued.name!r}) for "
                            f"user:{issued.username}, roles {', '.join(summary['roles'])}, "
                            f"expires {issued.expires_at.isoformat()}:"))
        click.echo(issued.secret)
        click.echo(f"warning: {SHOWN_ONCE}", err=True)
    run_guarded(action)


@tokens.command("list")
@click.argument("username", required=False)
@json_option
def list_command(username: str | None, as_json: bool) -> None:
    """Every token (of USERNAME, or of everyone): id, name, owner, roles, districts,
    created, expires, revoked. Never a secret."""
    def action() -> None:
        app = cli_context().app
        now = app.clock()
        owners = [app.get_user(username)] if username else app.list_users()
        rows = [token_summary(user, grant, now) for user in owners for grant in user.tokens]
        if as_json:
            emit_json(rows)
            return
        if rows:
            click.echo(f"{'TOKEN':<17} {'NAME':<24} {'OWNER':<24} {'STATE':<8} "
                       f"{'ROLES':<28} {'DISTRICTS':<10} {'CREATED':<17} {'EXPIRES':<17} "
                       "REVOKED")
        for row in rows:
            districts = ",".join(row["districts"]) if row["districts"] else "owner's"
            created, expires, revoked = (
                "-" if row[k] is None else f"{row[k]:%Y-%m-%dT%H:%MZ}"
                for k in ("created_at", "expires_at", "revoked_at"))
            click.echo(one_line(
                f"{row['token_id']:<17} {row['name']:<24} {row['owner']:<24} "
                f"{row['state']:<8} {','.join(row['roles']):<28} {districts:<10} "
                f"{created:<17} {expires:<17} {revoked}"))
        click.echo(f"{len(rows)} token{'' if len(rows) == 1 else 's'}")
    run_guarded(action)


@tokens.command("revoke")
@click.argument("username")
@click.argument("token_id")
@actor_option
@reason_option
def revoke_command(username: str, token_id: str, actor: str, reason: str) -> None:
    """Revoke a token: refused from then on, everywhere."""
    def action() -> None:
        app = cli_context().app
        version = app.revoke_token(username, token_id, actor=actor, reason=reason)
        click.echo(one_line(f"token {token_id} of user:{username.removeprefix('user:')} "
                            f"revoked (version {version})"))
    run_guarded(action)
