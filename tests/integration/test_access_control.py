"""Who may do what, at the application: every command's actor resolved to a principal
whose roles allow it, every case loaded within the principal's scope (a case outside it is
"not found"), the analysis runs and seals checked like commands, API tokens narrowed to
their grants and ended by expiry or revocation, and logins that lock after repeated
failures and rehash when the cost grows, each recorded on the user's history.

The cases are set up by an application with access control off (the use cases are tested
elsewhere); each check runs on one with it on, as every interface builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.access import ForbiddenError, UnknownActorError, acting_as
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.history import history
from application.identity import AuthenticationError
from domain.errors import InvalidValueError, RuleViolationError
from domain.importer_account import Registration
from domain.user import user_id
from infrastructure.passwords import Argon2Hasher
from infrastructure.seal import seal_ledger
from interfaces.analysis_composition import (
    build_channel,
    build_ingestion,
    build_risk_run,
    build_selection,
)
from tests.builders import FakeClock, register_importer, walk_assessment, walk_to_findings
from tests.integration.workflow_support import stored_event_names

SETUP = "system:test-setup"
STAFF: dict[str, dict[str, Any]] = {
    "admin": {"roles": ["admin"]},
    "auditor": {"roles": ["auditor"]},
    "officer11": {"roles": ["officer"], "districts": ["11"]},
    "supervisor11": {"roles": ["supervisor"], "districts": ["11"]},
    "analyst11": {"roles": ["analyst"], "districts": ["11"]},
    "officer.national": {"roles": ["officer"]},
    "both": {"roles": ["officer", "supervisor"], "districts": ["11", "12"]},
    "gone": {"roles": ["officer"]},
}
CHEAP = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PASSWORD = "a long enough passphrase"


@dataclass
class Ledger:
    """Cases in districts 11 and 12 (an assessment, and a plan from findings of another
    importer, `importer11` and `importer12`, in each), the staff above, a representative of
    each of those importers, and the application with access control on."""

    app: ComplianceCases
    clock: FakeClock
    importer11: str
    importer12: str
    assessment11: str
    assessment12: str
    plan11: str
    plan12: str

    def unchanged(self, command: Callable[[], object], error: type[Exception]) -> Exception:
        """`command` raises `error` and the log does not grow."""
        before = self.app.recorder.max_notification_id()
        with pytest.raises(error) as raised:
            command()
        assert self.app.recorder.max_notification_id() == before
        return raised.value


@pytest.fixture
def ledger(make_app: Callable[..., ComplianceCases], clock: FakeClock) -> Ledger:
    loader = make_app()
    importer11 = register_importer(loader, district="11")
    importer12 = register_importer(loader, district="12")
    assessments = [walk_assessment(loader, register_importer(loader, district=d), "assigned",
                                   clock=clock) for d in ("11", "12")]
    plans = []
    for number in (importer11, importer12):
        _, result = walk_to_findings(loader, number, clock=clock)
        assert result.plan_number is not None
        plans.append(result.plan_number)
    for name, grants in STAFF.items():
        loader.add_user(name, roles=grants["roles"], districts=grants.get("districts", ()),
                        actor=SETUP, reason="staff")
    for name, importer in (("rep11", importer11), ("rep12", importer12)):
        loader.add_user(name, roles=["importer_representative"], importers=[importer],
                        actor=SETUP, reason="representative")
    loader.disable_user("gone", actor=SETUP, reason="left")
    return Ledger(make_app(access_control=True), clock, importer11, importer12,
                  *assessments, *plans)


def survey(app: ComplianceCases, number: str, actor: str) -> object:
    return app.record_survey(number, {"value": "adequate", "classification": "adequate"},
                             app.clock().date(), actor=actor, reason="visit")


# -- actors ------------------------------------------------------------------------------


def test_an_actor_who_is_nobody_or_disabled_is_refused_and_nothing_is_written(
        ledger: Ledger) -> None:
    for actor in ("user:nobody", "user:gone"):
        refused = ledger.unchanged(lambda a=actor: survey(ledger.app, ledger.assessment11, a),
                                   UnknownActorError)
        assert actor in str(refused)


def test_the_first_admin_can_only_be_added_by_a_system_actor(
        make_app: Callable[..., ComplianceCases]) -> None:
    app = make_app(access_control=True)
    with pytest.raises(UnknownActorError):
        app.add_user("first", roles=["admin"], actor="user:first", reason="me")
    app.add_user("first", roles=["admin"], actor="system:setup", reason="bootstrap")
    app.add_user("second", roles=["admin"], actor="user:first", reason="a colleague")
    with pytest.raises(RuleViolationError, match="own account"):
        app.grant_role("first", "auditor", actor="user:first", reason="myself")
    app.grant_role("first", "auditor", actor="user:second", reason="four eyes")
    assert set(app.get_user("first").roles) == {"admin", "auditor"}


# -- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "command"), [
    ("user:analyst11", lambda led: led.app.assign_officer(
        led.assessment11, "user:officer11", actor="user:analyst11", reason="r")),
    ("user:officer11", lambda led: led.app.approve_plan(led.plan11, actor="user:officer11",
                                                        reason="r")),
    ("user:auditor", lambda led: led.app.register_importer(Registration.parse(
        "12-0000001AB", "Acme", "11", "73", "2020-01-01"), actor="user:auditor", reason="r")),
    ("user:admin", lambda led: survey(led.app, led.assessment11, "user:admin")),
    ("user:rep11", lambda led: survey(led.app, led.assessment11, "user:rep11")),
    ("user:supervisor11", lambda led: led.app.add_user("x", roles=["officer"],
                                                       actor="user:supervisor11",
                                                       reason="r")),
])
def test_a_role_that_does_not_allow_the_command_is_refused(
        ledger: Ledger, actor: str, command: Callable[[Ledger], object]) -> None:
    refused = ledger.unchanged(lambda: command(ledger), ForbiddenError)
    assert isinstance(refused, ForbiddenError)
    assert refused.actor == actor


def test_system_actors_never_approve_review_or_decide(ledger: Ledger) -> None:
    for command in (
        lambda: ledger.app.approve_plan(ledger.plan11, actor="system:job", reason="r"),
        lambda: ledger.app.send_back_plan(ledger.plan11, actor="system:job", reason="r"),
        lambda: ledger.app.record_review_vote("EA-2026-00001", "approve", actor="system:job",
                                              reason="r"),
        lambda: ledger.app.conclude_review("EA-2026-00001", actor="system:job", reason="r"),
        lambda: ledger.app.decide_enforcement("EA-2026-00001", 100, actor="system:job",
                                              reason="r"),
        lambda: ledger.app.assign_officer(ledger.assessment11, "user:officer11",
                                          actor="system:job", reason="r"),
    ):
        ledger.unchanged(command, ForbiddenError)
    survey(ledger.app, ledger.assessment11, "system:job")  # casework it may do


# -- scope -------------------------------------------------------------------------------


def test_a_case_outside_the_district_is_not_found(ledger: Ledger) -> None:
    ledger.unchanged(lambda: survey(ledger.app, ledger.assessment12, "user:officer11"),
                     NotFoundError)
    ledger.unchanged(lambda: ledger.app.approve_plan(ledger.plan12, actor="user:supervisor11",
                                                     reason="r"), NotFoundError)
    survey(ledger.app, ledger.assessment11, "user:officer11")
    survey(ledger.app, ledger.assessment12, "user:officer.national")


def test_a_representative_sees_only_its_importers_plans(ledger: Ledger) -> None:
    app = ledger.app
    with acting_as(app.principal_for_actor("user:rep11")):
        assert app.get_plan(ledger.plan11).importer_number == ledger.importer11
        with pytest.raises(NotFoundError):
            app.get_plan(ledger.plan12)
        with pytest.raises(NotFoundError):
            app.get_assessment(ledger.assessment12)
    ledger.unchanged(lambda: app.add_plan_action(
        ledger.plan12, area="value", description="retrain", owner="user:rep11",
        due_on=app.clock().date() + timedelta(days=30), actor="user:rep11",
        reason="r"), NotFoundError)
    app.add_plan_action(ledger.plan11, area="value", description="retrain",
                        owner="user:rep11", due_on=app.clock().date() + timedelta(days=30),
                        actor="user:rep11", reason="our proposal")
    with acting_as(app.principal_for_actor("user:auditor")):
        assert app.get_plan(ledger.plan12).number == ledger.plan12  # auditors read all


def test_a_caller_cannot_act_as_someone_else(ledger: Ledger) -> None:
    with acting_as(ledger.app.principal_for_actor("user:officer11")):
        ledger.unchanged(lambda: survey(ledger.app, ledger.assessment11, "user:both"),
                         UnknownActorError)


# -- use cases outside `_once` -----------------------------------------------------------


@pytest.mark.parametrize("actor", ["user:officer11", "user:rep11", "user:auditor"])
def test_analysis_runs_imports_and_seals_check_their_actor_first(
        ledger: Ledger, actor: str, tmp_path: Path) -> None:
    """Each is refused before it reads anything (their inputs here are not even valid)
    unless the actor's roles allow it (an officer may register importers in bulk)."""
    app = ledger.app
    runs: dict[str, Callable[[], object]] = {
        "import_file": lambda: build_ingestion(app).import_file(
            None, None, actor=actor),  # type: ignore[arg-type]
        "risk_run": lambda: build_risk_run(app).assess(2026, actor=actor),
        "channel_run": lambda: build_channel(app).decide(actor=actor),
        "selection_plan": lambda: build_selection(app).plan(
            None, 10, 0.1, actor=actor),  # type: ignore[arg-type]
        "register_importer": lambda: app.register_importers([], actor=actor, reason="bulk"),
        "seal": lambda: seal_ledger(app, Ed25519PrivateKey.generate(), tmp_path / "witness",
                                    actor),
    }
    may = app.principal_for_actor(actor).may
    assert [p for p in runs if may(p)] == (["register_importer"] if "officer" in actor
                                           else [])
    for permission, run in runs.items():
        if not may(permission):
            refused = ledger.unchanged(run, ForbiddenError)
            assert permission.replace("_", " ") in str(refused)
    ledger.unchanged(lambda: build_risk_run(app).assess(2026, actor="user:nobody"),
                     UnknownActorError)
    assert not (tmp_path / "witness").exists()


# -- tokens ------------------------------------------------------------------------------


def test_a_token_is_narrowed_to_its_grants_and_its_owners(ledger: Ledger) -> None:
    app, clock = ledger.app, ledger.clock
    issued = app.create_token("both", "district 11 casework", roles=["officer", "supervisor"],
                              districts=["11"], expires_at=clock() + timedelta(days=30),
                              actor="user:admin", reason="integration")
    assert issued.secret.startswith(f"clt_both_{issued.token_id}_")
    principal = app.authenticate_token(issued.secret, clock())
    assert principal.roles == {"officer", "supervisor"}
    assert principal.districts == {"11"}
    with acting_as(principal):
        survey(app, ledger.assessment11, "user:both")
        ledger.unchanged(lambda: survey(app, ledger.assessment12, "user:both"), NotFoundError)
    app.revoke_role("both", "supervisor", actor="user:admin", reason="moved on")
    narrowed = app.authenticate_token(issued.secret, clock())
    assert narrowed.roles == {"officer"}
    with acting_as(narrowed):
        ledger.unchanged(lambda: app.approve_plan(ledger.plan11, actor="user:both",
                                                  reason="r"), ForbiddenError)
    with pytest.raises(InvalidValueError, match="role"):
        app.create_token("officer11", "too much", roles=["supervisor"], districts=None,
                         expires_at=clock() + timedelta(days=1), actor="user:admin",
                         reason="r")


def test_a_token_ends_when_it_expires_is_revoked_or_its_owner_disabled(
        ledger: Ledger) -> None:
    app, clock = ledger.app, ledger.clock

    def token(name: str) -> str:
        return app.create_token("officer11", name, roles=["officer"], districts=None,
                                expires_at=clock() + timedelta(days=1), actor="user:admin",
                                reason="r").secret

    expiring, revoked, owned = token("expiring"), token("revoked"), token("owned")
    app.authenticate_token(expiring, clock())
    with pytest.raises(AuthenticationError):
        app.authenticate_token(expiring, clock() + timedelta(days=1))
    with pytest.raises(RuleViolationError, match="revoke it first") as refused:
        token("revoked")  # a live token's name is not taken twice
    assert refused.value.rule == "TokenNameUnique"
    app.revoke_token("officer11", revoked.split("_")[2], actor="user:admin", reason="leaked")
    with pytest.raises(AuthenticationError):
        app.authenticate_token(revoked, clock())
    app.authenticate_token(token("revoked"), clock())  # the name is free again once revoked
    for forged in (owned[:-1] + ("0" if owned[-1] != "0" else "1"), "clt_x", "nonsense"):
        with pytest.raises(AuthenticationError):
            app.authenticate_token(forged, clock())
    app.authenticate_token(owned, clock())
    app.disable_user("officer11", actor="user:admin", reason="left")
    with pytest.raises(AuthenticationError):
        app.authenticate_token(owned, clock())


# -- logins ------------------------------------------------------------------------------


def test_repeated_failed_logins_lock_the_account_and_are_in_its_history(
        ledger: Ledger) -> None:
    app, hasher = ledger.app, Argon2Hasher(**CHEAP)
    app.set_password("officer11", hasher.hash(PASSWORD), actor="user:admin", reason="set")
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            app.authenticate_password("officer11", "wrong guess", hasher, max_failures=3)
    assert app.get_user("officer11").locked
    before = stored_event_names(app)
    with pytest.raises(AuthenticationError):  # locked: even the right password
        app.authenticate_password("officer11", PASSWORD, hasher, max_failures=3)
    assert stored_event_names(app) == before  # a locked account's failures add nothing
    events = [(e.event, e.actor) for e in history(app, user_id("officer11"))]
    assert events[-4:] == [("User.LoginFailed", "system:login")] * 3 + [
        ("User.Locked", "system:login")]
    app.enable_user("officer11", actor="user:admin", reason="called the help desk")
    assert app.authenticate_password("officer11", PASSWORD, hasher,
                                     max_failures=3).actor == "user:officer11"
    user = app.get_user("officer11")
    assert (user.locked, user.failed_logins, user.last_login_at) == (False, 0, ledger.clock())
    assert history(app, user_id("officer11"))[-1].event == "User.LoginSucceeded"


def test_a_login_rehashes_the_password_when_the_cost_grew(ledger: Ledger) -> None:
    app, weak, strong = ledger.app, Argon2Hasher(**CHEAP), Argon2Hasher(time_cost=2,
                                                                        memory_cost=16,
                                                                        parallelism=1)
    app.set_password("officer11", weak.hash(PASSWORD), actor="user:admin", reason="set")
    app.authenticate_password("officer11", PASSWORD, strong, max_failures=5)
    stored = app.get_user("officer11").password_hash
    assert stored is not None
    assert not strong.needs_rehash(stored)
    assert strong.verify(stored, PASSWORD)
    last = history(app, user_id("officer11"))[-1]
    assert (last.event, last.actor, last.data["password_hash"]) == (
        "User.PasswordSet", "system:login", "<redacted>")
    app.authenticate_password("officer11", PASSWORD, strong, max_failures=5)
    assert history(app, user_id("officer11"))[-1].event == "User.LoginSucceeded"


def test_an_unknown_user_and_a_disabled_one_fail_like_a_wrong_password(
        ledger: Ledger) -> None:
    hasher = Argon2Hasher(**CHEAP)
    ledger.app.set_password("gone", hasher.hash(PASSWORD), actor="user:admin", reason="set")
    messages = set()
    for username, password in (("nobody", PASSWORD), ("gone", PASSWORD),
                               ("officer11", PASSWORD), ("Not A Name!", PASSWORD)):
        with pytest.raises(AuthenticationError) as refused:
            ledger.app.authenticate_password(username, password, hasher, max_failures=5)
        messages.add(str(refused.value))
    assert len(messages) == 1


def test_reading_hands_out_cached_aggregates_and_refuses_commands(
        make_app: Callable[..., ComplianceCases], clock: FakeClock) -> None:
    app = make_app(cache_size=100)
    number = walk_assessment(app, register_importer(app, district="11"), "assigned",
                             clock=clock)
    app.get_assessment(number)  # into the cache
    with app.reading():
        first, second = app.get_assessment(number), app.get_assessment(number)
        assert first is second  # no defensive copy while only reading
        before = app.recorder.max_notification_id()
        with pytest.raises(RuntimeError, match="reading"):
            app.cancel_assessment(number, actor="user:officer11", reason="not while reading")
        assert app.recorder.max_notification_id() == before
    assert app.get_assessment(number) is not app.get_assessment(number)
