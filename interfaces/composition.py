"""The one composition root: settings -> database -> application. The analysis services
(ingest, risk, targeting) are composed in interfaces.analysis_composition, which loads
numpy, scipy and pyarrow: commands that do not need them start faster."""

from __future__ import annotations

from datetime import UTC, datetime

from application.compliance_cases import ComplianceCases
from application.ports import Clock
from infrastructure.settings import Settings
from infrastructure.stores import (
    ChainedStorage,
    DatabaseUnavailableError,
    prepare_database,
    store_environment,
    table_creation_lock,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_application(settings: Settings, clock: Clock = utc_now) -> ComplianceCases:
    prepare_database(settings)
    try:
        with table_creation_lock(settings):
            return ComplianceCases(store_environment(settings), storage=ChainedStorage(),
                                   clock=clock, workflow=settings.workflow,
                                   snapshot_interval=settings.snapshot_interval)
    except Exception as error:
        if type(error).__module__.startswith(("psycopg", "eventsourcing", "sqlite3")):
            raise DatabaseUnavailableError(
                f"cannot open the event store ({settings.describe}): {error}") from error
        raise
