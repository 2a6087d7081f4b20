"""What auditors see: each event with who, when and why, the state as of a version or a
moment, and a field-by-field diff between versions, read back from the real stores (with
and without snapshots in the way)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.history import diff, history, resolve_case, state_as_of
from domain.assessment import AssessmentState
from domain.case_numbers import case_id
from domain.errors import InvalidValueError
from domain.importer_account import ComplianceClass, importer_account_id
from domain.reference import ComplianceArea, ControlRating
from domain.values import Period
from infrastructure.settings import load_settings
from tests.builders import ACTOR, OFFICER, START, FakeClock, register_importer, walk_assessment

STEP = timedelta(hours=1)


@pytest.fixture(params=["replayed", "snapshotted"])
def audited_app(request: pytest.FixtureRequest, store_environ: dict[str, str],
                make_app: Callable[..., ComplianceCases]) -> ComplianceCases:
    """The application, once replaying every event and once snapshotting every 2."""
    interval = "2" if request.param == "snapshotted" else "50"
    return make_app(load_settings({**store_environ, "COMPLIANCE_SNAPSHOT_INTERVAL": interval}))


@pytest.fixture
def assessment(audited_app: ComplianceCases, clock: FakeClock) -> UUID:
    """v1 opened 10:00, v2 assigned 11:00, v3 surveyed 12:00, v4/v5 tested 13:00/14:00,
    v6 findings issued 15:00 (clock steps one hour before every command)."""
    importer = register_importer(audited_app)
    number = walk_assessment(audited_app, importer, "findings_issued", clock=clock, step=STEP)
    return case_id(number)


def test_history_lists_every_event_with_who_when_why_and_what_changed(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    entries = history(audited_app, assessment)

    assert [e.version for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e.event for e in entries] == [
        "Assessment.Opened", "Assessment.OfficerAssigned", "Assessment.SurveyRecorded",
        "Assessment.SampleTestRecorded", "Assessment.SampleTestRecorded",
        "Assessment.FindingsIssued"]
    assert [e.recorded_at for e in entries] == [START + STEP * k for k in range(1, 7)]
    assert [e.actor for e in entries[:3]] == [ACTOR, ACTOR, OFFICER]
    assert entries[1].reason == "next officer on the rota"
    assert entries[1].data == {"officer": OFFICER}
    assert entries[1].changes == {"officer": (None, OFFICER),
                                  "state": (AssessmentState.OPENED, AssessmentState.ASSIGNED)}
    assert entries[0].data["period_start"] == date(2025, 1, 1)
    assert set(entries[5].changes) == {"findings", "outcome", "state"}


def test_state_as_of_a_version_is_the_state_right_after_that_event(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    opened = state_as_of(audited_app, assessment, version=1)
    assigned = state_as_of(audited_app, assessment, version=2)
    surveyed = state_as_of(audited_app, assessment, version=3)
    latest = state_as_of(audited_app, assessment)

    assert (opened["version"], opened["state"], opened["officer"]) == (
        1, AssessmentState.OPENED, None)
    assert (assigned["version"], assigned["state"], assigned["officer"]) == (
        2, AssessmentState.ASSIGNED, OFFICER)
    assert assigned["survey"] == {}
    assert surveyed["survey"] == {ComplianceArea.VALUE: ControlRating.ADEQUATE,
                                  ComplianceArea.CLASSIFICATION: ControlRating.ADEQUATE}
    assert surveyed["tests"] == ()
    assert (latest["version"], latest["state"]) == (6, AssessmentState.FINDINGS_ISSUED)
    assert latest["period"] == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert assigned["modified_on"] == START + 2 * STEP
    assert assigned["created_on"] == START + STEP


def test_state_as_of_a_moment_is_the_state_after_the_last_event_by_then(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    def as_of(hours: float) -> int:
        return int(state_as_of(audited_app, assessment,
                               moment=START + timedelta(hours=hours))["version"])

    assert as_of(1) == 1          # exactly when it was opened
    assert as_of(2.5) == 2        # between assignment and survey
    assert as_of(3) == 3          # exactly at the survey
    assert as_of(4.99) == 4
    assert as_of(100) == 6
    moment = START + timedelta(hours=4, minutes=30)
    assert len(state_as_of(audited_app, assessment, moment=moment)["tests"]) == 1


def test_state_as_of_outside_the_recorded_range_is_refused(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    with pytest.raises(NotFoundError, match="state before"):
        state_as_of(audited_app, assessment, moment=START)
    with pytest.raises(InvalidValueError, match="as_of"):
        state_as_of(audited_app, assessment, moment=START.replace(tzinfo=None) + STEP)
    with pytest.raises(InvalidValueError, match="version"):
        state_as_of(audited_app, assessment, version=0)
    with pytest.raises(NotFoundError, match="version 7"):
        state_as_of(audited_app, assessment, version=7)


def test_a_diff_between_versions_names_exactly_the_fields_that_changed(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    survey = {ComplianceArea.VALUE: ControlRating.ADEQUATE,
              ComplianceArea.CLASSIFICATION: ControlRating.ADEQUATE}

    assert diff(audited_app, assessment, 1, 3) == {
        "officer": (None, OFFICER),
        "state": (AssessmentState.OPENED, AssessmentState.SURVEYED),
        "survey": ({}, survey),
    }
    assert diff(audited_app, assessment, 3, 1) == {
        "officer": (OFFICER, None),
        "state": (AssessmentState.SURVEYED, AssessmentState.OPENED),
        "survey": (survey, {}),
    }
    tested = diff(audited_app, assessment, 4, 5)
    assert set(tested) == {"tests"}
    before, after = tested["tests"]
    assert (len(before), len(after), after[0]) == (1, 2, before[0])
    assert after[1].area is ComplianceArea.CLASSIFICATION
    assert diff(audited_app, assessment, 2, 2) == {}


def test_an_importer_history_shows_account_changes_in_order(
        audited_app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(audited_app)
    clock.advance(STEP)
    audited_app.join_partnership(importer, "trusted_trader", "2021-06-01", actor=ACTOR,
                                 reason="validated")
    clock.advance(STEP)
    audited_app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review")
    account = resolve_case(importer)

    assert account == importer_account_id(importer)
    assert [e.event for e in history(audited_app, account)] == [
        "ImporterAccount.Registered", "ImporterAccount.PartnershipJoined",
        "ImporterAccount.ComplianceClassSet"]
    assert diff(audited_app, account, 1, 3) == {
        "partnerships": ({}, {"trusted_trader": date(2021, 6, 1)}),
        "compliance_class": (None, ComplianceClass.B),
    }
    assert state_as_of(audited_app, account, moment=START + STEP)["partnerships"] == {
        "trusted_trader": date(2021, 6, 1)}


def test_cases_resolve_by_case_number_importer_number_or_id(
        audited_app: ComplianceCases, assessment: UUID) -> None:
    number = history(audited_app, assessment)[0].data["number"]

    assert resolve_case(number) == assessment
    assert resolve_case(number.lower()) == assessment
    assert resolve_case(str(assessment)) == assessment
    with pytest.raises(InvalidValueError, match="case"):
        resolve_case("not-a-case")
    with pytest.raises(NotFoundError):
        history(audited_app, case_id("CA-2026-99999"))
