"""Seals catch what a chain alone cannot: a removed last event, a dropped aggregate, a
re-hashed history; and a seal signed with any key but the trusted one is refused."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.compliance_cases import ComplianceCases
from domain.importer_account import importer_account_id
from domain.seal_log import SEAL_LOG_ID
from infrastructure.seal import (
    SealKeyError,
    SealRefusedError,
    create_key,
    load_private_key,
    load_public_key,
    public_key_path,
    seal_ledger,
    verify_with_seal,
)
from infrastructure.settings import Settings
from tests.builders import ACTOR, register_importer
from tests.integration.raw_store import RawEvents


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return create_key(tmp_path / "seal.key")


def three_importers(app: ComplianceCases) -> list[UUID]:
    numbers = [register_importer(app) for _ in range(3)]
    for number in numbers:
        app.set_compliance_class(number, "b", actor=ACTOR, reason="annual review")
    return [importer_account_id(n) for n in numbers]


def check(app: ComplianceCases, tmp_path: Path) -> list[str]:
    public = load_public_key(public_key_path(tmp_path / "seal.key"))
    report, seal = verify_with_seal(app.recorder, app.events, public)
    assert report.ok, report.problems
    return seal.problems


def test_a_fresh_seal_holds_and_later_events_do_not_disturb_it(
        app: ComplianceCases, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    three_importers(app)
    record = seal_ledger(app, key, "system:sealer")
    assert (record.aggregates, record.events) == (3, 6)
    register_importer(app)
    assert check(app, tmp_path) == []


@pytest.mark.parametrize("tamper", ["delete_last_event", "edit_last_event", "drop_aggregate"])
def test_tampering_that_leaves_every_chain_whole_breaks_the_seal(
        app: ComplianceCases, store: Settings, key: Ed25519PrivateKey, tmp_path: Path,
        tamper: str) -> None:
    victim = three_importers(app)[1]
    seal_ledger(app, key, "system:sealer")
    raw = RawEvents.of(app, store)
    if tamper == "delete_last_event":
        raw.delete(victim, 2)
    elif tamper == "edit_last_event":
        topic, state = raw.read(victim, 2)
        raw.rewrite(victim, 2, topic, state.replace(b'"b"', b'"aa"'))
    else:
        raw.delete(victim, 2)
        raw.delete(victim, 1)
    problems = check(app, tmp_path)
    assert len(problems) == 1
    assert "does not match the stored history" in problems[0]


def test_a_seal_signed_with_another_key_is_not_trusted(
        app: ComplianceCases, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    three_importers(app)
    seal_ledger(app, Ed25519PrivateKey.generate(), "system:intruder")
    problems = check(app, tmp_path)
    assert len(problems) == 1
    assert "not with the trusted key" in problems[0]
    assert key is not None


def test_a_broken_chain_is_never_sealed(app: ComplianceCases, store: Settings,
                                        key: Ed25519PrivateKey) -> None:
    victim = three_importers(app)[0]
    raw = RawEvents.of(app, store)
    topic, state = raw.read(victim, 1)
    raw.rewrite(victim, 1, topic, state.replace(b"annual", b"ANNUAL").replace(
        b"importer", b"IMPORTER"))
    before = raw.count()
    with pytest.raises(SealRefusedError, match="chain problem"):
        seal_ledger(app, key, "system:sealer")
    assert raw.count() == before
    assert app.find_aggregate(SEAL_LOG_ID) is None


def test_seal_keys_are_never_overwritten_and_bad_key_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "seal.key"
    create_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(SealKeyError, match="already exists"):
        create_key(path)
    with pytest.raises(SealKeyError, match="no seal key at"):
        load_private_key(tmp_path / "missing.key")
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    with pytest.raises(SealKeyError, match=r"junk\.key is not a PEM private key"):
        load_private_key(junk)
