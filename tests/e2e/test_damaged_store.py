"""A damaged history is reported, never a traceback (issue 11).

One small store per store kind is built through the CLI (an importer, an assessment up to
findings, the improvement plan they draft with one action and a snapshot), then damaged
with raw SQL the way a tamperer or a broken disk would: a snapshot garbled, an event's
type changed to an unknown one, an event's state garbled, a middle event deleted. After
each, every command that reads or writes the damaged case exits 8 with one line naming
the case by its number and the first bad version; commands that do not touch it (views,
other cases) still answer; `verify` reports tampering (exit 1). Nothing prints a traceback.

The event damage accumulates, each at an earlier version than the last, so each step's
first bad version is the one it just damaged and the store is built only once. The many
commands run in this process through the CLI's real entry point (a new process costs half
a second of imports each); a few per damage also run as the installed executable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from domain.case_numbers import case_id
from infrastructure.settings import load_settings
from tests.conftest import drop_schema
from tests.e2e.cli import Cli, Result
from tests.e2e.test_cli_assessment_lifecycle import today
from tests.integration.raw_store import RawEvents

IMPORTER = "31-4159265AB"
WHO = ("--actor", "user:officer-7", "--reason")
FUTURE = "2999-01-01T00:00:00+00:00"


def in_process(cli: Cli, **extra: str) -> Cli:
    """`cli`'s store in this process (tests.e2e.in_process), without COMPLIANCE_DEBUG
    unless `extra` sets it."""
    return Cli({k: v for k, v in cli.env.items() if k != "COMPLIANCE_DEBUG"} | extra,
               process=False)


@dataclass
class Store:
    cli: Cli
    local: Cli
    events: RawEvents
    snapshots: RawEvents
    assessment: str
    plan: str

    @property
    def assessment_id(self) -> UUID:
        return case_id(self.assessment)

    @property
    def plan_id(self) -> UUID:
        return case_id(self.plan)


def _build(cli: Cli, snapshotting: Cli) -> tuple[str, str]:
    cli.ok("init")
    cli.ok("accounts", "register", "--importer-number", IMPORTER, "--name", "Jade River",
           "--district", "11", "--industry", "61", "--registered-on", "2019-04-01",
           "--actor", "user:registrar", "--reason", "new importer of record")
    number = str(cli.ok("assessments", "open", IMPORTER, "--origin", "risk_selection",
                        "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                        "--scope", "classification,origin", "--actor", "user:analyst",
                        "--reason", "top of the ranking", "--json").json()["number"])
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7", *WHO, "workload")
    cli.ok("assessments", "survey", number, "--rating", "classification=weak",
           "--rating", "origin=strong", "--on", today(), *WHO, "site visit")
    cli.ok("assessments", "test", number, "--area", "classification", "--lines", "200",
           "--discrepancies", "18", "--value-tested", "400000", "--value-in-error", "52000",
           "--revenue-loss", "6100.50", *WHO, "sample")
    cli.ok("assessments", "test", number, "--area", "origin", "--lines", "150",
           "--discrepancies", "0", "--value-tested", "250000", "--value-in-error", "0",
           "--revenue-loss", "0", *WHO, "sample")
    plan = str(cli.ok("assessments", "findings", number, "--duty-paid", "900000", *WHO,
                      "testing complete", "--json").json()["plan_number"])
    # Version 2 of the plan, saved with snapshots every 2 versions: the plan's snapshot.
    snapshotting.ok("plans", "add-action", plan, "--area", "classification",
                    "--description", "review before filing", "--owner", "user:rep",
                    "--due-on", "2099-01-15", "--actor", "user:rep", "--reason", "proposal")
    cli.ok("project", "--once")
    return number, plan


@pytest.fixture(scope="module", params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def store(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home: Path = tmp_path_factory.mktemp(f"damaged-{request.param}")
    env = {"COMPLIANCE_SEAL_KEY": str(home / "keys" / "seal.key")}
    schema = None
    if request.param == "sqlite":
        env["COMPLIANCE_SQLITE_PATH"] = str(home / "var" / "compliance.db")
        tables = ("stored_events", "stored_snapshots")
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        env |= {"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema}
        tables = ("compliancecases_events", "compliancecases_snapshots")
    cli = Cli(env, process=True)
    try:
        local = in_process(cli)
        number, plan = _build(local, in_process(cli, COMPLIANCE_SNAPSHOT_INTERVAL="2"))
        settings = load_settings(env)
        yield Store(cli, local, RawEvents(settings, tables[0]),
                    RawEvents(settings, tables[1]), number, plan)
    finally:
        if schema is not None:
            drop_schema(request.getfixturevalue("postgres_url"), schema)


def run_all(store: Store, commands: list[tuple[str, ...]],
            in_processes: int = 2) -> dict[tuple[str, ...], Result]:
    """Every command in this process, and the first `in_processes` of them also as the
    installed executable, side by side (they only read, or are refused before writing)."""
    with ThreadPoolExecutor(max_workers=in_processes or 1) as pool:
        separate = list(pool.map(lambda args: store.cli(*args), commands[:in_processes]))
        results = {args: store.local(*args) for args in commands}
    for args, result in zip(commands, separate, strict=False):
        assert "Traceback" not in result.out + result.err, (args, result)
        assert (result.code, result.err) == (results[args].code, results[args].err), (
            args, result, results[args])
    return results


def check(results: dict[tuple[str, ...], Result], expected: dict[tuple[str, ...], int],
          message: str) -> None:
    problems = []
    for args, result in results.items():
        output = result.out + result.err
        if "Traceback" in output:
            problems.append(f"{args}: traceback\n{output}")
        if result.code != expected[args]:
            problems.append(f"{args}: exit {result.code}, expected {expected[args]}: "
                            f"{result.err.strip()[-400:]}")
        elif result.code == 8:
            lines = result.err.strip().splitlines()
            if lines != [message]:
                problems.append(f"{args}: stderr {lines!r}, expected [{message!r}]")
    assert not problems, "\n".join(problems)


def _lifecycle(number: str) -> list[tuple[str, ...]]:
    return [
        ("assessments", "assign", number, "--officer", "user:officer-8", *WHO, "reassign"),
        ("assessments", "survey", number, "--rating", "classification=weak", "--rating",
         "origin=weak", "--on", today(), *WHO, "again"),
        ("assessments", "test", number, "--area", "origin", "--lines", "10",
         "--discrepancies", "0", "--value-tested", "100", "--value-in-error", "0",
         "--revenue-loss", "0", *WHO, "more"),
        ("assessments", "findings", number, "--duty-paid", "900000", *WHO, "again"),
        ("assessments", "close", number, *WHO, "findings sent"),
        ("assessments", "cancel", number, *WHO, "no longer needed"),
        ("assessments", "close", number, "--expected-version", "6", "--idempotency-key",
         "close-once", "--json", *WHO, "findings sent"),
        # Opening another assessment of the period reads this one's state.
        ("assessments", "open", IMPORTER, "--origin", "risk_selection", "--period-start",
         "2025-06-01", "--period-end", "2025-06-30", "--scope", "origin", *WHO, "overlap"),
    ]


def _assessment_commands(store: Store) -> dict[tuple[str, ...], int]:
    """Every command touching the damaged assessment (exit 8), and commands that do not
    (views, the importer, the plan: exit 0; verify: exit 1)."""
    number, plan = store.assessment, store.plan
    touching: list[tuple[str, ...]] = [
        ("assessments", "show", number), ("assessments", "show", number.lower(), "--json"),
        ("history", number), ("history", number, "--json"),
        ("history", number, "--as-of", "6"), ("history", number, "--as-of", FUTURE),
        ("history", number, "--diff", "1", "6"),
        ("assessments", "list"), ("assessments", "list", "--json"),
        ("assessments", "list", "--importer", IMPORTER, "--state", "findings_issued"),
        *_lifecycle(number),
    ]
    untouched: list[tuple[str, ...]] = [
        ("accounts", "list"), ("accounts", "show", IMPORTER), ("history", IMPORTER),
        ("plans", "list", "--json"), ("plans", "show", plan), ("history", plan),
        ("worklist", "--district", "11"), ("register", "--district", "11"),
        ("audit", "--case", number), ("stats", "compliance", "--by", "area"),
        ("views", "status"),
        # counts come from the views and the events' topics, replaying nothing
        ("status",), ("status", "--json"),
    ]
    return {**dict.fromkeys(touching, 8), **dict.fromkeys(untouched, 0), ("verify",): 1}


def damaged(label: str, version: int, what: str) -> str:
    return f"error: damaged history: {label} version {version}: {what} — run compliance verify"


def test_an_undamaged_store_answers_every_command(store: Store) -> None:
    commands = [args for args, code in _assessment_commands(store).items() if code != 8
                and args[0] != "verify"]
    commands += [("assessments", "show", store.assessment), ("history", store.assessment),
                 ("status",), ("verify",)]
    check(run_all(store, commands), dict.fromkeys(commands, 0), "")


def test_a_garbled_snapshot_is_reported_where_the_snapshot_is_used(store: Store) -> None:
    topic, state = store.snapshots.read(store.plan_id, 2)
    store.snapshots.rewrite(store.plan_id, 2, topic, b"\x00garbage")
    try:
        plan = store.plan
        expected = {
            ("plans", "show", plan): 8, ("history", plan, "--as-of", "2"): 8,
            ("plans", "submit", plan, *WHO, "proposed"): 8,
            ("plans", "add-action", plan, "--area", "origin", "--description", "x",
             "--owner", "user:rep", "--due-on", "2099-01-15", *WHO, "more"): 8,
            # The events themselves are intact: full replays still answer.
            ("history", plan): 0, ("history", plan, "--as-of", "1"): 0,
            ("plans", "list"): 0, ("status",): 0, ("assessments", "show", store.assessment): 0,
        }
        results = run_all(store, list(expected))
        check(results, expected, damaged(plan, 2, "snapshot cannot be decoded ("
                                         "DecodeError: JSON is malformed: invalid character "
                                         "(byte 0))"))
    finally:
        store.snapshots.rewrite(store.plan_id, 2, topic, state)


def test_an_event_of_an_unknown_type_is_reported(store: Store) -> None:
    _, state = store.events.read(store.assessment_id, 5)
    store.events.rewrite(store.assessment_id, 5, "domain.assessment:Assessment.Vanished",
                         state)
    expected = _assessment_commands(store)
    check(run_all(store, list(expected)), expected, damaged(
        store.assessment, 5, "event has an unknown type "
        "'domain.assessment:Assessment.Vanished'"))


def test_an_undecodable_event_is_reported(store: Store) -> None:
    topic, _ = store.events.read(store.assessment_id, 4)
    store.events.rewrite(store.assessment_id, 4, topic, b'{"not": "this event"')
    expected = _assessment_commands(store)
    results = run_all(store, list(expected))
    check(results, expected, damaged(
        store.assessment, 4, "event cannot be decoded (DecodeError: Input data was "
        "truncated)"))


def test_a_deleted_middle_event_is_reported(store: Store) -> None:
    store.events.delete(store.assessment_id, 3)
    expected = _assessment_commands(store)
    check(run_all(store, list(expected)), expected, damaged(
        store.assessment, 3, "event missing (the next stored event is version 4)"))


def test_an_unexpected_error_is_one_line_and_exit_70_unless_debugging(
        sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a fault nobody expected")
    monkeypatch.setattr("interfaces.cli.audit.status_counts", broken)

    result = in_process(sqlite_cli)("status")

    assert (result.code, result.out) == (70, "")
    assert result.err == ("error: internal error (RuntimeError); nothing was changed by the "
                          "failed command\n")
    debugging = in_process(sqlite_cli, COMPLIANCE_DEBUG="1")("status")
    assert "Traceback" in debugging.err
    assert "RuntimeError: a fault nobody expected" in debugging.err
