"""A second store of the same kind as the test's own (a SQLite file beside it, or a schema
of its own on the same PostgreSQL), for tests that do the same thing two ways and compare
the rows each stores. Both stores share the test's signing key and clock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from application.compliance_cases import ComplianceCases
from infrastructure.hash_chain import split_signature
from infrastructure.settings import load_settings
from interfaces.composition import build_application, initialise_store
from tests.builders import FakeClock
from tests.conftest import drop_schema, unique_schema


@pytest.fixture
def twin_app(store_environ: Mapping[str, str], tmp_path: Path,
             clock: FakeClock) -> Iterator[ComplianceCases]:
    environ = dict(store_environ)
    schema = None
    if "COMPLIANCE_DATABASE_URL" in environ:
        schema = unique_schema()
        environ["COMPLIANCE_POSTGRES_SCHEMA"] = schema
    else:
        environ["COMPLIANCE_SQLITE_PATH"] = str(tmp_path / "twin.db")
    settings = load_settings(environ)
    initialise_store(settings)
    app = build_application(settings, clock=clock, access_control=False)
    try:
        yield app
    finally:
        app.close()
        if schema is not None:
            drop_schema(environ["COMPLIANCE_DATABASE_URL"], schema)


StoredRow = tuple[str, int, str, bytes]


def stored_rows(app: ComplianceCases, topic_suffix: str = "") -> list[StoredRow]:
    """Every stored event in log order as (aggregate id, version, topic, state), the state
    without its commit signature (which differs by how events were grouped into commits,
    and is checked by verify)."""
    rows = []
    start = 1
    while True:
        page = app.recorder.select_notifications(start, 1000)
        if not page:
            return rows
        for notification in page:
            if notification.topic.endswith(topic_suffix):
                content, _ = split_signature(notification.state)
                rows.append((str(notification.originator_id),
                             notification.originator_version, notification.topic, content))
        start = page[-1].id + 1
