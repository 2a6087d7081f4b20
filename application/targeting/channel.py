"""Channel decisions for every loaded declaration not yet decided: green (release), amber
(document check) or red (physical exam), from the published rules and the importer's risk,
plus a random share of every channel sent to exam to measure true compliance and the hit
rate of targeting. Equal declarations get equal channels in every district, unless a rule
was published only for some districts.

Decisions are stored in bulk with the rule versions and the reason, together with one
ChannelRun event (rules in force, random share and seed, input batches, counts) in the
same transaction. With no declaration left to decide, a run is refused and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid4

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from application.bulk_work import collector_paused
from application.ports import Authorise, Clock
from application.targeting.matching import rule_mask
from domain.channel_run import ChannelRun
from domain.errors import RuleViolationError
from domain.importer_history import ImporterHistory
from domain.targeting_rule import CHANNEL_SEVERITY, Channel, TargetingRule
from domain.values import parse_actor

CHANNELS = (Channel.GREEN, Channel.AMBER, Channel.RED)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ChannelPolicy:
    """Defaults here; settings may override. High-risk importers' entries get a document
    check; high risk with critical impact, a physical exam."""

    random_share: float = 0.02
    risk_amber: tuple[str, ...] = ("high",)
    risk_red_impact: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelSummary:
    run_id: str
    entries: int
    counts: dict[str, int]
    random_exams: int
    by_basis: dict[str, int]
    rule_versions: list[str]


class ChannelTablesPort(Protocol):
    def undecided_entries(self) -> pa.Table: ...

    def decisions_writer(self, decisions: pa.Table,
                         on_rows: Callable[[int], None] | None = None
                         ) -> Callable[[Any], None]: ...


class HistoriesPort(Protocol):
    def histories(self) -> Mapping[str, ImporterHistory]: ...


class ChannelDecisions:
    def __init__(self, tables: ChannelTablesPort, accounts: HistoriesPort,
                 rules: Callable[[], list[TargetingRule]], save: Callable[..., object],
                 clock: Clock, check_inputs: Callable[[Sequence[str]], None] | None = None,
                 authorise: Authorise | None = None) -> None:
        """`check_inputs(kinds)` raises when stored ingest rows of those kinds no longer
        match the digests recorded at import: a run must not decide on altered data.
        `authorise(actor, "channel_run")` refuses an actor who may not run one."""
        self.authorise = authorise
        self.check_inputs = check_inputs
        self.tables = tables
        self.accounts = accounts
        self.rules = rules
        self.save = save
        self.clock = clock

    @collector_paused
    def decide(self, *, actor: str, random_share: float = ChannelPolicy.random_share,
               seed: int = 0, progress: Progress | None = None) -> ChannelSummary:
        actor = parse_actor(actor)
        if self.authorise is not None:
            self.authorise(actor, "channel_run")
        policy = ChannelPolicy(random_share=random_share)
        now = self.clock()
        step = progress or (lambda _stage, _done, _total: None)
        if self.check_inputs is not None:
            self.check_inputs(("entries",))
        entries = self.tables.undecided_entries()
        count = entries.num_rows
        step("read entries", count, count)
        published = [rule for rule in self.rules() if rule.in_force is not None]
        versions = [f"{rule.number}@v{rule.in_force_version}" for rule in published]
        run_id = uuid4()  # a run has no natural key: two may share a clock instant
        counts = dict.fromkeys((c.value for c in CHANNELS), 0)
        if not count:
            # Built only so that its settings are checked (a bad share is refused as
            # such); a run with nothing to decide is not recorded.
            ChannelRun.record(run_id, rule_versions=tuple(versions),
                              random_share=random_share, seed=seed, input_batches=(),
                              counts=counts, random_exams=0, actor=actor,
                              reason="no declarations to channel", at=now)
            raise RuleViolationError(
                "NoNewDeclarationsToChannel",
                "no new declarations to channel: every loaded declaration already has its "
                "channel (load more with compliance import entries FILE); nothing was "
                "recorded")
        rows = self._with_class(entries)
        severity = np.zeros(count, dtype=np.int8)
        winner = np.full(count, -1, dtype=np.int64)
        matched = np.full(count, "", dtype=object)
        for index, rule in enumerate(published):
            assert rule.in_force is not None
            mask = rule_mask(rows, rule.in_force)
            level = CHANNEL_SEVERITY[rule.in_force.channel]
            stronger = mask & (level > severity)
            winner[stronger] = index
            severity[stronger] = level
            already = mask & (matched != "")
            matched[already] = matched[already] + ","
            matched[mask] = matched[mask] + versions[index]
        by_rule = winner >= 0
        category = rows["category"].to_pylist()
        risky = np.array([c in policy.risk_amber for c in category]) & ~by_rule
        severity[risky] = np.maximum(severity[risky], CHANNEL_SEVERITY[Channel.AMBER])
        generator = np.random.default_rng(seed)
        random_exam = generator.random(count) < random_share
        targeted = severity.copy()
        final = np.where(random_exam, CHANNEL_SEVERITY[Channel.RED], targeted)
        step("decided", count, count)
        reasons = _reasons(published, winner, risky, random_exam, targeted, random_share)
        basis = np.where(random_exam, "random", np.where(by_rule, "rule",
                                                         np.where(risky, "risk", "none")))
        names = np.array([c.value for c in CHANNELS])
        for level, channel in enumerate(CHANNELS):
            counts[channel.value] = int((final == level).sum())
        batches = tuple(sorted({str(b) for b in entries["batch_id"].to_pylist()}))
        run = ChannelRun.record(run_id, rule_versions=tuple(versions), random_share=random_share,
                                seed=seed, input_batches=tuple(UUID(b) for b in batches),
                                counts=counts, random_exams=int(random_exam.sum()),
                                actor=actor, reason=f"channel decisions for {count:,} "
                                                    "declarations", at=now)
        decisions = pa.table({
            "entry_number": entries["entry_number"],
            "run_id": pa.array([str(run.id)] * count, pa.string()),
            "importer_number": entries["importer_number"],
            "district": entries["district"],
            "entry_date": entries["entry_date"],
            "channel": pa.array(names[final]),
            "targeted_channel": pa.array(names[targeted]),
            "basis": pa.array(basis),
            "rules": pa.array(matched, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        })
        self.save(run, write_also=self.tables.decisions_writer(
            decisions, lambda n: step("stored", n, count)))
        by_basis = {str(b): int((basis == b).sum()) for b in np.unique(basis)}
        return ChannelSummary(str(run.id), count, counts, int(random_exam.sum()), by_basis,
                              versions)

    def _with_class(self, entries: pa.Table) -> pa.Table:
        histories = self.accounts.histories()
        classes = [histories[n].compliance_class if n in histories else None
                   for n in entries["importer_number"].to_pylist()]
        return entries.append_column("compliance_class", pa.array(classes, pa.string()))


def _reasons(rules: list[TargetingRule], winner: npt.NDArray[np.int64],
             risky: npt.NDArray[np.bool_], random_exam: npt.NDArray[np.bool_],
             targeted: npt.NDArray[np.int8], share: float) -> npt.NDArray[np.object_]:
    """The reason of every decision, built per rule and per basis rather than per entry."""
    texts = []
    for rule in rules:
        assert rule.in_force is not None
        texts.append(f"rule {rule.number} v{rule.in_force_version} "
                     f"({rule.in_force.name}: {rule.in_force.conditions.describe()}) "
                     f"-> {rule.in_force.channel.value}")
    reasons = np.full(len(winner), "no published rule or risk criterion matched -> green "
                      "(release)", dtype=object)
    reasons[risky] = "importer's risk category is high -> amber (document check)"
    by_rule = winner >= 0
    if texts:
        reasons[by_rule] = np.array(texts, dtype=object)[winner[by_rule]]
    names = [c.value for c in CHANNELS]
    for index in np.flatnonzero(random_exam).tolist():
        reasons[index] = (f"chosen at random for exam ({share:.1%} of every channel, to "
                          f"measure compliance); targeted channel {names[targeted[index]]}: "
                          f"{reasons[index]}")
    return reasons
