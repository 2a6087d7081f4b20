"""Bulk registration writes its Registered events as rows (application.event_rows), without
an aggregate per importer. The rows it stores are exactly those one by one registration
stores for the same input (ids, versions, topics, state bytes with their chain links; only
the commit signatures differ, as the events are grouped into other commits); a bad
registration anywhere in the input refuses the whole run, naming it, before anything is
written; the views see the events; a row that is not its event's shape is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import uuid4

import pyarrow as pa
import pytest

from application.compliance_cases import ComplianceCases
from application.event_rows import ColumnChunk, Same, rows_from_columns
from domain.errors import InvalidValueError, RuleViolationError
from domain.importer_account import AccountStatus, ImporterAccount, Registration
from infrastructure.bulk_events import MADE_AT_ONCE, RowFieldsError
from projections.catalogue import VIEWS
from projections.queries import account_register
from projections.worker import Projections
from tests.builders import ACTOR, START, FakeClock, registration
from tests.integration.twin_stores import stored_rows, twin_app
from tests.ledger_check import verify_app

__all__ = ["twin_app"]  # the fixture, used by name

REASON = "registered from the national register"
NAMES = ('Acme "Quoted" Imports Ltd', "Société Générale d\u2019Import", "Jade River 玉河 Trading",
         "O'Brien & Sons \\ Partners", "Summit Foods")


def varied(count: int = 23) -> list[Registration]:
    return [registration(legal_name=NAMES[i % len(NAMES)], district=f"{1 + i % 42:02d}",
                         industry=("73", "64", "03", "87")[i % 4],
                         registered_on=date(2000 + i % 20, 1 + i % 12, 1 + i % 28))
            for i in range(count)]


def test_bulk_registration_stores_the_rows_one_by_one_registration_stores(
        app: ComplianceCases, twin_app: ComplianceCases) -> None:
    registrations = varied()
    for entry in registrations:
        app.register_importer(entry, actor=ACTOR, reason=REASON)

    result = twin_app.register_importers(registrations, actor=ACTOR, reason=REASON,
                                         batch_size=5)

    assert (result.registered, result.already_registered) == (len(registrations), 0)
    bulk = stored_rows(twin_app)
    assert bulk == stored_rows(app)
    assert len(bulk) == len(registrations)
    report = verify_app(twin_app)
    assert report.ok, report
    assert report.events == len(registrations)
    for entry in registrations:
        one, other = app.get_importer(entry.importer_number), twin_app.get_importer(
            entry.importer_number)
        assert (other.id, other.version, other.legal_name, other.registered_on,
                other.status) == (one.id, 1, entry.legal_name, entry.registered_on,
                                  AccountStatus.ACTIVE)


def test_the_views_see_the_bulk_registered_importers(
        app: ComplianceCases, twin_app: ComplianceCases) -> None:
    registrations = varied(12)
    for entry in registrations:
        app.register_importer(entry, actor=ACTOR, reason=REASON)
    twin_app.register_importers(registrations, actor=ACTOR, reason=REASON, batch_size=5)

    viewed = []
    for each in (app, twin_app):
        projections = Projections(each)
        projections.catch_up([VIEWS["account_register"]])
        viewed.append(account_register(projections.store))

    assert viewed[1] == viewed[0]
    assert [row["importer_number"] for row in viewed[1]] == sorted(
        entry.importer_number for entry in registrations)


def test_a_registration_dated_after_today_refuses_the_whole_run_naming_it(
        app: ComplianceCases, clock: FakeClock) -> None:
    registrations = varied(12)
    late = registration(registered_on=clock.now.date() + timedelta(days=1))
    registrations.insert(9, late)  # in the third batch of four: two would be written first

    with pytest.raises(RuleViolationError) as refused:
        app.register_importers(registrations, actor=ACTOR, reason=REASON, batch_size=4)

    assert refused.value.rule == "RegistrationDateIsNotInTheFuture"
    assert f"importer {late.importer_number}: registered_on " in str(refused.value)
    assert stored_rows(app) == []


@pytest.mark.parametrize(("field", "terms"), [
    ("actor", {"actor": "wang", "reason": REASON}),
    ("reason", {"actor": ACTOR, "reason": "   "}),
])
def test_bad_terms_are_refused_naming_the_field_before_anything_is_written(
        app: ComplianceCases, field: str, terms: dict[str, str]) -> None:
    with pytest.raises(InvalidValueError) as refused:
        app.register_importers(varied(5), batch_size=2, **terms)
    assert refused.value.field == field
    assert stored_rows(app) == []


def test_an_importer_repeated_in_the_input_is_registered_once(app: ComplianceCases) -> None:
    registrations = varied(7)
    repeated = [*registrations[:3], registrations[1], *registrations[3:], registrations[6]]

    result = app.register_importers(repeated, actor=ACTOR, reason=REASON, batch_size=3)

    assert (result.registered, result.already_registered) == (7, 2)
    assert len(stored_rows(app)) == 7
    assert verify_app(app).ok


def test_a_row_that_is_not_its_events_shape_is_refused_and_nothing_is_written(
        app: ComplianceCases) -> None:
    rows = app.event_rows()
    fields = {"timestamp": START, "originator_topic": "domain.importer_account:ImporterAccount",
              "actor": ACTOR, "reason": REASON, "importer_number": "12-3456789AB",
              "legal_name": "Acme", "district": "11", "industry": "73",
              "registered_on": date(2020, 1, 1)}
    good = (uuid4(), 1, dict(fields))
    missing = {name: value for name, value in fields.items() if name != "district"}
    with pytest.raises(RowFieldsError, match="missing \\['district'\\]"):
        rows.append(ImporterAccount.Registered, [good, (uuid4(), 1, missing)])
    with pytest.raises(RowFieldsError, match="would not load"):
        rows.append(ImporterAccount.Registered,
                    [(uuid4(), 1, {**fields, "registered_on": "the first of May"})])
    order = rows.fields(ImporterAccount.Registered)
    with pytest.raises(RowFieldsError, match="carries 8 values for its 9 fields"):
        rows.append(ImporterAccount.Registered,
                    [(uuid4(), 1, tuple(fields[name] for name in order[:-1]))])
    with pytest.raises(ValueError, match="not the event's fields"):
        rows_from_columns(order, [uuid4()], [1], {"district": ["11"]})
    assert stored_rows(app) == []


def test_what_is_written_beside_the_rows_commits_with_them_or_not_at_all(
        app: ComplianceCases) -> None:
    app.register_importers(varied(3), actor=ACTOR, reason=REASON)
    before = stored_rows(app)

    def fail(_cursor: object) -> None:
        raise RuntimeError("the other table could not be written")

    with pytest.raises(RuntimeError, match="could not be written"):
        app.event_rows().append(ImporterAccount.Registered,
                                [(uuid4(), 1, _fields("98-7654321ZZ"))], write_also=fail)
    assert stored_rows(app) == before


def test_a_bad_row_after_many_refuses_the_rows_already_sent_and_the_tables_beside_them(
        app: ComplianceCases) -> None:
    # On PostgreSQL the rows are made on a thread while the other tables are written, and
    # the COPY takes each chunk once made: a bad row in a later chunk (MADE_AT_ONCE rows
    # each) must still leave nothing written, neither the earlier chunks nor the tables.
    before = stored_rows(app)
    written: list[bool] = []
    rows = [(uuid4(), 1, _fields(f"98-{i:07d}ZZ")) for i in range(MADE_AT_ONCE + 500)]
    broken = dict(rows[-1][2])
    del broken["district"]
    rows[-1] = (rows[-1][0], 1, broken)

    with pytest.raises(RowFieldsError, match="missing \\['district'\\]"):
        app.event_rows().append(ImporterAccount.Registered, rows,
                                write_also=lambda _cursor: written.append(True))
    assert stored_rows(app) == before


def test_a_later_row_links_to_its_aggregates_head_read_from_the_store(
        app: ComplianceCases, clock: FakeClock) -> None:
    entry = varied(1)[0]
    app.register_importers([entry], actor=ACTOR, reason=REASON)
    account = app.get_importer(entry.importer_number)
    clock.advance()

    app.event_rows().append(ImporterAccount.Suspended, [
        (account.id, 2, {"timestamp": clock.now, "actor": ACTOR, "reason": "unpaid duty"})])

    assert app.get_importer(entry.importer_number).status == AccountStatus.SUSPENDED
    report = verify_app(app)
    assert report.ok, report
    assert report.events == 2


def _fields(number: str) -> dict[str, object]:
    return {"timestamp": START, "originator_topic": "domain.importer_account:ImporterAccount",
            "actor": ACTOR, "reason": REASON, "importer_number": number,
            "legal_name": "Acme", "district": "11", "industry": "73",
            "registered_on": date(2020, 1, 1)}


def test_a_batch_of_importers_all_met_before_writes_nothing_and_reports_progress(
        app: ComplianceCases) -> None:
    registrations = varied(3)
    progress: list[int] = []

    result = app.register_importers([*registrations, *registrations], actor=ACTOR,
                                    reason=REASON, batch_size=3, progress=progress.append)

    assert (result.registered, result.already_registered) == (3, 3)
    assert progress == [3, 3]
    assert len(stored_rows(app)) == 3


class _Columns(list[tuple[object, int, dict[str, object]]]):
    """Rows that can also be taken as chunks of columns (application.event_rows
    ColumnRows), the form a risk run gives."""

    def __init__(self, rows: list[tuple[object, int, dict[str, object]]],
                 chunks: list[ColumnChunk]) -> None:
        super().__init__(rows)
        self.chunks = chunks

    def column_chunks(self) -> Iterator[ColumnChunk]:
        return iter(self.chunks)


def test_events_given_as_columns_store_the_rows_given_one_by_one(
        app: ComplianceCases, twin_app: ComplianceCases, clock: FakeClock) -> None:
    """Column-wise encoding (texts that need escaping or not, numbers, constants), links
    to heads read from the store, and a chunk with two events of one aggregate (encoded
    row by row): the same stored rows as the rows given one by one, and a chain that
    verifies."""
    entries = varied(6)
    for each in (app, twin_app):
        each.register_importers(entries, actor=ACTOR, reason=REASON)
    ids = [app.get_importer(entry.importer_number).id for entry in entries]
    clock.advance()
    reasons = ["unpaid duty", 'a "quoted" reason', "été \\ payé", "plain", "x", "y", "z"]
    first = ColumnChunk(ids[:4], [2, 2, 2, 2], {
        "timestamp": Same(clock.now), "actor": Same(ACTOR),
        "reason": pa.array(reasons[:4], pa.string())})
    second = ColumnChunk([ids[4], ids[5], ids[4]], [2, 2, 3], {
        "timestamp": Same(clock.now), "actor": Same(ACTOR),
        "reason": ["plain", "x", 'and "y"']})
    rows = [(ids[k], 2, {"timestamp": clock.now, "actor": ACTOR, "reason": reasons[k]})
            for k in range(4)]
    rows += [(ids[4], 2, {"timestamp": clock.now, "actor": ACTOR, "reason": "plain"}),
             (ids[5], 2, {"timestamp": clock.now, "actor": ACTOR, "reason": "x"}),
             (ids[4], 3, {"timestamp": clock.now, "actor": ACTOR, "reason": 'and "y"'})]

    app.event_rows().append(ImporterAccount.Suspended, rows)
    twin_app.event_rows().append(ImporterAccount.Suspended, _Columns(rows, [first, second]))

    assert stored_rows(twin_app) == stored_rows(app)
    for each in (app, twin_app):
        report = verify_app(each)
        assert report.ok, report
        assert report.events == 13
