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
from projections.view import CODE_POINTS, Handler, Statement, View, cents

REGISTER = ("INSERT INTO {ar_accounts} (importer_id, importer_number, legal_name, district, "
            "industry, registered_on, manager, tier, annual_value_cents, compliance_class, "
            "status, risk_score, open_cases, last_assessment, last_assessment_on) VALUES "
            "(?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL) "
            "ON CONFLICT (importer_id) DO NOTHING")
SET = "UPDATE {ar_accounts} SET {column} = ? WHERE importer_id = ?"
CASE_OPENED = ("INSERT INTO {ar_cases} (case_id, importer_id) VALUES (?, ?) "
               "ON CONFLICT (case_id) DO NOTHING")
COUNT_UP = "UPDATE {ar_accounts} SET open_cases = open_cases + 1 WHERE importer_id = ?"
COUNT_DOWN = ("UPDATE {ar_accounts} SET open_cases = open_cases - 1 WHERE importer_id = "
              "(SELECT importer_id FROM {ar_cases} WHERE case_id = ?)")


def _set(column: str, value_of: Any) -> Handler:
    sql = SET.replace("{column}", column)

    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement(sql, (value_of(event), str(event.originator_id)))]
    return handler


def _registered(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(REGISTER, (str(event.originator_id), event.importer_number,
                                 event.legal_name, event.district, event.industry,
                                 event.registered_on.isoformat()))]


def _tier(_: Any, event: Any, __: int) -> list[Statement]:
    importer = str(event.originator_id)
    return [Statement(SET.replace("{column}", "tier"), (event.tier, importer)),
            Statement(SET.replace("{column}", "annual_value_cents"),
                      (cents(event.annual_value), importer))]


def _risk(view: Any, event: Any, notification_id: int) -> list[Statement]:
    importer = str(event.originator_id)
    return [*_tier(view, event, notification_id),
            Statement(SET.replace("{column}", "risk_score"), (str(event.score), importer))]


def _joined(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("INSERT INTO {ar_partnerships} (importer_id, programme, since) "
                      "VALUES (?, ?, ?) ON CONFLICT (importer_id, programme) DO NOTHING",
                      (str(event.originator_id), event.programme.value,
                       event.joined_on.isoformat()))]


def _left(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("DELETE FROM {ar_partnerships} WHERE importer_id = ? AND programme = ?",
                      (str(event.originator_id), event.programme.value))]


def _case_opened(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(CASE_OPENED, (str(event.originator_id), str(event.importer_id))),
            Statement(COUNT_UP, (str(event.importer_id),))]


def _assessment_opened(view: Any, event: Any, n: int) -> list[Statement]:
    return [*_case_opened(view, event, n), Statement(
        "UPDATE {ar_accounts} SET last_assessment = ?, last_assessment_on = ? "
        "WHERE importer_id = ?", (event.number, event.timestamp.date().isoformat(),
                                  str(event.importer_id)))]


def _case_ended(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(COUNT_DOWN, (str(event.originator_id),))]


def _review(view: Any, event: Any, n: int) -> list[Statement]:
    return [] if event.approved else _case_ended(view, event, n)


class AccountRegister(View):
    name = "account_register"
    tables: ClassVar[dict[str, str]] = {
        "ar_accounts": ("importer_id TEXT PRIMARY KEY, importer_number TEXT NOT NULL, "
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
