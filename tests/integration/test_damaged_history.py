"""Every path that replays stored events reports a damaged case as one DamagedHistoryError,
naming the case by its number and the first bad version, on both stores."""

from __future__ import annotations

import pytest

from application.compliance_cases import ALL_TYPES, ComplianceCases
from application.errors import DamagedHistoryError
from application.history import diff, history, state_as_of
from application.log_replay import replay
from domain.assessment import Assessment
from domain.case_file import case_file_id
from domain.case_numbers import case_id
from domain.importer_account import ImporterAccount, importer_account_id
from infrastructure.settings import Settings
from tests.builders import FakeClock, register_importer, walk_assessment
from tests.integration.raw_store import RawEvents


def assert_damaged(error: pytest.ExceptionInfo[DamagedHistoryError], label: str,
                   version: int, detail: str) -> None:
    assert (error.value.label, error.value.version) == (label, version)
    assert detail in error.value.detail
    assert str(error.value).startswith(f"{label} version {version}: ")
    assert str(error.value).endswith("run compliance verify")


def test_a_deleted_middle_event_is_named_by_every_path_that_replays_the_case(
        app: ComplianceCases, store: Settings, clock: FakeClock) -> None:
    number = walk_assessment(app, register_importer(app), "testing", clock=clock)
    RawEvents.of(app, store).delete(case_id(number), 2)
    missing = "event missing (the next stored event is version 3)"

    for read in (lambda: app.get_assessment(number),
                 lambda: app.find_aggregate(case_id(number)),
                 lambda: history(app, case_id(number)),
                 lambda: state_as_of(app, case_id(number), version=3),
                 lambda: diff(app, case_id(number), 1, 3),
                 lambda: replay(app.recorder, app.mapper, [Assessment]),
                 lambda: replay(app.recorder, app.mapper, ALL_TYPES),
                 lambda: app.close_assessment(number, actor="user:sup", reason="done")):
        with pytest.raises(DamagedHistoryError) as error:
            read()
        assert_damaged(error, number, 2, missing)

    assert state_as_of(app, case_id(number), version=1)["number"] == number
    # other kinds' replays are untouched
    assert len(replay(app.recorder, app.mapper, [ImporterAccount])) == 1


def test_without_a_first_event_the_command_names_what_it_was_asked_for_else_the_id(
        app: ComplianceCases, store: Settings) -> None:
    importer = register_importer(app)
    app.assign_account_manager(importer, "user:manager", actor="user:sup", reason="new")
    account = importer_account_id(importer)
    RawEvents.of(app, store).delete(account, 1)

    with pytest.raises(DamagedHistoryError) as asked:
        app.get_importer(importer)
    assert_damaged(asked, importer, 1, "event missing")
    with pytest.raises(DamagedHistoryError) as listed:
        replay(app.recorder, app.mapper, [ImporterAccount])
    assert_damaged(listed, f"ImporterAccount {account}", 1, "event missing")


def test_an_undecodable_event_of_a_case_file_names_the_importer(
        app: ComplianceCases, store: Settings, clock: FakeClock) -> None:
    importer = register_importer(app)
    walk_assessment(app, importer, "opened", clock=clock)
    raw = RawEvents.of(app, store)
    topic, _ = raw.read(case_file_id(importer), 2)
    raw.rewrite(case_file_id(importer), 2, topic, b"\x00not json")

    with pytest.raises(DamagedHistoryError) as error:
        app.get_case_file(importer)
    assert_damaged(error, f"case file of importer {importer}", 2, "cannot be decoded")


def test_an_unknown_event_type_is_named(app: ComplianceCases, store: Settings,
                                        clock: FakeClock) -> None:
    number = walk_assessment(app, register_importer(app), "surveyed", clock=clock)
    raw = RawEvents.of(app, store)
    _, state = raw.read(case_id(number), 3)
    raw.rewrite(case_id(number), 3, "domain.assessment:Assessment.Gone", state)

    with pytest.raises(DamagedHistoryError) as error:
        app.get_assessment(number)
    assert_damaged(error, number, 3, "unknown type 'domain.assessment:Assessment.Gone'")


def test_a_fault_that_is_not_damage_is_not_reported_as_damage(
        app: ComplianceCases, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    number = walk_assessment(app, register_importer(app), "assigned", clock=clock)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug, not a damaged history")
    monkeypatch.setattr(app.repository, "get", broken)
    monkeypatch.setattr(app.events, "select_histories", broken)  # the one-query load

    with pytest.raises(RuntimeError, match="a bug"):
        app.get_assessment(number)
