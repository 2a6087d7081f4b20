"""Who may be given work (application.assignees): a case's officer and an account's manager
must be an enabled user holding the officer or supervisor role, working in the case's
district or nationally. Anyone else is refused with the field named and nothing written,
for a single assignment, a verification's, an account's and a bulk assignment from the
work list; on SQLite and PostgreSQL.

The cases are set up by an application with access control off; each check runs on one
with it on, as every interface builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from application.access import acting_as
from application.bulk_assignment import assign_each
from application.compliance_cases import ComplianceCases
from domain.errors import InvalidValueError
from tests.builders import (
    FakeClock,
    register_importer,
    walk_assessment,
    walk_plan,
    walk_to_findings,
)

SETUP = "system:test-setup"
BOSS = "user:supervisor.national"
STAFF: dict[str, tuple[list[str], list[str]]] = {
    "supervisor.national": (["supervisor"], []),
    "officer-11-1": (["officer"], ["11"]),
    "officer-01-1": (["officer"], ["01"]),
    "officer.national": (["officer"], []),
    "supervisor-11": (["supervisor"], ["11"]),
    "analyst-11": (["analyst"], ["11"]),
    "auditor": (["auditor"], []),
    "gone-11": (["officer"], ["11"]),
}


@dataclass
class Ledger:
    app: ComplianceCases
    importer11: str
    importer14: str
    assessment11: str
    assessment14: str
    verification11: str

    def refused(self, command: Callable[[], object], field: str, message: str) -> None:
        """`command` is refused naming `field` and saying `message`; the log is unchanged."""
        before = self.app.recorder.max_notification_id()
        with pytest.raises(InvalidValueError) as raised:
            command()
        assert raised.value.field == field
        assert message in str(raised.value)
        assert self.app.recorder.max_notification_id() == before


@pytest.fixture
def ledger(make_app: Callable[..., ComplianceCases], clock: FakeClock) -> Ledger:
    loader = make_app()
    importer11 = register_importer(loader, district="11")
    importer14 = register_importer(loader, district="14")
    assessment11 = walk_assessment(loader, register_importer(loader, district="11"),
                                   clock=clock)
    assessment14 = walk_assessment(loader, importer14, clock=clock)
    _, findings = walk_to_findings(loader, register_importer(loader, district="11"),
                                   clock=clock)
    assert findings.plan_number is not None
    verification = walk_plan(loader, findings.plan_number, clock=clock)
    assert verification is not None
    for name, (roles, districts) in STAFF.items():
        loader.add_user(name, roles=roles, districts=districts, actor=SETUP, reason="staff")
    loader.add_user("rep-378801494du", roles=["importer_representative"],
                    importers=[importer11], actor=SETUP, reason="representative")
    loader.disable_user("gone-11", actor=SETUP, reason="left")
    return Ledger(make_app(access_control=True), importer11, importer14, assessment11,
                  assessment14, verification)


NOT_GIVEN_WORK = [
    ("user:ghost", "user:ghost is not a user of this ledger"),
    ("user:oficer-11-1", "user:oficer-11-1 is not a user of this ledger"),
    ("user:gone-11", "user:gone-11 is disabled"),
    ("user:officer-01-1", "user:officer-01-1 does not work in district 11"),
    ("user:rep-378801494du", "user:rep-378801494du is not an officer"),
    ("user:analyst-11", "user:analyst-11 is not an officer"),
    ("user:auditor", "user:auditor is not an officer"),
    ("system:anything", "system:anything is not a person"),
    ("officer-11-1", "expected 'user:<id>' or 'system:<job>'"),
]


@pytest.mark.parametrize(("person", "message"), NOT_GIVEN_WORK)
def test_an_assessment_s_officer_must_be_an_enabled_officer_of_its_district(
        ledger: Ledger, person: str, message: str) -> None:
    ledger.refused(lambda: ledger.app.assign_officer(
        ledger.assessment11, person, actor=BOSS, reason="workload"), "officer", message)
    assert ledger.app.get_assessment(ledger.assessment11).officer is None


@pytest.mark.parametrize(("person", "message"), NOT_GIVEN_WORK)
def test_a_verification_s_officer_and_an_account_s_manager_are_checked_the_same_way(
        ledger: Ledger, person: str, message: str) -> None:
    ledger.refused(lambda: ledger.app.assign_verification_officer(
        ledger.verification11, person, actor=BOSS, reason="workload"), "officer", message)
    ledger.refused(lambda: ledger.app.assign_account_manager(
        ledger.importer11, person, actor=BOSS, reason="tier 1"), "manager", message)
    assert ledger.app.get_verification(ledger.verification11).officer is None
    assert ledger.app.get_importer(ledger.importer11).account_manager is None


def test_officers_and_supervisors_of_the_district_or_national_ones_are_given_work(
        ledger: Ledger) -> None:
    app = ledger.app
    for person in ("user:officer-11-1", "user:supervisor-11", "user:officer.national"):
        version = app.assign_officer(ledger.assessment11, person, actor=BOSS, reason="rota")
        assert app.get_assessment(ledger.assessment11).officer == person
        app.assign_verification_officer(ledger.verification11, person, actor=BOSS,
                                        reason="rota")
        assert app.get_verification(ledger.verification11).officer == person
        app.assign_account_manager(ledger.importer11, person, actor=BOSS, reason="tier 1")
        assert app.get_importer(ledger.importer11).account_manager == person
    assert version == 4  # opened, then three assignments
    app.assign_officer(ledger.assessment14, "user:officer.national", actor=BOSS,
                       reason="a national officer works in district 14 too")
    ledger.refused(lambda: app.assign_officer(ledger.assessment14, "user:officer-11-1",
                                              actor=BOSS, reason="rota"),
                   "officer", "user:officer-11-1 does not work in district 14")
    ledger.refused(lambda: app.assign_account_manager(
        ledger.importer14, "user:supervisor-11", actor=BOSS, reason="tier 1"),
        "manager", "user:supervisor-11 does not work in district 14")


def test_a_bulk_assignment_checks_its_officer_once_and_each_case_s_district(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    app = ledger.app
    cases = [ledger.assessment11, ledger.verification11, ledger.assessment14]
    with acting_as(app.principal_for_actor(BOSS)):
        ledger.refused(lambda: assign_each(app, cases, "user:ghost", actor=BOSS,
                                           reason="rota", batch="b" * 16),
                       "officer", "user:ghost is not a user of this ledger")
        ledger.refused(lambda: assign_each(app, cases, "user:rep-378801494du", actor=BOSS,
                                           reason="rota", batch="c" * 16),
                       "officer", "is not an officer")
        looked_up: list[str] = []
        resolve = app.principal_for_actor
        monkeypatch.setattr(app, "principal_for_actor",
                            lambda actor: looked_up.append(actor) or resolve(actor))
        outcomes = assign_each(app, cases, "user:officer-11-1", actor=BOSS, reason="rota",
                               batch="d" * 16)
    assert looked_up.count("user:officer-11-1") == 1
    assert [o.assigned for o in outcomes] == [True, True, False]
    refusal = outcomes[2].refusal
    assert isinstance(refusal, InvalidValueError)
    assert (refusal.field, refusal.reason) == (
        "officer", "user:officer-11-1 does not work in district 14")
    assert app.get_assessment(ledger.assessment11).officer == "user:officer-11-1"
    assert app.get_verification(ledger.verification11).officer == "user:officer-11-1"
    assert app.get_assessment(ledger.assessment14).officer is None
