"""`verify` for tests that build a ledger in-process: every check with the app's own key."""

from __future__ import annotations

from pathlib import Path

from application.compliance_cases import ComplianceCases
from infrastructure.event_store import ChainedEventStore
from infrastructure.verify import LedgerReport, verify_ledger


def verify_app(app: ComplianceCases, witness: Path | None = None) -> LedgerReport:
    events = app.events
    assert isinstance(events, ChainedEventStore)
    return verify_ledger(app.recorder, events.signer.key.public_key(),
                         witness or Path("/nonexistent/seal-witness.jsonl"))
