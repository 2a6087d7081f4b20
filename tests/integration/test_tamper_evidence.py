"""The insider's attacks on the ledger, each tried on SQLite and PostgreSQL with raw SQL,
bypassing the application: `verify` must fail and name the case by its number and the
version (or the import batch and row, or the seal); clean ledgers must verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.compliance_cases import ComplianceCases
from application.errors import DamagedInputError
from domain.case_numbers import case_id
from domain.importer_account import importer_account_id
from domain.seal_log import SEAL_LOG_ID
from infrastructure.hash_chain import content_hash, split_signature
from infrastructure.seal import SealRefusedError, full_verify, seal_ledger
from infrastructure.seal_records import HEADS_TABLE
from infrastructure.settings import Settings
from infrastructure.signing_keys import load_private_key, load_public_key
from infrastructure.sql_tables import SqlTables
from infrastructure.verify import LedgerReport
from interfaces.analysis_composition import build_risk_run
from interfaces.composition import initialise_store
from projections.worker import Projections
from tests.builders import ACTOR, FakeClock, register_importer, walk_assessment
from tests.integration.raw_store import RawEvents
from tests.integration.risk_support import exercise_risk_and_targeting


@dataclass
class Ledger:
    app: ComplianceCases
    settings: Settings
    raw: RawEvents
    tables: SqlTables
    key: Ed25519PrivateKey
    importer: str
    case: str
    """An assessment's number: CA-YYYY-NNNNN."""

    @property
    def case_id(self) -> UUID:
        return case_id(self.case)

    def verify(self) -> LedgerReport:
        return full_verify(self.app.recorder,
                           load_public_key(self.settings.seal_public_key_path),
                           self.settings.seal_witness_path)

    def seal(self) -> None:
        seal_ledger(self.app, self.key, self.settings.seal_witness_path, "system:sealer")

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self.tables.transaction() as cursor:
            self.tables.execute_in(cursor, statement, params)
            try:
                return [tuple(row) for row in cursor.fetchall()]
            except Exception:
                return []


@pytest.fixture
def ledger(store: Settings, make_app: Callable[..., ComplianceCases],
           clock: FakeClock) -> Ledger:
    """Two importers, an assessment carried to testing, trade and sample batches, a risk
    run and a rule; sealed."""
    initialise_store(store)
    app = make_app()
    importer = register_importer(app)
    case = walk_assessment(app, importer, "testing", clock=clock)
    exercise_risk_and_targeting(app, clock)
    ledger = Ledger(app, store, RawEvents.of(app, store), SqlTables(app.recorder),
                    load_private_key(store.seal_key_path), importer, case)
    ledger.seal()
    return ledger


def findings(report: LedgerReport) -> list[str]:
    return [str(finding) for finding in report.findings]


def assert_found(report: LedgerReport, *fragments: str) -> None:
    """Some finding holds every fragment (the subject, the version, what happened)."""
    listed = findings(report)
    assert not report.ok
    assert any(all(f in text for f in fragments) for text in listed), listed


def forged_state(ledger: Ledger, version: int, **changes: object) -> tuple[str, bytes]:
    """The stored event at `version` with fields changed, re-linked as a forger would (the
    link recomputed, no valid signature possible)."""
    topic, state = ledger.raw.read(ledger.case_id, version)
    content, _ = split_signature(state)
    document = json.loads(content)
    document.update(changes)
    return topic, json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


# -- clean ----------------------------------------------------------------------------------


def test_a_clean_sealed_ledger_verifies_with_counts(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok, findings(report)
    assert report.events == ledger.app.recorder.max_notification_id()
    assert report.commits >= 10
    assert report.batches == 3  # trade, samples and declarations
    assert [s.number for s in report.seals] == [1]
    assert report.witness_seals == 1


def test_every_seal_links_to_the_one_before_and_covers_the_seal_log(ledger: Ledger) -> None:
    register_importer(ledger.app)
    ledger.seal()
    report = ledger.verify()
    assert report.ok, findings(report)
    first, second = report.seals
    assert second.previous == first.seal_hash
    assert str(SEAL_LOG_ID) in report.heads
    assert report.witness_seals == 2


# -- events ---------------------------------------------------------------------------------


def test_a_forged_event_appended_to_a_sealed_case_is_caught_and_not_sealed(
        ledger: Ledger) -> None:
    versions = ledger.raw.versions(ledger.case_id)
    head = versions[-1]
    topic, head_state = ledger.raw.read(ledger.case_id, head)
    link = content_hash(topic, ledger.case_id, head, split_signature(head_state)[0])
    forged = json.dumps({"_prev": link, "_scheme": 2, "actor": "user:mallory",
                         "officer": "user:mallory", "reason": "reassigned",
                         "timestamp": "2026-03-01T00:00:00+00:00"},
                        separators=(",", ":")).encode()
    ledger.raw.insert(ledger.case_id, head + 1,
                      "domain.assessment:Assessment.OfficerAssigned", forged)

    assert_found(ledger.verify(), ledger.case, f"version {head + 1}", "not covered by any "
                 "commit signature")
    with pytest.raises(SealRefusedError, match=ledger.case):
        ledger.seal()


def test_an_edited_and_re_linked_middle_event_fails_its_commit_signature(
        ledger: Ledger) -> None:
    topic, state = forged_state(ledger, 2, reason="nothing happened")
    ledger.raw.rewrite(ledger.case_id, 2, topic, state)
    # The forger also re-links version 3 to the edited content: only the key is missing.
    topic3, state3 = ledger.raw.read(ledger.case_id, 3)
    document = json.loads(split_signature(state3)[0])
    document["_prev"] = content_hash(topic, ledger.case_id, 2, state)
    ledger.raw.rewrite(ledger.case_id, 3, topic3, json.dumps(
        document, separators=(",", ":"), sort_keys=True).encode())

    report = ledger.verify()
    assert_found(report, ledger.case, "version 2", "signature")
    assert_found(report, ledger.case, "version 3")


def test_a_middle_event_deleted_is_named(ledger: Ledger) -> None:
    ledger.raw.delete(ledger.case_id, 2)
    assert_found(ledger.verify(), ledger.case, "version 3", "2 missing")


def test_the_last_event_deleted_is_caught_by_the_seal_and_never_laundered(
        ledger: Ledger) -> None:
    head = ledger.raw.versions(ledger.case_id)[-1]
    ledger.raw.delete(ledger.case_id, head)

    assert_found(ledger.verify(), ledger.case, f"version {head}", "deleted")
    with pytest.raises(SealRefusedError, match=ledger.case):
        ledger.seal()
    assert_found(ledger.verify(), ledger.case, f"version {head}", "deleted")


def test_a_whole_aggregate_dropped_is_named(ledger: Ledger) -> None:
    Projections(ledger.app).catch_up()  # the audit-log view names what left no event
    for version in reversed(ledger.raw.versions(importer_account_id(ledger.importer))):
        ledger.raw.delete(importer_account_id(ledger.importer), version)
    assert_found(ledger.verify(), ledger.importer, "whole aggregate is gone")


def test_a_changed_topic_is_named(ledger: Ledger) -> None:
    _topic, state = ledger.raw.read(ledger.case_id, 2)
    ledger.raw.rewrite(ledger.case_id, 2, "domain.assessment:Assessment.Cancelled", state)
    assert_found(ledger.verify(), ledger.case, "version 2")


def test_two_events_swapped_are_named(ledger: Ledger) -> None:
    topic2, state2 = ledger.raw.read(ledger.case_id, 2)
    topic3, state3 = ledger.raw.read(ledger.case_id, 3)
    ledger.raw.rewrite(ledger.case_id, 2, topic3, state3)
    ledger.raw.rewrite(ledger.case_id, 3, topic2, state2)
    assert_found(ledger.verify(), ledger.case, "version 2")


def test_an_edited_snapshot_is_named(store: Settings,
                                     make_app: Callable[..., ComplianceCases]) -> None:
    from infrastructure.snapshot_check import verify_snapshots

    initialise_store(store)
    app = make_app()
    number = register_importer(app)
    for i in range(store.snapshot_interval + 1):
        app.set_compliance_class(number, "abc"[i % 3], actor=ACTOR, reason="review")
    assert app.snapshots is not None
    account = importer_account_id(number)
    snapshot = next(iter(app.snapshots.recorder.select_events(account, desc=True, limit=1)))
    raw = RawEvents(store, getattr(app.snapshots.recorder, "events_table_name", ""))
    raw.rewrite(account, snapshot.originator_version, snapshot.topic,
                snapshot.state.replace(b"Acme Imports Ltd", b"Acme Imports Ltf", 1))
    report = full_verify(app.recorder, load_public_key(store.seal_public_key_path),
                         store.seal_witness_path)
    checked, problems = verify_snapshots(app.events, app.snapshots, report.heads)
    assert checked == 1
    from infrastructure.case_names import name_subjects
    name_subjects(app.recorder, problems)
    assert any(number in str(p) and "snapshot" in str(p) for p in problems), problems


# -- seals and the witness ------------------------------------------------------------------


def _delete_seal_log(ledger: Ledger, keep: int = 0) -> None:
    for version in reversed(ledger.raw.versions(SEAL_LOG_ID)):
        if version > keep:
            ledger.raw.delete(SEAL_LOG_ID, version)


def test_every_seal_deleted_is_caught_by_the_witness(ledger: Ledger) -> None:
    _delete_seal_log(ledger)
    ledger.sql(f"DELETE FROM {ledger.tables.name(HEADS_TABLE)}")
    assert_found(ledger.verify(), "seal log", "the witness 1", "removed or rolled back")


def test_a_seal_rolled_back_with_the_events_only_it_covered_is_caught(ledger: Ledger) -> None:
    register_importer(ledger.app)
    ledger.seal()
    latest = ledger.raw.versions(SEAL_LOG_ID)[-1]
    ledger.raw.delete(SEAL_LOG_ID, latest)
    assert_found(ledger.verify(), "seal log", "seal 2 removed or rolled back")


def test_a_seal_signed_by_another_key_is_caught(ledger: Ledger) -> None:
    from infrastructure.seal_records import SealRecord

    other = Ed25519PrivateKey.generate()
    versions = ledger.raw.versions(SEAL_LOG_ID)
    topic, state = ledger.raw.read(SEAL_LOG_ID, versions[-1])
    document = json.loads(split_signature(state)[0])
    record = SealRecord.from_plain(document)
    document["signature"] = other.sign(record.message()).hex()
    ledger.raw.rewrite(SEAL_LOG_ID, versions[-1], topic,
                       json.dumps(document, separators=(",", ":"), sort_keys=True).encode())
    assert_found(ledger.verify(), "seal 1", "signature")


def test_a_truncated_or_missing_witness_is_caught(ledger: Ledger) -> None:
    witness: Path = ledger.settings.seal_witness_path
    witness.write_text("")
    assert_found(ledger.verify(), "seal", "witness")
    witness.unlink()
    assert_found(ledger.verify(), "seal witness", "missing")


# -- ingested rows --------------------------------------------------------------------------


def _one_row(ledger: Ledger, table: str, columns: str) -> tuple[object, ...]:
    return ledger.sql(f"SELECT {columns} FROM {ledger.tables.name(table)} "
                      "ORDER BY entry_number, line LIMIT 1")[0]


def test_an_edited_sample_row_is_named_and_the_risk_run_refuses_it(ledger: Ledger) -> None:
    entry, line = _one_row(ledger, "compliance_samples", "entry_number, line")
    ledger.sql(f"UPDATE {ledger.tables.name('compliance_samples')} "
               "SET revenue_loss_cents = revenue_loss_cents + 1 "
               "WHERE entry_number = ? AND line = ?", (entry, line))
    assert_found(ledger.verify(), "import batch samples.csv", f"entry_number={entry}",
                 "edited")
    with pytest.raises(DamagedInputError, match=r"samples\.csv"):
        build_risk_run(ledger.app).assess(2026, actor="system:risk")


def test_altered_inputs_are_reported_before_any_other_failure_of_the_run(
        ledger: Ledger) -> None:
    """The run sends its input check only once its reads are in; a run that fails before
    then (no samples in the year asked for) still reports the altered rows, and records
    nothing."""
    entry, line = _one_row(ledger, "compliance_samples", "entry_number, line")
    ledger.sql(f"UPDATE {ledger.tables.name('compliance_samples')} "
               "SET revenue_loss_cents = revenue_loss_cents + 1 "
               "WHERE entry_number = ? AND line = ?", (entry, line))
    runs = ledger.sql(f"SELECT count(*) FROM {ledger.tables.name('risk_runs')}")[0]
    with pytest.raises(DamagedInputError, match=r"samples\.csv"):
        build_risk_run(ledger.app).assess(1999, actor="system:risk")
    assert ledger.sql(f"SELECT count(*) FROM {ledger.tables.name('risk_runs')}")[0] == runs


def test_a_deleted_and_an_added_sample_row_are_reported_by_batch(ledger: Ledger) -> None:
    entry, line = _one_row(ledger, "compliance_samples", "entry_number, line")
    table = ledger.tables.name("compliance_samples")
    columns = ("batch_id, entry_number, line, importer_number, exam_date, hs_code, "
               "origin_country, entered_value_cents, selection, discrepancy, "
               "discrepancy_type, revenue_loss_cents, row_digest")
    ledger.sql(f"INSERT INTO {table} ({columns}) SELECT batch_id, 'FORGED1', line, "
               "importer_number, exam_date, hs_code, origin_country, entered_value_cents, "
               "selection, discrepancy, discrepancy_type, revenue_loss_cents, row_digest "
               f"FROM {table} WHERE entry_number = ? AND line = ?", (entry, line))
    report = ledger.verify()
    assert_found(report, "import batch samples.csv", "entry_number=FORGED1")
    assert_found(report, "import batch samples.csv", "more than")
    ledger.sql(f"DELETE FROM {table} WHERE entry_number IN (?, 'FORGED1')", (entry,))
    assert_found(ledger.verify(), "import batch samples.csv", "deleted after import")


def test_a_seal_whose_witness_write_was_lost_is_reappended_by_the_next_seal(
        ledger: Ledger) -> None:
    witness: Path = ledger.settings.seal_witness_path
    witness.write_text("")  # the crash between the database commit and the witness write
    assert_found(ledger.verify(), "seal witness", "truncated")
    ledger.seal()
    assert [json.loads(line)["number"] for line in witness.read_text().splitlines()] == [1, 2]
    assert ledger.verify().ok
