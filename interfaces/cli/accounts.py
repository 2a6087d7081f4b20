"""`compliance accounts ...`: register and manage importer accounts."""

from __future__ import annotations

import click

from application.queries import importer_summary, list_importers
from domain.importer_account import (
    AccountStatus,
    ComplianceClass,
    PartnershipProgramme,
    Registration,
)
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

_PROGRAMMES = click.Choice([p.value for p in PartnershipProgramme])


@click.group()
def accounts() -> None:
    """Importer accounts: register, manage, list."""


@accounts.command()
@click.option("--importer-number", required=True, help="Importer of record, e.g. 12-3456789AB.")
@click.option("--name", required=True, help="Legal name.")
@click.option("--district", required=True, help="District code 01-42.")
@click.option("--industry", required=True, help="Industry: HS chapter 01-97.")
@click.option("--registered-on", default=None, help="ISO date; default today.")
@actor_option
@reason_option
@idempotency_option
@json_option
def register(importer_number: str, name: str, district: str, industry: str,
             registered_on: str | None, actor: str, reason: str, idempotency_key: str | None,
             as_json: bool) -> None:
    """Register an importer of record (refused if already registered)."""
    def action() -> None:
        app = cli_context().app
        day = registered_on or app.clock().date().isoformat()
        registration = Registration.parse(importer_number, name, district, industry, day)
        account_id = app.register_importer(registration, actor=actor, reason=reason,
                                           idempotency_key=idempotency_key)
        if as_json:
            emit_json(importer_summary(app.get_importer(registration.importer_number)))
        else:
            click.echo(f"registered importer {registration.importer_number} (id {account_id})")
    run_guarded(action)


@accounts.command("list")
@click.option("--district", default=None, help="Only this district (01-42).")
@click.option("--state", type=click.Choice([s.value for s in AccountStatus]), default=None)
@json_option
def list_command(district: str | None, state: str | None, as_json: bool) -> None:
    """List importer accounts."""
    def action() -> None:
        rows = list_importers(cli_context().app, district=district, state=state)
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            click.echo(f"{row['number']}  {row['district']}  {row['industry']}  "
                       f"{row['state']:<9}  tier {row['tier'] or '-'}  {row['legal_name']}")
        click.echo(f"{len(rows)} account(s)")
    run_guarded(action)


@accounts.command()
@click.argument("importer_number")
@json_option
def show(importer_number: str, as_json: bool) -> None:
    """Show one importer account and its cases."""
    def action() -> None:
        app = cli_context().app
        summary = importer_summary(app.get_importer(importer_number))
        summary["cases"] = [{"kind": c.kind, "number": c.number}
                            for c in app.get_case_file(importer_number)]
        if as_json:
            emit_json(summary)
            return
        for key, value in summary.items():
            click.echo(f"{key:>17}: {value}")
    run_guarded(action)


def _report(importer_number: str, version: int) -> None:
    click.echo(f"importer {importer_number.upper()}: recorded (version {version})")


def _account_step(name: str, help_text: str) -> click.Command:
    """Importer commands that take only an actor and a reason."""
    method = {"suspend": "suspend_importer", "reinstate": "reinstate_importer",
              "close": "close_importer"}[name]

    @click.argument("importer_number")
    @actor_option
    @reason_option
    @version_option
    def command(importer_number: str, actor: str, reason: str,
                expected_version: int | None) -> None:
        def action() -> None:
            version = getattr(cli_context().app, method)(
                importer_number, actor=actor, reason=reason, expected_version=expected_version)
            click.echo(f"importer {importer_number.upper()}: {name} recorded (version {version})")
        run_guarded(action)

    return click.command(name=name, help=help_text)(command)


accounts.add_command(_account_step("suspend", "Suspend an active account."))
accounts.add_command(_account_step("reinstate", "Reinstate a suspended account."))
accounts.add_command(_account_step("close", "Close an account; it then takes no command."))


@accounts.command("assign-manager")
@click.argument("importer_number")
@click.option("--manager", required=True, help="user:<id> of the account manager.")
@actor_option
@reason_option
@version_option
def assign_manager(importer_number: str, manager: str, actor: str, reason: str,
                   expected_version: int | None) -> None:
    """Assign or change the account manager."""
    run_guarded(lambda: _report(importer_number, cli_context().app.assign_account_manager(
        importer_number, manager, actor=actor, reason=reason,
        expected_version=expected_version)))


@accounts.command("join")
@click.argument("importer_number")
@click.option("--programme", type=_PROGRAMMES, required=True)
@click.option("--on", "joined_on", required=True, help="ISO date joined.")
@actor_option
@reason_option
@version_option
def join(importer_number: str, programme: str, joined_on: str, actor: str, reason: str,
         expected_version: int | None) -> None:
    """Record that the importer joined a partnership programme."""
    run_guarded(lambda: _report(importer_number, cli_context().app.join_partnership(
        importer_number, programme, joined_on, actor=actor, reason=reason,
        expected_version=expected_version)))


@accounts.command("leave")
@click.argument("importer_number")
@click.option("--programme", type=_PROGRAMMES, required=True)
@click.option("--on", "left_on", required=True, help="ISO date left.")
@actor_option
@reason_option
@version_option
def leave(importer_number: str, programme: str, left_on: str, actor: str, reason: str,
          expected_version: int | None) -> None:
    """Record that the importer left a partnership programme."""
    run_guarded(lambda: _report(importer_number, cli_context().app.leave_partnership(
        importer_number, programme, left_on, actor=actor, reason=reason,
        expected_version=expected_version)))


@accounts.command("set-class")
@click.argument("importer_number")
@click.option("--class", "compliance_class", required=True,
              type=click.Choice([c.value for c in ComplianceClass]))
@actor_option
@reason_option
@version_option
def set_class(importer_number: str, compliance_class: str, actor: str, reason: str,
              expected_version: int | None) -> None:
    """Set the importer's compliance class (aa best, d worst)."""
    run_guarded(lambda: _report(importer_number, cli_context().app.set_compliance_class(
        importer_number, compliance_class, actor=actor, reason=reason,
        expected_version=expected_version)))
