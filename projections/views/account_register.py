"""Account register: every importer with district, industry, manager, tier, partnerships,
compliance class, status, latest risk score (once risk exists), open cases and last
assessment."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from projections.rows import Lookup, Plus, Rows
from projections.view import CODE_POINTS, Handler, View, cents

ACCOUNTS, PARTNERSHIPS, CASES = "ar_accounts", "ar_partnerships", "ar_cases"


def _set(column: str, value_of: Any) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        rows.update(ACCOUNTS, str(event.originator_id), {column: value_of(event)})
    return handler


def _registered(rows: Rows, event: Any, _: int) -> None:
    rows.insert(ACCOUNTS, (str(event.originator_id), event.importer_number, event.legal_name,
                           event.district, event.industry, event.registered_on.isoformat(),
                           None, None, None, None, "active", None, 0, None, None))


def _tier(rows: Rows, event: Any, _: int) -> None:
    rows.update(ACCOUNTS, str(event.originator_id),
                {"tier": event.tier, "annual_value_cents": cents(event.annual_value)})


def _risk(rows: Rows, event: Any, _: int) -> None:
    rows.update(ACCOUNTS, str(event.originator_id),
                {"tier": event.tier, "annual_value_cents": cents(event.annual_value),
                 "risk_score": str(event.score)})


def _joined(rows: Rows, event: Any, _: int) -> None:
    rows.insert(PARTNERSHIPS, (str(event.originator_id), event.programme.value,
                               event.joined_on.isoformat()))


def _left(rows: Rows, event: Any, _: int) -> None:
    rows.delete(PARTNERSHIPS, (str(event.originator_id), event.programme.value))


def _case_opened(rows: Rows, event: Any, _: int) -> None:
    rows.insert(CASES, (str(event.originator_id), str(event.importer_id)))
    rows.update(ACCOUNTS, str(event.importer_id), {"open_cases": Plus(1)})


def _assessment_opened(rows: Rows, event: Any, n: int) -> None:
    _case_opened(rows, event, n)
    rows.update(ACCOUNTS, str(event.importer_id),
                {"last_assessment": event.number,
                 "last_assessment_on": event.timestamp.date().isoformat()})


def _case_ended(rows: Rows, event: Any, _: int) -> None:
    """One open case fewer for the importer the case was opened for."""
    rows.update(ACCOUNTS, Lookup(CASES, str(event.originator_id), "importer_id"),
                {"open_cases": Plus(-1)})


def _review(rows: Rows, event: Any, n: int) -> None:
    if not event.approved:
        _case_ended(rows, event, n)


class AccountRegister(View):
    name = "account_register"
    tables: ClassVar[dict[str, str]] = {
        "ar_accounts": (f"importer_id TEXT {CODE_POINTS} PRIMARY KEY, "
                        f"importer_number TEXT {CODE_POINTS} NOT NULL, "
                        "legal_name TEXT NOT NULL, district TEXT NOT NULL, "
                        "industry TEXT NOT NULL, registered_on TEXT NOT NULL, manager TEXT, "
                        "tier INTEGER, annual_value_cents BIGINT, compliance_class TEXT, "
                        "status TEXT NOT NULL, risk_score TEXT, open_cases INTEGER NOT NULL, "
                        "last_assessment TEXT, last_assessment_on TEXT"),
        "ar_partnerships": ("importer_id TEXT NOT NULL, programme TEXT NOT NULL, "
                            "since TEXT NOT NULL, PRIMARY KEY (importer_id, programme)"),
        "ar_cases": "case_id TEXT PRIMARY KEY, importer_id TEXT NOT NULL",
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        # A district's register page by page, in the lists' order (projections.listing).
        ("ar_accounts_district_pages", "ar_accounts",
         f"district, importer_number {CODE_POINTS}"),
        ("ar_accounts_number", "ar_accounts", "importer_number"),
    )
    retired_indexes: ClassVar[tuple[str, ...]] = ("ar_accounts_district",)
    handlers: ClassVar[dict[type[Any], Handler]] = {
        ImporterAccount.Registered: _registered,
        ImporterAccount.AccountManagerAssigned: _set("manager", lambda e: e.manager),
        ImporterAccount.PartnershipJoined: _joined,
        ImporterAccount.PartnershipLeft: _left,
        ImporterAccount.ComplianceClassSet: _set("compliance_class",
                                                 lambda e: e.compliance_class.value),
        ImporterAccount.TierSet: _tier,
        ImporterAccount.RiskAssessed: _risk,
        ImporterAccount.Suspended: _set("status", lambda _: "suspended"),
        ImporterAccount.Reinstated: _set("status", lambda _: "active"),
        ImporterAccount.Closed: _set("status", lambda _: "closed"),
        Assessment.Opened: _assessment_opened,
        Assessment.Closed: _case_ended,
        Assessment.Cancelled: _case_ended,
        ImprovementPlan.Drafted: _case_opened,
        ImprovementPlan.ClosedEffective: _case_ended,
        ImprovementPlan.Escalated: _case_ended,
        EnforcementAction.Proposed: _case_opened,
        EnforcementAction.ReviewConcluded: _review,
        EnforcementAction.Withdrawn: _case_ended,
        EnforcementAction.Closed: _case_ended,
        FollowUpVerification.Scheduled: _case_opened,
        FollowUpVerification.Concluded: _case_ended,
        FollowUpVerification.Cancelled: _case_ended,
    }
