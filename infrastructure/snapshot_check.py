"""Snapshots are a cache outside the chain: each must equal the state replayed from the
(verified) events it summarises, or an edited snapshot could change what the application
shows without breaking any link."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from infrastructure.verify import Finding


def _comparable(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def verify_snapshots(events: Any, snapshots: Any, heads: Mapping[str, tuple[int, str]],
                     min_version: int = 2, progress: Callable[[int], None] | None = None,
                     ) -> tuple[int, list[Finding]]:
    """Snapshots are a cache outside the chain, so each must equal the state replayed from
    the (verified) events it summarises; an edited snapshot would otherwise change what the
    application shows without breaking any link."""
    checked = 0
    problems: list[Finding] = []
    for oid, (head_version, _digest) in heads.items():
        if head_version < min_version:
            continue
        aggregate_id = UUID(oid)
        try:
            stored = {s.originator_version: s for s in snapshots.get(aggregate_id)}
        except Exception:  # an undecodable snapshot is itself evidence of tampering
            problems.append(Finding(oid, None, "snapshot unreadable (altered)", oid))
            continue
        if not stored:
            continue
        aggregate: Any = None
        try:
            for event in events.get(aggregate_id, lte=max(stored)):
                aggregate = event.mutate(aggregate)
                snapshot = stored.get(event.originator_version)
                if snapshot is None:
                    continue
                checked += 1
                restored = snapshot.mutate(None)
                if _comparable(restored) != _comparable(aggregate):
                    problems.append(Finding(
                        oid, event.originator_version, "snapshot does not match the events "
                        "it summarises (snapshot altered)", oid))
        except Exception as error:  # a damaged history is already reported by the pass
            problems.append(Finding(oid, None, f"cannot replay to compare its snapshot: "
                                    f"{type(error).__name__}", oid))
        if progress:
            progress(1)
    return checked, problems
