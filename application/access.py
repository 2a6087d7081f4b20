"""Who may do what, decided once for every interface.

A Principal is the authenticated caller: a user's roles and scope (national, or named
districts; for an importer's representative, named importers), narrowed further when the
caller holds an API token. PERMISSIONS maps every command (by the name the application's
command methods pass to `CaseStore._once`) and every kind of read to the roles that may
perform it. The application checks the role when a command starts and the scope whenever it
loads a case (see CaseStore), so the CLI, the HTTP API, the web pages and the scheduler all
go through the same gate, and a case outside one's scope is "not found", exactly like one
that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.user import Role

OFFICER, SUPERVISOR, ANALYST, AUDITOR, ADMIN, REPRESENTATIVE = (
    Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR, Role.ADMIN,
    Role.IMPORTER_REPRESENTATIVE)

_CASEWORK = frozenset({
    "register_importer", "assign_account_manager", "join_partnership", "leave_partnership",
    "set_compliance_class", "suspend_importer", "reinstate_importer", "close_importer",
    "open_assessment", "record_survey", "record_test", "issue_findings", "close_assessment",
    "cancel_assessment",
    "add_plan_action", "change_plan_action", "remove_plan_action", "submit_plan",
    "amend_plan_action", "complete_plan_action", "report_implementation", "escalate_plan",
    "propose_enforcement", "change_culpability", "issue_enforcement", "issue_penalty_notice",
    "record_enforcement_response", "record_payment", "refer_for_collection",
    "withdraw_enforcement", "close_enforcement",
    "record_retest", "conclude_verification", "cancel_verification",
})
"""What an officer does on the cases of its districts."""

_SUPERVISION = frozenset({
    "assign_officer", "assign_verification_officer", "approve_plan", "send_back_plan",
    "record_review_vote", "conclude_review", "decide_enforcement",
})
"""Assigning, approving, sending back, reviewing and deciding: a supervisor's (who may
also do its officers' work)."""

_ANALYSIS = frozenset({
    "draft_rule", "approve_rule", "publish_rule", "amend_rule", "retire_rule", "set_tier",
    "import_file", "risk_run", "channel_run", "selection_plan", "open_assessment",
    "propose_enforcement",
})
"""Risk, rules, selection (which opens assessments) and imports; and interventions
proposed from risk analysis, outside any assessment (an analyst proposes, a supervisor's
evaluation team reviews: the proposer never decides)."""

_REPRESENTATION = frozenset({
    "add_plan_action", "change_plan_action", "remove_plan_action", "submit_plan",
    "complete_plan_action", "report_implementation", "record_enforcement_response",
})
"""What an importer's representative does for its importers: drafts and submits plan
actions, adds evidence, reports the plan implemented (which schedules customs' follow-up
verification; the reporter may never conclude it), answers penalty notices."""

_ADMINISTRATION = frozenset({
    "add_user", "set_user_email", "set_password", "grant_role", "revoke_role",
    "assign_districts", "assign_importers", "disable_user", "enable_user", "create_token",
    "revoke_token", "seal", "manage_outbox",
})

_REPORTING = frozenset({"issue_report", "read:reports"})
"""Issuing a report (a dossier, the plan, the annual report) records only that it was
issued: every staff role but the admin's may, within its scope."""

_CASE_READS = frozenset({"read:accounts", "read:assessments", "read:worklist",
                         "read:register", "read:stats", "read:history", "read:risk",
                         "read:rules", "read:imports", "read:targeting"})
_REPRESENTATIVE_READS = frozenset({"read:plans", "read:enforcement", "read:verifications"})

PERMISSIONS: dict[Role, frozenset[str]] = {
    OFFICER: _CASEWORK | _CASE_READS | _REPRESENTATIVE_READS | _REPORTING,
    SUPERVISOR: (_CASEWORK | _SUPERVISION | _CASE_READS | _REPRESENTATIVE_READS
                 | _REPORTING),
    ANALYST: _ANALYSIS | _CASE_READS | _REPRESENTATIVE_READS | _REPORTING,
    AUDITOR: _CASE_READS | _REPRESENTATIVE_READS | _REPORTING | frozenset({
        "read:audit", "verify", "read:users"}),
    ADMIN: _ADMINISTRATION | frozenset({"read:users", "verify"}),
    REPRESENTATIVE: _REPRESENTATION | _REPRESENTATIVE_READS | frozenset({"read:reports"}),
}

SCHEDULER_DUTIES = frozenset({"flag_overdue", "close_response_window", "record_reminder",
                              "record_overdue_digest"})
"""What only the system's own jobs (the scheduler) do, each by a rule its aggregate checks
(an item really is past due, a window really has closed): no person records these."""

SYSTEM_ROLES = (OFFICER, ANALYST, ADMIN)
"""What a `system:<job>` actor (the scheduler, an import job, the demo loader) may do:
casework, analysis and sealing, never a supervisor's decision: approvals, reviews and
penalty decisions are always taken by a person who can be named."""


def allowed_roles(permission: str) -> tuple[Role, ...]:
    if permission in SCHEDULER_DUTIES:
        return ()
    return tuple(role for role in Role if permission in PERMISSIONS[role])


class ForbiddenError(Exception):
    """The caller's roles do not allow this kind of command or read at all (a case outside
    the caller's scope is a NotFoundError instead, so its existence does not leak)."""

    def __init__(self, actor: str, permission: str, message: str | None = None) -> None:
        roles = ("a system:<job> actor" if permission in SCHEDULER_DUTIES
                 else ", ".join(allowed_roles(permission)) or "no role")
        super().__init__(message or f"{actor} may not {permission.replace('_', ' ')}: it "
                                    f"takes the role {roles}")
        self.actor, self.permission = actor, permission

    @classmethod
    def outside_scope(cls, actor: str, district: str | None,
                      importer: str | None) -> ForbiddenError:
        where = f"importer {importer}" if importer else f"district {district}"
        return cls(actor, "write", f"{actor} may not record anything for {where}: it is "
                                   "outside the districts or importers they hold")


class UnknownActorError(Exception):
    """An actor that names nobody the ledger knows, or a disabled user: refused, so the
    log never holds an actor nobody can account for."""


@dataclass(frozen=True)
class Principal:
    """The caller, as the ledger knows it now."""

    actor: str
    roles: frozenset[Role]
    districts: frozenset[str] | None
    """None: national (all 42 districts)."""
    importers: frozenset[str] | None
    """None: not bound to importers; else an importer's representative's importers."""
    token_id: str | None = None
    valid_until: datetime | None = None
    """When the credential it was found by stops working (a token's expiry); None for a
    session, whose timeouts the session store keeps."""

    @property
    def username(self) -> str:
        return self.actor.split(":", 1)[1]

    @property
    def is_system(self) -> bool:
        return self.actor.startswith("system:")

    def may(self, permission: str) -> bool:
        if permission in SCHEDULER_DUTIES:
            return self.is_system
        return any(permission in PERMISSIONS[role] for role in self.roles)

    def require(self, permission: str) -> None:
        if not self.may(permission):
            raise ForbiddenError(self.actor, permission)

    def sees(self, district: str | None, importer_number: str | None) -> bool:
        """Whether a case of this district and importer is within the caller's scope. An
        auditor reads everything; a representative only its importers' cases."""
        if self.importers is not None and importer_number not in self.importers:
            return False
        if AUDITOR in self.roles and self.importers is None:
            return True
        return self.districts is None or district in self.districts

    def sees_district(self, district: str | None) -> bool:
        """For lists and counts asked for one district (None: all the caller sees)."""
        if self.importers is not None:
            return True  # narrowed by importer instead
        if AUDITOR in self.roles or self.districts is None:
            return True
        return district is not None and district in self.districts

    def list_scope(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """(districts, importers) a list query is restricted to; None = unrestricted."""
        if self.importers is not None:
            return None, self.importers
        if AUDITOR in self.roles:
            return None, None
        return self.districts, None


def system_principal(actor: str) -> Principal:
    return Principal(actor, frozenset(SYSTEM_ROLES), None, None)


def scope_of(aggregate: Any) -> tuple[str | None, str | None] | None:
    """(district, importer number) of a case or account, None for what is not scoped
    (number sequences, receipts, seal logs, users, case files, ...)."""
    district = getattr(aggregate, "district", None)
    importer = getattr(aggregate, "importer_number", None)
    if not isinstance(district, str):
        return None  # bookkeeping filed under a case (an importer's case file), not a case
    return district, importer if isinstance(importer, str) else None


_CALLER: ContextVar[Principal | None] = ContextVar("caller", default=None)


def current_caller() -> Principal | None:
    return _CALLER.get()


@contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    """Everything the application does inside runs as `principal`: its loads are scoped to
    what it may see, its commands checked against its roles. The HTTP layer wraps each
    request in it; the CLI's commands enter it from their --actor."""
    token = _CALLER.set(principal)
    try:
        yield
    finally:
        _CALLER.reset(token)
