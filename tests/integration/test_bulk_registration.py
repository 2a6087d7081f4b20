"""Bulk registration commits a batch at a time; a batch that meets an importer already on
file falls back to one by one, and every importer it reports as registered is stored."""

from __future__ import annotations

from application.compliance_cases import ComplianceCases
from tests.builders import ACTOR, register_importer, registration
from tests.ledger_check import verify_app


def test_a_bulk_run_registers_every_new_importer_in_every_batch(
        app: ComplianceCases) -> None:
    batch = [registration() for _ in range(5)]
    progress: list[int] = []

    result = app.register_importers(batch, actor=ACTOR, reason="annual import",
                                    batch_size=2, progress=progress.append)

    assert (result.registered, result.already_registered) == (5, 0)
    assert progress == [2, 2, 1]
    assert [app.get_importer(r.importer_number).legal_name for r in batch] == [
        "Acme Imports Ltd"] * 5
    assert verify_app(app).events == 5


def test_a_repeated_bulk_run_stores_the_new_importers_and_leaves_known_ones_alone(
        app: ComplianceCases) -> None:
    known = register_importer(app)
    first = [registration() for _ in range(3)]
    app.register_importers(first, actor=ACTOR, reason="first import", batch_size=10)
    newcomers = [registration() for _ in range(3)]
    rerun = [registration(known), *first, *newcomers]

    result = app.register_importers(rerun, actor=ACTOR, reason="second import",
                                    batch_size=3)

    assert (result.registered, result.already_registered) == (3, 4)
    for newcomer in newcomers:
        assert app.get_importer(newcomer.importer_number).version == 1
    report = verify_app(app)
    # Counted, not read off the last notification id: PostgreSQL skips the ids a
    # rolled-back batch had drawn.
    assert report.ok
    assert (report.events, report.aggregates) == (1 + 3 + 3, 7)
