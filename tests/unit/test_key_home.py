"""Where the signing key and the seal witness live when no setting names them: one folder
per store, so two SQLite files side by side never share a witness (the second store's
`verify` would count the first one's seals as missing: a false alarm of tampering)."""

from __future__ import annotations

from pathlib import Path

from infrastructure.settings import load_settings


def test_the_default_store_keeps_its_keys_beside_it() -> None:
    settings = load_settings({})
    assert settings.seal_key_path == Path("var/keys/seal.key")
    assert settings.seal_witness_path == Path("var/keys/seal-witness.jsonl")


def test_another_file_in_the_same_folder_gets_its_own_keys() -> None:
    tour = load_settings({"COMPLIANCE_SQLITE_PATH": "var/tour.db"})
    assert tour.seal_key_path == Path("var/keys/tour/seal.key")
    assert tour.seal_witness_path == Path("var/keys/tour/seal-witness.jsonl")
    assert tour.seal_witness_path != load_settings({}).seal_witness_path


def test_postgresql_keeps_its_keys_per_schema() -> None:
    settings = load_settings({"COMPLIANCE_DATABASE_URL": "postgresql://u@h:5432/db",
                              "COMPLIANCE_POSTGRES_SCHEMA": "district11"})
    assert settings.seal_key_path == Path("var/keys/district11/seal.key")


def test_a_named_key_and_witness_win() -> None:
    settings = load_settings({"COMPLIANCE_SQLITE_PATH": "var/tour.db",
                              "COMPLIANCE_SEAL_KEY": "/secure/k.key",
                              "COMPLIANCE_SEAL_WITNESS": "/elsewhere/w.jsonl"})
    assert settings.seal_key_path == Path("/secure/k.key")
    assert settings.seal_witness_path == Path("/elsewhere/w.jsonl")
