"""Paged lists and counts over the views, on both stores, over a demo population: paging
with a small page returns every row exactly once and in order, for every sort in both
directions; filters and scopes (districts, importers) keep exactly the rows they name; bad
sorts, limits, cursors and filter values are refused naming the field; the counts equal
what replaying the log says."""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.compliance_cases import ALL_TYPES, CASE_TYPES, ComplianceCases
from application.log_replay import replay
from application.queries import case_summaries, importer_summary, register_summary
from domain.errors import InvalidValueError
from infrastructure.settings import load_settings
from interfaces.composition import build_application, initialise_store
from interfaces.demo_population import DemoClock, generate
from projections import queries
from projections.listing import (
    ACCOUNT_SORTS,
    CASE_SORTS,
    CASE_STATES,
    Page,
    account_page,
    case_page,
)
from projections.queries import (
    CASE_TYPE_NAMES,
    RECORDED,
    After,
    latest_versions,
    status_counts_from_views,
)
from projections.stores import ViewStore
from projections.worker import Projections
from tests.conftest import drop_schema, unique_schema

TODAY = date(2026, 11, 1)
Row = dict[str, Any]


@dataclass
class Loaded:
    app: ComplianceCases
    store: ViewStore
    cases: list[Row]
    """Every wl_cases row, read straight from the table: what the lists must return."""
    accounts: list[Row]


@pytest.fixture(scope="module", params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def loaded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """A demo population (120 accounts, their cases in every kind), views caught up."""
    home: Path = tmp_path_factory.mktemp(f"lists-{request.param}")
    environ = {"COMPLIANCE_SEAL_KEY": str(home / "keys" / "seal.key")}
    schema = None
    if request.param == "sqlite":
        environ["COMPLIANCE_SQLITE_PATH"] = str(home / "ledger.db")
    else:
        schema = unique_schema()
        environ |= {"COMPLIANCE_DATABASE_URL": request.getfixturevalue("postgres_url"),
                    "COMPLIANCE_POSTGRES_SCHEMA": schema}
    try:
        settings = load_settings(environ)
        initialise_store(settings)
        clock = DemoClock(datetime.combine(TODAY, time(9), tzinfo=UTC))
        app = build_application(settings, clock=clock, access_control=False)
        try:
            generate(app, clock, accounts=120, seed=13, today=TODAY)
            projections = Projections(app)
            projections.catch_up()
            store = projections.store
            yield Loaded(app, store, _table(store, "wl_cases"), _table(store, "ar_accounts"))
        finally:
            app.close()
    finally:
        if schema is not None:
            drop_schema(environ["COMPLIANCE_DATABASE_URL"], schema)


def _table(store: ViewStore, table: str) -> list[Row]:
    columns = {"wl_cases": ["case_id", "number", "kind", "importer_number", "district",
                            "officer", "state", "due_on", "opened_on", "closed"],
               "ar_accounts": ["importer_id", "importer_number", "legal_name", "district",
                               "industry", "status", "tier", "open_cases",
                               "registered_on"]}[table]
    rows = [dict(zip(columns, row, strict=True)) for row in store.rows(
        f"SELECT {', '.join(columns)} FROM {store.qualified(table)}")]
    if table == "wl_cases":  # a case is overdue by its earliest open due item
        earliest: dict[str, str] = {}
        for case_id, due_on in store.rows(
                f"SELECT case_id, due_on FROM {store.qualified('wl_due')} WHERE done = 0"):
            earliest[case_id] = min(due_on, earliest.get(case_id, due_on))
        for row in rows:
            row["open_due"] = earliest.get(row["case_id"])
    return rows


def every_page(read: Callable[[str | None], Page], limit: int) -> list[Row]:
    """Follow the cursors from the first page to the last."""
    rows: list[Row] = []
    cursor = None
    for _ in range(10_000):
        page = read(cursor)
        assert len(page.rows) <= limit
        rows += page.rows
        if page.next_cursor is None:
            return rows
        assert len(page.rows) == limit  # only a last page is short
        cursor = page.next_cursor
    raise AssertionError("the cursors never reached the last page")


def _text(column: str) -> Callable[[Row], Any]:
    """A text column as the lists sort it: missing values as ''."""
    def key(row: Row) -> Any:
        return row[column] or ""
    return key


CASE_KEYS: dict[str, Callable[[Row], Any]] = {name: _text(name) for name in CASE_SORTS}
ACCOUNT_KEYS: dict[str, Callable[[Row], Any]] = {
    "importer_number": lambda r: r["importer_number"], "legal_name": lambda r: r["legal_name"],
    "district": lambda r: r["district"], "industry": lambda r: r["industry"],
    "state": lambda r: r["status"], "tier": lambda r: r["tier"] or 0,
    "open_cases": lambda r: r["open_cases"], "registered_on": lambda r: r["registered_on"]}


def ordered(rows: list[Row], key: Callable[[Row], Any], tie: str, descending: bool) -> list[str]:
    return [row[tie] for row in sorted(rows, key=lambda r: (key(r), r[tie]),
                                       reverse=descending)]


# -- paging -------------------------------------------------------------------------------


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort", list(CASE_SORTS))
def test_paging_cases_returns_every_case_once_in_order(loaded: Loaded, sort: str,
                                                       descending: bool) -> None:
    assert len(loaded.cases) > 60
    assert {row["kind"] for row in loaded.cases} == set(CASE_STATES)
    listed = every_page(lambda cursor: case_page(
        loaded.store, kind=None, districts=None, importers=None, sort=sort,
        descending=descending, limit=7, cursor=cursor), 7)
    numbers = [row["number"] for row in listed]
    assert len(numbers) == len(set(numbers)) == len(loaded.cases)
    assert numbers == ordered(loaded.cases, CASE_KEYS[sort], "number", descending)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort", list(ACCOUNT_SORTS))
def test_paging_accounts_returns_every_account_once_in_order(loaded: Loaded, sort: str,
                                                             descending: bool) -> None:
    listed = every_page(lambda cursor: account_page(
        loaded.store, districts=None, importers=None, sort=sort, descending=descending,
        limit=9, cursor=cursor), 9)
    numbers = [row["importer_number"] for row in listed]
    assert len(numbers) == len(set(numbers)) == len(loaded.accounts) == 120
    assert numbers == ordered(loaded.accounts, ACCOUNT_KEYS[sort], "importer_number",
                              descending)


def _of_kind(store: ViewStore, kind: str, cursor: str | None) -> Page:
    return case_page(store, kind=kind, districts=None, importers=None, sort="due_on",
                     limit=3, cursor=cursor)


def test_one_kind_pages_through_its_cases_only(loaded: Loaded) -> None:
    for kind in CASE_STATES:
        listed = every_page(partial(_of_kind, loaded.store, kind), 3)
        expected = [row for row in loaded.cases if row["kind"] == kind]
        assert [row["number"] for row in listed] == ordered(
            expected, CASE_KEYS["due_on"], "number", False)
        assert {row["kind"] for row in listed} == {kind}


def test_a_page_holding_every_row_has_no_next_cursor(loaded: Loaded) -> None:
    page = case_page(loaded.store, kind=None, districts=None, importers=None, limit=1000)
    assert (len(page.rows), page.next_cursor) == (len(loaded.cases), None)
    exact = case_page(loaded.store, kind=None, districts=None, importers=None,
                      limit=len(loaded.cases))
    assert exact.next_cursor is None
    assert set(exact.rows[0]) == {"case_id", "number", "kind", "importer_number", "district",
                                  "officer", "state", "next_step", "due_on", "opened_on",
                                  "closed"}
    assert all(isinstance(row["closed"], bool) for row in exact.rows)


# -- filters and scope ------------------------------------------------------------------


def numbers(page: Page, key: str = "number") -> list[str]:
    return [row[key] for row in page.rows]


def cases_where(loaded: Loaded, keep: Callable[[Row], bool]) -> list[str]:
    return sorted(row["number"] for row in loaded.cases if keep(row))


def test_filters_keep_exactly_the_cases_they_name(loaded: Loaded) -> None:
    store, cases = loaded.store, loaded.cases
    some = cases[len(cases) // 2]
    officer = next(row["officer"] for row in cases if row["officer"])

    def listed(**filters: Any) -> list[str]:
        return numbers(case_page(store, districts=None, importers=None, limit=1000,
                                 **{"kind": None, **filters}))

    assert listed(kind="assessment", state="closed") == cases_where(
        loaded, lambda r: (r["kind"], r["state"]) == ("assessment", "closed"))
    assert listed(district=str(int(some["district"]))) == cases_where(
        loaded, lambda r: r["district"] == some["district"])  # "7" means district 07
    assert listed(importer_number=some["importer_number"].lower()) == cases_where(
        loaded, lambda r: r["importer_number"] == some["importer_number"])
    assert listed(officer=officer) == cases_where(loaded, lambda r: r["officer"] == officer)
    assert listed(officer="unassigned") == cases_where(loaded, lambda r: r["officer"] is None)
    assert listed(overdue_on=TODAY) == cases_where(
        loaded, lambda r: not r["closed"] and bool(r["open_due"])
        and r["open_due"] < TODAY.isoformat())
    assert listed(overdue_on=TODAY)  # the demo leaves some cases overdue
    # values are bound, never interpolated: a quote is just a name nobody has
    assert listed(officer="x' OR '1'='1") == []


def test_account_filters_keep_exactly_the_accounts_they_name(loaded: Loaded) -> None:
    accounts = loaded.accounts
    district = accounts[0]["district"]
    tier = next(row["tier"] for row in accounts if row["tier"])
    checks: list[tuple[dict[str, Any], Callable[[Row], bool]]] = [
        ({"state": "active"}, lambda r: r["status"] == "active"),
        ({"district": district}, lambda r: r["district"] == district),
        ({"tier": tier}, lambda r: r["tier"] == tier)]
    for filters, keep in checks:
        page = account_page(loaded.store, districts=None, importers=None, limit=1000,
                            **filters)
        assert numbers(page, "importer_number") == sorted(
            row["importer_number"] for row in accounts if keep(row)), filters


def test_scope_keeps_a_reader_to_their_districts_and_importers(loaded: Loaded) -> None:
    store, cases = loaded.store, loaded.cases
    districts = sorted({row["district"] for row in cases})[:2]
    importers = sorted({row["importer_number"] for row in cases})[:3]

    def listed(**scope: Any) -> list[str]:
        return numbers(case_page(store, kind=None, limit=1000, **scope))

    assert listed(districts=frozenset(districts), importers=None) == cases_where(
        loaded, lambda r: r["district"] in districts)
    assert listed(districts=None, importers=frozenset(importers)) == cases_where(
        loaded, lambda r: r["importer_number"] in importers)
    assert listed(districts=frozenset(), importers=None) == []
    assert listed(districts=None, importers=frozenset()) == []
    outside = next(d for d in sorted({r["district"] for r in cases}) if d not in districts)
    assert numbers(case_page(store, kind=None, districts=frozenset(districts),
                             importers=None, district=outside)) == []
    in_scope = account_page(store, districts=frozenset(districts[:1]), importers=None,
                            limit=1000)
    assert {row["district"] for row in in_scope.rows} == {districts[0]}
    assert len(in_scope.rows) == sum(r["district"] == districts[0] for r in loaded.accounts)
    assert account_page(store, districts=None, importers=frozenset()).rows == []


def test_a_cursor_pages_within_the_scope_it_is_given(loaded: Loaded) -> None:
    """A cursor grants nothing: the next page is scoped and filtered anew."""
    first = case_page(loaded.store, kind=None, districts=None, importers=None, limit=2)
    assert first.next_cursor is not None
    district = sorted({row["district"] for row in loaded.cases})[0]
    scoped = case_page(loaded.store, kind=None, districts=frozenset({district}),
                       importers=None, limit=1000, cursor=first.next_cursor)
    assert numbers(scoped) == [n for n in cases_where(loaded, lambda r: r["district"]
                                                      == district) if n > first.rows[-1][
                                                          "number"]]


# -- refusals -----------------------------------------------------------------------------


def refused(field: str, read: Callable[[], object]) -> None:
    with pytest.raises(InvalidValueError) as error:
        read()
    assert error.value.field == field


def _tampered(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_bad_sorts_limits_cursors_and_filters_are_refused_naming_the_field(
        loaded: Loaded) -> None:
    store = loaded.store

    def cases(**options: Any) -> Page:
        return case_page(store, **{"kind": None, "districts": None, "importers": None,
                                   **options})

    cursor = cases(limit=2).next_cursor
    assert cursor is not None
    for sort in ("bogus", "number; DROP TABLE wl_cases", "case_id", "next_step"):
        refused("sort", partial(cases, sort=sort))
    for limit in (0, -1, 1001, True):
        refused("limit", partial(cases, limit=limit))
    for bad in ("", "not a cursor!", "AAAA", cursor[:-4], cursor + "A", _tampered(cursor),
                "é" + cursor):
        refused("cursor", partial(cases, cursor=bad))
    refused("cursor", lambda: cases(cursor=cursor, sort="due_on"))
    refused("cursor", lambda: cases(cursor=cursor, descending=True))
    refused("cursor", lambda: cases(cursor=cursor, kind="assessment"))
    refused("cursor", lambda: account_page(store, districts=None, importers=None,
                                           cursor=cursor, sort="importer_number"))
    refused("district", lambda: cases(district="99"))
    refused("district", lambda: cases(districts=frozenset({"11", "x"})))
    refused("importer_number", lambda: cases(importer_number="12-34"))
    refused("importer_number", lambda: cases(importers=frozenset({"nobody"})))
    refused("state", lambda: cases(kind="assessment", state="escalated"))
    refused("state", lambda: cases(state="nope"))
    refused("kind", lambda: cases(kind="rule"))
    refused("sort", lambda: account_page(store, districts=None, importers=None,
                                         sort="number"))
    refused("tier", lambda: account_page(store, districts=None, importers=None, tier=5))
    refused("state", lambda: account_page(store, districts=None, importers=None,
                                          state="draft"))
    # refused even when the scope sees nothing
    refused("sort", lambda: cases(districts=frozenset(), sort="bogus"))


# -- what the lists print and the counts --------------------------------------------------


def test_account_rows_and_versions_equal_the_accounts_themselves(loaded: Loaded) -> None:
    app, store = loaded.app, loaded.store
    page = account_page(store, districts=None, importers=None, limit=1000)
    versions = latest_versions(store, app.recorder, [row["importer_id"] for row in page.rows])
    assert [register_summary(row, versions[row["importer_id"]]) for row in page.rows] == [
        importer_summary(app.get_importer(row["importer_number"])) for row in page.rows]
    assert latest_versions(store, app.recorder, []) == {}
    assert latest_versions(store, app.recorder, [str(uuid.uuid4())]) == {}


def test_case_summaries_complete_a_page_in_its_order(loaded: Loaded) -> None:
    page = case_page(loaded.store, kind=None, districts=None, importers=None,
                     sort="opened_on", descending=True, limit=25)
    summaries = case_summaries(loaded.app, [UUID(row["case_id"]) for row in page.rows])
    assert [s["number"] for s in summaries] == numbers(page)
    assert [s["state"] for s in summaries] == [row["state"] for row in page.rows]


def test_status_counts_from_the_views_equal_a_replay_of_the_log(loaded: Loaded) -> None:
    app, store = loaded.app, loaded.store
    replayed: dict[str, Counter[str]] = {}
    for aggregate in replay(app.recorder, app.mapper, ALL_TYPES).values():
        state = getattr(aggregate, "state", None) or getattr(aggregate, "status", None)
        label = state.value if state is not None and type(aggregate) in CASE_TYPES \
            else RECORDED
        replayed.setdefault(type(aggregate).__name__, Counter())[label] += 1
    counts = status_counts_from_views(store, app.recorder)
    assert counts["aggregates"] == {kind: dict(sorted(c.items()))
                                    for kind, c in sorted(replayed.items())}
    assert counts["totals"] == {kind: sum(c.values()) for kind, c in replayed.items()}
    assert counts["events"] == app.recorder.max_notification_id()


def test_status_counts_are_scoped_like_the_lists(loaded: Loaded) -> None:
    district = sorted({row["district"] for row in loaded.cases})[0]
    counts = status_counts_from_views(loaded.store, loaded.app.recorder,
                                      districts=frozenset({district}))
    expected: dict[str, Counter[str]] = {}
    for row in loaded.cases:
        if row["district"] == district:
            expected.setdefault(CASE_TYPE_NAMES[row["kind"]], Counter())[row["state"]] += 1
    for row in loaded.accounts:
        if row["district"] == district:
            expected.setdefault("ImporterAccount", Counter())[row["status"]] += 1
    assert counts["aggregates"] == {kind: dict(sorted(c.items()))
                                    for kind, c in sorted(expected.items())}
    nothing = status_counts_from_views(loaded.store, loaded.app.recorder,
                                       districts=None, importers=frozenset())
    assert (nothing["aggregates"], nothing["totals"]) == ({}, {})


def test_overdue_is_against_the_day_given(loaded: Loaded) -> None:
    later = TODAY + timedelta(days=4000)
    page = case_page(loaded.store, kind=None, districts=None, importers=None, limit=1000,
                     overdue_on=later)
    assert numbers(page) == cases_where(loaded, lambda r: not r["closed"]
                                        and bool(r["open_due"]))


def _walk_after(read: Callable[[After], list[Row]], key: Callable[[Row], list[str]],
                limit: int) -> list[Row]:
    """Every row of a list read a page at a time after the last row's key."""
    rows: list[Row] = []
    after = After(None, limit)
    for _ in range(10_000):
        page = read(after)
        assert len(page) <= limit
        rows += page
        if len(page) < limit:
            return rows
        after = After(key(page[-1]), limit)
    raise AssertionError("paging never reached the end of the list")


@pytest.mark.parametrize("national", [True, False], ids=["national", "one district"])
def test_the_work_list_and_due_items_page_after_a_key_in_the_query(
        loaded: Loaded, national: bool) -> None:
    """What the HTTP work list pages by: each row of the whole list once, in its order,
    each page read by the query itself (LIMIT after the key, by code point)."""
    store = loaded.store
    busiest = Counter(row["district"] for row in loaded.cases if not row["closed"])
    district = None if national else busiest.most_common(1)[0][0]
    cases = queries.worklist(store, TODAY, district=district)
    paged = _walk_after(lambda after: queries.worklist(store, TODAY, district=district,
                                                       after=after),
                        lambda row: [row["district"], row["number"]], 2)
    assert len(cases) > 4  # three pages at least
    assert [row["number"] for row in paged] == [row["number"] for row in cases]
    assert [[r["district"], r["number"]] for r in cases] == sorted(
        [r["district"], r["number"]] for r in cases)

    busiest_due = Counter(row["district"] for row in queries.due_items(store, TODAY))
    district = None if national else busiest_due.most_common(1)[0][0]
    due = queries.due_items(store, TODAY, district=district)
    limit = 3 if national else 1
    paged_due = _walk_after(lambda after: queries.due_items(store, TODAY, district=district,
                                                            after=after),
                            lambda row: row["sort_key"], limit)
    assert len(due) > limit  # two pages at least
    assert [row["item"] for row in paged_due] == [row["item"] for row in due]
    assert all("sort_key" not in row for row in due)  # only a paged read carries it
    assert [row["sort_key"] for row in paged_due] == sorted(
        row["sort_key"] for row in paged_due)
