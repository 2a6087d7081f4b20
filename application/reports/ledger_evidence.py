"""The proof a dossier carries, so a reader can check the paper against the ledger: the
case's stored events attached as canonical JSON, and the port through which the report
builders learn what only the store knows (log positions, content hashes, the public key).

The attachment (`events.json`) holds the stored events exactly as stored: for each, its
aggregate id, version, topic and stored state decoded as JSON, chain link (`_prev`),
scheme and any commit signature (`~n`, `~sig`) included. Canonical form, so that
`report verify` can recompute it from the store and compare bytes:

    {"events":[{"originator_id":"<uuid>","originator_version":1,"state":{...},
     "topic":"<module:Class.Event>"}, ...],"format":"compliance-ledger-dossier-events/1"}

UTF-8 JSON with keys sorted at every level, no whitespace (`,` and `:` separators), non-ASCII
characters written as themselves, one trailing newline; events in the order the dossier lists
its aggregates (the subject first, then the importer's cases in the order they were opened),
each aggregate's events by version. Recompute with `dossier_events(app, ids, versions=...)`,
taking the ids and last versions from the attachment itself (`attached_versions`): events
recorded after the dossier was issued do not make it differ, an edited or removed one does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.compliance_cases import ComplianceCases

EVENTS_FORMAT = "compliance-ledger-dossier-events/1"
EVENTS_NAME = "events.json"


class LedgerEvidence(Protocol):
    """What the store knows about its events beyond the library's API (provided by
    infrastructure.report_evidence.StoreEvidence)."""

    def notification_ids(self, originator_id: UUID, up_to: int) -> list[int]:
        """The log positions of an aggregate's events recorded at or before `up_to`, in
        version order."""
        ...

    def content_hash(self, event: StoredEvent) -> str:
        """The chain's content hash of one stored event (what the next event links to)."""
        ...

    def key_fingerprint(self) -> str | None:
        """The ledger's public key fingerprint (the key id seals record), None when the
        key is not available to this process."""
        ...


def _plain_event(stored: StoredEvent) -> dict[str, Any]:
    try:
        state = json.loads(bytes(stored.state))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"stored event {stored.originator_id} version "
                         f"{stored.originator_version} is not JSON: {error}") from None
    return {"originator_id": str(stored.originator_id),
            "originator_version": stored.originator_version,
            "topic": stored.topic, "state": state}


def canonical_json(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def stored_events(app: ComplianceCases, case_ids: Sequence[UUID],
                  versions: Mapping[UUID, int] | None = None) -> list[StoredEvent]:
    """Each aggregate's stored events in the order given, by version, up to its version
    in `versions` when one is given there."""
    events: list[StoredEvent] = []
    for case in case_ids:
        limit = None if versions is None else versions.get(case)
        events.extend(app.events.recorder.select_events(case, lte=limit))
    return events


def dossier_events(app: ComplianceCases, case_ids: Sequence[UUID], *,
                   versions: Mapping[UUID, int] | None = None) -> bytes:
    """The canonical JSON of the aggregates' stored events (see the module docstring)."""
    return events_json(stored_events(app, case_ids, versions))


def events_json(events: Sequence[StoredEvent]) -> bytes:
    return canonical_json({"format": EVENTS_FORMAT,
                           "events": [_plain_event(e) for e in events]})


def attached_versions(attachment: bytes) -> tuple[list[UUID], dict[UUID, int]]:
    """The aggregates an `events.json` covers, in its order, and the last version of each:
    what `dossier_events` needs to recompute it. ValueError when it is not one."""
    try:
        data = json.loads(attachment.decode("utf-8"))
        if data.get("format") != EVENTS_FORMAT:
            raise ValueError(f"not a {EVENTS_FORMAT} attachment")
        order: list[UUID] = []
        versions: dict[UUID, int] = {}
        for event in data["events"]:
            case = UUID(event["originator_id"])
            if case not in versions:
                order.append(case)
            versions[case] = max(versions.get(case, 0), int(event["originator_version"]))
    except (UnicodeDecodeError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a {EVENTS_FORMAT} attachment: {error}") from None
    return order, versions
