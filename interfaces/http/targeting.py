"""/api/channel-runs, /api/selections, /api/effectiveness: channel decisions for the loaded
declarations, selection plans within capacity, and how targeting performs against random
exams. What `compliance channel|select|effectiveness` offer, as the authenticated caller.

Runs take a `reason` like every command; the services record their own reason (what was
decided, for how many), so the caller's is checked and logged with the run's id.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from eventsourcing.utils import get_topic
from litestar import Request, get, post
from litestar.params import JSONBody, QueryParameter

from application.access import Principal, acting_as
from application.targeting.effectiveness import Comparison, HitRate
from domain.channel_run import ChannelRun
from domain.values import parse_period, parse_reason
from interfaces.http.analysis_services import analysis, checked
from interfaces.http.auth import services_of
from interfaces.http.case_lists import one_route
from interfaces.http.params import Caller
from interfaces.http.problems import InvalidParam, InvalidRequestError

READ = "read:targeting"
log = logging.getLogger("compliance.http")

Seed = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class HitRateOut(msgspec.Struct):
    """Share of examined lines with a discrepancy, with its 95% (Wilson) interval."""

    examined: int
    hits: int
    rate: float
    low: float
    high: float


class ComparisonOut(msgspec.Struct):
    key: str
    targeted: HitRateOut
    random: HitRateOut
    lift: float | None
    clearly_better: bool
    """The intervals do not overlap: targeting beats chance beyond doubt."""


class EffectivenessOut(msgspec.Struct):
    """Overall and by district over the caller's districts; by rule national (rules are
    national criteria)."""

    overall: ComparisonOut
    by_district: list[ComparisonOut]
    by_rule: list[ComparisonOut]


class ChannelRunRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    random_share: float | None = None
    """Share of every channel sent to exam at random, in [0, 1); default: the setting
    COMPLIANCE_CHANNEL_RANDOM_SHARE."""
    seed: Seed = 0


class ChannelRunResult(msgspec.Struct):
    run_id: str
    entries: int
    counts: dict[str, int]
    random_exams: int
    by_basis: dict[str, int]
    rule_versions: list[str]


class ChannelRunItem(msgspec.Struct):
    run_id: str
    at: str
    actor: str
    entries: int
    counts: dict[str, int]
    random_exams: int
    random_share: float
    seed: int
    rule_versions: list[str]
    input_batches: list[str]


class ChannelRunPage(msgspec.Struct):
    """Oldest first; pass `next_cursor` as `cursor` for the next page (null: the last)."""

    items: list[ChannelRunItem]
    next_cursor: str | None = None


class SelectionRequest(msgspec.Struct, forbid_unknown_fields=True):
    """As `compliance select`: without `open_assessments` the plan is recorded and shown
    (a preview of whom to assess); with it, each pick's assessment is opened too (the
    period must then have ended)."""

    period_start: str
    period_end: str
    capacity: int
    reason: str
    random_share: float = 0.1
    exclude_months: Annotated[int, msgspec.Meta(ge=0)] | None = None
    """Leave out accounts assessed this recently; default: the setting
    COMPLIANCE_SELECTION_EXCLUDE_MONTHS."""
    seed: Seed = 0
    open_assessments: bool = False


class Pick(msgspec.Struct):
    importer_number: str
    basis: str
    rank: int
    score: float
    tier: int
    district: str
    reason: str


class SelectionResult(msgspec.Struct):
    plan_id: str
    period: str
    capacity: int
    random_share: float
    picks: list[Pick]
    excluded: dict[str, int]
    opened: list[str]
    not_opened: dict[str, str]


@post("/api/channel-runs", sync_to_thread=True, tags=["targeting"], status_code=201,
      operation_id="channel-runs-create",
      summary="Decide green / amber / red for every loaded declaration not yet decided")
def run_channel(request: Request[Any, Any, Any], caller: Caller,
                data: JSONBody[ChannelRunRequest]) -> ChannelRunResult:
    caller.require("channel_run")
    services = services_of(request)
    checked(lambda: parse_reason(data.reason))
    share = (data.random_share if data.random_share is not None
             else float(services.settings.channel_random_share))
    with acting_as(caller):
        summary = analysis(request).channel.decide(actor=caller.actor, random_share=share,
                                                   seed=data.seed)
    log.info("channel run %s by %s: %s", summary.run_id, caller.actor, data.reason)
    return msgspec.convert(summary, ChannelRunResult, from_attributes=True)


@get("/api/channel-runs", sync_to_thread=True, tags=["targeting"],
     operation_id="channel-runs-list", summary="The channel runs recorded, oldest first")
def list_channel_runs(
        request: Request[Any, Any, Any], caller: Caller,
        cursor: Annotated[str | None, QueryParameter(description="From the previous page's "
                                                            "next_cursor")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000,
                                             description="Runs per page")] = 100,
) -> ChannelRunPage:
    caller.require(READ)
    app = services_of(request).app
    if cursor is not None and not (cursor.isdigit() and len(cursor) <= 18):
        raise InvalidRequestError([InvalidParam("cursor", "not a cursor this list gave")])
    start = int(cursor) + 1 if cursor else 1
    page = app.recorder.select_notifications(start=start, limit=limit + 1,
                                             topics=[get_topic(ChannelRun.EntriesChannelled)])
    items = []
    for notification in page[:limit]:
        event = app.decode_stored_event(notification)
        items.append(ChannelRunItem(
            run_id=str(event.originator_id), at=event.timestamp.isoformat(),
            actor=event.actor, entries=event.entries, counts=dict(event.counts),
            random_exams=event.random_exams, random_share=event.random_share,
            seed=event.seed, rule_versions=list(event.rule_versions),
            input_batches=[str(batch) for batch in event.input_batches]))
    more = len(page) > limit
    return ChannelRunPage(items, str(page[limit - 1].id) if more else None)


@post("/api/selections", sync_to_thread=True, tags=["targeting"], status_code=201,
      operation_id="selections-create",
      summary="Pick the next assessments within capacity by risk, keeping a random share")
def plan_selection(request: Request[Any, Any, Any], caller: Caller,
                   data: JSONBody[SelectionRequest]) -> SelectionResult:
    caller.require("selection_plan")
    services = services_of(request)
    period, _ = checked(lambda: parse_period(data.period_start, data.period_end),
                        lambda: parse_reason(data.reason))
    months = (data.exclude_months if data.exclude_months is not None
              else services.settings.selection_exclude_months)
    with acting_as(caller):
        result = analysis(request).selection.plan(
            period, data.capacity, data.random_share, actor=caller.actor,
            exclude_months=months, seed=data.seed, open_cases=data.open_assessments)
    log.info("selection plan %s by %s: %s", result.plan_id, caller.actor, data.reason)
    return msgspec.convert(result, SelectionResult, from_attributes=True)


@get("/api/effectiveness", sync_to_thread=True, tags=["targeting"],
     operation_id="effectiveness",
     summary="Hit rate of targeted vs random exams: overall, by district and by rule")
def effectiveness(request: Request[Any, Any, Any], caller: Caller) -> EffectivenessOut:
    caller.require(READ)
    with acting_as(caller):
        result = analysis(request).effectiveness.measure()
    districts = [row for row in result.by_district if caller.sees_district(row.key)]
    overall = result.overall if _national(caller) else _combined(caller, districts)
    return EffectivenessOut(_comparison(overall), [_comparison(r) for r in districts],
                            [_comparison(r) for r in result.by_rule])


def _national(caller: Principal) -> bool:
    return caller.list_scope() == (None, None)


def _combined(caller: Principal, rows: list[Comparison]) -> Comparison:
    """The caller's districts together: lines are counted in exactly one district."""
    def total(rates: list[HitRate]) -> HitRate:
        return HitRate.of(sum(r.hits for r in rates), sum(r.examined for r in rates))
    label = ",".join(sorted(caller.districts or ())) or "scope"
    return Comparison(f"districts {label}", total([r.targeted for r in rows]),
                      total([r.random for r in rows]))


def _comparison(row: Comparison) -> ComparisonOut:
    return ComparisonOut(row.key, msgspec.convert(row.targeted, HitRateOut,
                                                  from_attributes=True),
                         msgspec.convert(row.random, HitRateOut, from_attributes=True),
                         row.lift, row.clearly_better)


ROUTES: list[Any] = [one_route(run_channel, list_channel_runs), plan_selection,
                     effectiveness]  # one_route: one path, registered together
