"""The list commands page through the views: `--limit` rows a page, a `next page: --cursor
...` line while more follow (on stderr under --json, which stays one array), `--sort` and
`--desc`; following the cursors gives every row of the unpaged list exactly once, in its
order. A bad cursor, limit or sort exits 2 naming it. `status` counts from the views."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.settings import load_settings
from interfaces.composition import initialise_store
from tests.conftest import drop_schema
from tests.e2e.cli import Cli, Result

DEMO = ("demo", "--accounts", "100", "--seed", "3", "--today", "2026-11-01")
NEXT = "next page: --cursor "


@pytest.fixture(scope="module", params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[Cli]:
    """One demo store per store kind for the whole module: every test here only reads."""
    home: Path = tmp_path_factory.mktemp(f"cli-lists-{request.param}")
    env = {"COMPLIANCE_SEAL_KEY": str(home / "keys" / "seal.key")}
    schema = None
    if request.param == "sqlite":
        env["COMPLIANCE_SQLITE_PATH"] = str(home / "var" / "compliance.db")
    else:
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        env |= {"COMPLIANCE_DATABASE_URL": request.getfixturevalue("postgres_url"),
                "COMPLIANCE_POSTGRES_SCHEMA": schema}
    try:
        cli = Cli(env)
        initialise_store(load_settings(cli.env))
        cli.ok(*DEMO)
        yield cli
    finally:
        if schema is not None:
            drop_schema(env["COMPLIANCE_DATABASE_URL"], schema)


def next_cursor(text: str) -> str | None:
    lines = [line for line in text.splitlines() if line.startswith(NEXT)]
    assert len(lines) <= 1, text
    return lines[0].removeprefix(NEXT) if lines else None


def pages(cli: Cli, *args: str) -> Iterator[Result]:
    """Every page of a list, following the cursor each page prints."""
    cursor: str | None = None
    for _ in range(1000):
        result = cli.ok(*args, *(("--cursor", cursor) if cursor else ()))
        yield result
        cursor = next_cursor(result.err if "--json" in args else result.out)
        if cursor is None:
            return
    raise AssertionError("the cursors never reached the last page")


def test_paging_a_list_in_text_gives_every_row_once_in_order(demo: Cli) -> None:
    whole = demo.ok("accounts", "list")
    assert next_cursor(whole.out) is None
    *rows, count = whole.out.splitlines()
    assert count == "100 account(s)"
    seen: list[str] = []
    for page in pages(demo, "accounts", "list", "--limit", "30"):
        lines = page.out.splitlines()
        if lines[-1].startswith(NEXT):
            lines.pop()
            assert lines[-1] == "30 account(s)"
        assert page.err == ""
        seen += lines[:-1]
    assert seen == rows


@pytest.mark.parametrize(("command", "sort"), [
    ("assessments", "due_on"), ("plans", "state"), ("enforcement", "officer"),
    ("verifications", "opened_on"), ("accounts", "district")])
def test_paging_with_a_sort_both_ways_gives_every_row_once(demo: Cli, command: str,
                                                           sort: str) -> None:
    everything = demo.ok(command, "list", "--json").json()
    numbers = {row["number"] for row in everything}
    assert len(numbers) == len(everything) > 1
    limit = math.ceil(len(everything) / 3)  # three pages or so
    for direction in ((), ("--desc",)):
        listed: list[str] = []
        for page in pages(demo, command, "list", "--json", "--limit", str(limit), "--sort",
                          sort, *direction):
            rows = page.json()  # stdout stays one JSON array
            assert 1 <= len(rows) <= limit
            listed += [row["number"] for row in rows]
        assert len(listed) == len(set(listed)) == len(numbers)
        assert set(listed) == numbers
        if sort in ("district", "state"):
            values = [next(r[sort] for r in everything if r["number"] == n) for n in listed]
            assert values == sorted(values, reverse=bool(direction))


def test_a_cursor_keeps_the_filters_it_is_given(demo: Cli) -> None:
    closed = demo.ok("assessments", "list", "--state", "closed", "--json").json()
    assert len(closed) > 2
    first = demo.ok("assessments", "list", "--state", "closed", "--limit", "2")
    cursor = next_cursor(first.out)
    assert cursor is not None
    rest = demo.ok("assessments", "list", "--state", "closed", "--cursor", cursor, "--json")
    assert [row["number"] for row in rest.json()] == [row["number"] for row in closed[2:]]
    assert {row["state"] for row in rest.json()} == {"closed"}


def test_overdue_verifications_page_through_the_overdue_only(demo: Cli) -> None:
    overdue = demo.ok("verifications", "list", "--overdue", "--json").json()
    listed = [row for page in pages(demo, "verifications", "list", "--overdue", "--json",
                                    "--limit", "1") for row in page.json()]
    assert listed == overdue
    assert all(row["overdue"] for row in listed)


@pytest.mark.parametrize("bad", ["not-a-cursor", "AAAAAAAAAAAAAAAAAAAAAAAA", "%%%"])
def test_a_garbled_cursor_exits_2_naming_it(demo: Cli, bad: str) -> None:
    result = demo("plans", "list", "--cursor", bad)
    assert result.code == 2, result
    assert result.err.startswith("error: invalid input: cursor=")
    assert "Traceback" not in result.err
    assert result.out == ""


def test_a_cursor_of_another_order_or_list_is_refused(demo: Cli) -> None:
    cursor = next_cursor(demo.ok("assessments", "list", "--limit", "2").out)
    assert cursor is not None
    for args in (("assessments", "list", "--sort", "state"), ("assessments", "list", "--desc"),
                 ("plans", "list"), ("accounts", "list")):
        result = demo(*args, "--cursor", cursor)
        assert result.code == 2, (args, result)
        assert result.err.startswith("error: invalid input: cursor="), args
        assert "another list or order" in result.err


def test_a_bad_limit_or_sort_exits_2(demo: Cli) -> None:
    for limit in ("0", "1001", "-3"):
        result = demo("accounts", "list", "--limit", limit)
        assert result.code == 2, result
        assert result.err.startswith("error: invalid input: limit="), result.err
    sorted_badly = demo("assessments", "list", "--sort", "bogus")
    assert sorted_badly.code == 2
    assert "--sort" in sorted_badly.err
    district = demo("assessments", "list", "--district", "99")
    assert (district.code, district.err.startswith("error: invalid input: district=")) == (
        2, True)
    importer = demo("enforcement", "list", "--importer", "nobody")
    assert (importer.code, importer.err.startswith(
        "error: invalid input: importer_number=")) == (2, True)


def test_status_counts_from_the_views(demo: Cli) -> None:
    counts = demo.ok("status", "--json").json()
    assert counts["totals"]["ImporterAccount"] == 100
    listed = demo.ok("assessments", "list", "--json").json()
    states: dict[str, int] = {}
    for row in listed:
        states[row["state"]] = states.get(row["state"], 0) + 1
    assert counts["aggregates"]["Assessment"] == dict(sorted(states.items()))
    assert counts["aggregates"]["TargetingRule"] == {"recorded": counts["totals"][
        "TargetingRule"]}
    text = demo.ok("status").out.splitlines()
    assert text[-2] == f"events: {counts['events']}"
    assert text[-1].startswith("note: types no view holds are counted from their first")
    assert json.loads(demo.ok("status", "--json").out)["events"] == counts["events"]
