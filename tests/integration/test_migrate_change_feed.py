"""Schema version 7 (PostgreSQL): the change feed's sequence and announcing function. A
store of version 6 lacks them, and a bulk save there would fail half-way with an SQL
error; so it is refused with the usual "run compliance migrate", and migrate creates them
(and the insert function that calls the announcer), after which bulk saves announce."""

from __future__ import annotations

import pytest
from psycopg.sql import SQL, Identifier

from application.compliance_cases import ComplianceCases
from infrastructure import change_feed_sql
from infrastructure.schema import LedgerUnavailableError, check_ledger
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from interfaces.composition import initialise_store
from tests.builders import ACTOR, registration, unique_importer_number


def _announcer_exists(tables: SqlTables) -> bool:
    assert tables.schema is not None
    with tables.transaction() as cursor:
        cursor.execute(change_feed_sql.function_exists_sql(tables.schema))
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.postgres
@pytest.mark.parametrize("store_environ", ["postgres"], indirect=True)
def test_a_version_6_store_is_refused_until_migrate_creates_the_change_feed(
        store: Settings, app: ComplianceCases) -> None:
    tables = SqlTables(app.recorder)
    assert tables.postgres
    assert tables.schema is not None
    assert _announcer_exists(tables)
    with tables.transaction() as cursor:
        cursor.execute(SQL("DROP FUNCTION {}(text[]) CASCADE").format(
            Identifier(tables.schema, change_feed_sql.FUNCTION)))
        tables.execute_in(cursor, f"UPDATE {tables.name('compliance_meta')} SET value = '6' "
                          "WHERE key = 'schema_version'")
    assert not _announcer_exists(tables)
    with pytest.raises(LedgerUnavailableError, match="run compliance migrate"):
        check_ledger(store)

    migrated = initialise_store(store)

    assert migrated.previous_version == 6
    check_ledger(store)
    assert _announcer_exists(tables)
    numbers = [unique_importer_number() for _ in range(300)]  # a bulk save: COPY
    app.register_importers([registration(number) for number in numbers], actor=ACTOR,
                           reason="register loaded after the migration")
    assert app.get_importer(numbers[-1]).importer_number == numbers[-1]
