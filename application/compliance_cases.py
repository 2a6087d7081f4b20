"""ComplianceCases: the one eventsourcing Application holding every case aggregate, composed
of one command module per aggregate over the shared case store."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from application.account_commands import AccountCommands, BulkRegistration
from application.assessment_commands import AssessmentCommands, FindingsResult
from application.bulk_runs import bulk_run_position
from application.deadline_commands import DeadlineCommands
from application.enforcement_commands import EnforcementCommands
from application.identity import UserCommands
from application.plan_commands import PlanCommands
from application.receipts import CommandReceipt
from application.targeting_commands import TargetingCommands
from application.verification_commands import VerificationCommands, VerificationResult
from domain.assessment import Assessment
from domain.case_file import ImporterCaseFile
from domain.case_numbers import CaseNumberSequence
from domain.channel_run import ChannelRun
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.import_batch import ImportBatch
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from domain.reminder import OverdueDigest, Reminder
from domain.seal_log import SealLog
from domain.selection_plan import SelectionPlan
from domain.targeting_rule import TargetingRule
from domain.user import User, UserDirectory

CASE_TYPES: tuple[type[Aggregate], ...] = (ImporterAccount, Assessment, ImprovementPlan,
                                           EnforcementAction, FollowUpVerification)
ALL_TYPES: tuple[type[Aggregate], ...] = (*CASE_TYPES, ImporterCaseFile, CaseNumberSequence,
                                          SealLog, CommandReceipt, ImportBatch,
                                          TargetingRule, ChannelRun, SelectionPlan, User,
                                          UserDirectory, Reminder, OverdueDigest)

__all__ = ["ALL_TYPES", "CASE_TYPES", "BulkRegistration", "ComplianceCases", "FindingsResult",
           "VerificationResult"]


class ComplianceCases(AccountCommands, AssessmentCommands, PlanCommands, EnforcementCommands,
                      VerificationCommands, TargetingCommands, UserCommands,
                      DeadlineCommands):
    name = "ComplianceCases"
    snapshot_types = ALL_TYPES
    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if self.after_bulk_run is not None:
            position = bulk_run_position(recordings)
            if position is not None:
                self.after_bulk_run(position)
