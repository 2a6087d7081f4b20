"""Over HTTP, on both stores: a case is given only to an enabled officer (or supervisor) of
its district or a national one (application.assignees); anyone else is a 422 problem
naming the field, and the case keeps its version."""

from __future__ import annotations

from interfaces.composition import build_application
from tests.builders import walk_assessment
from tests.e2e.http.conftest import Api


def test_an_officer_who_may_not_take_the_case_is_a_422_naming_the_field(api: Api) -> None:
    loader = build_application(api.settings, access_control=False)
    try:
        number = walk_assessment(loader, api.importer11)
    finally:
        loader.close()
    supervisor = api.as_user("supervisor11")
    path = f"/api/assessments/{number}/assign"
    version = api.ledger.get_assessment(number).version
    for officer, reason in (("user:ghost", "user:ghost is not a user of this ledger"),
                            ("user:officer12", "user:officer12 does not work in district 11"),
                            ("user:analyst11", "user:analyst11 is not an officer"),
                            ("system:anything", "system:anything is not a person")):
        refused = supervisor.post(path, json={"officer": officer, "reason": "rota"})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        named = {p["name"]: p["reason"] for p in refused.json()["invalid-params"]}
        assert list(named) == ["officer"]
        assert reason in named["officer"]
    assert api.ledger.get_assessment(number).version == version
    manager = supervisor.post(f"/api/accounts/{api.importer11}/assign-manager",
                              json={"manager": "user:manager-11", "reason": "tier 1"})
    assert manager.status_code == 422, manager.text
    assert [p["name"] for p in manager.json()["invalid-params"]] == ["manager"]
    assigned = supervisor.post(path, json={"officer": "user:officer.national",
                                           "reason": "rota"})
    assert assigned.status_code == 200, assigned.text
    assert api.ledger.get_assessment(number).officer == "user:officer.national"
