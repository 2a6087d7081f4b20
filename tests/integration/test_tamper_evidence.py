"""Editing, deleting or reordering stored events breaks the hash chain, and `verify` names
the aggregate and the version; untouched data verifies clean."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from uuid import UUID

from application.compliance_cases import ComplianceCases
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.importer_account import importer_account_id
from infrastructure.settings import Settings
from infrastructure.verify import (
    ChainProblem,
    VerificationReport,
    verify_chains,
    verify_snapshots,
)
from tests.builders import ACTOR, FakeClock, register_importer, walk_assessment
from tests.integration.raw_store import RawEvents


def importer_with_five_events(app: ComplianceCases) -> UUID:
    number = register_importer(app)
    app.assign_account_manager(number, "user:manager.one", actor=ACTOR, reason="new account")
    app.join_partnership(number, "trusted_trader", "2021-06-01", actor=ACTOR,
                         reason="validated")
    app.set_compliance_class(number, "a", actor=ACTOR, reason="annual review")
    app.suspend_importer(number, actor=ACTOR, reason="unpaid duty")
    return importer_account_id(number)


def problems_of(report: VerificationReport, aggregate_id: UUID) -> list[ChainProblem]:
    return [p for p in report.problems if UUID(p.aggregate_id) == aggregate_id]


def compact(document: dict[str, object]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode()


def test_untouched_events_verify_clean_with_event_and_aggregate_counts(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = importer_with_five_events(app)                   # 1 aggregate, 5 events
    bystander = register_importer(app)                          # 1 aggregate, 1 event
    walk_assessment(app, bystander, "assigned", clock=clock)    # sequence 2, file 2,
    #                                                             assessment 2 events

    report = verify_chains(app.recorder)

    assert report.ok, report.problems
    assert report.events == 5 + 1 + 2 + 2 + 2 == app.recorder.max_notification_id()
    assert report.aggregates == 5
    assert app.find_aggregate(importer) is not None


def test_an_edited_field_in_a_middle_event_is_reported_with_its_aggregate_and_version(
        app: ComplianceCases, store: Settings) -> None:
    importer = importer_with_five_events(app)
    bystander = importer_account_id(register_importer(app))
    raw = RawEvents.of(app, store)
    topic, state = raw.read(importer, 3)
    document = json.loads(state)
    assert document["programme"] == "trusted_trader"
    document["programme"] = "self_assessment"
    raw.rewrite(importer, 3, topic, compact(document))

    report = verify_chains(app.recorder)

    assert not report.ok
    assert [p.version for p in problems_of(report, importer)] == [3]
    assert str(importer) in str(report.problems[0])
    assert "version 3 altered" in report.problems[0].problem
    assert not problems_of(report, bystander)


def test_an_edited_reason_is_as_visible_as_an_edited_value(
        app: ComplianceCases, store: Settings) -> None:
    importer = importer_with_five_events(app)
    raw = RawEvents.of(app, store)
    topic, state = raw.read(importer, 2)
    raw.rewrite(importer, 2, topic, state.replace(b'"new account"', b'"old account"'))

    report = verify_chains(app.recorder)

    assert [(UUID(p.aggregate_id), p.version) for p in report.problems] == [(importer, 2)]


def test_a_deleted_middle_event_is_reported_with_its_aggregate_and_the_missing_version(
        app: ComplianceCases, store: Settings) -> None:
    importer = importer_with_five_events(app)
    bystander = importer_account_id(register_importer(app))
    raw = RawEvents.of(app, store)
    raw.delete(importer, 3)
    assert raw.versions(importer) == [1, 2, 4, 5]

    report = verify_chains(app.recorder)

    problems = problems_of(report, importer)
    assert len(problems) == 1
    assert problems[0].version == 4
    assert "version(s) 3 missing" in problems[0].problem
    assert str(importer) in str(problems[0])
    assert not problems_of(report, bystander)
    assert report.events == 5


def test_two_swapped_events_are_reported_with_their_aggregate_and_the_first_version(
        app: ComplianceCases, store: Settings) -> None:
    importer = importer_with_five_events(app)
    bystander = importer_account_id(register_importer(app))
    raw = RawEvents.of(app, store)
    second, third = raw.read(importer, 2), raw.read(importer, 3)
    raw.rewrite(importer, 2, *third)
    raw.rewrite(importer, 3, *second)

    report = verify_chains(app.recorder)

    problems = problems_of(report, importer)
    named = {p.version for p in problems}
    assert 2 in named
    assert named <= {1, 2, 3}  # only the links into versions 2, 3 and 4 break
    assert not problems_of(report, bystander)
    assert len(problems) == len(report.problems)


def test_tampering_with_a_multi_aggregate_opening_names_only_the_edited_aggregate(
        app: ComplianceCases, store: Settings, clock: FakeClock) -> None:
    importer = register_importer(app)
    first = walk_assessment(app, importer, "cancelled", clock=clock)
    walk_assessment(app, importer, "opened", clock=clock)
    raw = RawEvents.of(app, store)
    sequence = sequence_id("CA", clock.now.year)
    topic, state = raw.read(sequence, 2)
    assert json.loads(state)["number"] == first
    raw.rewrite(sequence, 2, topic, state.replace(first.encode(), b"CA-2026-00099"))

    report = verify_chains(app.recorder)

    assert [(UUID(p.aggregate_id), p.version) for p in report.problems] == [(sequence, 2)]
    assert not problems_of(report, case_file_id(importer))
    assert not problems_of(report, case_id(first))


def test_an_edited_snapshot_is_caught_although_every_chain_link_still_holds(
        make_app: Callable[..., ComplianceCases], store: Settings) -> None:
    small = dataclasses.replace(store, snapshot_interval=2)
    app = make_app(small)
    importer = importer_with_five_events(app)
    snapshots = app.snapshots
    assert snapshots is not None
    assert [s.originator_version for s in snapshots.get(importer)] == [2, 4]
    raw = RawEvents(small, getattr(snapshots.recorder, "events_table_name", ""))
    topic, state = raw.read(importer, 4)
    assert b'"compliance_class":"a"' in state
    raw.rewrite(importer, 4, topic, state.replace(b'"compliance_class":"a"',
                                                 b'"compliance_class":"aa"'))

    report = verify_chains(app.recorder)
    checked, problems = verify_snapshots(app.events, snapshots, report.heads, 2)

    assert report.ok
    assert checked == 2
    assert [(UUID(p.aggregate_id), p.version) for p in problems] == [(importer, 4)]
    assert "snapshot altered" in problems[0].problem
