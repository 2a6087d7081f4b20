"""Who may own an improvement plan's action (application.assignees, `_check_owner`): a
representative of the plan's importer, or an enabled officer or supervisor of the plan's
district (or a national one). Anyone else — a representative of another importer above all,
who would then see a plan that is not theirs — is refused with the field `owner` named and
nothing written, when an action is added, changed or amended; on SQLite and PostgreSQL.

The plan is set up by an application with access control off; each check runs on one with
it on, as every interface builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.compliance_cases import ComplianceCases
from domain.errors import InvalidValueError
from tests.builders import FakeClock, register_importer, walk_plan, walk_to_findings

SETUP = "system:test-setup"
OFFICER = "user:officer-11"
STAFF: dict[str, tuple[list[str], list[str]]] = {
    "officer-11": (["officer"], ["11"]),
    "supervisor-11": (["supervisor"], ["11"]),
    "officer-14": (["officer"], ["14"]),
    "officer.national": (["officer"], []),
    "analyst-11": (["analyst"], ["11"]),
    "gone-11": (["officer"], ["11"]),
}


@dataclass
class Plans:
    app: ComplianceCases
    drafted: str
    """A drafted plan of an importer of district 11, with one action, A1."""
    approved: str
    """An approved plan of another importer of district 11, whose actions change only by
    amendment. `rep-ours` represents both importers, `rep-theirs` a third."""

    def refused(self, command: Callable[[], object], message: str) -> None:
        before = self.app.recorder.max_notification_id()
        with pytest.raises(InvalidValueError) as raised:
            command()
        assert raised.value.field == "owner"
        assert message in str(raised.value)
        assert self.app.recorder.max_notification_id() == before

    def due(self) -> str:
        return (self.app.clock().date() + timedelta(days=30)).isoformat()


@pytest.fixture
def plans(make_app: Callable[..., ComplianceCases], clock: FakeClock) -> Plans:
    loader = make_app()
    importers = [register_importer(loader, district="11") for _ in range(2)]
    other = register_importer(loader, district="11")
    numbers = []
    for importer in importers:
        _, findings = walk_to_findings(loader, importer, clock=clock)
        assert findings.plan_number is not None
        numbers.append(findings.plan_number)
    walk_plan(loader, numbers[0], "actions_added", clock=clock)
    walk_plan(loader, numbers[1], "approved", clock=clock)
    for name, (roles, districts) in STAFF.items():
        loader.add_user(name, roles=roles, districts=districts, actor=SETUP, reason="staff")
    loader.add_user("rep-ours", roles=["importer_representative"], importers=importers,
                    actor=SETUP, reason="representative")
    loader.add_user("rep-theirs", roles=["importer_representative"], importers=[other],
                    actor=SETUP, reason="representative")
    loader.disable_user("gone-11", actor=SETUP, reason="left")
    return Plans(make_app(access_control=True), *numbers)


NOT_OWNERS = [
    ("user:rep-theirs", "user:rep-theirs does not represent importer"),
    ("user:officer-14", "user:officer-14 does not work in district 11"),
    ("user:analyst-11", "is neither a representative of importer"),
    ("user:ghost", "user:ghost is not a user of this ledger"),
    ("user:gone-11", "user:gone-11 is disabled"),
    ("system:scheduler", "system:scheduler is not a person"),
    ("the import team", "expected 'user:<id>' or 'system:<job>'"),
]


@pytest.mark.parametrize(("owner", "message"), NOT_OWNERS)
def test_an_action_s_owner_must_answer_for_the_importer_or_work_its_district(
        plans: Plans, owner: str, message: str) -> None:
    app = plans.app
    plans.refused(lambda: app.add_plan_action(
        plans.drafted, area="value", description="retrain", owner=owner, due_on=plans.due(),
        actor=OFFICER, reason="proposal"), message)
    plans.refused(lambda: app.change_plan_action(
        plans.drafted, "A1", area="value", description="retrain", owner=owner,
        due_on=plans.due(), actor=OFFICER, reason="proposal"), message)
    plans.refused(lambda: app.amend_plan_action(
        plans.approved, "A1", description="retrain", owner=owner, due_on=plans.due(),
        actor=OFFICER, reason="amendment"), message)
    assert [a.owner for a in app.get_plan(plans.drafted).actions] == ["user:importer.broker"]


def test_the_importer_s_representative_and_the_district_s_staff_may_own_actions(
        plans: Plans) -> None:
    app = plans.app
    owners = ["user:rep-ours", "user:officer-11", "user:supervisor-11",
              "user:officer.national"]
    for owner in owners:
        app.add_plan_action(plans.drafted, area="value", description=f"work by {owner}",
                            owner=owner, due_on=plans.due(), actor=OFFICER, reason="proposal")
    assert [a.owner for a in app.get_plan(plans.drafted).actions][1:] == owners
    app.change_plan_action(plans.drafted, "A1", area="value", description="retrain",
                           owner="user:rep-ours", due_on=plans.due(), actor=OFFICER,
                           reason="the importer takes it on")
    app.amend_plan_action(plans.approved, "A1", description="retrain", owner="user:officer-11",
                          due_on=plans.due(), actor=OFFICER, reason="amendment")
    assert app.get_plan(plans.drafted).actions[0].owner == "user:rep-ours"
    assert app.get_plan(plans.approved).actions[0].owner == "user:officer-11"
