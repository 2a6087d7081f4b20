"""`verify`: recompute every aggregate's hash chain from the stored events.

One ordered pass over the notification log. For each aggregate it expects versions 1, 2,
3... with each event's recorded predecessor hash equal to the recomputed hash of the
event before it. Anything else is reported with the aggregate, the version and what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.hash_chain import GENESIS, event_hash, recorded_prev

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
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chains(recorder: ApplicationRecorder,
                  progress: Callable[[int], None] | None = None) -> VerificationReport:
    report = VerificationReport()
    heads: dict[UUID | str, tuple[int, str]] = {}
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE)
        for stored in page:
            oid, version = stored.originator_id, stored.originator_version
            last_version, last_hash = heads.get(oid, (0, GENESIS))
            claimed = recorded_prev(stored.state)
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
            heads[oid] = (version, event_hash(stored.topic, oid, version, stored.state))
        report.events += len(page)
        if progress:
            progress(len(page))
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    report.aggregates = len(heads)
    return report
