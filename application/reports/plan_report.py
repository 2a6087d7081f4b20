"""The Trade Compliance and Enforcement Plan for a period, national or one district: the
risk picture, the national criteria in force, the selection plan, the cases under way, the
verifications due and how targeting compares with chance. Every figure is read through
the sources port (views and results tables as of one log position), so a re-issue at the
same position shows the same numbers; every section says so plainly when it has none."""

from __future__ import annotations

from typing import Any

from application.reports import charts
from application.reports.document import GENERATOR_VERSION, ReportDocument
from application.reports.periodic_render import district_label, render
from application.reports.periodic_sections import Stamp, stamp
from application.reports.periods import ReportPeriod, parse_period, parse_report_district
from application.reports.picture import (
    concentration,
    concentration_chart,
    industry_label,
    rate_rows,
    rates_chart,
    targeting,
    targeting_chart,
)
from application.reports.sources import PeriodicSources, Row
from application.reports.timeline import field_title
from domain.targeting_rule import RuleState, TargetingRule

TOP_ACCOUNTS = 15
PICKS_LISTED = 60
CLOSED_PLAN_STATES = ("closed_effective", "escalated")
CLOSED_ACTION_STATES = ("closed", "withdrawn", "rejected", "paid")


def build_plan(sources: PeriodicSources, period: str, district: str | None, *,
               position: int | None = None) -> ReportDocument:
    """Parameters are checked before the views are touched, so a refused request costs
    nothing and changes nothing."""
    chosen = parse_period(period, sources.today())
    where = parse_report_district(district)
    at = stamp(sources, position)
    scope = f"district {district_label(where)}" if where else "national"
    title = f"Trade Compliance and Enforcement Plan {chosen.label} ({scope})"
    sections = {
        "risk": _risk_picture(sources, where),
        "criteria": _criteria(sources.rules(), chosen, where),
        "selection": _selection(sources, chosen, where),
        "cases": _cases(sources, at, where),
        "verifications": _verifications(sources, chosen, at, where),
        "targeting": _targeting(sources, chosen, where),
    }
    html = render("plan.html", title=title, position=at.position, as_of=at.as_of,
                  period=chosen, district=where, scope=scope, **sections)
    parameters = {"period": chosen.label, "district": where or "national"}
    return ReportDocument(
        kind="plan", title=title, html=html, as_of=at.as_of, position=at.position,
        parameters=parameters, district=where,
        subject=f"Trade Compliance and Enforcement Plan, {chosen.label}, {scope}",
        keywords=("trade compliance", "enforcement plan", chosen.label, scope,
                  GENERATOR_VERSION))


def _risk_picture(sources: PeriodicSources, district: str | None) -> dict[str, Any]:
    run = sources.latest_risk_run()
    values = sources.value_curve(district)
    spread = concentration(values)
    industry = rate_rows(sources.rates("industry"), industry_label)
    area = rate_rows(sources.rates("area"))
    by_district = rate_rows(sources.rates("district"), district_label)
    accounts = []
    for rank, row in enumerate(sources.top_risks(TOP_ACCOUNTS, district), start=1):
        factors = row["explanation"]
        why = [f"{f['factor']}: {f['value']}" + (f" (\u00d7{f['effect']:.2f})"
                                                  if f["effect"] != 1 else "")
               for f in factors if f["effect"] != 1 or f["factor"] in (
                   "estimated non-compliance", "expected non-compliant value")]
        accounts.append({**row, "rank": rank, "why": why})
    return {
        "run": run, "importers": len(values), "tiers": spread.tiers,
        "curve": concentration_chart(spread) if values else "",
        "industry": industry, "area": area, "by_district": by_district,
        "industry_chart": rates_chart(industry, "Lowest compliance by industry")
        if industry else "",
        "area_chart": rates_chart(area, "Compliance by area") if area else "",
        "district_chart": rates_chart(by_district, "Lowest compliance by district")
        if by_district else "",
        "accounts": accounts,
    }


def _in_force(rule: TargetingRule, period: ReportPeriod, district: str | None) -> bool:
    definition = rule.in_force
    if definition is None or rule.state == RuleState.RETIRED:
        return False
    if district and definition.districts and district not in definition.districts:
        return False
    return period.overlaps(definition.effective_from, definition.effective_to)


def _criteria(rules: list[TargetingRule], period: ReportPeriod,
              district: str | None) -> list[dict[str, Any]]:
    found = []
    for rule in rules:
        if not _in_force(rule, period, district):
            continue
        definition = rule.in_force
        assert definition is not None  # _in_force checked it
        found.append({"number": rule.number, "version": rule.in_force_version,
                      "name": definition.name, "conditions": definition.conditions.describe(),
                      "channel": definition.channel.value,
                      "districts": ", ".join(definition.districts) or "all",
                      "from": definition.effective_from.isoformat(),
                      "to": definition.effective_to.isoformat()
                      if definition.effective_to else "open"})
    return found


def _selection(sources: PeriodicSources, period: ReportPeriod,
               district: str | None) -> dict[str, Any] | None:
    plan = sources.selection_plan(period.start, period.end)
    if plan is None:
        return None
    picks = [p for p in plan.picks if district is None or p.district == district]
    per_district: dict[str, dict[str, int]] = {}
    for pick in picks:
        counts = per_district.setdefault(pick.district, {"risk": 0, "random": 0})
        counts[pick.basis] = counts.get(pick.basis, 0) + 1
    labels = sorted(per_district)
    chart = charts.stacked_bars(
        labels, {basis: [per_district[d].get(basis, 0) for d in labels]
                 for basis in ("risk", "random")},
        title="Assessments planned by district: risk picks and random", y_label="assessments")
    return {"plan": plan, "picks": picks[:PICKS_LISTED], "more": max(0, len(picks) - PICKS_LISTED),
            "risk": sum(p.basis == "risk" for p in picks),
            "random": sum(p.basis == "random" for p in picks),
            "planned": len(picks), "per_district": [
                {"district": d, **per_district[d]} for d in labels],
            "chart": chart if picks else ""}


def _cases(sources: PeriodicSources, at: Stamp, district: str | None) -> dict[str, Any]:
    progress = sources.plan_progress(at.as_of.date(), district)
    open_plans = [p for p in progress if p["state"] not in CLOSED_PLAN_STATES]
    by_state: dict[str, dict[str, int]] = {}
    for plan in open_plans:
        row = by_state.setdefault(plan["state"], {"plans": 0, "actions": 0, "completed": 0,
                                                  "overdue": 0})
        row["plans"] += 1
        for key in ("actions", "completed", "overdue"):
            row[key] += int(plan[key])
    enforcement = sources.enforcement(district)
    stages: dict[str, dict[str, int]] = {}
    for row in enforcement:
        stages.setdefault(str(row["kind"]), {})[str(row["state"])] = int(row["actions"])
    states = sorted({row["state"] for row in enforcement})
    kinds = sorted(stages)
    chart = charts.stacked_bars([field_title(k) for k in kinds],
                                {field_title(s): [stages[k].get(s, 0) for k in kinds]
                                 for s in states},
                                title="Enforcement actions by kind and stage",
                                y_label="actions") if enforcement else ""
    return {"plans_by_state": [{"state": s, **by_state[s]} for s in sorted(by_state)],
            "open_plans": len(open_plans), "enforcement": enforcement,
            "open_actions": sum(r["actions"] for r in enforcement
                                if r["state"] not in CLOSED_ACTION_STATES),
            "enforcement_chart": chart,
            "plans_chart": charts.trend([field_title(s) for s in sorted(by_state)],
                                        [by_state[s]["plans"] for s in sorted(by_state)],
                                        kind="bar",
                                        title="Open improvement plans by state",
                                        y_label="plans") if by_state else ""}


def _verifications(sources: PeriodicSources, period: ReportPeriod, at: Stamp,
                   district: str | None) -> list[Row]:
    return sources.verifications_due(period.end, at.as_of.date(), district)


def _targeting(sources: PeriodicSources, period: ReportPeriod,
               district: str | None) -> dict[str, Any]:
    measured = sources.effectiveness(period.start, period.end)
    found = targeting(measured, None if district is None else {district})
    national = found.national
    return {"national": national, "districts": found.districts, "rules": found.rules,
            "chart": targeting_chart(found) if found.shown else "",
            "examined": national["targeted"]["examined"] + national["random"]["examined"]}

