"""`verify`: recompute every aggregate's hash chain from the stored events.

One ordered pass over the notification log. For each aggregate it expects versions 1, 2,
3... with each event's recorded predecessor hash equal to the recomputed hash of the
event before it. Anything else is reported with the aggregate, the version and what broke.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, EventStore

from infrastructure.hash_chain import GENESIS, event_hash, recorded_prev
from infrastructure.raw_log import pages

PAGE = 10_000


@dataclass(frozen=True)
class ChainProblem:
    aggregate_id: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"aggregate {self.aggregate_id} version {self.version}: {self.problem}"


@dataclass
class VerificationReport:
    events: int = 0
    aggregates: int = 0
    snapshots: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    heads: dict[UUID | str, int] = field(default_factory=dict, repr=False)
    sealed_heads: dict[UUID | str, tuple[int, str]] = field(default_factory=dict, repr=False)
    sealed_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chains(recorder: ApplicationRecorder,
                  progress: Callable[[int], None] | None = None, *,
                  checkpoint: int | None = None,
                  unsealed: frozenset[UUID] = frozenset()) -> VerificationReport:
    """With a checkpoint, also capture every chain head as it stood at that notification
    (leaving out the `unsealed` aggregates, i.e. the seal log itself) for a seal."""
    report = VerificationReport()
    heads: dict[UUID | str, tuple[int, str]] = {}
    left_out = {str(oid) for oid in unsealed}
    counted = 0
    captured = checkpoint is None

    def capture() -> None:
        report.sealed_heads = {k: v for k, v in heads.items() if k not in left_out}
        report.sealed_events = counted

    for page in pages(recorder, PAGE):
        for notification_id, oid, version, topic, state in page:
            if not captured and checkpoint is not None and notification_id > checkpoint:
                capture()
                captured = True
            if oid not in left_out:
                counted += 1
            last_version, last_hash = heads.get(oid, (0, GENESIS))
            claimed = recorded_prev(state)
            if version != last_version + 1:
                if version <= last_version:
                    problem = (f"out of order: recorded after version {last_version} "
                               f"(events reordered?)")
                else:
                    missing = (str(last_version + 1) if version == last_version + 2
                               else f"{last_version + 1}-{version - 1}")
                    problem = f"version(s) {missing} missing before it (deleted?)"
                report.problems.append(ChainProblem(str(oid), version, problem))
            elif claimed != last_hash:
                if last_version == 0:
                    problem = "first event does not start the chain (altered)"
                    report.problems.append(ChainProblem(str(oid), version, problem))
                else:
                    report.problems.append(ChainProblem(
                        str(oid), last_version,
                        f"content does not match the hash recorded by version {version} "
                        f"(version {last_version} altered, or the link in {version})"))
            heads[oid] = (version, event_hash(topic, oid, version, state))
        report.events += len(page)
        if progress:
            progress(len(page))
    if not captured:
        capture()
    report.aggregates = len(heads)
    report.heads = {oid: version for oid, (version, _) in heads.items()}
    return report


def _comparable(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def verify_snapshots(events: EventStore[UUID], snapshots: EventStore[UUID],
                     heads: Mapping[UUID | str, int], min_version: int = 2,
                     progress: Callable[[int], None] | None = None,
                     ) -> tuple[int, list[ChainProblem]]:
    """Snapshots are a cache outside the chain, so each must equal the state replayed from
    the (chain-verified) events it summarises; an edited snapshot would otherwise change
    what the application shows without breaking any link."""
    checked = 0
    problems: list[ChainProblem] = []
    for oid, head_version in heads.items():
        if head_version < min_version:
            continue
        aggregate_id = oid if isinstance(oid, UUID) else UUID(oid)
        try:
            stored = {s.originator_version: s for s in snapshots.get(aggregate_id)}
        except Exception as error:  # an undecodable snapshot is itself evidence of tampering
            problems.append(ChainProblem(str(oid), 0, f"snapshot unreadable: {error}"))
            continue
        if not stored:
            continue
        aggregate: Any = None
        for event in events.get(aggregate_id, lte=max(stored)):
            aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
            snapshot = stored.get(event.originator_version)
            if snapshot is None:
                continue
            checked += 1
            restored = snapshot.mutate(None)  # type: ignore[attr-defined]
            if _comparable(restored) != _comparable(aggregate):
                problems.append(ChainProblem(
                    str(oid), event.originator_version,
                    "snapshot does not match the events it summarises (snapshot altered)"))
        if progress:
            progress(1)
    return checked, problems
