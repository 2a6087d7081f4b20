"""`compliance accounts ...`: register and manage importer accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from application.queries import importer_summary, register_summary
from domain.importer_account import (
    AccountStatus,
    ComplianceClass,
    PartnershipProgramme,
    Registration,
)
from domain.values import parse_district
from interfaces.cli.context import (
    actor_option,
    case_step,
    cli_context,
    common,
    echo_page,
    emit_json,
    idempotency_option,
    json_option,
    page_options,
    reason_option,
    run_guarded,
    to_plain,
)
from interfaces.cli.text import shown
from interfaces.cli.views import _current
from projections.listing import ACCOUNT_SORTS, account_page
from projections.queries import latest_versions
from projections.views.account_register import AccountRegister

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


def _paged(command: Callable[..., None]) -> Callable[..., None]:
    for decorate in reversed(page_options(ACCOUNT_SORTS, "importer_number")):
        command = decorate(command)
    return command


def _account_line(row: dict[str, Any]) -> str:
    return (f"{row['number']}  {row['district']}  {row['industry']}  {row['state']:<9}  "
            f"tier {row['tier'] or '-'}  {row['legal_name']}")


@accounts.command("list")
@click.option("--district", default=None, help="Only this district (01-42).")
@click.option("--state", type=click.Choice([s.value for s in AccountStatus]), default=None)
@_paged
@json_option
def list_command(district: str | None, state: str | None, limit: int, cursor: str | None,
                 sort: str, descending: bool, as_json: bool) -> None:
    """List importer accounts, a page at a time, from the account register (caught up
    first); each with its version, read from its latest event."""
    def action() -> None:
        if district is not None:  # a bad district exits 2 before anything is caught up
            parse_district(district)
        projections = _current([AccountRegister])
        page = account_page(projections.store, districts=None, importers=None, state=state,
                            district=district, sort=sort, descending=descending,
                            limit=limit, cursor=cursor)
        versions = latest_versions(projections.store, projections.app.recorder,
                                   [row["importer_id"] for row in page.rows])
        rows = [register_summary(row, versions.get(row["importer_id"], 0))
                for row in page.rows]
        echo_page(rows, as_json, _account_line, "account(s)", page.next_cursor)
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
            click.echo(f"{key:>17}: {shown(to_plain(value))}")
    run_guarded(action)


def _recorded(importer_number: str, version: int) -> str:
    return f"importer {importer_number}: recorded (version {version})"


_ON = "ISO date."
for _command in (
    case_step("suspend", "Suspend an active account.",
              lambda app, n, o: app.suspend_importer(n, **common(o)), _recorded),
    case_step("reinstate", "Reinstate a suspended account.",
              lambda app, n, o: app.reinstate_importer(n, **common(o)), _recorded),
    case_step("close", "Close an account; it then takes no command.",
              lambda app, n, o: app.close_importer(n, **common(o)), _recorded),
    case_step("assign-manager", "Assign or change the account manager.",
              lambda app, n, o: app.assign_account_manager(n, o["manager"], **common(o)),
              _recorded,
              (click.option("--manager", required=True, help="user:<id> of the manager."),)),
    case_step("join", "Record that the importer joined a partnership programme.",
              lambda app, n, o: app.join_partnership(n, o["programme"], o["on"], **common(o)),
              _recorded, (click.option("--programme", type=_PROGRAMMES, required=True),
                          click.option("--on", required=True, help=_ON))),
    case_step("leave", "Record that the importer left a partnership programme.",
              lambda app, n, o: app.leave_partnership(n, o["programme"], o["on"],
                                                      **common(o)),
              _recorded, (click.option("--programme", type=_PROGRAMMES, required=True),
                          click.option("--on", required=True, help=_ON))),
    case_step("set-class", "Set the importer's compliance class (aa best, d worst).",
              lambda app, n, o: app.set_compliance_class(n, o["compliance_class"],
                                                         **common(o)),
              _recorded, (click.option("--class", "compliance_class", required=True,
                                       type=click.Choice([c.value for c in ComplianceClass])),)),
):
    accounts.add_command(_command)
