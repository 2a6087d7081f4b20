"""For every case type, in every state the workflow reaches, each role's page offers a form
for exactly the steps the domain's step table allows now and the role may take — checked
against the domain (`steps_open_now`) and the permissions, not against a list written
here — and a role that may not read the case type gets the forbidden page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from application.access import ForbiddenError, acting_as
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.identity import principal_of
from domain.targeting_rule import RuleDefinition
from interfaces.web.case_registry import CASE_TYPES
from tests.builders import (
    ENFORCEMENT_STEPS,
    PLAN_STEPS,
    propose_penalty,
    record_retests,
    register_importer,
    walk_assessment,
    walk_enforcement,
    walk_plan,
    walk_to_findings,
)
from tests.e2e.http.conftest import Api

ROLES = ("officer11", "supervisor11", "analyst11", "auditor", "rep11", "admin")


def _importers(app: ComplianceCases, first: str) -> Callable[[], str]:
    """The representative's importer first, then new importers of its district (an
    importer has one open assessment per period)."""
    given = iter([first])
    return lambda: next(given, None) or register_importer(app, district="11")


def _assessments(app: ComplianceCases, importer: Callable[[], str]) -> Iterator[str]:
    for state in ("opened", "assigned", "surveyed", "testing", "findings_issued", "closed",
                  "cancelled"):
        yield walk_assessment(app, importer(), state)


def _plans(app: ComplianceCases, importer: Callable[[], str]) -> Iterator[str]:
    for step in PLAN_STEPS:
        _, result = walk_to_findings(app, importer())
        assert result.plan_number is not None
        walk_plan(app, result.plan_number, step)
        yield result.plan_number


def _verifications(app: ComplianceCases, importer: Callable[[], str]) -> Iterator[str]:
    for stage in ("scheduled", "testing", "concluded"):
        _, result = walk_to_findings(app, importer())
        assert result.plan_number is not None
        number = walk_plan(app, result.plan_number)
        assert number is not None
        if stage != "scheduled":
            record_retests(app, number, effective=True)
        if stage == "concluded":
            app.conclude_verification(number, actor="user:officer.two", reason="effective")
        yield number


def _enforcement(app: ComplianceCases, importer: Callable[[], str]) -> Iterator[str]:
    for step in ENFORCEMENT_STEPS:
        number = propose_penalty(app, importer())
        walk_enforcement(app, number, step)
        yield number


def _rules(app: ComplianceCases, _importer: Callable[[], str]) -> Iterator[str]:
    for stage in ("drafted", "approved", "published", "retired"):
        definition = RuleDefinition.parse(
            name=f"undervalued textiles {stage}", conditions={"hs_prefix": "61"},
            channel="red", districts=["11"], effective_from="2026-01-01", effective_to=None)
        number = app.draft_rule(definition, actor="user:analyst.one", reason="pattern")
        if stage != "drafted":
            app.approve_rule(number, actor="user:supervisor.one", reason="reviewed")
        if stage in ("published", "retired"):
            app.publish_rule(number, actor="user:supervisor.one", reason="in force")
        if stage == "retired":
            app.retire_rule(number, actor="user:supervisor.one", reason="obsolete")
        yield number


BUILDERS: dict[str, Callable[[ComplianceCases, Callable[[], str]], Iterator[str]]] = {
    "assessments": _assessments, "plans": _plans, "verifications": _verifications,
    "enforcement": _enforcement, "rules": _rules,
}


def _steps_on_page(html: str) -> list[str]:
    return re.findall(r'<details class="step[^"]*" id="step-([a-z-]+)"', html)


@pytest.mark.parametrize("resource", sorted(BUILDERS))
def test_each_role_is_offered_what_the_domain_allows_in_every_state(
        web: Api, resource: str) -> None:
    loader = web.ledger_loader()
    numbers = list(BUILDERS[resource](loader, _importers(loader, web.importer11)))
    case_type = CASE_TYPES[resource]
    states_seen = set()
    for number in numbers:
        for username in ROLES:
            user = web.ledger.find_user(username)
            assert user is not None
            principal = principal_of(user)
            response = web.as_user(username).get(f"/{resource}/{number}")
            try:
                with acting_as(principal):
                    principal.require(case_type.read_permission)
                    case = case_type.load(web.ledger, number)
            except ForbiddenError:
                assert response.status_code == 403, (username, number)
                continue
            except NotFoundError:
                assert response.status_code == 404, (username, number)
                continue
            assert response.status_code == 200, (username, number, response.text[-300:])
            states_seen.add(case.step_state())
            expected = [spec.name for spec in case_type.specs
                        if spec.permission in case.steps_open_now()
                        and principal.may(spec.permission)]
            assert _steps_on_page(response.text) == expected, (username, number,
                                                               case.step_state())
    assert states_seen == {case_type.load(loader, n).step_state() for n in numbers}
    assert len(states_seen) >= 3, states_seen


def test_the_due_dates_shown_are_the_cases_own(web: Api) -> None:
    loader = web.ledger_loader()
    _, result = walk_to_findings(loader, web.importer11)
    assert result.plan_number is not None
    page = web.as_user("officer11").get(f"/plans/{result.plan_number}").text
    plan = loader.get_plan(result.plan_number)
    assert plan.proposal_due_on.isoformat() in page
    assert (plan.proposal_due_on - timedelta(days=1)).isoformat() not in page
