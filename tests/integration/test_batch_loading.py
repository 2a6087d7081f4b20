"""Loading every aggregate a step needs in one round trip (application.aggregate_loading):
the aggregates and versions are those individual loads give, with and without snapshots,
on both stores; a workflow step reads the store once (twice in a process that has not seen
the case before); and a stale read is still refused at save, writing nothing, with the
numbering gap-free and the hash chain intact."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import ConcurrencyConflictError
from domain.case_file import case_file_id
from domain.case_numbers import CaseNumberSequence, case_id, sequence_id
from domain.importer_account import importer_account_id
from infrastructure.settings import Settings
from tests.builders import (
    DUTY_PAID,
    OFFICER,
    FakeClock,
    ready_for_findings,
    register_importer,
    walk_plan,
    walk_to_findings,
)
from tests.integration.raw_store import RawEvents
from tests.ledger_check import verify_app

EVERY_SECOND_EVENT = 2
NEVER = 10**9


@pytest.fixture(params=["without snapshots", "with snapshots"])
def interval(request: pytest.FixtureRequest) -> int:
    return NEVER if request.param == "without snapshots" else EVERY_SECOND_EVENT


@pytest.fixture
def settings(store: Settings, interval: int) -> Settings:
    return dataclasses.replace(store, snapshot_interval=interval)


def _state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _workflow(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    """Two importers' cases: their accounts, case files and assessments, a plan taken to
    its verification, and the year's CA, IP and FV number sequences: every kind of
    aggregate a workflow step loads."""
    importer = register_importer(app)
    other = register_importer(app)
    assessment, findings = walk_to_findings(app, importer, clock=clock)
    walk_to_findings(app, other, clock=clock)
    assert findings.plan_number is not None
    verification = walk_plan(app, findings.plan_number, clock=clock)
    assert verification is not None
    year = clock().year
    return {"account": importer_account_id(importer), "other account":
            importer_account_id(other), "assessment": case_id(assessment),
            "plan": case_id(findings.plan_number), "verification": case_id(verification),
            "case file": case_file_id(importer), "other case file": case_file_id(other),
            "CA numbers": sequence_id("CA", year), "IP numbers": sequence_id("IP", year),
            "FV numbers": sequence_id("FV", year)}


def test_one_query_gives_the_aggregates_individual_loads_give(
        make_app: Callable[..., ComplianceCases], settings: Settings, clock: FakeClock,
        interval: int) -> None:
    writer = make_app(settings)
    ids = _workflow(writer, clock)
    missing = uuid.uuid4()
    snapshotted = [name for name, oid in ids.items()
                   if writer.snapshots and writer.snapshots.recorder.select_events(oid)]
    if interval == EVERY_SECOND_EVENT:
        assert len(snapshotted) >= 6, snapshotted
    else:
        assert snapshotted == []

    batch = make_app(settings).load_many([*ids.values(), missing])
    individually = make_app(settings)  # the library's repository: snapshot, then events

    assert missing not in batch
    for name, oid in ids.items():
        expected: Any = individually.repository.get(oid)
        assert type(batch[oid]) is type(expected), name
        assert batch[oid].version == expected.version, name
        assert _state(batch[oid]) == _state(expected), name


def test_hundreds_of_aggregates_at_once_are_each_found_or_absent(
        app: ComplianceCases, clock: FakeClock) -> None:
    """More aggregates than one SQLite statement takes (application.histories' ids come as
    parameters there): every one that exists is found, none that does not."""
    ids = _workflow(app, clock)
    unknown = [uuid.uuid4() for _ in range(450)]
    found = app.load_many([*unknown[:300], *ids.values(), *unknown[300:]])
    assert set(found) == set(ids.values())


def test_a_number_sequence_from_its_first_and_last_events_is_the_replayed_one(
        make_app: Callable[..., ComplianceCases], settings: Settings,
        clock: FakeClock) -> None:
    app = make_app(settings)
    ids = _workflow(app, clock)
    reader = make_app(settings)
    for name in ("CA numbers", "IP numbers", "FV numbers"):
        resumed = reader._find_first_and_last(ids[name])
        replayed: Any = reader.repository.get(ids[name])
        assert isinstance(resumed, CaseNumberSequence), name
        assert resumed.version == replayed.version, name
        assert _state(resumed) == _state(replayed), name
    assert reader._find_first_and_last(uuid.uuid4()) is None


def test_first_and_last_events_that_disagree_are_replayed_in_full(
        app: ComplianceCases, store: Settings, clock: FakeClock) -> None:
    """A sequence whose last event's number does not match its version (an edited row)
    is not resumed from its ends (CaseNumberSequence.resumed refuses it) but replayed in
    full, as an individual load replays it."""
    ids = _workflow(app, clock)
    raw = RawEvents.of(app, store)
    numbers = ids["CA numbers"]
    last = raw.versions(numbers)[-1]
    topic, state = raw.read(numbers, last)
    issued = f"CA-{clock().year}-{last - 1:05d}".encode()
    assert issued in state
    raw.rewrite(numbers, last, topic, state.replace(issued, issued[:-1] + b"9"))

    with pytest.raises(ValueError, match="is not serial"):
        CaseNumberSequence.resumed(*(app.mapper.to_domain_event(e) for e in (
            app.recorder.select_events(numbers, limit=1)[0],
            app.recorder.select_events(numbers, desc=True, limit=1)[0])))
    resumed = app._find_first_and_last(numbers)
    replayed: Any = app.repository.get(numbers)
    assert resumed is not None
    assert _state(resumed) == _state(replayed)
    assert resumed.version == last


@contextmanager
def _reads_until_the_insert(app: ComplianceCases) -> Iterator[Counter[str]]:
    """Counts the queries a step makes before its insert (loading, and the hash chain's
    lookup of each predecessor), by kind."""
    counts: Counter[str] = Counter()
    writing = [False]
    recorders: list[tuple[str, Any]] = [("events", app.recorder)]
    if app.snapshots is not None:
        recorders.append(("snapshots", app.snapshots.recorder))
    originals: list[tuple[Any, str, Any]] = []

    def counted(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not writing[0]:
                counts[label] += 1
            return original(*args, **kwargs)
        originals.append((owner, name, original))
        setattr(owner, name, wrapper)

    for label, recorder in recorders:
        counted(recorder, "select_events", f"{label}.select_events")
    counted(app.recorder, "select_histories", "select_histories")
    insert = app.recorder.insert_events

    def inserting(*args: Any, **kwargs: Any) -> Any:
        writing[0] = True
        return insert(*args, **kwargs)
    originals.append((app.recorder, "insert_events", insert))
    setattr(app.recorder, "insert_events", inserting)  # noqa: B010
    try:
        yield counts
    finally:
        for owner, name, _ in reversed(originals):
            delattr(owner, name)


def test_a_workflow_step_reads_the_store_once(
        make_app: Callable[..., ComplianceCases], settings: Settings,
        clock: FakeClock) -> None:
    app = make_app(settings)
    walk_to_findings(app, register_importer(app), clock=clock)  # the IP sequence exists
    number = ready_for_findings(app, register_importer(app), clock=clock)
    cold_number = ready_for_findings(app, register_importer(app), clock=clock)

    with _reads_until_the_insert(app) as warm:
        result = app.issue_findings(number, duty_paid=DUTY_PAID, actor=OFFICER,
                                    reason="testing complete")
    assert result.plan_number is not None
    assert warm == Counter({"select_histories": 1})

    fresh = make_app(settings)  # knows neither the case's importer nor the year
    with _reads_until_the_insert(fresh) as cold:
        fresh.issue_findings(cold_number, duty_paid=DUTY_PAID, actor=OFFICER,
                             reason="testing complete")
    assert cold == Counter({"select_histories": 2})
    assert verify_app(app).ok


def test_a_stale_read_is_refused_and_the_retry_takes_the_next_number(
        make_app: Callable[..., ComplianceCases], settings: Settings, store: Settings,
        clock: FakeClock) -> None:
    """Between the one query and the save, another process takes the next plan number:
    the save is refused (nothing written), and the step run again takes the number after
    it, so numbering stays gap-free; a stale expected version is refused up front."""
    interfere: list[Callable[[], object]] = []

    def clock_with_interference() -> Any:
        while interfere:
            interfere.pop()()
        return clock()

    app = make_app(settings, clock_with_interference)
    other = make_app(settings)
    walk_to_findings(app, register_importer(app), clock=clock)
    mine = ready_for_findings(app, register_importer(app), clock=clock)
    theirs = ready_for_findings(app, register_importer(app), clock=clock)
    stale = app.get_assessment(mine).version - 1
    raw = RawEvents.of(app, store)
    rows = raw.count()

    with pytest.raises(ConcurrencyConflictError):
        app.issue_findings(mine, duty_paid=DUTY_PAID, actor=OFFICER, reason="testing complete",
                           expected_version=stale)
    interfere.append(lambda: other.issue_findings(
        theirs, duty_paid=DUTY_PAID, actor=OFFICER, reason="testing complete"))
    with pytest.raises(ConcurrencyConflictError, match="took the next number"):
        app.issue_findings(mine, duty_paid=DUTY_PAID, actor=OFFICER, reason="testing complete")
    assert raw.count() == rows + 4  # only the other process's step

    result = app.issue_findings(mine, duty_paid=DUTY_PAID, actor=OFFICER,
                                reason="testing complete")
    assert result.plan_number == f"IP-{clock().year}-00003"
    assert other.get_assessment(theirs).state.value == "findings_issued"
    assert verify_app(app).ok
