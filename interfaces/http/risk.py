"""/api/risk: the importers ranked by risk score, one importer's explained score, the
account tiers, the compliance rates, and running an assessment. What `compliance risk
assess|top|show`, `compliance tiers` and `compliance rates` offer, as the caller.

The ranking and the scores are restricted to the caller's scope (a district analyst sees
its districts' importers only; one outside is "not found", like a missing one). Tiers and
the rates by industry and by area are national figures (the tiers' thresholds are set over
every importer's value; a rate is a national estimate); the rates by district are those of
the caller's districts.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.access import Principal, acting_as
from application.errors import NotFoundError
from domain.values import parse_district, parse_importer_number, parse_reason
from infrastructure.risk_tables import RiskTables
from interfaces.http.analysis_services import analysis, checked
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.reads import csv_response, wants_csv

READ = "read:risk"
TAGS = ["risk"]
log = logging.getLogger("compliance.http")


class FactorOut(msgspec.Struct):
    factor: str
    value: str
    effect: float
    """How much this factor multiplies the score (1.0 for the base factors)."""


class RiskScore(msgspec.Struct):
    """One importer's score (expected non-compliant value, adjusted by its history) with
    every factor that made it."""

    importer_number: str
    district: str
    industry: str
    tier: int
    score: float
    category: str
    impact_level: str
    annual_value: float
    cumulative_share: float
    lines: int
    discrepancies: int
    compliance_rate: float
    compliance_low: float
    compliance_high: float
    expected_noncompliant_value: float
    revenue_at_risk: float
    method_version: str
    run_id: str
    explanation: list[FactorOut]


class RiskRanking(msgspec.Struct):
    items: list[RiskScore]


class TierRow(msgspec.Struct):
    tier: int
    importers: int
    value: float
    value_share: float


class RateRow(msgspec.Struct):
    grain: str
    key: str
    lines: int
    discrepancies: int
    compliance_rate: float
    compliance_low: float
    compliance_high: float
    run_id: str


class RiskRunRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    year: Annotated[int, msgspec.Meta(ge=1990, le=2100)] | None = None
    """Year of trade activity and samples; default: the current year."""


class RiskRunResult(msgspec.Struct):
    run_id: str
    year: int
    method_version: str
    importers: int
    changed: int
    input_batches: list[str]


def _order(by: str) -> Any:
    if by == "likelihood":
        return lambda row: (row["compliance_rate"], -row["score"], row["importer_number"])
    return lambda row: (-row["score"], row["importer_number"])


def scoped_ranking(tables: RiskTables, caller: Principal, limit: int, district: str | None,
                   tier: int | None, by: str) -> list[dict[str, Any]]:
    """The ranking of what the caller may see: each of its districts ranked by the table
    (best `limit` of each), merged in the same order, so the top `limit` are exact."""
    if district is not None and not caller.sees_district(district):
        return []
    districts, importers = caller.list_scope()
    if importers is not None:
        found = [tables.score_of(number) for number in sorted(importers)]
        rows = [row for row in found if row is not None
                and district in (None, row["district"]) and tier in (None, row["tier"])
                and (by != "likelihood" or row["lines"] > 0)]
    elif districts is None or district is not None:
        return tables.ranking(limit, district, tier, by)
    else:
        rows = [row for code in sorted(districts)
                for row in tables.ranking(limit, code, tier, by)]
    return sorted(rows, key=_order(by))[:limit]


@get("/api/risk", sync_to_thread=True, tags=TAGS, operation_id="risk-ranking",
     summary="The importers the caller may see, ranked by risk (as `compliance risk top`)")
def ranking(
        request: Request[Any, Any, Any], caller: Caller,
        limit: Annotated[int, QueryParameter(ge=1, le=100_000)] = 20,
        district: Annotated[str | None, QueryParameter(
            description="One district, 01-42")] = None,
        tier: Annotated[int | None, QueryParameter(ge=1, le=4)] = None,
        by: Annotated[Literal["score", "likelihood"], QueryParameter(
            description="score: expected non-compliant value, adjusted; likelihood: "
                        "lowest estimated compliance first")] = "score",
) -> Response[RiskRanking]:
    caller.require(READ)
    chosen = checked(lambda: parse_district(district))[0] if district is not None else None
    with acting_as(caller):
        rows = scoped_ranking(analysis(request).risk_tables, caller, limit, chosen, tier, by)
    if wants_csv(request):  # `Accept: text/csv`: the same rows, factors as one cell
        table: Response[Any] = csv_response(
            ({**{k: v for k, v in row.items() if k != "explanation"},
              "explanation": "; ".join(f"{f['factor']}: {f['value']}"
                                       for f in row["explanation"])} for row in rows),
            "risk-ranking")
        return table
    return Response(RiskRanking([_score(row) for row in rows]))


@get("/api/risk/tiers", sync_to_thread=True, tags=TAGS, operation_id="risk-tiers",
     summary="Importers and value share per account tier (as `compliance tiers`)")
def tiers(request: Request[Any, Any, Any], caller: Caller) -> list[TierRow]:
    caller.require(READ)
    found = {int(row["tier"]): row for row in analysis(request).risk_tables.tiers()}
    if not found:
        return []
    total = sum(float(row["value"] or 0) for row in found.values()) or 1.0
    return [TierRow(tier, int(found[tier]["importers"]) if tier in found else 0,
                    round(float(found[tier]["value"] or 0), 2) if tier in found else 0.0,
                    float(found[tier]["value"] or 0) / total if tier in found else 0.0)
            for tier in (1, 2, 3, 4)]


@get("/api/risk/rates", sync_to_thread=True, tags=TAGS, operation_id="risk-rates",
     summary="Compliance rates with 95% intervals from the random samples, lowest first")
def rates(request: Request[Any, Any, Any], caller: Caller,
          by: Annotated[Literal["industry", "area", "district"], QueryParameter(
              description="The grain of the rates")] = "industry") -> list[RateRow]:
    caller.require(READ)
    rows = analysis(request).risk_tables.rates(by)
    if by == "district":
        rows = [row for row in rows if caller.sees_district(row["key"])]
    return [msgspec.convert(row, RateRow, strict=False) for row in rows]


@get("/api/risk/{importer_number:str}", sync_to_thread=True, tags=TAGS,
     operation_id="risk-show",
     summary="One importer's score with every contributing factor (as `risk show`)")
def show(request: Request[Any, Any, Any], caller: Caller,
         importer_number: FromPath[str]) -> RiskScore:
    caller.require(READ)
    number = checked(lambda: parse_importer_number(importer_number))[0]
    row = analysis(request).risk_tables.score_of(number)
    if row is None or not caller.sees(row["district"], number):
        raise NotFoundError("risk score of importer", number)  # out of scope: as if none
    return _score(row)


@post("/api/risk/runs", sync_to_thread=True, tags=TAGS, status_code=201,
      operation_id="risk-runs-create",
      summary="Tier, rate and score every importer; a RiskAssessed event per change")
def run(request: Request[Any, Any, Any], caller: Caller,
        data: JSONBody[RiskRunRequest]) -> RiskRunResult:
    caller.require("risk_run")
    checked(lambda: parse_reason(data.reason))
    services = services_of(request)
    year = data.year or services.app.clock().year
    with acting_as(caller):
        summary = analysis(request).risk_run.assess(year, actor=caller.actor)
    log.info("risk run %s by %s: %s", summary.run_id, caller.actor, data.reason)
    return msgspec.convert(summary, RiskRunResult, from_attributes=True)


def _score(row: dict[str, Any]) -> RiskScore:
    return msgspec.convert(row, RiskScore, strict=False)


ROUTES: list[Any] = [ranking, tiers, rates, show, run]
