"""FollowUpVerification: schedule, re-test the corrected areas, conclude effective when every
area's 95% lower bound reaches the plan's target rate without a material loss."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from statistics import NormalDist

import pytest

from domain.assessment import FindingsPolicy, SampleTest
from domain.case_numbers import case_id
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.follow_up_verification import FollowUpVerification, VerificationState
from domain.reference import ComplianceArea

from .builders import (
    DEFICIENT,
    IMPORTER_ID,
    IMPORTER_STAFF,
    OFFICER,
    PLAN_NUMBER,
    POLICY,
    REASON,
    T0,
    TARGET_RATE,
    TODAY,
    VERIFICATION_NUMBER,
    assert_refused,
    at,
    sample,
    scheduled_verification,
    verification_in_testing,
)

VALUE, CLASSIFICATION, ORIGIN = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION,
                                 ComplianceArea.ORIGIN)
LATER = at(30)
DUE = TODAY + timedelta(days=182)


def wilson_lower(compliant: int, lines: int) -> Decimal:
    """The 95% Wilson lower bound, computed here independently of domain.statistics:
    (2c + z^2 - z * sqrt(z^2 + 4c(n - c)/n)) / (2(n + z^2)), to 4 places."""
    z = NormalDist().inv_cdf(0.975)
    lower = (2 * compliant + z * z
             - z * math.sqrt(z * z + 4 * compliant * (lines - compliant) / lines)) / (
        2 * (lines + z * z))
    return Decimal(f"{lower:.4f}")


def retest(verification: FollowUpVerification, test: SampleTest, minute: int = 30) -> None:
    verification.record_retest(test, actor=OFFICER, reason=REASON, at=at(minute))


def conclude(verification: FollowUpVerification, policy: FindingsPolicy = POLICY) -> bool:
    return verification.conclude(policy=policy, actor=OFFICER, reason="re-tests done",
                                 at=at(40))


def test_the_hand_worked_bounds_used_below() -> None:
    assert wilson_lower(300, 300) == Decimal("0.9874")  # 300 / (300 + 1.96^2)
    assert wilson_lower(97, 100) == Decimal("0.9155")
    assert wilson_lower(73, 73) == Decimal("0.9500")
    assert wilson_lower(72, 72) == Decimal("0.9493")
    assert wilson_lower(999, 1000) == Decimal("0.9944")


# -- scheduling and re-tests ----------------------------------------------------------------


def test_scheduling_a_verification_records_the_plan_areas_target_and_due_date() -> None:
    verification = scheduled_verification()

    assert verification.id == case_id(VERIFICATION_NUMBER)
    assert verification.label == f"follow-up verification {VERIFICATION_NUMBER}"
    assert (verification.plan_number, verification.importer_id) == (PLAN_NUMBER, IMPORTER_ID)
    assert verification.areas == DEFICIENT
    assert verification.target_rate == TARGET_RATE
    assert verification.due_on == DUE
    assert verification.state is VerificationState.SCHEDULED
    assert (verification.tests, verification.findings, verification.verified_rate) == (
        (), (), None)
    assert verification.created_on == T0
    assert verification.implementation_reported_by == IMPORTER_STAFF


def test_a_retest_is_recorded_and_starts_the_testing() -> None:
    verification = scheduled_verification()
    test = sample("value", 120)

    retest(verification, test)
    retest(verification, sample("value", 80), minute=31)

    assert verification.state is VerificationState.TESTING
    assert verification.tests == (test, sample("value", 80))


def test_a_retest_of_an_area_the_plan_did_not_correct_is_refused() -> None:
    verification = scheduled_verification()
    assert_refused(verification, lambda: retest(verification, sample("origin")),
                   RuleViolationError, rule="TestedAreaIsInScope",
                   mentions=["origin", "value, classification"])


@pytest.mark.parametrize(("test", "rule"), [
    (SampleTest(VALUE, 0, 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
     "SampleHasAtLeastOneLine"),
    (SampleTest(VALUE, 10, 11, Decimal("100.00"), Decimal("0.00"), Decimal("0.00")),
     "DiscrepanciesDoNotExceedLinesTested"),
    (SampleTest(VALUE, 10, 1, Decimal("100.00"), Decimal("100.01"), Decimal("0.00")),
     "ValueInErrorDoesNotExceedValueTested"),
    (SampleTest(VALUE, 10, 0, Decimal("100.00"), Decimal("0.00"), Decimal("5.00")),
     "DiscrepancyFreeSampleHasNoErrorValue"),
])
def test_a_retest_that_breaks_a_sample_rule_is_refused(test: SampleTest, rule: str) -> None:
    verification = scheduled_verification()
    assert_refused(verification, lambda: retest(verification, test), RuleViolationError,
                   rule=rule)


# -- concluding -----------------------------------------------------------------------------


def test_whoever_reported_the_implementation_cannot_conclude_the_verification() -> None:
    verification = verification_in_testing()
    assert_refused(verification, lambda: verification.conclude(
        policy=POLICY, actor=IMPORTER_STAFF, reason="it worked", at=LATER),
        RuleViolationError, rule="VerifierIsNotTheImplementationReporter",
        mentions=[IMPORTER_STAFF, "reported the plan's implementation",
                  "conclude its verification"])


def test_someone_other_than_the_reporter_concludes_the_verification() -> None:
    verification = verification_in_testing()
    assert conclude(verification) is True  # by OFFICER
    assert verification.pending_events[-1].actor == OFFICER  # type: ignore[attr-defined]


def test_a_verification_restored_without_its_reporter_is_not_blocked() -> None:
    # State from a snapshot taken before verifications remembered the reporter.
    verification = verification_in_testing()
    del verification.implementation_reported_by
    assert verification.implementation_reported_by is None
    assert verification.conclude(policy=POLICY, actor=IMPORTER_STAFF, reason="done",
                                 at=LATER) is True


def test_the_reporter_must_be_an_actor() -> None:
    with pytest.raises(InvalidValueError) as refused:
        FollowUpVerification.schedule(
            number=VERIFICATION_NUMBER, importer_id=IMPORTER_ID, importer_number="12-3456789AB",
            district="11", plan_number=PLAN_NUMBER, areas=DEFICIENT, target_rate=TARGET_RATE,
            due_on=DUE, implementation_reported_by="somebody", actor="system:workflow",
            reason="implementation reported", at=T0)
    assert refused.value.field == "implementation_reported_by"


def test_a_version_1_scheduled_event_takes_its_actor_as_the_reporter() -> None:
    # Before the reporter was recorded, the workflow scheduled the verification with the
    # actor who reported the implementation, in the same transaction.
    state = {"actor": "user:rep.one", "reason": "implementation reported"}
    FollowUpVerification.Scheduled.upcast_v1_v2(state)
    assert state["implementation_reported_by"] == "user:rep.one"
    assert FollowUpVerification.Scheduled.class_version == 2


def test_a_verification_without_retests_cannot_conclude() -> None:
    verification = scheduled_verification()
    assert_refused(verification, lambda: conclude(verification), InvalidTransitionError,
                   mentions=["is scheduled", "only allowed when testing"])


def test_findings_need_a_retest_in_every_corrected_area() -> None:
    verification = verification_in_testing(sample("value", 300))
    assert_refused(verification, lambda: conclude(verification), RuleViolationError,
                   rule="FindingsNeedATestInEveryScopedArea", mentions=["untested: classification"])


def test_clean_retests_in_every_area_conclude_effective() -> None:
    verification = verification_in_testing(sample("value", 300), sample("classification", 300))

    assert conclude(verification) is True

    assert verification.state is VerificationState.CONCLUDED_EFFECTIVE
    assert [f.area for f in verification.findings] == list(DEFICIENT)
    assert [f.rate_lower for f in verification.findings] == [wilson_lower(300, 300)] * 2
    assert all(f.acceptable for f in verification.findings)
    assert all(f.control_rating is None for f in verification.findings)
    assert verification.verified_rate == Decimal("1.0000")


def test_one_area_below_the_target_makes_the_plan_not_effective() -> None:
    verification = verification_in_testing(
        sample("value", 100, 3, "100000.00", "3000.00", "450.00"), sample("classification", 300))

    assert conclude(verification) is False

    value, classification = verification.findings
    assert (value.lines_tested, value.discrepancies) == (100, 3)
    assert value.compliance_rate == Decimal("0.9700")
    assert value.rate_lower == wilson_lower(97, 100) < TARGET_RATE
    assert not value.acceptable
    assert classification.acceptable
    assert verification.state is VerificationState.CONCLUDED_NOT_EFFECTIVE
    # (97 + 300) / (100 + 300) = 0.9925
    assert verification.verified_rate == Decimal("0.9925")


@pytest.mark.parametrize(("lines", "effective"), [(73, True), (72, False)])
def test_an_area_is_effective_when_its_lower_bound_reaches_the_target_exactly(
        lines: int, effective: bool) -> None:
    # 73 clean lines: 73 / (73 + 1.96^2) = 0.9500 (>= 0.95); 72: 0.9493
    verification = verification_in_testing(sample("value", lines), areas=[VALUE])
    assert conclude(verification) is effective
    assert verification.findings[0].rate_lower == wilson_lower(lines, lines)


def test_the_target_is_the_plans_rate_not_the_findings_policy_minimum() -> None:
    strict = verification_in_testing(target_rate=Decimal("0.99"))  # 300 clean: 0.9874
    assert conclude(strict, FindingsPolicy(minimum_lower_bound=Decimal("0.50"))) is False

    lenient = verification_in_testing(sample("value", 100, 3, "100.00", "3.00", "0.00"),
                                      sample("classification", 100, 3, "100.00", "3.00", "0.00"),
                                      target_rate=Decimal("0.90"))  # 97 of 100: 0.9155
    assert conclude(lenient, FindingsPolicy(minimum_lower_bound=Decimal("0.99"))) is True


def test_a_material_loss_makes_an_area_not_effective_whatever_its_rate() -> None:
    # 999 of 1000 lines compliant: lower bound 0.9944 >= 0.95, but a 50 000.00 loss is material
    verification = verification_in_testing(
        sample("value", 1000, 1, "900000.00", "60000.00", "50000.00"),
        sample("classification", 300))
    assert conclude(verification) is False
    assert verification.findings[0].rate_lower == wilson_lower(999, 1000)
    assert verification.findings[0].revenue_loss == Decimal("50000.00")


def test_a_loss_just_below_the_material_threshold_does_not_stop_an_effective_plan() -> None:
    verification = verification_in_testing(
        sample("value", 1000, 1, "900000.00", "60000.00", "49999.99"),
        sample("classification", 300))
    assert conclude(verification) is True


def test_retests_of_an_area_are_pooled() -> None:
    verification = verification_in_testing(sample("value", 150), sample("value", 150),
                                           sample("classification", 300))
    assert conclude(verification) is True
    assert verification.findings[0].lines_tested == 300
    assert verification.findings[0].rate_lower == wilson_lower(300, 300)


def test_the_verified_rate_is_compliant_lines_over_all_lines_to_four_places() -> None:
    # (97 + 199) / (100 + 200) = 296 / 300 = 0.98666... -> 0.9867
    verification = verification_in_testing(
        sample("value", 100, 3, "100.00", "3.00", "0.00"),
        sample("classification", 200, 1, "100.00", "1.00", "0.00"))
    conclude(verification)
    assert verification.verified_rate == Decimal("0.9867")


# -- cancel, final states, overdue ----------------------------------------------------------


@pytest.mark.parametrize("build", [scheduled_verification, verification_in_testing])
def test_a_verification_may_be_cancelled_before_it_concludes(
        build: Callable[[], FollowUpVerification]) -> None:
    verification = build()
    verification.cancel(actor=OFFICER, reason="plan escalated", at=LATER)
    assert verification.state is VerificationState.CANCELLED


def concluded_effective() -> FollowUpVerification:
    verification = verification_in_testing()
    conclude(verification)
    return verification


def concluded_not_effective() -> FollowUpVerification:
    verification = verification_in_testing(sample("value", 10, 1, "10.00", "1.00", "0.00"),
                                           sample("classification", 10))
    conclude(verification)
    return verification


def cancelled() -> FollowUpVerification:
    verification = scheduled_verification()
    verification.cancel(actor=OFFICER, reason="plan escalated", at=at(1))
    return verification


FINAL = [concluded_effective, concluded_not_effective, cancelled]


@pytest.mark.parametrize("command", [
    lambda v: retest(v, sample("value")),
    lambda v: conclude(v),
    lambda v: v.cancel(actor=OFFICER, reason=REASON, at=LATER),
])
@pytest.mark.parametrize("build", FINAL)
def test_a_concluded_or_cancelled_verification_takes_no_command(
        build: Callable[[], FollowUpVerification],
        command: Callable[[FollowUpVerification], object]) -> None:
    verification = build()
    assert_refused(verification, lambda: command(verification), InvalidTransitionError,
                   mentions=[f"is {verification.state.value}"])


def test_a_verification_is_overdue_only_after_its_due_date() -> None:
    verification = scheduled_verification()
    assert not verification.is_overdue(DUE)
    assert verification.is_overdue(DUE + timedelta(days=1))
    retest(verification, sample("value"))
    assert verification.is_overdue(DUE + timedelta(days=1))


@pytest.mark.parametrize("build", FINAL)
def test_a_concluded_or_cancelled_verification_is_never_overdue(
        build: Callable[[], FollowUpVerification]) -> None:
    assert not build().is_overdue(DUE + timedelta(days=365))


# -- the officer responsible ----------------------------------------------------------------

ASSIGNER = "user:supervisor.wu"


def test_a_verification_starts_unassigned_and_an_officer_is_assigned_and_reassigned() -> None:
    verification = scheduled_verification()
    assert verification.officer is None
    verification.assign_officer(OFFICER, actor=ASSIGNER, reason="workload", at=at(10))
    assert (verification.officer, verification.state) == (OFFICER, VerificationState.SCHEDULED)
    event = verification.pending_events[-1]
    assert isinstance(event, FollowUpVerification.OfficerAssigned)
    assert (event.officer, event.actor) == (OFFICER, ASSIGNER)
    retest(verification, sample("value"))
    verification.assign_officer("user:officer.two", actor=ASSIGNER, reason="leave",
                                at=at(35))
    assert (verification.officer, verification.state) == ("user:officer.two",
                                                          VerificationState.TESTING)


def test_the_implementation_reporter_cannot_be_assigned_to_verify() -> None:
    verification = scheduled_verification()
    assert_refused(verification, lambda: verification.assign_officer(
        IMPORTER_STAFF, actor=ASSIGNER, reason="workload", at=at(10)),
        RuleViolationError, rule="VerifierIsNotTheImplementationReporter",
        mentions=[IMPORTER_STAFF, "be assigned to verify it"])


def test_the_assigned_officer_must_be_an_actor() -> None:
    verification = scheduled_verification()
    with pytest.raises(InvalidValueError) as refused:
        verification.assign_officer("officer two", actor=ASSIGNER, reason="workload",
                                    at=at(10))
    assert refused.value.field == "officer"


@pytest.mark.parametrize("build", FINAL)
def test_a_concluded_or_cancelled_verification_gets_no_officer(
        build: Callable[[], FollowUpVerification]) -> None:
    verification = build()
    assert_refused(verification, lambda: verification.assign_officer(
        OFFICER, actor=ASSIGNER, reason="workload", at=LATER), InvalidTransitionError,
        mentions=[f"is {verification.state.value}", "assign an officer"])
