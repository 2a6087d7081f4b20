"""The tamper evidence as an auditor meets it at the shell: `seal`, `verify` and their exit
codes on both stores, key files created private, and a missing trusted key is a failure."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from domain.case_numbers import case_id
from infrastructure.hash_chain import content_hash, split_signature
from infrastructure.settings import load_settings
from tests.e2e.cli import Cli
from tests.integration.raw_store import RawEvents

IMPORTER = "24-1234567AB"


def _case(cli: Cli) -> str:
    cli.ok("accounts", "register", "--importer-number", IMPORTER, "--name", "Acme Imports",
           "--district", "11", "--industry", "61", "--registered-on", "2020-01-01",
           "--actor", "user:registrar", "--reason", "new importer")
    opened = cli.ok("assessments", "open", IMPORTER, "--origin", "risk_selection",
                    "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                    "--scope", "classification", "--actor", "user:analyst",
                    "--reason", "risk", "--json").json()
    number = str(opened["number"])
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7",
           "--actor", "user:sup", "--reason", "workload")
    return number


def _raw(cli: Cli) -> RawEvents:
    settings = load_settings(cli.env)
    table = "stored_events" if settings.database_url is None else "compliancecases_events"
    return RawEvents(settings, table)


def test_seal_verify_and_a_forged_append_at_the_shell(cli: Cli) -> None:
    number = _case(cli)
    sealed = cli.ok("seal")
    assert "seal 1:" in sealed.out
    clean = cli.ok("verify")
    assert "intact" in clean.out

    raw = _raw(cli)
    aggregate = case_id(number)
    head = raw.versions(aggregate)[-1]
    topic, state = raw.read(aggregate, head)
    link = content_hash(topic, aggregate, head, split_signature(state)[0])
    raw.insert(aggregate, head + 1, "domain.assessment:Assessment.OfficerAssigned",
               json.dumps({"_prev": link, "_scheme": 2, "actor": "user:mallory",
                           "officer": "user:mallory", "reason": "x",
                           "timestamp": "2026-03-01T00:00:00Z"},
                          separators=(",", ":")).encode())

    found = cli("verify")
    assert found.code == 1
    assert f"TAMPERED: {number} version {head + 1}: not covered by any commit signature" \
        in found.err
    assert "Traceback" not in found.err + found.out
    refused = cli("seal")
    assert refused.code == 1
    assert number in refused.err
    assert "does not verify" in refused.err
    witness = load_settings(cli.env).seal_witness_path.read_text().splitlines()
    assert len(witness) == 1  # nothing was sealed over the forgery


def test_a_missing_trusted_public_key_fails_verify(cli: Cli, tmp_path: Path) -> None:
    _case(cli)
    cli.ok("seal")
    missing = Cli({**cli.env, "COMPLIANCE_SEAL_PUBLIC_KEY": str(tmp_path / "nowhere.pub")})
    result = missing("verify")
    assert result.code == 1
    assert "no trusted public key" in result.err


def test_key_files_are_private_from_creation_and_writing_needs_the_key(
        sqlite_cli: Cli) -> None:
    settings = load_settings(sqlite_cli.env)
    key, folder = settings.seal_key_path, settings.seal_key_path.parent
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    verified = sqlite_cli.ok("verify")
    assert "sits under the database's folder" in verified.out

    sqlite_cli.provision(["user:registrar"])  # its user is added while there is a key
    events = sqlite_cli.events()
    os.rename(key, key.with_suffix(".away"))
    refused = sqlite_cli("accounts", "register", "--importer-number", IMPORTER, "--name",
                         "Acme", "--district", "11", "--industry", "61",
                         "--registered-on", "2020-01-01", "--actor", "user:registrar",
                         "--reason", "new importer")
    assert refused.code == 6
    assert "no signing key at" in refused.err
    assert sqlite_cli.events() == events
    assert sqlite_cli.ok("verify").code == 0  # reading needs only the public key
