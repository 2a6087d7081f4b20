"""Inputs for the benchmarks, built with the domain's own factories and commands."""

from __future__ import annotations

import itertools
import random
import re
import time as clock_time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

import psycopg
from psycopg import sql

from application.compliance_cases import ComplianceCases
from domain.assessment import AssessmentState, SampleTest
from domain.base import natural_id
from domain.case_file import case_file_id
from domain.importer_account import (
    ComplianceClass,
    ImporterAccount,
    Registration,
    importer_account_id,
)
from domain.reference import DISTRICTS, ComplianceArea, ControlRating
from domain.values import parse_period
from infrastructure.hash_chain import (
    PREV_KEY,
    commit_digest,
    event_hash,
    split_signature,
    with_signature,
)
from interfaces.demo_population import DemoClock, build_accounts, walk_assessment

ACTOR = "system:bench"
OFFICER = "user:officer-bench"
SUPERVISOR = "user:supervisor-bench"
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_NAMES = ("Acme", "Pacific", "Golden Bridge", "Northern Star", "Harbour", "Jade River",
          "Silk Road", "Evergreen", "Summit", "Orient", "Meridian", "Blue Ocean")
_SUFFIXES = ("Trading Co.", "Imports Ltd", "Industries", "Logistics", "Manufacturing",
             "Electronics", "Foods", "Holdings")
_INDUSTRIES = ("61", "62", "64", "72", "73", "84", "85", "87", "39", "94", "95", "03", "30")


def importer_numbers(prefix: int, start: int = 0) -> Iterator[str]:
    """Distinct, valid importer numbers `PP-NNNNNNNXX`; the prefix keeps series apart."""
    for serial in itertools.count(start):
        letters = _LETTERS[serial // 10_000_000 % 24] + _LETTERS[serial // 240_000_000 % 24]
        yield f"{prefix:02d}-{serial % 10_000_000:07d}{letters}"


def registrations(count: int, seed: int = 7, prefix: int = 20) -> list[Registration]:
    """Varied, valid registrations (parsed, as at the edge of the domain)."""
    rng = random.Random(seed)
    districts = list(DISTRICTS)
    numbers = importer_numbers(prefix)
    return [
        Registration.parse(
            next(numbers), f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} {index + 1}",
            rng.choice(districts), rng.choice(_INDUSTRIES),
            date(rng.randint(1995, 2024), rng.randint(1, 12), rng.randint(1, 28)))
        for index in range(count)
    ]


class FiveEventCommands:
    """Aggregates carrying five pending events each: registration, account manager,
    partnership, compliance class and tier, i.e. one command's worth of decisions."""

    def __init__(self, prefix: int = 30, seed: int = 11) -> None:
        self._numbers = importer_numbers(prefix)
        self._rng = random.Random(seed)

    def __call__(self, at: datetime) -> ImporterAccount:
        rng = self._rng
        registration = Registration.parse(
            next(self._numbers), f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)}",
            f"{rng.randint(1, 42):02d}", rng.choice(_INDUSTRIES), date(2015, 3, 2))
        account = ImporterAccount.register(registration, actor=ACTOR,
                                           reason="national importer register", at=at)
        account.assign_account_manager(f"user:am-{rng.randint(1, 60):02d}", actor=ACTOR,
                                       reason="tier 1 account gets a manager", at=at)
        account.join_partnership("trusted_trader", date(2019, 6, 1), actor=ACTOR,
                                 reason="validated trusted-trader application", at=at)
        account.set_compliance_class(rng.choice(list(ComplianceClass)), actor=ACTOR,
                                     reason="credit management system rating", at=at)
        account.set_tier(1, Decimal(f"{rng.uniform(1e8, 9e9):.2f}"),
                         Decimal(f"{rng.random():.6f}"), at.year - 1, actor=ACTOR,
                         reason="cumulative value share in the top 50%", at=at)
        return account


def populate_accounts(app: ComplianceCases, clock: DemoClock, *, accounts: int,
                      seed: int = 2024, on_accounts: Callable[[int], None] | None = None
                      ) -> list[ImporterAccount]:
    """The demo population's accounts (register, tier, managers, partnerships, classes,
    suspensions, closures), saved 500 per transaction as the demo loader does."""
    rng = random.Random(seed)
    today = date.today()
    start = datetime.combine(today - timedelta(days=420), time(9), tzinfo=UTC)
    clock.now = start
    population = build_accounts(accounts, rng, today, start)
    for first in range(0, len(population), 500):
        batch = population[first:first + 500]
        app.save(*batch)
        if on_accounts:
            on_accounts(len(batch))
    return population


def walk_assessments(app: ComplianceCases, clock: DemoClock, population: list[ImporterAccount],
                     count: int, *, seed: int = 99,
                     on_assessment: Callable[[], None] | None = None) -> None:
    """Assessments walked through the application's commands to every state, as officers
    would (each step is its own load-decide-save command)."""
    rng = random.Random(seed)
    eligible = [a for a in population if a.status.value != "closed"]
    states = list(AssessmentState)
    today = date.today()
    for index, account in enumerate(rng.sample(eligible, min(count, len(eligible)))):
        opened = datetime.combine(today - timedelta(days=rng.randint(20, 360)), time(9),
                                  tzinfo=UTC)
        walk_assessment(app, clock, rng, account, states[index % len(states)], opened, today)
        if on_assessment:
            on_assessment()


# A findings step that requires an improvement plan: two scoped areas under controls rated
# adequate and strong; classification has 30 discrepancies in 200 lines (rate 85%, 95% lower
# bound about 0.80 < 0.95, so deficient) at an immaterial loss (300.00, below 1% of the duty
# paid and below 50,000), value is clean. A deficient area with no weak controls and no
# material loss calls for an improvement plan, not a referral.
PLAN_SCOPE = (ComplianceArea.CLASSIFICATION, ComplianceArea.VALUE)
PLAN_RATINGS = {ComplianceArea.CLASSIFICATION: ControlRating.ADEQUATE,
                ComplianceArea.VALUE: ControlRating.STRONG}
PLAN_TESTS = (
    SampleTest.parse(ComplianceArea.CLASSIFICATION, 200, 30, "100000.00", "5000.00", "300.00"),
    SampleTest.parse(ComplianceArea.VALUE, 200, 0, "80000.00", "0.00", "0.00"),
)
PLAN_DUTY_PAID = Decimal("1000000.00")


def assessments_in_testing(app: ComplianceCases, count: int, *, prefix: int = 40,
                           on_assessment: Callable[[], None] | None = None) -> list[str]:
    """`count` assessments, one per freshly registered importer, walked through the
    application's commands (open, assign, survey, one test per area) to the 'testing'
    state, with the tests above: issuing their findings with duty paid PLAN_DUTY_PAID
    drafts an improvement plan. Returns their numbers."""
    regs = registrations(count, seed=13, prefix=prefix)
    app.register_importers(regs, actor=ACTOR, reason="national importer register")
    year = date.today().year - 1
    period = parse_period(date(year, 1, 1), date(year, 12, 31))
    numbers = []
    for registration in regs:
        number = app.open_assessment(
            registration.importer_number, origin="risk_selection", period=period,
            scope=PLAN_SCOPE, actor="user:analyst-bench", reason="selected for the annual plan")
        app.assign_officer(number, OFFICER, actor=SUPERVISOR, reason="district workload plan")
        app.record_survey(number, PLAN_RATINGS, app.clock().date(), actor=OFFICER,
                          reason="pre-assessment survey at the importer's premises")
        for test in PLAN_TESTS:
            app.record_test(number, test, actor=OFFICER,
                            reason=f"statistical sample of {test.area.value} lines")
        numbers.append(number)
        if on_assessment:
            on_assessment()
    return numbers


# -- a store of a million events: a demo population through the app, then replicated --------

_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_IMPORTER = rb"(?<![0-9A-Za-z-])\d{2}-\d{7}[0-9A-Z]{2}(?![0-9A-Za-z])"
_CASE = rb"(?<![0-9A-Za-z-])[A-Z]{2}-\d{4}-\d{5}(?![0-9A-Za-z])"
_REP = rb"(?<=user:rep-)\d{9}[0-9a-z]{2}(?![0-9a-z])"
_KEYS = re.compile(b"|".join((_UUID, _IMPORTER, _CASE, _REP)))
_SPLIT = re.compile(b"(" + _KEYS.pattern + b")")  # literal, key, literal, ..., literal
_PREV_PREFIX = b'{"' + PREV_KEY.encode() + b'":"'
_PREV_AT = len(_PREV_PREFIX)
BaseRow = tuple[UUID, int, str, list[bytes]]


@dataclass
class Replication:
    base_events: int
    copies: int  # complete copies of the base log appended (the last may be partial)
    partial_rows: int  # rows of the last, partial copy (0 when it is complete)
    total_events: int
    case_serial_stride: int
    seconds: float  # rewriting + COPY, all copies


class _CopyKeys:
    """The substitutions that turn the base log into copy `k`: every importer number, case
    number, representative actor and id inside the states and in originator_id. Natural ids
    (importer, case file, case) are re-derived from the rewritten numbers, so a copy's
    importers and cases load by number like the originals; other ids (number sequences)
    get a fresh uuid5 per copy."""

    def __init__(self, k: int, importers: list[bytes], cases: list[bytes], stride: int,
                 ids: list[bytes]) -> None:
        table: dict[bytes, bytes] = {}
        used: set[bytes] = set()
        number_of: dict[str, str] = {}
        for old in importers:  # "PP-NNNNNNNXX" -> "PP-NNNNNNNkk": digits mark the copy
            pp, serial = old[:2], int(old[3:10])
            while True:
                new = b"%s-%07d%02d" % (pp, serial % 10_000_000, k % 100)
                if new not in used:
                    break
                serial += 1
            used.add(new)
            table[old] = new
            table[old.replace(b"-", b"").lower()] = new.replace(b"-", b"").lower()
            number_of[old.decode()] = new.decode()
        for old in cases:  # "CA-2026-00042" -> serial + k * stride, same type and year
            new = b"%s%05d" % (old[:8], int(old[8:]) + k * stride)
            table[old] = new
            number_of[old.decode()] = new.decode()
        derived: dict[str, UUID] = {}
        for old_number, new_number in number_of.items():
            if _CASE_NUMBER_RE.match(old_number):
                derived[str(natural_id("case", old_number))] = natural_id("case", new_number)
            else:
                derived[str(importer_account_id(old_number))] = importer_account_id(new_number)
                derived[str(case_file_id(old_number))] = case_file_id(new_number)
        namespace = uuid5(_COPY_NAMESPACE, str(k))
        self.ids: dict[UUID, UUID] = {}
        for old in ids:
            text = old.decode()
            new_id = derived.get(text) or uuid5(namespace, text)
            self.ids[UUID(text)] = new_id
            table[old] = str(new_id).encode()
        self.table = table

    def state(self, template: list[bytes]) -> bytes:
        """A state from its template (the base state split around its keys)."""
        if len(template) == 1:
            return template[0]
        parts = template[:]
        parts[1::2] = [self.table[key] for key in template[1::2]]
        return b"".join(parts)


def _signed_again(state: bytes, content_hash: str, commit: list[str],
                  sign: Callable[[bytes], bytes], *, cut: bool) -> bytes:
    """`state` with its commit signature (if it closes a commit, or closes a commit cut
    short) made again over the commit's rewritten events, whose content hashes `commit`
    collects."""
    content, signature = split_signature(state)
    commit.append(content_hash)
    if signature is None and not cut:
        return state
    events = len(commit) if signature is None else signature.events
    if events != len(commit):
        raise ValueError(f"a commit of {signature and signature.events} events closes "
                         f"after {len(commit)}")
    signed = with_signature(content, events, sign(commit_digest(commit)))
    commit.clear()
    return signed


_COPY_NAMESPACE = UUID("6f0c2b8e-3c1e-4c55-9a59-2f3f4f0b6c11")
_CASE_NUMBER_RE = re.compile(r"^[A-Z]{2}-\d{4}-\d{5}$")


def replicate_log(conn: psycopg.Connection[Any], schema: str, table: str, target: int,
                  progress: Callable[[int], None] | None = None,
                  sign: Callable[[bytes], bytes] | None = None) -> Replication:
    """Append copies of the events already in `table` until it holds `target` events.

    Each copy has the base log's rows in the base log's order, with the same topics and
    state shapes, fresh ids and numbers (see _CopyKeys) and its own, valid hash chains
    (each `_prev` recomputed over the rewritten predecessor) and, given the ledger's `sign`,
    valid commit signatures (each commit signed again over its rewritten events), written
    by binary COPY, one transaction per copy. The last copy is cut short so the total is
    exactly `target` (its last commit, cut too, signed over the events it keeps)."""
    events = sql.Identifier(schema, table)
    with conn.cursor(binary=True) as cursor:
        cursor.execute(sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                               "ORDER BY notification_id").format(events))
        base: list[BaseRow] = [(r[0], r[1], r[2], _SPLIT.split(bytes(r[3])))
                               for r in cursor.fetchall()]
    if not base:
        raise ValueError("nothing to replicate: the events table is empty")
    importers: set[bytes] = set()
    cases: set[bytes] = set()
    ids: set[bytes] = {str(row[0]).encode() for row in base}
    for row in base:
        for found in row[3][1::2]:
            if len(found) == 36:
                ids.add(found)
            elif len(found) == 12 and found[2:3] == b"-":
                importers.add(found)
            elif len(found) == 13:
                cases.add(found)
    stride = max((int(number[8:]) for number in cases), default=0) + 1
    missing = target - len(base)
    copies = max(0, -(-missing // len(base)))
    if copies and (copies * stride + stride > 100_000 or copies >= 100):
        raise ValueError(f"{copies} copies of a log with {stride - 1} case numbers per "
                         "series would overflow the 5-digit serials or the 2-digit copy mark")
    copy_sql = sql.SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN "
                       "(FORMAT BINARY)").format(events)
    started = clock_time.perf_counter()
    sorted_importers, sorted_cases, sorted_ids = sorted(importers), sorted(cases), sorted(ids)
    partial = 0
    for k in range(1, copies + 1):
        rows = base[:missing] if missing < len(base) else base
        partial = len(rows) if len(rows) < len(base) else 0
        keys = _CopyKeys(k, sorted_importers, sorted_cases, stride, sorted_ids)
        heads: dict[UUID, str] = {}
        commit: list[str] = []  # content hashes of the commit being copied
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for written, (oid, version, topic, template) in enumerate(rows, 1):
                new_id = keys.ids[oid]
                new_state = keys.state(template)
                if version > 1:
                    if new_state[:_PREV_AT] != _PREV_PREFIX:
                        raise ValueError(f"{topic} v{version}: no leading {PREV_KEY} link")
                    new_state = (new_state[:_PREV_AT] + heads[new_id].encode()
                                 + new_state[_PREV_AT + 64:])
                heads[new_id] = event_hash(topic, new_id, version, new_state)
                if sign is not None:
                    new_state = _signed_again(new_state, heads[new_id], commit, sign,
                                              cut=partial > 0 and written == len(rows))
                copy.write_row((new_id, version, topic, new_state))
                if progress and written % 10_000 == 0:
                    progress(10_000)
        if progress:
            progress(len(rows) % 10_000)
        missing -= len(rows)
    total = target if copies else len(base)
    return Replication(len(base), copies, partial, total, stride,
                       clock_time.perf_counter() - started)
