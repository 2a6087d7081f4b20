"""A view that cannot apply an event stops naming that event's notification id, not the last
one of the batch it was in: the database refuses a whole batch at once (one pipeline, one
transaction), so the runner replays it event by event, rolled back, to find the culprit.

On PostgreSQL this is what a NUL byte stored before free text was checked does to every view
that copies the text (PostgreSQL refuses NUL in text); the culprit is named by `compliance
project` (exit 7), and the text is printed escaped by `history`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

import pytest

from application.compliance_cases import ComplianceCases
from domain.importer_account import ImporterAccount, Registration, importer_account_id
from projections.rows import Rows
from projections.runner import ProjectionFailedError, ViewRunner
from projections.view import Handler, View
from projections.worker import Projections
from tests.builders import ACTOR, register_importer, unique_importer_number
from tests.e2e.cli import Cli


def _unique_name(rows: Rows, event: Any, notification_id: int) -> None:
    # no conflict handling: a second importer of the same name breaks the primary key
    rows.insert("un_names", (event.legal_name, notification_id), on_conflict=None)


class UniqueNames(View):
    """A view whose statement the database refuses for some events only."""

    name = "unique_names"
    tables: ClassVar[dict[str, str]] = {
        "un_names": "legal_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL"}
    handlers: ClassVar[dict[type[Any], Handler]] = {ImporterAccount.Registered: _unique_name}


def registered_at(app: ComplianceCases, number: str) -> int:
    """The notification id of an importer's Registered event."""
    account = importer_account_id(number)
    return next(n.id for n in app.recorder.select_notifications(start=1, limit=10_000)
                if n.originator_id == account and n.originator_version == 1)


def test_a_batch_the_database_refuses_is_reported_at_the_event_that_broke_it(
        app: ComplianceCases) -> None:
    projections = Projections(app)
    projections.store.create(UniqueNames)
    first = register_importer(app, legal_name="Alpha Trading")
    register_importer(app, legal_name="Beta Trading")
    again = register_importer(app, legal_name="Alpha Trading")  # the primary key breaks here
    register_importer(app, legal_name="Gamma Trading")
    register_importer(app, legal_name="Delta Trading")
    last = app.recorder.max_notification_id()
    runner = ViewRunner(projections.store, app.recorder, app.mapper,
                        UniqueNames(projections.store.tracking, projections.store))

    with pytest.raises(ProjectionFailedError) as failure:
        runner.catch_up()  # all five registrations in one batch

    culprit = registered_at(app, again)
    assert culprit not in (registered_at(app, first), last)
    assert failure.value.notification_id == culprit
    assert f"view unique_names stopped at notification {culprit}:" in str(failure.value)
    assert runner.position() == 0  # nothing of the batch was kept, so none is skipped
    assert projections.store.rows("SELECT COUNT(*) FROM " +
                                  projections.store.qualified("un_names")) == [(0,)]


@pytest.mark.parametrize("store_environ", [
    pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_nul_stored_before_text_was_checked_stops_postgres_views_at_its_own_event(
        app: ComplianceCases, store_environ: Mapping[str, str]) -> None:
    register_importer(app, legal_name="Before Trading")
    # A registration built around the parser, as a ledger written before the check holds.
    number = unique_importer_number()
    app.register_importer(Registration(number, "Acme\x00 Ltd", "11", "73", date(2020, 1, 15)),
                          actor=ACTOR, reason="registered before free text was checked")
    culprit = registered_at(app, number)
    register_importer(app, legal_name="After Trading")
    register_importer(app, legal_name="Later Trading")
    assert app.recorder.max_notification_id() > culprit

    with pytest.raises(ProjectionFailedError) as failure:
        Projections(app).catch_up()
    assert failure.value.notification_id == culprit

    cli = Cli(dict(store_environ))
    stopped = cli("project", "--once")
    assert stopped.code == 7, stopped.err
    assert f"stopped at notification {culprit}:" in stopped.err
    assert "\x00" not in stopped.err
    history = cli.ok("history", number)
    assert "Acme\\x00 Ltd" in history.out
    assert "\x00" not in history.out
