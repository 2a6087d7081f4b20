"""Every view the system maintains, by name."""

from __future__ import annotations

from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.audit_log import AuditLog
from projections.views.people import People
from projections.views.statistics import ComplianceStatistics, EnforcementStatistics, PlanProgress
from projections.views.worklist import WorkList

VIEWS: dict[str, type[View]] = {
    view.name: view for view in (WorkList, AccountRegister, ComplianceStatistics,
                                 EnforcementStatistics, PlanProgress, People, AuditLog)
}
