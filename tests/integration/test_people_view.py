"""The people view keeps every user as the log has them now (e-mail, roles, districts,
importers, enabled), so the scheduler finds whom to tell in one query: it must agree with
the users loaded from their events after every kind of change."""

from __future__ import annotations

from collections.abc import Callable

from application.compliance_cases import ComplianceCases
from projections.catalogue import VIEWS
from projections.queries import people
from projections.worker import Projections

SETUP = "system:test-setup"


def as_loaded(app: ComplianceCases) -> set[tuple[object, ...]]:
    return {(u.username, u.email, int(u.enabled), " ".join(sorted(r.value for r in u.roles)),
             " ".join(u.districts), " ".join(u.importers)) for u in app.list_users()}


def as_viewed(app: ComplianceCases) -> set[tuple[object, ...]]:
    projections = Projections(app)
    projections.catch_up([VIEWS["people"]])
    return {(name, email, int(enabled), " ".join(sorted(str(roles).split())),
             " ".join(str(districts).split()), " ".join(str(importers).split()))
            for name, email, enabled, roles, districts, importers in people(projections.store)}


def test_the_people_view_follows_every_change_to_users(
        make_app: Callable[..., ComplianceCases]) -> None:
    app = make_app()
    app.add_user("chief", roles=["supervisor"], districts=["11"], email="chief@c.example",
                 actor=SETUP, reason="staff")
    app.add_user("rep", roles=["importer_representative"], importers=["12-3456789AB"],
                 actor=SETUP, reason="broker")
    app.add_user("analyst", roles=["analyst"], actor=SETUP, reason="national")
    assert as_viewed(app) == as_loaded(app)

    app.grant_role("chief", "officer", actor=SETUP, reason="covers casework")
    app.grant_role("analyst", "auditor", actor=SETUP, reason="second hat")
    app.revoke_role("chief", "supervisor", actor=SETUP, reason="stepped down")
    app.assign_districts("chief", ["11", "12"], actor=SETUP, reason="wider")
    app.assign_districts("analyst", ["07"], actor=SETUP, reason="narrower")
    app.assign_importers("rep", ["12-3456789AB", "98-7654321ZY"], actor=SETUP,
                         reason="second client")
    app.set_user_email("rep", "rep@broker.example", actor=SETUP, reason="given")
    app.set_user_email("chief", None, actor=SETUP, reason="left the list")
    app.disable_user("analyst", actor=SETUP, reason="leave")
    assert as_viewed(app) == as_loaded(app)

    app.enable_user("analyst", actor=SETUP, reason="back")
    app.revoke_role("analyst", "auditor", actor=SETUP, reason="one hat again")
    assert as_viewed(app) == as_loaded(app)
