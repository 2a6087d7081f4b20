"""/api/accounts: importer accounts — register, manager, partnership programmes,
compliance class, suspend, reinstate, close; one account with its cases; the list (from
the account register). An account's key in every path is its importer number."""

from __future__ import annotations

from typing import Any

import msgspec

from application.access import ForbiddenError, current_caller
from application.compliance_cases import ComplianceCases
from application.queries import importer_summary
from domain.importer_account import ComplianceClass, PartnershipProgramme, Registration
from domain.values import (
    parse_actor,
    parse_date,
    parse_district,
    parse_enum,
    parse_importer_number,
    parse_industry,
    parse_name,
)
from interfaces.http.case_lists import build_account_list, one_route
from interfaces.http.commands import (
    CommandSpec,
    Common,
    ReasonOnly,
    build_command_handler,
    checked,
    reason_only_step,
)
from interfaces.http.reads import build_case_read

RESOURCE = "accounts"


class RegisterImporter(msgspec.Struct, forbid_unknown_fields=True):
    """As `compliance accounts register`: `registered_on` defaults to today."""

    importer_number: str
    legal_name: str
    district: str
    industry: str
    reason: str
    registered_on: str | None = None


class AssignManager(msgspec.Struct, forbid_unknown_fields=True):
    manager: str
    reason: str


class JoinProgramme(msgspec.Struct, forbid_unknown_fields=True):
    programme: str
    joined_on: str
    reason: str


class LeaveProgramme(msgspec.Struct, forbid_unknown_fields=True):
    programme: str
    left_on: str
    reason: str


class SetClass(msgspec.Struct, forbid_unknown_fields=True):
    compliance_class: str
    reason: str


def load(app: ComplianceCases, importer_number: str) -> Any:
    return app.get_importer(importer_number)


def describe(app: ComplianceCases, importer_number: str) -> dict[str, Any]:
    """As `compliance accounts show --json`: the account and the cases filed under it."""
    summary = importer_summary(app.get_importer(importer_number))
    summary["cases"] = [{"kind": c.kind, "number": c.number}
                        for c in app.get_case_file(importer_number)]
    return summary


class OutsideDistrictsError(ForbiddenError):
    """Registering an importer in a district the caller does not work in: the application
    checks the role of `register_importer` but has no case yet to scope, so the HTTP layer
    refuses it (403) before anything is written, instead of writing it and then answering
    404 for the account it could not read back."""

    def __init__(self, actor: str, district: str) -> None:
        Exception.__init__(self, f"{actor} may not register an importer in district "
                                 f"{district}: it is outside the caller's districts")
        self.actor, self.permission = actor, "register_importer"



def _register(app: ComplianceCases, _: str, body: RegisterImporter, common: Common) -> str:
    day = body.registered_on or app.clock().date().isoformat()
    fields = checked(
        body.reason,
        importer_number=lambda: parse_importer_number(body.importer_number),
        legal_name=lambda: parse_name(body.legal_name, "legal_name"),
        district=lambda: parse_district(body.district),
        industry=lambda: parse_industry(body.industry),
        registered_on=lambda: parse_date(day, "registered_on"))
    caller = current_caller()
    if caller is not None and not caller.sees(fields["district"], fields["importer_number"]):
        raise OutsideDistrictsError(caller.actor, fields["district"])
    registration = Registration(
        importer_number=fields["importer_number"], legal_name=fields["legal_name"],
        district=fields["district"], industry=fields["industry"],
        registered_on=fields["registered_on"])
    return str(app.register_importer(registration, **common.without_version()))


def _manager(app: ComplianceCases, number: str, body: AssignManager, common: Common) -> int:
    checked(body.reason, manager=lambda: parse_actor(body.manager, "manager"))
    return app.assign_account_manager(number, body.manager, **common.kwargs())


def _programme(value: str) -> PartnershipProgramme:
    return parse_enum(PartnershipProgramme, value, "programme")


def _join(app: ComplianceCases, number: str, body: JoinProgramme, common: Common) -> int:
    checked(body.reason, programme=lambda: _programme(body.programme),
             joined_on=lambda: parse_date(body.joined_on, "joined_on"))
    return app.join_partnership(number, body.programme, body.joined_on, **common.kwargs())


def _leave(app: ComplianceCases, number: str, body: LeaveProgramme, common: Common) -> int:
    checked(body.reason, programme=lambda: _programme(body.programme),
             left_on=lambda: parse_date(body.left_on, "left_on"))
    return app.leave_partnership(number, body.programme, body.left_on, **common.kwargs())


def _set_class(app: ComplianceCases, number: str, body: SetClass, common: Common) -> int:
    checked(body.reason, compliance_class=lambda: parse_enum(
        ComplianceClass, body.compliance_class, "compliance_class"))
    return app.set_compliance_class(number, body.compliance_class, **common.kwargs())



SPECS = [
    CommandSpec(RESOURCE, "register", RegisterImporter, "register_importer", _register,
                "Register an importer of record (refused if already registered)",
                creates=True),
    CommandSpec(RESOURCE, "assign-manager", AssignManager, "assign_account_manager",
                _manager, "Assign or change the account manager"),
    CommandSpec(RESOURCE, "join", JoinProgramme, "join_partnership", _join,
                "Record that the importer joined a partnership programme"),
    CommandSpec(RESOURCE, "leave", LeaveProgramme, "leave_partnership", _leave,
                "Record that the importer left a partnership programme"),
    CommandSpec(RESOURCE, "set-class", SetClass, "set_compliance_class", _set_class,
                "Set the importer's compliance class (aa best, d worst)"),
    CommandSpec(RESOURCE, "suspend", ReasonOnly, "suspend_importer",
                reason_only_step("suspend_importer"), "Suspend an active account"),
    CommandSpec(RESOURCE, "reinstate", ReasonOnly, "reinstate_importer",
                reason_only_step("reinstate_importer"), "Reinstate a suspended account"),
    CommandSpec(RESOURCE, "close", ReasonOnly, "close_importer", reason_only_step("close_importer"),
                "Close an account; it then takes no command"),
]

COLUMNS = ("id", "number", "importer_number", "legal_name", "district", "industry", "state",
           "tier", "compliance_class", "account_manager", "partnerships", "version")
"""The list's CSV header: the keys of application.queries.register_summary."""

CREATE = next(spec for spec in SPECS if spec.creates)
ROUTES: list[Any] = [build_command_handler(spec, load) for spec in SPECS if not spec.creates]
ROUTES += [build_case_read(RESOURCE, "read:accounts", describe),
           one_route(build_command_handler(CREATE, load, lambda _, body: (
               parse_importer_number(body.importer_number))),
                     build_account_list(RESOURCE, "read:accounts", COLUMNS))]
